"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 of the translated articles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"


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


def rss(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n',
        "<channel>\n",
        f"<title>{escape(info.title)}</title>\n",
        f"<link>{escape(info.home_url)}</link>\n",
        f"<description>{escape(info.description)}</description>\n",
        f"<language>{escape(info.language)}</language>\n",
        f"<lastBuildDate>{format_datetime(_updated(info, items).astimezone(UTC), usegmt=True)}</lastBuildDate>\n",
        f'<atom:link href={quoteattr(info.rss_url)} rel="self" type="application/rss+xml"/>\n',
    ]
    for item in items:
        out.append("<item>\n")
        out.append(f"<title>{escape(item.title)}</title>\n")
        out.append(f"<link>{escape(item.url)}</link>\n")
        out.append(f'<guid isPermaLink="true">{escape(item.url)}</guid>\n')
        out.append(f"<pubDate>{format_datetime(item.published.astimezone(UTC), usegmt=True)}</pubDate>\n")
        for author in item.authors:
            out.append(f"<dc:creator>{escape(author)}</dc:creator>\n")
        if item.category:
            out.append(f"<category>{escape(item.category)}</category>\n")
        out.append(f"<description>{escape(item.summary)}</description>\n")
        out.append(f"<content:encoded>{escape(item.content_html)}</content:encoded>\n")
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def atom(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(info.language)}">\n',
        f"<id>{escape(info.atom_url)}</id>\n",
        f"<title>{escape(info.title)}</title>\n",
        f"<subtitle>{escape(info.description)}</subtitle>\n",
        f"<updated>{_rfc3339(_updated(info, items))}</updated>\n",
        f'<link rel="self" type="application/atom+xml" href={quoteattr(info.atom_url)}/>\n',
        f'<link rel="alternate" type="text/html" href={quoteattr(info.home_url)}/>\n',
        f"<author><name>{escape(info.title)}</name></author>\n",
    ]
    for item in items:
        out.append("<entry>\n")
        out.append(f"<id>{escape(item.url)}</id>\n")
        out.append(f"<title>{escape(item.title)}</title>\n")
        out.append(f'<link rel="alternate" type="text/html" href={quoteattr(item.url)}/>\n')
        if item.original_url:
            out.append(f'<link rel="related" type="text/html" href={quoteattr(item.original_url)}/>\n')
        out.append(f"<published>{_rfc3339(item.published)}</published>\n")
        out.append(f"<updated>{_rfc3339(item.updated)}</updated>\n")
        for author in item.authors:
            out.append(f"<author><name>{escape(author)}</name></author>\n")
        if item.category:
            out.append(f"<category term={quoteattr(item.category)}/>\n")
        out.append(f'<summary type="text">{escape(item.summary)}</summary>\n')
        out.append(f'<content type="html">{escape(item.content_html)}</content>\n')
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def json_feed(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    feed = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "home_page_url": info.home_url,
        "feed_url": info.json_url,
        "description": info.description,
        "language": info.language,
        "items": [
            {
                "id": item.url,
                "url": item.url,
                **({"external_url": item.original_url} if item.original_url else {}),
                "title": item.title,
                "summary": item.summary,
                "content_html": item.content_html,
                "date_published": _rfc3339(item.published),
                "date_modified": _rfc3339(item.updated),
                **({"authors": [{"name": a} for a in item.authors]} if item.authors else {}),
                **({"tags": [item.category]} if item.category else {}),
                "language": info.language,
            }
            for item in items
        ],
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"
