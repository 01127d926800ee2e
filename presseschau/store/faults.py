"""Storage faults (a full disk, a read-only data directory, a lock held too long) in one clear line.

Such a fault is nobody's bug and no article's fault: commands print one line naming the file and
the cause and exit non-zero (no traceback), and the translate stage gives its lease back at once
instead of recording a failed attempt.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from presseschau.config import Settings

# OSError numbers that are the storage's fault, not the program's.
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})
# A missing file is no storage fault, but it gets the same one clear line in the CLI.
_DESCRIBED_ERRNOS = STORAGE_ERRNOS | {errno.ENOENT}
# SQLite's messages for the same (lower case), with what to tell the user.
_SQLITE_CAUSES = (
    ("database or disk is full", "the disk is full"),
    ("disk i/o error", "disk I/O error (a full or failing disk)"),
    ("attempt to write a readonly database", "it is read-only (file or data directory not writable)"),
    ("readonly database", "it is read-only (file or data directory not writable)"),
    ("database is locked", "locked by another process for longer than the busy timeout ({timeout:.0f} s)"),
    ("database table is locked", "locked by another process for longer than the busy timeout ({timeout:.0f} s)"),
    ("unable to open database file", "{unopenable}"),
)
BUSY_TIMEOUT_S = 30.0  # PRAGMA busy_timeout in store.db


def sqlite_path(settings: Settings) -> Path | None:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _directory_problem(directory: Path) -> str:
    if not directory.exists():
        return f"its directory {directory} does not exist and cannot be created"
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return f"its directory {directory} is on a read-only file system"
    except OSError:
        pass
    if not os.access(directory, os.W_OK):
        return f"its directory {directory} is not writable (SQLite needs to create its -wal and -shm files there)"
    return "SQLite cannot open it (permissions or a damaged file)"


def is_storage_fault(error: BaseException) -> bool:
    """True for faults of the storage (disk full, read-only, locked, I/O), whoever raised them."""
    if isinstance(error, OperationalError):
        message = str(error.orig).lower()
        return any(marker in message for marker, _ in _SQLITE_CAUSES)
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS


def describe_fault(error: BaseException, settings: Settings | None) -> str | None:
    """One line naming the file and the cause of a storage fault; None for any other error."""
    if isinstance(error, OperationalError):
        path = sqlite_path(settings) if settings is not None else None
        message = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else "operational error"
        if path is None:  # PostgreSQL: the server's own first line says it
            where = make_url(settings.effective_database_url).render_as_string(hide_password=True) if settings else "?"
            return f"database {where}: {message}"
        for marker, cause in _SQLITE_CAUSES:
            if marker in message.lower():
                text = cause.format(timeout=BUSY_TIMEOUT_S, unopenable=_directory_problem(path.parent))
                return f"database {path}: {text}"
        return f"database {path}: {message}"
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return f"database connection lost: {error.orig}"
    if isinstance(error, OSError) and error.errno in _DESCRIBED_ERRNOS:
        where = error.filename if error.filename is not None else "?"
        return f"{where}: {os.strerror(error.errno) if error.errno else error}"
    return None
