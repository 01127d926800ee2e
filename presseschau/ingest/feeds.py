"""Feeds (RSS 0.9x/1.0/2.0, Atom, JSON Feed) and sitemaps, adapted to one `FeedEntry` type.

Format detection looks at the bytes, not at the Content-Type header, because servers label
feeds `text/html` or `application/octet-stream` often enough. RSS and Atom are parsed by
feedparser (which survives much real-world brokenness), JSON Feed 1.0/1.1 by `json` since
feedparser does not read it, sitemaps by `sitemaps`.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import feedparser

from presseschau.ingest.dates import is_date_only, parse_datetime
from presseschau.ingest.errors import FeedError, TooLarge
from presseschau.ingest.urls import normalize_url

log = logging.getLogger(__name__)

Format = Literal["rss", "atom", "jsonfeed", "sitemap", "sitemap_index", "html", "unknown"]
FEED_FORMATS = frozenset({"rss", "atom", "jsonfeed"})
SITEMAP_FORMATS = frozenset({"sitemap", "sitemap_index"})

_GZIP_MAGIC = b"\x1f\x8b"
_PROLOG_RE = re.compile(rb"^(?:\s|<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?>)*", re.DOTALL | re.IGNORECASE)
_ROOT_RE = re.compile(rb"<\s*([A-Za-z_][\w.:-]*)")


@dataclass(frozen=True)
class FeedEntry:
    """One item announced by a feed or sitemap: where the article is, and what the feed says of it."""

    url: str
    title: str | None = None
    published: datetime | None = None
    # The feed gave only the day of `published` (`2026-11-05`), no time.
    published_date_only: bool = False
    updated: datetime | None = None
    summary_html: str | None = None
    content_html: str | None = None
    authors: tuple[str, ...] = ()
    outlet: str | None = None
    language: str | None = None


@dataclass
class ParsedFeed:
    format: Format
    title: str | None = None
    language: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    # Sitemap indexes point at further sitemaps instead of articles.
    child_sitemaps: list[str] = field(default_factory=list)
    # Items that could not be read: one malformed item never costs the feed its other items.
    skipped: list[SkippedItem] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedItem:
    position: int  # 1-based, in document order
    url: str | None  # when the item names an http(s) link
    reason: str

    def subject(self, feed_url: str) -> str:
        return self.url or f"{feed_url} (item {self.position})"


def _skipped(index: int, link: object, reason: str) -> SkippedItem:
    url = link if isinstance(link, str) and link.startswith(("http://", "https://")) else None
    return SkippedItem(index + 1, url, reason)


def _unexpected(error: Exception) -> str:
    return f"malformed item ({type(error).__name__}: {error})"


def maybe_gunzip(content: bytes, max_bytes: int, subject: str) -> bytes:
    """Gunzip `content` if it is a gzip file (a `.xml.gz` sitemap, a `.html.gz` page), bounded."""
    if not content.startswith(_GZIP_MAGIC):
        return content
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(content, max_bytes + 1)
    except zlib.error as error:
        raise FeedError(subject, f"corrupt gzip data ({error})") from None
    if len(out) > max_bytes:
        raise TooLarge(subject, f"gzip content expands beyond the limit of {max_bytes} bytes")
    return out


def gunzip_file(raw: bytes, max_bytes: int, subject: str) -> bytes:
    """Like `maybe_gunzip` for whole files, accepting concatenated gzip members."""
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as handle:
            out = handle.read(max_bytes + 1)
    except (OSError, EOFError) as error:
        raise FeedError(subject, f"corrupt gzip data ({error})") from None
    if len(out) > max_bytes:
        raise TooLarge(subject, f"gzip content expands beyond the limit of {max_bytes} bytes")
    return out


# Byte order marks, longest first (UTF-32 LE starts like UTF-16 LE).
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_XML_ENCODING_RE = re.compile(r"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def _wide_codec(content: bytes) -> str | None:
    """UTF-16 or UTF-32 from the byte order mark or, without one, from where the zero bytes of the
    first (ASCII) characters are (XML 1.0 appendix F; RFC 8259 for JSON); None for anything else."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return codec
    head = content[:4]
    if len(head) < 4 or (head[0] and head[1]):
        return None
    if head[:3] == b"\x00\x00\x00":
        return "utf-32-be"
    if head[1:4] == b"\x00\x00\x00":
        return "utf-32-le"
    if head[0] == 0 and head[2] == 0:
        return "utf-16-be"
    if head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    return None


