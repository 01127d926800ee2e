"""End-to-end throughput: articles/minute from feed to published page, and where the time goes.

Serves N generated English articles from a loopback feed, then runs the pipeline in-process
(fetch → extract → translate → publish) on a fresh data directory and reports:
- articles per minute end to end;
- the time per stage, and the share of the total spent outside the translation engine
  (goal: < 10 % with a real model; with the tiny test model the engine is nearly free, so the
  share mostly shows the fixed per-article cost of the other stages).

Usage: python bench/pipeline.py [--articles 50] [--model PATH_OR_NAME] [--engine ct2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from presseschau.app import AppContext  # noqa: E402
from presseschau.ingest.sources import add_source  # noqa: E402
from presseschau.pipeline.steps import fetch_and_publish, translate_and_publish  # noqa: E402
from presseschau.store.models import Publication, Translation  # noqa: E402
from tests.pipeline.newssite import article_page, generate_articles, serve_news_site  # noqa: E402

TINY_MODEL = REPO / "tests" / "fixtures" / "models" / "tiny-en-de"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--engine", default="ct2")
    parser.add_argument("--model", default=str(TINY_MODEL), help="ct2 model name or path (default: tiny test model)")
    parser.add_argument("--paragraphs", type=int, default=6)
    args = parser.parse_args()

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        feed_url = serve_news_site(server, generate_articles(args.articles, seed=3, paragraphs=args.paragraphs))
        with tempfile.TemporaryDirectory() as data:
            context = AppContext.for_data_dir(data, allow_private_addresses=True, politeness_delay_s=0.0)
            add_source(context.database, context.settings, feed_url, name="Loopback Times")
            settings = context.settings

            # One-time start-up, not per-article work: imports of the extraction stack, the lazily
            # loaded data behind it (trafilatura's and courlan's tables, the language model), the
            # translation model and the quality estimator's data (language identifier, word
            # frequencies). A running service pays these once, so they are timed apart: one page of a
            # different site goes through extraction and language detection first.
            warm_start = time.perf_counter()
            from presseschau.ingest.extract import extract_article
            from presseschau.ingest.language import detect_language
            from presseschau.translate.engines import get_engine
            from presseschau.translate.quality import warm_up as warm_up_quality

            warm_up = generate_articles(1, seed=99, paragraphs=args.paragraphs)[0]
            warm_url = "https://warm-up.example/news/warm-up"
            extracted = extract_article(article_page(warm_up, warm_url), warm_url)
            detect_language(" ".join(paragraph.text for paragraph in extracted.paragraphs))
            get_engine(args.engine, settings, args.model)
            warm_up_quality(settings.source_language, settings.target_language)
            startup = time.perf_counter() - warm_start

            started = time.perf_counter()
            fetch_and_publish(context.database, context.settings)
            fetched = time.perf_counter()
            translated = 0
            while True:
                report = translate_and_publish(
                    context.database,
                    context.settings,
                    limit=8,
                    engine_name=args.engine,
                    model=args.model,
                    owner="bench",
                )
                if not report.claimed:
                    break
                translated += int(report.claimed)
            finished = time.perf_counter()

            with context.database.session() as session:
                published_count = select(func.count()).select_from(Publication).where(Publication.status == "published")
                published = session.scalar(published_count) or 0
                engine_seconds = float(session.scalar(select(func.sum(Translation.engine_seconds))) or 0.0)
                reports = list(session.scalars(select(Translation.report)))
            segments = sum(int(report.get("engine_segments", 0)) for report in reports)
            retries = sum(len(report.get("coverage_retries", [])) for report in reports)
            context.close()
    finally:
        server.stop()

    total = finished - started
    fetch_s, translate_s = fetched - started, finished - fetched
    print(f"engine {args.engine}, model {args.model}")
    print(f"articles served {args.articles}, published {published}, translated {translated}")
    print(f"start-up (imports, model load; not counted below) {startup:.2f} s")
    print(f"total {total:.2f} s: fetch+extract {fetch_s:.2f} s, translate+publish {translate_s:.2f} s")
    print(f"engine time {engine_seconds:.2f} s; outside the engine {total - engine_seconds:.2f} s")
    # Random weights lose numbers and produce odd lengths, so the tiny model is asked again for
    # many segments; those retries are engine time too, and a real model needs few of them.
    print(f"engine segments {segments}, of them retried alone (coverage, lost numbers) {retries}")
    print(f"throughput: {published / total * 60:.1f} articles/minute end to end")
    print(f"share of time outside the translation engine: {(total - engine_seconds) / total:.1%} (goal < 10 %)")


if __name__ == "__main__":
    main()
