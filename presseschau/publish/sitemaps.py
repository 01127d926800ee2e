"""`sitemap.xml` (an index of parts when large) and the Google News sitemap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
# The protocol allows 50,000 URLs per file.
MAX_URLS_PER_SITEMAP = 50_000
# Google News reads at most 1,000 URLs from a news sitemap.
MAX_NEWS_URLS = 1_000


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


def urlset(urls: Sequence[SitemapUrl]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<urlset xmlns="{SITEMAP_NS}">\n']
    for url in urls:
        lastmod = f"<lastmod>{_w3c(url.lastmod)}</lastmod>" if url.lastmod else ""
        out.append(f"<url><loc>{escape(url.loc)}</loc>{lastmod}</url>\n")
    out.append("</urlset>\n")
    return "".join(out)


def index(parts: Sequence[SitemapUrl]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    for part in parts:
        lastmod = f"<lastmod>{_w3c(part.lastmod)}</lastmod>" if part.lastmod else ""
        out.append(f"<sitemap><loc>{escape(part.loc)}</loc>{lastmod}</sitemap>\n")
    out.append("</sitemapindex>\n")
    return "".join(out)


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
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<urlset xmlns="{SITEMAP_NS}" xmlns:news="{NEWS_NS}">\n',
    ]
    for url in urls:
        out.append(
            f"<url><loc>{escape(url.loc)}</loc><news:news><news:publication>"
            f"<news:name>{escape(publication_name)}</news:name><news:language>{escape(language)}</news:language>"
            f"</news:publication><news:publication_date>{_w3c(url.published)}</news:publication_date>"
            f"<news:title>{escape(url.title)}</news:title></news:news></url>\n"
        )
    out.append("</urlset>\n")
    return "".join(out)
