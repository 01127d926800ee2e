"""Press review day pages: "Frühere" lists only earlier days, previous/next day links, German
plurals ("1 Geschichte", "2 Geschichten") through the one helper."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish.formatting import plural
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.stories.story_data import QUAKE, STARSHIP, Report, publish_event


def _shifted(reports: list[Report], days: int) -> list[Report]:
    return [(*report[:5], report[5] + timedelta(days=days)) for report in reports]


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)  # 9 November: one story
        publish_event(session, context.settings, _shifted(STARSHIP, -4))  # 5 November
        publish_event(session, context.settings, _shifted(QUAKE, 15))  # 24 November
        publish_event(session, context.settings, _shifted(STARSHIP, 15))
    with TestClient(create_app(context)) as test_client:
        yield test_client


def test_earlier_days_are_earlier_and_neighbours_are_linked(client: TestClient) -> None:
    doc = lxml_html.fromstring(client.get("/presseschau/2026/11/09/").text)
    earlier = doc.xpath("//nav[@class='review-days']//a/@href")
    assert earlier == ["/presseschau/2026/11/05/"]
    assert doc.xpath("//a[@rel='prev']/@href") == ["/presseschau/2026/11/05/"]
    assert doc.xpath("//a[@rel='next']/@href") == ["/presseschau/2026/11/24/"]
    first = lxml_html.fromstring(client.get("/presseschau/2026/11/05/").text)
    assert first.xpath("//nav[@class='review-days']") == [] and first.xpath("//a[@rel='prev']") == []
    assert first.xpath("//a[@rel='next']/@href") == ["/presseschau/2026/11/09/"]


def test_counts_use_german_plurals(client: TestClient) -> None:
    doc = lxml_html.fromstring(client.get("/presseschau/2026/11/05/").text)
    meta = " ".join(doc.xpath("//li[contains(@class, 'review-story')]//p[@class='meta']//text()"))
    assert "2 Medien · 2 Artikel" in meta
    feed = client.get("/presseschau/feed.json").json()
    summaries = [item["summary"] for item in feed["items"]]
    assert any(s.startswith("1 Geschichte: ") for s in summaries), summaries
    assert any(s.startswith("2 Geschichten: ") for s in summaries), summaries
    assert not any("1 Geschichten" in s for s in summaries)


def test_plural_helper() -> None:
    assert plural(1, "Geschichte", "Geschichten") == "1 Geschichte"
    assert plural(0, "Geschichte", "Geschichten") == "0 Geschichten"
    assert plural(1234, "Artikel", "Artikel") == "1.234 Artikel"
