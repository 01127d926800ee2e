"""A feed with more new entries than one poll may fetch loses none of them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.ingest import polling
from presseschau.ingest.polling import fetch_sources
from presseschau.ingest.sources import add_source
from presseschau.store.models import Article, Source, utcnow
from tests.pipeline.newssite import generate_articles, serve_news_site


def test_entries_beyond_the_per_poll_cap_come_in_a_catch_up_poll(
    context: AppContext, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(polling, "MAX_ENTRIES_PER_POLL", 3)
    feed_url = serve_news_site(httpserver, generate_articles(7, seed=2, paragraphs=3))
    source_id = add_source(context.database, context.settings, feed_url, name="Loopback", poll_interval_s=3600).id

    def stored() -> int:
        with context.database.session() as session:
            return int(session.scalar(select(func.count()).select_from(Article)) or 0)

    def next_poll_in() -> timedelta:
        with context.database.session() as session:
            source = session.get_one(Source, source_id)
            assert source.next_poll_at is not None
            return source.next_poll_at - utcnow()

    assert fetch_sources(context.database, context.settings).articles_new == 3
    assert stored() == 3
    assert next_poll_in() < timedelta(seconds=polling.BACKLOG_POLL_DELAY_S * 1.2)  # catch-up soon
    assert fetch_sources(context.database, context.settings).articles_new == 3
    assert fetch_sources(context.database, context.settings).articles_new == 1
    assert stored() == 7
    assert next_poll_in() > timedelta(minutes=50)  # backlog done: the normal interval again
    assert fetch_sources(context.database, context.settings).articles_new == 0
