"""The page cache's fast path: `SiteFront` replays a cached page's response before routing, and
what it sends is byte for byte what the routed path sent (headers after compression, body, 304,
HEAD), counted in the metrics, and never older than the site version."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from presseschau.app import AppContext
from presseschau.publish import service
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.publish.factories import Published, make_site

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


@pytest.fixture
def app(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)  # every request reads the site version
    return create_app(context)


@pytest.fixture
def site(context: AppContext) -> list[Published]:
    with context.database.session() as session:
        return make_site(session, context.settings, 3)


def call(app: FastAPI, path: str, method: str = "GET", **headers: str) -> Answer:
    """One request straight through the ASGI app: the raw status, headers and body it sends."""
    raw_path, _, query = path.partition("?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(name.replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start, *bodies = sent
    body = b"".join(message.get("body", b"") for message in bodies)
    return start["status"], list(start["headers"]), body


def _stop_routing(app: FastAPI) -> None:
    """From now on every routed request is 404: a 200 afterwards can only be a replay."""
    app.router.routes.clear()


def test_replay_is_byte_for_byte_the_routed_answer(app: FastAPI, site: list[Published]) -> None:
    paths = [f"/{site[1].slug}/", "/", "/?seite=1", "/feed.xml", "/sitemap.xml", "/archiv/"]
    encodings = ["gzip, deflate", "identity"]
    routed = {(path, encoding): call(app, path, accept_encoding=encoding) for path in paths for encoding in encodings}
    assert all(answer[0] == 200 for answer in routed.values())
    assert (b"content-encoding", b"gzip") in routed[(f"/{site[1].slug}/", "gzip, deflate")][1]
    _stop_routing(app)
    for (path, encoding), answer in routed.items():
        assert call(app, path, accept_encoding=encoding) == answer, (path, encoding)
    assert call(app, f"/{site[0].slug}/")[0] == 404  # never asked for: routed, and the routes are gone


def test_replayed_head_and_not_modified_match_the_routed_ones(app: FastAPI, site: list[Published]) -> None:
    path = f"/{site[0].slug}/"
    status, headers, body = call(app, path, accept_encoding="gzip")
    etag = dict(headers)[b"etag"].decode()
    # Routed: no response is kept for a HEAD, a 304 or the identity variant.
    routed_head = call(app, path, "HEAD", accept_encoding="gzip")
    routed_304 = call(app, path, accept_encoding="identity", if_none_match=etag)
    assert routed_head == (200, headers, b"") and routed_304[0] == 304
    _stop_routing(app)
    assert call(app, path, "HEAD", accept_encoding="gzip") == routed_head
    assert call(app, path, accept_encoding="gzip", if_none_match=etag) == routed_304
    assert call(app, path, accept_encoding="gzip", if_none_match="*") == routed_304
    assert call(app, path, accept_encoding="gzip", if_none_match='"other"') == (status, headers, body)


def test_replays_are_counted_like_routed_requests(app: FastAPI, site: list[Published]) -> None:
    path = f"/{site[0].slug}/"
    for _ in range(3):
        assert call(app, path)[0] == 200
    cache = app.state.page_cache
    hits = cache.hits
    assert call(app, path)[0] == 200
    assert cache.hits == hits + 2  # the slug lookup and the page, as the routed path counts them
    metrics = call(app, "/metrics")[2].decode()
    assert 'presseschau_http_requests_total{method="GET",route="/{slug}/",status="200"} 4.0' in metrics


def test_no_replay_once_the_site_changes(context: AppContext, app: FastAPI, site: list[Published]) -> None:
    slug = site[0].slug
    assert slug is not None
    path = f"/{slug}/"
    assert call(app, path)[0] == 200
    assert call(app, "/")[2].count(slug.encode()) >= 1
    with context.database.session() as session:
        service.unpublish(session, context.settings, site[0].article_id)
    assert call(app, path)[0] == 404
    assert slug.encode() not in call(app, "/")[2]


def test_no_replay_after_the_cache_lets_go_of_the_page(app: FastAPI, site: list[Published]) -> None:
    path = f"/{site[0].slug}/"
    assert call(app, path)[0] == 200
    app.state.page_cache.clear()
    _stop_routing(app)
    assert call(app, path)[0] == 404


def test_pages_that_depend_on_more_than_the_version_are_not_replayed(app: FastAPI, site: list[Published]) -> None:
    # A source's page asks whether the source was removed, the archive's months the clock's
    # Presseschau days, the news sitemap the clock: routed every time.
    for path in ("/quelle/1/", "/news-sitemap.xml", "/suche?q=Ukraine"):
        call(app, path)
    assert not [key for key in app.state.page_cache._pages if key[0] == "response"]


def test_a_database_failure_during_replay_gets_the_german_error_page(app: FastAPI, site: list[Published]) -> None:
    path = f"/{site[0].slug}/"
    assert call(app, path)[0] == 200

    def broken() -> None:
        raise RuntimeError("database is gone")

    app.state.public.version = broken
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 500
    assert "text/html" in response.headers["content-type"] and "database is gone" not in response.text
