"""Story grouping benchmark: the production path, one article at a time, on labelled real articles.

    python bench/stories.py                  # tune the threshold on the tuning part, report every part
    python bench/stories.py --threshold 0.2  # report a given threshold (no tuning)
    python bench/stories.py --set written    # the older set of written articles and demo samples
    python bench/stories.py --set ecb        # ECB+: 43 topics of two same-kind events, all at one time
    python bench/stories.py --scale          # per-article cost with 1,000 and 10,000 in the window (in
                                             # memory, and through group_pending against a database),
                                             # and the grouping of a 10,000-article publish --all

The real set (`bench/data/stories/real.toml`, see README.md there): 305 real English news articles in
178 events (35 with several articles), from the pages of `../shared/eval/articles-en` and two public
research sets whose texts live outside the repository (`--real-dir`, default
`../shared/eval/stories-real`, or $PRESSESCHAU_STORIES_REAL). An event is held back when the first
byte of sha1(its name) % 3 == 0: about a third, never tuned on.

Each part is grouped as the pipeline groups (`presseschau.stories.service.group_pending` after each
publication): articles in time order, each given to `presseschau.stories.grouping.assign` alone with
the stories of its time window, and one sliding corpus of document frequencies for the whole run
(fresh at the start, as after an install). Scores: pairwise and BCubed precision / recall / F1.
The same-kind check groups the families of one kind (several events of one topic: two MH370
episodes, two Iran-deal stories) with every article given the same timestamp, so only the text
tells the events apart. ECB+ (`--set ecb --ecb-dir DIR`, default `../shared/eval/ecbplus` or
$PRESSESCHAU_STORIES_ECB; see README.md here) is the larger same-kind set: a topic's two events are two
stories, every article at one time, a third of the topics held back (sha1 of the topic number).
The signals' weights are fitted by `bench/story_signals.py`.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import html
import json
import os
import re
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import compress
from operator import is_not
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from presseschau.config import Settings  # noqa: E402
from presseschau.stories import grouping  # noqa: E402
from presseschau.stories.grouping import (  # noqa: E402
    Group,
    StoryDoc,
    StoryIndex,
    assign,
    bcubed_scores,
    pairwise_scores,
)
from presseschau.stories.vectors import TermStats  # noqa: E402

DATA = ROOT / "bench" / "data" / "stories"
SHARED = ROOT.parent / "shared" / "eval" / "articles-en"
REAL = Path(os.environ.get("PRESSESCHAU_STORIES_REAL", ROOT.parent / "shared" / "eval" / "stories-real"))
ECB = Path(os.environ.get("PRESSESCHAU_STORIES_ECB", ROOT.parent / "shared" / "eval" / "ecbplus"))
GRID = [round(0.05 + 0.01 * i, 2) for i in range(46)]  # 0.05 … 0.50
SAME_TIME = datetime(2026, 1, 1, 12, tzinfo=UTC)
# Families whose events are episodes of one running story (the MH370 search, the Galaxy S5 from launch
# to reviews to sales): told apart by their time, not their words, so not part of the same-kind
# check, which takes the time away.
ONE_ONGOING_STORY = {"mh370", "samsung"}


@dataclass(frozen=True)
class Part:
    docs: list[StoryDoc]
    gold: list[list[str]]


@dataclass(frozen=True)
class Result:
    precision: float
    recall: float
    f1: float
    b_precision: float
    b_recall: float
    b_f1: float
    true_pairs: int


# Loading ------------------------------------------------------------------------------------------


def _title_of_page(path: Path) -> str:
    page = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    found = re.search(r'<meta[^>]+property="og:title"[^>]+content="([^"]*)"', page) or re.search(
        r"<title[^>]*>(.*?)</title>", page, re.S
    )
    return html.unescape(found.group(1)).strip() if found else ""


def shared_docs(shared: Path, keys: set[str]) -> dict[str, StoryDoc]:
    """Pages of ../shared/eval/articles-en (`shared:<file>`): title from the page, body from its truth."""
    if not keys:
        return {}
    truth = json.loads((shared / "ground-truth.json").read_text(encoding="utf-8"))
    docs = {}
    for key in keys:
        name = key.removeprefix("shared:")
        title = _title_of_page(shared / "html" / f"{name}.html.gz")
        docs[key] = StoryDoc(key=key, title=title, text=truth[name]["articleBody"])
    return docs


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def wikiref_docs(folder: Path, keys: set[str]) -> dict[str, StoryDoc]:
    """WikiRef220 articles (`wikiref:<file>`): the first line is the headline, the rest the text."""
    docs = {}
    for key in keys:
        lines = _read_text(folder / f"{key.removeprefix('wikiref:')}.txt").replace("\r\n", "\n").split("\n")
        lines = [line.strip() for line in lines]
        while lines and not lines[0]:
            lines.pop(0)
        docs[key] = StoryDoc(key=key, title=lines[0] if lines else "", text="\n".join(lines[1:]).strip())
    return docs


_NO_SPACE_BEFORE = {".", ",", ":", ";", "!", "?", ")", "'s", "n't", "'", "’s", "%"}


def _detokenize(tokens: list[str]) -> str:
    text = ""
    for token in tokens:
        if token == "\\n":
            text += "\n"
        elif not text or text.endswith(("\n", "(", "-")) or token in _NO_SPACE_BEFORE or token == "-":
            text += token
        else:
            text += " " + token
    return text


def newswcl_docs(conll: Path, keys: set[str], articles: dict[str, dict[str, str]]) -> dict[str, StoryDoc]:
    """NewsWCL50 articles (`wcl:<doc>`) from its CoNLL tokens; the first line is the headline unless it
    is a dateline ("WASHINGTON —"). Dated by the article's URL, at noon UTC (minutes keep outlet order)."""
    tokens: dict[str, list[str]] = {}
    with conll.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            tokens.setdefault("wcl:" + row["doc_id"], []).append(row["token"])
    docs = {}
    for offset, key in enumerate(sorted(keys)):
        text = _detokenize(tokens[key]).strip()
        first, _, rest = text.partition("\n")
        title = "" if first.rstrip().endswith("—") or len(first.split()) > 30 else first
        body = rest if title else text
        meta = articles.get(key, {})
        moment = None
        if "date" in meta:
            moment = datetime.fromisoformat(meta["date"]).replace(hour=12, minute=offset % 50, tzinfo=UTC)
        docs[key] = StoryDoc(key=key, title=title, text=body.strip(), time=moment)
    return docs


