"""Editors in the admin area: an outlet's profile in the source form, an article's key passage
(another sentence, own words, back to the machine) and the merge form's choice of headline."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.store.models import Source, StoryArticle
from presseschau.stories import service
from tests.stories.story_data import QUAKE, STARSHIP, publish_event
from tests.web.test_admin import _csrf, client, login  # noqa: F401 (the fixture)

DAY = date(2026, 11, 9)
HOSTILE = "<script>alert(1)</script> Eigene\x0b Worte „zum Beben“"


def _day(browser: TestClient) -> str:
    page = browser.get(f"/admin/presseschau/{DAY.isoformat()}")
    assert page.status_code == 200
    text: str = page.text  # the test client's responses are Any to mypy (starlette types them with httpx2)
    return text


def test_editor_replaces_and_resets_a_key_passage(context: AppContext, client: TestClient) -> None:  # noqa: F811
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        (item,) = service.review(session, context.settings, DAY)
        story_id, translation_id = item.story.id, item.members[0].id
    login(client, "erik")
    text = _day(client)
    form = lxml_html.fromstring(text).xpath(f"//form[@id='kernaussage-{translation_id}']")[0]
    numbers = form.xpath(".//select[@name='satz']/option/@value")
    assert numbers  # the article's complete sentences to choose from
    url = f"/admin/geschichte/{story_id}/kernaussage/{translation_id}"
    picked = client.post(url, data={"csrf_token": _csrf(text), "aktion": "satz", "satz": numbers[0]})
    assert picked.status_code == 303 and picked.headers["location"].endswith("?ok=kernaussage")
    with context.database.session() as session:
        member = session.get(StoryArticle, translation_id)
        assert member is not None and member.passage_kind == "sentence" and member.passage_by == "erik"
    own = client.post(url, data={"csrf_token": _csrf(text), "aktion": "eigener", "text": HOSTILE})
    assert own.status_code == 303
    page = client.get(f"/presseschau/{DAY:%Y/%m/%d}/").text
    shown = lxml_html.fromstring(page).xpath("//p[contains(@class, 'key-passage') and contains(@class, 'editorial')]")
    assert len(shown) == 1 and "Die Redaktion:" in shown[0].text_content()
    assert "<script>alert(1)</script>" in shown[0].text_content() and "<script>alert" not in page
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", page)
    empty = client.post(url, data={"csrf_token": _csrf(text), "aktion": "eigener", "text": "  "})
    assert empty.status_code == 400 and "Der eigene Text ist leer." in empty.text
    assert client.post(url, data={"csrf_token": _csrf(text), "aktion": "automatisch"}).status_code == 303
    with context.database.session() as session:
        member = session.get(StoryArticle, translation_id)
        assert member is not None and member.passage_kind is None
    assert (
        client.post(f"/admin/geschichte/{story_id}/kernaussage/999999", data={"csrf_token": _csrf(text)}).status_code
        == 404
    )


def test_the_merge_form_asks_which_headline_stays(context: AppContext, client: TestClient) -> None:  # noqa: F811
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        first, second = (item.story.id for item in service.review(session, context.settings, DAY))
        service.set_headline(session, first, "Beben", "anna")
        service.set_headline(session, second, "Starship", "anna")
    login(client, "erik")
    text = _day(client)
    data = {"csrf_token": _csrf(text), "aktion": "zusammenfuehren", "mit": str(first)}
    refused = client.post(f"/admin/geschichte/{second}", data={**data, "ueberschrift_von": ""})
    assert refused.status_code == 400 and "bitte wählen, welche bleibt" in refused.text
    merged = client.post(f"/admin/geschichte/{second}", data={**data, "ueberschrift_von": str(first)})
    assert merged.status_code == 303
    with context.database.session() as session:
        assert service.get_story(session, second).headline == "Beben"


def test_the_source_form_sets_the_outlet_profile(context: AppContext, client: TestClient) -> None:  # noqa: F811
    login(client, "anna")
    text = client.get("/admin/quellen").text
    assert '<datalist id="laender">' in text and "Vereinigtes Königreich" in text
    form = {"csrf_token": _csrf(text), "url": "https://paper.example/rss", "intervall": "15", "regel": "auto"}
    refused = client.post("/admin/quellen", data={**form, "land": "XY", "medienart": "blog", "sprache": "en"})
    assert refused.status_code == 400 and "unbekanntes Land „XY“" in refused.text  # German in the admin
    added = client.post("/admin/quellen", data={**form, "land": "fr", "medienart": "agency", "sprache": "en"})
    assert added.status_code == 303
    with context.database.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.country, source.outlet_kind, source.language) == ("FR", "agency", "en")
        source_id = source.id
    page = lxml_html.fromstring(client.get(f"/admin/quellen/{source_id}").text)
    assert page.xpath(f"//input[@id='q{source_id}-land']/@value") == ["FR"]
    assert page.xpath(f"//select[@id='q{source_id}-medienart']/option[@selected]/@value") == ["agency"]
    # A form without the profile fields (an older page) changes none of them.
    kept = client.post(f"/admin/quellen/{source_id}", data={**form, "name": "Paper"})
    assert kept.status_code == 303
    with context.database.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.country, source.outlet_kind) == ("FR", "agency")
