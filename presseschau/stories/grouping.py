"""Which articles report the same event: TF-IDF over stems and names, cosine, greedy clustering.

Pure functions over `StoryDoc`s, with no database: the service (`presseschau.stories.service`)
feeds it stored articles, the benchmark (`bench/stories.py`) a labelled set.

Each document becomes a sparse vector of weighted features: Snowball stems of its English title
and text (`en:`), of its German title and text when it has one (`de:`), and the names in both
(capitalised words not at the start of a sentence, `n:`), titles counting twice. Weights are
sublinear term frequency times inverse document frequency over the documents grouped together,
and vectors are L2-normalised, so the cosine is a dot product.

Clustering is incremental, in time order: each document joins the existing group it is most
similar to (average cosine to the group's members) when that similarity reaches the threshold and
the group's time span is within `window` of it; otherwise it starts a group of its own. The same
function assigns new articles to stored stories in the pipeline, so the benchmark measures what
runs in production.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, lru_cache

import snowballstemmer

# Tuned on the tuning two thirds of the labelled set (`bench/stories.py --tune`); see the README.
DEFAULT_THRESHOLD = 0.2
DEFAULT_WINDOW = timedelta(hours=72)
TITLE_WEIGHT = 2
NAME_WEIGHT = 1.5

_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?:;„“\"«»]\s*$")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS_EN = _words(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my no nor not now of off on once only or other our ours out over own said says same she should
    so some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your yours
    one two new year years last first told according mr mrs ms per cent percent week day since after
    however would could may might many much"""
)
STOPWORDS_DE = _words(
    """aber alle allem allen aller alles als also am an ander andere anderen auch auf aus bei beim bin
    bis bist da damit dann das dass dein deine dem den denn der des dessen die dies diese diesem diesen
    dieser dieses doch dort du durch ein eine einem einen einer eines er es etwa euer für gegen gewesen
    hab habe haben hat hatte hatten hier hin hinter ich ihr ihre ihrem ihren ihrer im in ist jede jedem
    jeden jeder jedes jetzt kann kein keine keinem keinen keiner können könnte man manche mehr mein mich
    mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sei sein seine seinem seinen seiner
    seit sich sie sind so solche soll sollte sondern sonst über um und uns unser unter vom von vor war
    waren warum was weil welche welchem welchen welcher wenn wer werde werden wie wieder will wir wird
    wo wollen wurde wurden zu zum zur zwar zwischen sagte sagt laut prozent jahr jahre jahren woche"""
)


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


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


def _names(text: str) -> list[str]:
    """Capitalised words that do not open a sentence: names of people, places and organisations."""
    names = []
    for match in _WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or len(word) < 2:
            continue
        before = text[max(0, match.start() - 3) : match.start()]
        if match.start() == 0 or _SENTENCE_END.search(before) or before.endswith("\n"):
            continue
        names.append(word.lower().rstrip("s'’"))
    return names


def _stems(text: str, language: str, stopwords: frozenset[str]) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    words = [w for w in words if len(w) > 2 and w not in stopwords]
    return list(_stemmer(language).stemWords(words))


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
            for stem in _stems(part, language, stopwords):
                counts[prefix + stem] += weight
            for name in _names(part):
                if name not in stopwords and name not in STOPWORDS_EN:
                    counts["n:" + name] += weight
    return counts


Vector = dict[str, float]


@lru_cache(maxsize=8192)
def _cached_features(doc: StoryDoc) -> Counter[str]:
    # The pipeline compares each new article with the recent ones: their stems are computed once per
    # process (a doc is its texts, so a changed translation is a new entry). Callers never mutate it.
    return features(doc)


def vectorize(docs: Sequence[StoryDoc]) -> dict[str, Vector]:
    """L2-normalised TF-IDF vectors of `docs`, by key, with document frequencies over `docs`."""
    raw = {doc.key: _cached_features(doc) for doc in docs}
    df: Counter[str] = Counter()
    for counts in raw.values():
        df.update(counts.keys())
    n = len(raw)
    vectors: dict[str, Vector] = {}
    for key, counts in raw.items():
        vector: Vector = {}
        for term, tf in counts.items():
            weight = (1.0 + math.log(tf)) * (math.log((1 + n) / (1 + df[term])) + 1.0)
            vector[term] = weight * (NAME_WEIGHT if term.startswith("n:") else 1.0)
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors[key] = {term: v / norm for term, v in vector.items()}
    return vectors


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(term, 0.0) for term, v in a.items())


def _within_window(group: Group, doc: StoryDoc, window: timedelta) -> bool:
    span = group.span()
    if span is None or doc.time is None:
        return True
    return span[0] - window <= doc.time <= span[1] + window


def _order(doc: StoryDoc) -> tuple[int, datetime, str]:
    return (doc.time is None, doc.time or datetime.min, doc.key)


def assign(
    new: Iterable[StoryDoc],
    groups: Sequence[Group] = (),
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
    corpus: Sequence[StoryDoc] = (),
) -> list[Group]:
    """Put each of `new` (in time order) into the most similar of `groups` or a new group.

    `groups` are never split or merged (an editor's decisions stay); the result is every group,
    the given ones first, with the new documents added. `corpus` adds documents only for the
    document frequencies (a larger sample of recent articles makes the weights steadier)."""
    pending = sorted(new, key=_order)
    result = [Group(g.key, list(g.members)) for g in groups]
    everything = {d.key: d for d in [*corpus, *(m for g in result for m in g.members), *pending]}
    vectors = vectorize(list(everything.values()))
    for doc in pending:
        best: Group | None = None
        best_score = threshold
        vector = vectors[doc.key]
        for group in result:
            if not group.members or not _within_window(group, doc, window):
                continue
            score = sum(cosine(vector, vectors[m.key]) for m in group.members) / len(group.members)
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            best = Group(None)
            result.append(best)
        else:
            best.scores[doc.key] = round(best_score, 4)
        best.members.append(doc)
    return result


def cluster(
    docs: Iterable[StoryDoc], *, threshold: float = DEFAULT_THRESHOLD, window: timedelta = DEFAULT_WINDOW
) -> list[list[str]]:
    """Group `docs` from scratch; returns lists of keys."""
    return [[m.key for m in g.members] for g in assign(docs, threshold=threshold, window=window)]


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