def held_back(name: str) -> bool:
    return hashlib.sha1(name.encode("utf-8")).digest()[0] % 3 == 0


def load_real(real_dir: Path = REAL, shared: Path = SHARED) -> dict[str, Part]:
    """The tuning and held-back parts of the real set, and the same-kind families (all of them)."""
    labels = tomllib.loads((DATA / "real.toml").read_text(encoding="utf-8"))
    keys = {key for event in labels["event"] for key in event["members"]}
    missing = [p for p in (real_dir / "WikiRef220", real_dir / "NewsWCL50" / "conll.csv") if not p.exists()]
    if missing:
        raise SystemExit(f"the real set's texts are missing: {', '.join(map(str, missing))} (see {DATA}/README.md)")
    docs = {
        **shared_docs(shared, {k for k in keys if k.startswith("shared:")}),
        **wikiref_docs(real_dir / "WikiRef220", {k for k in keys if k.startswith("wikiref:")}),
        **newswcl_docs(
            real_dir / "NewsWCL50" / "conll.csv", {k for k in keys if k.startswith("wcl:")}, labels["articles"]
        ),
    }
    for number, event in enumerate(labels["event"]):
        # The event's known day for articles without a date of their own; an event of unknown day a
        # week of its own in 1990 (its real day is years from the others: none meet in a window).
        day = datetime(1990, 1, 1, 12, tzinfo=UTC) + timedelta(days=7 * number)
        if "date" in event:
            day = datetime.fromisoformat(event["date"]).replace(hour=12, tzinfo=UTC)
        for offset, key in enumerate(event["members"]):
            if docs[key].time is None:
                docs[key] = replace(docs[key], time=day + timedelta(minutes=offset))
    parts: dict[str, list[list[str]]] = {"tune": [], "holdout": []}
    for event in labels["event"]:
        parts["holdout" if held_back(event["name"]) else "tune"].append(event["members"])
    result = {split: Part([docs[k] for event in gold for k in event], gold) for split, gold in parts.items()}
    for split in ("tune", "holdout"):
        chosen = [event for event in labels["event"] if held_back(event["name"]) == (split == "holdout")]
        result[f"same-kind-{split}"] = same_kind(chosen, docs)
    return result


def same_kind(events: list[dict[str, object]], docs: dict[str, StoryDoc]) -> Part:
    """Families with several events, at least one of several articles; every article at one time."""
    families: dict[str, list[list[str]]] = {}
    for event in events:
        members = event["members"]
        assert isinstance(members, list)
        families.setdefault(str(event["family"]), []).append(list(members))
    gold = [
        event
        for name, family in families.items()
        if name not in ONE_ONGOING_STORY and len(family) > 1 and any(len(event) > 1 for event in family)
        for event in family
    ]
    return Part([replace(docs[k], time=SAME_TIME) for event in gold for k in event], gold)


