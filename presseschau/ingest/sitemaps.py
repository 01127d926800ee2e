"""XML sitemaps (sitemaps.org), Google News sitemaps and sitemap indexes, with lxml.

The parser is hardened: no entity resolution and no network access (XXE), huge trees allowed
only up to the byte limit the fetcher already enforced.
"""

from __future__ import annotations

from lxml import etree

from presseschau.ingest.dates import is_date_only, parse_datetime
from presseschau.ingest.errors import FeedError
from presseschau.ingest.feeds import FeedEntry, ParsedFeed
from presseschau.ingest.urls import normalize_url


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(element: etree._Element, *path: str) -> str | None:
    """Text of the first descendant following `path` by local names (namespace-agnostic)."""
    current: etree._Element | None = element
    for name in path:
        if current is None:
            return None
        current = next((child for child in current if _local(child.tag) == name), None)
    if current is None or current.text is None:
        return None
    return current.text.strip() or None


def parse_sitemap(content: bytes, base_url: str) -> ParsedFeed:
    """A `urlset` becomes entries (newest first when dated); a `sitemapindex` lists child sitemaps."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as error:
        raise FeedError(base_url, f"malformed sitemap XML: {error}") from None
    kind = _local(root.tag)
    if kind == "sitemapindex":
        children = [
            (parse_datetime(_child_text(node, "lastmod")), normalize_url(loc, base_url))
            for node in root
            if _local(node.tag) == "sitemap" and (loc := _child_text(node, "loc"))
        ]
        # Newest child sitemaps first: news is in the recent ones.
        children.sort(key=lambda item: item[0].timestamp() if item[0] else 0.0, reverse=True)
        return ParsedFeed(format="sitemap_index", child_sitemaps=[url for _, url in children])
    if kind != "urlset":
        raise FeedError(base_url, f"not a sitemap (root element <{kind}>)")
    entries: list[FeedEntry] = []
    for node in root:
        if _local(node.tag) != "url" or not (loc := _child_text(node, "loc")):
            continue
        lastmod = parse_datetime(_child_text(node, "lastmod"))
        news_date = _child_text(node, "news", "publication_date")
        entries.append(
            FeedEntry(
                url=normalize_url(loc, base_url),
                title=_child_text(node, "news", "title"),
                published=parse_datetime(news_date) or lastmod,
                published_date_only=is_date_only(news_date or _child_text(node, "lastmod")),
                updated=lastmod,
                outlet=_child_text(node, "news", "publication", "name"),
                language=_child_text(node, "news", "publication", "language"),
            )
        )
    entries.sort(key=lambda entry: entry.published.timestamp() if entry.published else 0.0, reverse=True)
    return ParsedFeed(format="sitemap", entries=entries)
