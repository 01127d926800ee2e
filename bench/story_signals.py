"""Fit the event signals' weights of story grouping (`SIGNAL_WEIGHTS` in presseschau.stories.grouping).

    python bench/story_signals.py              # fit, choose the threshold, print the table to paste
    python bench/story_signals.py --ablation   # also refit without each signal, scored on the held-back parts
    python bench/story_signals.py --sklearn    # the same with scikit-learn's TfidfVectorizer's vectors

Needs scikit-learn (`pip install -e ".[bench]"`; a benchmark tool, not a dependency of the package).

How: the tuning parts of the real set and of ECB+ (`bench/stories.py`; the held-back parts are never
read for fitting or choosing) are walked as production walks them, one article at a time in time
order, with the labelled events as the stories so far. Each article's candidate stories (the ones the
inverted index finds, within the window, centroid cosine at least `MIN_CENTROID`) give one row of
signals (`_Story.signals`), labelled 1 when the story is the article's event. A logistic regression
(scikit-learn, L2, C=1) is fitted on the rows of both sets, each set weighing the same in total. The
threshold on its probability is then chosen on the production path (`bench/stories.py`) over the
tuning parts: the best sum of pairwise F1 and BCubed F1 of both sets. Finally the intercept is moved
so that this threshold lies at `DEFAULT_THRESHOLD` (the setting users know keeps its meaning).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import stories as bench  # noqa: E402

from presseschau.stories import grouping  # noqa: E402
from presseschau.stories.grouping import SIGNALS, Query, StoryIndex, count, vector  # noqa: E402
from presseschau.stories.vectors import TermStats  # noqa: E402

GRID = [round(0.1 * i, 1) for i in range(1, 9)]  # 0.1 … 0.8


def rows(part: bench.Part) -> tuple[list[tuple[float, ...]], list[int]]:
    """Signals of every (article, candidate story) on the labelled path, and whether it is the event."""
    event_of = {key: number for number, event in enumerate(part.gold) for key in event}
    stats = TermStats()
    index = StoryIndex(stats)
    story_of_event: dict[int, int] = {}
    features: list[tuple[float, ...]] = []
    labels: list[int] = []
    window = grouping.DEFAULT_WINDOW
    for doc in sorted(part.docs, key=lambda d: (d.time is None, d.time or datetime.min, d.key)):
        count(doc, stats)
        query = vector(doc, stats)
        asked = Query.of(doc, query)
        for number in index.candidates(query):
            story = index.stories[number]
            if not story.within(doc.time, window):
                continue
            if grouping.cosine(query, story.centroid) / (story.norm or 1.0) < grouping.MIN_CENTROID:
                continue
            features.append(story.signals(asked, window))
            labels.append(int(story_of_event.get(event_of[doc.key]) == number))
        event = event_of[doc.key]
        if event not in story_of_event:
            story_of_event[event] = index._new(grouping.Group(None))
        index._join(story_of_event[event], doc, query)
    return features, labels


Rows = tuple[list[tuple[float, ...]], list[int]]


def fit(sets: Sequence[Rows], keep: Sequence[str]) -> tuple[dict[str, float], float]:
    from sklearn.linear_model import LogisticRegression

    columns = [SIGNALS.index(name) for name in keep]
    x, y, weights = [], [], []
    for features, labels in sets:
        for row, label in zip(features, labels, strict=True):
            x.append([row[c] for c in columns])
            y.append(label)
            weights.append(1.0 / len(labels))
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(x, y, sample_weight=[w * len(y) / len(sets) for w in weights])
    table = dict.fromkeys(SIGNALS, 0.0)
    table.update({name: float(w) for name, w in zip(keep, model.coef_[0], strict=True)})
    return table, float(model.intercept_[0])


def use(table: dict[str, float], intercept: float) -> None:
    grouping.SIGNAL_WEIGHTS.clear()
    grouping.SIGNAL_WEIGHTS.update(table)
    grouping.SIGNAL_INTERCEPT = intercept


def choose(tuning: Sequence[bench.Part]) -> tuple[float, float]:
    """The threshold with the best sum of pairwise and BCubed F1 over the tuning parts (and that sum)."""
    best, best_value = GRID[0], -1.0
    for threshold in GRID:
        results = [bench.score(part, threshold) for part in tuning]
        value = sum(r.f1 + r.b_f1 for r in results)
        scores = "  ".join(f"P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}" for r in results)
        print(f"    {threshold:.2f}: {scores}")
        if value > best_value:
            best, best_value = threshold, value
    return best, best_value


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def report(name: str, parts: dict[str, bench.Part], threshold: float) -> None:
    for key, part in parts.items():
        r = bench.score(part, threshold)
        print(
            f"  {name:<24} {bench.NAMES[key]:<19} P {r.precision:.3f} R {r.recall:.3f} F1 {r.f1:.3f}  "
            f"BCubed P {r.b_precision:.3f} R {r.b_recall:.3f} F1 {r.b_f1:.3f}"
        )


def use_sklearn(parts: Sequence[bench.Part]) -> None:
    """Weigh every article with scikit-learn's TfidfVectorizer instead (English stop words, sublinear
    term frequency, titles twice), fitted on all texts of `parts` at once: the plain library baseline.
    It has no names (`n:`) terms, so the names' signals stay 0; the fit learns with what is left."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [doc for part in parts for doc in part.docs]
    matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(
        f"{doc.title}\n{doc.title}\n{doc.text}" for doc in docs
    )
    by_doc: dict[grouping.StoryDoc, dict[str, float]] = {}
    for row, doc in enumerate(docs):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end]
        by_doc[doc] = {f"w{column}": float(v) for column, v in zip(columns, values, strict=True)}
    grouping._weigh = lambda doc, stats: by_doc[doc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real-dir", type=Path, default=bench.REAL)
    parser.add_argument("--ecb-dir", type=Path, default=bench.ECB)
    parser.add_argument("--ablation", action="store_true", help="refit without each signal")
    parser.add_argument("--drop", default="", help="signals left out of the fit, comma-separated")
    parser.add_argument("--sklearn", action="store_true", help="articles weighed by scikit-learn's TfidfVectorizer")
    args = parser.parse_args(argv)
    real = bench.load_real(args.real_dir)
    ecb = bench.load_ecb(args.ecb_dir)
    tuning = [real["tune"], ecb["ecb-tune"]]
    if args.sklearn:
        use_sklearn([*real.values(), *ecb.values()])
    held = {"holdout": real["holdout"], "ecb-holdout": ecb["ecb-holdout"]}
    sets = [rows(part) for part in tuning]
    dropped = {name for name in args.drop.split(",") if name}
    if unknown := dropped - set(SIGNALS):
        parser.error(f"unknown signals: {', '.join(sorted(unknown))}")
    kept = [name for name in SIGNALS if name not in dropped]
    variants: list[tuple[str, list[str]]] = [("all signals", kept)]
    if args.ablation:
        variants += [(f"without {name}", [s for s in kept if s != name]) for name in kept]
    for name, keep in variants:
        table, intercept = fit(sets, keep)
        use(table, intercept)
        threshold, value = choose(tuning)
        print(f"{name}: threshold {threshold:.2f} on the fitted probability (tuning F1 + BCubed F1 sum {value:.3f})")
        report(name, {"tune": real["tune"], "ecb-tune": ecb["ecb-tune"], **held}, threshold)
        if name == "all signals":
            shifted = intercept + _logit(grouping.DEFAULT_THRESHOLD) - _logit(threshold)
            print("SIGNAL_WEIGHTS: dict[str, float] = {")
            for signal in SIGNALS:
                print(f'    "{signal}": {table[signal]:.3f},')
            print("}")
            print(f"SIGNAL_INTERCEPT = {shifted:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
