"""Die Presseschau des Tages as readers get it: pages, feeds, sitemap and static build, also on hostile input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.publish.static import build_site
from presseschau.store.models import StoryArticle
from presseschau.stories import service
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.hostile import MARKUP_TEXTS, XML_FORBIDDEN_RE, stored_html, with_controls
from tests.publish.factories import make_article, make_source
from tests.publish.validation import (
    assert_valid_html,
    assert_valid_json_feed,
    assert_valid_rss_or_atom,
    assert_valid_sitemap,
)
from tests.stories.story_data import QUAKE, STARSHIP, publish_event

DAY_URL = "/presseschau/2026/11/09/"
HOSTILE_HEADLINE = "Beben & <script>alert(1)</script> „Zitat“ &amp; " + "lang " * 40
LIVE_MARKUP = "//script[not(@type)] | //img | //*[@onerror] | //*[@onload]"


@pytest.fixture
def review_site(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        publish_event(session, context.settings, [("Third Paper", *QUAKE[0][1:])])
    with TestClient(create_app(context), follow_redirects=False) as client:
        yield client


def test_day_page_lists_stories_most_covered_first_with_both_links(review_site: TestClient) -> None:
    response = review_site.get(DAY_URL)
    assert response.status_code == 200
    assert_valid_html(response.text)
    doc = lxml_html.fromstring(response.text)
    assert "Die Presseschau des Tages" in doc.findtext(".//h1").strip() + "".join(doc.xpath("//h1//text()"))
    assert "9. November 2026" in " ".join(doc.xpath("//h1//text()"))
    stories = doc.xpath("//li[contains(@class, 'review-story')]")
    assert len(stories) == 2
    assert len(stories[0].xpath(".//li[contains(@class, 'review-entry')]")) == 3  # the quake: three outlets
    outlets = stories[0].xpath(".//strong[@class='outlet']/text()")
    assert sorted(outlets) == ["Harbour Ledger", "Meridian Post", "Third Paper"]
    for entry in doc.xpath("//li[contains(@class, 'review-entry')]"):
        german = entry.xpath(".//a[@class='review-german']/@href")[0]
        original = entry.xpath(".//a[@class='review-original']/@href")[0]
        assert german.startswith("/") and original.startswith("https://news.example/")
        assert review_site.get(german).status_code == 200
        # What the outlet says: its key passage, else (nothing distinct to quote) its teaser.
        assert entry.xpath(".//blockquote[@class='key-passage']/p/text() | .//p[@class='teaser-text']/text()")
    feeds = doc.xpath("//link[@rel='alternate']/@href")
    assert any(href.endswith("/presseschau/feed.xml") for href in feeds)
    assert any(href.endswith("/presseschau/atom.xml") for href in feeds)
    assert any(href.endswith("/presseschau/feed.json") for href in feeds)


def test_latest_page_and_unknown_days(review_site: TestClient) -> None:
    latest = review_site.get("/presseschau/")
    assert latest.status_code == 200 and "9. November 2026" in latest.text
    assert review_site.get("/presseschau").headers["location"] == "/presseschau/"
    for path in ("/presseschau/2026/11/08/", "/presseschau/2026/02/30/", "/presseschau/26/11/09/", "/presseschau/x/"):
        assert review_site.get(path).status_code == 404, path
    etag = latest.headers["etag"]
    assert review_site.get("/presseschau/", headers={"If-None-Match": etag}).status_code == 304


def test_a_day_has_one_url(review_site: TestClient) -> None:
    # `\d` also matches other scripts' digits, and int() reads them: "٢٠٢٦" is 2026. Each day has one
    # URL (its canonical one); other spellings are not found rather than served as a second page.
    for path in ("/presseschau/٢٠٢٦/١١/٠٩/", "/presseschau/２０２６/11/09/", "/presseschau/2026/11/０９/"):
        assert review_site.get(path).status_code == 404, path
    assert review_site.get(DAY_URL).status_code == 200


def test_no_review_yet(context: AppContext) -> None:
    with TestClient(create_app(context)) as client:
        page = client.get("/presseschau/")
        assert page.status_code == 200 and "Noch keine Presseschau" in page.text
        assert_valid_rss_or_atom(client.get("/presseschau/feed.xml").content, "rss")


def test_a_withdrawn_or_waiting_review_is_not_public(context: AppContext, review_site: TestClient) -> None:
    day = datetime(2026, 11, 9, tzinfo=UTC).date()
    with context.database.session() as session:
        service.withdraw(session, context.settings, day, "anna")
    assert review_site.get(DAY_URL).status_code == 404
    assert "Noch keine Presseschau" in review_site.get("/presseschau/").text
    assert DAY_URL not in review_site.get("/presseschau/feed.xml").text
    with context.database.session() as session:
        service.release(session, context.settings, day, "anna")
    assert review_site.get(DAY_URL).status_code == 200


def test_feeds_have_one_item_per_day(review_site: TestClient) -> None:
    rss = assert_valid_rss_or_atom(review_site.get("/presseschau/feed.xml").content, "rss")
    atom = assert_valid_rss_or_atom(review_site.get("/presseschau/atom.xml").content, "atom")
    feed = assert_valid_json_feed(review_site.get("/presseschau/feed.json").content)
    for parsed in (rss, atom):
        assert [entry.title for entry in parsed.entries] == ["Presseschau vom 9. November 2026"]
        assert parsed.entries[0].link.endswith(DAY_URL)
    items = feed["items"]
    assert isinstance(items, list) and len(items) == 1
    assert "Meridian Post" in items[0]["content_html"] and "https://news.example/" in items[0]["content_html"]
    assert review_site.get("/presseschau/feed.json").headers["content-type"].startswith("application/feed+json")


def test_sitemap_and_navigation(review_site: TestClient) -> None:
    sitemap = review_site.get("/sitemap.xml").content
    root = assert_valid_sitemap(sitemap)
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(str(loc).endswith("/presseschau/") for loc in locs)
    assert any(str(loc).endswith(DAY_URL) for loc in locs)
    assert 'href="/presseschau/"' in review_site.get("/").text


def test_static_build_writes_the_review(context: AppContext, review_site: TestClient, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    day_page = out / "presseschau" / "2026" / "11" / "09" / "index.html"
    assert day_page.is_file() and (out / "presseschau" / "index.html").is_file()
    assert "Harbour Ledger" in day_page.read_text("utf-8")
    for name in ("feed.xml", "atom.xml"):
        etree.fromstring((out / "presseschau" / name).read_bytes())
    json.loads((out / "presseschau" / "feed.json").read_text("utf-8"))
    assert build_site(context.database, context.settings, out).skipped
    # An editor's change rebuilds the review pages.
    with context.database.session() as session:
        story_id = service.review(session, context.settings, datetime(2026, 11, 9).date())[0].story.id
        service.set_headline(session, story_id, "Erdbeben in der Westtürkei", "anna")
    report = build_site(context.database, context.settings, out)
    assert not report.skipped
    assert "Erdbeben in der Westtürkei" in day_page.read_text("utf-8")


def test_a_new_machine_summary_rebuilds_the_static_review(
    context: AppContext, review_site: TestClient, tmp_path: Path
) -> None:
    # Summaries are written after publication (a worker, `stories summarize`): the static build's
    # "nothing changed" check must see them, or the static pages keep the teaser.
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    with context.database.session() as session:
        member = session.scalars(select(StoryArticle).order_by(StoryArticle.translation_id)).first()
        assert member is not None
        member.summary, member.summary_model = "Zwei Sätze über das Beben. Und noch einer.", "tiny-chat"
    report = build_site(context.database, context.settings, out)
    assert not report.skipped
    day_page = out / "presseschau" / "2026" / "11" / "09" / "index.html"
    assert "Zwei Sätze über das Beben." in day_page.read_text("utf-8")


def test_hostile_titles_outlets_and_headlines_stay_text(context: AppContext, tmp_path: Path) -> None:
    with context.database.session() as session:
        for n in range(2):
            source = make_source(session, name=stored_html(with_controls(f"Quelle {n} {MARKUP_TEXTS[1]}")))
            make_article(
                session,
                context.settings,
                title_de=stored_html(with_controls(f"Titel {MARKUP_TEXTS[n]} & „Zitat“ {n}")),
                title_en=stored_html(with_controls(f"Original {MARKUP_TEXTS[2]}")),
                source=source,
                outlet=stored_html(with_controls(f"Outlet {n} {MARKUP_TEXTS[3]}")),
                published_at=datetime(2026, 11, 9, 9 + n, tzinfo=UTC),
            )
        found = service.review(session, context.settings, datetime(2026, 11, 9).date())
        assert len(found) == 1 and len(found[0].members) == 2
        service.set_headline(session, found[0].story.id, with_controls(HOSTILE_HEADLINE), "anna")
    with TestClient(create_app(context)) as client:
        outputs = {
            path: client.get(path)
            for path in (DAY_URL, "/presseschau/", "/presseschau/feed.xml", "/presseschau/atom.xml")
        }
        feed_json = client.get("/presseschau/feed.json")
    for path, response in outputs.items():
        assert response.status_code == 200, path
        assert not XML_FORBIDDEN_RE.search(response.text), path
    page = lxml_html.fromstring(outputs[DAY_URL].text)
    assert not page.xpath(LIVE_MARKUP)
    headline = page.xpath("//h2[@class='story-headline']")[0].text_content()
    assert headline.startswith("Beben & <script>alert(1)</script> „Zitat“ &amp; lang")
    assert "<img src=x onerror=alert(1)>" in page.text_content()  # a title's markup-looking text is shown as text
    for path in ("/presseschau/feed.xml", "/presseschau/atom.xml"):
        root = etree.fromstring(outputs[path].content)  # strict XML
        assert root is not None
    rss = assert_valid_rss_or_atom(outputs["/presseschau/feed.xml"].content, "rss")
    content = lxml_html.fragment_fromstring(rss.entries[0].content[0].value, create_parent="div")
    assert not content.xpath(LIVE_MARKUP) and "<script>alert(1)</script>" in content.text_content()
    items = assert_valid_json_feed(feed_json.content)["items"]
    assert isinstance(items, list)
    fragment = lxml_html.fragment_fromstring(items[0]["content_html"], create_parent="div")
    assert not fragment.xpath(LIVE_MARKUP)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    for built in (out / "presseschau").rglob("*"):
        if built.is_file():
            assert not XML_FORBIDDEN_RE.search(built.read_text("utf-8")), built