def as_utf8(content: bytes) -> bytes:
    """`content` in UTF-8 when it is a UTF-16/UTF-32 document (its XML declaration then says
    utf-8 too); anything else unchanged. Format detection and the parsers read bytes that are
    ASCII-compatible, which a UTF-16 feed is not."""
    codec = _wide_codec(content)
    if codec is None:
        return content
    text = content.decode(codec, errors="replace").lstrip("\ufeff")
    return _XML_ENCODING_RE.sub(r'\1"utf-8"', text, count=1).encode("utf-8")


def detect_format(content: bytes) -> Format:
    """What `content` is, from its first bytes (after decoding UTF-16/UTF-32): a feed format, a
    sitemap, HTML, or unknown."""
    content = as_utf8(content[:131072])
    head = content[:4096].lstrip(b"\xef\xbb\xbf")
    stripped = head.lstrip()
    if stripped.startswith((b"{", b"[")):
        return "jsonfeed" if b"jsonfeed.org/version" in content[:65536] else "unknown"
    match = _ROOT_RE.match(head, _PROLOG_RE.match(head).end())  # type: ignore[union-attr]
    if not match:
        return "unknown"
    root = match.group(1).decode("ascii", "ignore").lower().rsplit(":", 1)[-1]
    if root in {"rss", "rdf"}:
        return "rss"
    if root == "feed":
        return "atom"
    if root == "urlset":
        return "sitemap"
    if root == "sitemapindex":
        return "sitemap_index"
    if root in {"html", "head", "body", "meta", "title", "div", "article"} or b"<html" in head.lower():
        return "html"
    return "unknown"