def ecb_held_back(topic: str) -> bool:
    return hashlib.sha1(topic.encode("utf-8")).digest()[0] % 3 == 0


def load_ecb(ecb_dir: Path = ECB) -> dict[str, Part]:
    """ECB+ (see README.md here): 43 topics of two events of one kind each (`<N>ecb`, `<N>ecbplus`),
    one JSON file per article; every article at one timestamp, so only the text tells the events apart.
    A topic is held back when the first byte of sha1(its number) % 3 == 0: both its events together."""
    folders = sorted(p for p in ecb_dir.glob("*ecb*") if p.is_dir()) if ecb_dir.is_dir() else []
    if not folders:
        raise SystemExit(f"the ECB+ texts are missing in {ecb_dir} (see {DATA}/README.md)")
    parts: dict[str, Part] = {"ecb-tune": Part([], []), "ecb-holdout": Part([], [])}
    for folder in folders:
        topic = re.sub(r"\D", "", folder.name)
        part = parts["ecb-holdout" if ecb_held_back(topic) else "ecb-tune"]
        event = []
        for path in sorted(folder.glob("*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            key = f"ecb:{path.stem}"
            title, text = str(record.get("title") or ""), str(record.get("text") or "")
            part.docs.append(StoryDoc(key=key, title=title, text=text, time=SAME_TIME))
            event.append(key)
        if event:
            part.gold.append(event)
    return parts


def load_written(shared: Path = SHARED) -> dict[str, Part]:
    """The older set: written articles, demo samples and shared pages, split by family (labels.toml)."""
    sys.path.insert(0, str(ROOT / "bench"))
    labels = tomllib.loads((DATA / "labels.toml").read_text(encoding="utf-8"))
    written = tomllib.loads((DATA / "written.toml").read_text(encoding="utf-8"))
    docs = {
        entry["id"]: StoryDoc(
            key=entry["id"],
            title=entry["title"],
            text=entry["text"].strip(),
            time=datetime.fromisoformat(entry["date"]),
        )
        for entry in written["article"]
    }
    needed = {key for family in labels["family"] for story in family["stories"] for key in story}
    docs.update(shared_docs(shared, {k for k in needed if k.startswith("shared:")}))
    if any(k.startswith("demo:") for k in needed):
        docs.update(_demo_docs())
    parts: dict[str, list[list[str]]] = {"tune": [], "holdout": []}
    for family in labels["family"]:
        parts[family["split"]].extend(family["stories"])
    return {split: Part([docs[k] for story in gold for k in story], gold) for split, gold in parts.items()}


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


# The production path --------------------------------------------------------------------------------


def _in_window(group: Group, doc: StoryDoc, window: timedelta) -> bool:
    span = group.span()
    return span is None or doc.time is None or span[0] - window <= doc.time <= span[1] + window


def production(docs: Sequence[StoryDoc], threshold: float, window: timedelta = grouping.DEFAULT_WINDOW) -> list[Group]:
    """Group `docs` as the pipeline does: one at a time in time order, each with the stories of its
    window (as `group_pending` loads them), one sliding corpus for the run."""
    stats = TermStats()
    stories: list[Group] = []
    for doc in sorted(docs, key=lambda d: (d.time is None, d.time or datetime.min, d.key)):
        nearby = [story for story in stories if _in_window(story, doc, window)]
        for group in assign([doc], nearby, threshold=threshold, window=window, stats=stats):
            if group.key is None:
                stories.append(Group(len(stories), group.members, group.scores))
            else:
                stories[group.key].members[:] = group.members
                stories[group.key].scores.update(group.scores)
    return stories


def score(part: Part, threshold: float) -> Result:
    predicted = [[m.key for m in g.members] for g in production(part.docs, threshold)]
    pairs = pairwise_scores(predicted, part.gold)
    b_precision, b_recall, b_f1 = bcubed_scores(predicted, part.gold)
    return Result(pairs.precision, pairs.recall, pairs.f1, b_precision, b_recall, b_f1, pairs.true_pairs)


def tune(part: Part, objective: Callable[[Result], float] = lambda r: r.f1 + r.b_f1) -> float:
    """The threshold with the best pairwise + BCubed F1 on `part`; the middle of the best plateau."""
    results = [(round(objective(score(part, t)), 6), t) for t in GRID]
    best = max(value for value, _ in results)
    plateau = [t for value, t in results if value == best]
    return plateau[len(plateau) // 2]


NAMES = {
    "tune": "tuning",
    "holdout": "held-back",
    "same-kind-tune": "same-kind tuning",
    "same-kind-holdout": "same-kind held-back",
    "ecb-tune": "ECB+ tuning",
    "ecb-holdout": "ECB+ held-back",
}


def _line(name: str, part: Part, result: Result) -> str:
    return (
        f"{NAMES[name]:<19} {len(part.docs):>4} articles {len(part.gold):>3} events {result.true_pairs:>4} pairs  "
        f"pairwise precision {result.precision:.3f} recall {result.recall:.3f} F1 {result.f1:.3f}  "
        f"BCubed precision {result.b_precision:.3f} recall {result.b_recall:.3f} F1 {result.b_f1:.3f}"
    )


def _first(part: Part, events: int) -> Part:
    gold = part.gold[:events]
    keep = {key for event in gold for key in event}
    return Part([doc for doc in part.docs if doc.key in keep], gold)


# Scale ----------------------------------------------------------------------------------------------


def _synthetic(n: int, offset: int = 0, step: timedelta = timedelta(minutes=1)) -> list[StoryDoc]:
    """`n` articles in n/3 stories of three, with distinct vocabularies, `step` apart."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = []
    for i in range(offset, offset + n):
        story = i // 3
        words = " ".join(f"topic{story}w{j} common{j % 7}" for j in range(12))
        docs.append(
            StoryDoc(
                key=f"s{i}",
                title=f"Story {story} headline Place{story}",
                text=f"Reporter {i % 5} writes on story {story}: {words}. Minister Name{story} spoke.",
                time=start + step * i,
            )
        )
    return docs


def scale(sizes: Sequence[int] = (1_000, 10_000), probes: int = 300) -> None:
    """Per-article cost of placing new articles with `sizes` articles already in the window."""
    for size in sizes:
        index = StoryIndex(TermStats())
        window = timedelta(days=365)
        for doc in _synthetic(size):
            index.place(doc, grouping.DEFAULT_THRESHOLD, window)
        probe = _synthetic(probes, offset=size)
        started = time.perf_counter()
        for doc in probe:
            index.place(doc, grouping.DEFAULT_THRESHOLD, window)
        per_article = (time.perf_counter() - started) / probes
        # The same through `assign`, as group_pending calls it: every story of the window given (the
        # first call builds the kept index of those stories, as the first publication after a start).
        groups = [Group(number, list(group.members)) for number, group in enumerate(index.groups)]
        calls = _synthetic(probes, offset=size + probes)
        assign([calls[0]], groups, window=window, stats=index.stats)
        started = time.perf_counter()
        for doc in calls[1:]:
            result = assign([doc], groups, window=window, stats=index.stats)
            # The caller's own bookkeeping at C speed too: which given groups changed, which are new.
            for position in compress(range(len(groups)), map(is_not, result, groups)):
                groups[position] = result[position]
            groups += [Group(len(groups) + i, g.members, g.scores) for i, g in enumerate(result[len(groups) :])]
        per_call = (time.perf_counter() - started) / (len(calls) - 1)
        print(
            f"{size:>6} articles ({len(index.stories)} stories) in the window: {per_article * 1000:.2f} ms per "
            f"article kept in a StoryIndex, {per_call * 1000:.2f} ms through assign with every story given"
        )


def _store(session: Session, settings: Settings, docs: Sequence[StoryDoc], first_id: int) -> list[int]:
    """`docs` as finished translations (not yet published) of one source, IDs from `first_id`; the
    German text is the English one (stemmed as German, as many terms as a translation has)."""
    from presseschau.content import Paragraph, paragraphs_to_json
    from presseschau.store.models import Article, Source, Translation

    if session.get(Source, 1) is None:
        session.add(Source(id=1, url="https://outlet.example/feed.xml", name="Outlet", kind="feed"))
        session.flush()
    ids = list(range(first_id, first_id + len(docs)))
    articles, translations = [], []
    for number, doc in zip(ids, docs, strict=True):
        paragraphs = paragraphs_to_json([Paragraph.from_text(doc.text)])
        url = f"https://outlet.example/a/{number}"
        articles.append(
            {
                "id": number,
                "source_id": 1,
                "url": url,
                "canonical_url": url,
                "title": doc.title,
                "published_at": doc.time,
                "paragraphs": paragraphs,
                "fetch_status": "ok",
                "language": "en",
            }
        )
        translations.append(
            {
                "id": number,
                "article_id": number,
                "language": settings.target_language,
                "engine": "bench",
                "title": doc.title,
                "paragraphs": paragraphs,
                "status": "done",
                "translated_at": doc.time,
            }
        )
    session.execute(insert(Article), articles)
    session.execute(insert(Translation), translations)
    return ids


def production_scale(sizes: Sequence[int] = (1_000, 10_000), probes: int = 100) -> dict[int, float]:
    """Per-article cost of the production path: `group_pending` as a publication calls it, against a
    SQLite database with `sizes` articles (in stories of three) already grouped in the window (the
    setup groups them with one `publish --all`). Returns the milliseconds per article by size."""
    from presseschau.app import AppContext
    from presseschau.publish import service as publish_service
    from presseschau.stories import service as stories_service

    spent = [0.0]
    original = stories_service.group_pending

    def timed(*args: Any, **kwargs: Any) -> stories_service.GroupReport:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    costs = {}
    stories_service.group_pending = timed  # publish_service calls it through group_quietly
    try:
        for size in sizes:
            # All of them in one window: the stories' articles a few seconds apart.
            step = timedelta(hours=48) / (size + probes)
            docs = _synthetic(size + probes, step=step)
            with tempfile.TemporaryDirectory(prefix="presseschau-bench-") as folder:
                context = AppContext.for_data_dir(Path(folder), story_window_hours=72)
                try:
                    with context.database.session() as session:
                        _store(session, context.settings, docs[:size], 1)
                        spent[0] = 0.0
                        publish_service.publish_all(session, context.settings)
                    setup = spent[0]
                    with context.database.session() as session:
                        probe_ids = _store(session, context.settings, docs[size:], size + 1)
                    # The first publication after a start pays for the process's warm-up (not counted).
                    with context.database.session() as session:
                        publish_service.publish(session, context.settings, probe_ids[0])
                    spent[0] = 0.0
                    for article_id in probe_ids[1:]:
                        with context.database.session() as session:
                            publish_service.publish(session, context.settings, article_id)
                    costs[size] = spent[0] / (len(probe_ids) - 1) * 1000
                    print(
                        f"{size:>6} articles in the window (SQLite, grouped by publish --all in {setup:.1f} s): "
                        f"{costs[size]:.2f} ms per article through group_pending, one publication at a time"
                    )
                finally:
                    context.close()
    finally:
        stories_service.group_pending = original
    if len(costs) > 1:
        low, high = min(costs), max(costs)
        print(f"group_pending per article, {high:,} vs {low:,} in the window: {costs[high] / costs[low]:.2f}x")
    return costs


def bulk(size: int = 10_000) -> None:
    """The grouping of a `publish --all` of `size` articles: one `assign` call with all of them."""
    docs = _synthetic(size)
    started = time.perf_counter()
    groups = assign(docs, window=timedelta(days=365), stats=TermStats())
    took = time.perf_counter() - started
    print(f"{size} articles in one assign call (publish --all): {took:.1f} s, {len(groups)} stories")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threshold", type=float, help="score this threshold instead of tuning one")
    parser.add_argument("--set", choices=("real", "written", "ecb"), default="real", help="which labelled set")
    parser.add_argument("--real-dir", type=Path, default=REAL, help="where the real set's texts are")
    parser.add_argument("--ecb-dir", type=Path, default=ECB, help="where the ECB+ topics' folders are")
    parser.add_argument("--shared", type=Path, default=SHARED, help="the articles-en evaluation set")
    parser.add_argument("--scale", action="store_true", help="measure the per-article cost at 1,000 and 10,000")
    parser.add_argument("--limit", type=int, help="only the first N events of each part (a quick check)")
    args = parser.parse_args(argv)
    if args.scale:
        scale()
        production_scale()
        bulk()
        return 0
    if args.set == "real":
        parts = load_real(args.real_dir, args.shared)
    elif args.set == "ecb":
        parts = load_ecb(args.ecb_dir)
    else:
        parts = load_written(args.shared)
    if args.limit is not None:
        parts = {name: _first(part, args.limit) for name, part in parts.items()}
    tuning = parts["ecb-tune" if args.set == "ecb" else "tune"]
    threshold = args.threshold if args.threshold is not None else tune(tuning)
    how = "given" if args.threshold is not None else "tuned on the tuning part, production path"
    print(f"{args.set} set, threshold {threshold:.2f} ({how})")
    for name, part in parts.items():
        print(_line(name, part, score(part, threshold)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
