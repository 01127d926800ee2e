"""Body limits before the body is read: an anonymous POST to the admin area reads nothing, an
oversized body is refused with 413 by its Content-Length or as soon as it passes the limit, and a
form with too many fields is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.web import public as web_app
from presseschau.web.admin import LOGIN_COOKIE, SESSION_COOKIE
from presseschau.web.app import create_app
from presseschau.web.limits import ADMIN_LIMIT, LOGIN_LIMIT
from tests.web.test_admin import PASSWORD, _csrf, login

CHUNK = 64 * 1024
CHUNKS = 128  # 8 MiB: far above every limit, small enough for a test that reads it all


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def _form_chunks(count: int = CHUNKS) -> Iterator[bytes]:
    for n in range(count):
        yield f"f{n}=".encode() + b"x" * (CHUNK - 16) + b"&"


def _post(
    client: TestClient,
    path: str,
    chunks: Iterator[bytes],
    cookies: dict[str, str] | None = None,
    content_length: int | None = None,
) -> tuple[int, int]:
    """POST `chunks` straight to the ASGI app; returns the status and how many chunks it read."""
    consumed = 0

    async def receive() -> Message:
        nonlocal consumed
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    statuses: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))

    headers = [(b"host", b"testserver"), (b"content-type", b"application/x-www-form-urlencoded")]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
    }
    assert isinstance(client.app, FastAPI)
    asyncio.run(client.app(scope, receive, send))
    return statuses[0], consumed


def test_anonymous_admin_posts_are_refused_before_the_body_is_read(client: TestClient) -> None:
    for path in ("/admin/abmelden", "/admin/quellen", "/admin/uebersetzung/1"):
        status, consumed = _post(client, path, _form_chunks())
        assert (status, consumed) == (403, 0), path
    # A forged session cookie is no session either.
    status, consumed = _post(client, "/admin/abmelden", _form_chunks(), cookies={SESSION_COOKIE: "eyJ1IjoxfQ.AAAA"})
    assert (status, consumed) == (403, 0)
    # The login form needs its pre-session cookie (its CSRF token is bound to it).
    assert _post(client, "/admin/anmelden", _form_chunks()) == (403, 0)


def test_oversized_bodies_are_refused_with_413(client: TestClient) -> None:
    login(client)
    session = {SESSION_COOKIE: client.cookies.get(SESSION_COOKIE, path="/admin") or ""}
    # Declared too large: refused without reading.
    assert _post(client, "/admin/quellen", _form_chunks(), session, content_length=CHUNK * CHUNKS) == (413, 0)
    # Sent without a length: refused as soon as the bytes read pass the limit.
    status, consumed = _post(client, "/admin/quellen", _form_chunks(), session)
    assert status == 413 and consumed <= ADMIN_LIMIT.max_bytes // CHUNK + 1
    status, consumed = _post(client, "/admin/anmelden", _form_chunks(), {LOGIN_COOKIE: "x"})
    assert status == 413 and consumed <= LOGIN_LIMIT.max_bytes // CHUNK + 1
    # The public site takes no large bodies either.
    assert _post(client, "/suche", _form_chunks(), content_length=CHUNK * CHUNKS)[0] == 413


def test_a_form_with_too_many_fields_is_refused(client: TestClient) -> None:
    page = client.get("/admin/anmelden")
    fields = {"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
    fields.update({f"extra{n}": "1" for n in range(LOGIN_LIMIT.max_fields)})
    assert client.post("/admin/anmelden", data=fields).status_code == 413
    # Within the limit the same login works.
    assert client.post("/admin/anmelden", data=dict(list(fields.items())[:3])).status_code == 303


def test_only_the_opml_upload_takes_a_file_and_as_much_as_the_importer() -> None:
    from presseschau.ingest.opml import MAX_OPML_BYTES
    from presseschau.web.limits import limit_for

    opml = limit_for("/admin/opml")
    assert opml.max_files == 1 and opml.max_bytes > MAX_OPML_BYTES
    for path in ("/admin/quellen", "/admin/anmelden", "/admin/uebersetzung/1", "/suche"):
        assert limit_for(path).max_files == 0
