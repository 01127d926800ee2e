"""Key passages: what each outlet says about a story, one or two complete German sentences of its article.

Pure functions over the German translation's paragraphs (so a passage is a sentence of the published
text), with the English original's sentence beside it where the two align. The choice is maximal
marginal relevance over the story's sentences: a sentence scores by its TF-IDF cosine with the story's
centroid (every outlet's article weighing the same) minus its similarity to the passages already chosen
for the other outlets, and a sentence close to one of those (`NEAR_DUPLICATE`) is never chosen. The
article's opening sentence (the teaser the review used to show) is skipped while the body has another
candidate.

`choose_passages` picks for a whole story (editors' fixed passages first, so the machine's choices
avoid them); `key_passages_for_article` is the one-article entry point for other callers (e.g. a quote
mode of reuse) that have the story's other articles at hand.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from presseschau.content import Paragraph
from presseschau.stories.vectors import TermStats, Vector, normalized, stem, tfidf
from presseschau.stories.vectors import dot as _cosine
from presseschau.translate.segment import split_sentences

# A sentence the review can quote: long enough to say something, short enough to quote whole.
MIN_CHARS = 50
MAX_CHARS = 420
MIN_WORDS = 7
# A sentence shorter than this takes the next one of its paragraph with it (one or two sentences).
SHORT_CHARS = 110
# Weight of relevance against redundancy (maximal marginal relevance).
RELEVANCE_WEIGHT = 0.7
# Cosine (TF-IDF over stems) from which two passages count as near-duplicates.
NEAR_DUPLICATE = 0.5
# Sentences read per article (the body's first part carries the event).
MAX_SENTENCES = 60
# Articles of a story that get a key passage (best first): a review quotes a few dozen outlets at
# most, and the cost grows with the square of the count. The rest show their teaser.
MAX_PASSAGES = 30
# Candidates per article weighed against the passages chosen so far (the most central ones).
MAX_CANDIDATES = 10

_WORD = re.compile(r"[^\W\d_]{3,}")
# Starts like a sentence (capital, digit, opening quote) and ends like one (. ! ? …, then closing marks).
_STARTS = re.compile(r"^[\"„“‚‘»«(]?[^\W_a-zäöüß]", re.UNICODE)
_ENDS = re.compile(r"[.!?…][\"“”’‘«»)]*$")
_BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_GERMAN_BREAK = re.compile(r"([.!?…])[\"“”’‘«»)]*(?=\s+[\"„“‚‘»«(]?[^\W_a-zäöüß])")
_ABBREVIATION_TEXT = """abs bzw ca dr etc evtl ggf gen hl inkl jh jr mio mrd nr prof sog st str tel usw vgl zb zt
    bspw dt mr mrs ms sen rep gov jan feb febr mär apr aug sep sept okt nov dez"""
_GERMAN_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())
_STOPWORD_TEXT = """aber alle allem allen aller alles als also auch auf aus bei beim bis bereits damit dann das dass
    dem den denen der des dessen die dies diese diesem diesen dieser dieses doch dort durch ein eine einem einen
    einer eines einige für gegen gibt hat hatte hatten haben hier ihm ihn ihr ihre ihrem ihren ihrer ist jedoch
    jetzt kann kein keine können könnte man mehr mit muss nach nicht noch nun nur oder ohne sehr sei seien sein
    seine seinem seinen seiner sich sie sind so soll sollen sollte sowie über um und uns unter vom von vor war
    waren was wegen weil wenn werden wie wieder will wir wird wurde wurden zu zum zur zwei sagte sagt laut
    the and that with for from this have has was were are said"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of an article's German text: `index` counts every sentence of the text (the
    number editors pick by), `paragraph` is its paragraph's number."""

    index: int
    paragraph: int
    text: str
    # The English original's sentence, where paragraph and sentence counts align (else None).
    original: str | None = None

    @property
    def quotable(self) -> bool:
        return is_complete_sentence(self.text)


