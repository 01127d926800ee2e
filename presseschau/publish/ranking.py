"""What a reader's search shows: which hits come first, the snippet around the match, the filters.

`presseschau.publish.search` finds candidates by stem (and word start) in the database's
full-text index, ranked by BM25 / ts_rank. Stems join words that only look alike ("Fähre" and
"fahren" both stem to "fahr"), so the candidates are ranked again here by how well each query
word occurs in the article's text, in tiers (best first):

1. the word itself or an inflection of it ("Fähre", "Fähren"),
2. a compound containing it ("Autofähre", "Fährverbindung" for "Fähr…"),
3. only a stem cousin ("fahren" for "Fähre").

Compounds that end in the query word ("Autofähre") are found by a substring match over the
stored text (`compound_candidates`), since an index of stems and word starts cannot see them.
A title match counts more than a body match within a tier; the database's rank breaks ties. The
same Python code ranks on SQLite and PostgreSQL, so both give the same order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from markupsafe import Markup, escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from presseschau.publish import search
from presseschau.store.models import Article, Publication, PublicationStatus, SearchDocument, Translation
from presseschau.text import ascii_digits

# Inflection endings of German nouns and adjectives: "Fähre" + "n" is still the word itself.
_ENDINGS = ("", "e", "n", "en", "s", "es", "er", "ern", "em", "ns", "ens")
SNIPPET_CHARS = 220
# Candidates ranked by text: enough for every realistic result list; beyond it the database's order.
RERANK_LIMIT = 2000
Sort = Literal["relevanz", "datum"]
EXACT, COMPOUND, STEM = 3, 2, 1
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def query_words(query: str) -> list[str]:
    """The distinct words of a query, lower case, umlauts kept (a Fähre is no fahre)."""
    return list(dict.fromkeys(search.words(query)))[:12]


def _word_pattern(word: str) -> re.Pattern[str]:
    endings = "|".join(e for e in _ENDINGS if e)
    return re.compile(rf"(?<!\w)({re.escape(word)}(?:{endings})?)(?!\w)")


def _compound_pattern(word: str) -> re.Pattern[str]:
    # The word inside a longer word: at its end ("Autofähre"), its start ("Fährverbindung") or
    # joined by a hyphen ("Auto-Fähre" is also found by the word pattern).
    endings = "|".join(e for e in _ENDINGS if e)
    return re.compile(rf"(\w*{re.escape(word)}(?:{endings})?\w*)")


def _stem_match(word: str, text_words: Iterable[str]) -> str | None:
    stems = set(search.query_stems(word))
    for candidate in text_words:
        if search.stem(candidate) in stems:
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class Match:
    """How one query word occurs in a text: its tier and the first occurrence."""

    tier: int
    start: int
    end: int


def best_match(word: str, text: str) -> Match | None:
    """The best occurrence of `word` in `text` (already lower-cased and NFC)."""
    found = _word_pattern(word).search(text)
    if found:
        return Match(EXACT, found.start(1), found.end(1))
    if len(word) >= search.MIN_PREFIX_LENGTH:
        found = _compound_pattern(word).search(text)
        if found:
            return Match(COMPOUND, found.start(1), found.end(1))
    for token in re.finditer(r"\w+", text):
        if _stem_match(word, [token.group(0)]):
            return Match(STEM, token.start(), token.end())
    return None


def text_score(words: Sequence[str], title: str, body: str) -> tuple[int, int]:
    """(sum of tiers over the query words, sum of title tiers): higher is better."""
    title_text, body_text = _normal(title), _normal(body)
    total = in_title = 0
    for word in words:
        title_match = best_match(word, title_text)
        body_match = best_match(word, body_text)
        tiers = [m.tier for m in (title_match, body_match) if m]
        total += max(tiers, default=0)
        in_title += title_match.tier if title_match else 0
    return total, in_title


def snippet(words: Sequence[str], body: str, width: int = SNIPPET_CHARS) -> Markup:
    """An excerpt of `body` around the best match of the query, every match marked with <mark>;
    escaped, so markup-like text in an article shows as text."""
    text = unicodedata.normalize("NFC", body.replace("\n", " "))
    lowered = text.lower()
    matches = [m for m in (best_match(w, lowered) for w in words) if m]
    if not matches:
        return Markup(escape(_cut(text, 0, width)))
    first = max(matches, key=lambda m: (m.tier, -m.start))
    start = max(0, first.start - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", first.end, end)
        end = space if space > first.end else end
    spans = _spans(words, lowered, start, end)
    out, position = [], start
    for span_start, span_end in spans:
        out.append(escape(text[position:span_start]))
        out.append(Markup("<mark>") + escape(text[span_start:span_end]) + Markup("</mark>"))
        position = span_end
    out.append(escape(text[position:end]))
    return Markup(("… " if start else "") + "".join(out) + (" …" if end < len(text) else ""))


def _spans(words: Sequence[str], lowered: str, start: int, end: int) -> list[tuple[int, int]]:
    """Non-overlapping spans of every exact, compound or stem match between `start` and `end`."""
    window = lowered[start:end]
    spans: list[tuple[int, int]] = []
    for token in re.finditer(r"\w+", window):
        value = token.group(0)
        for word in words:
            if (
                _word_pattern(word).fullmatch(value)
                or (len(word) >= search.MIN_PREFIX_LENGTH and word in value)
                or _stem_match(word, [value])
            ):
                spans.append((start + token.start(), start + token.end()))
                break
    return spans


def _cut(text: str, start: int, width: int) -> str:
    piece = text[start : start + width]
    return piece + (" …" if start + width < len(text) else "")


def compound_candidates(session: Session, words: Sequence[str], language: str, limit: int) -> list[int]:
    """Published articles whose text contains a query word inside a longer word (any word)."""
    long_words = [w for w in words if len(w) >= search.MIN_PREFIX_LENGTH and w.isalnum()]
    if not long_words:
        return []
    # The word in lower case inside a word ("Autofähre"): LIKE finds it on both databases
    # (SQLite's case folding is ASCII only, so the capitalised form is asked for too).
    conditions = []
    for word in long_words:
        for form in {word, word[:1].upper() + word[1:]}:
            pattern = f"%{form}%"
            conditions.extend([SearchDocument.title.like(pattern), SearchDocument.body.like(pattern)])
    rows = session.scalars(
        select(SearchDocument.publication_id)
        .join(Publication, Publication.id == SearchDocument.publication_id)
        .where(Publication.status == PublicationStatus.PUBLISHED, Publication.language == language)
        .where(or_(*conditions))
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Filters:
    """What a reader narrowed the search to; empty fields filter nothing."""

    source_id: int | None = None
    since: date | None = None
    until: date | None = None
    genre: str | None = None  # "opinion", "analysis" or "news" (no genre)
    sort: Sort = "relevanz"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> tuple[Filters, list[str]]:
        """The filters of a search URL (`quelle`, `von`, `bis`, `art`, `sortierung`) and a German
        message for each value that was not understood (that filter is then left out)."""
        errors: list[str] = []
        source_id = None
        raw_source = params.get("quelle", "").strip()
        if raw_source:
            if ascii_digits(raw_source) and len(raw_source) < 10:
                source_id = int(raw_source)
            else:
                errors.append(f"Quelle „{raw_source[:40]}“ ist keine Quellennummer.")
        since, until = _date_param(params, "von", "Von", errors), _date_param(params, "bis", "Bis", errors)
        genre = params.get("art", "").strip() or None
        if genre is not None and genre not in GENRES:
            errors.append(f"Art „{genre[:40]}“ gibt es nicht; möglich: {', '.join(GENRES.values())}.")
            genre = None
        sort: Sort = "datum" if params.get("sortierung") == "datum" else "relevanz"
        return cls(source_id, since, until, genre, sort), errors


# The genres a reader can filter by, with their German names ("news": an article without a genre).
GENRES = {"news": "Nachricht", "opinion": "Kommentar", "analysis": "Analyse"}


def _date_param(params: Mapping[str, str], name: str, label: str, errors: list[str]) -> date | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(f"{label}-Datum „{raw[:40]}“ ist kein Datum (JJJJ-MM-TT).")
        return None


def filter_params(filters: Filters | None) -> list[tuple[str, str]]:
    """The URL parameters of `filters` (for result page links), the defaults left out."""
    if filters is None:
        return []
    pairs = [
        ("quelle", str(filters.source_id) if filters.source_id is not None else ""),
        ("von", filters.since.isoformat() if filters.since else ""),
        ("bis", filters.until.isoformat() if filters.until else ""),
        ("art", filters.genre or ""),
        ("sortierung", "datum" if filters.sort == "datum" else ""),
    ]
    return [(name, value) for name, value in pairs if value]


@dataclass(frozen=True, slots=True)
class _Candidate:
    publication_id: int
    source_id: int | None
    genre: str | None
    when: datetime
    title: str
    body: str


def _candidates(session: Session, ids: Sequence[int], filters: Filters, timezone: str) -> list[_Candidate]:
    from presseschau.publish.formatting import local_datetime

    found: list[_Candidate] = []
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        rows = session.execute(
            select(
                Publication.id,
                Article.source_id,
                Article.genre,
                Article.published_at,
                Publication.published_at,
                SearchDocument.title,
                SearchDocument.body,
            )
            .join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .join(SearchDocument, SearchDocument.publication_id == Publication.id)
            .where(Publication.id.in_(chunk))
        )
        for pid, source_id, genre, original, published, title, body in rows:
            when = original or published or _NEVER
            day = local_datetime(when, timezone).date()
            if filters.source_id is not None and source_id != filters.source_id:
                continue
            if filters.genre and (genre or "news") != filters.genre:
                continue
            if (filters.since and day < filters.since) or (filters.until and day > filters.until):
                continue
            found.append(_Candidate(int(pid), source_id, genre, when, title or "", body or ""))
    return found


def ranked_search(session: Session, query: str, language: str, filters: Filters, timezone: str) -> list[int]:
    """Every matching publication id (at most `RERANK_LIMIT`), best first or newest first."""
    words = query_words(query)
    if not words:
        return []
    hits = search.search(session, query, language, limit=10_000)
    order = {hit.publication_id: position for position, hit in enumerate(hits)}
    for extra in compound_candidates(session, words, language, 10_000):
        order.setdefault(extra, len(order))
    ids = sorted(order, key=order.__getitem__)[:RERANK_LIMIT]
    scored = []
    for candidate in _candidates(session, ids, filters, timezone):
        text = _normal(candidate.title + " " + candidate.body)
        # Every query word must occur in some form (a compound candidate may lack the others).
        if any(best_match(word, text) is None for word in words):
            continue
        total, in_title = text_score(words, candidate.title, candidate.body)
        scored.append((candidate, total, in_title))
    if filters.sort == "datum":
        scored.sort(key=lambda item: (item[0].when, item[0].publication_id), reverse=True)
    else:
        scored.sort(key=lambda item: (-item[1], -item[2], order[item[0].publication_id]))
    return [candidate.publication_id for candidate, _, _ in scored]


def snippets(session: Session, query: str, publication_ids: Sequence[int]) -> dict[int, Markup]:
    """The snippet of each of `publication_ids` (one page of results)."""
    words = query_words(query)
    rows = session.execute(
        select(SearchDocument.publication_id, SearchDocument.body).where(
            SearchDocument.publication_id.in_(list(publication_ids))
        )
    )
    return {int(pid): snippet(words, body or "") for pid, body in rows}
