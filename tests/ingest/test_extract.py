"""Extraction from HTML pages and feed content into the paragraph model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from presseschau.ingest.errors import NoArticleFound
from presseschau.ingest.extract import extract_article, html_fragment_to_paragraphs

from .conftest import fixture_text

URL = "https://courier.example/feeds/item-1001?utm_source=rss"


def test_article_metadata_and_structure() -> None:
    article = extract_article(fixture_text("article-harbour.html"), URL)
    assert article.title == "Harbour town votes to rebuild its flooded sea wall"
    assert article.authors == ["Miriam Okafor"]
    assert article.outlet == "The Coastal Courier"
    assert article.published_at == datetime(2024, 3, 14, 9, 30, tzinfo=UTC)
    assert article.canonical_url == "https://courier.example/news/2024/03/harbour-sea-wall-vote"
    assert article.image_url == "https://courier.example/images/kellsby-wall.jpg"
    assert article.description is not None and article.description.startswith("Councillors in Kellsby")
    assert article.language == "en" and article.language_probability > 0.9
    kinds = [p.kind for p in article.paragraphs]
    assert kinds == ["p", "p", "h2", "p", "p", "li", "li", "li", "h2", "p", "blockquote", "p"]
    texts = [p.text for p in article.paragraphs]
    # Navigation, the ad label, "Read more", related links and the footer are gone.
    assert not any(t in {"Advertisement", "Read more"} or "All rights reserved" in t for t in texts)
    assert not any("Storm damage bill" in t for t in texts)
    assert '<a href="https://courier.example/tags/river-kell"' in article.paragraphs[1].html
    assert "<em>into</em>" in article.paragraphs[6].html
    assert article.paragraphs[10].text == "We survived the flood. I am not sure we will survive the scaffolding."


def test_canonical_on_another_site_is_not_trusted() -> None:
    page = fixture_text("article-harbour.html").replace(
        'href="/news/2024/03/harbour-sea-wall-vote"', 'href="https://other-paper.example/stolen"'
    )
    article = extract_article(page, URL)
    assert article.canonical_url == "https://courier.example/feeds/item-1001"
    trusted = extract_article(page, "file:///tmp/saved.html", trust_canonical=True)
    assert trusted.canonical_url == "https://other-paper.example/stolen"


def test_scripts_are_never_kept() -> None:
    page = fixture_text("article-orchard.html").replace(
        "Volunteers now visit",
        '<a href="javascript:alert(1)" onclick="x()">Volunteers</a> <script>evil()</script>now visit',
    )
    article = extract_article(page, URL)
    joined = " ".join(p.html for p in article.paragraphs)
    assert "javascript:" not in joined and "onclick" not in joined and "evil()" not in joined
    assert "Volunteers" in joined


def test_german_page_is_detected_as_german() -> None:
    assert extract_article(fixture_text("article-german.html"), URL).language == "de"


def test_page_without_article() -> None:
    with pytest.raises(NoArticleFound, match="no article text found"):
        extract_article(fixture_text("index-page.html"), URL)


def test_feed_content_fragment_to_paragraphs() -> None:
    fragment = (
        "Intro text with <b>bold</b><br><br>second block"
        "<h2>Heading</h2><ul><li>one</li><li>two <a href='/x'>link</a></li></ul>"
        "<blockquote><p>quoted one</p><p>quoted two</p></blockquote>"
        "<figure><img src='a.jpg'><figcaption>caption</figcaption></figure><p>Advertisement</p><p>end</p>"
    )
    paragraphs = html_fragment_to_paragraphs(fragment, "https://courier.example/news/a")
    assert [(p.kind, p.text) for p in paragraphs] == [
        ("p", "Intro text with bold"),
        ("p", "second block"),
        ("h2", "Heading"),
        ("li", "one"),
        ("li", "two link"),
        ("blockquote", "quoted one"),
        ("blockquote", "quoted two"),
        ("p", "end"),
    ]
    assert 'href="https://courier.example/x"' in paragraphs[4].html
