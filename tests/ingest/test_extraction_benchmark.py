"""The extraction benchmark on all 60 `articles-en` pages (about 5 s), through the real import path."""

from __future__ import annotations

from pathlib import Path

import pytest

from presseschau.ingest.evaluation import score_text, true_paragraphs


def test_shingle_scores() -> None:
    assert score_text("one two three four five", "one two three four five") == (1.0, 1.0, 1.0)
    precision, recall, f1 = score_text("one two three four five", "one two three four six")
    assert (precision, recall) == (0.5, 0.5) and f1 == 0.5
    assert score_text("one two three four", "") == (0.0, 0.0, 0.0)
    assert true_paragraphs("a\n\n b \n  \nc") == ["a", "b", "c"]


@pytest.mark.slow
def test_extraction_quality_on_articles_en(test_data_dir: Path) -> None:
    from presseschau.ingest.evaluation import run_benchmark

    result = run_benchmark(test_data_dir)
    assert len(result.pages) == 60
    # Issue 2's bar is 0.95 (trafilatura alone: about 0.94-0.96); measured here: 0.975.
    assert result.f1 >= 0.95, f"mean F1 {result.f1:.4f}"
    assert result.precision >= 0.95 and result.recall >= 0.95
    # Paragraph fidelity (measured 0.88): paragraphs must not be merged into blocks.
    assert result.paragraph_agreement >= 0.85, f"paragraph agreement {result.paragraph_agreement:.4f}"
    assert sum(score.f1 < 0.5 for score in result.pages) == 0
