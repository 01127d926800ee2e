"""Which articles report the same event: weighted term vectors, story representations, event signals.

Pure functions over `StoryDoc`s, with no database: the service (`presseschau.stories.service`)
feeds it stored articles, the benchmark (`bench/stories.py`) a labelled set, one article at a time
in time order, as the pipeline publishes them.

Each document becomes a sparse vector (`presseschau.stories.vectors`): Snowball stems of its
English title and text (`en:`), of its German title and text when it has one (`de:`) and the names in
both (capitalised words not at the start of a sentence, `n:`), titles counting `TITLE_WEIGHT` times
(figures, `#:`, only with `NUMBER_WEIGHT` above 0: they did not help on the labelled set). Weights are
sublinear term frequency times the inverse document frequency from a sliding corpus of recent
articles (`TermStats`), kept incrementally: every document the grouping sees is counted once, so the
weights are those of the news of the last days, not of the handful of stories that happen to be in
the time window. Without a `stats` argument the module's own sliding corpus is used (`RECENT_TERMS`),
so repeated calls in one process share it.

Each story is represented by its members' vectors and their centroid (`StoryIndex`). A new
document's score for a story blends the cosine with the story's centroid and with its best-matching
member (`CENTROID_SHARE`: a large story with many angles stays easy to join, one near-duplicate is
enough) with the agreement of its names with the story's (`NAME_SHARE`: the same kind of event
elsewhere shares words, not people and places). It joins the best story whose score reaches the
threshold and whose time span is within `window` of it; otherwise it opens a story of its own.
Stories are never split or merged here (an editor's decisions stay).

`assign(new, groups, *, threshold, window, corpus, stats)` is the entry point: the pipeline calls it
with the stories of the time window and the new articles (one, after each publication), and every
given story is compared. Stories opened within one call (a bulk `publish --all`) are found through an
inverted index of telling terms, and so is every story of a `StoryIndex` a caller keeps across calls
(`StoryIndex.place`, the scale benchmark): a new article's cost does not grow with their number.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from presseschau.stories.vectors import (
    STOPWORDS_DE,
    STOPWORDS_EN,
    TermStats,
    Vector,
    dot,
    names,
    numbers,
    stems,
)

# Tuned on the tuning part of the real labelled set, one article at a time (`bench/stories.py`).
DEFAULT_THRESHOLD = 0.2
DEFAULT_WINDOW = timedelta(hours=72)
TITLE_WEIGHT = 2
NAME_WEIGHT = 1.5
NUMBER_WEIGHT = 0.0
# A story's score: this share of the cosine with its centroid, the rest with its best member.
CENTROID_SHARE = 0.5
# The share of the score that is the agreement of names (people, places, bodies) with the story's.
NAME_SHARE = 0.15
# Stories whose centroid is under this share of the threshold are not compared member by member.
CENTROID_FLOOR = 0.25
# How many of a document's heaviest terms look up candidate stories, and how many stories one
# term may point to before it says too little to look them up by.
CANDIDATE_TERMS = 24
MAX_POSTING = 100
# The members of a story compared one by one (the latest; the centroid stands for the rest).
MAX_MEMBERS = 64

# The sliding corpus of recent articles for the document frequencies (see the module docstring).
RECENT_TERMS = TermStats()


@dataclass(frozen=True)
class StoryDoc:
    """One article as the grouping sees it. `key` is any hashable id (an article or translation id,
    a file name in the labelled set)."""

    key: str
    title: str = ""
    text: str = ""
    german_title: str = ""
    german_text: str = ""
    time: datetime | None = None


@dataclass
class Group:
    """A group of documents, existing (a stored story) or new; `key` is None for a new group."""

    key: int | None
    members: list[StoryDoc] = field(default_factory=list)
    # The similarity with which each document joined (by key); absent for the document that opened it.
    scores: dict[str, float] = field(default_factory=dict)

    def span(self) -> tuple[datetime, datetime] | None:
        times = [m.time for m in self.members if m.time is not None]
        return (min(times), max(times)) if times else None


def features(doc: StoryDoc) -> Counter[str]:
    """Raw (unweighted) feature counts of `doc`; titles count `TITLE_WEIGHT` times."""
    counts: Counter[str] = Counter()
    for prefix, language, stopwords, title, text in (
        ("en:", "english", STOPWORDS_EN, doc.title, doc.text),
        ("de:", "german", STOPWORDS_DE, doc.german_title, doc.german_text),
    ):
        for part, weight in ((title, TITLE_WEIGHT), (text, 1)):
            if not part:
                continue
            for found in stems(part, language, stopwords):
                counts[prefix + found] += weight
            for name in names(part):
                if name not in stopwords and name not in STOPWORDS_EN:
                    counts["n:" + name] += weight
            if NUMBER_WEIGHT:
                for figure in numbers(part):
                    counts["#:" + figure] += weight
    return counts


@lru_cache(maxsize=16384)
def _cached_features(doc: StoryDoc) -> Counter[str]:
    # Each document's stems are computed once per process (a doc is its texts, so a changed
    # translation is a new entry). Callers never mutate the result.
    return features(doc)


def _identity(doc: StoryDoc) -> Hashable:
    # The same key with other texts (a retranslation, another labelled set) is another document.
    return (doc.key, hash(doc))


def _kind_weight(term: str) -> float:
    if term.startswith("n:"):
        return NAME_WEIGHT
    if term.startswith("#:"):
        return NUMBER_WEIGHT
    return 1.0


def count(doc: StoryDoc, stats: TermStats) -> None:
    """Add `doc` to the sliding corpus `stats` (once; again is a no-op)."""
    identity = _identity(doc)
    if identity not in stats:
        stats.add(identity, _cached_features(doc).keys())


# Weighted vectors by document, reused while the sliding corpus has grown by less than a tenth since:
# the one-at-a-time path weighs the same window members call after call.
_VECTORS: dict[tuple[int, Hashable], tuple[int, Vector]] = {}
_VECTORS_LIMIT = 50_000
REWEIGH_GROWTH = 1.1


def vector(doc: StoryDoc, stats: TermStats) -> Vector:
    """The L2-normalised weighted vector of `doc` under the document frequencies of `stats`."""
    key = (stats.serial, _identity(doc))
    cached = _VECTORS.get(key)
    size = len(stats)
    if cached is not None and size <= cached[0] * REWEIGH_GROWTH and size >= cached[0]:
        return cached[1]
    if len(_VECTORS) >= _VECTORS_LIMIT:
        _VECTORS.clear()
    weighted = _weigh(doc, stats)
    _VECTORS[key] = (size, weighted)
    return weighted


def _weigh(doc: StoryDoc, stats: TermStats) -> Vector:
    weighted = {
        term: (1.0 + math.log(tf)) * stats.idf(term) * _kind_weight(term) for term, tf in _cached_features(doc).items()
    }
    norm = math.sqrt(sum(v * v for v in weighted.values())) or 1.0
    return {term: v / norm for term, v in weighted.items() if v}


def vectorize(docs: Sequence[StoryDoc], stats: TermStats | None = None) -> dict[str, Vector]:
    """Vectors of `docs` by key; without `stats`, document frequencies over `docs` alone."""
    if stats is None:
        stats = TermStats(capacity=max(1, len(docs)))
        for doc in docs:
            count(doc, stats)
    return {doc.key: vector(doc, stats) for doc in docs}


# The vectors are normalised: their cosine is the dot product.
cosine = dot


def names_of(weighted: Vector) -> Vector:
    """The names' part of a vector."""
    return {term: v for term, v in weighted.items() if term.startswith("n:")}


