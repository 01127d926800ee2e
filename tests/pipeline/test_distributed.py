"""The Celery pipeline on PostgreSQL and Redis: several worker processes, one killed mid-task."""

from __future__ import annotations

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
    killed = False
    try:
        deadline = time.monotonic() + 480
        while time.monotonic() < deadline:
            state = counts()
            if not killed and state["in_progress"] > 0 and state["done"] >= 20:
                kill_hard(workers[1])  # mid-task: it holds a lease on an article right now
                killed = True
            if state["published"] >= ARTICLES:
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            stop(worker)
        database.dispose()

    final = counts()
    log_tail = "\n".join(f"== {p.name}\n{p.read_text()[-1500:]}" for p in sorted(logs.iterdir()))
    assert killed, f"the kill never happened: {final}\n{log_tail}"
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
