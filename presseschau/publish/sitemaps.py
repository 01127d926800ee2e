"""`sitemap.xml` (an index of parts when large) and the Google News sitemap, serialized by lxml."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from presseschau.content import strip_xml_forbidden
from presseschau.text import isolate_bidi

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# The protocol allows 50,000 URLs per file.
MAX_URLS_PER_SITEMAP = 50_000
# Google News reads at most 1,000 URLs from a news sitemap.
MAX_NEWS_URLS = 1_000
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True, slots=True)
class NewsUrl:
    loc: str
    title: str
    published: datetime


def _w3c(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _serialize(root: etree._Element) -> str:
    # Not pretty-printed: indentation made a 10,000-URL sitemap 18 % larger, for machines only.
    return str(etree.tostring(root, encoding="unicode")) + "\n"


def _xml(text: str) -> str:
    # lxml refuses the characters XML 1.0 forbids; a title must not take the sitemap down.
    return strip_xml_forbidden(text)


def _entries(root_name: str, entry_name: str, urls: Sequence[SitemapUrl]) -> str:
    root = etree.Element(f"{{{SITEMAP_NS}}}{root_name}", nsmap={None: SITEMAP_NS})
    for url in urls:
        entry = etree.SubElement(root, f"{{{SITEMAP_NS}}}{entry_name}")
        etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = _xml(url.loc)
        if url.lastmod:
            etree.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = _w3c(url.lastmod)
    return XML_DECLARATION + _serialize(root)


def urlset(urls: Sequence[SitemapUrl]) -> str:
    return _entries("urlset", "url", urls)


def index(parts: Sequence[SitemapUrl]) -> str:
    return _entries("sitemapindex", "sitemap", parts)


def split(urls: Sequence[SitemapUrl], part_url: str, limit: int = MAX_URLS_PER_SITEMAP) -> dict[str, str]:
    """Sitemap files by name: `sitemap.xml` alone, or an index plus `sitemap-1.xml`, `sitemap-2.xml`, ...

    `part_url` is a format string for the absolute URL of part n, e.g. `https://x/sitemap-{n}.xml`.
    """
    if len(urls) <= limit:
        return {"sitemap.xml": urlset(urls)}
    files: dict[str, str] = {}
    parts: list[SitemapUrl] = []
    for n, start in enumerate(range(0, len(urls), limit), start=1):
        chunk = urls[start : start + limit]
        files[f"sitemap-{n}.xml"] = urlset(chunk)
        newest = max((u.lastmod for u in chunk if u.lastmod), default=None)
        parts.append(SitemapUrl(part_url.format(n=n), newest))
    files["sitemap.xml"] = index(parts)
    return files


def news(urls: Sequence[NewsUrl], publication_name: str, language: str) -> str:
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS, "news": NEWS_NS})
    for url in urls:
        entry = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = _xml(url.loc)
        news_element = etree.SubElement(entry, f"{{{NEWS_NS}}}news")
        publication = etree.SubElement(news_element, f"{{{NEWS_NS}}}publication")
        etree.SubElement(publication, f"{{{NEWS_NS}}}name").text = isolate_bidi(_xml(publication_name))
        etree.SubElement(publication, f"{{{NEWS_NS}}}language").text = _xml(language)
        etree.SubElement(news_element, f"{{{NEWS_NS}}}publication_date").text = _w3c(url.published)
        etree.SubElement(news_element, f"{{{NEWS_NS}}}title").text = isolate_bidi(_xml(url.title))
    return XML_DECLARATION + _serialize(root)
