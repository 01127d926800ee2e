"""Full-text search over the published German text.

SQLite: FTS5 has no German stemmer, so words are stemmed here (Snowball German) and the FTS5
table `search_fts` holds the stems; queries are stemmed the same way. PostgreSQL: its own
`german` text search configuration over `search_documents` (GIN expression index).

A query word matches its own stem, or -- from four letters on -- as the start of a longer word:
German compounds put the topic first ("Windkraft" finds "Windkraftbranche" and
"Offshore-Windkraftanlagen"). The indexed text includes the English original's title, teaser and
authors, so English names (Lukashenko, Kyiv) find the article too. The static site's search
(`search.js` over `search_terms`) follows the same rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from presseschau.store.models import PublicationStatus, SearchDocument
from presseschau.store.rights import ReuseDecision, reusable_paragraphs

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_QUERY_TERMS = 12
# Shorter query words match whole words only: "EU" must not find "Euro" and "Europa".
MIN_PREFIX_LENGTH = 4
# Frequent German function words: useless for "related articles" and noise in search.
_STOPWORD_TEXT = (
    "der die das den dem des ein eine einer einem einen eines und oder aber nicht auch als an am auf aus bei bis "
    "durch für gegen in im ins mit nach noch nur ob ohne so um über unter von vom vor wie wird werden wurde wurden "
    "ist sind war waren hat haben hatte hatten sein seine ihr ihre es er sie wir man sich zu zum zur dass daß "
    "wenn was wer hier dort da doch schon sehr mehr kann können muss müssen soll sollen will wollen diese dieser "
    "dieses diesem diesen jede jeder jedes alle allem allen aller alles kein keine keinen einem sowie"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("german")


def words(text: str) -> list[str]:
    """Lower-case words of `text` (NFC, so umlauts stay single letters for the stemmer)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


_stem_cache: dict[str, str] = {}
_STEM_CACHE_LIMIT = 200_000


def stem(word: str) -> str:
    """The German stem of a lower-case word, genitive "s" of names included (see `_snowball_stem`)."""
    # The pure-Python Snowball stemmer costs ~20 µs a word; news vocabulary repeats, so memoise.
    cached = _stem_cache.get(word)
    if cached is None:
        cached = _snowball_stem(word)
        if cached == word and len(word) >= 5 and word.endswith("s") and not word.endswith("ss"):
            # Snowball strips "s" only after b, d, f, g, h, k, l, m, n, r, t: the genitive of names
            # and countries ("Chinas", "Kiews", "Lukaschenkos", "Europas") keeps it, and would not
            # be found by the name. Index and query both use this rule.
            cached = _snowball_stem(word[:-1])
        if len(_stem_cache) >= _STEM_CACHE_LIMIT:
            _stem_cache.clear()
        _stem_cache[word] = cached
    return cached


def _snowball_stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def query_stems(word: str) -> list[str]:
    """The stems a query word may be indexed under: `stem`'s, and plain Snowball's for entries
    indexed before the genitive rule (so an older index keeps answering)."""
    return list(dict.fromkeys([stem(word), _snowball_stem(word)]))


