"""Database engine, sessions and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from presseschau.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class DatabaseNotInitialized(RuntimeError):
    """The database has no schema, or an older one: run `presseschau init` (it migrates)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web server read while the pipeline writes; busy_timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _make_private(database: Path) -> None:
    """Create the SQLite file 0600 (it holds password hashes, like `secret_key`); SQLite gives its
    -wal and -shm files the database file's permissions. An existing file is tightened when it is
    ours to change (an older version created it 0644)."""
    try:
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    except OSError:  # e.g. a read-only data directory: opening will say so clearly
        return
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        try:
            if path.exists() and stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)
        except OSError:  # not our file, or a read-only file system: leave it
            continue


def make_engine(url: str, **engine_options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            _make_private(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **engine_options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **engine_options)


# Keys of the PostgreSQL advisory locks `one_at_a_time` takes (fixed numbers no other lock uses).
GROUPING_LOCK = 0x5072_6573_7365
NEWSLETTER_LOCK = 0x5072_6573_7366


def one_at_a_time(session: Session, key: int) -> None:
    """On PostgreSQL, wait until no other transaction holds lock `key`, and hold it to the end of this
    transaction: for work that reads, then writes what it read (another transaction's changes are
    seen once it has ended). SQLite serializes writers already; there this does nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


@contextmanager
def session_scope(new_session: Callable[[], Session]) -> Iterator[Session]:
    """A session from `new_session` that commits on success, rolls back on any error (an
    interrupt too) and is closed either way: the one transaction scope of the project."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (idempotent)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


class Database:
    """One engine and session factory per process, for one settings object."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.effective_database_url
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        migrate(self.url)

    def ensure_current(self) -> None:
        """Raise `DatabaseNotInitialized` unless the schema is at the newest migration."""
        have, want = current_revision(self.engine), head_revision(self.url)
        if have != want:
            raise DatabaseNotInitialized(
                f"database {make_url(self.url).render_as_string(hide_password=True)} is at schema "
                f"revision {have or 'none'}, expected {want}: run `presseschau init` to create or migrate it"
            )

    def session(self) -> AbstractContextManager[Session]:
        """A session that commits on success and rolls back on error."""
        return session_scope(self.sessions)

    def dispose(self) -> None:
        self.engine.dispose()
