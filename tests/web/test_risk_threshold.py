"""A source's risk threshold for `auto-unless-risky`, set in the admin's Quellen page and in the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.store.models import Source
from tests.web.test_admin_sources import PASSWORD, login
from tests.web.test_api import API, token


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    from presseschau.web.app import create_app

    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def stored_thresholds(context: AppContext) -> list[float | None]:
    with context.database.session() as session:
        return [source.risk_threshold for source in session.scalars(select(Source).order_by(Source.id))]


def test_the_api_sets_shows_and_clears_the_risk_threshold(context: AppContext, client: TestClient) -> None:
    headers = token(context, "admin-token", role="admin", scope="write")
    created = client.post(
        f"{API}/sources",
        headers=headers,
        json={"url": "https://paper.example/rss", "publish_policy": "auto-unless-risky", "risk_threshold": 0.7},
    )
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    assert created.json()["risk_threshold"] == 0.7
    for refused in (1.5, -0.1, "viel"):
        response = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"risk_threshold": refused})
        assert response.status_code == 422, refused
    assert stored_thresholds(context) == [0.7]
    changed = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"risk_threshold": 0.35})
    assert changed.json()["risk_threshold"] == 0.35
    untouched = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"name": "Paper"})
    assert untouched.json()["risk_threshold"] == 0.35
    cleared = client.patch(f"{API}/sources/{source_id}", headers=headers, json={"risk_threshold": None})
    assert cleared.json()["risk_threshold"] is None and stored_thresholds(context) == [None]


def test_the_admin_form_sets_and_clears_the_risk_threshold(context: AppContext, client: TestClient) -> None:
    csrf = login(client)
    form = {"csrf_token": csrf, "url": "https://paper.example/rss", "intervall": "15", "regel": "auto-unless-risky"}
    refused = client.post("/admin/quellen", data={**form, "risiko": "2"})
    assert refused.status_code == 400 and "Risikoschwelle: „2“ ist keine Zahl von 0 bis 1" in refused.text
    assert stored_thresholds(context) == []

    assert client.post("/admin/quellen", data={**form, "risiko": "0,6"}).status_code == 303
    assert stored_thresholds(context) == [0.6]
    (source_id,) = [source.id for source in _sources(context)]
    page = client.get(f"/admin/quellen/{source_id}")  # the source's own page holds its form
    field = lxml_html.fromstring(page.text).get_element_by_id(f"q{source_id}-risiko")
    assert field.get("value") == "0.6"
    assert "Risikoschwelle" in page.text

    # The edit form keeps a typed threshold, an empty field brings back the site's default.
    assert client.post(f"/admin/quellen/{source_id}", data={**form, "aktiv": "1", "risiko": "0.4"}).status_code == 303
    assert stored_thresholds(context) == [0.4]
    assert client.post(f"/admin/quellen/{source_id}", data={**form, "aktiv": "1", "risiko": ""}).status_code == 303
    assert stored_thresholds(context) == [None]


def _sources(context: AppContext) -> list[Source]:
    with context.database.session() as session:
        return list(session.scalars(select(Source)))
