"""The archive as a calendar by the original's date: server pages, static build, sitemap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish.archive import archive_day
from presseschau.publish.static import build_site
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_source
from tests.publish.validation import assert_valid_html
from tests.stories.story_data import QUAKE, publish_event


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        source = make_source(session, "Harbour Ledger")
        # 23:30 UTC on 4 November is already 5 November in Berlin.
        for title, moment in [
            ("Ein Artikel vom Dienstag", datetime(2026, 11, 3, 10, 0, tzinfo=UTC)),
            ("Spät am Abend", datetime(2026, 11, 4, 23, 30, tzinfo=UTC)),
            ("Ein Oktoberartikel", datetime(2026, 10, 30, 12, 0, tzinfo=UTC)),
        ]:
            make_article(session, context.settings, title_de=title, source=source, published_at=moment)
        publish_event(session, context.settings, QUAKE)  # two articles of 9 November, with a review
    with TestClient(create_app(context)) as test_client:
        yield test_client


def _doc(text: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text)


def test_archive_day_is_the_originals_local_day() -> None:
    late = datetime(2026, 11, 4, 23, 30, tzinfo=UTC)
    published = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    assert archive_day(late, False, published, "Europe/Berlin") == date(2026, 11, 5)
    # A date-only original keeps its day; no original date: the day it was published here.
    assert archive_day(datetime(2026, 11, 4, 0, 0, tzinfo=UTC), True, published, "America/New_York") == date(
        2026, 11, 4
    )
    assert archive_day(None, False, published, "Europe/Berlin") == date(2026, 12, 6)


def test_archive_lists_months_of_the_originals(client: TestClient) -> None:
    doc = _doc(client.get("/archiv/").text)
    months = doc.xpath("//ul[@class='month-list']//a/@href")
    # Published today (December), filed by the originals' months.
    assert months == ["/archiv/2026/11/", "/archiv/2026/10/"]
    counts = doc.xpath("//ul[@class='month-list']//span[@class='count']/text()")
    assert counts == ["4 Artikel", "1 Artikel"]


def test_month_page_is_a_calendar_with_weekdays_and_days(client: TestClient) -> None:
    response = client.get("/archiv/2026/11/")
    assert response.status_code == 200
    assert_valid_html(response.content)
    doc = _doc(response.text)
    assert doc.xpath("//table[@class='calendar']//th/abbr/@title")[:2] == ["Montag", "Dienstag"]
    linked = doc.xpath("//table[@class='calendar']//a/text()")
    assert linked == ["3", "5", "9"]
    headings = [h.text_content() for h in doc.xpath("//section[@class='archive-day']/h2")]
    assert headings == ["Montag, 9. November 2026", "Donnerstag, 5. November 2026", "Dienstag, 3. November 2026"]
    # The day with a public Presseschau links it.
    reviews = doc.xpath("//section[@class='archive-day']//a[@class='review-link']/@href")
    assert "/presseschau/2026/11/09/" in reviews
    assert all(client.get(url).status_code == 200 for url in reviews)
    assert client.get("/archiv/2026/12/").status_code == 404


def test_day_page_lists_its_articles_with_previous_and_next_day(client: TestClient) -> None:
    response = client.get("/archiv/2026/11/05/")
    assert response.status_code == 200
    assert_valid_html(response.content)
    doc = _doc(response.text)
    assert doc.xpath("//h1")[0].text_content() == "Donnerstag, 5. November 2026"
    assert [a.text_content() for a in doc.xpath("//ol//h2/a")] == ["Spät am Abend"]
    assert doc.xpath("//a[@rel='prev']/@href") == ["/archiv/2026/11/03/"]
    assert doc.xpath("//a[@rel='next']/@href") == ["/archiv/2026/11/09/"]
    assert doc.xpath("//a[@rel='prev']")[0].text_content() == "← Dienstag, 3. November 2026"
    first = _doc(client.get("/archiv/2026/10/30/").text)
    assert first.xpath("//a[@rel='prev']") == [] and first.xpath("//a[@rel='next']/@href") == ["/archiv/2026/11/03/"]
    review = _doc(client.get("/archiv/2026/11/09/").text)
    assert review.xpath("//a[@class='review-link']/@href") == ["/presseschau/2026/11/09/"]
    for missing in ("/archiv/2026/11/04/", "/archiv/2026/02/30/", "/archiv/2026/11/5/", "/archiv/2026/11/xx/"):
        assert client.get(missing).status_code == 404, missing


def test_static_build_and_sitemap_have_the_calendar(context: AppContext, client: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    day = (out / "archiv/2026/11/05/index.html").read_text(encoding="utf-8")
    assert "Donnerstag, 5. November 2026" in day and "Spät am Abend" in day
    assert (out / "archiv/2026/10/index.html").is_file()
    assert not (out / "archiv/2026/12").exists()
    month = _doc((out / "archiv/2026/11/index.html").read_text(encoding="utf-8"))
    assert month.xpath("//table[@class='calendar']//a/@href")[0] == "/archiv/2026/11/03/"
    sitemap = (out / "sitemap.xml").read_text(encoding="utf-8")
    if "sitemap-1.xml" in sitemap:
        sitemap = (out / "sitemap-1.xml").read_text(encoding="utf-8")
    assert "http://127.0.0.1:8000/archiv/2026/11/05/" in sitemap
    assert "http://127.0.0.1:8000/archiv/2026/11/" in sitemap
