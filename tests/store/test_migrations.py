from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from presseschau.app import AppContext
from presseschau.store import Article, Database, DatabaseNotInitialized, Source, Translation
from presseschau.store.models import Base, include_object


def test_migrations_match_models(context: AppContext) -> None:
    """The Alembic history must create exactly the schema the models describe."""
    with context.database.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"include_object": include_object}), Base.metadata
        )
    assert diff == []


def test_sqlite_runs_in_wal_mode(context: AppContext) -> None:
    with context.database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_migrate_is_idempotent(context: AppContext) -> None:
    context.database.migrate()
    context.database.migrate()
    context.database.ensure_current()
    assert "articles" in inspect(context.database.engine).get_table_names()


def test_unmigrated_database_gives_clear_error(data_dir: Path) -> None:
    database = Database(AppContext.for_data_dir(data_dir).settings)
    with pytest.raises(DatabaseNotInitialized, match="presseschau init"):
        database.ensure_current()


def test_datetimes_come_back_aware(context: AppContext) -> None:
    published = datetime(2024, 2, 13, 19, 33, tzinfo=UTC)
    with context.database.session() as session:
        session.add(Article(url="https://x.example/a", canonical_url="https://x.example/a", published_at=published))
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.published_at == published
        assert article.published_at.tzinfo is not None


def test_naive_datetime_is_refused(context: AppContext) -> None:
    with pytest.raises(Exception, match="naive datetime"), context.database.session() as session:
        session.add(Source(url="https://x.example/feed", name="x", last_polled_at=datetime(2024, 1, 1)))


def test_canonical_url_and_translation_language_are_unique(context: AppContext) -> None:
    with context.database.session() as session:
        article = Article(url="https://x.example/a", canonical_url="https://x.example/a")
        session.add(article)
        session.flush()
        session.add(Translation(article_id=article.id, language="de"))
    with pytest.raises(IntegrityError), context.database.session() as session:
        session.add(Article(url="https://x.example/b", canonical_url="https://x.example/a"))


@pytest.mark.postgres
def test_same_schema_on_postgresql(postgres_url: str, data_dir: Path) -> None:
    ctx = AppContext.for_data_dir(data_dir, database_url=postgres_url)
    try:
        with ctx.database.engine.connect() as connection:
            assert (
                compare_metadata(
                    MigrationContext.configure(connection, opts={"include_object": include_object}), Base.metadata
                )
                == []
            )
        with ctx.database.session() as session:
            session.add(
                Article(
                    url="https://x.example/a",
                    canonical_url="https://x.example/a",
                    published_at=datetime(2024, 2, 13, 19, 33, tzinfo=UTC),
                )
            )
        with ctx.database.session() as session:
            assert session.scalars(select(Article)).one().published_at == datetime(2024, 2, 13, 19, 33, tzinfo=UTC)
    finally:
        ctx.close()


def test_midnight_dates_stored_before_0006_become_date_only(data_dir: Path) -> None:
    from presseschau.store.db import migrate

    settings = AppContext.for_data_dir(data_dir).settings
    url = settings.effective_database_url
    migrate(url, "0005_revoked_sessions")
    database = Database(settings)
    with database.engine.begin() as connection:
        for n, moment in enumerate(["2026-11-05 00:00:00.000000", "2026-11-05 12:40:00.000000"]):
            connection.execute(
                text(
                    "INSERT INTO articles (url, canonical_url, published_at, authors, paragraphs, revision, "
                    "fetch_status, fetch_attempts, discovered_at) VALUES (:u, :u, :p, '[]', '[]', 0, 'ok', 0, :p)"
                ),
                {"u": f"https://x.example/{n}", "p": moment},
            )
    migrate(url)
    with database.session() as session:
        flags = {a.canonical_url: a.published_date_only for a in session.scalars(select(Article))}
    assert flags == {"https://x.example/0": True, "https://x.example/1": False}
    database.engine.dispose()
