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

Each story is represented by its members' vectors, their centroid, their names and figures
(`_Story`). A new document's score for a story is a logistic combination (`combine`, weights in
`SIGNAL_WEIGHTS`, fitted by `bench/story_signals.py`) of event signals (`SIGNALS`): the cosine with the
story's centroid and with its best-matching member (a large story with many angles stays easy to join,
one near-duplicate is enough); the agreement of names (people, places, bodies) with the centroid and
the best member, and whether its lead names are the story's and the story's lead names its own (two
rehab stays, two earthquakes share words, not who and where); the figures it shares with the story
(a death toll, a magnitude, a score) and whether another year is named; the time between it and the
story's span. It joins the best story whose score reaches the
threshold and whose time span is within `window` of it; otherwise it opens a story of its own. A story
is not joined at all when the two are about someone else (`_Story.apart`: the name the article
mentions most often is not in the story, and the story's most mentioned name is not in the article):
two arrests of players of one team score as high as two reports of one arrest.
Stories are never split or merged here (an editor's decisions stay).

`assign(new, groups, *, threshold, window, corpus, stats)` is the entry point: the pipeline calls it
with the stories of the time window and the new articles (one, after each publication). It keeps one
`StoryIndex` per sliding corpus across calls (`kept_index`): representations of the stories and an
inverted index from terms to stories. A new article is compared only with the candidates the index
finds (the stories sharing the most weight of its heaviest terms, `MAX_CANDIDATES`), and a given story
the index knows with as many members is not rebuilt (its members are checked when it is a candidate,
so an editor's move counts). What remains per given story is a dictionary look-up done at C speed, so
the cost of a call hardly grows with the stories of the window; a caller that keeps a `StoryIndex`
itself (`StoryIndex.place`) has no per-story cost at all. The production path
(`presseschau.stories.service.group_pending`) gives only the stories that may be candidates: a
`StoredIndex` of the stored stories' terms (posted to their members, so an editor's move changes one
entry) finds them before any story is loaded from the database.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import cast

from presseschau.stories.vectors import (
    STOPWORDS_DE,
    STOPWORDS_EN,
    TermStats,
    Vector,
    dot,
    names,
    numbers,
    stems,
    tfidf,
)

# Tuned on the tuning part of the real labelled set, one article at a time (`bench/stories.py`).
DEFAULT_THRESHOLD = 0.2
DEFAULT_WINDOW = timedelta(hours=72)
TITLE_WEIGHT = 2
NAME_WEIGHT = 1.5
NUMBER_WEIGHT = 0.0
# Stories whose centroid is under this cosine are not compared member by member.
MIN_CENTROID = 0.05
# How many of a document's heaviest terms look up candidate stories, and how many stories one
# term may point to before it says too little to look them up by.
CANDIDATE_TERMS = 24
MAX_POSTING = 100
# How many of a term's latest members `StoredIndex` reads to find its `MAX_POSTING` stories.
MAX_SCAN = 8 * MAX_POSTING
# The share of the sliding corpus above which a term finds no candidates (with `MAX_POSTING` texts at least).
COMMON_SHARE = 0.05
# How many candidate stories are scored (those sharing the most of the heaviest terms' weight).
MAX_CANDIDATES = 40
# The members of a story compared one by one (the latest; the centroid stands for the rest).
MAX_MEMBERS = 64
# How many of the heaviest names say who or where a text (or a story) is about.
LEAD_NAMES = 3

YEAR = re.compile(r"(?:19|20)\d\d")

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
    return tfidf(_cached_features(doc), lambda term: stats.idf(term) * _kind_weight(term))


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


def _norm(weighted: Vector) -> float:
    return math.sqrt(sum(v * v for v in weighted.values()))


@lru_cache(maxsize=16384)
def figures(doc: StoryDoc) -> frozenset[str]:
    """The figures `doc` mentions (numbers, years): two events of one kind differ in how many, when."""
    return frozenset(
        figure for part in (doc.title, doc.text, doc.german_title, doc.german_text) if part for figure in numbers(part)
    )


@dataclass(frozen=True)
class Query:
    """A new article as it is compared: its weighted vector, the names' part of it, its figures."""

    doc: StoryDoc
    vector: Vector
    names: Vector
    names_norm: float
    figures: frozenset[str]
    lead: tuple[tuple[str, float], ...]
    # The names it mentions and those it mentions most often (unweighted counts, see `_Story.apart`).
    named: frozenset[str] = frozenset()
    most_named: frozenset[str] = frozenset()

    @classmethod
    def of(cls, doc: StoryDoc, weighted: Vector) -> Query:
        found = names_of(weighted)
        counts = _name_counts(doc)
        return cls(
            doc, weighted, found, _norm(found), figures(doc), _lead(found), frozenset(counts), _most_named(counts)
        )


def _most_named(counts: Mapping[str, float]) -> frozenset[str]:
    """The names mentioned most often (all of them when several tie): whom or what a text is about."""
    top = max(counts.values(), default=0)
    return frozenset(name for name, times in counts.items() if times == top) if top else frozenset()


def _name_counts(doc: StoryDoc) -> dict[str, int]:
    """How often `doc` mentions each name (titles `TITLE_WEIGHT` times), unweighted."""
    return {term: times for term, times in _cached_features(doc).items() if term.startswith("n:")}


def _lead(names: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """The `LEAD_NAMES` heaviest names: who or where a text is about."""
    return tuple(sorted(names.items(), key=lambda item: (-item[1], item[0]))[:LEAD_NAMES])


def _carried(lead: Sequence[tuple[str, float]], other: Mapping[str, float], scale: float) -> float:
    """How much of `lead`'s weight `other` (scaled) carries too, 0 … 1."""
    total = sum(weight for _, weight in lead)
    return sum(min(weight, other.get(term, 0.0) * scale) for term, weight in lead) / total if total else 0.0


# The event signals a story's score combines (`_Story.signals`), in this order.
SIGNALS = (
    "centroid",
    "best_member",
    "names",
    "names_best_member",
    "lead_names",
    "story_lead_names",
    "figures_shared",
    "figures_apart",
    "years_apart",
    "time_apart",
)
# A logistic regression over the signals, fitted by `bench/story_signals.py` on the tuning parts of the
# real set and of ECB+ (production path; see that script's docstring for how), the intercept then
# moved so that the score that best separated events on those parts lies at `DEFAULT_THRESHOLD`.
SIGNAL_WEIGHTS: dict[str, float] = {
    "centroid": 3.161,
    "best_member": 2.977,
    "names": 1.578,
    "names_best_member": 1.220,
    "lead_names": 1.129,
    "story_lead_names": 3.591,
    "figures_shared": 2.044,
    "figures_apart": 0.160,
    "years_apart": -0.067,
    "time_apart": -4.366,
}
SIGNAL_INTERCEPT = -5.303


def combine(signals: Sequence[float], weights: Sequence[float] | None = None, intercept: float | None = None) -> float:
    """The probability-like score of a story for a new article from its signals (logistic)."""
    weights = [SIGNAL_WEIGHTS[name] for name in SIGNALS] if weights is None else weights
    z = SIGNAL_INTERCEPT if intercept is None else intercept
    z += sum(w * f for w, f in zip(weights, signals, strict=True))
    return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


class _Story:
    """A story's member vectors (in join order), their sum, the names' norms, figures and time span."""

    __slots__ = (
        "centroid",
        "figures",
        "first",
        "identities",
        "last",
        "lead",
        "member_names_norms",
        "most_named",
        "name_counts",
        "name_norm",
        "norm",
        "serial",
        "size",
        "vectors",
    )

    def __init__(self) -> None:
        self.vectors: list[Vector] = []
        self.member_names_norms: list[float] = []
        self.identities: list[Hashable] = []
        self.centroid: Vector = {}
        self.norm = 0.0
        self.name_norm = 0.0
        self.figures: Counter[str] = Counter()
        self.name_counts: Counter[str] = Counter()  # how often its members mention each name, unweighted
        self.most_named: frozenset[str] | None = None  # the most often of them, once asked
        self.lead: tuple[tuple[str, float], ...] | None = None  # the centroid's lead names, once asked
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
        self.lead = None
        self.identities.append(_identity(doc))
        self.member_names_norms.append(_norm(names_of(weighted)))
        self.figures.update(figures(doc))
        self.name_counts.update(_name_counts(doc))
        self.most_named = None
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
            and all(_identity(m) == known for m, known in zip(members, self.identities, strict=True))
        )

    def within(self, time: datetime | None, window: timedelta) -> bool:
        if time is None or self.first is None or self.last is None:
            return True
        return self.first - window <= time <= self.last + window

    def apart(self, query: Query) -> bool:
        """Whether `query` is about someone or something else: the name it mentions most often is not in
        the story and the story's most mentioned name is not in it (two San Diego Chargers arrested for
        drunk driving, Jackson and Williams; two Waitrose fires, in Banstead and in Wellington). A
        veto, not a signal: the cosines of such pairs are as high as those of one event's reports."""
        if not query.most_named or not self.name_counts:
            return False
        if not query.most_named.isdisjoint(self.name_counts):
            return False
        if self.most_named is None:
            self.most_named = _most_named(self.name_counts)
        return query.named.isdisjoint(self.most_named)

    def signals(self, query: Query, window: timedelta) -> tuple[float, ...]:
        """The event signals of `query` against this story, in the order of `SIGNALS`."""
        to_centroid = cosine(query.vector, self.centroid) / (self.norm or 1.0)
        best = best_names = 0.0
        first = max(0, len(self.vectors) - MAX_MEMBERS)
        for member, names_norm in zip(self.vectors[first:], self.member_names_norms[first:], strict=True):
            best = max(best, cosine(query.vector, member))
            if query.names_norm and names_norm:
                best_names = max(best_names, cosine(query.names, member) / (query.names_norm * names_norm))
        names = 0.0
        if query.names_norm and self.name_norm:
            # Who and where: the same kind of event elsewhere shares words, not names.
            names = cosine(query.names, self.centroid) / (query.names_norm * self.name_norm)
        shared = sum(1 for figure in query.figures if figure in self.figures)
        figures_shared = shared / len(query.figures) if query.figures else 0.0
        figures_apart = 1.0 - figures_shared if query.figures and self.figures else 0.0
        # The protagonists: the query's lead names in the story (its members' mean weight), the story's in
        # the query. Two rehab stays, two Oscar hosts, two quakes share words and places, not who.
        members = len(self.vectors) or 1
        lead_names = _carried(query.lead, self.centroid, 1.0 / members)
        if self.lead is None:
            self.lead = _lead({term: v / members for term, v in self.centroid.items() if term.startswith("n:")})
        story_lead_names = _carried(self.lead, query.names, 1.0)
        # When: another year named (the earthquake of 2008, not of 2013) tells another event of a kind.
        years = [figure for figure in query.figures if YEAR.fullmatch(figure)]
        years_apart = 0.0
        if years and any(YEAR.fullmatch(figure) for figure in self.figures):
            years_apart = sum(1 for year in years if year not in self.figures) / len(years)
        time_apart = 0.0
        if query.doc.time is not None and self.first is not None and self.last is not None and window:
            outside = max(self.first - query.doc.time, query.doc.time - self.last, timedelta(0))
            time_apart = min(outside / window, 1.0)
        return (
            to_centroid,
            best,
            names,
            best_names,
            lead_names,
            story_lead_names,
            figures_shared,
            figures_apart,
            years_apart,
            time_apart,
        )

    def score(self, query: Vector | Query, floor: float = 0.0, window: timedelta = DEFAULT_WINDOW) -> float:
        """The combined score (`combine` of the signals); 0 when the centroid is below `floor` (a story
        that far holds no member close enough either, and comparing members is what costs)."""
        if not isinstance(query, Query):
            query = Query.of(StoryDoc(""), query)
        if floor and cosine(query.vector, self.centroid) / (self.norm or 1.0) < floor:
            return 0.0
        return combine(self.signals(query, window))


class StoryIndex:
    """Stories with their representations and an inverted index from telling terms to stories.

    A new article is compared only with the stories that hold one of its heaviest terms (and are
    allowed: in `assign`, the stories given and those opened in the call), so its cost does not grow
    with the number of stories. `assign` keeps one index per sliding corpus across calls
    (`kept_index`): a story given again with the same members is not rebuilt or looked at, except as a
    candidate, so a call costs a dictionary look-up per given story plus the candidates' scoring."""

    def __init__(self, stats: TermStats | None = None) -> None:
        self.stats = RECENT_TERMS if stats is None else stats
        self.groups: list[Group] = []
        self.stories: list[_Story] = []
        self._postings: dict[str, list[int]] = {}
        # Numbers and member counts of the stories by their key (a stored story's ID; the latest build).
        self.numbers_by_key: dict[int, int] = {}
        self.sizes_by_key: dict[int, int] = {}
        self.numbers_by_members: dict[tuple[Hashable, ...], int] = {}
        # The members the caller gave for a story in this call: checked when it is a candidate.
        self._given: dict[int, Sequence[StoryDoc]] = {}

    def __len__(self) -> int:
        return len(self.stories)

    def add_group(self, group: Group) -> int:
        """The number of `group` in this index: its kept representation when the index has one with as
        many members, else a new one (counting its members into the corpus, once)."""
        if group.key is not None:
            number = self.numbers_by_key.get(group.key)
            if number is not None and len(self.groups[number].members) == len(group.members):
                return number  # its members are checked when it is a candidate (`expect`)
        else:
            # A group without a key (not stored: a caller's own list of groups) is known by its members.
            number = self.numbers_by_members.get(tuple(_identity(m) for m in group.members))
            if number is not None:
                return number
        for member in group.members:
            count(member, self.stats)
        number = self._new(Group(group.key, list(group.members), dict(group.scores)))
        for member in group.members:
            self._index(number, vector(member, self.stats))
        self.stories[number] = _Story.of(group.members, self.stats)
        if group.key is None:
            self.remember_members(number)
        return number

    def remember_members(self, number: int) -> None:
        """Know the keyless story `number` by its present members in the next call."""
        self.numbers_by_members[tuple(self.stories[number].identities)] = number

    def expect(self, members: dict[int, Sequence[StoryDoc]]) -> None:
        """The members callers gave for these stories in this call: a candidate whose members differ
        from the kept ones (an editor moved an article) is rebuilt from them."""
        self._given = members

    def _new(self, group: Group) -> int:
        number = len(self.groups)
        self.groups.append(group)
        self.stories.append(_Story.of([], self.stats))
        if group.key is not None:
            self.numbers_by_key[group.key] = number
            self.sizes_by_key[group.key] = len(group.members)
        return number

    def _index(self, number: int, weighted: Vector) -> None:
        for term in weighted:
            posting = self._postings.setdefault(term, [])
            if not posting or posting[-1] != number:
                posting.append(number)

    def _join(self, number: int, doc: StoryDoc, weighted: Vector) -> None:
        group = self.groups[number]
        self._refresh(number)
        group.members.append(doc)
        if group.key is not None:
            self.sizes_by_key[group.key] = len(group.members)
        self.stories[number].add(doc, weighted)
        self._index(number, weighted)

    def _refresh(self, number: int) -> _Story:
        story = self.stories[number]
        given = self._given.pop(number, None)
        if given is not None and [_identity(m) for m in given] != story.identities:
            # Another set of members than this index knows (an editor's move): theirs count.
            self.groups[number].members[:] = given
            key = self.groups[number].key
            if key is not None:
                self.sizes_by_key[key] = len(given)
            for member in given:
                count(member, self.stats)
                self._index(number, vector(member, self.stats))
        members = self.groups[number].members
        if not story.current(members, self.stats):
            story = self.stories[number] = _Story.of(members, self.stats)
        return story

    def candidates(self, query: Vector, allowed: set[int] | None = None) -> set[int]:
        """Stories sharing the query's heaviest terms (each term's latest `MAX_POSTING` stories), of
        `allowed` when given: the `MAX_CANDIDATES` that share the most weight."""
        heaviest = sorted(query.items(), key=lambda item: -item[1])[:CANDIDATE_TERMS]
        shared: dict[int, float] = {}
        # A term in more texts than this says too little to look stories up by (every story of a day of
        # random or boilerplate texts would be a candidate, and scoring is what costs).
        common = max(MAX_POSTING, COMMON_SHARE * len(self.stats))
        document_frequency = self.stats.df
        for term, weight in heaviest:
            posting = self._postings.get(term)
            if posting and document_frequency.get(term, 0) <= common:
                for number in posting[-MAX_POSTING:]:
                    shared[number] = shared.get(number, 0.0) + weight
        if allowed is not None:
            shared = {number: weight for number, weight in shared.items() if number in allowed}
        if len(shared) > MAX_CANDIDATES:
            return set(sorted(shared, key=shared.__getitem__, reverse=True)[:MAX_CANDIDATES])
        return set(shared)

    def best(
        self, doc: StoryDoc, query: Vector, threshold: float, window: timedelta, allowed: set[int] | None = None
    ) -> tuple[int | None, float]:
        """The story `doc` belongs to (its number and score), or None when none reaches `threshold`."""
        best: int | None = None
        best_score = threshold
        asked = Query.of(doc, query)
        for number in sorted(self.candidates(query, allowed)):
            if not self.stories[number].within(doc.time, window):
                continue
            story = self._refresh(number)
            if cosine(query, story.centroid) / (story.norm or 1.0) < MIN_CENTROID:
                continue  # comparing member by member is what costs; a story this far has no close member
            if story.apart(asked):
                continue
            score = combine(story.signals(asked, window))
            if score >= best_score:
                best, best_score = number, score
        return best, best_score

    def place(
        self, doc: StoryDoc, threshold: float, window: timedelta, allowed: set[int] | None = None
    ) -> tuple[int, bool]:
        """Put `doc` into its best story (of `allowed`, when given) or a new one; returns the story's
        number and whether it is new."""
        count(doc, self.stats)
        query = vector(doc, self.stats)
        number, score = self.best(doc, query, threshold, window, allowed)
        opened = number is None
        if number is None:
            number = self._new(Group(None))
            if allowed is not None:
                allowed.add(number)
        else:
            self.groups[number].scores[doc.key] = round(score, 4)
        self._join(number, doc, query)
        return number, opened


# One index per sliding corpus (by its serial), kept across `assign` calls; dropped when it holds more
# than `_KEPT_LIMIT` stories (stories of past windows and superseded builds pile up in it).
_KEPT: dict[int, StoryIndex] = {}
_KEPT_LIMIT = 60_000


def kept_index(stats: TermStats) -> StoryIndex:
    """The index `assign` keeps for the sliding corpus `stats`."""
    index = _KEPT.get(stats.serial)
    if index is None or len(index) > _KEPT_LIMIT:
        if len(_KEPT) > 8:
            _KEPT.clear()
        index = _KEPT[stats.serial] = StoryIndex(stats)
    return index


class StoredIndex:
    """Terms to stored stories through their members: which stories of a store (the database) a new
    article is to be compared with, so that a caller loads and gives `assign` those few, not every
    story of the window.

    It knows members by key, each with its story and the story's day, and posts every term of a
    member's vector to the member (not to the story: an editor's move changes only the member's
    story). A caller keeps it up to date with `place` (the stores' changes since it last looked,
    its own placements) and asks `candidates`: per article, the stories of the day range that share
    the most weight of its heaviest terms, as `StoryIndex.candidates` picks them, at a cost bounded
    by the terms and postings it reads, not by the stories it knows."""

    def __init__(self) -> None:
        self._postings: dict[str, list[str]] = {}
        self.story_of: dict[str, int] = {}
        self.day_of: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.story_of)

    def place(self, doc: StoryDoc, story: int, day: str, stats: TermStats) -> None:
        """`doc` is (now) a member of `story`, whose day is `day` (YYYY-MM-DD); counted into `stats`."""
        self.day_of[story] = day
        known = doc.key in self.story_of
        self.story_of[doc.key] = story
        if not known:
            count(doc, stats)
            for term in vector(doc, stats):
                self._postings.setdefault(term, []).append(doc.key)

    def move(self, key: str, story: int, day: str) -> bool:
        """Member `key` is now in `story` (of `day`); False when this index does not know it."""
        if key not in self.story_of:
            return False
        self.story_of[key] = story
        self.day_of[story] = day
        return True

    def candidates(self, docs: Iterable[StoryDoc], stats: TermStats, low: str, high: str) -> set[int]:
        """The stories of days `low` … `high` to compare `docs` with: for each, the `MAX_CANDIDATES`
        sharing the most weight of its heaviest terms (each term's latest `MAX_POSTING` stories).
        Counts `docs` into `stats` first, in the order `assign` does, so their weights are those
        `assign` gives them."""
        pending = sorted(docs, key=_order)
        for doc in pending:
            count(doc, stats)
        common = max(MAX_POSTING, COMMON_SHARE * len(stats))
        document_frequency = stats.df
        story_of, day_of = self.story_of, self.day_of
        found: set[int] = set()
        for doc in pending:
            query = vector(doc, stats)
            shared: dict[int, float] = {}
            for term, weight in sorted(query.items(), key=lambda item: -item[1])[:CANDIDATE_TERMS]:
                posting = self._postings.get(term)
                if not posting or document_frequency.get(term, 0) > common:
                    continue
                seen: set[int] = set()
                # The latest members first; a bounded number of them (a term of many members of
                # other days must not make the look-up cost grow with the stories known).
                for key in reversed(posting[-MAX_SCAN:]):
                    story = story_of[key]
                    if story in seen or not low <= day_of[story] <= high:
                        continue
                    seen.add(story)
                    shared[story] = shared.get(story, 0.0) + weight
                    if len(seen) >= MAX_POSTING:
                        break
            found.update(sorted(shared, key=shared.__getitem__, reverse=True)[:MAX_CANDIDATES])
        return found


_KEY = attrgetter("key")
_MEMBERS = attrgetter("members")


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

    `groups` are never split or merged (an editor's decisions stay) nor changed: the result is every
    group, the given ones first (the same objects where nothing joined, new `Group`s with the added
    documents where something did), then the new groups. `corpus` adds recent documents to the sliding
    corpus of document frequencies (`stats`, by default the module's `RECENT_TERMS`)."""
    stats = RECENT_TERMS if stats is None else stats
    index = kept_index(stats)
    for doc in corpus:
        count(doc, stats)
    pending = sorted(new, key=_order)
    for doc in pending:
        count(doc, stats)
    # Per given story a look-up and a length, done at C speed (`map`, list comparison): the window may
    # hold thousands, and only a story with other members than the kept one needs more.
    keys = list(map(_KEY, groups))
    found = list(map(index.numbers_by_key.get, keys))
    if list(map(index.sizes_by_key.get, keys)) != list(map(len, map(_MEMBERS, groups))):
        for position, group in enumerate(groups):
            number = found[position]
            if number is None or len(index.groups[number].members) != len(group.members):
                found[position] = index.add_group(group)
    # Every story is known now (a key without a size is a key without a number, so it was added).
    numbers = cast(list[int], found)
    index.expect(dict(zip(numbers, map(_MEMBERS, groups), strict=True)))
    allowed = set(numbers)
    joined: dict[int, list[StoryDoc]] = {}
    opened: list[int] = []  # stories opened in this call, returned whole at the end
    fresh: set[int] = set()
    for doc in pending:
        number, is_new = index.place(doc, threshold, window, allowed)
        if is_new:
            opened.append(number)
            fresh.add(number)
        elif number not in fresh:
            joined.setdefault(number, []).append(doc)
    result = list(groups)
    positions = dict(zip(numbers, range(len(numbers)), strict=True)) if joined else {}
    for number, added in joined.items():
        position = positions[number]
        group = groups[position]
        scores = {**group.scores, **{d.key: index.groups[number].scores[d.key] for d in added}}
        result[position] = Group(group.key, [*group.members, *added], scores)
    for number in opened:
        new_group = index.groups[number]
        result.append(Group(None, list(new_group.members), dict(new_group.scores)))
    for number in [*opened, *joined]:
        if index.groups[number].key is None:
            index.remember_members(number)
    return result


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
