"""Text vectors, written once: words, Snowball stems, names, numbers, sublinear weights, cosine, and
document frequencies kept incrementally over a sliding corpus of recent texts.

Story grouping (`presseschau.stories.grouping`) builds its article vectors from these parts, the key
passages (`presseschau.stories.passages`) their sentence vectors (`tfidf`, `TermStats` over a story's
sentences) and the related-articles ranking of the reader site (`presseschau.publish.queries`) its
German text vectors.
Pure functions and one small class, no database; below `publish` in the layer order, so both use it.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from functools import cache
from itertools import count

import snowballstemmer

_SERIALS = count()
Vector = dict[str, float]

WORD = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?", re.UNICODE)
# A figure as news writes it: 4,200 · 6.1 · 130 · 1985 (not a lone digit, which is noise).
NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[,.]\d{3})+(?![\w,.]\d)|(?<![\w.,])\d+(?:[.,]\d+)?(?![\w]|[.,]\d)")
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
# Words that open sentences or name the calendar: capitalised, yet no name of a person, place or body.
_NOT_NAMES = _words(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december the a an but and in on at for it he she they we i this that
    there these those his her their our mr mrs ms dr"""
)


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@cache
def stem(word: str, language: str) -> str:
    """The Snowball stem of a lower-case word (memoised: news vocabulary repeats, the stemmer is slow)."""
    return str(_stemmer(language).stemWord(word))


def words(text: str) -> list[str]:
    """Lower-case words of `text` (letters first; digits inside a word are kept)."""
    return [w.lower() for w in WORD.findall(text)]


def stems(text: str, language: str, stopwords: frozenset[str]) -> list[str]:
    """Stems of the telling words of `text`: no stopwords, nothing under three letters."""
    return [stem(w, language) for w in words(text) if len(w) > 2 and w not in stopwords]


def names(text: str) -> list[str]:
    """Capitalised words that do not open a sentence: names of people, places and organisations."""
    found = []
    for match in WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or len(word) < 2:
            continue
        before = text[max(0, match.start() - 3) : match.start()]
        if match.start() == 0 or _SENTENCE_END.search(before) or before.endswith("\n"):
            continue
        name = word.lower().rstrip("s'’")
        if name and name not in _NOT_NAMES:
            found.append(name)
    return found


def numbers(text: str) -> list[str]:
    """The figures in `text` in one spelling (4,200 and 4.200 → 4200; 6.1 stays 6.1); no lone digits."""
    found = []
    for match in NUMBER.finditer(text):
        figure = match.group()
        if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", figure):
            figure = re.sub(r"[,.]", "", figure)
        else:
            figure = figure.replace(",", ".")
        if len(figure) > 1:
            found.append(figure)
    return found


def sublinear(counts: Mapping[str, float]) -> Vector:
    """1 + log(count) for each term: the tenth mention adds less than the second."""
    return {term: 1.0 + math.log(count) for term, count in counts.items() if count > 0}


def tfidf(counts: Mapping[str, float], idf: Callable[[str], float]) -> Vector:
    """TF-IDF, the project's one weighting: sublinear term frequency times `idf(term)`, L2-normalised
    (terms weighing nothing left out). Story grouping weighs articles with it, key passages sentences."""
    weighted = {term: (1.0 + math.log(c)) * idf(term) for term, c in counts.items() if c > 0}
    return normalized({term: v for term, v in weighted.items() if v})


def normalized(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {term: v / norm for term, v in vector.items()} if norm else {}


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """The dot product: the cosine of two normalised vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(term, 0.0) for term, v in a.items())


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two vectors (0 when either is empty); a dot product when both are normalised."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(term, 0.0) for term, v in a.items())
    if not dot:
        return 0.0
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


class TermStats:
    """Document frequencies over a sliding corpus of the last `capacity` texts, kept incrementally.

    Adding a text counts each of its terms once; when the corpus is full, the oldest text's terms are
    counted out. A text is known by a key (adding one twice counts it once), so callers may offer the
    same recent articles again and again. `idf` is the smoothed inverse document frequency."""

    def __init__(self, capacity: int = 20_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity {capacity} must be at least 1")
        self.capacity = capacity
        # Tells this corpus from every other one of the process (caches key on it; ids are reused).
        self.serial = next(_SERIALS)
        self.df: Counter[str] = Counter()
        self._order: deque[Hashable] = deque()
        self._terms: dict[Hashable, frozenset[str]] = {}

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._terms

    def add(self, key: Hashable, terms: Iterable[str]) -> bool:
        """Count the terms of one text; False (nothing counted) when `key` is counted already."""
        if key in self._terms:
            return False
        unique = frozenset(terms)
        self._terms[key] = unique
        self._order.append(key)
        self.df.update(unique)
        while len(self._order) > self.capacity:
            self._forget(self._order.popleft())
        return True

    def _forget(self, key: Hashable) -> None:
        for term in self._terms.pop(key):
            left = self.df[term] - 1
            if left > 0:
                self.df[term] = left
            else:
                del self.df[term]

    def idf(self, term: str, unseen: float | None = None) -> float:
        """The smoothed inverse document frequency of `term`; `unseen` instead for a term no text has."""
        found = self.df.get(term, 0)
        if not found and unseen is not None:
            return unseen
        return math.log((1 + len(self._terms)) / (1 + found)) + 1.0
