"""The website: FastAPI routes over `presseschau.publish.site.Site`, with an in-process page cache.

Cache: every page is keyed by the site version -- (publication count, newest `updated_at`),
re-read at most once per `VERSION_TTL_S` -- and article pages additionally by publication id
and `updated_at`. Any publish, unpublish, slug change or re-translation bumps `updated_at`,
so cached pages are never older than that TTL. Responses carry a strong ETag (hash of the
body) and answer `If-None-Match` with 304. A slug's lookup (`SlugTarget`: an article, a redirect
or nothing) is cached the same way, in the same LRU.

Fast path: a route whose answer depends only on the request's path and query, the site version and
cache entries marks the request `reusable`; `SiteFront`, the outermost ASGI layer, then keeps the
response exactly as it went out (`CachedResponse`: headers after compression, body) and replays it
for the same path, query and compression while the version is current and those entries are still
cached -- before FastAPI's own layers, routing and dependencies, which cost ten times the answer.

Routes are module-level handlers on `site_router` and `article_router` (the catch-all slug routes,
included last); they take the per-app `PublicSite` (renderer, cache, site version) as a dependency.
`create_app` only assembles: state, middleware, error handlers, the routers, the admin area and the
API.
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
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presseschau import __version__, reporting
from presseschau.app import AppContext
from presseschau.publish import queries, ranking
from presseschau.publish.site import FEED_FILES, STATIC_DIR, Site
from presseschau.store.models import PublicationStatus, RemovedSource, TranslationStatus
from presseschau.web import admin
from presseschau.web.admin import SECURITY_HEADERS
from presseschau.web.api import PREFIX as API_PREFIX
from presseschau.web.api import api_app
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.limits import BodyLimitMiddleware, TooManyFields
from presseschau.web.offline import metrics_allowed
from presseschau.web.params import RowId

VERSION_TTL_S = 1.0
# The news sitemap is rendered again at least this often (seconds).
NEWS_SITEMAP_REFRESH_S = 600
CACHE_ENTRIES = 4096
# The scope key under which a route marks its answer as replayable: (version, cache keys, page).
REUSABLE = "presseschau.reusable"
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


SiteVersion = tuple[int, str, str]
RawHeaders = list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A page's response as it went out (status 200; headers after compression; body), with what
    it was made from: the site version and the cache keys the route read. While the version is
    current and those entries are still cached, routing the request again gives these bytes."""

    version: SiteVersion
    sources: tuple[tuple[Any, ...], ...]
    headers: RawHeaders
    body: bytes
    etag: str
    not_modified_headers: RawHeaders
    route: str


@dataclass(frozen=True, slots=True)
class SlugTarget:
    """What a slug names at one site version: a published article (`publication_id`, with its
    `updated` time for the page's cache key), a permanent redirect to its new address, or nothing."""

    publication_id: int | None = None
    updated: str = ""
    redirect_to: str | None = None


