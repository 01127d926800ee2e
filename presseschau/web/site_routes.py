"""Routes of the public site over `presseschau.publish.site.Site`: module-level handlers on
`site_router` and `article_router` (the catch-all slug routes, included last); they take the per-app
`PublicSite` (renderer, cache, site version) as a dependency.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from presseschau import reporting
from presseschau.publish import ranking
from presseschau.publish.urls import FEED_FILES
from presseschau.store.models import PublicationStatus, TranslationStatus
from presseschau.web.cache import CACHE_LIST, REUSABLE, CachedPage, make_page, respond
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.offline import metrics_allowed
from presseschau.web.params import RowId
from presseschau.web.public import CONTENT_TYPES, SLUG_RE, Public, PublicSite, page_number

# The news sitemap is rendered again at least this often (seconds).
NEWS_SITEMAP_REFRESH_S = 600


# Routes of the site: before the admin area and the API, which come before `article_router`'s
# catch-all slug routes (they would otherwise take /admin/ as an article).
site_router = APIRouter()
article_router = APIRouter()
XML = "application/xml; charset=utf-8"


@site_router.get("/")
async def home(request: Request, public: Public) -> Response:
    page = page_number(request)
    if page is None:
        return respond(request, public.not_found())
    build = public.rendered(lambda s: public.site.home(s, page))
    return await public.cached(request, ("home", page), build, reusable=True)


@site_router.get("/archiv/")
async def archive(request: Request, public: Public) -> Response:
    return await public.cached(request, ("archive",), public.rendered(public.site.archive), reusable=True)


@site_router.get("/archiv/{year}/{month}/")
async def month(request: Request, public: Public, year: str, month: str) -> Response:
    if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month)):
        return respond(request, public.not_found())
    y, m = int(year), int(month)
    key = ("month", y, m, await _review_days_key(public))
    return await public.cached(request, key, public.rendered(lambda s: public.site.month(s, y, m)))


async def _review_days_key(public: Public) -> tuple[str, ...]:
    """The public Presseschau days, part of the archive pages' cache key: whether a day's review
    is public depends on the clock and on editors, which the site version does not see."""

    def read() -> tuple[str, ...]:
        with public.context.database.session() as session:
            return tuple(d.isoformat() for d in public.site.review_days(session))

    return await run_in_threadpool(read)


@site_router.get("/archiv/{year}/{month}/{day}/")
async def archive_day(request: Request, public: Public, year: str, month: str, day: str) -> Response:
    if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month) and re.fullmatch(r"\d{2}", day)):
        return respond(request, public.not_found())
    y, m, d = int(year), int(month), int(day)
    page = public.rendered(lambda s: public.site.archive_day(s, y, m, d))
    return await public.cached(request, ("archive-day", y, m, d, await _review_days_key(public)), page)


@site_router.get("/suche")
async def search_page(request: Request, public: Public) -> Response:
    query = request.query_params.get("q", "")
    page = page_number(request) or 1
    filters, errors = ranking.Filters.from_params(request.query_params)

    def build() -> CachedPage:
        with public.context.database.session() as session:
            body = public.site.search_page(session, query, page, filters, errors)
        return make_page(body, cache_control="public, max-age=60")

    return respond(request, await run_in_threadpool(build))


@site_router.get("/quelle/{source_id}/")
async def source_page(request: Request, public: Public, source_id: RowId) -> Response:
    page = page_number(request)
    if page is None:
        return respond(request, public.not_found())
    if (gone := await run_in_threadpool(public.removed_source, source_id)) is not None:
        return respond(request, gone)
    build = public.rendered(lambda s: public.site.source_page(s, source_id, page))
    return await public.cached(request, ("source", source_id, page), build)


def _add_feed_routes(name: str, kind: str) -> None:
    """/<feed file> and /quelle/<id>/<feed file> for one feed format."""

    async def site_feed(request: Request, public: Public) -> Response:
        build = public.rendered(lambda s: public.site.feed(s, kind), CONTENT_TYPES[name], CACHE_LIST)
        return await public.cached(request, ("feed", kind), build, reusable=True)

    async def source_feed(request: Request, public: Public, source_id: RowId) -> Response:
        if (gone := await run_in_threadpool(public.removed_source, source_id)) is not None:
            return respond(request, gone)
        build = public.rendered(lambda s: public.site.feed(s, kind, source_id), CONTENT_TYPES[name], CACHE_LIST)
        return await public.cached(request, ("feed", kind, source_id), build)

    site_router.add_api_route(f"/{name}", site_feed, methods=["GET"], name=f"feed_{kind}")
    site_router.add_api_route(f"/quelle/{{source_id}}/{name}", source_feed, methods=["GET"], name=f"source_feed_{kind}")


for _kind, _name in FEED_FILES.items():
    _add_feed_routes(_name, _kind)


def _sitemap_part(public: PublicSite, name: str) -> Callable[[], CachedPage | None]:
    return public.rendered(lambda session: public.site.sitemap_files(session).get(name), XML)


@site_router.get("/sitemap.xml")
async def sitemap(request: Request, public: Public) -> Response:
    return await public.cached(request, ("sitemap.xml",), _sitemap_part(public, "sitemap.xml"), reusable=True)


@site_router.get("/sitemap-{number}.xml")
async def sitemap_numbered(request: Request, public: Public, number: RowId) -> Response:
    name = f"sitemap-{number}.xml"
    return await public.cached(request, (name,), _sitemap_part(public, name), reusable=True)


@site_router.get("/news-sitemap.xml")
async def news_sitemap(request: Request, public: Public) -> Response:
    # Its window (the last two days) moves with the clock, not only with publications.
    window = int(time.time() // NEWS_SITEMAP_REFRESH_S)
    return await public.cached(request, ("news-sitemap", window), public.rendered(public.site.news_sitemap, XML))


@site_router.get("/robots.txt")
async def robots_txt(request: Request, public: Public) -> Response:
    return respond(request, public.robots)


@site_router.get("/favicon.ico")
async def favicon(request: Request, public: Public) -> Response:
    # Browsers and feed readers ask for it whatever the pages link to.
    return respond(request, public.assets.get("favicon.ico") or public.not_found())


@site_router.get("/static/{name}")
async def static_asset(request: Request, public: Public, name: str) -> Response:
    return respond(request, public.assets.get(name) or public.not_found())


@site_router.get("/healthz")
def healthz(database: Db) -> JSONResponse:
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
            by_status = reporting.status_counts(session)
            counts = {
                "articles": by_status.articles_total,
                "translations_done": by_status.translations.get(TranslationStatus.DONE, 0),
                "published": by_status.publications.get(PublicationStatus.PUBLISHED, 0),
            }
    except Exception as error:  # any database failure means "not healthy", with the reason
        return JSONResponse(
            {"status": "error", "database": False, "error": str(error)[:300]},
            status_code=503,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse({"status": "ok", "database": True, "counts": counts}, headers={"Cache-Control": "no-store"})


@site_router.get("/metrics")
def metrics(request: Request, settings: CurrentSettings) -> Response:
    if not metrics_allowed(settings.metrics_token, request.headers.get("authorization")):
        return Response(
            "metrics need the token: Authorization: Bearer <metrics_token>\n",
            status_code=401,
            media_type="text/plain; charset=utf-8",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
        )
    return Response(
        generate_latest(request.app.state.metrics_registry),
        media_type="text/plain; version=0.0.4; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


@article_router.get("/{slug}")
async def article_without_slash(request: Request, public: Public, slug: str) -> Response:
    if SLUG_RE.fullmatch(slug):
        return RedirectResponse(f"/{slug}/", status_code=301)
    return respond(request, public.not_found())


@article_router.get("/{slug}/")
async def article(request: Request, public: Public, slug: str) -> Response:
    if not SLUG_RE.fullmatch(slug):
        return respond(request, public.not_found())
    version = await public.current_version()
    slug_key = ("slug", slug, version)
    target = public.cache.get_slug(slug_key)
    if target is None:
        target = await run_in_threadpool(public.resolve_slug, slug)
        public.cache.put(slug_key, target)
    if target.redirect_to is not None:
        return RedirectResponse(target.redirect_to, status_code=301, headers={"Cache-Control": CACHE_LIST})
    if target.publication_id is None:
        return respond(request, public.not_found())
    key = ("article", target.publication_id, target.updated, version)
    page = public.cache.get_page(key)
    if page is None:
        page = await run_in_threadpool(public.render_article, target.publication_id)
        public.cache.put(key, page)
    request.scope[REUSABLE] = (version, (slug_key, key), page)
    return respond(request, page)
