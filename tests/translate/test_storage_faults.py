"""Storage faults: one clear line and a non-zero exit from every command, and a translate run that
meets a full disk gives its lease back instead of leaving the item `in_progress`.

The full disk is SQLite's own: `PRAGMA max_page_count` at the current size makes every write that
needs a new page fail with SQLITE_FULL ("database or disk is full"), as on a full file system. A
read-only data directory and a lock held past busy_timeout cannot be made for root in a test
container (root writes through chmod, and busy_timeout is 30 s), so those are the same
OperationalError SQLite raises, injected at the storage layer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import STORAGE_FAULT_EXIT, app
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.store import db as store_db
from presseschau.store.models import Article, Translation
from presseschau.store.queue import enqueue_translation

from .conftest import FakeEngine

LONG_PARAGRAPHS = [Paragraph("p", f"The market rose sharply in town number {n}. " * 12) for n in range(60)]


def _queue_long_article(context: AppContext) -> int:
    with context.database.session() as session:
        article = Article(
            url="https://ex.org/long",
            canonical_url="https://ex.org/long",
            title="The market rose",
            paragraphs=paragraphs_to_json(LONG_PARAGRAPHS),
            language="en",
            fetch_status="ok",
        )
        session.add(article)
        session.flush()
        enqueue_translation(session, article, "de")
        return article.id


@pytest.fixture
def full_disk(data_dir: Path) -> Iterator[AppContext]:
    """A database whose every further page is refused as SQLite refuses it on a full disk."""
    context = AppContext.for_data_dir(data_dir)
    _queue_long_article(context)
    engine = context.database.engine
    with engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()

    def no_more_pages(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages)}")

    event.listen(engine, "connect", no_more_pages)
    engine.dispose()  # every pooled connection gets the limit
    yield context
    event.remove(engine, "connect", no_more_pages)
    engine.dispose()
    context.close()


def test_a_full_disk_gives_the_lease_back_and_says_so(
    full_disk: AppContext, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AppContext, "for_data_dir", classmethod(lambda cls, *args, **kwargs: full_disk))
    monkeypatch.setattr(AppContext, "close", lambda self: None)
    result = CliRunner().invoke(app, ["translate", "--engine", "fake"])
    assert result.exit_code == STORAGE_FAULT_EXIT, result.output
    assert "Traceback" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert str(full_disk.settings.data_dir) in line and "disk is full" in line
    with full_disk.database.session() as session:
        translation = session.scalars(select(Translation)).one()
        # Back in the queue at once, without an attempt spent on a fault that is not the article's.
        assert (translation.status, translation.lease_owner, translation.attempts) == ("queued", None, 0)


def _fault(message: str) -> OperationalError:
    return OperationalError("PRAGMA journal_mode=WAL", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("unable to open database file", "cannot open"),
        ("attempt to write a readonly database", "read-only"),
        ("database is locked", "busy timeout (30 s)"),
        ("database or disk is full", "disk is full"),
        ("disk I/O error", "disk I/O error"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["sources", "list"],
        ["articles", "list"],
        ["fetch"],
        ["translate"],
        ["publish", "--all"],
        ["serve", "--port", "1"],
        ["build", "site"],
        ["run", "--once"],
    ],
)
def test_every_command_names_the_file_and_the_cause(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], message: str, cause: str
) -> None:
    def broken(self: store_db.Database) -> None:
        raise _fault(message)

    monkeypatch.setattr(store_db.Database, "migrate", broken)
    result = CliRunner().invoke(app, ["--data", str(data_dir), *command])
    assert result.exit_code == STORAGE_FAULT_EXIT, (command, result.output, result.exception)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: database ") and str(data_dir) in lines[-1] and cause in lines[-1], lines
    assert "Traceback" not in result.output


def test_a_full_disk_while_writing_files_is_one_line(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    real_replace = os.replace

    def no_space(source: Any, target: Any, **dir_fds: Any) -> None:
        if str(target).endswith("index.html"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_replace(source, target, **dir_fds)

    monkeypatch.setattr(os, "replace", no_space)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "build", str(tmp_path / "out")])
    assert result.exit_code == STORAGE_FAULT_EXIT, result.output
    assert "No space left on device" in result.output and str(tmp_path / "out") in result.output
    assert "Traceback" not in result.output