@dataclass(frozen=True, slots=True)
class ArticleSentences:
    """An article of a story as the chooser sees it: its key (a translation ID) and its sentences."""

    key: int
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True, slots=True)
class Passage:
    """A key passage: the German text to quote („…“), the sentences it is made of, the English
    original where known. `kind`: machine | sentence (an editor's pick) | editorial (an editor's words)."""

    text: str
    kind: str = "machine"
    sentences: tuple[int, ...] = ()
    original: str | None = None

    @property
    def editorial(self) -> bool:
        return self.kind == "editorial"


# Sentences ---------------------------------------------------------------------------------------


def is_complete_sentence(text: str) -> bool:
    """A sentence that reads on its own: starts with a capital (or digit, or an opening quote), ends
    with a sentence mark, has balanced German quotes and is of quotable length."""
    if not (MIN_CHARS <= len(text) <= MAX_CHARS) or len(text.split()) < MIN_WORDS:
        return False
    if not (_STARTS.match(text) and _ENDS.search(text)):
        return False
    return text.count("„") == text.count("“") and text.count("(") == text.count(")")


def german_sentences(text: str) -> list[str]:
    """German sentences by rule (pysbd's German rules cost ~100 ms an article): a break after . ! ? …
    (and closing quotes) before a capital, digit or opening quote, except after an ordinal number
    („am 5. November“), a single letter („z. B.“) or a known abbreviation."""
    found: list[str] = []
    start = 0
    for match in _GERMAN_BREAK.finditer(text):
        before = text[start : match.start() + 1].split()
        last = before[-1].rstrip(".").lower() if before else ""
        if match.group(1) == "." and (last.isdigit() or len(last) <= 1 or last in _GERMAN_ABBREVIATIONS):
            continue
        found.append(text[start : match.end()])
        start = match.end()
    found.append(text[start:])
    return [" ".join(part.split()) for part in found if part.strip()]


def without_bidi_controls(text: str) -> str:
    """`text` without bidirectional embedding, override and isolate controls: a quote must not turn
    the text after it (the outlet's name, the links) around."""
    return _BIDI_CONTROLS.sub("", text)


def _paragraph_sentences(text: str, language: str) -> list[str]:
    text = without_bidi_controls(text)
    if language == "de":
        return german_sentences(text)
    return [" ".join(text[start:end].split()) for start, end in split_sentences(text, language)]


def article_sentences(german: Sequence[Paragraph], english: Sequence[Paragraph] | None = None) -> list[Sentence]:
    """Every sentence of the German text's prose paragraphs ("p", "blockquote"), numbered; each
    with its English sentence where the paragraph counts match and the paragraph has as many
    sentences in both languages."""
    aligned = english is not None and len(english) == len(german)
    found: list[Sentence] = []
    for number, paragraph in enumerate(german):
        if paragraph.kind not in ("p", "blockquote"):
            continue
        texts = _paragraph_sentences(paragraph.text, "de")
        originals: list[str | None] = [None] * len(texts)
        if aligned and english is not None:
            english_texts = _paragraph_sentences(english[number].text, "en")
            if len(english_texts) == len(texts):
                originals = list(english_texts)
        for text, original in zip(texts, originals, strict=True):
            found.append(Sentence(len(found), number, text, original))
            if len(found) >= MAX_SENTENCES:
                return found
    return found