class PageCache:
    """A small thread-safe LRU of rendered pages, of slug lookups (`SlugTarget`, under keys that
    start with "slug") and of replayable responses (`CachedResponse`, keys that start with
    "response"): one bound on memory for all, and one hit count (a replay counts the hits of the
    entries it was made from, as routing the request again would)."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], CachedPage | SlugTarget | CachedResponse] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _get(self, key: tuple[Any, ...]) -> CachedPage | SlugTarget | CachedResponse | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return entry

    def get_page(self, key: tuple[Any, ...]) -> CachedPage | None:
        entry = self._get(key)
        return entry if isinstance(entry, CachedPage) else None

    def get_slug(self, key: tuple[Any, ...]) -> SlugTarget | None:
        entry = self._get(key)
        return entry if isinstance(entry, SlugTarget) else None

    def holds(self, key: tuple[Any, ...]) -> bool:
        """Whether `key` is cached (a hit, and its entry counts as just used)."""
        return self._get(key) is not None

    def get_response(self, key: tuple[Any, ...]) -> CachedResponse | None:
        """The replayable response under `key`; not counted as a hit or miss (its sources are)."""
        with self._lock:
            entry = self._pages.get(key)
            if not isinstance(entry, CachedResponse):
                return None
            self._pages.move_to_end(key)
            return entry

    def put(self, key: tuple[Any, ...], entry: CachedPage | SlugTarget | CachedResponse) -> None:
        with self._lock:
            self._pages[key] = entry
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
        with self.context.database.session() as session:
            counts = reporting.status_counts(session)
        for name, doc, by_status in (
            ("presseschau_articles", "Articles by fetch status.", counts.articles),
            ("presseschau_translations", "Translations by status.", counts.translations),
            ("presseschau_publications", "Publications by status.", counts.publications),
        ):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            for status, count in by_status.items():
                family.add_metric([status], float(count))
            yield family


class SiteFront:
    """The outermost ASGI layer, three jobs in one: the request counter and latency histogram
    (labelled by route template: bounded cardinality), HEAD answered like GET without the body
    (RFC 9110 9.3.2: link checkers, uptime monitors and `curl -I` use it, and FastAPI's GET routes
    alone would answer 405), and replaying a `CachedResponse` before any other layer runs."""

    def __init__(self, app: ASGIApp, public: PublicSite, requests: Counter, latency: Histogram) -> None:
        self.app, self.public, self.requests, self.latency = app, public, requests, latency
        # The metrics' children by labels: `labels()` validates and locks on every call.
        self._counted: dict[tuple[str, str, str], Counter] = {}
        self._timed: dict[str, Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"]
        if method in BODYLESS_READS:
            replayed = await self._replay(scope, send, method == "HEAD")
            if replayed is not None:
                route, status = replayed
                self._observe(method, route, status, started)
                return
        await self._route(scope, receive, send, started)

    def _observe(self, method: str, route: str, status: int, started: float) -> None:
        labels = (method, route, str(status))
        if (counter := self._counted.get(labels)) is None:
            counter = self._counted[labels] = self.requests.labels(*labels)
        if (histogram := self._timed.get(route)) is None:
            histogram = self._timed[route] = self.latency.labels(route)
        counter.inc()
        histogram.observe(time.perf_counter() - started)

    async def _replay(self, scope: Scope, send: Send, head: bool) -> tuple[str, int] | None:
        """Send the cached response for this request, if one is valid: (route label, status)."""
        accept_encoding, if_none_match, has_body = _request_headers(scope)
        if has_body:  # a body on a GET is odd: the routed path (and its body limit) answers it
            return None
        cache = self.public.cache
        entry = cache.get_response(("response", scope["path"], scope["query_string"], "gzip" in accept_encoding))
        if entry is None:
            return None
        version = await self.public.current_version()
        if entry.version != version or not all(cache.holds(key) for key in entry.sources):
            return None
        if not_modified(entry.etag, if_none_match):
            await send({"type": "http.response.start", "status": 304, "headers": entry.not_modified_headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return entry.route, 304
        await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
        await send({"type": "http.response.body", "body": b"" if head else entry.body, "more_body": False})
        return entry.route, 200

    async def _route(self, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        """The request through FastAPI; a GET's answer kept for replay when its route allows."""
        method = scope["method"]
        routed = {**scope, "method": "GET"} if method == "HEAD" else scope
        status = 500
        headers: RawHeaders = []
        body: bytes | None = None  # the whole body when it went out in one message
        streamed = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, headers, body, streamed
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                more_body = message.get("more_body", False)
                if method == "HEAD":  # the start message kept GET's headers, Content-Length included
                    if not more_body:
                        await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                if more_body or body is not None:
                    streamed = True
                body = message.get("body", b"")
            await send(message)

        try:
            await self.app(routed, receive, send_wrapper)
        finally:
            if "route" in routed:
                scope["route"] = routed["route"]  # HEAD is labelled by the route it matched
            label = getattr(routed.get("route"), "path", "unmatched")
            self._observe(method, label, status, started)
        if method == "GET" and status == 200 and body is not None and not streamed and REUSABLE in routed:
            self._keep(scope, headers, body, label, routed[REUSABLE])

    def _keep(self, scope: Scope, headers: RawHeaders, body: bytes, route: str, reusable: Any) -> None:
        version, sources, page = reusable
        accept_encoding, _, _ = _request_headers(scope)
        key = ("response", scope["path"], scope["query_string"], "gzip" in accept_encoding)
        not_modified_headers = not_modified_response(page).raw_headers
        entry = CachedResponse(version, sources, headers, body, page.etag, not_modified_headers, route)
        self.public.cache.put(key, entry)


