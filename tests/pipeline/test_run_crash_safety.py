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
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from presseschau.cli import app
from tests.pipeline.newssite import generate_articles, serve_news_site

TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"
ARTICLES = 50


def _counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database, timeout=30) as connection:

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
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT value FROM service_state WHERE key = 'service'").fetchone()
    return json.loads(row[0]).get("pid") if row else None


@pytest.mark.slow
def test_kill_9_three_times_then_restart_loses_and_duplicates_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    assert TINY_MODEL.is_dir(), "run scripts/make_tiny_model.py to create the tiny test model"
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
    rng = random.Random(20261125)
    database = data / "presseschau.sqlite3"
    with log_path.open("ab") as log:
        for _ in range(3):
            process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            time.sleep(rng.uniform(2.0, 8.0))
            process.kill()  # SIGKILL: no cleanup of any kind
            process.wait()
        killed_state = _counts(database) if database.exists() else {}

        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 420
            while time.monotonic() < deadline:
                # Done when everything is published and this process runs its workers (a SIGTERM
                # during interpreter start-up, before any handler exists, would just kill it).
                if _service_pid(database) == process.pid and _counts(database)["published"] >= ARTICLES:
                    break
                time.sleep(1.0)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=120) == 0, "SIGTERM must end the service cleanly"
        finally:
            if process.poll() is None:
                process.kill()

    counts = _counts(database)
    details = f"state after the kills: {killed_state}; at the end: {counts}; log: {log_path.read_text()[-3000:]}"
    assert counts["articles"] == ARTICLES, details
    assert counts["article_rows"] == ARTICLES, details
    assert counts["distinct_urls"] == ARTICLES, details
    assert counts["translations"] == ARTICLES and counts["translations_done"] == ARTICLES, details
    assert counts["publications"] == ARTICLES and counts["published"] == ARTICLES, details
    assert counts["distinct_slugs"] == ARTICLES, details