def folded(word: str) -> str:
    """`word` without diacritics and with ß as ss, as the stems are (Snowball drops umlauts)."""
    decomposed = unicodedata.normalize("NFD", word.lower().replace("ß", "ss"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def prefix_form(word: str) -> str | None:
    """The form a query word matches the start of indexed words with, or None when too short."""
    form = folded(word)
    return form if len(form) >= MIN_PREFIX_LENGTH and form.isalnum() else None


def search_terms(text: str) -> list[str]:
    """The distinct stems of `text`, sorted: what the static site's search matches queries against."""
    return sorted(set(stems(text)))


def stems(text: str) -> list[str]:
    """German stems of the words in `text`, in order ("Wahlen" and "Wahl" both give "wahl")."""
    return [stem(word) for word in words(text)]


@dataclass(frozen=True, slots=True)
class SearchHit:
    publication_id: int
    rank: float


def original_text(session: Session, publication_id: int, reuse: ReuseDecision | None = None) -> str:
    """The English original's title, teaser and authors of a publication: names as the original
    spells them (Lukashenko, Kyiv) are searched too."""
    from presseschau.content import paragraphs_from_json
    from presseschau.store.models import Article, Publication, Translation

    row = session.execute(
        select(Article.title, Article.description, Article.authors, Article.paragraphs)
        .join(Translation, Translation.article_id == Article.id)
        .join(Publication, Publication.translation_id == Translation.id)
        .where(Publication.id == publication_id)
    ).first()
    if row is None:
        return ""
    title, description, authors, paragraphs = row
    english = paragraphs_from_json(paragraphs)
    # No more of the original than the article's reuse mode shows.
    shown = reusable_paragraphs(english, reuse) if reuse is not None else english
    opening = [p.text for p in shown[:ORIGINAL_PARAGRAPHS]]
    return "\n".join(part for part in [title or "", description or "", *map(str, authors or []), *opening] if part)


# How much of the original goes into the index: its opening (the teaser readers see) is enough to
# find an article by an English name; the whole English text would match English words everywhere.
ORIGINAL_PARAGRAPHS = 2


def index_document(
    session: Session, publication_id: int, language: str, title: str, body: str, reuse: ReuseDecision | None = None
) -> None:
    """Create or replace the search entry of a publication (call within the publishing transaction).

    `body` is the German text as shown; `reuse` cuts the indexed English opening alike."""
    original = original_text(session, publication_id, reuse)
    if original:
        body = f"{body}\n{original}"
    document = session.get(SearchDocument, publication_id)
    if document is None:
        session.add(SearchDocument(publication_id=publication_id, language=language, title=title, body=body))
    else:
        document.language, document.title, document.body = language, title, body
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": publication_id})
        session.execute(
            text("INSERT INTO search_fts (rowid, title, body) VALUES (:id, :title, :body)"),
            {"id": publication_id, "title": " ".join(stems(title)), "body": " ".join(stems(body))},
        )


def remove_document(session: Session, publication_id: int) -> None:
    session.execute(delete(SearchDocument).where(SearchDocument.publication_id == publication_id))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": publication_id})


def _fts5_query(terms: list[tuple[list[str], str | None]], any_term: bool) -> str:
    # Every term quoted: user input can never be read as FTS5 syntax (NEAR, column filters, ...).
    # A word with several possible stems matches any of them, and the start of longer words.
    groups = [
        "(" + " OR ".join([*(f'"{form}"' for form in forms), *([f'"{prefix}"*'] if prefix else [])]) + ")"
        for forms, prefix in terms
    ]
    return (" OR " if any_term else " AND ").join(groups)


def search(
    session: Session, query: str, language: str, limit: int = 20, offset: int = 0, any_term: bool = False
) -> list[SearchHit]:
    """Published articles matching every word of `query` (or any word, with `any_term`), best first."""
    if session.get_bind().dialect.name == "postgresql":
        return _search_postgresql(session, query, language, limit, offset, any_term)
    terms = [(query_stems(word), prefix_form(word)) for word in dict.fromkeys(words(query)) if word]
    terms = terms[:_MAX_QUERY_TERMS]
    if not terms:
        return []
    rows = session.execute(
        text(
            "SELECT f.rowid, bm25(search_fts, 4.0, 1.0) AS rank FROM search_fts f "
            "JOIN publications p ON p.id = f.rowid "
            f"WHERE search_fts MATCH :match AND p.status = '{PublicationStatus.PUBLISHED}' AND p.language = :language "
            "ORDER BY rank, p.published_at DESC LIMIT :limit OFFSET :offset"
        ),
        {"match": _fts5_query(terms, any_term), "language": language, "limit": limit, "offset": offset},
    )
    return [SearchHit(int(row[0]), float(row[1])) for row in rows]


def _search_postgresql(
    session: Session, query: str, language: str, limit: int, offset: int, any_term: bool
) -> list[SearchHit]:
    terms = [term for term in dict.fromkeys(words(query)) if term][:_MAX_QUERY_TERMS]
    if not terms:
        return []
    # plainto_tsquery per word, combined here: no user text is ever parsed as tsquery syntax.
    # The german configuration keeps the genitive "s" of names ("Chinas", "Kiews") as Snowball
    # does: a word also matches its form with and without that "s".
    operator = " || " if any_term else " && "
    params: dict[str, object] = {}
    groups = []
    for i, term in enumerate(terms):
        forms = _genitive_forms(term)
        params.update({f"t{i}_{j}": form for j, form in enumerate(forms)})
        parts = [f"plainto_tsquery('german'::regconfig, :t{i}_{j})" for j in range(len(forms))]
        prefix = prefix_form(term)
        if prefix is not None:
            # A quoted lexeme with :* -- alphanumeric only, so nothing in it is tsquery syntax.
            params[f"p{i}"] = f"'{prefix}':*"
            parts.append(f"to_tsquery('simple'::regconfig, :p{i})")
        groups.append(f"({' || '.join(parts)})")
    tsquery = operator.join(groups)
    params.update(language=language, limit=limit, offset=offset)
    # The expression must equal the index's (migration 0001) for PostgreSQL to use it.
    rows = session.execute(
        text(
            "SELECT d.publication_id, "
            "ts_rank_cd(to_tsvector('german'::regconfig, d.title || ' ' || d.body), s.q) AS rank "
            f"FROM search_documents d JOIN publications p ON p.id = d.publication_id, (SELECT {tsquery} AS q) AS s "
            "WHERE to_tsvector('german'::regconfig, d.title || ' ' || d.body) @@ s.q "
            f"AND p.status = '{PublicationStatus.PUBLISHED}' AND p.language = :language "
            "ORDER BY rank DESC, p.published_at DESC LIMIT :limit OFFSET :offset"
        ),
        params,
    )
    return [SearchHit(int(row[0]), -float(row[1])) for row in rows]


def _genitive_forms(word: str) -> list[str]:
    """`word`, plus the form with (or without) a genitive "s" where Snowball would not strip it."""
    forms = [word]
    if len(word) >= 4 and not word.endswith("s") and _snowball_stem(word + "s") == word + "s":
        forms.append(word + "s")
    if stem(word) != _snowball_stem(word):  # a genitive form `stem` reduces: also the bare name
        forms.append(word[:-1])
    return forms


def title_postings(session: Session, word: str, limit: int) -> list[int]:
    """Ids of published publications whose title contains `word`, any inflection (at most `limit`)."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            text(
                "SELECT d.publication_id FROM search_documents d JOIN publications p ON p.id = d.publication_id "
                "WHERE to_tsvector('german'::regconfig, d.title) @@ plainto_tsquery('german'::regconfig, :term) "
                f"AND p.status = '{PublicationStatus.PUBLISHED}' LIMIT :limit"
            ),
            {"term": word, "limit": limit},
        )
    else:
        rows = session.execute(
            text("SELECT rowid FROM search_fts WHERE search_fts MATCH :match LIMIT :limit"),
            {"match": f'title : "{stem(word)}"', "limit": limit},
        )
    return [int(row[0]) for row in rows]


def count(session: Session, query: str, language: str) -> int:
    """How many published articles match every word of `query`."""
    return len(search(session, query, language, limit=10_000))
