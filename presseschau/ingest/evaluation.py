"""Extraction quality against the `articles-en` ground truth (used by bench/extraction.py and tests).

Scores follow the Scrapinghub article-extraction benchmark: precision / recall / F1 over word
4-shingles (lower-cased `\\w+` tokens, counted as multisets), averaged over pages. Paragraph
agreement is min(n_extracted, n_true) / max(n_extracted, n_true) of the paragraph counts.
Pages go through the real import path (`import_inputs` of the local file with its `--url`) into a
temporary data directory, so the benchmark measures what users get.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_from_json
from presseschau.store.models import Article

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


@dataclass(frozen=True)
class PageScore:
    page_id: str
    precision: float
    recall: float
    f1: float
    paragraphs_true: int
    paragraphs_extracted: int

    @property
    def paragraph_agreement(self) -> float:
        high = max(self.paragraphs_true, self.paragraphs_extracted)
        return 1.0 if high == 0 else min(self.paragraphs_true, self.paragraphs_extracted) / high


@dataclass(frozen=True)
class BenchmarkResult:
    pages: list[PageScore]
    seconds: float

    @property
    def precision(self) -> float:
        return mean(p.precision for p in self.pages)

    @property
    def recall(self) -> float:
        return mean(p.recall for p in self.pages)

    @property
    def f1(self) -> float:
        return mean(p.f1 for p in self.pages)

    @property
    def paragraph_agreement(self) -> float:
        return mean(p.paragraph_agreement for p in self.pages)


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text.lower())
    return Counter(tuple(tokens[i : i + n]) for i in range(max(0, len(tokens) - n + 1)))


def score_text(true_text: str, extracted_text: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of `extracted_text` against `true_text` over word shingles."""
    truth, found = shingles(true_text), shingles(extracted_text)
    overlap = sum((truth & found).values())
    if not truth and not found:
        return 1.0, 1.0, 1.0
    precision = overlap / sum(found.values()) if found else 0.0
    recall = overlap / sum(truth.values()) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def true_paragraphs(article_body: str) -> list[str]:
    return [block.strip() for block in re.split(r"\n\s*\n", article_body) if block.strip()]


def load_ground_truth(shared: Path) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = json.loads((shared / "eval/articles-en/ground-truth.json").read_text("utf-8"))
    return data


def run_benchmark(
    shared: Path,
    page_ids: Iterable[str] | None = None,
    on_page: Callable[[PageScore], None] | None = None,
) -> BenchmarkResult:
    """Import every (or the given) page into a fresh data directory and score the stored bodies."""
    from presseschau.ingest.importing import import_inputs

    truth = load_ground_truth(shared)
    ids = sorted(page_ids) if page_ids is not None else sorted(truth)
    started = time.perf_counter()
    scores: list[PageScore] = []
    with tempfile.TemporaryDirectory(prefix="presseschau-bench-") as tmp:
        # Each page is imported under its own URL; nothing is fetched from the network.
        context = AppContext.for_data_dir(Path(tmp), politeness_delay_s=0.0)
        try:
            for page_id in ids:
                path = shared / "eval/articles-en/html" / f"{page_id}.html.gz"
                report = import_inputs(
                    context.database, context.settings, [str(path)], original_url=truth[page_id]["url"]
                )
                paragraphs: list[Paragraph] = []
                if report.article_ids:
                    with context.database.session() as session:
                        article = session.get(Article, report.article_ids[0])
                        paragraphs = paragraphs_from_json(article.paragraphs if article else [])
                expected = true_paragraphs(truth[page_id]["articleBody"])
                precision, recall, f1 = score_text("\n\n".join(expected), "\n\n".join(p.text for p in paragraphs))
                score = PageScore(page_id, precision, recall, f1, len(expected), len(paragraphs))
                scores.append(score)
                if on_page is not None:
                    on_page(score)
        finally:
            context.close()
    return BenchmarkResult(scores, time.perf_counter() - started)
