"""An editor rejects an article a filter held (issue 23 item 9, bulk actions on the held list): it
stays stored, is never translated, leaves the list, and later revisions and refilters keep it so."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.articles import reject_article, release_article
from presseschau.ingest.errors import InvalidInput
from presseschau.ingest.extract import extract_article
from presseschau.ingest.filters import build_filters
from presseschau.ingest.polling import fetch_sources
from presseschau.ingest.sources import (
    add_source,
    filtered_articles,
    refilter_source,
    update_source,
)
from presseschau.ingest.storing import store_extracted
from presseschau.store.models import Article, Source, Translation

from .conftest import NewsSite, fixture_text

HARBOUR_TITLE = "Harbour town votes to rebuild its flooded sea wall"


def test_a_rejected_article_stays_held_for_good(news_site: NewsSite, ingest_context: AppContext) -> None:
    database, settings = ingest_context.database, ingest_context.settings
    source = add_source(
        database, settings, news_site.url("/rss.xml"), filters=build_filters(exclude=["title:sea wall"])
    )
    fetch_sources(database, settings)
    with database.session() as session:
        harbour = session.scalars(select(Article).where(Article.title == HARBOUR_TITLE)).one()
        assert [article.id for article in filtered_articles(session)] == [harbour.id]

    rejected = reject_article(database, harbour.id, "erik")
    assert rejected.fetch_status == "rejected"
    with database.session() as session:
        assert filtered_articles(session) == []
    with pytest.raises(InvalidInput, match="is not held by a filter"):
        reject_article(database, harbour.id, "erik")
    with pytest.raises(InvalidInput, match="is not held by a filter"):
        release_article(database, settings, harbour.id, "erik")

    # Neither a refilter with rules that would let it through nor a new revision translates it.
    update_source(database, source.id, filters=None)
    report = refilter_source(database, settings, source.id)
    assert (report.held, report.released) == (0, 0)
    updated = extract_article(fixture_text("article-harbour-updated.html"), news_site.url("/news/harbour"))
    with database.session() as session:
        stored_source = session.get(Source, source.id)
        assert store_extracted(session, settings, updated, stored_source) == "filtered"
    with database.session() as session:
        article = session.get(Article, harbour.id)
        assert article is not None and (article.fetch_status, article.revision) == ("rejected", 2)
        assert session.scalars(select(Translation).where(Translation.article_id == harbour.id)).first() is None
    # A later poll finds it stored: nothing is fetched again or translated.
    again = fetch_sources(database, settings)
    assert (again.articles_new, again.failures) == (0, [])