BODYLESS_READS = frozenset({"GET", "HEAD"})


def _request_headers(scope: Scope) -> tuple[str, str, bool]:
    """(Accept-Encoding, If-None-Match, whether a body comes) from the raw headers: the first of
    each, as Starlette's `Headers.get` reads them."""
    accept_encoding: str | None = None
    if_none_match: str | None = None
    has_body = False
    for name, value in scope["headers"]:
        if name == b"accept-encoding" and accept_encoding is None:
            accept_encoding = value.decode("latin-1")
        elif name == b"if-none-match" and if_none_match is None:
            if_none_match = value.decode("latin-1")
        elif name in (b"content-length", b"transfer-encoding"):
            has_body = True
    return accept_encoding or "", if_none_match or "", has_body


class Website(FastAPI):
    """FastAPI with `front` (`SiteFront`) outside all of FastAPI's own work -- its telemetry
    checks, error pages, body limits, routing: a replayed page costs a few dictionary lookups."""

    front: Callable[[ASGIApp], ASGIApp] | None = None
    _front_app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
            return
        if self._front_app is None:
            self._front_app = self.front(super().__call__)
        await self._front_app(scope, receive, send)


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("seite", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else None


class PublicSite:
    """What the public routes of one app share: the renderer, the page cache and the site version."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.site = Site(context.settings, "server")
        self.language = context.settings.target_language
        self.cache = PageCache()
        self._version: tuple[int, str, str] | None = None
        self._version_at = 0.0
        self._version_lock = threading.Lock()
        self.assets = {
            path.name: make_page(path.read_bytes(), _asset_type(path), CACHE_ASSET)
            for path in STATIC_DIR.iterdir()
            if path.is_file()
        }
        self.robots = make_page(self.site.robots_txt(), "text/plain; charset=utf-8", "public, max-age=3600")

    def version(self) -> SiteVersion:
        """(publication count, newest `updated_at`, ...), re-read at most once per `VERSION_TTL_S`."""
        now = time.monotonic()
        if self._version is None or now - self._version_at > VERSION_TTL_S:
            with self._version_lock, self.context.database.session() as session:
                self._version = queries.site_version(session, self.language)
                self._version_at = now
        return self._version

    def fresh_version(self) -> SiteVersion | None:
        """The version when it is younger than `VERSION_TTL_S`; None when it must be read again."""
        if self._version is None or time.monotonic() - self._version_at > VERSION_TTL_S:
            return None
        return self._version

    async def current_version(self) -> SiteVersion:
        """`version()`, reading the database in a worker thread, never on the event loop."""
        fresh = self.fresh_version()
        return fresh if fresh is not None else await run_in_threadpool(self.version)

    def not_found(self) -> CachedPage:
        return make_page(self.site.not_found(), cache_control="public, max-age=60", status=404)

    def removed_source(self, source_id: int) -> CachedPage | None:
        """410 Gone for the pages of a removed source (IDs are never reused); None for any other ID."""
        with self.context.database.session() as session:
            removed = session.get(RemovedSource, source_id)
        if removed is None:
            return None
        body = self.site.error("Quelle entfernt", "Diese Quelle wurde entfernt; ihre Seite und ihr Feed enden hier.")
        return make_page(body, cache_control="public, max-age=3600", status=410)

    def rendered(
        self, render: Callable[[Session], str | None], media_type: str = HTML, cache_control: str = CACHE_LIST
    ) -> Callable[[], CachedPage | None]:
        """A builder that renders one page in its own session; None when `render` finds nothing."""

        def build() -> CachedPage | None:
            with self.context.database.session() as session:
                body = render(session)
            return None if body is None else make_page(body, media_type, cache_control)

        return build

    async def cached(
        self,
        request: Request,
        key: tuple[Any, ...],
        build: Callable[[], CachedPage | None],
        reusable: bool = False,
    ) -> Response:
        """The page under `key` at the current version, built on a miss. `reusable`: the answer
        depends on nothing but the path, the query and this entry, so `SiteFront` may replay it."""
        version = await self.current_version()
        full_key = (*key, version)
        page = self.cache.get_page(full_key)
        if page is None:
            page = await run_in_threadpool(build) or self.not_found()
            self.cache.put(full_key, page)
        if reusable:
            request.scope[REUSABLE] = (version, (full_key,), page)
        return respond(request, page)

    def resolve_slug(self, slug: str) -> SlugTarget:
        with self.context.database.session() as session:
            found = queries.find_slug(session, self.language, slug)
            if found is not None and found[1] == PublicationStatus.PUBLISHED:
                return SlugTarget(publication_id=found[0], updated=found[2].isoformat())
            if found is None:
                new_slug = queries.redirect_target(session, self.language, slug)
                if new_slug is not None:
                    return SlugTarget(redirect_to=self.site.urls.article(new_slug))
        return SlugTarget()

    def render_article(self, publication_id: int) -> CachedPage:
        with self.context.database.session() as session:
            body = self.site.article(session, publication_id)
        return make_page(body, cache_control=CACHE_ARTICLE) if body else self.not_found()


def public_site(request: Request) -> PublicSite:
    return cast(PublicSite, request.app.state.public)


async def _public_dependency(request: Request) -> PublicSite:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a hop for an attribute read.
    return public_site(request)


Public = Annotated[PublicSite, Depends(_public_dependency)]


def not_modified(etag: str, if_none_match: str) -> bool:
    """Whether a client that sent `If-None-Match: if_none_match` holds the page with `etag`."""
    return etag in if_none_match or if_none_match.strip() == "*"


def not_modified_response(page: CachedPage) -> Response:
    return Response(status_code=304, headers={"ETag": page.etag, "Cache-Control": page.cache_control})


def respond(request: Request, page: CachedPage) -> Response:
    """`page` with its ETag and caching headers; 304 when the client holds it already."""
    if page.status == 200 and not_modified(page.etag, request.headers.get("if-none-match", "")):
        return not_modified_response(page)
    headers = {"ETag": page.etag, "Cache-Control": page.cache_control}
    return Response(page.body, status_code=page.status, media_type=page.media_type, headers=headers)


# Routes of the site: before the admin area and the API, which come before `article_router`'s
# catch-all slug routes (they would otherwise take /admin/ as an article).
site_router = APIRouter()
article_router = APIRouter()
XML = "application/xml; charset=utf-8"


@site_router.get("/")
async def home(request: Request, public: Public) -> Response:
    page = _page_number(request)
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
    page = _page_number(request) or 1
    filters, errors = ranking.Filters.from_params(request.query_params)

    def build() -> CachedPage:
        with public.context.database.session() as session:
            body = public.site.search_page(session, query, page, filters, errors)
        return make_page(body, cache_control="public, max-age=60")

    return respond(request, await run_in_threadpool(build))


@site_router.get("/quelle/{source_id}/")
async def source_page(request: Request, public: Public, source_id: RowId) -> Response:
    page = _page_number(request)
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
    if _SLUG_RE.fullmatch(slug):
        return RedirectResponse(f"/{slug}/", status_code=301)
    return respond(request, public.not_found())


@article_router.get("/{slug}/")
async def article(request: Request, public: Public, slug: str) -> Response:
    if not _SLUG_RE.fullmatch(slug):
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


async def too_many_fields(request: Request, error: Exception) -> Response:
    assert isinstance(error, TooManyFields)  # registered for this exception only
    return Response(
        f"Zu viele Formularfelder (höchstens {error.limit.max_fields}).",
        status_code=413,
        media_type="text/plain",
        headers=SECURITY_HEADERS if request.url.path.startswith("/admin") else None,
    )


async def german_error(request: Request, error: Exception) -> Response:
    # Unknown URLs (no route) and malformed ones (/quelle/abc/, an id past the database's
    # range) get the site's German 404 page, never FastAPI's JSON or a Pydantic message.
    status = error.status_code if isinstance(error, StarletteHTTPException) else 404
    if request.url.path.startswith(API_PREFIX + "/"):  # a path the API's mount did not match ("\n" in it)
        return JSONResponse({"detail": "Not Found"}, status_code=404, headers={"Cache-Control": "no-store"})
    if status != 404:
        # Every other status a German page too ("Methode nicht erlaubt", not "Method Not Allowed"),
        # with the exception's headers (Allow, Retry-After, WWW-Authenticate).
        detail, headers = str(getattr(error, "detail", "")), dict(getattr(error, "headers", None) or {})
        if request.url.path.startswith("/admin"):
            headers = {**SECURITY_HEADERS, **headers}
        headers.setdefault("Cache-Control", "no-store")
        body = public_site(request).site.http_error(status, detail)
        return Response(body, status_code=status, media_type=HTML, headers=headers)
    page = public_site(request).not_found()
    if request.url.path.startswith("/admin"):
        return Response(page.body, status_code=404, media_type=HTML, headers={"Cache-Control": "no-store"})
    return respond(request, page)


async def server_error(request: Request, error: Exception) -> Response:
    """An unexpected failure: the German 500 page (the error itself goes to the log, not the reader)."""
    body = public_site(request).site.http_error(500)
    return Response(body, status_code=500, media_type=HTML, headers={"Cache-Control": "no-store"})


def _metrics_registry(context: AppContext) -> tuple[CollectorRegistry, Counter, Histogram]:
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
    return registry, requests_total, latency


def app_from_environment() -> FastAPI:
    """`create_app` for the data directory in PRESSESCHAU_DATA: the factory each process of
    `presseschau serve --workers N` calls, since a live app object cannot cross a process fork."""
    return create_app(AppContext.for_data_dir(os.environ.get("PRESSESCHAU_DATA")))


def create_app(context: AppContext) -> FastAPI:
    """The website of `context`'s database: the site, the admin area and the JSON API."""
    settings = context.settings
    app = Website(title=settings.site_title, version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    public = PublicSite(context)
    app.state.context = context
    app.state.public = public
    app.state.site = public.site
    app.state.page_cache = public.cache
    app.state.admin_area = admin.AdminArea(context)
    registry, requests_total, latency = _metrics_registry(context)
    app.state.metrics_registry = registry
    # Innermost: pages, CSS and feeds go out compressed to clients that accept gzip (on the demo
    # set the RSS feed goes from 54.6 to 19.4 kB, an article page from 12.6 to 4.8 kB). Small
    # bodies are not worth it.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    signer = app.state.admin_area.signer
    # Before anything reads a body: the admin area's cookie check and every route's size limit.
    app.add_middleware(
        BodyLimitMiddleware,
        has_session=lambda cookie: signer.read_session(cookie) is not None,
        session_cookie=admin.SESSION_COOKIE,
        login_cookie=admin.LOGIN_COOKIE,
        headers=SECURITY_HEADERS,
    )
    app.add_exception_handler(TooManyFields, too_many_fields)
    # Outermost, outside FastAPI's own layers: metrics see HEAD and replayed pages.
    app.front = lambda stack: SiteFront(stack, public, requests_total, latency)
    app.add_exception_handler(StarletteHTTPException, german_error)
    app.add_exception_handler(RequestValidationError, german_error)
    app.add_exception_handler(Exception, server_error)
    app.include_router(site_router)
    from presseschau.web.press_review import router as press_review_router  # imports this module

    app.include_router(press_review_router)
    from presseschau.web.corrections import router as corrections_router  # imports this module

    app.include_router(corrections_router)
    # Before the catch-all slug routes, which would otherwise take /admin/ as an article.
    app.include_router(admin.router)
    app.mount(API_PREFIX, api_app(context))  # before the slug routes; its own OpenAPI docs
    app.include_router(article_router)
    return app


def _asset_type(path: Path) -> str:
    types = {
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml",
        ".ico": "image/x-icon",
    }
    return types.get(path.suffix, "application/octet-stream")
