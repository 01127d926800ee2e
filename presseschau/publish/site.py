"""Rendering of every page, feed and sitemap, shared by the web app and the static build.

`Site` turns the read model (`presseschau.publish.queries`) into bytes; `Urls` knows the two
URL styles: the server's (`/?seite=2`, `/suche?q=`) and the static site's (`/seite/2/`,
`/suche/`), both with pretty article URLs `/<slug>/`.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import escape
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import Paragraph
from presseschau.publish import feeds, press_review, queries, search, sitemaps
from presseschau.publish.formatting import (
    german_datetime_uhr,
    german_month,
    iso_datetime,
    join_authors,
    local_datetime,
    original_date_iso,
    original_date_text,
)
from presseschau.text import escape_bidi_controls, isolate_bidi, isolated_output
from presseschau.translate.names import engine_display_name

Mode = Literal["server", "static"]
FeedKind = Literal["rss", "atom", "json"]
FEED_FILES: dict[str, str] = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
FEED_ITEMS = 30
# The original's genre as German readers know it (Article.genre).
GENRE_LABELS = {"opinion": "Kommentar", "analysis": "Analyse"}
NEWS_SITEMAP_DAYS = 2


STATIC_DIR = Path(__file__).parent / "static"


@lru_cache(maxsize=32)
def asset_version(name: str) -> str:
    path = STATIC_DIR / name
    return hashlib.blake2b(path.read_bytes(), digest_size=5).hexdigest() if path.is_file() else "0"


class Urls:
    """Site-relative and absolute URLs; honours a path prefix in `base_url` (e.g. `/presse`)."""

    def __init__(self, base_url: str, mode: Mode) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")
        self.mode = mode

    def path(self, path: str) -> str:
        return self.prefix + path

    def absolute(self, site_path: str) -> str:
        """`site_path` as returned by the other methods (already prefixed) made absolute."""
        return self.origin + site_path

    def home(self, page: int = 1) -> str:
        if page <= 1:
            return self.path("/")
        return self.path(f"/seite/{page}/") if self.mode == "static" else self.path(f"/?seite={page}")

    def article(self, slug: str) -> str:
        return self.path(f"/{slug}/")

    def source(self, source_id: int, page: int = 1) -> str:
        if page <= 1:
            return self.path(f"/quelle/{source_id}/")
        if self.mode == "static":
            return self.path(f"/quelle/{source_id}/seite/{page}/")
        return self.path(f"/quelle/{source_id}/?seite={page}")

    def archive(self) -> str:
        return self.path("/archiv/")

    def month(self, year: int, month: int) -> str:
        return self.path(f"/archiv/{year:04d}/{month:02d}/")

    def search(self, query: str | None = None, page: int = 1) -> str:
        base = self.path("/suche/") if self.mode == "static" else self.path("/suche")
        if not query:
            return base
        return f"{base}?q={quote(query)}" + (f"&seite={page}" if page > 1 else "")

    def feed(self, kind: str, source_id: int | None = None) -> str:
        name = FEED_FILES[kind]
        return self.path(f"/quelle/{source_id}/{name}" if source_id is not None else f"/{name}")

    def asset(self, name: str) -> str:
        # The content hash in the URL lets browsers cache assets forever (a change gives a new URL).
        return self.path(f"/static/{name}?v={asset_version(name)}")


@dataclass(frozen=True, slots=True)
class MonthEntry:
    month: int
    name: str
    count: int


def _block_html(paragraphs: list[Paragraph]) -> str:
    """The article body: one element per stored paragraph, consecutive `li` grouped in a list."""
    out: list[str] = []
    in_list = False
    for paragraph in paragraphs:
        # Sanitized when loaded (queries.safe_paragraphs), so it can go into the page as it is.
        inner = paragraph.html
        if paragraph.kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{inner}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        kind = paragraph.kind
        if kind == "h1":
            kind = "h2"  # the page title is the only h1
        if kind == "blockquote":
            out.append(f"<blockquote><p>{inner}</p></blockquote>")
        else:
            out.append(f"<{kind}>{inner}</{kind}>")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def _json_ld(data: dict[str, Any]) -> str:
    # "<" escaped so no text can close the script element; bidi controls escaped so the template's
    # bidi isolation (`isolated_output`) never wraps the JSON in characters a parser refuses.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return escape_bidi_controls(text)


class Site:
    """Renders the site for one settings object in one URL style."""

    def __init__(self, settings: Settings, mode: Mode = "server") -> None:
        self.settings = settings
        self.language = settings.target_language
        self.urls = Urls(settings.base_url, mode)
        self.mode = mode
        self.env = Environment(
            loader=PackageLoader("presseschau.publish", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
            finalize=isolated_output,  # outside text with bidi controls is isolated (see presseschau.text)
        )
        tz = settings.timezone
        self.env.filters["germandate"] = lambda moment: german_datetime_uhr(moment, tz)
        self.env.filters["isodate"] = lambda moment: iso_datetime(moment, tz)
        self.env.globals["original_date_text"] = lambda moment, date_only: original_date_text(moment, date_only, tz)
        self.env.globals["original_date_iso"] = lambda moment, date_only: original_date_iso(moment, date_only, tz)
        self.env.globals["genre_labels"] = GENRE_LABELS
        self.env.filters["join_authors"] = join_authors
        self.env.filters["host"] = lambda url: urlsplit(url).netloc or url
        self.env.filters["safe_url"] = queries.http_url
        self.env.globals.update(
            site={"title": settings.site_title, "description": settings.site_description},
            urls=self.urls,
        )

    def _render(self, template: str, **values: Any) -> str:
        return self.env.get_template(template).render(**values)

    # Pages ---------------------------------------------------------------------------------------

    def pages_count(self, total: int) -> int:
        return max(1, math.ceil(total / self.settings.page_size))

    def home(self, session: Session, page: int = 1) -> str | None:
        """Page `page` of the newest articles; None beyond the last page."""
        total = queries.count_published(session, self.language)
        pages = self.pages_count(total)
        if page < 1 or page > pages:
            return None
        size = self.settings.page_size
        items = queries.latest(session, self.language, size, (page - 1) * size)
        sources = queries.sources(session, self.language) if page == 1 else []
        return self.render_home(items, page, pages, sources)

    def render_home(
        self, items: list[queries.Summary], page: int, pages: int, sources: list[queries.SourceInfo]
    ) -> str:
        return self._render(
            "home.html",
            items=items,
            page=page,
            pages=pages,
            section="home",
            sources=sources,
            canonical=self.urls.absolute(self.urls.home(page)),
        )

    def article(self, session: Session, publication_id: int, view: queries.ArticleView | None = None) -> str | None:
        view = view or queries.article_view(session, self.language, publication_id)
        if view is None:
            return None
        s = view.summary
        canonical = self.urls.absolute(self.urls.article(s.slug))
        tz = self.settings.timezone
        original: dict[str, Any] = {
            "@type": "NewsArticle",
            "url": view.original_url,
            "headline": view.original_title,
            "inLanguage": self.settings.source_language,
        }
        if view.original_published_at:
            # A date-only original stays a date ("2026-11-05"): no made-up midnight.
            original["datePublished"] = original_date_iso(view.original_published_at, s.original_date_only, tz)
        if view.authors:
            original["author"] = [{"@type": "Person", "name": a} for a in view.authors]
        if s.outlet:
            original["publisher"] = {"@type": "Organization", "name": s.outlet}
        # The machine (or the stored translations) translated; after review the site edited too.
        translator = {"@type": "Organization", "name": engine_display_name(view.engine, view.model)}
        site_org = {"@type": "Organization", "name": self.settings.site_title}
        json_ld = {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": s.title[:110],
            "description": s.teaser,
            "inLanguage": self.language,
            "url": canonical,
            "mainEntityOfPage": canonical,
            "datePublished": iso_datetime(s.published_at, tz),
            "dateModified": iso_datetime(view.text_updated_at or s.published_at, tz),
            "isBasedOn": original,
            "translator": translator,
            **({"editor": site_org} if view.reviewed else {}),
            "publisher": {
                "@type": "Organization",
                "name": self.settings.site_title,
                "url": self.urls.absolute(self.urls.home()),
            },
            **({"author": original["author"]} if view.authors else {}),
            # No image: the page does not show the original's picture, whose rights lie elsewhere.
        }

        if view.engine == "original":  # published as the original German text (a source filter setting)
            del json_ld["translator"]
        return self._render(
            "article.html",
            view=view,
            body=_block_html(view.paragraphs),
            canonical=canonical,
            json_ld=_json_ld(json_ld),
            section="article",
        )

    def source_page(self, session: Session, source_id: int, page: int = 1) -> str | None:
        source = queries.source(session, source_id)
        if source is None:
            return None
        total = queries.count_published(session, self.language, source_id)
        pages = self.pages_count(total)
        if page < 1 or page > pages:
            return None
        size = self.settings.page_size
        items = queries.latest(session, self.language, size, (page - 1) * size, source_id=source_id)
        return self.render_source(source, items, total, page, pages)

    def render_source(
        self, source: queries.SourceInfo, items: list[queries.Summary], total: int, page: int, pages: int
    ) -> str:
        return self._render(
            "source.html",
            source=source,
            items=items,
            total=total,
            page=page,
            pages=pages,
            page_url=lambda n: self.urls.source(source.id, n),
            canonical=self.urls.absolute(self.urls.source(source.id, page)),
            section="source",
        )

    def archive_months(
        self, session: Session, times: list[datetime] | None = None
    ) -> list[tuple[int, list[MonthEntry]]]:
        counts: dict[tuple[int, int], int] = {}
        for moment in queries.published_times(session, self.language) if times is None else times:
            local = local_datetime(moment, self.settings.timezone)
            counts[(local.year, local.month)] = counts.get((local.year, local.month), 0) + 1
        years: dict[int, list[MonthEntry]] = {}
        for (year, month), count in sorted(counts.items(), reverse=True):
            years.setdefault(year, []).append(MonthEntry(month, german_month(year, month).split(" ")[0], count))
        return sorted(years.items(), reverse=True)

    def archive(self, session: Session, years: list[tuple[int, list[MonthEntry]]] | None = None) -> str:
        return self._render(
            "archive.html",
            years=self.archive_months(session) if years is None else years,
            sources=queries.sources(session, self.language),
            canonical=self.urls.absolute(self.urls.archive()),
            section="archive",
        )

    def month(self, session: Session, year: int, month: int) -> str | None:
        if not (1 <= month <= 12 and 1900 <= year < 9999):  # 9999-12 ends in the year 10000: no date
            return None
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(self.settings.timezone)
        start = datetime(year, month, 1, tzinfo=zone)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
        items = queries.in_month(session, self.language, start.astimezone(UTC), end.astimezone(UTC))
        if not items:
            return None
        return self.render_month(year, month, items)

    def render_month(self, year: int, month: int, items: list[queries.Summary]) -> str:
        return self._render(
            "month.html",
            items=items,
            month_name=german_month(year, month),
            canonical=self.urls.absolute(self.urls.month(year, month)),
            section="archive",
        )

    def search_page(self, session: Session, query: str, page: int = 1) -> str:
        query = query.strip()[:200]
        items: list[queries.Summary] = []
        total = 0
        if query:
            hits = search.search(session, query, self.language, limit=10_000)
            total = len(hits)
            size = self.settings.page_size
            window = [hit.publication_id for hit in hits[(page - 1) * size : page * size]]
            found = queries.summaries_by_id(session, window)
            items = [found[i] for i in window if i in found]
        return self._render(
            "search.html",
            query=query,
            items=items,
            total=total,
            page=page,
            pages=self.pages_count(total),
            page_url=lambda n: self.urls.search(query, n),
            static_search=self.mode == "static",
            robots="noindex, follow",
            section="search",
        )

    def error(self, heading: str, message: str) -> str:
        return self._render("error.html", heading=heading, message=message, robots="noindex")

    def not_found(self) -> str:
        return self.error(
            "Seite nicht gefunden",
            "Diese Seite gibt es nicht (mehr). Vielleicht finden Sie den Artikel über die Suche oder im Archiv.",
        )

    def redirect_page(self, target_slug: str) -> str:
        target = self.urls.article(target_slug)
        return self._render("redirect.html", target=target, target_abs=self.urls.absolute(target))

    # Feeds and machine-readable files --------------------------------------------------------------

    def feed_items(self, session: Session, source_id: int | None = None) -> list[feeds.FeedItem]:
        items = []
        for summary in queries.latest(session, self.language, FEED_ITEMS, source_id=source_id):
            view = queries.article_view(session, self.language, summary.publication_id, with_links=False)
            if view is not None:
                items.append(self.feed_item(view))
        return items

    def feed_item(self, view: queries.ArticleView) -> feeds.FeedItem:
        s = view.summary
        tz = self.settings.timezone
        credit = (
            f'<p><em>Original: <a href="{escape(view.original_url)}">{escape(isolate_bidi(view.original_title))}</a>'
            + (f", {escape(isolate_bidi(s.outlet))}" if s.outlet else "")
            + (f", {escape(isolate_bidi(join_authors(view.authors)))}" if view.authors else "")
            + (
                f", {escape(original_date_text(view.original_published_at, s.original_date_only, tz))}"
                if view.original_published_at
                else ""
            )
            + f". {escape(view.notice)}.</em></p>"
        )
        return feeds.FeedItem(
            url=self.urls.absolute(self.urls.article(s.slug)),
            title=s.title,
            summary=s.teaser,
            content_html=_block_html(view.paragraphs) + "\n" + credit,
            published=s.published_at,
            updated=s.updated_at,
            original_url=view.original_url,
            authors=tuple(view.authors),
            category=s.source_name,
        )

    def feed_info(self, session: Session, source_id: int | None = None) -> feeds.FeedInfo | None:
        title, description, home = self.settings.site_title, self.settings.site_description, self.urls.home()
        if source_id is not None:
            source = queries.source(session, source_id)
            if source is None:
                return None
            title = f"{source.name} – {self.settings.site_title}"
            description = f"Übersetzte Artikel von {source.name}"
            home = self.urls.source(source_id)
        return feeds.FeedInfo(
            title=title,
            description=description,
            home_url=self.urls.absolute(home),
            rss_url=self.urls.absolute(self.urls.feed("rss", source_id)),
            atom_url=self.urls.absolute(self.urls.feed("atom", source_id)),
            json_url=self.urls.absolute(self.urls.feed("json", source_id)),
            language=self.language,
        )

    def feed(
        self, session: Session, kind: str, source_id: int | None = None, items: list[feeds.FeedItem] | None = None
    ) -> str | None:
        info = self.feed_info(session, source_id)
        if info is None:
            return None
        items = self.feed_items(session, source_id) if items is None else items
        if kind == "rss":
            return feeds.rss(info, items)
        if kind == "atom":
            return feeds.atom(info, items)
        return feeds.json_feed(info, items)

    def sitemap_urls(
        self, session: Session, archive: list[tuple[int, list[MonthEntry]]] | None = None
    ) -> list[sitemaps.SitemapUrl]:
        newest = queries.latest(session, self.language, 1)
        last = newest[0].updated_at if newest else None
        urls = [sitemaps.SitemapUrl(self.urls.absolute(self.urls.home()), last)]
        urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.archive()), last))
        for source in queries.sources(session, self.language):
            urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.source(source.id))))
        for year, months in self.archive_months(session) if archive is None else archive:
            for entry in months:
                urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.month(year, entry.month))))
        for slug, updated in queries.all_slugs(session, self.language):
            urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.article(slug)), updated))
        urls.extend(press_review.sitemap_urls(session, self))
        return urls

    def sitemap_files(
        self,
        session: Session,
        limit: int = sitemaps.MAX_URLS_PER_SITEMAP,
        archive: list[tuple[int, list[MonthEntry]]] | None = None,
    ) -> dict[str, str]:
        return sitemaps.split(
            self.sitemap_urls(session, archive), self.urls.absolute(self.urls.path("/sitemap-{n}.xml")), limit
        )

    def news_sitemap(self, session: Session, now: datetime | None = None) -> str:
        since = (now or datetime.now(UTC)) - timedelta(days=NEWS_SITEMAP_DAYS)
        items = [
            sitemaps.NewsUrl(self.urls.absolute(self.urls.article(slug)), title, published)
            for slug, title, published in queries.published_since(session, self.language, since, sitemaps.MAX_NEWS_URLS)
        ]
        return sitemaps.news(items, self.settings.site_title, self.language)

    def robots_txt(self) -> str:
        return (
            "User-agent: *\n"
            f"Disallow: {self.urls.path('/suche')}\n"
            f"Sitemap: {self.urls.absolute(self.urls.path('/sitemap.xml'))}\n"
            f"Sitemap: {self.urls.absolute(self.urls.path('/news-sitemap.xml'))}\n"
        )
