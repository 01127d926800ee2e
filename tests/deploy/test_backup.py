"""`presseschau backup` / `restore` / `migrate` through the command line, in separate processes.

The round trip takes its backup while another process keeps writing to the database, restores it
into a new data directory and compares counts and content hashes table by table: the restored
database must equal the live one as it was at one moment (every row up to the newest restored
one, nothing torn, nothing lost), and the files (settings, key, glossary) must be byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.editorial.security import load_secret_key
from presseschau.editorial.tokens import create_token
from presseschau.editorial.users import add_user
from presseschau.store.db import alembic_config, head_revision

TABLES = ("articles", "translations", "publications", "stories", "story_articles", "users", "api_tokens")

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from presseschau.app import AppContext
    from presseschau.store.models import Article
    from presseschau.store.queue import enqueue_translation

    context = AppContext.for_data_dir(sys.argv[1])
    stop, progress = Path(sys.argv[2]), Path(sys.argv[3])
    written = 0
    while not stop.exists():
        with context.database.session() as session:  # an article and its queue entry: one transaction
            article = Article(url=f"https://w.example/{written}", canonical_url=f"https://w.example/{written}",
                              title=f"Writer {written}", revision=1)
            session.add(article)
            session.flush()
            enqueue_translation(session, article, "de")
        written += 1
        progress.with_suffix(".new").write_text(str(written))
        os.replace(progress.with_suffix(".new"), progress)  # readers never see a half-written number
        time.sleep(0.002)
    context.close()
    """
)


