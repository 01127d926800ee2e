"""Per-process application context shared by the CLI, the web app and the service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

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

    def with_settings(self, settings: Settings) -> AppContext:
        """A context for derived settings (the address a server listens on, a build's public base
        URL) that shares this one's database and console; this one is left as it was."""
        if settings.effective_database_url != self.settings.effective_database_url:
            raise ValueError("derived settings must keep the database")
        derived = AppContext(settings=settings, console=self.console)
        derived._database = self.database
        return derived

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()
            self._database = None
