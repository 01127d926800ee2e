"""The JSON API under hostile numbers and bodies (issue 22, items 1 and 16): out-of-range IDs and
page numbers, JSON with 1e999, NaN, Infinity, lone surrogates or deep nesting, and an over-long
chunked body. Every answer is a 404, 413 or 422 with a JSON `detail`, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.web.app import create_app
from tests.web.test_api import API, token

HUGE = "99999999999999999999"


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), follow_redirects=False, raise_server_exceptions=False) as test_client:
        yield test_client


def test_out_of_range_ids_and_numbers_are_422_and_unknown_ids_404(client: TestClient, context: AppContext) -> None:
    reader = token(context, "reader")
    for path in ("articles", "translations", "publications", "sources"):
        too_large = client.get(f"{API}/{path}/{HUGE}", headers=reader)
        assert too_large.status_code == 422 and "detail" in too_large.json(), path
        assert client.get(f"{API}/{path}/123456", headers=reader).status_code == 404, path
        for query in (f"source_id={HUGE}", "page=9223372036854775807", "per_page=10000000000000000000000"):
            answer = client.get(f"{API}/{path}?{query}", headers=reader)
            assert answer.status_code == (422 if path != "sources" or "source_id" not in query else 200), (path, query)
    writer = token(context, "admin", role="admin", scope="write")
    for method, path in (
        ("POST", f"articles/{HUGE}/retranslate"),
        ("POST", f"articles/{HUGE}/release"),
        ("PATCH", f"sources/{HUGE}"),
        ("POST", f"sources/{HUGE}/pause"),
        ("POST", f"sources/{HUGE}/resume"),
        ("DELETE", f"sources/{HUGE}"),
        ("POST", f"sources/{HUGE}/refilter"),
        ("POST", f"sources/{HUGE}/fetch"),
    ):
        answer = client.request(method, f"{API}/{path}", headers=writer, json={} if method == "PATCH" else None)
        assert answer.status_code == 422 and "detail" in answer.json(), (method, path)


@pytest.mark.parametrize(
    "body",
    [
        '{"url": "https://a.example/feed", "poll_interval_s": 1e999}',
        '{"url": "https://a.example/feed", "poll_interval_s": NaN}',
        '{"url": "https://a.example/feed", "poll_interval_s": -Infinity}',
        '{"url": "https://a.example/feed", "poll_interval_s": 99999999999999999999999}',
        '{"url": "https://a.example/feed", "name": "\\ud800"}',
        '{"url": "https://a.example/feed", "filters": {"min_words": 1e999}}',
        '{"url": "https://a.example/feed", "glossary": {"\\udfff": "x"}}',
        '{"url": "https://a.example/feed", "tags": ' + "[" * 20_000 + "]" * 20_000 + "}",
        b'{"url": "https://a.example/\xff"}'.decode("latin-1"),
    ],
)
def test_hostile_json_bodies_are_422(client: TestClient, context: AppContext, body: str) -> None:
    writer = token(context, "admin", role="admin", scope="write")
    headers = {**writer, "Content-Type": "application/json"}
    for method, path in (("POST", "sources"), ("PATCH", "sources/1")):
        answer = client.request(method, f"{API}/{path}", headers=headers, content=body.encode("latin-1"))
        assert answer.status_code == 422, (method, body[:80], answer.status_code, answer.text[:200])
        assert "detail" in answer.json()


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, context: AppContext) -> None:
    writer = token(context, "admin", role="admin", scope="write")

    def chunks() -> Iterator[bytes]:
        yield b'{"url": "https://a.example/feed", "name": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    answer = client.post(f"{API}/sources", headers={**writer, "Content-Type": "application/json"}, content=chunks())
    assert answer.status_code == 413


def test_a_path_the_api_mount_cannot_match_is_a_json_404(client: TestClient, context: AppContext) -> None:
    """A line break in the ID: the mount's pattern does not match it, and the site's HTML 404 answered."""
    writer = token(context, "admin", role="admin", scope="write")
    answer = client.post(f"{API}/sources/%0A0/refilter", headers=writer)
    assert answer.status_code == 404 and answer.json() == {"detail": "Not Found"}