class _Story:
    """A story's member vectors (in join order), their sum and its time span."""

    __slots__ = ("centroid", "first", "last", "name_norm", "norm", "serial", "size", "vectors")

    def __init__(self) -> None:
        self.vectors: list[Vector] = []
        self.centroid: Vector = {}
        self.norm = 0.0
        self.name_norm = 0.0
        # The corpus (and its size) the vectors were weighed with.
        self.serial = -1
        self.size = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    @classmethod
    def of(cls, members: Sequence[StoryDoc], stats: TermStats) -> _Story:
        story = cls()
        story.serial, story.size = stats.serial, len(stats)
        for member in members:
            story.add(member, vector(member, stats))
        return story

    def add(self, doc: StoryDoc, weighted: Vector) -> None:
        self.vectors.append(weighted)
        centroid = self.centroid
        # The norms grow with the terms this vector touches (a large story's centroid is large).
        square, name_square = self.norm * self.norm, self.name_norm * self.name_norm
        for term, v in weighted.items():
            old = centroid.get(term, 0.0)
            centroid[term] = old + v
            change = (old + v) * (old + v) - old * old
            square += change
            if term.startswith("n:"):
                name_square += change
        self.norm = math.sqrt(max(square, 0.0))
        self.name_norm = math.sqrt(max(name_square, 0.0))
        if doc.time is not None:
            self.first = doc.time if self.first is None else min(self.first, doc.time)
            self.last = doc.time if self.last is None else max(self.last, doc.time)

    def current(self, members: Sequence[StoryDoc], stats: TermStats) -> bool:
        """Whether the vectors still hold: the same members, weighed by this corpus since when it grew
        by less than `REWEIGH_GROWTH` (a story is weighed again a few times as the corpus fills)."""
        return (
            len(members) == len(self.vectors)
            and stats.serial == self.serial
            and self.size <= len(stats) <= self.size * REWEIGH_GROWTH
        )

    def within(self, time: datetime | None, window: timedelta) -> bool:
        if time is None or self.first is None or self.last is None:
            return True
        return self.first - window <= time <= self.last + window

    def score(self, query: Vector, floor: float = 0.0, query_names: Vector | None = None) -> float:
        """The blended score; 0 when the centroid is below `floor` (a story that far holds no member
        close enough either, and comparing members is what costs)."""
        to_centroid = cosine(query, self.centroid) / (self.norm or 1.0)
        if to_centroid < floor:
            return 0.0
        best = max((cosine(query, member) for member in self.vectors[-MAX_MEMBERS:]), default=0.0)
        words = CENTROID_SHARE * to_centroid + (1.0 - CENTROID_SHARE) * best
        if query_names is None:
            query_names = names_of(query)
        if not NAME_SHARE or not query_names or not self.name_norm:
            return words
        # Who and where: the same kind of event elsewhere shares words, not names.
        names_norm = math.sqrt(sum(v * v for v in query_names.values()))
        agreement = sum(v * self.centroid.get(t, 0.0) for t, v in query_names.items()) / (names_norm * self.name_norm)
        return (1.0 - NAME_SHARE) * words + NAME_SHARE * agreement


