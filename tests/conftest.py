"""Shared fixtures: an isolated data directory and application context per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from presseschau.app import AppContext

SHARED_DIR = Path(os.environ.get("PRESSESCHAU_SHARED", Path(__file__).resolve().parents[2] / "shared"))
# The evaluation data the tests read, vendored (tests/data/README.md): laid out like ../shared, which
# only the benchmarks need.
TEST_DATA_DIR = Path(__file__).resolve().parent / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "PRESSESCHAU_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


# Lanes by the fixtures a test uses, so that a new test lands in its lane without a marker of its own.
_MARKERS_BY_FIXTURE = {"browser": "browser", "postgres_url": "postgres"}
# Tests that share a server run in one xdist worker, one after another (`--dist loadgroup`): the
# browser tests one Chromium, the PostgreSQL and Redis tests the database servers. Each test has its
# own PostgreSQL database and each worker its own Redis database (tests/pipeline/distributed.py), so
# that they do not fight even where the groups are not honoured: pytest-xdist 3.8 marks a group by
# rewriting `item._nodeid`, which pytest 9.2 no longer reads.
_XDIST_GROUPS = {"browser": "browser", "postgres": "database-servers", "redis": "database-servers"}


def pytest_itemcollected(item: pytest.Item) -> None:
    # Per item as it is collected: before `-m` deselects and before pytest-xdist reads the groups
    # (both in pytest_collection_modifyitems, where xdist's worker hook runs ahead of a conftest's).
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, marker in _MARKERS_BY_FIXTURE.items():
        if fixture in fixtures and item.get_closest_marker(marker) is None:
            item.add_marker(marker)
    for marker, group in _XDIST_GROUPS.items():
        if item.get_closest_marker(marker) is not None:
            item.add_marker(pytest.mark.xdist_group(group))
            break


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own PRESSESCHAU_* settings must never leak into a test.
    for name in list(os.environ):
        if name.startswith("PRESSESCHAU_") and name not in {"PRESSESCHAU_SHARED", "PRESSESCHAU_TEST_POSTGRES"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    # argon2's production cost (64 MiB, 3 passes: ~0.3 s a hash here) is what a password deserves,
    # not a test: hundreds of tests add a user and sign in. The hashes stay argon2id and each states
    # its own parameters, so a server started from a test verifies them all the same.
    from argon2 import PasswordHasher

    from presseschau.editorial import users

    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        patch.setattr(users, "_hasher", cheap)
        patch.setattr(users, "_DUMMY_HASH", cheap.hash("presseschau-dummy-password"))
        yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def _migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema, migrated once per pytest process."""
    ctx = AppContext.for_data_dir(tmp_path_factory.mktemp("migrated"))
    path = _sqlite_file(ctx)
    assert path is not None
    ctx.database  # noqa: B018 -- creates and migrates it
    ctx.close()  # the last connection checkpoints the WAL: the file alone holds everything
    return path


@pytest.fixture
def context(data_dir: Path, _migrated_database: Path) -> Iterator[AppContext]:
    """An app context on a fresh SQLite database; loopback fetching allowed, no politeness delay."""
    ctx = AppContext.for_data_dir(data_dir, allow_private_addresses=True, politeness_delay_s=0.0)
    database = _sqlite_file(ctx)
    if database is not None and not database.exists():
        # A copy of the migrated database (file mode 0600 kept) instead of migrating again.
        shutil.copy2(_migrated_database, database)
    yield ctx
    ctx.close()


def _sqlite_file(ctx: AppContext) -> Path | None:
    url = make_url(ctx.settings.effective_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


@pytest.fixture
def shared_dir() -> Path:
    """../shared, for a test that needs more than tests/data holds; skipped without it."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared data directory {SHARED_DIR} not found")
    return SHARED_DIR


@pytest.fixture(scope="session")
def test_data_dir() -> Path:
    """The vendored evaluation data (tests/data/eval/flores-dev, tests/data/eval/articles-en)."""
    return TEST_DATA_DIR


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards); skipped when no server answers."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"presseschau_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sqlalchemy.exc.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_context(postgres_url: str, data_dir: Path) -> Iterator[AppContext]:
    """An application context on a fresh PostgreSQL database."""
    context = AppContext.for_data_dir(data_dir, database_url=postgres_url)
    yield context
    context.close()
