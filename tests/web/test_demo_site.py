"""What readers see on the demo set (`presseschau demo`): related articles that relate, search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.publish.queries import rank_related
from presseschau.web import app as web_app
from presseschau.web.app import create_app
from tests.demo_site import load_demo_site


@pytest.fixture
def demo(context: AppContext) -> dict[str, str]:
    return load_demo_site(context)


@pytest.fixture
def client(context: AppContext, demo: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with TestClient(create_app(context)) as test_client:
        yield test_client


def test_no_demo_article_is_related_by_one_ambiguous_word(client: TestClient, demo: dict[str, str]) -> None:
    # "Bank of England" and the "Skarven-Bank" fishing story shared only "Bank" and were related.
    # The nine demo articles are about nine different things: no related list beats a wrong one.
    for slug in demo.values():
        doc = lxml_html.fromstring(client.get(f"/{slug}/").text)
        related = doc.xpath("//section[@aria-labelledby='verwandt']//a/@href")
        assert related == [], (slug, related)


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
