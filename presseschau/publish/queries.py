"""The read side of the site: what pages, feeds and sitemaps show, loaded in few queries."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import Paragraph, html_to_text, sanitize_inline_html
from presseschau.publish import search
from presseschau.publish.formatting import teaser, translation_disclosure, translation_notice
from presseschau.store.models import (
    Article,
    CorrectionNote,
    Publication,
    PublicationStatus,
    SlugHistory,
    Source,
    Translation,
    TranslationRevision,
)
from presseschau.store.rights import (
    LICENCES,
    UNKNOWN_LICENCE,
    Licence,
    ReuseDecision,
    article_reuse,
    bilingual_allowed,
    licence,
    reusable_paragraphs,
    shown_paragraphs,
)
from presseschau.stories import vectors

RELATED_COUNT = 4
FULL_REUSE = ReuseDecision("full", "")


def plain_text(value: str | None) -> str:
    """Source metadata (titles, names) as plain text: any markup in it is dropped, never rendered."""
    if not value:
        return ""
    return html_to_text(sanitize_inline_html(value))


def iter_safe_paragraphs(data: list[Any] | None) -> Iterator[Paragraph]:
    """Stored paragraphs, sanitized again: pages stay safe even if a row bypassed the ingest sanitizer."""
    for item in data or []:
        paragraph = Paragraph.from_json(item)
        yield Paragraph(paragraph.kind, sanitize_inline_html(paragraph.html))


def safe_paragraphs(data: list[Any] | None) -> list[Paragraph]:
    return list(iter_safe_paragraphs(data))


def http_url(url: str | None) -> str | None:
    """`url` if it is an http(s) URL, else None: a stored `javascript:` link must never reach a page."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in ("http", "https") else None


@dataclass(frozen=True, slots=True)
class Summary:
    """One article in a list: home page, source page, archive, feeds."""

    publication_id: int
    article_id: int
    slug: str
    title: str
    teaser: str
    published_at: datetime
    updated_at: datetime
    outlet: str | None
    source_id: int | None
    source_name: str | None
    # The original's publication time, and whether its source gave only the day.
    original_published_at: datetime | None = None
    original_date_only: bool = False
    genre: str | None = None
    # Set when `title` is the original's (no translated title): the page marks its language.
    title_language: str | None = None


@dataclass(slots=True)
class ArticleView:
    """Everything the article page shows."""

    summary: Summary
    paragraphs: list[Paragraph]
    original_title: str
    original_url: str
    original_teaser: str
    original_published_at: datetime | None
    authors: list[str]
    image_url: str | None
    engine: str | None
    model: str | None
    reviewed: bool
    notice: str
    first_published_at: datetime | None
    translated_at: datetime | None
    # "Aus dem Englischen · maschinell übersetzt (DeepL) · redaktionell geprüft", under the byline.
    disclosure: str = ""
    # When the published text last changed after first publication ("Aktualisiert am").
    text_updated_at: datetime | None = None
    previous: Summary | None = None
    next: Summary | None = None
    related: list[Summary] = field(default_factory=list)
    same_source: list[Summary] = field(default_factory=list)
    # Its story's page (None: in no story, or the story's review is not public) and the story's outlets.
    story_url: str | None = None
    story_outlets: int = 0
    # Rights (presseschau.store.rights): what may be shown and why; `paragraphs` is already cut to it.
    reuse: ReuseDecision = FULL_REUSE
    licence: Licence = LICENCES[UNKNOWN_LICENCE]
    # The English original of each shown paragraph, aligned by index (only where bilingual reading is on).
    originals: list[Paragraph] = field(default_factory=list)
    # An editor changed the machine's text ("bearbeitet").
    edited: bool = False
    # Public correction notes, oldest first: (id, when, text).
    corrections: list[tuple[int, datetime, str]] = field(default_factory=list)

    @property
    def bilingual(self) -> bool:
        return bool(self.originals)

    @property
    def body_paragraphs(self) -> list[Paragraph]:
        """What the article body shows: nothing beyond the teaser for a `headline` article."""
        return [] if self.reuse.mode == "headline" else self.paragraphs


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int
    name: str
    url: str
    count: int


def _summary_columns() -> Select[Any]:
    return (
        select(
            Publication.id,
            Article.id,
            Publication.slug,
            Translation.title,
            Translation.paragraphs,
            Publication.published_at,
            Publication.updated_at,
            Article.outlet,
            Article.source_id,
            Source.name,
            Article.title,
            Article.published_at,
            Article.published_date_only,
            Article.genre,
            Article.language,
        )
        .join(Translation, Translation.id == Publication.translation_id)
        .join(Article, Article.id == Translation.article_id)
        .outerjoin(Source, Source.id == Article.source_id)
    )