# Story representations by (corpus, story key, members), so the one-at-a-time path does not rebuild
# the window's stories for every new article.
_STORIES: dict[tuple[int, int | None, tuple[Hashable, ...]], _Story] = {}
_STORIES_LIMIT = 20_000


def _story_key(stats: TermStats, group: Group) -> tuple[int, int | None, tuple[Hashable, ...]]:
    return (stats.serial, group.key, tuple(_identity(m) for m in group.members))


class StoryIndex:
    """Stories with their representations and an inverted index from telling terms to stories.

    Stories given as the time window of one call (`assign`) are all compared; stories the index
    built itself are found through the inverted index, so a new article's cost does not grow with
    the number of stories (a caller that keeps the index, like the scale benchmark, has only those)."""

    def __init__(self, stats: TermStats | None = None) -> None:
        self.stats = RECENT_TERMS if stats is None else stats
        self.groups: list[Group] = []
        self.stories: list[_Story] = []
        self.scanned: list[int] = []
        self._postings: dict[str, list[int]] = {}
        # Stories built or joined here: the ones `remember` stores.
        self._changed: set[int] = set()

    def add_group(self, group: Group) -> int:
        """Add an existing group (compared with every new article); returns its number."""
        number = len(self.groups)
        cached = _STORIES.get(_story_key(self.stats, group))
        if cached is None or not cached.current(group.members, self.stats):
            for member in group.members:  # a story seen before was counted then
                count(member, self.stats)
            cached = _Story.of(group.members, self.stats)
            self._changed.add(number)
        self.groups.append(group)
        self.stories.append(cached)
        self.scanned.append(number)
        return number

    def _open(self) -> int:
        number = len(self.groups)
        self.groups.append(Group(None))
        self.stories.append(_Story.of([], self.stats))
        return number

    def _join(self, number: int, doc: StoryDoc, weighted: Vector) -> None:
        group, story = self.groups[number], self.stories[number]
        group.members.append(doc)
        self._changed.add(number)
        if not story.current(group.members[:-1], self.stats):
            story = self.stories[number] = _Story.of(group.members[:-1], self.stats)
        story.add(doc, weighted)
        if number not in self.scanned:
            for term in weighted:
                posting = self._postings.setdefault(term, [])
                if not posting or posting[-1] != number:
                    posting.append(number)

    def candidates(self, query: Vector) -> set[int]:
        heaviest = sorted(query.items(), key=lambda item: -item[1])[:CANDIDATE_TERMS]
        # A given story is scored only when it holds one of the heaviest terms: a cheap look-up
        # each, where scoring compares with every member.
        found = {n for n in self.scanned if any(term in self.stories[n].centroid for term, _ in heaviest)}
        for term, _ in heaviest:
            posting = self._postings.get(term)
            if posting and len(posting) <= MAX_POSTING:
                found.update(posting)
        return found

    def best(self, doc: StoryDoc, query: Vector, threshold: float, window: timedelta) -> tuple[int | None, float]:
        """The story `doc` belongs to (its number and score), or None when none reaches `threshold`."""
        best: int | None = None
        best_score = threshold
        query_names = names_of(query)
        for number in sorted(self.candidates(query)):
            story = self.stories[number]
            if not story.within(doc.time, window):
                continue
            if not story.current(self.groups[number].members, self.stats):
                story = self.stories[number] = _Story.of(self.groups[number].members, self.stats)
            score = story.score(query, threshold * CENTROID_FLOOR, query_names)
            if score >= best_score:
                best, best_score = number, score
        return best, best_score

    def place(self, doc: StoryDoc, threshold: float, window: timedelta) -> Group:
        """Put `doc` into its best story or a new one; returns that group."""
        count(doc, self.stats)
        query = vector(doc, self.stats)
        number, score = self.best(doc, query, threshold, window)
        if number is None:
            number = self._open()
        else:
            self.groups[number].scores[doc.key] = round(score, 4)
        self._join(number, doc, query)
        return self.groups[number]

    def remember(self) -> None:
        """Keep the representations of every story for the next call (see `_STORIES`)."""
        if len(_STORIES) + len(self._changed) > _STORIES_LIMIT:
            _STORIES.clear()
        for number in self._changed:
            if self.groups[number].members:
                _STORIES[_story_key(self.stats, self.groups[number])] = self.stories[number]


