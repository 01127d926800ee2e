"""Bytes to text for HTML and feeds: BOM, HTTP charset, <meta charset>, then detection.

Pages lie about their encoding often enough (a UTF-8 header on Windows-1252 bytes, a stray
invalid byte in an otherwise good page) that a strict decode is the wrong default: we try the
declared encodings strictly, then UTF-8, then charset detection, and finally decode the declared
encoding with replacement characters so one bad byte never costs the whole article.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from presseschau.ingest.errors import InvalidEncoding

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
WESTERN_ENCODING = "cp1252"
# Detector scores this close count as a tie.
_TIE = 0.01
# Beyond this share of replacement characters the text is garbage, not "mostly fine".
_MAX_REPLACEMENT_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    # True when bytes had to be replaced: the text is usable but not byte-exact.
    lossy: bool = False


def charset_from_content_type(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    # Browsers treat these labels as Windows-1252 (WHATWG Encoding); so do we.
    return "cp1252" if canonical in {"latin_1", "iso8859-1", "ascii"} else canonical


def declared_encodings(content: bytes, content_type: str | None) -> list[str]:
    head = content[:4096]
    found = [charset_from_content_type(content_type)]
    for pattern in (_XML_DECL_RE, _META_CHARSET_RE):
        match = pattern.search(head)
        found.append(match.group(1).decode("ascii", "ignore") if match else None)
    result: list[str] = []
    for name in found:
        codec = _codec(name)
        if codec and codec not in result:
            result.append(codec)
    return result


def decode_bytes(content: bytes, content_type: str | None = None, subject: str = "(input)") -> Decoded:
    """Decode `content` as well as possible; `InvalidEncoding` only when it is not text at all."""
    for bom, name in _BOMS:
        if content.startswith(bom):
            return Decoded(content[len(bom) :].decode(name, errors="replace"), name)
    if b"\x00" in content[:1024] and not content.startswith(b"\xff\xfe"):
        raise InvalidEncoding(subject, "binary content (NUL bytes), not text")
    candidates = [*declared_encodings(content, content_type), "utf-8"]
    for name in dict.fromkeys(candidates):
        try:
            return Decoded(content.decode(name), name)
        except (UnicodeDecodeError, LookupError):
            continue
    detected = _detect(content)
    if detected is not None:
        return detected
    primary = candidates[0]
    text = content.decode(primary, errors="replace")
    if text.count("\ufffd") > _MAX_REPLACEMENT_SHARE * max(1, len(text)):
        raise InvalidEncoding(subject, f"undecodable bytes: not valid {primary} and no other encoding fits")
    return Decoded(text, primary, lossy=True)


def _detect(content: bytes) -> Decoded | None:
    """A mostly-UTF-8 page with a few bad bytes stays UTF-8 (lossy); otherwise ask charset_normalizer."""
    text = content.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    if bad and bad <= _MAX_REPLACEMENT_SHARE * len(text) and _looks_mostly_utf8(content):
        return Decoded(text, "utf-8", lossy=True)
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover -- a dependency of httpx/trafilatura in practice
        return None
    matches = from_bytes(content)
    best = matches.best()
    if best is None or best.encoding is None:
        return None
    # Short Western text often fits several single-byte code pages equally well, and the
    # detector's order among ties is arbitrary ("naïve" came out as cp1250 "naďve"). The sources
    # are English news: among equally good fits, Windows-1252 wins.
    for match in matches:
        if (
            match.encoding == WESTERN_ENCODING
            and match.chaos <= best.chaos + _TIE
            and match.coherence >= best.coherence - _TIE
        ):
            return Decoded(str(match), WESTERN_ENCODING)
    return Decoded(str(best), _codec(best.encoding) or best.encoding)


def _looks_mostly_utf8(content: bytes) -> bool:
    # Multi-byte UTF-8 sequences decoded fine somewhere means the page *is* UTF-8 with damage;
    # a pure single-byte legacy page has no valid multi-byte sequences at all.
    valid_multibyte = len(re.findall(rb"[\xc2-\xf4][\x80-\xbf]+", content))
    return valid_multibyte > 0 or not re.search(rb"[\x80-\xff]", content)
