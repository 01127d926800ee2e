"""The command line as a newcomer meets it: help without `<bool>` on flags, numbers checked,
locked users visible, times in the configured zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.cli.output import use_timezone, when
from presseschau.editorial.users import add_user, set_disabled
from presseschau.store.models import User


def test_help_shows_no_type_for_flags() -> None:
    result = CliRunner().invoke(app, ["articles", "list", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    # Options that take a value keep their type and range (every whole number is bounded: cli/params.py).
    assert "<int range>" in result.output and "[1<=x<=" in result.output


def test_articles_list_refuses_a_negative_limit(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(data_dir), "articles", "list", "--limit", "-5"])
    assert result.exit_code == 2
    assert "greater than or equal to 1" in result.output


def test_users_list_shows_locked_and_disabled_users(data_dir: Path) -> None:
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        add_user(session, "anna", "korrekt pferd batterie", role="admin")
        add_user(session, "bert", "korrekt pferd batterie", role="editor")
        add_user(session, "carl", "korrekt pferd batterie", role="editor")
    with context.database.session() as session:
        session.query(User).filter_by(name="bert").one().locked_until = datetime.now(UTC) + timedelta(minutes=15)
        set_disabled(session, "carl", True)
    context.close()
    result = CliRunner().invoke(app, ["--data", str(data_dir), "users", "list"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    rows = {
        name: next(line for line in result.output.splitlines() if name in line) for name in ("anna", "bert", "carl")
    }
    assert "active" in rows["anna"]
    assert "locked until" in rows["bert"]
    assert "disabled" in rows["carl"]


def test_times_are_local_with_their_offset() -> None:
    use_timezone("Europe/Berlin")
    try:
        assert when(datetime(2026, 12, 6, 5, 30, tzinfo=UTC)) == "2026-12-06 06:30 +01:00"
        assert when(datetime(2026, 7, 6, 5, 30)) == "2026-07-06 07:30 +02:00"  # naive: stored UTC
    finally:
        use_timezone("UTC")
