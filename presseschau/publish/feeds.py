"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the translated articles.

RSS and Atom are built by feedgen on lxml (which escapes for XML and refuses what XML cannot
hold), JSON Feed by the json module. Every text is plain text here; what differs per format is
how it must be written so that a reader shows it as text:
- RSS `<title>`, `<description>`, `<dc:creator>` and `<category>` are read as HTML by most
  readers, so the text is escaped as HTML first (and then as XML by lxml);
- Atom says what each element holds (`type="text"` or `"html"`), so text stays text;
- JSON Feed's `title` and `summary` are plain text by the spec.
`content_html` is sanitized HTML and goes where HTML belongs (`content:encoded`, Atom content).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from presseschau.content import strip_xml_forbidden
from presseschau.text import isolate_bidi

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "presseschau"


@dataclass(frozen=True, slots=True)
class FeedItem:
    url: str
    title: str
    summary: str
    content_html: str
    published: datetime
    updated: datetime
    original_url: str
    authors: tuple[str, ...] = ()
    category: str | None = None
    # The attribution the original's licence asks for (`attribution.Attribution`): RSS `dc:rights`,
    # Atom `<rights>`, JSON Feed `_rights`.
    rights: str = ""
    rights_json: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    description: str
    home_url: str
    rss_url: str
    atom_url: str
    json_url: str
    language: str = "de"


def _updated(info: FeedInfo, items: Sequence[FeedItem]) -> datetime:
    # A fixed date for an empty feed keeps its bytes (and ETag) stable.
    return max((item.updated for item in items), default=datetime(2000, 1, 1, tzinfo=UTC))


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    # Whole seconds, UTC: the same instant writes the same bytes (ETags, incremental builds).
    return moment.astimezone(UTC).replace(microsecond=0)


def _text(value: str) -> str:
    """Plain text that XML can hold (lxml refuses the characters XML 1.0 forbids), its bidi controls
    balanced and isolated (an unclosed override reversed the rest of a reader's line)."""
    return isolate_bidi(strip_xml_forbidden(value))


def _html_text(value: str) -> str:
    """Plain text for an RSS element that readers render as HTML: escaped as HTML."""
    return html.escape(_text(value), quote=False)


class _AtomEntryLinks(BaseEntryExtension):  # type: ignore[misc]
    """An Atom entry's links with their `rel` and `type`: feedgen 1.0 writes entry links with `href`
    only (it reads the attributes from the new element instead of the link), which makes the
    original's link a second "alternate"."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for link in self.links:
            etree.SubElement(entry, "link", link)
        return entry


def _generator(info: FeedInfo, items: Sequence[FeedItem], rss: bool) -> FeedGenerator:
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.register_extension("atom_links", BaseExtension, _AtomEntryLinks, atom=True, rss=False)
    feed.generator(GENERATOR)
    feed.id(_text(info.atom_url))
    feed.title(_html_text(info.title) if rss else _text(info.title))
    feed.subtitle(_html_text(info.description) if rss else _text(info.description))
    feed.language(_text(info.language))
    feed.updated(_utc(_updated(info, items)))
    if rss:
        # feedgen's RSS channel <link> is the last link given.
        feed.link(href=_text(info.rss_url), rel="self", type="application/rss+xml")
        feed.link(href=_text(info.home_url), rel="alternate")
    else:
        feed.link(href=_text(info.atom_url), rel="self", type="application/atom+xml")
        feed.link(href=_text(info.home_url), rel="alternate", type="text/html")
        feed.author(name=_text(info.title))
    for item in items:
        entry = feed.add_entry(order="append")
        entry.id(_text(item.url))
        entry.guid(_text(item.url), permalink=True)
        if rss:
            entry.link(href=_text(item.url))
        else:
            links = entry.atom_links.links
            links.append({"rel": "alternate", "type": "text/html", "href": _text(item.url)})
            if item.original_url:
                links.append({"rel": "related", "type": "text/html", "href": _text(item.original_url)})
        entry.published(_utc(item.published))
        entry.updated(_utc(item.updated))
        entry.content(_text(item.content_html), type="html")
        if rss:
            entry.title(_html_text(item.title))
            entry.description(_html_text(item.summary))
            for author in item.authors:
                entry.dc.dc_creator(_html_text(author))
            if item.category:
                entry.category(term=_html_text(item.category))
            if item.rights:
                entry.dc.dc_rights(_html_text(item.rights))
        else:
            entry.title(_text(item.title))
            entry.summary(_text(item.summary), type="text")
            for author in item.authors:
                entry.author(name=_text(author))
            if item.category:
                entry.category(term=_text(item.category))
            if item.rights:
                entry.rights(_text(item.rights))
    return feed


def rss(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    rss_bytes: bytes = _generator(info, items, rss=True).rss_str(pretty=True, encoding="UTF-8")
    return rss_bytes.decode("utf-8")


def atom(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    atom_bytes: bytes = _generator(info, items, rss=False).atom_str(pretty=True, encoding="UTF-8")
    return atom_bytes.decode("utf-8")


def json_feed(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": _text(info.title),
        "home_page_url": info.home_url,
        "feed_url": info.json_url,
        "description": _text(info.description),
        "language": info.language,
        "items": [
            {
                "id": item.url,
                "url": item.url,
                **({"external_url": item.original_url} if item.original_url else {}),
                "title": _text(item.title),
                "summary": _text(item.summary),
                "content_html": _text(item.content_html),
                "date_published": _rfc3339(item.published),
                "date_modified": _rfc3339(item.updated),
                **({"authors": [{"name": _text(a)} for a in item.authors]} if item.authors else {}),
                **({"tags": [_text(item.category)]} if item.category else {}),
                **({"_rights": item.rights_json} if item.rights_json else {}),
                "language": info.language,
            }
            for item in items
        ],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"
