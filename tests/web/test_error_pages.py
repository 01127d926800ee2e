"""Every error status answers with a German page; English original titles are marked lang="en"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish import error_pages
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_site
from tests.publish.validation import assert_valid_html


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    app = create_app(context)
    broken = APIRouter()

    @broken.get("/kaputt")
    async def fails() -> None:
        raise RuntimeError("boom")

    app.include_router(broken)
    app.router.routes.insert(0, app.router.routes.pop())  # before the catch-all article routes
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_method_not_allowed_is_a_german_page_with_allow(client: TestClient) -> None:
    response = client.post("/archiv/")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("text/html")
    assert "allow" in response.headers
    assert_valid_html(response.content)
    doc = lxml_html.fromstring(response.text)
    assert doc.xpath("//h1")[0].text_content() == "Methode nicht erlaubt"
    assert "Method Not Allowed" not in response.text


def test_server_error_is_a_german_page(client: TestClient) -> None:
    response = client.get("/kaputt")
    assert response.status_code == 500
    assert "Interner Fehler" in response.text and "boom" not in response.text


def test_every_status_has_german_words() -> None:
    for status in (400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503, 418, 599):
        heading, message = error_pages.describe(status, "Method Not Allowed" if status == 405 else None)
        assert heading and message and "Not" not in heading + message, status
    # The application's own (German) message is kept.
    assert error_pages.describe(403, "Nur für Administratoren.")[1] == "Nur für Administratoren."


def test_english_original_titles_are_marked_english(context: AppContext, client: TestClient) -> None:
    with context.database.session() as session:
        made = make_site(session, context.settings, 2)
    doc = lxml_html.fromstring(client.get(f"/{made[0].slug}/").text)
    titles = doc.xpath("//*[@lang='en']//text()")
    assert "Original English title 0" in " ".join(titles)


def test_press_review_and_lists_mark_english_titles(context: AppContext, client: TestClient) -> None:
    from tests.stories.story_data import QUAKE, publish_event

    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        untitled = make_article(session, context.settings, title_de="", title_en="An English headline only")
    review = lxml_html.fromstring(client.get("/presseschau/2026/11/09/").text)
    originals = review.xpath("//a[@class='review-original']/span[@lang='en']/text()")
    assert "Strong earthquake shakes western Turkey, buildings collapse in Manisa" in originals
    home = lxml_html.fromstring(client.get("/").text)
    english = home.xpath("//ol//h2/a[@lang='en']")
    assert [a.get("href") for a in english] == [f"/{untitled.slug}/"]
    assert not home.xpath("//ol//h2/a[not(@lang)][text()='An English headline only']")
