"""Backups of a data directory as one archive, and their restore into an empty directory.

An archive is a gzip-compressed tar file with `manifest.json` first, then the SQLite database (a
consistent copy made with SQLite's online backup API, so `presseschau run` may write meanwhile) and
the data directory's own files: settings, the admin signing key, glossaries. Models are large and
can be pulled again: they are included only on request. A PostgreSQL database is not copied (its
own `pg_dump` does that consistently); the archive then holds the files only and says so.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import make_url

from presseschau.config import CONFIG_FILE_NAME, Settings

FORMAT = "presseschau-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BACKUPS_DIR = "backups"  # inside the data directory: where backups may be kept, never backed up
DATABASE_MEMBER = "database/presseschau.sqlite3"
FILES_PREFIX = "files/"
EXTERNAL_GLOSSARY_PREFIX = "external-glossary/"
EXTERNAL_SECRET_PREFIX = "external-secret/"
# Never copied as files: the live database (copied through the backup API instead), SQLite's
# side files, the Celery beat schedule (rebuilt on start) and models unless asked for.
_SKIPPED_NAMES = {"celerybeat-schedule", "celerybeat-schedule.db"}
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class BackupError(RuntimeError):
    """A backup cannot be written or an archive cannot be restored; the message says which file and why."""


@dataclass
class BackupReport:
    archive: Path
    database: str  # "sqlite" | "postgresql (not included: use pg_dump)" | ...
    files: list[str] = field(default_factory=list)
    size_bytes: int = 0


@dataclass
class RestoreReport:
    data_dir: Path
    database: bool
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file of `settings`, or None for another database (PostgreSQL)."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database `source` at `target`, taken in one step of SQLite's
    online backup API: writers are held off only for the copy itself and readers never."""
    if not source.is_file():
        raise BackupError(f"database {source} does not exist: nothing to back up (run `presseschau init` first)")
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)) as live:
            live.execute("PRAGMA busy_timeout=60000")
            with closing(sqlite3.connect(target)) as copy:
                live.backup(copy, pages=-1)  # all pages at once: one snapshot, never a torn copy
                copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    except sqlite3.Error as error:
        raise BackupError(f"cannot copy database {source}: {error}") from None


