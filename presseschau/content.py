"""The one internal content model every stage speaks: ordered paragraphs of sanitized inline HTML.

A paragraph is a block of the article body with a `kind` (`p`, `h2`..`h6`, `li`, `blockquote`,
`pre`) and `html`: text with inline markup only (`<a href>`, `<em>`, `<strong>`, `<b>`, `<i>`,
`<code>`, `<sub>`, `<sup>`, `<br>`, ...). All HTML from sources passes `sanitize_inline_html`
before it is stored, so later stages and templates can trust it.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import nh3

BLOCK_KINDS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre"})
INLINE_TAGS = frozenset(
    {"a", "em", "strong", "b", "i", "u", "code", "sub", "sup", "br", "mark", "q", "s", "small", "abbr"}
)
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
# Characters XML 1.0 forbids (C0 controls but tab, LF, CR; U+FFFE, U+FFFF; lone surrogates): one
# of them in a title makes every feed that carries it unreadable, so no stored text keeps them.
_XML_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def strip_xml_forbidden(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (from feeds, pages, engines or editors)."""
    return _XML_FORBIDDEN_RE.sub("", text)


def sanitize_inline_html(fragment: str) -> str:
    """Keep text and safe inline markup; drop scripts, event handlers and non-http(s) links."""
    cleaned = nh3.clean(
        fragment,
        tags=set(INLINE_TAGS),
        attributes={tag: set(attrs) for tag, attrs in _ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
        strip_comments=True,
    )
    return _SPACE_RE.sub(" ", strip_xml_forbidden(cleaned)).strip()


# Memoized: the same stored paragraphs are read as text again and again (the grouping reads every
# member of every candidate story at each publication; publishing, search and the quality estimate
# read an article's paragraphs once each), and a lookup costs a fraction of the regex passes.
@lru_cache(maxsize=4096)
def html_to_text(fragment: str) -> str:
    """The visible text of an inline-HTML fragment."""
    text = html.unescape(_TAG_RE.sub("", fragment.replace("<br>", " ")))
    return _SPACE_RE.sub(" ", strip_xml_forbidden(text)).strip()


def text_to_html(text: str) -> str:
    return html.escape(strip_xml_forbidden(text), quote=False)


@dataclass(frozen=True, slots=True)
class Paragraph:
    kind: str
    html: str

    def __post_init__(self) -> None:
        if self.kind not in BLOCK_KINDS:
            raise ValueError(f"unknown paragraph kind {self.kind!r}; expected one of {sorted(BLOCK_KINDS)}")
        if _XML_FORBIDDEN_RE.search(self.html):  # from an engine's output or an old row
            object.__setattr__(self, "html", strip_xml_forbidden(self.html))

    @property
    def text(self) -> str:
        return html_to_text(self.html)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "html": self.html}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Paragraph:
        return cls(kind=str(data.get("kind", "p")), html=str(data["html"]))

    @classmethod
    def from_text(cls, text: str, kind: str = "p") -> Paragraph:
        return cls(kind=kind, html=text_to_html(text))


def paragraphs_from_json(data: Iterable[dict[str, Any]] | None) -> list[Paragraph]:
    return [Paragraph.from_json(item) for item in (data or [])]


def paragraphs_to_json(paragraphs: Iterable[Paragraph]) -> list[dict[str, str]]:
    return [p.to_json() for p in paragraphs]


def content_hash(title: str | None, paragraphs: Sequence[Paragraph]) -> str:
    """A stable hash of what a reader sees: the title and paragraph texts (not markup whitespace)."""
    payload = json.dumps(
        [_SPACE_RE.sub(" ", title or "").strip(), [[p.kind, p.html] for p in paragraphs]],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
