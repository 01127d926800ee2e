"""Per-process application context shared by the CLI, the web app and the service."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from presseschau.config import Settings, load_settings
from presseschau.store.db import Database

log = logging.getLogger("presseschau")


@dataclass
class AppContext:
    """Settings plus lazily created, process-wide resources (database, engines)."""

    settings: Settings
    console: Console = field(default_factory=lambda: Console(stderr=True))
    _database: Database | None = None

    @classmethod
    def for_data_dir(cls, data_dir: str | Path | None = None, **overrides: Any) -> AppContext:
        return cls(settings=load_settings(data_dir, **overrides))

    @property
    def database(self) -> Database:
        """The database, migrated to the newest schema on first use (migrations are idempotent)."""
        if self._database is None:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            database = Database(self.settings)
            database.migrate()
            self._database = database
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None


@contextmanager
def progress_bar(console: Console, description: str, total: int | None) -> Iterator[Any]:
    """A rich progress bar on stderr; yields a callable `advance(n=1, note=None)`."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}", markup=False),  # notes name sources, titles, URLs: text
        console=console,
        transient=False,
        disable=not console.is_terminal and total is not None and total <= 1,
    )
    with progress:
        task = progress.add_task(description, total=total, note="")

        def advance(n: int = 1, note: str | None = None) -> None:
            progress.update(task, advance=n, note=(note or "")[:60])

        yield advance
