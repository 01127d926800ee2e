"""The self-hosting details of the web app: API docs without a network, /favicon.ico, the metrics token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.web.app import create_app
from presseschau.web.offline import metrics_allowed


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context)) as test_client:
        yield test_client


def test_api_docs_load_every_script_and_style_from_this_server(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert urls, page.text
    # Nothing from another host (FastAPI's default page loads Swagger UI from a CDN).
    assert all(url.startswith("/api/v1/") for url in urls), urls
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.content, url
    assert "SwaggerUIBundle" in client.get("/api/v1/docs-assets/swagger-ui-bundle.js").text
    assert client.get("/api/v1/openapi.json").json()["info"]["title"].endswith("API")


def test_favicon_ico_is_an_icon(client: TestClient) -> None:
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/x-icon"
    assert answer.content[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)


def test_metrics_are_open_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_metrics_token_guards_metrics(data_dir: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSESCHAU_METRICS_TOKEN", "s3cret-token")
    context = AppContext.for_data_dir(str(data_dir))
    try:
        with TestClient(create_app(context)) as client:
            refused = client.get("/metrics")
            assert refused.status_code == 401
            assert "presseschau_" not in refused.text
            assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
            allowed = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
            assert allowed.status_code == 200
            assert "presseschau_http_requests_total" in allowed.text
            assert client.get("/healthz").status_code == 200  # health stays open for probes
    finally:
        context.close()


@pytest.mark.parametrize(
    ("token", "header", "allowed"),
    [
        (None, None, True),
        ("t", None, False),
        ("t", "Bearer t", True),
        ("t", "bearer t", True),
        ("t", "Basic t", False),
        ("t", "Bearer t2", False),
        ("t", "Bearer \u202et", False),
    ],
)
def test_metrics_allowed(token: str | None, header: str | None, allowed: bool) -> None:
    assert metrics_allowed(token, header) is allowed
