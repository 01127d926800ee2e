"""A look at a feed before it becomes a source: fetch and parse its address, store nothing.

The address is checked exactly as for adding a source (`draft_source`: a valid http(s) URL whose
host is not private), then fetched through the same `Fetcher` as a poll (robots.txt, size and
redirect limits, and the guarded transport that checks every address it connects to).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from presseschau.config import Settings
from presseschau.ingest.errors import FeedError
from presseschau.ingest.extract import discover_feeds
from presseschau.ingest.feeds import FEED_FORMATS, SITEMAP_FORMATS, FeedEntry, detect_format, maybe_gunzip, parse_feed
from presseschau.ingest.fetcher import ACCEPT_FEED, Fetcher, page_text
from presseschau.ingest.sitemaps import parse_sitemap
from presseschau.ingest.sources import check_source_address
from presseschau.ingest.urls import validate_url

PREVIEW_ENTRIES = 10


@dataclass(frozen=True)
class SourcePreview:
    """What polling the address would find: its kind, its title and its newest entries."""

    url: str
    kind: str  # "feed", "sitemap" or "page"
    format: str  # rss, atom, jsonfeed, sitemap, sitemap_index, html
    title: str | None = None
    entries: list[FeedEntry] = field(default_factory=list)
    entry_count: int = 0
    skipped: int = 0  # items the parser could not read
    child_sitemaps: int = 0
    feeds: list[str] = field(default_factory=list)  # feeds an HTML page announces


def preview_source(
    settings: Settings, url: str, limit: int = PREVIEW_ENTRIES, *, transport: httpx.BaseTransport | None = None
) -> SourcePreview:
    """Fetch `url` once and parse it as a poll would; raises the `IngestError` a poll would record."""
    address = validate_url(url)
    check_source_address(settings, address)
    with Fetcher(settings, transport=transport) as fetcher:
        response = fetcher.get(address, accept=ACCEPT_FEED)
    body = maybe_gunzip(response.content, settings.http_max_bytes, address)
    fmt = detect_format(body)
    if fmt in FEED_FORMATS:
        feed = parse_feed(body, response.final_url, response.content_type)
        return SourcePreview(
            address, "feed", fmt, feed.title, feed.entries[:limit], len(feed.entries), skipped=len(feed.skipped)
        )
    if fmt in SITEMAP_FORMATS:
        sitemap = parse_sitemap(body, response.final_url)
        return SourcePreview(
            address,
            "sitemap",
            fmt,
            entries=sitemap.entries[:limit],
            entry_count=len(sitemap.entries),
            child_sitemaps=len(sitemap.child_sitemaps),
        )
    if fmt == "unknown":
        raise FeedError(address, "response is neither a feed, a sitemap nor an HTML page")
    return SourcePreview(address, "page", fmt, feeds=discover_feeds(page_text(response), response.final_url))
