"""The bundled demo articles, imported, translated from their human German versions and published:
the set a new user sees after `presseschau demo`, for tests of what readers see.

Publishing the set takes seconds and a dozen tests ask for it, so the first load in a pytest process
keeps a copy of the SQLite database, and later loads into an empty SQLite database with the same
settings copy it back (SQLite's backup API) instead of publishing again."""

from __future__ import annotations

import atexit
import json
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from presseschau.app import AppContext
from presseschau.pipeline.demo import attach_sample_sources, load_samples, memory_pairs
from presseschau.store.models import Article, Publication, Translation


@dataclass(frozen=True)
class _Snapshot:
    database: Path
    slugs: dict[str, str]


# One snapshot per settings (less the data directory), for this process.
_snapshots: dict[str, _Snapshot] = {}
_snapshot_dir: Path | None = None


def load_demo_site(context: AppContext) -> dict[str, str]:
    """Publish the demo set in `context`; returns {sample URL: published slug}."""
    database_file = _sqlite_file(context)
    if database_file is None or not _is_empty(database_file):
        # PostgreSQL, or a database a test has written to already: publish for real.
        return _publish_demo_set(context)
    key = _settings_key(context)
    snapshot = _snapshots.get(key)
    if snapshot is None:
        slugs = _publish_demo_set(context)
        _snapshots[key] = snapshot = _Snapshot(_copy(database_file, _new_snapshot_path()), slugs)
        return dict(slugs)
    _copy(snapshot.database, database_file)
    return dict(snapshot.slugs)


def _publish_demo_set(context: AppContext) -> dict[str, str]:
    from presseschau.ingest.importing import import_inputs
    from presseschau.publish.service import publisher
    from presseschau.translate.memory import TranslationMemory
    from presseschau.translate.queue import translate_queued

    settings = context.settings
    samples = load_samples()
    memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
    memory.import_pairs(memory_pairs(samples), origin="import")
    for sample in samples:
        import_inputs(context.database, context.settings, [str(sample.english)], original_url=sample.url)
    attach_sample_sources(context)
    # Published each by its source's policy, as by every entry point.
    translate_queued(context.database, context.settings, engine_name="memory", on_done=publisher(settings))
    with context.database.session() as session:
        rows = session.execute(
            select(Article.canonical_url, Publication.slug)
            .join(Translation, Translation.article_id == Article.id)
            .join(Publication, Publication.translation_id == Translation.id)
            .where(Publication.status == "published")
        ).all()
    slugs = {str(url): str(slug) for url, slug in rows}
    assert len(slugs) == len(samples), f"only {len(slugs)} of {len(samples)} demo articles were published"
    return slugs


def _sqlite_file(context: AppContext) -> Path | None:
    """The context's SQLite database file (migrated), or None for another database."""
    if not context.database.is_sqlite:
        return None
    name = make_url(context.database.url).database
    return Path(name) if name and name != ":memory:" else None


def _is_empty(database_file: Path) -> bool:
    """No row in any table but Alembic's: nothing a test wrote would be overwritten."""
    with closing(sqlite3.connect(database_file)) as connection:
        # PRAGMA table_list (SQLite 3.37) tells a full-text index's shadow tables, which hold
        # bookkeeping rows even when the index is empty, from the tables; the index itself is
        # a "virtual" table and is checked.
        tables = [
            name
            for schema, name, kind, *_ in connection.execute("PRAGMA table_list")
            if schema == "main"
            and kind in {"table", "virtual"}
            and name != "alembic_version"
            and not name.startswith("sqlite_")
        ]
        return not any(connection.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables)


def _settings_key(context: AppContext) -> str:
    settings = context.settings.model_dump(mode="json", exclude={"data_dir"})
    return json.dumps(settings, sort_keys=True)


def _new_snapshot_path() -> Path:
    global _snapshot_dir
    if _snapshot_dir is None:
        _snapshot_dir = Path(tempfile.mkdtemp(prefix="presseschau-demo-snapshots-"))
        atexit.register(shutil.rmtree, _snapshot_dir, ignore_errors=True)
    return _snapshot_dir / f"demo-{len(_snapshots)}.sqlite3"


def _copy(source: Path, target: Path) -> Path:
    """Copy SQLite database `source` onto `target` with SQLite's backup API: consistent while the
    source is open in WAL mode, and the target's open connections see the new content."""
    with closing(sqlite3.connect(source)) as reader, closing(sqlite3.connect(target)) as writer:
        reader.backup(writer)
    return target
