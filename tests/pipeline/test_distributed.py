"""The Celery pipeline on PostgreSQL and Redis: several worker processes, one killed mid-task."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from presseschau.cli import app
from tests.pipeline.distributed import fresh_broker, kill_hard, pipeline_env, start_worker, stop
from tests.pipeline.newssite import generate_articles, serve_news_site

ARTICLES = 200

COUNTS = """
SELECT
  (SELECT count(*) FROM articles WHERE fetch_status = 'ok') AS articles,
  (SELECT count(*) FROM articles) AS article_rows,
  (SELECT count(*) FROM translations) AS translations,
  (SELECT count(*) FROM translations WHERE status = 'done') AS done,
  (SELECT count(*) FROM translations WHERE status = 'in_progress') AS in_progress,
  (SELECT count(*) FROM publications) AS publications,
  (SELECT count(*) FROM publications WHERE status = 'published') AS published,
  (SELECT count(DISTINCT slug) FROM publications) AS slugs
"""


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(1800)  # about 4 minutes on two loaded cores: 200 articles through real workers
def test_three_workers_publish_every_article_once_despite_a_killed_worker(
    postgres_url: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    feed_url = serve_news_site(httpserver, generate_articles(ARTICLES, seed=21, paragraphs=3))
    env = pipeline_env(postgres_url, fresh_broker())
    data = tmp_path / "data"
    added = CliRunner().invoke(app, ["--data", str(data), "sources", "add", feed_url, "--name", "Loopback"], env=env)
    assert added.exit_code == 0, added.output
    database = create_engine(postgres_url)

    def counts() -> dict[str, int]:
        with database.connect() as connection:
            return dict(connection.execute(text(COUNTS)).mappings().one())

    logs = tmp_path / "logs"
    logs.mkdir()
    workers = [
        start_worker(data, env, "fetch,publish", logs / "fetch.log", beat=True),
        start_worker(data, env, "translate", logs / "translate-1.log"),
        start_worker(data, env, "translate", logs / "translate-2.log"),
    ]

    def leases() -> list[tuple[int, str]]:
        with database.connect() as connection:
            rows = connection.execute(
                text("SELECT id, lease_owner FROM translations WHERE status = 'in_progress' AND lease_owner <> ''")
            ).all()
        return [(int(row[0]), str(row[1])) for row in rows]

    def translation_worker_holding_a_lease() -> tuple[subprocess.Popen[bytes], int] | None:
        """A translate worker whose process (or pool child) holds a lease right now, and that item."""
        for translation_id, owner in leases():
            try:
                group = os.getpgid(int(owner.split(":")[1]))  # owner ids are host:pid:role:nonce
            except (ProcessLookupError, ValueError, IndexError):
                continue
            for worker in workers[1:]:
                if worker.pid == group:
                    return worker, translation_id
        return None

    killed: int | None = None  # the translation the killed worker held
    try:
        deadline = time.monotonic() + 480
        while time.monotonic() < deadline:
            state = counts()
            if killed is None and state["done"] >= 20:
                holder = translation_worker_holding_a_lease()
                if holder is not None:
                    kill_hard(holder[0])  # mid-task: it holds the lease on this article right now
                    killed = holder[1]
            if state["published"] >= ARTICLES:
                break
            time.sleep(0.2)
    finally:
        for worker in workers:
            stop(worker)

    final = counts()
    log_tail = "\n".join(f"== {p.name}\n{p.read_text()[-1500:]}" for p in sorted(logs.iterdir()))
    assert killed is not None, f"the kill never happened: {final}\n{log_tail}"
    # The article the dead worker held was taken over, translated and published exactly once.
    with database.connect() as connection:
        held = connection.execute(
            text(
                "SELECT t.status, count(p.id) FROM translations t LEFT JOIN publications p ON p.translation_id = t.id "
                "WHERE t.id = :id GROUP BY t.status"
            ),
            {"id": killed},
        ).one()
    database.dispose()
    assert tuple(held) == ("done", 1), f"{held}\n{log_tail}"
    assert final == {
        "articles": ARTICLES,
        "article_rows": ARTICLES,
        "translations": ARTICLES,
        "done": ARTICLES,
        "in_progress": 0,
        "publications": ARTICLES,
        "published": ARTICLES,
        "slugs": ARTICLES,
    }, f"{final}\n{log_tail}"