def parse_feed(content: bytes, base_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS, Atom or JSON Feed bytes into `FeedEntry`s; `FeedError` when nothing usable."""
    content = as_utf8(content)
    kind = detect_format(content)
    if kind == "jsonfeed":
        return parse_json_feed(content, base_url)
    if kind not in FEED_FORMATS:
        raise FeedError(base_url, f"not a feed (looks like {kind})")
    parsed = feedparser.parse(
        content,
        response_headers={"content-location": base_url, "content-type": content_type or "application/xml"},
        sanitize_html=False,  # we sanitize ourselves, once, with the project's rules
    )
    if parsed.get("bozo") and not parsed.entries:
        problem = parsed.get("bozo_exception")
        raise FeedError(base_url, f"malformed {kind} feed: {problem or 'unparseable'}")
    if parsed.get("bozo"):
        log.warning("feed %s is not well-formed (%s); using the %d entries recovered", base_url,
                    parsed.get("bozo_exception"), len(parsed.entries))  # fmt: skip
    feed_info = parsed.get("feed", {})
    title = _clean(feed_info.get("title"))
    language = _clean(feed_info.get("language"))
    result = ParsedFeed(format=kind, title=title, language=language)
    for index, item in enumerate(parsed.entries):
        try:
            entry = _adapt_feedparser(item, base_url, title, language)
        except Exception as error:  # one item's surprise must not cost the feed its other items
            result.skipped.append(_skipped(index, item.get("link"), _unexpected(error)))
            continue
        if entry is not None:
            result.entries.append(entry)
    return result


def _adapt_feedparser(item: Any, base_url: str, outlet: str | None, language: str | None) -> FeedEntry | None:
    link = item.get("link") or ""
    if not link:
        # Atom entries sometimes carry only an id that is the permalink.
        candidate = str(item.get("id") or "")
        link = candidate if candidate.startswith(("http://", "https://")) else ""
    if not link:
        return None
    contents = item.get("content") or []
    html_parts = [str(part.get("value") or "") for part in contents if "html" in str(part.get("type", "html"))]
    content_html = max(html_parts, key=len) if html_parts else None
    summary = item.get("summary")
    if content_html and summary and content_html.strip() == str(summary).strip():
        summary = None
    authors = tuple(
        name
        for author in (item.get("authors") or [])
        if (name := _clean(author.get("name") if isinstance(author, dict) else str(author)))
    )
    if not authors and item.get("author"):
        authors = (str(item["author"]).strip(),)
    updated = parse_datetime(_get(item, "updated_parsed") or _get(item, "updated"))
    return FeedEntry(
        url=normalize_url(link, base_url),
        title=_clean(item.get("title")),
        # Atom requires only <updated>: without <published> it is the entry's date (not the fetch time).
        published=parse_datetime(_get(item, "published_parsed") or _get(item, "published")) or updated,
        published_date_only=is_date_only(_get(item, "published") or _get(item, "updated")),
        updated=updated,
        summary_html=str(summary) if summary else None,
        content_html=content_html or None,
        authors=authors,
        outlet=outlet,
        language=language,
    )


def parse_json_feed(content: bytes, base_url: str) -> ParsedFeed:
    """JSON Feed 1.0 and 1.1 (https://www.jsonfeed.org/version/1.1/)."""
    try:
        return _parse_json_feed(content, base_url)
    except RecursionError:  # JSON nested 100,000 deep: a malformed feed, not a bug to log
        raise FeedError(base_url, "malformed JSON Feed: nested too deeply") from None


def _parse_json_feed(content: bytes, base_url: str) -> ParsedFeed:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(base_url, f"malformed JSON Feed: {error}") from None
    if not isinstance(document, dict) or "jsonfeed.org/version" not in str(document.get("version", "")):
        raise FeedError(base_url, "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(base_url, "JSON Feed has no items list")
    title = _clean(document.get("title"))
    language = _clean(document.get("language"))
    try:
        feed_authors = _json_authors(document)
    except TypeError:  # a malformed feed-level author list: the items may name their own
        feed_authors = ()
    result = ParsedFeed(format="jsonfeed", title=title, language=language)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            result.skipped.append(_skipped(index, None, "item is not a JSON object"))
            continue
        link = item.get("url") or item.get("external_url")
        if not isinstance(link, str) or not link.strip():
            result.skipped.append(_skipped(index, None, "item has no url (a string) to fetch"))
            continue
        try:
            result.entries.append(_json_entry(item, link, base_url, title, language, feed_authors))
        except Exception as error:  # e.g. "authors": 5; the other items are still stored
            result.skipped.append(_skipped(index, link, _unexpected(error)))
    return result


def _json_entry(
    item: dict[str, Any],
    link: str,
    base_url: str,
    title: str | None,
    language: str | None,
    feed_authors: tuple[str, ...],
) -> FeedEntry:
    content_html = item.get("content_html")
    if not content_html and isinstance(item.get("content_text"), str):
        content_html = "".join(f"<p>{_escape(block)}</p>" for block in item["content_text"].split("\n\n"))
    summary = item.get("summary")
    updated = parse_datetime(item.get("date_modified"))
    return FeedEntry(
        url=normalize_url(link, base_url),
        title=_clean(item.get("title")),
        published=parse_datetime(item.get("date_published")) or updated,
        published_date_only=is_date_only(item.get("date_published") or item.get("date_modified")),
        updated=updated,
        summary_html=_escape(summary) if isinstance(summary, str) and summary else None,
        content_html=content_html if isinstance(content_html, str) and content_html else None,
        authors=_json_authors(item) or feed_authors,
        outlet=title,
        language=_clean(item.get("language")) or language,
    )


def _get(item: Any, key: str) -> Any:
    # Plain dict access: feedparser's .get() maps a missing `updated` to `published` with a warning.
    return dict.get(item, key)


def _json_authors(obj: dict[str, Any]) -> tuple[str, ...]:
    # 1.1 has "authors" (a list); 1.0 had a single "author".
    raw = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    if not isinstance(raw, list):
        raise TypeError(f"authors must be a list, not {type(raw).__name__}")
    return tuple(name for author in raw if isinstance(author, dict) and (name := _clean(author.get("name"))))


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