def _published(language: str) -> Any:
    return and_(Publication.status == PublicationStatus.PUBLISHED, Publication.language == language)


def _to_summary(row: Sequence[Any]) -> Summary:
    return Summary(
        publication_id=row[0],
        article_id=row[1],
        slug=row[2],
        title=plain_text(row[3]) or plain_text(row[10]) or "Ohne Titel",
        title_language=None if plain_text(row[3]) or not plain_text(row[10]) else (row[14] or "en"),
        teaser=teaser(iter_safe_paragraphs(row[4])),
        published_at=row[5],
        updated_at=row[6],
        outlet=plain_text(row[7]) or None,
        source_id=row[8],
        source_name=plain_text(row[9]) or None,
        original_published_at=row[11],
        original_date_only=bool(row[12]),
        genre=row[13],
    )


# Lists are ordered by the original's date where it is known (readers care when something was
# said, not when it was translated), else by the time presseschau published it.
_list_time = func.coalesce(Article.published_at, Publication.published_at)
_NEWEST_FIRST = (_list_time.desc(), Publication.id.desc())
# For queries over publications alone (sitemaps): their own publishing time.
_NEWEST_PUBLISHED_FIRST = (Publication.published_at.desc(), Publication.id.desc())


def latest(session: Session, language: str, limit: int, offset: int = 0, source_id: int | None = None) -> list[Summary]:
    query = _summary_columns().where(_published(language))
    if source_id is not None:
        query = query.where(Article.source_id == source_id)
    rows = session.execute(query.order_by(*_NEWEST_FIRST).limit(limit).offset(offset))
    return [_to_summary(row) for row in rows]


def count_published(session: Session, language: str, source_id: int | None = None) -> int:
    query = select(func.count(Publication.id)).where(_published(language))
    if source_id is not None:
        query = (
            query.join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .where(Article.source_id == source_id)
        )
    return int(session.scalar(query) or 0)


def summaries_by_id(session: Session, publication_ids: Iterable[int]) -> dict[int, Summary]:
    ids = list(publication_ids)
    if not ids:
        return {}
    rows = session.execute(_summary_columns().where(Publication.id.in_(ids)))
    return {row[0]: _to_summary(row) for row in rows}


def in_month(session: Session, language: str, start: datetime, end: datetime) -> list[Summary]:
    rows = session.execute(
        _summary_columns()
        .where(_published(language), Publication.published_at >= start, Publication.published_at < end)
        .order_by(*_NEWEST_FIRST)
    )
    return [_to_summary(row) for row in rows]


def published_times(session: Session, language: str) -> list[datetime]:
    """Publication times of every published article (the archive groups them by local month)."""
    return [t for t in session.scalars(select(Publication.published_at).where(_published(language))) if t]


def sources(session: Session, language: str) -> list[SourceInfo]:
    """Sources with at least one published article, by name."""
    rows = session.execute(
        select(Source.id, Source.name, Source.url, func.count(Publication.id))
        .join(Article, Article.source_id == Source.id)
        .join(Translation, Translation.article_id == Article.id)
        .join(Publication, Publication.translation_id == Translation.id)
        .where(_published(language))
        .group_by(Source.id, Source.name, Source.url)
        .order_by(Source.name)
    )
    return [SourceInfo(int(r[0]), plain_text(r[1]) or f"Quelle {r[0]}", r[2], int(r[3])) for r in rows]


def source(session: Session, source_id: int) -> SourceInfo | None:
    row = session.get(Source, source_id)
    if row is None:
        return None
    return SourceInfo(row.id, plain_text(row.name) or f"Quelle {row.id}", row.url, 0)


def find_slug(session: Session, language: str, slug: str) -> tuple[int, str, datetime] | None:
    """(publication id, status, updated_at) of the publication with `slug`, if any."""
    row = session.execute(
        select(Publication.id, Publication.status, Publication.updated_at).where(
            Publication.language == language, Publication.slug == slug
        )
    ).first()
    return (int(row[0]), str(row[1]), row[2]) if row else None


