"""The original's publication time: the most precise value the page offers, date-only kept as such."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from presseschau.ingest.dates import DatedValue, dated, most_precise, url_date
from presseschau.ingest.extract import extract_article
from presseschau.ingest.feeds import FeedEntry
from presseschau.ingest.polling import _prefer_feed_time
from presseschau.pipeline.demo import load_samples

BODY = "".join(
    f"<p>Paragraph {n} of the report says what happened at the harbour and what the council plans next "
    "for the sea wall, the road and the houses behind it.</p>"
    for n in range(4)
)


def _page(head: str = "", article_head: str = "") -> str:
    return (
        f"<html lang='en'><head><title>Harbour report</title>{head}</head>"
        f"<body><article><h1>Harbour report</h1>{article_head}{BODY}</article></body></html>"
    )


def test_demo_samples_keep_the_time_of_the_original() -> None:
    # Seven of nine read "01:00" (midnight UTC from the URL's /YYYY/MM/DD/) before.
    for sample in load_samples():
        article = extract_article(sample.english.read_text(encoding="utf-8"), sample.url)
        assert article.published_at is not None
        assert not article.published_date_only, sample.url
        assert article.published_at_source == "meta:article:published_time"
    bank = next(s for s in load_samples() if "bank-of-england" in s.url)
    article = extract_article(bank.english.read_text(encoding="utf-8"), bank.url)
    assert article.published_at == datetime(2026, 11, 5, 12, 40, tzinfo=UTC)


def test_a_date_from_the_url_only_stays_date_only() -> None:
    article = extract_article(_page(), "https://paper.example/2026/11/05/harbour-report")
    assert article.published_at == datetime(2026, 11, 5, tzinfo=UTC)
    assert article.published_date_only
    assert article.published_at_source in {"trafilatura", "url"}


@pytest.mark.parametrize(
    ("head", "article_head", "source"),
    [
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": '
            '"2026-11-05T12:40:00+00:00"}</script>',
            "",
            "json-ld",
        ),
        ("", '<time datetime="2026-11-05T13:40:00+01:00">5 Nov</time>', "time-element"),
        ('<meta itemprop="datePublished" content="2026-11-05T12:40:00Z">', "", "meta:datepublished"),
    ],
)
def test_the_time_is_taken_from_json_ld_time_elements_or_microdata(head: str, article_head: str, source: str) -> None:
    article = extract_article(_page(head, article_head), "https://paper.example/2026/11/05/harbour-report")
    assert article.published_at == datetime(2026, 11, 5, 12, 40, tzinfo=UTC)
    assert not article.published_date_only
    assert article.published_at_source == source


def test_a_date_only_meta_value_is_not_made_a_time() -> None:
    article = extract_article(
        _page('<meta property="article:published_time" content="2026-11-05">'), "https://paper.example/a"
    )
    assert article.published_at == datetime(2026, 11, 5, tzinfo=UTC)
    assert article.published_date_only
    assert article.published_at_source == "meta:article:published_time"


def test_the_feed_time_completes_a_date_only_page() -> None:
    article = extract_article(_page(), "https://paper.example/2026/11/05/harbour-report")
    entry = FeedEntry(
        url="https://paper.example/2026/11/05/harbour-report", published=datetime(2026, 11, 5, 12, 40, tzinfo=UTC)
    )
    _prefer_feed_time(article, entry)
    assert (article.published_at, article.published_date_only, article.published_at_source) == (
        datetime(2026, 11, 5, 12, 40, tzinfo=UTC),
        False,
        "feed",
    )


def test_most_precise_prefers_a_time_of_the_same_day() -> None:
    day = dated("2026-11-05", "meta:date")
    assert day == DatedValue(datetime(2026, 11, 5, tzinfo=UTC), True, "meta:date")
    same_day = dated("2026-11-05T12:40:00Z", "time-element")
    other_day = dated("2025-01-01T08:00:00Z", "time-element")
    assert most_precise([day, other_day]) == day
    assert most_precise([day, other_day, same_day]) == same_day
    assert most_precise([None, url_date("https://x.example/news/story-20261105")]) == DatedValue(
        datetime(2026, 11, 5, tzinfo=UTC), True, "url"
    )
    assert url_date("https://x.example/2026/13/45/x") is None
