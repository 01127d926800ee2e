"""The JSON API over HTTP: tokens (wrong, revoked, read-only, editor, admin), reads, writes, rate limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.tokens import create_token, revoke_token
from presseschau.editorial.users import add_user
from presseschau.store.models import ApiToken, Source, Translation
from presseschau.web.app import create_app
from tests.ingest.conftest import NewsSite, news_site, threaded_server  # noqa: F401 -- fixtures
from tests.publish.factories import make_article, make_site, make_source

API = "/api/v1"


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def token(context: AppContext, name: str, role: str = "editor", scope: str = "read") -> dict[str, str]:
    with context.database.session() as session:
        _, secret = create_token(session, name, role, scope)
    return {"Authorization": f"Bearer {secret}"}


def source_names(context: AppContext) -> list[str]:
    with context.database.session() as session:
        return [s.name for s in session.scalars(select(Source).order_by(Source.id))]


def test_openapi_schema_and_docs(client: TestClient) -> None:
    schema = client.get(f"{API}/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/articles", "/translations", "/publications", "/sources/{source_id}/fetch"):
        assert path in paths
    assert "HTTPBearer" in schema.json()["components"]["securitySchemes"]
    docs = client.get(f"{API}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_missing_wrong_and_revoked_tokens_are_refused(client: TestClient, context: AppContext) -> None:
    valid = token(context, "reader")
    assert client.get(f"{API}/articles", headers=valid).status_code == 200
    for headers in (
        {},
        {"Authorization": "Bearer psk_not-a-real-token"},
        {"Authorization": "Basic YW5uYTpzZWNyZXQ="},
        {"Authorization": valid["Authorization"] + "x"},
    ):
        response = client.get(f"{API}/articles", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {
            "detail": "missing, unknown or revoked API token",
            "message": "API-Token fehlt, ist unbekannt oder widerrufen",
            "code": "api_token_missing",
            "params": {},
        }
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with context.database.session() as session:
        revoke_token(session, "reader")
    assert client.get(f"{API}/articles", headers=valid).status_code == 401


def test_an_admin_session_cookie_is_no_api_credential(client: TestClient, context: AppContext) -> None:
    with context.database.session() as session:
        add_user(session, "anna", "korrekt pferd batterie", role="admin")
    page = client.get("/admin/anmelden")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    login = client.post(
        "/admin/anmelden", data={"name": "anna", "passwort": "korrekt pferd batterie", "csrf_token": csrf}
    )
    assert login.status_code == 303 and client.cookies
    response = client.post(f"{API}/sources", json={"url": "https://cookie.example/feed"})
    assert response.status_code == 401
    assert source_names(context) == []


def test_a_read_only_token_reads_but_changes_nothing(client: TestClient, context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, "Guardian")
        article = make_article(session, context.settings, source=source)
    headers = token(context, "dashboard", role="admin", scope="read")
    assert client.get(f"{API}/sources/{source.id}", headers=headers).json()["name"] == "Guardian"
    attempts = [
        ("post", f"{API}/sources", {"url": "https://new.example/feed"}),
        ("patch", f"{API}/sources/{source.id}", {"name": "Renamed"}),
        ("post", f"{API}/sources/{source.id}/pause", None),
        ("delete", f"{API}/sources/{source.id}", None),
        ("post", f"{API}/sources/{source.id}/fetch", None),
        ("post", f"{API}/articles/{article.article_id}/retranslate", None),
        ("post", f"{API}/articles/{article.article_id}/release", None),
    ]
    for method, url, body in attempts:
        response = client.request(method, url, headers=headers, json=body)
        assert response.status_code == 403, (method, url)
        assert response.json() == {
            "detail": "token 'dashboard' is read-only",
            "message": "Token „dashboard“ darf nur lesen",
            "code": "api_token_read_only",
            "params": {"name": "dashboard"},
        }
    assert source_names(context) == ["Guardian"]
    with context.database.session() as session:
        assert session.get_one(Translation, article.translation_id).status == "done"


def test_an_editor_token_retranslates_but_cannot_change_sources(client: TestClient, context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, "Guardian")
        article = make_article(session, context.settings, source=source)
    headers = token(context, "newsroom", role="editor", scope="write")
    response = client.patch(f"{API}/sources/{source.id}", headers=headers, json={"name": "Renamed"})
    assert response.status_code == 403 and "changing sources needs admin" in response.json()["detail"]
    response = client.post(f"{API}/articles/{article.article_id}/retranslate", headers=headers)
    assert response.status_code == 202 and response.json()["status"] == "queued"
    # The publication stays online until the new translation is done.
    publication = client.get(f"{API}/publications/{article.publication_id}", headers=headers).json()
    assert publication["status"] == "published" and publication["url"].endswith(f"/{article.slug}/")
    missing = client.post(f"{API}/articles/999/retranslate", headers=headers)
    # The English detail as before, the German message and the catalogue's code and parameters.
    assert missing.status_code == 404 and missing.json() == {
        "detail": "article 999: no such article",
        "message": "Artikel 999 gibt es nicht.",
        "code": "article_not_found",
        "params": {"article_id": 999},
    }


def test_an_admin_token_manages_sources_through_the_shared_validation(client: TestClient, context: AppContext) -> None:
    headers = token(context, "ops", role="admin", scope="write")
    created = client.post(
        f"{API}/sources",
        headers=headers,
        json={
            "url": "https://paper.example/rss.xml",
            "name": "Paper",
            "poll_interval_s": 600,
            "tags": ["News/Europe"],
            "filters": {"include": ["Ukraine"], "exclude": ["title:Sport"], "min_words": 100},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    source_id = body["id"]
    assert body["filters"] == {
        "include": ["Ukraine"],
        "exclude": ["title:Sport"],
        "min_words": 100,
        "target_language": "skip",
    }
    assert body["tags"] == ["News/Europe"] and body["enabled"] is True

    refused = [
        ({"url": "https://paper.example/rss.xml"}, 409, "already registered as source"),
        ({"url": "ftp://paper.example/"}, 422, "scheme 'ftp' not allowed"),
        ({"url": "https://b.example/", "poll_interval_s": 30}, 422, "poll interval 30 s: must be between 60 s"),
        ({"url": "https://b.example/", "engine": "babelfish"}, 422, "unknown engine 'babelfish'"),
        ({"url": "https://b.example/", "filters": {"include": ["/(a/"]}}, 422, "'/(a/': invalid regular expression"),
        ({"url": "https://b.example/", "tags": ["a,b"]}, 422, "no commas"),
    ]
    for payload, status, message in refused:
        response = client.post(f"{API}/sources", headers=headers, json=payload)
        assert response.status_code == status, payload
        assert message in response.json()["detail"], response.json()

    changed = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"publish_policy": "review"})
    assert changed.status_code == 200
    assert (changed.json()["publish_policy"], changed.json()["filters"]["include"]) == ("review", ["Ukraine"])
    cleared = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"filters": None, "engine": None})
    assert cleared.json()["filters"]["include"] == [] and cleared.json()["name"] == "Paper"
    assert client.post(f"{API}/sources/{source_id}/pause", headers=headers).json()["enabled"] is False
    listed = client.get(f"{API}/sources", headers=headers, params={"enabled": "false", "tag": "News/Europe"}).json()
    assert [s["id"] for s in listed["items"]] == [source_id]
    assert client.post(f"{API}/sources/{source_id}/resume", headers=headers).json()["enabled"] is True
    assert client.patch(f"{API}/sources/{source_id}", headers=headers, json={"url": "x"}).status_code == 200  # ignored
    assert client.delete(f"{API}/sources/{source_id}", headers=headers).status_code == 204
    assert client.delete(f"{API}/sources/{source_id}", headers=headers).status_code == 404
    assert client.get(f"{API}/sources/{source_id}", headers=headers).status_code == 404


def test_reading_is_paginated_and_filtered(client: TestClient, context: AppContext) -> None:
    with context.database.session() as session:
        made = make_site(session, context.settings, count=5)
        sources = sorted({s.id for s in session.scalars(select(Source))})
    headers = token(context, "reader")
    first = client.get(f"{API}/articles", headers=headers, params={"per_page": 2}).json()
    second = client.get(f"{API}/articles", headers=headers, params={"per_page": 2, "page": 2}).json()
    assert (first["total"], first["page"], len(first["items"])) == (5, 1, 2)
    assert [a["id"] for a in first["items"] + second["items"]] == sorted((m.article_id for m in made), reverse=True)[:4]
    by_source = client.get(f"{API}/articles", headers=headers, params={"source_id": sources[0]}).json()
    assert by_source["total"] == 3
    dated = client.get(
        f"{API}/articles",
        headers=headers,
        params={"since": "2024-02-11T00:00:00Z", "until": datetime(2024, 2, 13, tzinfo=UTC).isoformat()},
    ).json()
    assert [a["published_at"][:10] for a in dated["items"]] == ["2024-02-12", "2024-02-11"]
    detail = client.get(f"{API}/articles/{made[0].article_id}", headers=headers).json()
    assert detail["paragraphs"] and detail["status"] == "ok"

    translations = client.get(f"{API}/translations", headers=headers, params={"status": "done"}).json()
    assert translations["total"] == 5
    one = client.get(f"{API}/translations/{made[0].translation_id}", headers=headers).json()
    assert one["paragraphs"][0]["kind"] == "p" and one["language"] == "de"
    publications = client.get(
        f"{API}/publications", headers=headers, params={"source_id": sources[1], "status": "published"}
    ).json()
    assert publications["total"] == 2 and all(p["url"].startswith("http") for p in publications["items"])
    assert client.get(f"{API}/articles", headers=headers, params={"per_page": 1000}).status_code == 422
    assert client.get(f"{API}/articles/424242", headers=headers).status_code == 404


def test_fetch_filter_and_release_through_the_api(
    client: TestClient,
    context: AppContext,
    news_site: NewsSite,  # noqa: F811 -- the fixture imported above
) -> None:
    admin = token(context, "ops", role="admin", scope="write")
    editor = token(context, "desk", role="editor", scope="write")
    source = client.post(
        f"{API}/sources",
        headers=admin,
        json={"url": news_site.url("/rss.xml"), "filters": {"exclude": ["title:sea wall"]}},
    ).json()
    fetched = client.post(f"{API}/sources/{source['id']}/fetch", headers=admin)
    assert fetched.status_code == 200, fetched.text
    assert (fetched.json()["articles_new"], fetched.json()["filtered"], fetched.json()["failures"]) == (1, 1, [])
    held = client.get(f"{API}/articles", headers=editor, params={"status": "filtered"}).json()["items"]
    assert len(held) == 1 and held[0]["filter_reason"] == "exclude rule 'title:sea wall' matched the title"
    released = client.post(f"{API}/articles/{held[0]['id']}/release", headers=editor)
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["filter_released_by"]) == ("ok", "token:desk")
    queued = client.get(f"{API}/translations", headers=editor, params={"status": "queued"}).json()
    assert held[0]["id"] in {t["article_id"] for t in queued["items"]}
    again = client.post(f"{API}/articles/{held[0]['id']}/release", headers=editor)
    assert again.status_code == 422 and "is not held by a filter" in again.json()["detail"]

    # New rules touch nothing stored until a refilter; released articles stay released.
    client.patch(f"{API}/sources/{source['id']}", headers=admin, json={"filters": {"include": ["tram"]}})
    assert client.get(f"{API}/articles", headers=editor, params={"status": "filtered"}).json()["total"] == 0
    assert client.post(f"{API}/sources/{source['id']}/refilter", headers=editor).status_code == 403
    refiltered = client.post(f"{API}/sources/{source['id']}/refilter", headers=admin)
    assert refiltered.json() == {"held": 1, "released": 0, "unchanged": 1, "kept_translated": 0}  # cider held


def test_requests_are_rate_limited_per_token(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir, api_rate_limit_per_minute=3)
    try:
        busy, other = token(context, "busy"), token(context, "other")
        with TestClient(create_app(context)) as client:
            statuses = [client.get(f"{API}/sources", headers=busy).status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = client.get(f"{API}/sources", headers=busy)
            assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert client.get(f"{API}/sources", headers=other).status_code == 200  # its own budget
            wrong = {"Authorization": "Bearer psk_guess"}
            assert [client.get(f"{API}/sources", headers=wrong).status_code for _ in range(4)] == [401, 401, 401, 429]
        with context.database.session() as session:
            used = session.scalars(select(ApiToken).where(ApiToken.name == "busy")).one()
            assert used.last_used_at is not None and used.token_hash != ""
    finally:
        context.close()