def redirect_target(session: Session, language: str, slug: str) -> str | None:
    """The current slug of a published article that used to be at `slug`."""
    return session.scalar(
        select(Publication.slug)
        .join(SlugHistory, SlugHistory.publication_id == Publication.id)
        .where(
            SlugHistory.language == language,
            SlugHistory.slug == slug,
            Publication.status == PublicationStatus.PUBLISHED,
        )
    )


def slug_redirects(session: Session, language: str) -> list[tuple[str, str]]:
    """(old slug, current slug) for every published article that was renamed."""
    rows = session.execute(
        select(SlugHistory.slug, Publication.slug)
        .join(Publication, Publication.id == SlugHistory.publication_id)
        .where(SlugHistory.language == language, Publication.status == PublicationStatus.PUBLISHED)
    )
    return [(str(r[0]), str(r[1])) for r in rows]


def neighbours(session: Session, language: str, summary: Summary) -> tuple[Summary | None, Summary | None]:
    """The previous (older) and next (newer) published article, in the lists' order."""
    key = (summary.original_published_at or summary.published_at, summary.publication_id)
    older = session.execute(
        _summary_columns()
        .where(
            _published(language),
            or_(
                _list_time < key[0],
                and_(_list_time == key[0], Publication.id < key[1]),
            ),
        )
        .order_by(*_NEWEST_FIRST)
        .limit(1)
    ).first()
    newer = session.execute(
        _summary_columns()
        .where(
            _published(language),
            or_(
                _list_time > key[0],
                and_(_list_time == key[0], Publication.id > key[1]),
            ),
        )
        .order_by(_list_time, Publication.id)
        .limit(1)
    ).first()
    return (_to_summary(older) if older else None, _to_summary(newer) if newer else None)


# Verbs, adverbs and adjectives of German headlines: two titles sharing "steht" or "neue" are
# not about the same thing (search still finds these words; only relatedness ignores them).
_HEADLINE_FILLER_TEXT = """
    steht stehen stand standen geht gehen ging gingen gibt geben gab gaben kommt kommen kam kamen macht machen
    machte bleibt bleiben blieb lässt lassen ließ sagt sagen sagte sagten zeigt zeigen zeigte will wollte wollten
    darf dürfen könnte könnten würde würden sollte sollten müsste wäre wären habe hätte hätten gilt gelten
    fordert fordern warnt warnen droht drohen setzt setzen sieht sehen bringt bringen nimmt nehmen hält halten
    beginnt beginnen endet enden neue neuen neuer neues neu alte alten alter erste ersten erster zweite zweiten
    letzte letzten große großen großer kleine kleinen viele vielen mehrere wenige weniger weitere weiteren
    warum wieso weshalb welche welcher welches wieder immer jetzt heute gestern morgen bald noch zwischen gegenüber
    trotz wegen während seit darum damit dabei davon dafür dagegen etwa rund fast kaum mehr weniger ganz
    eins zwei drei vier fünf sechs sieben acht neun zehn hundert tausend jahr jahre jahren prozent
"""
_HEADLINE_FILLERS = frozenset(_HEADLINE_FILLER_TEXT.split())


def title_terms(title: str) -> dict[str, str]:
    """The telling words of a title by German stem: no function words, fillers or short words."""
    return {
        search.stem(w): w
        for w in search.words(title)
        if w not in search.STOPWORDS and w not in _HEADLINE_FILLERS and len(w) > 3 and not w.isdigit()
    }


