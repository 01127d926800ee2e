"""Key passages and outlet profiles in every output of the Presseschau: the day's page, a story's
page, the feeds (RSS, Atom, JSON Feed), the static build and the newsletter — also with hostile text
(markup-like text, characters XML forbids, bidi controls) in the articles and editors' words."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.publish import newsletter, press_review
from presseschau.publish.site import Site
from presseschau.publish.static import build_site
from presseschau.store.models import Source, Subscriber
from presseschau.stories import key_passages, service
from presseschau.web.app import create_app
from tests.hostile import XML_FORBIDDEN_RE
from tests.publish.factories import make_article, make_source
from tests.publish.validation import assert_valid_html, assert_valid_json_feed, assert_valid_rss_or_atom

DAY = datetime(2026, 11, 9).date()
DAY_URL = "/presseschau/2026/11/09/"
BIDI = "\u202e"
# A sentence of the body that looks like markup and carries a bidi override and a control character.
HOSTILE_SENTENCE = f"Der Sprecher zitierte <script>alert(1)</script> und {BIDI}sagte\x0b, die Regierung habe versagt."
EDITORIAL = f"Die Redaktion meint: <img src=x onerror=alert(2)> {BIDI}ist\x01 wichtig."
LIVE_MARKUP = "//script[not(@type)] | //img | //*[@onerror] | //*[@onload]"


@pytest.fixture
def story_id(context: AppContext) -> int:
    with context.database.session() as session:
        guardian = make_source(session, "The Guardian")
        guardian.country, guardian.outlet_kind = "GB", "newspaper"
        herald = make_source(session, "Herald")
        herald.country, herald.outlet_kind = "US", "think-tank"
        for n, source in enumerate((guardian, herald)):
            made = make_article(
                session,
                context.settings,
                title_en=f"Government fails on the budget, says spokesman {n}",
                title_de=f"Regierung scheitert beim Haushalt, sagt der Sprecher {n}",
                body_en=["The government failed on the budget.", "The spokesman said so on Monday in the capital."],
                body_de=[
                    "Die Regierung ist beim Haushalt gescheitert, wie der Sprecher am Montag sagte.",
                    (HOSTILE_SENTENCE if n == 0 else "Der Haushalt muss nun bis Ende Januar neu verhandelt werden."),
                ],
                source=source,
                outlet=source.name,
                published_at=datetime(2026, 11, 9, 9 + n, tzinfo=UTC),
            )
            if n == 1:
                herald_translation = made.translation_id
        (item,) = service.review(session, context.settings, DAY)
        key_passages.write_passage(session, herald_translation, EDITORIAL, "anna")
        return item.story.id


def _check_html(text: str) -> lxml_html.HtmlElement:
    assert not XML_FORBIDDEN_RE.search(text) and BIDI not in text
    doc = lxml_html.fromstring(text)
    assert not doc.xpath(LIVE_MARKUP)
    return doc


def _check_text(text: str) -> None:
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text, text
    assert "Vereinigtes Königreich, Zeitung" in text and "Vereinigte Staaten, Denkfabrik" in text
    assert "Die Redaktion" in text


def test_pages_show_passages_and_profiles_as_text(context: AppContext, story_id: int) -> None:
    client = TestClient(create_app(context))
    for path in (DAY_URL, f"/presseschau/geschichte/{story_id}/"):
        response = client.get(path)
        assert response.status_code == 200
        assert_valid_html(response.text)
        doc = _check_html(response.text)
        _check_text(doc.text_content())
        quoted = doc.xpath("//blockquote[@class='key-passage']/p")[0].text_content()
        assert quoted.startswith("„Der Sprecher zitierte <script>") and quoted.endswith("versagt.“")
        profiles = doc.xpath("//span[@class='outlet-profile']/text()")
        assert profiles == ["(Vereinigtes Königreich, Zeitung)", "(Vereinigte Staaten, Denkfabrik)"]
        editorial = doc.xpath("//p[contains(@class, 'editorial')]")[0].text_content()
        assert editorial.startswith("Die Redaktion: Die Redaktion meint:")


def test_feeds_carry_passages_and_profiles(context: AppContext, story_id: int) -> None:
    client = TestClient(create_app(context))
    rss = assert_valid_rss_or_atom(client.get("/presseschau/feed.xml").content, "rss")
    atom = assert_valid_rss_or_atom(client.get("/presseschau/atom.xml").content, "atom")
    items = assert_valid_json_feed(client.get("/presseschau/feed.json").content)["items"]
    assert isinstance(items, list)
    for content in (rss.entries[0].content[0].value, atom.entries[0].content[0].value, items[0]["content_html"]):
        doc = _check_html(f"<div>{content}</div>")
        _check_text(doc.text_content())
        assert f"/presseschau/geschichte/{story_id}/" in content


def test_static_build_and_newsletter_carry_them(context: AppContext, story_id: int, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    for relpath in ("presseschau/2026/11/09/index.html", f"presseschau/geschichte/{story_id}/index.html"):
        _check_text(_check_html((out / relpath).read_text("utf-8")).text_content())
    for name in ("feed.xml", "atom.xml"):
        assert "Vereinigtes Königreich, Zeitung" in (out / "presseschau" / name).read_text("utf-8")
    assert (
        "Denkfabrik" in json.loads((out / "presseschau" / "feed.json").read_text("utf-8"))["items"][0]["content_html"]
    )
    site = Site(context.settings)
    with context.database.session() as session:
        view = press_review.day_view(session, site, DAY)
        assert view is not None
        subscriber = Subscriber(email="leser@example.org", token="t" * 32, status="active")
        message = newsletter.review_message(context.settings, site, view, subscriber)
    plain = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert plain is not None and html_part is not None
    plain_text = plain.get_content()
    _check_text(plain_text)
    assert BIDI not in plain_text and not XML_FORBIDDEN_RE.search(plain_text)
    assert "„Der Sprecher zitierte <script>alert(1)</script> und sagte, die Regierung habe versagt.“" in plain_text
    _check_text(_check_html(html_part.get_content()).text_content())


def test_profile_change_rebuilds_the_static_review(context: AppContext, story_id: int, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    with context.database.session() as session:
        source = session.scalars(select(Source).where(Source.name == "Herald")).one()
        source.outlet_kind = "blog"
    assert not build_site(context.database, context.settings, out).skipped
    assert "Vereinigte Staaten, Blog" in (out / "presseschau/2026/11/09/index.html").read_text("utf-8")
