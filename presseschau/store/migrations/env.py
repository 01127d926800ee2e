"""Alembic environment: runs presseschau's migrations against the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, pool, text

from presseschau.store.db import make_engine
from presseschau.store.models import Base, include_object

config = context.config
# Key of the PostgreSQL advisory lock that serializes migrations: the containers of a compose file
# (web, workers, beat) all migrate at start, at the same moment.
MIGRATION_LOCK = 0x5072_6573_7367


def _one_migrator_at_a_time(connection: Connection) -> None:
    """Hold the migration lock to the end of the transaction; the migrations that follow read the
    schema revision only once the lock is held, so a second process finds the schema current."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(
            connection=connectable,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, poolclass=pool.NullPool)  # migrations need no pooled connections
    with engine.connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode recreates tables instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            _one_migrator_at_a_time(connection)
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
