"""The website: FastAPI routes over `presseschau.publish.site.Site`, with an in-process page cache.

Cache: every page is keyed by the site version -- (publication count, newest `updated_at`),
re-read at most once per `VERSION_TTL_S` -- and article pages additionally by publication id
and `updated_at`. Any publish, unpublish, slug change or re-translation bumps `updated_at`,
so cached pages are never older than that TTL. Responses carry a strong ETag (hash of the
body) and answer `If-None-Match` with 304.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presseschau import __version__
from presseschau.app import AppContext
from presseschau.editorial.security import Signer, load_secret_key
from presseschau.publish import queries
from presseschau.publish.site import FEED_FILES, STATIC_DIR, Site
from presseschau.store.models import Article, Publication, Translation
from presseschau.web.admin import LOGIN_COOKIE, SECURITY_HEADERS, SESSION_COOKIE, admin_router
from presseschau.web.api import PREFIX as API_PREFIX
from presseschau.web.api import api_app
from presseschau.web.limits import BodyLimitMiddleware, TooManyFields
from presseschau.web.params import RowId

VERSION_TTL_S = 1.0
# The news sitemap is rendered again at least this often (seconds).
NEWS_SITEMAP_REFRESH_S = 600
CACHE_ENTRIES = 4096
GZIP_MINIMUM_BYTES = 500
HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {
    "feed.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}
# Browsers and proxies may reuse a page briefly and revalidate cheaply (ETag) afterwards.
CACHE_ARTICLE = "public, max-age=300, stale-while-revalidate=3600"
CACHE_LIST = "public, max-age=60, stale-while-revalidate=600"
CACHE_ASSET = "public, max-age=31536000, immutable"
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    etag: str
    media_type: str
    cache_control: str
    status: int = 200


def make_page(
    body: str | bytes, media_type: str = HTML, cache_control: str = CACHE_LIST, status: int = 200
) -> CachedPage:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return CachedPage(
        data, '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"', media_type, cache_control, status
    )


class PageCache:
    """A small thread-safe LRU of rendered pages."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], CachedPage] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[Any, ...]) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def put(self, key: tuple[Any, ...], page: CachedPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


class _CountsCollector(Collector):
    """Gauges of articles, translations and publications by status, read at scrape time."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def collect(self) -> Iterable[Metric]:
        specs = [
            ("presseschau_articles", "Articles by fetch status.", Article.fetch_status),
            ("presseschau_translations", "Translations by status.", Translation.status),
            ("presseschau_publications", "Publications by status.", Publication.status),
        ]
        with self.context.database.session() as session:
            for name, doc, column in specs:
                family = GaugeMetricFamily(name, doc, labels=["status"])
                for status, count in session.execute(select(column, func.count()).group_by(column)):
                    family.add_metric([str(status)], float(count))
                yield family


class _MetricsMiddleware:
    """Request counter and latency histogram, labelled by route template (bounded cardinality)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "unmatched")
            self.requests.labels(scope["method"], label, str(status)).inc()
            self.latency.labels(label).observe(time.perf_counter() - started)