def _order(doc: StoryDoc) -> tuple[int, datetime, str]:
    return (doc.time is None, doc.time or datetime.min, doc.key)


def assign(
    new: Iterable[StoryDoc],
    groups: Sequence[Group] = (),
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
    corpus: Sequence[StoryDoc] = (),
    stats: TermStats | None = None,
) -> list[Group]:
    """Put each of `new` (in time order) into the most similar of `groups` or a new group.

    `groups` are never split or merged (an editor's decisions stay); the result is every group,
    the given ones first, with the new documents added. `corpus` adds recent documents to the sliding
    corpus of document frequencies (`stats`, by default the module's `RECENT_TERMS`)."""
    index = StoryIndex(stats)
    for doc in corpus:
        count(doc, index.stats)
    pending = sorted(new, key=_order)
    for doc in pending:
        count(doc, index.stats)
    for group in groups:
        index.add_group(Group(group.key, list(group.members), dict(group.scores)))
    for doc in pending:
        index.place(doc, threshold, window)
    index.remember()
    return index.groups


def cluster(
    docs: Iterable[StoryDoc], *, threshold: float = DEFAULT_THRESHOLD, window: timedelta = DEFAULT_WINDOW
) -> list[list[str]]:
    """Group `docs` from scratch (document frequencies over `docs` alone); returns lists of keys."""
    listed = list(docs)
    stats = TermStats(capacity=max(1, len(listed)))
    return [[m.key for m in g.members] for g in assign(listed, threshold=threshold, window=window, stats=stats)]


@dataclass(frozen=True)
class PairScore:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int


def _pairs(groups: Iterable[Iterable[str]]) -> set[frozenset[str]]:
    pairs: set[frozenset[str]] = set()
    for group in groups:
        members = sorted(group)
        pairs.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
    return pairs


def pairwise_scores(predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]]) -> PairScore:
    """Pairwise precision, recall and F1: a pair of articles counts when both are in one group."""
    got, truth = _pairs(predicted), _pairs(gold)
    hits = len(got & truth)
    precision = hits / len(got) if got else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScore(precision, recall, f1, len(truth), len(got))


def bcubed_scores(predicted: Iterable[Iterable[str]], gold: Iterable[Iterable[str]]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1: per article, the share of its group that is of its event and
    of its event that is in its group, averaged over the articles of `gold`."""
    events = [set(event) for event in gold]
    event_of = {key: event for event in events for key in event}
    group_of: dict[str, set[str]] = {}
    for group in predicted:
        members = {key for key in group if key in event_of}
        for key in members:
            group_of[key] = members
    precision = recall = 0.0
    for key, event in event_of.items():
        group = group_of.get(key, {key})
        shared = len(group & event)
        precision += shared / len(group)
        recall += shared / len(event)
    n = len(event_of) or 1
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
