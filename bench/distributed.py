"""Scale-out: throughput of the Celery pipeline with 1, 2 and 3 worker processes, and the broker's cost.

Serves N generated English articles from loopback feeds (several sources, as a newsroom has), then,
on a fresh PostgreSQL database each time, measures the time from the first fetch to the last
published article:
- the single-process path (no broker: fetch, translate and publish in this process, as
  `presseschau run --once` does) -- the baseline;
- the broker path with 1, 2 and 3 `presseschau worker` processes on Redis, every worker taking
  every queue (the first one also runs the beat schedule).
It prints articles/minute for each, the speed-up against one worker, and the per-article
overhead of the broker path against the baseline ((T_broker,1 - T_single) / N).

Needs PostgreSQL and Redis (as the tests do). The default model is the tiny test model, whose
engine time is negligible: the numbers then show the pipeline's own costs; pass --model for a real
CTranslate2 model to see engine-bound scaling.

Usage: python bench/distributed.py [--articles 120] [--sources 6] [--workers 1,2,3] [--repeat 3] [--model PATH]
       [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--redis redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis
from celery import Celery
from pytest_httpserver import HTTPServer
from sqlalchemy import create_engine, select, text

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from presseschau.app import AppContext  # noqa: E402
from presseschau.ingest.sources import add_source  # noqa: E402
from presseschau.pipeline.steps import fetch_and_publish, translate_and_publish  # noqa: E402
from tests.pipeline.distributed import start_worker, stop  # noqa: E402
from tests.pipeline.newssite import GeneratedArticle, article_page, generate_articles, rss_feed  # noqa: E402

TINY_MODEL = REPO / "tests" / "fixtures" / "models" / "tiny-en-de"
BENCH_DATABASE = "presseschau_bench"
VERBOSE = "--verbose" in sys.argv
COUNTS = """
SELECT (SELECT count(*) FROM publications WHERE status = 'published') AS published,
       (SELECT count(*) FROM publications) AS publications,
       (SELECT coalesce(sum(engine_seconds), 0) FROM translations) AS engine_seconds
