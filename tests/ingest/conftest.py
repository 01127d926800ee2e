"""A loopback news site (pytest-httpserver) with feeds, sitemaps, articles and broken pages."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from presseschau.app import AppContext

TESTDATA = Path(__file__).parent / "testdata"
FEED_ETAG = '"rss-v1"'
ATOM_LAST_MODIFIED = "Sun, 21 Apr 2024 08:00:00 GMT"
ROBOTS = "User-agent: *\nDisallow: /private/\n\nUser-agent: badbot\nDisallow: /\n"


def fixture_text(name: str, base: str = "") -> str:
    return (TESTDATA / name).read_text(encoding="utf-8").replace("{{BASE}}", base)


@pytest.fixture
def ingest_context(data_dir: Path) -> Iterator[AppContext]:
    """Loopback allowed, no politeness delay, short timeout and a small size limit for the tests."""
    ctx = AppContext.for_data_dir(
        data_dir,
        allow_private_addresses=True,
        politeness_delay_s=0.0,
        http_timeout_s=0.5,
        http_max_bytes=300_000,
        backoff_base_s=60.0,
        backoff_max_s=3600.0,
        poll_jitter_fraction=0.1,
        item_retry_base_s=0.0,  # failed items are retried at the next poll (tests of retry limits)
    )
    yield ctx
    ctx.close()


@dataclass
class NewsSite:
    server: HTTPServer
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    def requests_to(self, path: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == path]

    def serve(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8") -> None:
        self.server.expect_request(path).respond_with_data(body, content_type=content_type)

    def serve_handler(self, path: str, handler: Callable[[Request], Response]) -> None:
        self.server.expect_request(path).respond_with_handler(handler)


def _conditional(
    body: str, content_type: str, etag: str | None = None, last_modified: str | None = None
) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        if etag and request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        if last_modified and request.headers.get("If-Modified-Since") == last_modified:
            return Response(status=304, headers={"Last-Modified": last_modified})
        headers = {}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        return Response(body, content_type=content_type, headers=headers)

    return handler


def _slow(request: Request) -> Response:
    time.sleep(1.5)
    return Response("<html><body><p>too late</p></body></html>", content_type="text/html")


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    # Threaded, so a deliberately slow handler does not hold up the requests after it.
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def news_site(threaded_server: HTTPServer) -> NewsSite:
    httpserver = threaded_server
    site = NewsSite(httpserver, httpserver.url_for("").rstrip("/"))
    base = site.base
    site.serve("/robots.txt", ROBOTS, "text/plain")
    site.serve("/news/harbour", fixture_text("article-harbour.html"))
    site.serve("/news/orchard", fixture_text("article-orchard.html"))
    site.serve("/news/library", fixture_text("article-library.html"))
    site.serve("/news/german", fixture_text("article-german.html"))
    site.serve("/sections", fixture_text("index-page.html"))
    site.serve("/private/memo", fixture_text("article-orchard.html"))
    site.serve_handler("/rss.xml", _conditional(fixture_text("rss.xml", base), "application/rss+xml", etag=FEED_ETAG))
    site.serve_handler(
        "/atom.xml",
        _conditional(fixture_text("atom.xml", base), "application/atom+xml", last_modified=ATOM_LAST_MODIFIED),
    )
    site.serve("/feed.json", fixture_text("feed.json", base), "application/feed+json")
    site.serve("/sitemap-index.xml", fixture_text("sitemap-index.xml", base), "application/xml")
    site.serve("/sitemap-news.xml", fixture_text("sitemap-news.xml", base), "application/xml")
    site.serve(
        "/sitemap-pages.xml.gz", gzip.compress(fixture_text("sitemap-pages.xml", base).encode()), "application/gzip"
    )
    site.serve("/malformed.xml", fixture_text("malformed.xml"), "application/rss+xml")
    site.server.expect_request("/broken.xml").respond_with_data("Internal Server Error", status=500)
    site.server.expect_request("/news/broken").respond_with_data("Internal Server Error", status=500)
    site.serve_handler("/news/slow", _slow)
    huge = "<html><body>" + "<p>" + "filler words " * 40_000 + "</p></body></html>"
    site.serve("/news/huge", huge)
    site.serve("/news/binary", bytes(range(256)) * 64, "text/html")
    # A good UTF-8 page with two stray Windows-1252 bytes: must still be imported.
    damaged = fixture_text("article-library.html").encode("utf-8").replace(b"nine o'clock", b"nine o\x92clock\xff")
    site.serve("/news/damaged", damaged)
    return site
