"""Bidi controls from outside (issue 22, item 13): an unclosed U+202E in a source name or a title
must not reorder what follows it in any output. Every page, feed and mail is checked to be
balanced: each embedding, override and isolate it opens, it closes."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.publish import newsletter
from presseschau.publish.press_review import DayView, Entry, StoryView
from presseschau.publish.site import Site
from presseschau.publish.static import build_site
from presseschau.stories.service import ReviewState
from presseschau.text import balance_bidi
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_source

RLO = "\u202e"
NAME = f"Evil {RLO}semiT"
TITLE = f"Schlagzeile {RLO}tsi hcsfal"


def assert_balanced(text: str, where: str) -> None:
    assert RLO in text, f"{where}: the hostile text is missing"
    assert balance_bidi(text) == text, f"{where}: an unclosed bidi control reaches the output"


@pytest.fixture
def published(context: AppContext) -> int:
    with context.database.session() as session:
        source = make_source(session, name=NAME)  # as an older version stored it: not cleaned
        make_article(session, context.settings, title_de=TITLE, source=source, outlet=NAME)
        return source.id


def test_static_build_pages_and_feeds_are_balanced(context: AppContext, published: int, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    checked = 0
    for path in sorted(out.rglob("*")):
        if path.suffix in (".html", ".xml", ".json") and path.is_file():
            text = path.read_text(encoding="utf-8")
            if RLO in text:
                assert_balanced(text, str(path.relative_to(out)))
                checked += 1
    assert checked >= 4  # the article, the source page, its feeds
    for page in out.rglob("index.html"):  # JSON-LD stays JSON (never wrapped in isolates)
        for script in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page.read_text("utf-8")):
            json.loads(script)


def test_live_pages_and_the_admin_area_are_balanced(context: AppContext, published: int) -> None:
    with TestClient(create_app(context), follow_redirects=False) as client:
        for path in (f"/quelle/{published}/", f"/quelle/{published}/feed.xml", "/atom.xml", "/feed.json"):
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert_balanced(answer.text, path)


def test_newsletter_mails_are_balanced(context: AppContext) -> None:
    site = Site(context.settings, "static")
    moment = datetime(2026, 12, 1, 8, tzinfo=UTC)
    entry = Entry(NAME, TITLE, f"Teaser {RLO}", "/a/", "https://x.example/a", TITLE, moment, False)
    story = StoryView(1, "/presseschau/geschichte/1/", TITLE, True, 1, moment, moment, [entry], intro=f"Intro {RLO}")
    view = DayView(date(2026, 12, 1), "Presseschau", "1. Dezember 2026", ReviewState.__new__(ReviewState), [story])
    assert_balanced(newsletter._plain(view, site), "plain mail")
    assert_balanced(newsletter._html(view, site, "https://x.example/ab"), "HTML mail")
