"""Benchmark of the static site's search: the bytes one query downloads, at 10,000 articles.

    python bench/search.py                     # 10,000 articles, the queries below
    python bench/search.py --articles 2000 --keep /tmp/site

Renders `--articles` article pages with the site's own article template (the markup Pagefind
indexes: `data-pagefind-body`, filters, sort key), German text drawn Zipf-like from a vocabulary
of the demo articles' words plus compounds of them (news keeps coining words, so the vocabulary
grows with the site), builds the Pagefind index with `presseschau.publish.static_search` as
`presseschau build` does, serves the folder over loopback and runs each query in headless
Chromium on the static search page with the browser cache off, summing the encoded bytes of
every resource the query fetched after the page itself (Resource Timing). The baseline, in the
same run: the size of the one-file JSON index (`suche/index.json`) the build wrote before
Pagefind, for the same articles. Needs chromium and chromedriver.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import json
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from presseschau.app import AppContext
from presseschau.content import Paragraph
from presseschau.publish import queries, search, static_search
from presseschau.publish.site import Site

QUERIES = ["Fähre", "Bank of England", "Lukaschenko", "Sturmflut Sperrwerk", "Wahl"]
SAMPLES = Path(__file__).resolve().parents[1] / "presseschau" / "demo" / "samples"


def vocabulary(rng: random.Random) -> list[str]:
    """The demo articles' German words, then compounds of their nouns: ~60,000 word types."""
    words: list[str] = []
    for path in sorted(SAMPLES.glob("*.de.html")):
        text = re.sub(r"<[^>]+>", " ", path.read_text("utf-8"))
        words.extend(re.findall(r"[A-Za-zÄÖÜäöüß]{2,}", text))
    distinct = list(dict.fromkeys(words))
    nouns = [w for w in distinct if w[0].isupper() and len(w) > 3]
    compounds = {rng.choice(nouns) + rng.choice(nouns).lower() for _ in range(60_000)}
    return distinct + sorted(compounds)


def _text(rng: random.Random, vocab: list[str], weights: list[float], words: int) -> str:
    chosen = rng.choices(vocab, weights=weights, k=words)
    return " ".join(chosen).capitalize() + "."


def _view(n: int, rng: random.Random, vocab: list[str], weights: list[float]) -> queries.ArticleView:
    when = datetime(2026, 11, 30, 12, tzinfo=UTC) - timedelta(hours=n)
    paragraphs = [Paragraph("p", _text(rng, vocab, weights, rng.randint(40, 90))) for _ in range(8)]
    summary = queries.Summary(
        publication_id=n,
        article_id=n,
        slug=f"artikel-{n}",
        title=_text(rng, vocab, weights, rng.randint(5, 10)).rstrip("."),
        teaser=paragraphs[0].text[:300],
        published_at=when,
        updated_at=when,
        outlet=f"Outlet {n % 40}",
        source_id=n % 40 + 1,
        source_name=f"Outlet {n % 40}",
        original_published_at=when,
        genre=("opinion", "analysis", None)[n % 3],
    )
    return queries.ArticleView(
        summary=summary,
        paragraphs=paragraphs,
        original_title=f"English title number {n}",
        original_url=f"https://outlet.example/a/{n}",
        original_teaser="The original English opening of the article. " * 3,
        original_published_at=when,
        authors=["Jane Doe"],
        image_url=None,
        engine="firefox",
        model=None,
        reviewed=False,
        notice="Maschinell übersetzt",
        first_published_at=when,
        translated_at=when,
    )


