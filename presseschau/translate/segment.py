"""Sentence segmentation and clause-level splitting of sentences too long for an engine.

Spans are (start, end) character offsets into the text they came from, so later steps can map
inline markup and re-join pieces without losing or duplicating a character.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from functools import lru_cache

import pysbd

Span = tuple[int, int]

# Clause boundaries, strongest first: a long sentence is cut at the strongest boundary available.
_BOUNDARIES: tuple[re.Pattern[str], ...] = (
    re.compile(r"[;:](?=\s)"),
    re.compile(r"\s[—–](?=\s)|—"),
    re.compile(r"\)(?=\s)|,(?=\s)"),
    re.compile(r"(?=\s(?:and|but|or|because|which|who|while|whereas|although|though|so|yet|that|when|where)\s)"),
    re.compile(r"(?=\s)"),
)
# Most paragraphs with no ". X" style break are one sentence: skip pysbd (slow) for them.
_POSSIBLE_BREAK = re.compile(r"[.!?…][\"'”’)\]]*\s+\S")
# A sentence end followed by the start of a capitalized (or numeric) sentence.
_CANDIDATE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
# Words that end in a period without ending a sentence (lowercase, without the period).
_ABBREVIATION_WORDS = (
    "mr mrs ms dr prof st sr jr gen sen rep gov lt col capt sgt maj cmdr adm pres rev hon fr inc "
    "ltd co corp bros dept univ assn est approx vs etc cf al fig no nos vol pp ch sec art ed eds "
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun "
    "mt ft ave blvd rd hwy ca op"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
_pysbd_lock = threading.Lock()


@lru_cache(maxsize=8)
def _segmenter(language: str) -> pysbd.Segmenter:
    try:
        return pysbd.Segmenter(language=language, clean=False)
    except ValueError:  # pysbd has rules for ~20 languages; English rules are a fair default
        return pysbd.Segmenter(language="en", clean=False)


def _strip_span(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _fast_chunks(text: str, start: int, end: int) -> list[tuple[Span, bool]]:
    """Split at unambiguous sentence ends; each chunk says whether it still needs pysbd.

    pysbd's rules are thorough but cost ~1 ms per sentence, more than a GPU model needs to
    translate it. Plain prose (". The", "? He") is split here; a chunk holding anything like an
    abbreviation, initial, ellipsis or dotted token (U.S., a.m., J. K.) goes to pysbd, alone.
    """
    chunks: list[tuple[Span, bool]] = []
    position = start
    ambiguous = False
    for match in _CANDIDATE.finditer(text, start, end):
        before = text[start : match.end()]
        if before.count('"') % 2 or before.count("“") > before.count("”"):
            continue  # inside quoted speech: kept whole, as pysbd does
        punctuation = match.group(0).rstrip("\"'”’)]")
        if punctuation.startswith("."):
            word_start = text.rfind(" ", position, match.start()) + 1
            word = text[max(word_start, position) : match.start()].lstrip("\"'“‘([")
            if (
                len(punctuation) > 1  # an ellipsis may or may not end the sentence
                or len(word) <= 1
                or "." in word
                or word.lower() in _ABBREVIATIONS
                or (word.isdigit() and len(word) <= 2)  # "No. 5", numbering, "13. Februar"
            ):
                ambiguous = True
                continue
        piece = _strip_span(text, position, match.end())
        if piece:
            chunks.append((piece, ambiguous))
        position, ambiguous = match.end(), False
    tail = _strip_span(text, position, end)
    if tail:
        chunks.append((tail, ambiguous))
    return chunks


def _pysbd_spans(text: str, span: Span, language: str) -> list[Span]:
    offset, chunk = span[0], text[span[0] : span[1]]
    with _pysbd_lock:  # pysbd keeps per-call state on the segmenter object
        pieces = _segmenter(language).segment(chunk)
    spans: list[Span] = []
    position = 0
    for piece in pieces:
        stripped = piece.strip()
        if not stripped:
            continue
        found = chunk.find(stripped, position)
        if found < 0:
            # pysbd changed the text (it should not with clean=False): keep the rest as one
            # span rather than risk losing characters.
            rest = _strip_span(chunk, position, len(chunk))
            if rest:
                spans.append(rest)
            position = len(chunk)
            break
        gap = _strip_span(chunk, position, found)
        if gap:
            spans.append(gap)
        spans.append((found, found + len(stripped)))
        position = found + len(stripped)
    tail = _strip_span(chunk, position, len(chunk))
    if tail:
        spans.append(tail)
    return [(s + offset, e + offset) for s, e in _reattach_final_numbers(chunk, spans)]


# pysbd reads "… in district 7. Officials said …" as a list item "7." starting the next sentence.
_LEADING_NUMBER = re.compile(r"\d{1,2}\.(?=\s)")
_ENDS_CLAUSE = re.compile(r"[.!?:;…\"'”’)\]]$")


def _reattach_final_numbers(text: str, spans: list[Span]) -> list[Span]:
    """Give a sentence-final number back to the sentence it ends.

    A real list item follows a colon or a finished sentence; a sentence that stops on a bare word
    ("in district") did not end there."""
    fixed: list[Span] = []
    for start, end in spans:
        number = _LEADING_NUMBER.match(text, start)
        if fixed and number and not _ENDS_CLAUSE.search(text[fixed[-1][0] : fixed[-1][1]]):
            fixed[-1] = (fixed[-1][0], number.end())
            rest = _strip_span(text, number.end(), end)
            if rest:
                fixed.append(rest)
            continue
        fixed.append((start, end))
    return fixed


def split_sentences(text: str, language: str = "en") -> list[Span]:
    """Sentence spans of `text`, without surrounding whitespace, covering every non-space character."""
    whole = _strip_span(text, 0, len(text))
    if whole is None:
        return []
    if not _POSSIBLE_BREAK.search(text, whole[0], whole[1]):
        return [whole]
    if language.split("-")[0] != "en":
        return _pysbd_spans(text, whole, language)
    spans: list[Span] = []
    for chunk, ambiguous in _fast_chunks(text, whole[0], whole[1]):
        spans.extend(_pysbd_spans(text, chunk, language) if ambiguous else [chunk])
    return spans


def split_sentences_quickly(text: str, language: str) -> list[Span]:
    """Sentence spans for estimates (counts, lengths, language per sentence) in any language: plain
    prose is split at unambiguous sentence ends as in English, only ambiguous chunks go to pysbd.

    `split_sentences` gives other languages to pysbd whole, which costs ~20 ms per paragraph; a
    quality estimate of every translated paragraph cannot afford that, and a rare abbreviation
    read as a sentence end only shifts a count that the estimate already treats with tolerance."""
    whole = _strip_span(text, 0, len(text))
    if whole is None:
        return []
    if not _POSSIBLE_BREAK.search(text, whole[0], whole[1]):
        return [whole]
    # The chunker's patterns read English: a same-length copy with German quotes („…“) as English ones
    # (“…”) and capitals beyond ASCII (Über, À) as "A" gives its spans for the text itself.
    table = {ord(ch): "A" for ch in set(text) if ch.isupper() and not ch.isascii()} | _ENGLISH_LIKE
    english_like = text.translate(table)
    spans: list[Span] = []
    for chunk, ambiguous in _fast_chunks(english_like, whole[0], whole[1]):
        spans.extend(_pysbd_spans(text, chunk, language) if ambiguous else [chunk])
    return spans


_ENGLISH_LIKE = {ord("„"): "“", ord("“"): "”", ord("»"): "“", ord("«"): "”"}


def split_long(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[Span]:
    """Split `text` into spans of at most `max_tokens` tokens, at clause boundaries where possible.

    Each piece keeps its punctuation; joining the pieces with single spaces gives back the text
    (modulo whitespace). A single token longer than the limit is cut between characters as a last
    resort, so the engine's own limit never truncates anything.
    """
    whole = _strip_span(text, 0, len(text))
    if whole is None:
        return []
    return _split(text, whole, count_tokens, max(1, max_tokens))


def _split(text: str, span: Span, count_tokens: Callable[[str], int], max_tokens: int) -> list[Span]:
    start, end = span
    if count_tokens(text[start:end]) <= max_tokens:
        return [span]
    cut = _best_cut(text, start, end)
    left, right = _strip_span(text, start, cut), _strip_span(text, cut, end)
    if left is None or right is None:  # cannot happen with a cut strictly inside; be safe anyway
        cut = (start + end) // 2
        left, right = (start, cut), (cut, end)
    return _split(text, left, count_tokens, max_tokens) + _split(text, right, count_tokens, max_tokens)


def _best_cut(text: str, start: int, end: int) -> int:
    """The cut position nearest the middle among the strongest boundary kind present."""
    middle = (start + end) / 2
    # A cut must leave a reasonable share on each side, or splitting recurses token by token.
    margin = (end - start) // 6
    for pattern in _BOUNDARIES:
        candidates = [
            m.end() if m.end() > m.start() else m.start()
            for m in pattern.finditer(text, start, end)
            if start + margin < (m.end() if m.end() > m.start() else m.start()) < end - margin
        ]
        if candidates:
            return int(min(candidates, key=lambda c: abs(c - middle)))
    for pattern in _BOUNDARIES[-1:]:  # any whitespace at all, even off-centre
        candidates = [m.start() for m in pattern.finditer(text, start + 1, end - 1)]
        if candidates:
            return int(min(candidates, key=lambda c: abs(c - middle)))
    return (start + end) // 2