def term_cap(total: int) -> int:
    """A title word shared by more articles than this says nothing about relatedness."""
    return max(20, total // 50)


# Related means real overlap: several shared telling title words, or one shared word and texts
# that are alike. One ambiguous word ("Bank" of England, Skarven-"Bank") never relates two articles.
MIN_SHARED_TITLE_TERMS = 2
# Cosine of the texts' stem vectors; unrelated articles of the demo set stay below 0.18.
MIN_TEXT_SIMILARITY = 0.3


def text_vector(text: str) -> dict[str, float]:
    """Log-weighted counts of the telling stems of a German text (no function words or fillers);
    the weighting and the cosine are the story grouping's (`presseschau.stories.vectors`)."""
    counts: dict[str, int] = {}
    for word in search.words(text):
        if len(word) > 3 and word not in search.STOPWORDS and word not in _HEADLINE_FILLERS and not word.isdigit():
            key = search.stem(word)
            counts[key] = counts.get(key, 0) + 1
    return vectors.sublinear(counts)


def text_similarity(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity of two `text_vector`s (0 when either is empty)."""
    return vectors.cosine(a, b)


def german_texts(session: Session, publication_ids: Iterable[int]) -> dict[int, str]:
    """The German title and body of each publication, for `text_similarity`."""
    ids = list(publication_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(Publication.id, Translation.title, Translation.paragraphs)
        .join(Translation, Translation.id == Publication.translation_id)
        .where(Publication.id.in_(ids))
    )
    return {
        int(row[0]): " ".join([plain_text(row[1]), *(p.text for p in iter_safe_paragraphs(row[2]))]) for row in rows
    }


def rank_related(
    own_id: int,
    postings: Mapping[str, Sequence[int]],
    total: int,
    texts: Callable[[Iterable[int]], Mapping[int, str]] | None = None,
    exclude: Iterable[int] = (),
) -> list[int]:
    """Publication ids related to `own_id`: summed IDF of the shared title words, then newest first.

    A candidate needs MIN_SHARED_TITLE_TERMS shared words, or one and a text alike (`texts` gives
    the German texts of publication ids; without it one word is never enough). Ids in `exclude`
    (the previous and next articles, linked anyway) are left out. Shared by the server (postings
    from the FTS index) and the static build (postings in memory): both show the same articles.
    """
    scores: dict[int, float] = {}
    shared: dict[int, int] = {}
    left_out = {own_id, *exclude}
    for ids in postings.values():
        if not ids or len(ids) > term_cap(total):
            continue
        weight = math.log((total + 1) / len(ids))
        for other in ids:
            if other not in left_out:
                scores[other] = scores.get(other, 0.0) + weight
                shared[other] = shared.get(other, 0) + 1
    single = [other for other, count in shared.items() if count < MIN_SHARED_TITLE_TERMS]
    alike: set[int] = set()
    if single and texts is not None:
        found = texts([own_id, *single])
        own = text_vector(found.get(own_id, ""))
        alike = {o for o in single if text_similarity(own, text_vector(found.get(o, ""))) >= MIN_TEXT_SIMILARITY}
    kept = [(o, score) for o, score in scores.items() if shared[o] >= MIN_SHARED_TITLE_TERMS or o in alike]
    ranked = sorted(kept, key=lambda item: (-round(item[1], 9), -item[0]))
    return [publication_id for publication_id, _ in ranked[:RELATED_COUNT]]


def related_ids(session: Session, language: str, summary: Summary, exclude: Iterable[int] = ()) -> list[int]:
    """Related published articles for the article page (see `rank_related`)."""
    terms = title_terms(summary.title)
    if not terms:
        return []
    total = count_published(session, language)
    postings = {stem: search.title_postings(session, word, term_cap(total) + 1) for stem, word in terms.items()}
    return rank_related(
        summary.publication_id, postings, total, lambda ids: german_texts(session, ids), exclude=exclude
    )


def related(session: Session, language: str, summary: Summary, exclude: Iterable[int] = ()) -> list[Summary]:
    ids = related_ids(session, language, summary, exclude)
    found = summaries_by_id(session, ids)
    return [found[i] for i in ids if i in found]


def article_view(
    session: Session, settings: Settings, publication_id: int, with_links: bool = True
) -> ArticleView | None:
    """The article page's content for a published publication (None when not published).

    The one "what may be shown" view of an article: its text is cut to the article's reuse mode
    here, and the page, the feeds and the static build all render this view."""
    language = settings.target_language
    row = session.execute(
        select(Publication, Translation, Article, Source.name)
        .join(Translation, Translation.id == Publication.translation_id)
        .join(Article, Article.id == Translation.article_id)
        .outerjoin(Source, Source.id == Article.source_id)
        .where(Publication.id == publication_id, _published(language))
    ).first()
    if row is None:
        return None
    publication, translation, article, source_name = row
    reuse = article_reuse(settings, article)
    paragraphs = shown_paragraphs(safe_paragraphs(translation.paragraphs), reuse, translation.report)
    english = safe_paragraphs(article.paragraphs)
    assert publication.published_at is not None
    summary = Summary(
        publication_id=publication.id,
        article_id=article.id,
        slug=publication.slug,
        title=plain_text(translation.title) or plain_text(article.title) or "Ohne Titel",
        teaser=teaser(paragraphs),
        published_at=publication.published_at,
        updated_at=publication.updated_at,
        outlet=plain_text(article.outlet) or None,
        source_id=article.source_id,
        source_name=plain_text(source_name) or None,
        original_published_at=article.published_at,
        original_date_only=article.published_date_only,
        genre=article.genre,
    )
    view = ArticleView(
        summary=summary,
        paragraphs=paragraphs,
        original_title=plain_text(article.title) or "Originalartikel",
        original_url=http_url(article.canonical_url) or http_url(article.url) or "",
        original_teaser=teaser(reusable_paragraphs(english, reuse)) or plain_text(article.description),
        original_published_at=article.published_at,
        authors=[name for name in (plain_text(str(a)) for a in (article.authors or []) if a) if name],
        image_url=http_url(article.image_url),
        engine=translation.engine,
        model=translation.model,
        reviewed=translation.reviewed,
        notice=translation_notice(translation.engine, translation.model, translation.reviewed),
        first_published_at=publication.first_published_at,
        translated_at=translation.translated_at,
        disclosure=translation_disclosure(
            translation.engine, translation.model, translation.reviewed, article.language or "en"
        ),
        text_updated_at=publication.text_updated_at,
        reuse=reuse,
        licence=licence(article.licence),
        edited=_edited(session, translation.id),
        corrections=correction_notes(session, publication.id),
    )
    # Paragraph by paragraph beside its original: only a full translation aligns with it.
    if bilingual_allowed(settings, article.source, reuse) and len(english) == len(paragraphs):
        view.originals = english
    if with_links:
        view.previous, view.next = neighbours(session, language, summary)
        # The previous and next articles are linked right above: not again as "related".
        linked = [s.publication_id for s in (view.previous, view.next) if s is not None]
        view.related = related(session, language, summary, exclude=linked)
        if article.source_id is not None:
            shown = {summary.publication_id} | {s.publication_id for s in view.related}
            candidates = latest(session, language, RELATED_COUNT + len(shown), source_id=article.source_id)
            view.same_source = [s for s in candidates if s.publication_id not in shown][:RELATED_COUNT]
    return view


def _edited(session: Session, translation_id: int) -> bool:
    """An editor saved a change of the machine's text (revisions by people, not `engine:`)."""
    return (
        session.scalar(
            select(func.count(TranslationRevision.id)).where(
                TranslationRevision.translation_id == translation_id, ~TranslationRevision.author.startswith("engine:")
            )
        )
        or 0
    ) > 0


def correction_notes(session: Session, publication_id: int) -> list[tuple[int, datetime, str]]:
    rows = session.execute(
        select(CorrectionNote.id, CorrectionNote.created_at, CorrectionNote.text)
        .where(CorrectionNote.publication_id == publication_id)
        .order_by(CorrectionNote.created_at, CorrectionNote.id)
    )
    return [(int(row[0]), row[1], plain_text(row[2])) for row in rows]


def all_slugs(session: Session, language: str) -> list[tuple[str, datetime]]:
    """(slug, updated_at) of every published article, newest first (for sitemaps)."""
    rows = session.execute(
        select(Publication.slug, Publication.updated_at).where(_published(language)).order_by(*_NEWEST_PUBLISHED_FIRST)
    )
    return [(str(r[0]), r[1]) for r in rows]


def published_since(session: Session, language: str, since: datetime, limit: int) -> list[tuple[str, str, datetime]]:
    """(slug, title, published_at) of the newest articles published since `since` (news sitemap)."""
    rows = session.execute(
        select(Publication.slug, Translation.title, Publication.published_at)
        .join(Translation, Translation.id == Publication.translation_id)
        .where(_published(language), Publication.published_at >= since)
        .order_by(*_NEWEST_PUBLISHED_FIRST)
        .limit(limit)
    )
    return [(str(r[0]), plain_text(r[1]) or "Ohne Titel", r[2]) for r in rows if r[2] is not None]


def site_version(session: Session, language: str) -> tuple[int, str, str]:
    """Changes whenever any publication or a source's name changes -- the page cache key:
    (count, newest updated_at, digest of the sources' names, which pages and feeds show)."""
    row = session.execute(
        select(func.count(Publication.id), func.max(Publication.updated_at)).where(Publication.language == language)
    ).one()
    names = hashlib.blake2b(digest_size=8)
    # A source's rights settings change what its pages and feeds show, too.
    rights = (Source.reuse, Source.excerpt_words, Source.reuse_permission, Source.bilingual)
    for source_id, name, *settings in session.execute(select(Source.id, Source.name, *rights).order_by(Source.id)):
        names.update(f"{source_id}\0{name}\0{settings}\0".encode())
    return int(row[0]), str(row[1]), names.hexdigest()