def build(out: Path, count: int, context: AppContext) -> tuple[int, float]:
    """Article pages and the Pagefind bundle in `out`; returns (JSON index bytes, index seconds)."""
    rng = random.Random(7)
    vocab = vocabulary(rng)
    weights = [1.0 / (rank + 10) for rank in range(len(vocab))]  # Zipf-like
    # The demo's own words for the queries, so each query has hits.
    vocab[:0] = ["Fähre", "Bank", "England", "Lukaschenko", "Sturmflut", "Sperrwerk", "Wahl"]
    weights[:0] = [0.05] * 7
    site = Site(context.settings, "static")
    entries = []
    pages = []
    for n in range(1, count + 1):
        view = _view(n, rng, vocab, weights)
        html = site.article(None, n, view)  # type: ignore[arg-type]  # the view is given: no query
        assert html is not None
        relpath = f"{view.summary.slug}/index.html"
        (out / relpath).parent.mkdir(parents=True, exist_ok=True)
        (out / relpath).write_text(html, "utf-8")
        pages.append(relpath)
        text = view.summary.title + " " + " ".join(p.text for p in view.paragraphs) + " " + view.original_title
        entries.append(
            {
                "url": f"/{view.summary.slug}/",
                "title": view.summary.title,
                "teaser": view.summary.teaser,
                "date": "30. November 2026",
                "outlet": view.summary.outlet,
                "terms": search.search_terms(text),
            }
        )
    with context.database.session() as session:
        (out / "suche").mkdir(exist_ok=True)
        (out / "suche" / "index.html").write_text(site.search_page(session, ""), "utf-8")
    json_bytes = len(json.dumps({"articles": entries}, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    started = time.perf_counter()
    files = static_search.bundle(out, pages, "de")
    seconds = time.perf_counter() - started
    if files is None:
        sys.exit("Pagefind is not installed: pip install 'pagefind[bin]'")
    for relpath, data in files.items():
        (out / "pagefind" / relpath).parent.mkdir(parents=True, exist_ok=True)
        (out / "pagefind" / relpath).write_bytes(data)
    (out / "static").mkdir(exist_ok=True)
    from presseschau.publish.urls import STATIC_DIR

    for asset in STATIC_DIR.iterdir():
        if asset.is_file():
            shutil.copyfile(asset, out / "static" / asset.name)
    return json_bytes, seconds


class _FreshFiles(http.server.SimpleHTTPRequestHandler):
    """Every file sent whole (a "304 Not Modified" would hide its size), and counted: the server
    sees every request, the page's and its web worker's alike."""

    sent: dict[str, int] = {}

    def send_head(self) -> io.BytesIO | BinaryIO | None:
        del self.headers["If-Modified-Since"]
        head = super().send_head()
        if head is not None and hasattr(head, "fileno"):
            path = self.path.split("?")[0]
            _FreshFiles.sent[path] = _FreshFiles.sent.get(path, 0) + os.fstat(head.fileno()).st_size
        return head

    def log_message(self, format: str, *args: object) -> None:
        pass


def measure(out: Path, queries_: list[str]) -> dict[str, tuple[int, int]]:
    """{query: (bytes downloaded after the page, results shown)} in headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    handler = functools.partial(_FreshFiles, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    results: dict[str, tuple[int, int]] = {}
    try:
        for query in queries_:
            _FreshFiles.sent.clear()
            driver.get(f"http://127.0.0.1:{httpd.server_address[1]}/suche/?q={query}")
            WebDriverWait(driver, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ergebnisse .result-count"))
            # The search page and the site's own assets are the page; the rest is the query's.
            downloaded = sum(
                size for path, size in _FreshFiles.sent.items() if not path.startswith(("/suche/", "/static/"))
            )
            shown = len(driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .article-list li"))
            results[query] = (int(downloaded), shown)
    finally:
        driver.quit()
        httpd.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build into this folder and keep it")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="presseschau-bench-search-"))
    out = args.keep or work / "site"
    out.mkdir(parents=True, exist_ok=True)
    context = AppContext.for_data_dir(work / "data")
    try:
        json_bytes, seconds = build(out, args.articles, context)
        bundle_bytes = sum(p.stat().st_size for p in (out / "pagefind").rglob("*") if p.is_file())
        print(
            f"{args.articles:,} articles; Pagefind indexed them in {seconds:.1f} s, bundle {bundle_bytes / 1e6:.1f} MB"
        )
        print(f"baseline, one-file JSON index: {json_bytes / 1e6:.2f} MB downloaded by every query")
        for query, (downloaded, shown) in measure(out, QUERIES).items():
            ratio = downloaded / json_bytes
            print(f"  {query!r:24} {downloaded / 1e3:8.1f} kB  ({ratio:.3f} of the baseline)  {shown} results shown")
    finally:
        context.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
