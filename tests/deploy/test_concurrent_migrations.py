"""Compose starts web, workers, beat and builder at once, and each migrates at start: on PostgreSQL
the migrations take an advisory lock, so concurrent starts all succeed and migrate once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from presseschau.store.db import head_revision

pytestmark = pytest.mark.postgres


def test_concurrent_migrations_on_postgresql_all_succeed(postgres_url: str, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRESSESCHAU_")}
    env["PRESSESCHAU_DATABASE_URL"] = postgres_url
    starts = [
        subprocess.Popen(
            [sys.executable, "-m", "presseschau", "--data", str(tmp_path / f"d{n}"), "migrate", "--wait", "30"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    head = head_revision(postgres_url)
    results = [(start.wait(timeout=240), *start.communicate()) for start in starts]
    for status, out, err in results:
        assert status == 0, err
        assert out.strip().endswith(f"-> {head} (newest: {head})"), out
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    finally:
        engine.dispose()
