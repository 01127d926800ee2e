"""Story grouping benchmark: pairwise precision / recall / F1 on a labelled set, held-back third.

    python bench/stories.py                 # tune the threshold on the tuning part, report both parts
    python bench/stories.py --threshold 0.2 # report a given threshold (no tuning)
    python bench/stories.py --limit 20      # a small sample of each part (for a quick check)

The labelled set (`bench/data/stories/labels.toml`) holds 90 articles in 69 stories: English pages of
`../shared/eval/articles-en` (referenced by file name, never copied), the demo samples (English and
German), and articles written for this benchmark (`written.toml`: several outlets per event, plus near
misses — same topic, another event). Families (a story with its near misses) are split once, by their
order in the file: every third is held back. The threshold is chosen on the tuning part only; the
held-back part is grouped with it and scored. Each part is grouped on its own by
`presseschau.stories.grouping.assign`, the function the pipeline runs.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from presseschau.stories.grouping import PairScore, StoryDoc, assign, pairwise_scores  # noqa: E402

DATA = ROOT / "bench" / "data" / "stories"
SHARED = ROOT.parent / "shared" / "eval" / "articles-en"
GRID = [round(0.05 + 0.01 * i, 2) for i in range(56)]  # 0.05 … 0.60


@dataclass(frozen=True)
class Part:
    docs: list[StoryDoc]
    gold: list[list[str]]


def _title_of_page(path: Path) -> str:
    page = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    found = re.search(r'<meta[^>]+property="og:title"[^>]+content="([^"]*)"', page) or re.search(
        r"<title[^>]*>(.*?)</title>", page, re.S
    )
    return html.unescape(found.group(1)).strip() if found else ""


def _demo_docs() -> dict[str, StoryDoc]:
    from presseschau.content import html_to_text
    from presseschau.ingest.extract import extract_article
    from presseschau.pipeline.demo import load_samples

    docs = {}
    for sample in load_samples():
        english = extract_article(sample.english.read_text(encoding="utf-8"), sample.url)
        german = extract_article(sample.german.read_text(encoding="utf-8"), sample.url)
        docs[f"demo:{sample.id}"] = StoryDoc(
            key=f"demo:{sample.id}",
            title=english.title or "",
            text="\n".join(html_to_text(p.html) for p in english.paragraphs),
            german_title=german.title or "",
            german_text="\n".join(html_to_text(p.html) for p in german.paragraphs),
            time=english.published_at,
        )
    return docs


def load_docs(shared: Path, needed: set[str]) -> dict[str, StoryDoc]:
    docs: dict[str, StoryDoc] = {}
    written = tomllib.loads((DATA / "written.toml").read_text(encoding="utf-8"))
    for entry in written["article"]:
        docs[entry["id"]] = StoryDoc(
            key=entry["id"],
            title=entry["title"],
            text=entry["text"].strip(),
            time=datetime.fromisoformat(entry["date"]),
        )
    if any(key.startswith("demo:") for key in needed):
        docs.update(_demo_docs())
    shared_keys = [key for key in needed if key.startswith("shared:")]
    if shared_keys:
        truth = json.loads((shared / "ground-truth.json").read_text(encoding="utf-8"))
        for key in shared_keys:
            name = key.removeprefix("shared:")
            docs[key] = StoryDoc(
                key=key,
                title=_title_of_page(shared / "html" / f"{name}.html.gz"),
                text=truth[name]["articleBody"],
            )
    return docs


def load_parts(shared: Path = SHARED, limit: int | None = None) -> dict[str, Part]:
    """The tuning and held-back parts (`limit`: only the first N families of each)."""
    labels = tomllib.loads((DATA / "labels.toml").read_text(encoding="utf-8"))
    families: dict[str, list[list[list[str]]]] = {"tune": [], "holdout": []}
    for family in labels["family"]:
        families[family["split"]].append(family["stories"])
    if limit is not None:
        families = {split: found[:limit] for split, found in families.items()}
    needed = {key for found in families.values() for family in found for story in family for key in story}
    docs = load_docs(shared, needed)
    parts = {}
    for split, found in families.items():
        gold = [story for family in found for story in family]
        parts[split] = Part([docs[key] for story in gold for key in story], gold)
    return parts


def score(part: Part, threshold: float) -> PairScore:
    groups = assign(part.docs, threshold=threshold)
    return pairwise_scores([[m.key for m in g.members] for g in groups], part.gold)


def tune(part: Part) -> float:
    """The threshold with the best F1 on `part`; the middle of the best plateau on ties."""
    results = [(score(part, t).f1, t) for t in GRID]
    best = max(f1 for f1, _ in results)
    plateau = [t for f1, t in results if f1 == best]
    return plateau[len(plateau) // 2]


def _line(name: str, part: Part, result: PairScore) -> str:
    stories = len(part.gold)
    return (
        f"{name:<9} {len(part.docs):>4} articles {stories:>3} stories {result.true_pairs:>4} true pairs  "
        f"precision {result.precision:.3f}  recall {result.recall:.3f}  F1 {result.f1:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, help="score this threshold instead of tuning one")
    parser.add_argument("--limit", type=int, help="only the first N families of each part")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the articles-en evaluation set")
    args = parser.parse_args(argv)
    parts = load_parts(args.shared, args.limit)
    threshold = args.threshold if args.threshold is not None else tune(parts["tune"])
    total = sum(len(p.docs) for p in parts.values())
    print(f"labelled set: {total} articles, {sum(len(p.gold) for p in parts.values())} stories")
    print(f"threshold {threshold:.2f} ({'given' if args.threshold is not None else 'tuned on the tuning part'})")
    print(_line("held-back", parts["holdout"], score(parts["holdout"], threshold)))
    print(_line("tuning", parts["tune"], score(parts["tune"], threshold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