"""


def serve_sources(server: HTTPServer, articles: list[GeneratedArticle], sources: int) -> list[str]:
    """Register `sources` feeds sharing the articles round-robin; returns the feed URLs."""
    base_url = server.url_for("").rstrip("/")
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n", content_type="text/plain")
    for article in articles:
        server.expect_request(f"/news/{article.slug}").respond_with_data(
            article_page(article, f"{base_url}/news/{article.slug}"), content_type="text/html; charset=utf-8"
        )
    urls = []
    for index in range(sources):
        path = f"/feed-{index + 1}.xml"
        server.expect_request(path).respond_with_data(
            rss_feed(articles[index::sources], base_url), content_type="application/rss+xml"
        )
        urls.append(base_url + path)
    return urls


def fresh_database(admin_url: str) -> str:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{BENCH_DATABASE}"')
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{BENCH_DATABASE}"


def settings_env(database_url: str, broker_url: str | None, model: str, threads: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("PRESSESCHAU_")}
    env.update(
        PRESSESCHAU_DATABASE_URL=database_url,
        PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES="true",
        PRESSESCHAU_POLITENESS_DELAY_S="0",
        PRESSESCHAU_ENGINE="ct2",
        PRESSESCHAU_MODEL=model,
        PRESSESCHAU_CT2_THREADS=str(threads),
    )
    if broker_url:
        env["PRESSESCHAU_BROKER_URL"] = broker_url
    return env


def wait_until_published(database_url: str, expected: int, timeout: float) -> tuple[float, float]:
    """Seconds until `expected` articles are published (polling), and the engine seconds spent."""
    database = create_engine(database_url)
    started = last_report = time.perf_counter()
    try:
        while True:
            with database.connect() as connection:
                row = connection.execute(text(COUNTS)).mappings().one()
            if VERBOSE and time.perf_counter() - last_report > 5:
                last_report = time.perf_counter()
                print(f"  {last_report - started:5.1f} s: {row['published']} published", flush=True)
            if row["published"] >= expected:
                return time.perf_counter() - started, float(row["engine_seconds"])
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"only {row['published']} of {expected} published after {timeout:.0f} s")
            time.sleep(0.1)
    finally:
        database.dispose()


def run_single_process(data: Path, env: dict[str, str], feeds: list[str], expected: int) -> tuple[float, float]:
    """The no-broker path in this process: fetch everything, then translate and publish in batches."""
    overrides = {key.removeprefix("PRESSESCHAU_").lower(): value for key, value in env.items()
                 if key.startswith("PRESSESCHAU_")}  # fmt: skip
    context = AppContext.for_data_dir(data, **overrides)
    for index, url in enumerate(feeds):
        add_source(context.database, context.settings, url, name=f"Loopback {index + 1}")
    started = time.perf_counter()
    fetch_and_publish(context.database, context.settings)
    while translate_and_publish(context.database, context.settings, limit=4, owner="bench").claimed:
        pass
    elapsed = time.perf_counter() - started
    context.close()
    seconds, engine_seconds = wait_until_published(env["PRESSESCHAU_DATABASE_URL"], expected, timeout=1)
    del seconds  # already all published: the check only confirms it
    return elapsed, engine_seconds


def run_workers(
    data: Path, env: dict[str, str], feeds: list[str], expected: int, workers: int, logs: Path
) -> tuple[float, float]:
    """The broker path: `workers` worker processes on every queue; timed from the first fetch task."""
    from presseschau.pipeline import tasks
    from presseschau.store.models import Source

    overrides = {key.removeprefix("PRESSESCHAU_").lower(): value for key, value in env.items()
                 if key.startswith("PRESSESCHAU_")}  # fmt: skip
    context = AppContext.for_data_dir(data, **overrides)
    for index, url in enumerate(feeds):
        add_source(context.database, context.settings, url, name=f"Loopback {index + 1}")
    with context.database.session() as session:
        source_ids = list(session.scalars(select(Source.id)))
    celery = tasks.configure(context.settings)
    processes = [
        start_worker(data, env, "fetch,translate,publish", logs / f"worker-{workers}-{n}.log", beat=n == 0)
        for n in range(workers)
    ]
    try:
        wait_for_workers(celery, workers, processes)
        for source_id in source_ids:  # what the beat's poll would send; sent here to start the clock
            tasks.fetch_source.delay(source_id)
        return wait_until_published(env["PRESSESCHAU_DATABASE_URL"], expected, timeout=600)
    finally:
        for process in processes:
            stop(process)
        context.close()


def wait_for_workers(celery: Celery, count: int, processes: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
    control = celery.control
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("a worker exited during start-up; see its log")
        if len(control.ping(timeout=0.5) or []) >= count:
            return
    raise TimeoutError(f"{count} workers did not answer a ping within {timeout:.0f} s")


def measure(label: str, run: Callable[[int], tuple[float, float]], articles: int, repeat: int) -> float:
    """Median seconds of `repeat` runs (each on a fresh database); prints each run and the median."""
    times = []
    for attempt in range(repeat):
        seconds, engine_seconds = run(attempt)
        times.append(seconds)
        print(
            f"{label:<22} {seconds:7.2f} s  {articles / seconds * 60:7.1f} articles/min  "
            f"{seconds / articles * 1000:6.1f} ms/article  (engine {engine_seconds:.2f} s)",
            flush=True,
        )
    median = statistics.median(times)
    if repeat > 1:
        print(f"{label:<22} median {median:.2f} s, {articles / median * 60:.1f} articles/min", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--sources", type=int, default=6)
    parser.add_argument("--paragraphs", type=int, default=4)
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker-process counts")
    parser.add_argument("--model", default=str(TINY_MODEL), help="CTranslate2 model path or name (default: tiny)")
    parser.add_argument(
        "--threads", type=int, default=1, help="CTranslate2 threads per process, the same in every configuration"
    )
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median counts")
    parser.add_argument("--verbose", action="store_true", help="print progress every 5 s")
    parser.add_argument("--logs", type=Path, help="keep the workers' logs in this directory")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="a Redis database for the bench only")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per loopback request
    articles = generate_articles(args.articles, seed=5, paragraphs=args.paragraphs)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    print(f"{args.articles} articles from {args.sources} sources, model {args.model}, {os.cpu_count()} CPUs")
    try:
        feeds = serve_sources(server, articles, args.sources)
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            logs = args.logs or root / "logs"
            logs.mkdir(parents=True, exist_ok=True)

            def single_run(attempt: int) -> tuple[float, float]:
                env = settings_env(fresh_database(args.postgres), None, args.model, args.threads)
                return run_single_process(root / f"single-{attempt}", env, feeds, args.articles)

            def workers_run(count: int, attempt: int) -> tuple[float, float]:
                redis.Redis.from_url(args.redis).flushdb()
                env = settings_env(fresh_database(args.postgres), args.redis, args.model, args.threads)
                return run_workers(root / f"workers-{count}-{attempt}", env, feeds, args.articles, count, logs)

            single = measure("single process", single_run, args.articles, args.repeat)
            results: dict[int, float] = {}
            for count in [int(n) for n in args.workers.split(",")]:
                results[count] = measure(
                    f"broker, {count} worker(s)",
                    functools.partial(workers_run, count),
                    args.articles,
                    args.repeat,
                )
    finally:
        server.stop()

    if 1 in results:
        for count, seconds in sorted(results.items()):
            print(f"speed-up with {count} worker(s) vs 1: {results[1] / seconds:.2f}x")
        overhead = (results[1] - single) / args.articles * 1000
        print(f"broker path vs single process (1 worker): {results[1] / single:.2f}x the time, "
              f"{overhead:+.1f} ms per article")  # fmt: skip


if __name__ == "__main__":
    main()
