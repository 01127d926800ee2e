"""`presseschau translate` when nothing can be translated: the reason once, a non-zero exit."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.translate.models.catalog import CATALOG
from tests.translate.test_service import add_article


@pytest.fixture
def unreachable_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # No model installed, and its download fails at once (nothing listens on port 9).
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", replace(CATALOG["opus-mt-en-de"], url="http://127.0.0.1:9/x.zip"))


def test_no_model_is_said_once_and_fails(data_dir: Path, unreachable_model: None) -> None:
    context = AppContext.for_data_dir(data_dir)
    add_article(context, 31)
    add_article(context, 32)
    context.close()
    command = ["--data", str(data_dir), "translate", "--engine", "ct2"]
    first = CliRunner().invoke(app, command)
    assert first.exit_code == 1, first.output
    assert first.output.count("models pull") == 1, first.output
    assert "Error: nothing more translated: EngineNotReady" in first.output
    # The engine is paused now: the next run translates nothing, says why, and fails too.
    second = CliRunner().invoke(app, command)
    assert second.exit_code == 1, second.output
    assert "0 done" in second.output
    assert "nothing translated: 2 articles wait; ct2 is paused until " in second.output
    assert second.output.count("models pull") == 1
    # Times in the configured zone, with the offset.
    assert "+01:00" in second.output or "+02:00" in second.output


def test_an_empty_queue_is_no_failure(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(data_dir), "translate"])
    assert result.exit_code == 0
    assert "Nothing to translate: the queue is empty." in result.output
