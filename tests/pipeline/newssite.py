"""A fake English news site on loopback: an RSS feed of N generated articles and their pages.

Used by the end-to-end tests and by `bench/pipeline.py`. Articles are distinct, plausible English
(so language detection and extraction behave as on real pages), deterministic per seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from pytest_httpserver import HTTPServer

CITIES = ["Rotterdam", "Lisbon", "Dakar", "Warsaw", "Montreal", "Nairobi", "Osaka", "Valparaíso", "Tbilisi", "Perth"]
SUBJECTS = [
    "the city council",
    "the regional transport authority",
    "a coalition of local farmers",
    "the national statistics office",
    "researchers at the university",
    "the port operator",
    "a group of independent auditors",
    "the health ministry",
]
ACTIONS = [
    "approved a plan to expand",
    "published a report on",
    "raised concerns about",
    "announced new funding for",
    "called for a review of",
    "presented early results on",
]
OBJECTS = [
    "the tram network",
    "flood defences along the river",
    "rents in the old town",
    "water quality in the harbour",
    "the supply of affordable housing",
    "wind farms off the coast",
    "night trains to the capital",
    "school meals in rural districts",
]
CLAUSES = [
    "officials said on {day}",
    "according to figures released this week",
    "although critics argue the timetable is unrealistic",
    "a decision that could affect {n:,} residents",
    "after months of negotiations with unions",
    "in a move welcomed by local businesses",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


@dataclass(frozen=True)
class GeneratedArticle:
    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str


def _sentence(rng: random.Random) -> str:
    clause = rng.choice(CLAUSES).format(day=rng.choice(DAYS), n=rng.randint(1200, 250000))
    return (
        f"{rng.choice(SUBJECTS).capitalize()} in {rng.choice(CITIES)} {rng.choice(ACTIONS)} "
        f"{rng.choice(OBJECTS)}, {clause}."
    )


def generate_articles(count: int, seed: int = 7, paragraphs: int = 6) -> list[GeneratedArticle]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    articles = []
    for index in range(count):
        city = rng.choice(CITIES)
        title = f"{city} weighs its options as {rng.choice(OBJECTS)} come under scrutiny (report {index + 1})"
        body = [" ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(paragraphs)]
        articles.append(
            GeneratedArticle(
                slug=f"story-{index + 1:04d}",
                title=title,
                paragraphs=body,
                published=start + timedelta(hours=5 * index),
                author=rng.choice(["Maria Santos", "Tom Becker", "Aisha Diallo", "Kenji Mori"]),
            )
        )
    return articles


def article_page(article: GeneratedArticle, url: str) -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(article.title)} | The Loopback Times</title>
<link rel="canonical" href="{url}">
<meta property="og:site_name" content="The Loopback Times">
<meta name="author" content="{article.author}">
<meta property="article:published_time" content="{article.published.isoformat()}">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main><article><h1>{escape(article.title)}</h1>
<p class="byline">By {article.author}, <time datetime="{article.published.isoformat()}">
{article.published:%B %d, %Y}</time></p>
{body}
</article></main>
<footer><p>© 2026 The Loopback Times. All rights reserved.</p></footer>
</body></html>"""


def rss_feed(articles: list[GeneratedArticle], base_url: str) -> str:
    items = "\n".join(
        f"""<item><title>{escape(a.title)}</title><link>{base_url}/news/{a.slug}</link>
<guid>{base_url}/news/{a.slug}</guid><pubDate>{format_datetime(a.published)}</pubDate>
<description>{escape(a.paragraphs[0][:120])}</description></item>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>The Loopback Times</title><link>{base_url}/</link>
<description>News from loopback</description>{items}</channel></rss>"""


def serve_news_site(server: HTTPServer, articles: list[GeneratedArticle]) -> str:
    """Register the feed and article pages on `server`; returns the feed URL."""
    base_url = server.url_for("").rstrip("/")
    server.expect_request("/feed.xml").respond_with_data(
        rss_feed(articles, base_url), content_type="application/rss+xml"
    )
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    for article in articles:
        url = f"{base_url}/news/{article.slug}"
        server.expect_request(f"/news/{article.slug}").respond_with_data(
            article_page(article, url), content_type="text/html; charset=utf-8"
        )
    return f"{base_url}/feed.xml"