def candidates(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The sentences a key passage may be: complete ones of the body, without the lead paragraph (the
    teaser the review used to show); failing that, without the opening sentence; failing that, any."""
    complete = [s for s in sentences if s.quotable]
    lead = sentences[0].paragraph if sentences else 0
    body = [s for s in complete if s.paragraph != lead]
    return body or [s for s in complete if s.index > 0] or complete


# Vectors -----------------------------------------------------------------------------------------


def _terms(text: str) -> list[str]:
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
    return [stem(word, "german") for word in words]


class _Space:
    """TF-IDF over the story's sentences (each sentence a document; `presseschau.stories.vectors`)."""

    def __init__(self, texts: Iterable[str]) -> None:
        bags = [_terms(text) for text in texts]
        self.stats = TermStats(capacity=max(1, len(bags)))
        for number, bag in enumerate(bags):
            self.stats.add(number, bag)

    def idf(self, term: str) -> float:
        return self.stats.idf(term, unseen=1.0)  # a word of no sentence (an editor's own) weighs plainly

    def vector(self, text: str) -> Vector:
        return tfidf(Counter(_terms(text)), self.idf)


def near_duplicates(left: str, right: str, space: _Space | None = None) -> bool:
    """Whether two passages say nearly the same (TF-IDF cosine over stems at or above `NEAR_DUPLICATE`)."""
    space = space or _Space([left, right])
    return _cosine(space.vector(left), space.vector(right)) >= NEAR_DUPLICATE


# Choosing ----------------------------------------------------------------------------------------


def _with_next(sentence: Sentence, sentences: Sequence[Sentence]) -> tuple[Sentence, ...]:
    """The sentence, and the next of its paragraph when it is short and both fit one quote."""
    if len(sentence.text) >= SHORT_CHARS or sentence.index + 1 >= len(sentences):
        return (sentence,)
    after = sentences[sentence.index + 1]
    if after.paragraph == sentence.paragraph and after.quotable and len(sentence.text) + len(after.text) < MAX_CHARS:
        return (sentence, after)
    return (sentence,)


def _passage(parts: tuple[Sentence, ...]) -> Passage:
    originals = [p.original for p in parts]
    original = " ".join(o for o in originals if o) if all(originals) else None
    return Passage(" ".join(p.text for p in parts), "machine", tuple(p.index for p in parts), original)


def _centroid(space: _Space, articles: Sequence[ArticleSentences]) -> Vector:
    total: dict[str, float] = {}
    for article in articles:
        own: dict[str, float] = {}
        for sentence in article.sentences:
            for term, weight in space.vector(sentence.text).items():
                own[term] = own.get(term, 0.0) + weight
        for term, weight in normalized(own).items():
            total[term] = total.get(term, 0.0) + weight
    return normalized(total)


def choose_passages(
    articles: Sequence[ArticleSentences], fixed: Mapping[int, Passage] | None = None
) -> dict[int, Passage | None]:
    """A key passage for every article of a story, by key: the `fixed` ones (editors') as they are,
    the others chosen in the given order (best report first) by maximal marginal relevance; None where
    an article has no quotable sentence that is not a near-duplicate of a chosen passage, and for the
    articles after the first `MAX_PASSAGES`."""
    fixed = fixed or {}
    quoted = list(articles[:MAX_PASSAGES])
    space = _Space(s.text for article in quoted for s in article.sentences)
    centroid = _centroid(space, quoted)
    chosen: list[Vector] = [space.vector(p.text) for p in fixed.values()]
    result: dict[int, Passage | None] = {article.key: fixed.get(article.key) for article in articles}
    for article in quoted:
        if article.key in fixed:
            continue
        options = []
        for sentence in candidates(article.sentences):
            parts = _with_next(sentence, article.sentences)
            vector = space.vector(" ".join(p.text for p in parts))
            if vector:
                options.append((_cosine(vector, centroid), parts, vector))
        # The most central candidates (earlier first on a tie), then weighed against the chosen ones.
        options.sort(key=lambda option: -option[0])
        best: tuple[float, tuple[Sentence, ...], Vector] | None = None
        weighed = 0
        for relevance, parts, vector in options:
            redundancy = max((_cosine(vector, other) for other in chosen), default=0.0)
            if redundancy >= NEAR_DUPLICATE:
                continue
            weighed += 1
            if weighed > MAX_CANDIDATES:
                break
            score = RELEVANCE_WEIGHT * relevance - (1 - RELEVANCE_WEIGHT) * redundancy
            if best is None or score > best[0]:
                best = (score, parts, vector)
        if best is not None:
            chosen.append(best[2])
            result[article.key] = _passage(best[1])
    return result


def key_passages_for_article(
    german: Sequence[Paragraph],
    english: Sequence[Paragraph] | None = None,
    others: Sequence[Sequence[Paragraph]] = (),
) -> Passage | None:
    """The key passage of one article (its German paragraphs, optionally the English original's),
    distinctive against `others` (the German paragraphs of the story's other articles, whose own
    passages are chosen first). None when the article has no quotable sentence."""
    mine = ArticleSentences(0, tuple(article_sentences(german, english)))
    rest = [
        ArticleSentences(number, tuple(article_sentences(paragraphs))) for number, paragraphs in enumerate(others, 1)
    ]
    return choose_passages([*rest, mine])[0]