class _HeadAsGetMiddleware:
    """Answers HEAD like GET without the body (RFC 9110 9.3.2): link checkers, uptime monitors and
    `curl -I` use it, and FastAPI's GET routes alone would answer 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)  # the start message keeps GET's headers, Content-Length included
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        as_get = {**scope, "method": "GET"}
        await self.app(as_get, receive, send_without_body)
        if "route" in as_get:
            scope["route"] = as_get["route"]  # the metrics middleware labels HEAD by the route it matched


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("seite", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else None


def app_from_environment() -> FastAPI:
    """`create_app` for the data directory in PRESSESCHAU_DATA: the factory each process of
    `presseschau serve --workers N` calls, since a live app object cannot cross a process fork."""
    return create_app(AppContext.for_data_dir(os.environ.get("PRESSESCHAU_DATA")))


def create_app(context: AppContext) -> FastAPI:
    """The website of `context`'s database."""
    settings = context.settings
    site = Site(settings, "server")
    cache = PageCache()
    language = settings.target_language
    version_state: dict[str, Any] = {"value": None, "at": 0.0}
    version_lock = threading.Lock()

    def site_version() -> tuple[int, str, str]:
        now = time.monotonic()
        if version_state["value"] is None or now - version_state["at"] > VERSION_TTL_S:
            with version_lock, context.database.session() as session:
                version_state["value"] = queries.site_version(session, language)
                version_state["at"] = now
        value: tuple[int, str, str] = version_state["value"]
        return value

    def respond(request: Request, page: CachedPage) -> Response:
        headers = {"ETag": page.etag, "Cache-Control": page.cache_control}
        match = request.headers.get("if-none-match", "")
        if page.status == 200 and (page.etag in match or match.strip() == "*"):
            return Response(status_code=304, headers=headers)
        return Response(page.body, status_code=page.status, media_type=page.media_type, headers=headers)

    def not_found_page() -> CachedPage:
        return make_page(site.not_found(), cache_control="public, max-age=60", status=404)

    async def cached(request: Request, key: tuple[Any, ...], build: Callable[[], CachedPage | None]) -> Response:
        full_key = (*key, site_version())
        page = cache.get(full_key)
        if page is None:
            page = await run_in_threadpool(build)
            page = page or not_found_page()
            cache.put(full_key, page)
        return respond(request, page)

    def with_session(
        render: Callable[[Any], str | None], media_type: str = HTML, cache_control: str = CACHE_LIST
    ) -> Callable[[], CachedPage | None]:
        def build() -> CachedPage | None:
            with context.database.session() as session:
                body = render(session)
            return None if body is None else make_page(body, media_type, cache_control)

        return build

    registry = CollectorRegistry()
    requests_total = Counter(
        "presseschau_http_requests_total", "HTTP requests.", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "presseschau_http_request_duration_seconds",
        "HTTP request latency.",
        ["route"],
        registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )
    registry.register(_CountsCollector(context))

    app = FastAPI(title=settings.site_title, version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.context = context
    app.state.site = site
    app.state.page_cache = cache
    # Innermost: pages, CSS and feeds go out compressed to clients that accept gzip (on the demo
    # set the RSS feed goes from 54.6 to 19.4 kB, an article page from 12.6 to 4.8 kB). Small
    # bodies are not worth it.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    signer = Signer(load_secret_key(settings))
    # Before anything reads a body: the admin area's cookie check and every route's size limit.
    app.add_middleware(
        BodyLimitMiddleware,
        has_session=lambda cookie: signer.read_session(cookie) is not None,
        session_cookie=SESSION_COOKIE,
        login_cookie=LOGIN_COOKIE,
        headers=SECURITY_HEADERS,
    )
    app.add_middleware(_HeadAsGetMiddleware)

    @app.exception_handler(TooManyFields)
    async def too_many_fields(request: Request, error: TooManyFields) -> Response:
        return Response(
            f"Zu viele Formularfelder (höchstens {error.limit.max_fields}).",
            status_code=413,
            media_type="text/plain",
            headers=SECURITY_HEADERS if request.url.path.startswith("/admin") else None,
        )
    app.add_middleware(_MetricsMiddleware, requests=requests_total, latency=latency)  # outermost: sees HEAD

    async def german_error(request: Request, error: Exception) -> Response:
        # Unknown URLs (no route) and malformed ones (/quelle/abc/, an id past the database's
        # range) get the site's German 404 page, never FastAPI's JSON or a Pydantic message.
        status = error.status_code if isinstance(error, StarletteHTTPException) else 404
        if status != 404:
            detail, headers = str(getattr(error, "detail", "")), getattr(error, "headers", None)
            return Response(detail, status_code=status, headers=headers)
        page = not_found_page()
        if request.url.path.startswith("/admin"):
            return Response(page.body, status_code=404, media_type=HTML, headers={"Cache-Control": "no-store"})
        return respond(request, page)

    app.add_exception_handler(StarletteHTTPException, german_error)
    app.add_exception_handler(RequestValidationError, german_error)

    assets = {
        path.name: make_page(path.read_bytes(), _asset_type(path), CACHE_ASSET)
        for path in STATIC_DIR.iterdir()
        if path.is_file()
    }

    @app.get("/")
    async def home(request: Request) -> Response:
        page = _page_number(request)
        if page is None:
            return respond(request, not_found_page())
        return await cached(request, ("home", page), with_session(lambda s: site.home(s, page)))

    @app.get("/archiv/")
    async def archive(request: Request) -> Response:
        return await cached(request, ("archive",), with_session(site.archive))

    @app.get("/archiv/{year}/{month}/")
    async def month(request: Request, year: str, month: str) -> Response:
        if not (re.fullmatch(r"\d{4}", year) and re.fullmatch(r"\d{2}", month)):
            return respond(request, not_found_page())
        y, m = int(year), int(month)
        return await cached(request, ("month", y, m), with_session(lambda s: site.month(s, y, m)))

    @app.get("/suche")
    async def search_page(request: Request) -> Response:
        query = request.query_params.get("q", "")
        page = _page_number(request) or 1

        def build() -> CachedPage:
            with context.database.session() as session:
                body = site.search_page(session, query, page)
            return make_page(body, cache_control="public, max-age=60")

        return respond(request, await run_in_threadpool(build))

    @app.get("/quelle/{source_id}/")
    async def source_page(request: Request, source_id: RowId) -> Response:
        page = _page_number(request)
        if page is None:
            return respond(request, not_found_page())
        return await cached(
            request, ("source", source_id, page), with_session(lambda s: site.source_page(s, source_id, page))
        )

    def feed_route(name: str, kind: str) -> None:
        async def site_feed(request: Request) -> Response:
            return await cached(
                request, ("feed", kind), with_session(lambda s: site.feed(s, kind), CONTENT_TYPES[name], CACHE_LIST)
            )

        async def source_feed(request: Request, source_id: RowId) -> Response:
            return await cached(
                request,
                ("feed", kind, source_id),
                with_session(lambda s: site.feed(s, kind, source_id), CONTENT_TYPES[name], CACHE_LIST),
            )

        app.add_api_route(f"/{name}", site_feed, methods=["GET"], name=f"feed_{kind}")
        app.add_api_route(f"/quelle/{{source_id}}/{name}", source_feed, methods=["GET"], name=f"source_feed_{kind}")

    for kind, name in FEED_FILES.items():
        feed_route(name, kind)

    def sitemap_part(name: str) -> Callable[[Any], str | None]:
        return lambda session: site.sitemap_files(session).get(name)

    @app.get("/sitemap.xml")
    async def sitemap(request: Request) -> Response:
        return await cached(
            request, ("sitemap.xml",), with_session(sitemap_part("sitemap.xml"), "application/xml; charset=utf-8")
        )

    @app.get("/sitemap-{number}.xml")
    async def sitemap_numbered(request: Request, number: RowId) -> Response:
        name = f"sitemap-{number}.xml"
        return await cached(request, (name,), with_session(sitemap_part(name), "application/xml; charset=utf-8"))

    @app.get("/news-sitemap.xml")
    async def news_sitemap(request: Request) -> Response:
        # Its window (the last two days) moves with the clock, not only with publications.
        window = int(time.time() // NEWS_SITEMAP_REFRESH_S)
        return await cached(
            request, ("news-sitemap", window), with_session(site.news_sitemap, "application/xml; charset=utf-8")
        )

    robots = make_page(site.robots_txt(), "text/plain; charset=utf-8", "public, max-age=3600")

    @app.get("/robots.txt")
    async def robots_txt(request: Request) -> Response:
        return respond(request, robots)

    @app.get("/static/{name}")
    async def static_asset(request: Request, name: str) -> Response:
        page = assets.get(name)
        return respond(request, page) if page else respond(request, not_found_page())

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        try:
            with context.database.session() as session:
                session.execute(text("SELECT 1"))
                counts = {
                    "articles": session.scalar(select(func.count(Article.id))),
                    "translations_done": session.scalar(
                        select(func.count(Translation.id)).where(Translation.status == "done")
                    ),
                    "published": session.scalar(
                        select(func.count(Publication.id)).where(Publication.status == "published")
                    ),
                }
        except Exception as error:  # any database failure means "not healthy", with the reason
            return JSONResponse(
                {"status": "error", "database": False, "error": str(error)[:300]},
                status_code=503,
                headers={"Cache-Control": "no-store"},
            )
        return JSONResponse({"status": "ok", "database": True, "counts": counts}, headers={"Cache-Control": "no-store"})

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(
            generate_latest(registry),
            media_type="text/plain; version=0.0.4; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )

    # Before the catch-all slug routes below, which would otherwise take /admin/ as an article.
    app.include_router(admin_router(context))
    app.mount(API_PREFIX, api_app(context))  # before the slug routes; its own OpenAPI docs

    @app.get("/{slug}")
    async def article_without_slash(request: Request, slug: str) -> Response:
        if _SLUG_RE.fullmatch(slug):
            return RedirectResponse(f"/{slug}/", status_code=301)
        return respond(request, not_found_page())

    @app.get("/{slug}/")
    async def article(request: Request, slug: str) -> Response:
        if not _SLUG_RE.fullmatch(slug):
            return respond(request, not_found_page())
        version = site_version()
        target = cache.get(("slug", slug, version))
        if target is None:
            target = await run_in_threadpool(_resolve_slug, slug)
            cache.put(("slug", slug, version), target)
        kind = target.media_type
        if kind == "redirect":
            return RedirectResponse(target.body.decode(), status_code=301, headers={"Cache-Control": CACHE_LIST})
        if kind == "missing":
            return respond(request, not_found_page())
        publication_id, updated = target.etag.split("|", 1)
        key = ("article", int(publication_id), updated, version)
        page = cache.get(key)
        if page is None:
            page = await run_in_threadpool(_render_article, int(publication_id))
            cache.put(key, page)
        return respond(request, page)

    def _resolve_slug(slug: str) -> CachedPage:
        # Slug resolution is cached like a page: (publication id | updated_at), a redirect, or missing.
        with context.database.session() as session:
            found = queries.find_slug(session, language, slug)
            if found is not None and found[1] == "published":
                return CachedPage(b"", f"{found[0]}|{found[2].isoformat()}", "article", "")
            if found is None:
                new_slug = queries.redirect_target(session, language, slug)
                if new_slug is not None:
                    return CachedPage(site.urls.article(new_slug).encode(), "", "redirect", "")
        return CachedPage(b"", "", "missing", "")

    def _render_article(publication_id: int) -> CachedPage:
        with context.database.session() as session:
            body = site.article(session, publication_id)
        return make_page(body, cache_control=CACHE_ARTICLE) if body else not_found_page()

    return app


def _asset_type(path: Path) -> str:
    return {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}.get(
        path.suffix, "application/octet-stream"
    )
