"""The website's own ASGI layers: `SiteFront` (request metrics, HEAD as GET, the page cache's
replay), placed by `Website` outside all of FastAPI's layers, and the metrics registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presseschau import reporting
from presseschau.app import AppContext
from presseschau.web.cache import (
    REUSABLE,
    CachedResponse,
    RawHeaders,
    Reusable,
    not_modified,
    not_modified_response,
)
from presseschau.web.public import PublicSite


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
        version = self.public.fresh_version()
        if version is None:
            try:
                version = await self.public.current_version()
            except Exception:  # the database is unwell: the routed path answers with the German error page
                return None
        if entry.version != version or not cache.holds_all(entry.sources):
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

    def _keep(self, scope: Scope, headers: RawHeaders, body: bytes, route: str, reusable: Reusable) -> None:
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
    for name, value in scope.get("headers", ()):
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


def metrics_registry(context: AppContext) -> tuple[CollectorRegistry, Counter, Histogram]:
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
