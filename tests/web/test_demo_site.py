"""What readers see on the demo set (`presseschau demo`): related articles that relate, search."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish.queries import rank_related
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.demo_site import load_demo_site
from tests.web.browser import QuietFiles

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


@pytest.fixture
def demo(context: AppContext) -> dict[str, str]:
    return load_demo_site(context)


@pytest.fixture
def client(context: AppContext, demo: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with TestClient(create_app(context)) as test_client:
        yield test_client


# Demo articles reporting the same event (other outlets' reports, for the Presseschau), by a word of their URL.
SAME_EVENT = ("marrowby", "bank-of-england", "rail-strike", "lukashenko", "inchmorra")


def test_no_demo_article_is_related_by_one_ambiguous_word(client: TestClient, demo: dict[str, str]) -> None:
    # "Bank of England" and the "Skarven-Bank" fishing story shared only "Bank" and were related.
    # The demo articles are about eleven different events: only reports of the same event may be related.
    for url, slug in demo.items():
        doc = lxml_html.fromstring(client.get(f"/{slug}/").text)
        related = doc.xpath("//section[@aria-labelledby='verwandt']//a/@href")
        event = next((key for key in SAME_EVENT if key in url), None)
        allowed = {f"/{other}/" for u, other in demo.items() if event and event in u and other != slug}
        assert set(related) <= allowed, (slug, related)


def test_one_shared_title_word_needs_alike_texts() -> None:
    postings = {"bank": [1, 2]}
    assert rank_related(1, postings, total=9) == []
    texts = {
        1: "Die Bank of England belässt den Leitzins, die Inflation sinkt, die Zinsen bleiben hoch.",
        2: "Fischer und Windkraftbranche streiten um Fanggründe auf der Skarven-Bank in der Nordsee.",
        3: "Die Bank of England senkt den Leitzins: die Inflation sinkt, die Zinsen fallen.",
    }
    assert rank_related(1, postings, total=9, texts=lambda ids: {i: texts[i] for i in ids}) == []
    postings = {"bank": [1, 2, 3]}
    assert rank_related(1, postings, total=9, texts=lambda ids: {i: texts[i] for i in ids}) == [3]
    # Two shared telling title words relate without the texts; the next article is left out.
    two = {"leitzins": [1, 3, 4], "inflation": [1, 3, 4]}
    assert rank_related(1, two, total=9) == [4, 3]
    assert rank_related(1, two, total=9, exclude=[4]) == [3]


# Query -> the demo articles (by a word of their original URL) both searches must find. German
# compounds by their first part, inflected forms, and names as the English original spells them.
SEARCH_CASES = {
    "Windkraft": ["skarven"],  # "Windkraftbranche", "Offshore-Windkraftanlagen"
    "windkraftanlagen": ["skarven"],
    "Lukashenko": ["lukashenko"],  # English spelling (German text: Lukaschenko)
    "Kyiv": ["lukashenko"],
    "Lukaschenko": ["lukashenko"],
    "Crimea": ["lukashenko"],
    "Leitzins": ["bank-of-england"],
    "Bank": ["bank-of-england", "skarven"],
    "Bank of England": ["bank-of-england"],
    "Streiks": ["rail-strike"],
    "Ferienwohnung": ["lisbon"],
    "Natriumbatterien": ["sodium"],
    "Wahlen": ["gambia"],
    "Murmel": ["gambia"],
    "Nordsee": ["marrowby", "skarven"],
    "Asante-Schätze": ["asante"],
    "Inchmorra": ["inchmorra"],  # the ferry aground, told by two outlets
    "Ballasttank": ["inchmorra"],
    "Kopenhagen": ["copenhagen", "skarven"],  # the wind farm: "larger than the city of Copenhagen"
    "Quantenphysik": [],
}


def _expected(demo: dict[str, str], keys: list[str]) -> set[str]:
    return {slug for url, slug in demo.items() if any(key in url for key in keys)}


def _server_hits(context: AppContext, query: str) -> set[str]:
    from presseschau.publish import search
    from presseschau.store.models import Publication

    with context.database.session() as session:
        ids = [hit.publication_id for hit in search.search(session, query, context.settings.target_language)]
        return {session.get_one(Publication, i).slug for i in ids}


def test_sqlite_search_understands_german_compounds_and_english_names(
    context: AppContext, demo: dict[str, str]
) -> None:
    for query, keys in SEARCH_CASES.items():
        assert _server_hits(context, query) == _expected(demo, keys), query


@pytest.mark.postgres
def test_postgresql_search_understands_german_compounds_and_english_names(postgres_context: AppContext) -> None:
    demo = load_demo_site(postgres_context)
    for query, keys in SEARCH_CASES.items():
        assert _server_hits(postgres_context, query) == _expected(demo, keys), query


@pytest.mark.browser
def test_static_search_finds_what_the_server_finds(
    context: AppContext,
    demo: dict[str, str],
    tmp_path: Path,
    browser: WebDriver,
) -> None:
    import functools
    import http.server
    import threading
    from urllib.parse import quote

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from presseschau.publish.static import build_site

    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    handler = functools.partial(QuietFiles, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    driver = browser
    try:
        for query, keys in SEARCH_CASES.items():
            driver.get(f"{base}/suche/?q={quote(query)}")
            WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ergebnisse .result-count"))
            links = driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .article-list h2 a")
            found = {str(a.get_attribute("href")).removeprefix(base).strip("/") for a in links}
            assert found == _expected(demo, keys) == _server_hits(context, query), query
    finally:
        httpd.shutdown()
        httpd.server_close()
