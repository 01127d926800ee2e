"""The SQLite database file: private like the secret key, since it holds password hashes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from presseschau.app import AppContext
from presseschau.editorial.users import add_user


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_files_are_created_private(data_dir: Path) -> None:
    previous = os.umask(0o022)  # the usual umask, which made the file 0644
    try:
        context = AppContext.for_data_dir(data_dir)
        with context.database.session() as session:
            add_user(session, "anna", "korrekt pferd batterie")
        files = [path for path in data_dir.iterdir() if path.name.startswith("presseschau.sqlite3")]
        assert any(path.name == "presseschau.sqlite3" for path in files), list(data_dir.iterdir())
        for path in files:
            assert _mode(path) == 0o600, (path, oct(_mode(path)))
        context.close()
    finally:
        os.umask(previous)


def test_an_existing_database_file_is_made_private(data_dir: Path) -> None:
    first = AppContext.for_data_dir(data_dir)
    with first.database.session():
        pass
    first.close()
    database = data_dir / "presseschau.sqlite3"
    database.chmod(0o644)  # as an older version created it
    context = AppContext.for_data_dir(data_dir)
    with context.database.session():
        pass
    assert _mode(database) == 0o600
    context.close()
