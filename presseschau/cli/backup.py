"""`backup`, `restore` and `migrate`: keeping a data directory for years (copies, upgrades, downgrades)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from presseschau.app import AppContext
from presseschau.cli.output import FAILED, REFUSED, exit_on, fail
from presseschau.cli.root import app
from presseschau.config import SettingsError
from presseschau.store.backup import BackupError, create_backup, restore_backup, sqlite_path
from presseschau.store.db import alembic_config, current_revision, head_revision, make_engine


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


@app.command()
def backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz).", dir_okay=False)],
    models: Annotated[bool, typer.Option("--models", help="Include the translation models (large).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing archive.")] = False,
) -> None:
    """A consistent backup of the data directory while `run` may write: database, settings, keys, glossaries."""
    context: AppContext = ctx.obj
    settings = context.settings
    if file.exists() and not force:
        raise fail(f"{file} exists: choose another name or pass --force to replace it", REFUSED)
    if not settings.data_dir.is_dir():
        raise fail(f"data directory {settings.data_dir} does not exist: nothing to back up", REFUSED)
    context.database  # noqa: B018 -- opening it runs the migrations, as every command does
    schema = _revision(settings.effective_database_url)
    with exit_on(BackupError):
        report = create_backup(settings, file, include_models=models, schema=schema)
    typer.echo(f"Backup written: {report.archive} ({report.size_bytes / 1_000_000:.1f} MB, schema {schema})")
    if sqlite_path(settings) is not None:
        typer.echo("Database: SQLite, copied with its online backup API")
    else:
        url = make_url(settings.effective_database_url).render_as_string(hide_password=True)
        typer.echo(f"Database: NOT included ({url}); dump it with pg_dump --format=custom (see README, Deploy)")
    shown = ", ".join(report.files[:6]) + (", …" if len(report.files) > 6 else "")
    typer.echo(f"Files: {len(report.files)}" + (f" ({shown})" if report.files else ""))


@app.command()
def restore(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A backup written by `presseschau backup`.", dir_okay=False)],
) -> None:
    """Restore a backup into an empty or new data directory (--data), then bring its schema up to date."""
    context: AppContext = ctx.obj
    with exit_on(BackupError, code=REFUSED):
        report = restore_backup(file, context.settings.data_dir)
    typer.echo(
        f"Restored {file} into {report.data_dir}: {len(report.files)} files" + (", database" if report.database else "")
    )
    for note in report.notes:
        typer.echo(f"Note: {note}")
    with exit_on(SettingsError, code=REFUSED, suffix=" (restored; fix the settings, then run `presseschau migrate`)"):
        restored = AppContext.for_data_dir(report.data_dir)
    try:
        url = restored.settings.effective_database_url
        before = _revision(url) if report.database or sqlite_path(restored.settings) is None else None
        restored.database  # noqa: B018 -- opening it runs the migrations
        typer.echo(f"Schema: {before or 'none'} -> {_revision(url)}")
    finally:
        restored.close()


@app.command()
def migrate(
    ctx: typer.Context,
    to: Annotated[
        str | None, typer.Option("--to", help="Target revision (older: a downgrade); default: the newest.")
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for the database server to accept connections.")
    ] = 0.0,
) -> None:
    """Show the schema revision and migrate to the newest one, or with --to down to an older one."""
    context: AppContext = ctx.obj
    url = context.settings.effective_database_url
    context.settings.data_dir.mkdir(parents=True, exist_ok=True)
    _wait_for_database(url, wait)
    before = _revision(url)
    with exit_on(CommandError, code=REFUSED, suffix=" (see `presseschau migrate --help`)"):
        if to is None:
            command.upgrade(alembic_config(url), "head")
        else:
            # Alembic picks the direction; downgrades drop what newer versions added (take a backup first).
            if _is_older(url, to, before):
                command.downgrade(alembic_config(url), to)
            else:
                command.upgrade(alembic_config(url), to)
    typer.echo(f"Schema: {before or 'none'} -> {_revision(url)} (newest: {head_revision(url)})")


def _wait_for_database(url: str, seconds: float) -> None:
    """Return once the database at `url` answers; retry for `seconds` (a server still starting, as
    in a compose file, where no health condition is needed), then raise the last error."""
    deadline = time.monotonic() + seconds
    shown = make_url(url).render_as_string(hide_password=True)
    said = False
    while True:
        engine = make_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return
        except OperationalError as error:
            if time.monotonic() >= deadline:
                reason = (str(error.orig or error).strip().splitlines() or ["no answer"])[0]
                raise fail(f"database {shown} did not answer within {seconds:g} s: {reason}", FAILED) from None
            if not said:
                typer.echo(f"Waiting for database {shown} …", err=True)
                said = True
            time.sleep(1.0)
        finally:
            engine.dispose()


def _is_older(url: str, target: str, current: str | None) -> bool:
    """Whether revision `target` comes before `current` in the migration history."""
    from alembic.script import ScriptDirectory

    if current is None:
        return False
    script = ScriptDirectory.from_config(alembic_config(url))
    return (
        any(revision.revision == target for revision in script.iterate_revisions(current, "base")) and target != current
    )