def _data_files(settings: Settings, database: Path | None, include_models: bool) -> Iterator[tuple[Path, str]]:
    """(path, archive name) of every regular file of the data directory that belongs in a backup."""
    data_dir = settings.data_dir
    skipped = {Path(f"{database}{suffix}") for suffix in _SQLITE_SUFFIXES} if database else set()
    models = settings.effective_models_dir.resolve()
    static = settings.static_output_dir.resolve() if settings.static_output_dir else None
    for root, dirs, names in os.walk(data_dir):
        here = Path(root).resolve()
        # The static build is output (rebuilt by `build`); models are optional; earlier backups
        # kept in the data directory's `backups/` would make every backup larger than the last.
        dirs[:] = sorted(
            name
            for name in dirs
            if (include_models or (here / name) != models)
            and (static is None or (here / name) != static)
            and (here / name) != data_dir.resolve() / BACKUPS_DIR
        )
        for name in sorted(names):
            path = here / name
            if (
                name in _SKIPPED_NAMES
                or name.endswith(".partial")
                or path in skipped
                or path.is_symlink()
                or not path.is_file()
            ):
                continue
            yield path, FILES_PREFIX + path.relative_to(data_dir.resolve()).as_posix()
    if include_models and models.is_dir() and not models.is_relative_to(data_dir.resolve()):
        for path in sorted(models.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path, FILES_PREFIX + "models/" + path.relative_to(models).as_posix()


def _external_files(settings: Settings) -> Iterator[tuple[Path, str]]:
    """The admin key and the glossary when they live outside the data directory."""
    data_dir = settings.data_dir.resolve()
    for configured, prefix in (
        (settings.secret_key_path, EXTERNAL_SECRET_PREFIX),
        (settings.glossary_path, EXTERNAL_GLOSSARY_PREFIX),
    ):
        if configured is None:
            continue
        path = (configured if configured.is_absolute() else data_dir / configured).resolve()
        if path.is_file() and not path.is_relative_to(data_dir):
            yield path, prefix + path.name


def _add_bytes(archive: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(payload))


def create_backup(
    settings: Settings, target: Path, include_models: bool = False, schema: str | None = None
) -> BackupReport:
    """Write the backup archive of `settings`' data directory to `target` (atomically: a partial
    archive is never left under the final name)."""
    target = target.resolve()
    if not settings.data_dir.is_dir():
        raise BackupError(f"data directory {settings.data_dir} does not exist: nothing to back up")
    database = sqlite_path(settings)
    kind = "sqlite" if database else f"{make_url(settings.effective_database_url).get_backend_name()} (not included)"
    report = BackupReport(archive=target, database=kind)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="presseschau-backup-") as scratch:
            files = [item for item in _data_files(settings, database, include_models) if item[0] != target]
            files += list(_external_files(settings))
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "schema_revision": schema,
                "database": kind,
                "files": [name for _, name in files],
            }
            with tarfile.open(partial, "w:gz") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
                if database is not None:
                    copy = Path(scratch) / "presseschau.sqlite3"
                    copy_sqlite(database, copy)
                    archive.add(copy, DATABASE_MEMBER, recursive=False)
                for path, name in files:
                    archive.add(path, name, recursive=False)
                    report.files.append(name)
        os.chmod(partial, 0o600)  # it holds password hashes and the signing key
        partial.replace(target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise BackupError(f"cannot write backup {target}: {error.strerror or error}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    report.size_bytes = target.stat().st_size
    return report


def _read_manifest(archive: tarfile.TarFile, source: Path) -> dict[str, object]:
    try:
        member = archive.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a presseschau backup (no {MANIFEST} of format {FORMAT!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{source}: backup format version {manifest.get('format_version')!r} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    return manifest


def _safe_destination(data_dir: Path, name: str, source: Path) -> Path | None:
    """Where member `name` goes inside `data_dir`, or None for members that are not files of the
    data directory. A name that would leave it (`..`, absolute) is refused."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        raise BackupError(f"{source}: member {name!r} points outside the data directory; archive refused")
    if name == DATABASE_MEMBER:
        return data_dir / "presseschau.sqlite3"
    for prefix in (FILES_PREFIX, EXTERNAL_GLOSSARY_PREFIX):
        if name.startswith(prefix) and len(pure.parts) > 1:
            return data_dir.joinpath(*pure.parts[1:])
    if name.startswith(EXTERNAL_SECRET_PREFIX):
        return data_dir / "secret_key"
    return None


def check_empty(data_dir: Path) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"{data_dir} is not a directory: restore needs an empty or new data directory")
    if data_dir.is_dir():
        entries = sorted(entry.name for entry in data_dir.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
            raise BackupError(
                f"data directory {data_dir} is not empty ({len(entries)} entries: {shown}); "
                "restore only into an empty or new directory, so that nothing there is overwritten"
            )


def restore_backup(source: Path, data_dir: Path) -> RestoreReport:
    """Unpack the archive `source` into the empty or new directory `data_dir` and check the
    database's integrity. Nothing is written unless the archive is readable and valid."""
    data_dir = data_dir.resolve()
    check_empty(data_dir)
    if not source.is_file():
        raise BackupError(f"backup {source} does not exist or is not a file")
    report = RestoreReport(data_dir=data_dir, database=False)
    existed = data_dir.exists()
    try:
        _unpack(source, data_dir, report)
        if report.database:
            _check_integrity(data_dir / "presseschau.sqlite3")
    except BaseException:
        # The directory was empty or new: take back what this restore wrote, never anything else.
        if data_dir.is_dir():
            _remove_tree(data_dir, keep_root=existed)
        raise
    return report


def _remove_tree(root: Path, keep_root: bool) -> None:
    for path in sorted(root.rglob("*"), key=lambda item: len(item.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    if not keep_root:
        root.rmdir()


def _unpack(source: Path, data_dir: Path, report: RestoreReport) -> None:
    try:
        with tarfile.open(source, "r:*") as archive:
            _read_manifest(archive, source)
            members = archive.getmembers()
            plan = [(member, _safe_destination(data_dir, member.name, source)) for member in members]
            for member, destination in plan:
                if destination is not None and not member.isfile():
                    raise BackupError(f"{source}: member {member.name!r} is not a regular file; archive refused")
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            for member, destination in plan:
                if destination is None:
                    continue
                _extract(archive, member, destination)
                if member.name == DATABASE_MEMBER:
                    report.database = True
                else:
                    report.files.append(destination.relative_to(data_dir).as_posix())
                for prefix, what, key in (
                    (EXTERNAL_GLOSSARY_PREFIX, "glossary", "glossary_path"),
                    (EXTERNAL_SECRET_PREFIX, "admin signing key", "secret_key_path"),
                ):
                    if member.name.startswith(prefix):
                        report.notes.append(
                            f"the {what} lived outside the data directory; restored as {destination}: "
                            f"set {key} = {destination.name!r} in {CONFIG_FILE_NAME}"
                        )
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"cannot read backup {source}: {getattr(error, 'strerror', None) or error}") from None


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, destination: Path) -> None:
    reader = archive.extractfile(member)
    if reader is None:
        raise BackupError(f"member {member.name!r} cannot be read")
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, member.mode & 0o700 or 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := reader.read(1 << 20):
            out.write(chunk)


def _check_integrity(database: Path) -> None:
    try:
        with closing(sqlite3.connect(database)) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"restored database {database} cannot be opened: {error}") from None
    if not result or result[0] != "ok":
        raise BackupError(f"restored database {database} failed its integrity check: {result}")
