"""Outside text made safe to store and to show: one cleaning function for every write of a name or
URL, bidi isolation for every output, and a terminal-safe form for the command line.

Names and URLs come from operators, OPML files, feeds and API clients. Control characters in them
broke the OPML export (XML forbids them) and reached the operator's terminal raw (an ESC sequence
can retitle the window or hide text); an unclosed bidi override (U+202E) reversed everything after
the name in titles, headings, feeds, mails and the command line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from markupsafe import Markup

# Explicit bidi formatting: embeddings and overrides (closed by PDF) and isolates (closed by PDI).
_OPENERS_PDF = frozenset("\u202a\u202b\u202d\u202e")  # LRE RLE LRO RLO
_OPENERS_PDI = frozenset("\u2066\u2067\u2068")  # LRI RLI FSI
PDF = "\u202c"
PDI = "\u2069"
FSI = "\u2068"
BIDI_CONTROLS = frozenset((*_OPENERS_PDF, *_OPENERS_PDI, PDF, PDI))
_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0 and C1 controls, DEL, lone surrogates and the two non-characters XML forbids.
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACE_RE = re.compile(r"\s+")
# Unicode's limit on nested embeddings; deeper ones are ignored by renderers anyway.
MAX_BIDI_DEPTH = 125


def balance_bidi(text: str) -> str:
    """`text` with every bidi embedding, override and isolate closed inside it: closers without an
    opener are dropped, openers left open are closed at the end, so nothing after it is reordered."""
    if not _BIDI_RE.search(text):
        return text
    out: list[str] = []
    stack: list[str] = []  # the closer each open opener needs
    for char in text:
        if char in _OPENERS_PDF or char in _OPENERS_PDI:
            if len(stack) >= MAX_BIDI_DEPTH:
                continue
            stack.append(PDF if char in _OPENERS_PDF else PDI)
        elif char == PDI:
            if PDI not in stack:
                continue
            while stack and stack[-1] != PDI:  # a PDI also closes the embeddings inside its isolate
                out.append(stack.pop())
            stack.pop()
        elif char == PDF:
            if not stack or stack[-1] != PDF:
                continue
            stack.pop()
        out.append(char)
    out.extend(reversed(stack))
    return "".join(out)


def isolate_bidi(text: str) -> str:
    """`text` balanced and, when it has bidi controls, wrapped in an isolate (FSI … PDI): the plain-text
    form of HTML's `<bdi>`, for titles, headings, feeds and mails."""
    if not _BIDI_RE.search(text):
        return text
    return FSI + balance_bidi(text) + PDI


def clean_text(text: str) -> str:
    """A one-line name or URL as stored: control characters removed (line breaks and tabs become
    spaces), runs of white space collapsed, Unicode NFC, bidi controls balanced."""
    spaced = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    without = _CONTROL_RE.sub("", unicodedata.normalize("NFC", _lone_surrogates_out(spaced)))
    return balance_bidi(_SPACE_RE.sub(" ", without).strip())


def unsafe_character(text: str) -> str | None:
    """The first control character or bidi control in `text` as `U+001B`, or None: for values that
    must not be changed silently (a URL), so they are refused instead of cleaned."""
    found = _CONTROL_RE.search(text) or _BIDI_RE.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def terminal_safe(text: str) -> str:
    """`text` for a terminal: control characters but line breaks and tabs shown as `\\x1b`-style escapes
    (never sent raw, so no ESC sequence reaches the terminal), bidi controls balanced."""
    kept = _lone_surrogates_out(text, keep=True)
    shown = _CONTROL_RE.sub(lambda found: found.group() if found.group() in "\n\t" else _escape(found.group()), kept)
    return balance_bidi(shown)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _lone_surrogates_out(text: str, keep: bool = False) -> str:
    """Lone surrogates (from JSON's "\\ud800" or a broken decoder) removed, or escaped with `keep`."""
    if not re.search("[\ud800-\udfff]", text):
        return text
    return re.sub("[\ud800-\udfff]", (lambda m: _escape(m.group())) if keep else "", text)


def escape_bidi_controls(json_text: str) -> str:
    """JSON text with every bidi control written as a `\\uXXXX` escape (the same JSON value)."""
    return _BIDI_RE.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)


def isolated_output(value: Any) -> Any:
    """Jinja's `finalize` for every page and mail template: each interpolated value that holds bidi
    controls is balanced and isolated (FSI … PDI, the plain-text `<bdi>`), so an unclosed override
    in a name or title cannot reorder the heading, the `<title>` or the text after it."""
    if isinstance(value, Markup):
        return Markup(isolate_bidi(str(value)))
    if isinstance(value, str):
        return isolate_bidi(value)
    return value


def ascii_digits(text: str) -> bool:
    """Whether `text` is a whole number written in ASCII digits only: the one test before `int()` on
    text from outside. `str.isdigit()` alone also passes "²" (which `int()` refuses: a 500 on
    `/?seite=²`) and other scripts' digits."""
    return text.isascii() and text.isdigit()
