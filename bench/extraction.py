"""Extraction benchmark: import the 60 `articles-en` pages and score bodies against the truth.

    python bench/extraction.py [--shared ../shared] [--pages ID ...] [--worst 10]

Prints per-page precision, recall, F1 (word 4-shingles) and paragraph counts, then the means.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from presseschau.ingest.evaluation import PageScore, run_benchmark

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/ directory")
    parser.add_argument("--pages", nargs="*", help="page ids (default: all 60)")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages with the lowest F1 at the end")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not (args.shared / "eval/articles-en/ground-truth.json").is_file():
        parser.error(f"{args.shared}/eval/articles-en/ground-truth.json not found (use --shared)")

    print(f"{'page':<16} {'P':>6} {'R':>6} {'F1':>6} {'par.true':>8} {'par.ext':>8}")

    def show(score: PageScore) -> None:
        print(
            f"{score.page_id[:16]:<16} {score.precision:6.3f} {score.recall:6.3f} {score.f1:6.3f} "
            f"{score.paragraphs_true:8d} {score.paragraphs_extracted:8d}",
            flush=True,
        )

    result = run_benchmark(args.shared, args.pages, on_page=show)
    print(
        f"\nmean over {len(result.pages)} pages: precision {result.precision:.4f}  recall {result.recall:.4f}  "
        f"F1 {result.f1:.4f}  paragraph agreement {result.paragraph_agreement:.4f}  ({result.seconds:.1f} s)"
    )
    if args.worst:
        print(f"\nworst {args.worst} by F1:")
        for score in sorted(result.pages, key=lambda s: s.f1)[: args.worst]:
            show(score)
    return 0


if __name__ == "__main__":
    sys.exit(main())
