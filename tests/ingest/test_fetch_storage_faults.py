"""A storage fault during `fetch` and `run --once` (issue 22, item 4): one clear line, exit status 3,
no traceback anywhere (console or log), the run stops at once instead of trying every source, and
no source is counted as failed or put into backoff for the machine's disk."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import STORAGE_FAULT_EXIT, app
from presseschau.ingest.sources import create_source
from presseschau.store.models import Source
from tests.ingest.conftest import NewsSite, news_site, threaded_server  # noqa: F401 -- fixtures


@pytest.fixture
def full_disk_with_sources(data_dir: Path, news_site: NewsSite) -> Iterator[AppContext]:  # noqa: F811
    context = AppContext.for_data_dir(data_dir, allow_private_addresses=True, politeness_delay_s=0.0)
    for path in ("/rss.xml", "/atom.xml", "/feed.json"):
        create_source(context.database, context.settings, news_site.url(path))
    engine = context.database.engine
    with engine.connect() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar_one()

    def no_more_pages(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {int(pages)}")

    event.listen(engine, "connect", no_more_pages)
    engine.dispose()
    yield context
    event.remove(engine, "connect", no_more_pages)
    engine.dispose()
    context.close()


@pytest.mark.parametrize("command", [["fetch"], ["run", "--once", "--no-serve"]])
def test_a_full_disk_is_one_line_and_no_source_failure(
    full_disk_with_sources: AppContext,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    command: list[str],
) -> None:
    context = full_disk_with_sources
    monkeypatch.setattr(AppContext, "for_data_dir", classmethod(lambda cls, *args, **kwargs: context))
    monkeypatch.setattr(AppContext, "close", lambda self: None)
    caplog.set_level(logging.INFO)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == STORAGE_FAULT_EXIT, result.output
    assert "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: database ")
    assert "disk is full" in result.output
    assert not [record for record in caplog.records if record.exc_info], [r.getMessage() for r in caplog.records]
    with context.database.session() as session:
        failures = [(s.url, s.consecutive_failures, s.last_status) for s in session.scalars(select(Source))]
    assert all(count == 0 for _, count, _ in failures), failures
