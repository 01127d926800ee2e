"""`presseschau run` survives `kill -9` at random moments: nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from presseschau.cli import app
from tests.pipeline.newssite import generate_articles, serve_news_site

TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"
ARTICLES = 50
# Not PRESSESCHAU_*: the test fixtures clear those.
SEED_VARIABLE = "CRASH_TEST_SEED"


def _counts(database: Path) -> dict[str, int]:
    if not database.exists():
        return {}
    with closing(sqlite3.connect(database, timeout=30)) as connection:

        def one(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        return {
            "articles": one("SELECT count(*) FROM articles WHERE fetch_status = 'ok'"),
            "article_rows": one("SELECT count(*) FROM articles"),
            "translations_done": one("SELECT count(*) FROM translations WHERE status = 'done'"),
            "translations": one("SELECT count(*) FROM translations"),
            "published": one("SELECT count(*) FROM publications WHERE status = 'published'"),
            "publications": one("SELECT count(*) FROM publications"),
            "distinct_slugs": one("SELECT count(DISTINCT slug) FROM publications"),
            "distinct_urls": one("SELECT count(DISTINCT canonical_url) FROM articles"),
        }


def _service_pid(database: Path) -> int | None:
    """The pid the running service recorded once its workers started (None before)."""
    if not database.exists():
        return None
    with closing(sqlite3.connect(database, timeout=30)) as connection:
        row = connection.execute("SELECT value FROM service_state WHERE key = 'service'").fetchone()
    return json.loads(row[0]).get("pid") if row else None


def _progress(database: Path, pid: int) -> tuple[int, bool]:
    """Articles published so far, and whether process `pid` holds a translation lease right now."""
    if not database.exists():
        return 0, False
    try:
        with closing(sqlite3.connect(database, timeout=30)) as connection:
            published = connection.execute("SELECT count(*) FROM publications WHERE status = 'published'").fetchone()
            leased = connection.execute(
                "SELECT count(*) FROM translations WHERE status = 'in_progress' AND lease_owner LIKE ?",
                (f"%:{pid}:translate:%",),
            ).fetchone()
    except sqlite3.OperationalError:  # the schema is still being created
        return 0, False
    return int(published[0]), bool(leased[0])


@pytest.mark.slow
def test_kill_9_three_times_then_restart_loses_and_duplicates_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    assert TINY_MODEL.is_dir(), "run scripts/make_tiny_model.py to create the tiny test model"
    # A new seed each run, so the kills land somewhere else every time; a failure prints its seed.
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(10**9))
    print(f"kill moments from seed {seed} (replay with {SEED_VARIABLE}={seed})")
    rng = random.Random(seed)
    feed_url = serve_news_site(httpserver, generate_articles(ARTICLES, seed=11))
    data = tmp_path / "data"
    env = {
        **os.environ,
        "PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES": "true",
        "PRESSESCHAU_POLITENESS_DELAY_S": "0",
        "PRESSESCHAU_LEASE_SECONDS": "120",
    }
    added = CliRunner().invoke(
        app, ["--data", str(data), "sources", "add", feed_url, "--name", "Loopback Times"], env=env
    )
    assert added.exit_code == 0, added.output

    command = [sys.executable, "-m", "presseschau", "--data", str(data), "run", "--no-serve",
               "--engine", "ct2", "--model", str(TINY_MODEL)]  # fmt: skip
    log_path = tmp_path / "run.log"
    database = data / "presseschau.sqlite3"
    kills: list[str] = []
    with log_path.open("ab") as log:
        for _ in range(3):
            published_before, _ = _progress(database, 0)
            process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            try:
                # Kill only while work is under way: this process holds a lease or has published
                # something since it started (a kill during start-up would test nothing).
                deadline = time.monotonic() + 60
                while True:
                    assert process.poll() is None, f"seed {seed}: the service exited early: {log_path.read_text()}"
                    published, leased = _progress(database, process.pid)
                    if leased or published > published_before:
                        break
                    assert time.monotonic() < deadline, f"seed {seed}: no progress after {kills}"
                    time.sleep(0.02)
                delay = rng.uniform(0.0, 2.0)
                time.sleep(delay)
            finally:
                process.kill()  # SIGKILL: no cleanup of any kind
                process.wait()
            at_kill, _ = _progress(database, process.pid)
            kills.append(f"+{delay:.2f} s after progress, {published_before} -> {at_kill} published")
        print("kills:", "; ".join(kills))
        killed_state = _counts(database)

        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline:
                # Done when everything is published and this process runs its workers (a SIGTERM
                # during interpreter start-up, before any handler exists, would just kill it).
                if _service_pid(database) == process.pid and _counts(database)["published"] >= ARTICLES:
                    break
                time.sleep(0.5)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=120) == 0, "SIGTERM must end the service cleanly"
        finally:
            if process.poll() is None:
                process.kill()

    counts = _counts(database)
    details = (
        f"seed {seed} ({SEED_VARIABLE}={seed} replays it); kills: {kills}; state after the kills: {killed_state}; "
        f"at the end: {counts}; log: {log_path.read_text()[-3000:]}"
    )
    assert counts["articles"] == ARTICLES, details
    assert counts["article_rows"] == ARTICLES, details
    assert counts["distinct_urls"] == ARTICLES, details
    assert counts["translations"] == ARTICLES and counts["translations_done"] == ARTICLES, details
    assert counts["publications"] == ARTICLES and counts["published"] == ARTICLES, details
    assert counts["distinct_slugs"] == ARTICLES, details
