"""Search as readers see it: exact and compound matches above stem cousins, snippets with <mark>,
filters and sort order -- through the search page, on SQLite (and PostgreSQL where available)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish import ranking
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_source
from tests.publish.validation import assert_valid_html

# Three articles about driving ("fahren", the stem cousin of "Fähre") with the word often, one
# about a ferry only as a compound ("Autofähre"), one with the word itself.
ARTICLES = [
    ("Pendler fahren wieder", ["Die Pendler fahren wieder. Sie fahren mit dem Bus, sie fahren mit der Bahn."], 1),
    ("Autofahrer zahlen mehr", ["Wer in die Stadt fährt, zahlt. Autofahrer fahren künftig seltener."], 2),
    ("Züge fahren nicht", ["Die meisten Züge fahren nicht; wer fahren muss, fährt mit dem Auto."], 3),
    ("Insel abgeschnitten", ["Die Insel ist ohne ihre einzige Autofähre; Vorräte werden knapp."], 4),
    ("Fähre läuft auf Grund", ["Eine Fähre mit 169 Menschen an Bord ist bei Sturm auf Grund gelaufen."], 5),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The same articles on both databases: the ranking must not depend on which one."""
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    context: AppContext = request.getfixturevalue("context" if request.param == "sqlite" else "postgres_context")
    with context.database.session() as session:
        ledger, post = make_source(session, "Harbour Ledger"), make_source(session, "Meridian Post")
        for title, body, day in ARTICLES:
            make_article(
                session,
                context.settings,
                title_de=title,
                body_de=body,
                source=ledger if day % 2 else post,
                published_at=datetime(2026, 11, day, 9, 0, tzinfo=UTC),
            )
    with TestClient(create_app(context)) as test_client:
        yield test_client


def _titles(client: TestClient, **params: str) -> list[str]:
    response = client.get("/suche", params=params)
    assert response.status_code == 200
    return [a.text_content() for a in lxml_html.fromstring(response.text).xpath("//ol//h2/a")]


def test_the_word_and_its_compounds_rank_above_stem_cousins(client: TestClient) -> None:
    titles = _titles(client, q="Fähre")
    assert titles[:2] == ["Fähre läuft auf Grund", "Insel abgeschnitten"]
    assert set(titles[2:]) <= {"Pendler fahren wieder", "Autofahrer zahlen mehr", "Züge fahren nicht"}


def test_snippet_marks_the_match_and_escapes_the_text(client: TestClient) -> None:
    response = client.get("/suche", params={"q": "Autofähre"})
    assert_valid_html(response.content)
    doc = lxml_html.fromstring(response.text)
    snippet = doc.xpath("//p[@class='snippet']")[0]
    assert snippet.xpath("./mark/text()") == ["Autofähre"]
    assert "Vorräte werden knapp" in snippet.text_content()


def test_snippet_of_hostile_text_is_text() -> None:
    body = 'Vorher <script>alert(1)</script> „Fähre“ & <b onmouseover="x">mehr</b>'
    out = str(ranking.snippet(["fähre"], body))
    assert "<script>" not in out and "<b " not in out
    assert "&lt;script&gt;" in out and "<mark>Fähre</mark>" in out and "&amp;" in out


def test_filters_and_sort_by_date(client: TestClient) -> None:
    # Newest original first ("fahren" also finds its stem cousin "Fähre", of 5 November).
    newest_first = [t for t, _, _ in reversed(ARTICLES) if t != "Insel abgeschnitten"]
    assert _titles(client, q="fahren", sortierung="datum") == newest_first
    # Original dates 1..5 November; the range keeps 2 and 3.
    assert sorted(_titles(client, q="fahren", von="2026-11-02", bis="2026-11-03")) == [
        "Autofahrer zahlen mehr",
        "Züge fahren nicht",
    ]
    # Source 1 (Harbour Ledger) has the odd days.
    assert _titles(client, q="Fähre", quelle="1") == [
        "Fähre läuft auf Grund",
        "Pendler fahren wieder",
        "Züge fahren nicht",
    ]
    assert _titles(client, q="Fähre", art="opinion") == []
    assert len(_titles(client, q="Fähre", art="news")) == 5
    page = client.get("/suche", params={"q": "Fähre", "von": "gestern"}).text
    assert "Von-Datum „gestern“ ist kein Datum" in page


def test_filters_survive_in_page_links() -> None:
    filters = ranking.Filters(source_id=2, genre="analysis", sort="datum")
    assert ranking.filter_params(filters) == [("quelle", "2"), ("art", "analysis"), ("sortierung", "datum")]
