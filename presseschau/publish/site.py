"""Rendering of every page, feed and sitemap, shared by the web app and the static build.

`Site` turns the read model (`presseschau.publish.queries`) into bytes; `Urls` knows the two
URL styles: the server's (`/?seite=2`, `/suche?q=`) and the static site's (`/seite/2/`,
`/suche/`), both with pretty article URLs `/<slug>/`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import Paragraph
from presseschau.publish import corrections, error_pages, feeds, press_review, queries, ranking, sitemaps
from presseschau.publish.archive import ArchiveIndex, DayGroup, MonthEntry, day_heading, weekday_names
from presseschau.publish.attribution import READ_ON, attribution
from presseschau.publish.formatting import (
    german_datetime_uhr,
    german_month,
    iso_datetime,
    join_authors,
    original_date_iso,
    original_date_text,
    plural,
)
from presseschau.publish.reading import article_body_html, side_by_side_rows
from presseschau.publish.urls import Mode, Urls
from presseschau.stories import service as stories
from presseschau.text import escape_bidi_controls, isolated_output
from presseschau.translate.names import engine_display_name

FeedKind = Literal["rss", "atom", "json"]
FEED_ITEMS = 30
# The original's genre as German readers know it (Article.genre).
GENRE_LABELS = {"opinion": "Kommentar", "analysis": "Analyse"}
NEWS_SITEMAP_DAYS = 2


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
        self.env.filters["plural"] = plural
        self.env.filters["host"] = lambda url: urlsplit(url).netloc or url
        self.env.filters["safe_url"] = queries.http_url
        self.env.globals.update(
            site={"title": settings.site_title, "description": settings.site_description},
            source_language=settings.source_language,
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
        view = view or queries.article_view(session, self.settings, publication_id)
        if view is None:
            return None
        press_review.attach_story(session, self, view)
        s = view.summary
        canonical = self.urls.absolute(self.urls.article(s.slug))
        tz = self.settings.timezone
        original: dict[str, Any] = {
            "@type": "NewsArticle",
            "url": view.original_url,
            "headline": view.original_title,
            "inLanguage": self.settings.source_language,
        }
        credit = attribution(view)
        original.update(credit.json_ld())
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
            # A share-alike original's adaptation carries the same licence.
            **({"license": view.licence.url} if view.licence.share_alike and view.licence.url else {}),
            # No image: the page does not show the original's picture, whose rights lie elsewhere.
        }

        if view.engine == "original":  # published as the original German text (a source filter setting)
            del json_ld["translator"]
        report = (lambda index: self.urls.report(s.publication_id, index)) if self.mode == "server" else None
        return self._render(
            "article.html",
            view=view,
            body=article_body_html(view.body_paragraphs, view.originals, report),
            credit=credit,
            canonical=canonical,
            json_ld=_json_ld(json_ld),
            section="article",
        )

    def bilingual_page(self, session: Session, publication_id: int) -> str | None:
        """German and English side by side, paragraph by paragraph (only where bilingual reading is on)."""
        view = queries.article_view(session, self.settings, publication_id, with_links=False)
        if view is None or not view.bilingual:
            return None
        return self._render(
            "bilingual.html",
            view=view,
            rows=side_by_side_rows(view.paragraphs, view.originals),
            credit=attribution(view),
            canonical=self.urls.absolute(self.urls.bilingual(view.summary.slug)),
            section="article",
        )

    # Corrections (presseschau.publish.corrections) ------------------------------------------------

    def corrections_page(self, session: Session) -> str:
        return self._render(
            "corrections.html",
            items=corrections.public_corrections(session, self.language),
            canonical=self.urls.absolute(self.urls.corrections()),
            section="corrections",
        )

    def corrections_feed(self, session: Session) -> str:
        """RSS of the published correction notes, newest first."""
        info = feeds.FeedInfo(
            title=f"Korrekturen – {self.settings.site_title}",
            description="Korrekturen an übersetzten Artikeln",
            home_url=self.urls.absolute(self.urls.corrections()),
            rss_url=self.urls.absolute(self.urls.corrections_feed()),
            atom_url=self.urls.absolute(self.urls.corrections_feed()),
            json_url=self.urls.absolute(self.urls.corrections_feed()),
            language=self.language,
        )
        items = [
            feeds.FeedItem(
                url=self.urls.absolute(self.urls.article(item.slug)) + f"#korrekturen-{item.note_id}",
                title=f"Korrektur: {item.title}",
                summary=f"Korrigiert am {german_datetime_uhr(item.created_at, self.settings.timezone)}: {item.text}",
                content_html=f"<p>{escape(item.text)}</p>",
                published=item.created_at,
                updated=item.created_at,
                original_url="",
            )
            for item in corrections.public_corrections(session, self.language, FEED_ITEMS)
        ]
        return feeds.rss(info, items)

    def report_form(
        self, target: corrections.ReportTarget, csrf: str, message: str = "", error: str | None = None
    ) -> str:
        return self._render(
            "report.html",
            target=target,
            csrf=csrf,
            message=message,
            error=error,
            action=self.urls.report(target.publication_id, target.index),
            robots="noindex",
            section="article",
        )

    def report_thanks(self, target: corrections.ReportTarget) -> str:
        return self._render("report.html", target=target, done=True, robots="noindex", section="article")

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

    def archive_index(self, session: Session) -> ArchiveIndex:
        return ArchiveIndex.load(session, self.language, self.settings.timezone)

    def archive_months(self, session: Session) -> list[tuple[int, list[MonthEntry]]]:
        return self.archive_index(session).years()

    def archive(self, session: Session, years: list[tuple[int, list[MonthEntry]]] | None = None) -> str:
        return self._render(
            "archive.html",
            years=self.archive_months(session) if years is None else years,
            sources=queries.sources(session, self.language),
            canonical=self.urls.absolute(self.urls.archive()),
            section="archive",
        )

    def review_days(self, session: Session) -> list[date]:
        """The days with a public Presseschau (the archive links them)."""
        return stories.public_days(session, self.settings)

    def month(self, session: Session, year: int, month: int) -> str | None:
        if not (1 <= month <= 12 and 1900 <= year < 9999):  # 9999-12 ends in the year 10000: no date
            return None
        index = self.archive_index(session)
        days = index.month_days(year, month)
        if not days:
            return None
        summaries = queries.summaries_by_id(session, [i for d in days for i in index.days[d]])
        return self.render_month(year, month, index, summaries, self.review_days(session))

    def render_month(
        self,
        year: int,
        month: int,
        index: ArchiveIndex,
        summaries: dict[int, queries.Summary],
        review_days: Collection[date],
    ) -> str:
        groups = [self._day_group(index, d, summaries, review_days) for d in index.month_days(year, month)]
        return self._render(
            "month.html",
            groups=groups,
            weeks=index.calendar(year, month),
            weekdays=weekday_names(),
            count=sum(len(g.items) for g in groups),
            month_name=german_month(year, month),
            canonical=self.urls.absolute(self.urls.month(year, month)),
            section="archive",
        )

    def _day_group(
        self, index: ArchiveIndex, day: date, summaries: dict[int, queries.Summary], review_days: Collection[date]
    ) -> DayGroup:
        items = [summaries[i] for i in index.days.get(day, []) if i in summaries]
        review = press_review.day_path(self, day) if day in review_days else None
        return DayGroup(day, day_heading(day), items, review)

    def archive_day(self, session: Session, year: int, month: int, day: int) -> str | None:
        try:
            wanted = date(year, month, day)
        except ValueError:
            return None
        index = self.archive_index(session)
        if wanted not in index.days:
            return None
        summaries = queries.summaries_by_id(session, index.days[wanted])
        return self.render_archive_day(index, wanted, summaries, self.review_days(session))

    def render_archive_day(
        self, index: ArchiveIndex, day: date, summaries: dict[int, queries.Summary], review_days: Collection[date]
    ) -> str:
        earlier, later = index.neighbours(day)
        return self._render(
            "archive_day.html",
            group=self._day_group(index, day, summaries, review_days),
            month_name=german_month(day.year, day.month),
            earlier=(earlier, day_heading(earlier)) if earlier else None,
            later=(later, day_heading(later)) if later else None,
            canonical=self.urls.absolute(self.urls.day(day)),
            section="archive",
        )

    def search_page(
        self,
        session: Session,
        query: str,
        page: int = 1,
        filters: ranking.Filters | None = None,
        filter_errors: list[str] | None = None,
    ) -> str:
        query = query.strip()[:200]
        filters = filters or ranking.Filters()
        items: list[queries.Summary] = []
        snippets: dict[int, Markup] = {}
        total = 0
        if query and self.mode == "server":
            ranked = ranking.ranked_search(session, query, self.language, filters, self.settings.timezone)
            total = len(ranked)
            size = self.settings.page_size
            window = ranked[(page - 1) * size : page * size]
            found = queries.summaries_by_id(session, window)
            items = [found[i] for i in window if i in found]
            snippets = ranking.snippets(session, query, window)
        return self._render(
            "search.html",
            query=query,
            items=items,
            snippets=snippets,
            filters=filters,
            filter_errors=filter_errors or [],
            genres=ranking.GENRES,
            sources=queries.sources(session, self.language),
            total=total,
            page=page,
            pages=self.pages_count(total),
            page_url=lambda n: self.urls.search(query, n, filters),
            static_search=self.mode == "static",
            robots="noindex, follow",
            section="search",
        )

    def error(self, heading: str, message: str) -> str:
        return self._render("error.html", heading=heading, message=message, robots="noindex")

    def not_found(self) -> str:
        return self.http_error(404)

    def http_error(self, status: int, detail: str | None = None) -> str:
        """The German page for any error status (see `presseschau.publish.error_pages`)."""
        return self.error(*error_pages.describe(status, detail))

    def redirect_page(self, target_slug: str) -> str:
        target = self.urls.article(target_slug)
        return self._render("redirect.html", target=target, target_abs=self.urls.absolute(target))

    # Feeds and machine-readable files --------------------------------------------------------------

    def feed_items(self, session: Session, source_id: int | None = None) -> list[feeds.FeedItem]:
        items = []
        for summary in queries.latest(session, self.language, FEED_ITEMS, source_id=source_id):
            view = queries.article_view(session, self.settings, summary.publication_id, with_links=False)
            if view is not None:
                items.append(self.feed_item(view))
        return items

    def feed_item(self, view: queries.ArticleView) -> feeds.FeedItem:
        s = view.summary
        tz = self.settings.timezone
        rights = attribution(view)
        credit = rights.credit_html()
        if view.original_published_at:
            date = escape(original_date_text(view.original_published_at, s.original_date_only, tz))
            credit = credit.replace("</em></p>", f" Original vom {date}.</em></p>")
        body = _block_html(view.body_paragraphs)
        if view.reuse.mode == "headline":
            body = f"<p>{escape(s.teaser)}</p>"
        if view.reuse.mode != "full" and view.original_url:
            body += f'\n<p><a href="{escape(view.original_url)}">{READ_ON}</a></p>'
        return feeds.FeedItem(
            url=self.urls.absolute(self.urls.article(s.slug)),
            title=s.title,
            summary=s.teaser,
            rights=rights.rights_text(),
            rights_json=rights.to_json(),
            content_html=body + "\n" + credit,
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

    def sitemap_urls(self, session: Session, archive: ArchiveIndex | None = None) -> list[sitemaps.SitemapUrl]:
        newest = queries.latest(session, self.language, 1)
        last = newest[0].updated_at if newest else None
        urls = [sitemaps.SitemapUrl(self.urls.absolute(self.urls.home()), last)]
        urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.archive()), last))
        for source in queries.sources(session, self.language):
            urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.source(source.id))))
        index = self.archive_index(session) if archive is None else archive
        for year, months in index.years():
            for entry in months:
                urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.month(year, entry.month))))
        for day in sorted(index.days, reverse=True):
            urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.day(day))))
        for slug, updated in queries.all_slugs(session, self.language):
            urls.append(sitemaps.SitemapUrl(self.urls.absolute(self.urls.article(slug)), updated))
        urls.extend(press_review.sitemap_urls(session, self))
        return urls

    def sitemap_files(
        self,
        session: Session,
        limit: int = sitemaps.MAX_URLS_PER_SITEMAP,
        archive: ArchiveIndex | None = None,
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