@dataclass
class Answer:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, data: Path) -> Answer:
    """The command line in this process (stdout and stderr apart)."""
    result = CliRunner().invoke(app, ["--data", str(data), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Answer(result.exit_code, result.stdout, result.stderr)


def table_rows(database: Path, table: str, up_to_id: int | None = None) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        where = f" WHERE id <= {int(up_to_id)}" if up_to_id is not None else ""
        order = "id" if table != "story_articles" else "1, 2"
        return connection.execute(f"SELECT * FROM {table}{where} ORDER BY {order}").fetchall()


def digest(rows: list[tuple[object, ...]]) -> str:
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def max_id(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


@pytest.fixture(scope="module")
def populated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with the demo's articles, translations, publications and stories, a user,
    an API token, settings, a signing key and a glossary."""
    data = tmp_path_factory.mktemp("template") / "live"
    demo = cli("demo", "--engine", "memory", "--no-serve", data=data)
    assert demo.returncode == 0, demo.stderr
    (data / "glossaries").mkdir()
    (data / "glossaries" / "terms.tsv").write_text("Kyiv\tKiew\nBank of England\n", encoding="utf-8")
    (data / "presseschau.toml").write_text('glossary_path = "glossaries/terms.tsv"\nsite_title = "Presseschau"\n')
    context = AppContext.for_data_dir(data)
    try:
        load_secret_key(context.settings)  # creates the admin signing key, as the first sign-in does
        with context.database.session() as session:
            add_user(session, "redaktion", "ein langes Passwort 123", role="admin")
            create_token(session, "feed-reader", scope="read")
    finally:
        context.close()
    return data


@pytest.fixture
def populated(populated_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(populated_template, tmp_path / "live"))


@pytest.mark.slow  # seconds of real work: the full suite runs it, --fast leaves it out
def test_backup_while_writing_restores_an_identical_database(populated: Path, tmp_path: Path) -> None:
    live_db = populated / "presseschau.sqlite3"
    before = {table: digest(table_rows(live_db, table)) for table in TABLES}
    stop, progress = tmp_path / "stop", tmp_path / "progress"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(populated), str(stop), str(progress)])
    try:
        deadline = time.monotonic() + 60
        while not (progress.exists() and progress.read_text() and int(progress.read_text()) >= 20):
            assert writer.poll() is None, "the writer died"
            assert time.monotonic() < deadline, "the writer wrote nothing"
            time.sleep(0.05)
        written_before = int(progress.read_text())
        # A process of its own, as an operator's backup beside the running service would be.
        made = subprocess.run(
            [sys.executable, "-m", "presseschau", "--data", str(populated), "backup", str(tmp_path / "backup.tar.gz")],
            capture_output=True,
            text=True,
            env={key: value for key, value in os.environ.items() if not key.startswith("PRESSESCHAU_")},
            timeout=300,
            check=False,
        )
        written_during = int(progress.read_text())
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert made.returncode == 0, made.stderr
    assert written_during > written_before, "the writer must have gone on writing during the backup"

    restored = tmp_path / "restored"
    answer = cli("restore", str(tmp_path / "backup.tar.gz"), data=restored)
    assert answer.returncode == 0, answer.stderr
    restored_db = restored / "presseschau.sqlite3"

    # The demo's data (written before the backup began) came back whole and unchanged.
    for table in ("publications", "stories", "story_articles", "users", "api_tokens"):
        assert digest(table_rows(restored_db, table)) == before[table], table
    # Articles and translations: exactly the live rows up to the newest restored one (the writer
    # only appends), each writer article with its queue entry (no torn transaction).
    for table in ("articles", "translations"):
        newest = max_id(restored_db, table)
        assert table_rows(restored_db, table) == table_rows(live_db, table, up_to_id=newest), table
    demo_articles = len(table_rows(live_db, "articles")) - int(progress.read_text())
    restored_writer_articles = len(table_rows(restored_db, "articles")) - demo_articles
    assert written_before <= restored_writer_articles <= int(progress.read_text())
    assert len(table_rows(restored_db, "translations")) == len(table_rows(restored_db, "articles"))
    for name in ("presseschau.toml", "secret_key", "glossaries/terms.tsv"):
        assert (restored / name).read_bytes() == (populated / name).read_bytes(), name
    assert oct((restored / "secret_key").stat().st_mode & 0o777) == "0o600"
    # The restored directory works: the site's status reads it.
    status = cli("status", "--json", data=restored)
    assert status.returncode == 0, status.stderr
    with closing(sqlite3.connect(restored_db)) as connection:
        published = connection.execute("SELECT count(*) FROM publications WHERE status = 'published'").fetchone()[0]
    assert published > 0
    assert json.loads(status.stdout)["publications_by_status"]["published"] == published


def test_restore_refuses_a_non_empty_directory_and_changes_nothing(populated: Path, tmp_path: Path) -> None:
    archive = tmp_path / "b.tar.gz"
    assert cli("backup", str(archive), data=populated).returncode == 0
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    answer = cli("restore", str(archive), data=target)
    assert answer.returncode == 2
    assert f"data directory {target} is not empty" in answer.stderr
    assert "notes.txt" in answer.stderr
    assert sorted(path.name for path in target.iterdir()) == ["notes.txt"]
    # An existing archive is not overwritten without --force.
    again = cli("backup", str(archive), data=populated)
    assert again.returncode == 2 and "exists" in again.stderr
    assert cli("backup", str(archive), "--force", data=populated).returncode == 0


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    return path


MANIFEST = json.dumps({"format": "presseschau-backup", "format_version": 1}).encode()


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"manifest.json": MANIFEST, "files/../../escaped.txt": b"x"}, "points outside the data directory"),
        ({"manifest.json": MANIFEST, "/etc/evil": b"x"}, "points outside the data directory"),
        ({"files/presseschau.toml": b"x"}, "is not a presseschau backup"),
        ({"manifest.json": b'{"format": "presseschau-backup", "format_version": 99}'}, "format version 99"),
        ({"manifest.json": MANIFEST, "database/presseschau.sqlite3": b"not a database"}, "restored database"),
    ],
)
def test_restore_refuses_bad_archives_and_leaves_nothing(
    tmp_path: Path, members: dict[str, bytes], reason: str
) -> None:
    archive = _archive(tmp_path / "bad.tar.gz", members)
    target = tmp_path / "target"
    answer = cli("restore", str(archive), data=target)
    assert answer.returncode == 2, answer.stdout
    assert reason in answer.stderr
    assert not target.exists()
    assert not (tmp_path / "escaped.txt").exists()


def test_restore_of_a_file_that_is_no_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes("\x00\x01 not a tar \u202e".encode())
    answer = cli("restore", str(junk), data=tmp_path / "target")
    assert answer.returncode == 2
    assert f"cannot read backup {junk}" in answer.stderr
    assert not (tmp_path / "target").exists()


def test_external_glossary_and_key_are_kept_and_restored_with_a_note(tmp_path: Path) -> None:
    glossary = tmp_path / "shared-terms.tsv"
    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")
    data = tmp_path / "live"
    data.mkdir()
    key = tmp_path / "keys" / "presseschau.key"
    key.parent.mkdir()
    key.write_bytes(b"k" * 32)
    (data / "presseschau.toml").write_text(f'glossary_path = "{glossary}"\nsecret_key_path = "{key}"\n')
    assert cli("init", data=data).returncode == 0
    assert cli("backup", str(tmp_path / "b.tar.gz"), data=data).returncode == 0
    answer = cli("restore", str(tmp_path / "b.tar.gz"), data=tmp_path / "restored")
    assert answer.returncode == 0, answer.stderr
    assert (tmp_path / "restored" / "shared-terms.tsv").read_text(encoding="utf-8") == "Kyiv\tKiew\n"
    assert "glossary_path = 'shared-terms.tsv'" in answer.stdout
    assert (tmp_path / "restored" / "secret_key").read_bytes() == b"k" * 32
    assert "set secret_key_path = 'secret_key'" in answer.stdout


def test_migrate_down_and_up_again(populated: Path) -> None:
    database = populated / "presseschau.sqlite3"
    url = f"sqlite:///{database}"
    head = head_revision(url)
    assert head is not None
    script = ScriptDirectory.from_config(alembic_config(url))
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    down = cli("migrate", "--to", previous, data=populated)
    assert down.returncode == 0, down.stderr
    assert f"{head} -> {previous}" in down.stdout
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(previous,)]
    up = cli("migrate", data=populated)
    assert up.returncode == 0, up.stderr
    assert f"{previous} -> {head}" in up.stdout
    # The data kept through the round trip: the demo's articles are all there.
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    unknown = cli("migrate", "--to", "no-such-revision", data=populated)
    assert unknown.returncode == 2
    assert "no-such-revision" in unknown.stderr


def test_migrate_wait_gives_up_with_the_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "presseschau.toml").write_text('database_url = "postgresql+psycopg://nobody:secret@127.0.0.1:9/none"\n')
    started = time.monotonic()
    answer = cli("migrate", "--wait", "2", data=data)
    assert answer.returncode == 1
    assert "did not answer within 2 s" in answer.stderr
    assert "secret" not in answer.stderr  # the password is never shown
    assert time.monotonic() - started >= 2


def test_backups_kept_in_the_data_directory_are_not_backed_up_again(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("init", data=data).returncode == 0
    first = data / "backups" / "first.tar.gz"
    assert cli("backup", str(first), data=data).returncode == 0
    second = data / "backups" / "second.tar.gz"
    answer = cli("backup", str(second), data=data)
    assert answer.returncode == 0, answer.stderr
    with tarfile.open(second) as archive:
        names = archive.getnames()
    assert "files/presseschau.toml" in names
    assert not [name for name in names if "backups/" in name or name.endswith(".partial")], names
