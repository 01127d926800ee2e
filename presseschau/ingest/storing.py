"""Idempotent storage of extracted articles: revisions, aliases, failure placeholders.

Each article is stored -- and, if in its source's language, queued for translation -- in one
transaction (`store_article`), so a crash loses at most the item in flight, which the next run
finds again. A failed item is noted on a placeholder row (`record_item_failure`) that a later
success fills.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import content_hash, paragraphs_to_json, strip_xml_forbidden
from presseschau.ingest.errors import (
    BlockedAddress,
    ExtractionError,
    HTTPStatusError,
    IngestError,
    InvalidURL,
    NoArticleFound,
    RobotsDisallowed,
)
from presseschau.ingest.extract import ExtractedArticle
from presseschau.ingest.sources import filter_verdict, mark_filtered, source_filters
from presseschau.ingest.urls import normalize_url
from presseschau.store.db import Database
from presseschau.store.models import (
    CONTENT_STATUSES,
    ORIGINAL_ENGINE,
    PLACEHOLDER_STATUSES,
    Article,
    ArticleAlias,
    ArticleRevision,
    FetchStatus,
    Source,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.store.queue import TranslationDone, enqueue_translation

log = logging.getLogger(__name__)

StoreOutcome = Literal["new", "updated", "unchanged", "duplicate", "not_english", "filtered"]


@dataclass
class StoreCounts:
    """How many stored articles ended in each `StoreOutcome`: what a fetch and an import report."""

    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_duplicate: int = 0
    not_english: int = 0
    filtered: int = 0  # held back by their source's filters

    def count_outcome(self, outcome: StoreOutcome) -> None:
        name = _COUNTER_OF[outcome]
        setattr(self, name, getattr(self, name) + 1)


_COUNTER_OF: dict[StoreOutcome, str] = {
    "new": "articles_new",
    "updated": "articles_updated",
    "unchanged": "articles_unchanged",
    "duplicate": "articles_duplicate",
    "not_english": "not_english",
    "filtered": "filtered",
}
# A failed item is retried on later polls until it has failed this often.
MAX_ITEM_ATTEMPTS = 5


def find_by_url(session: Session, url: str) -> Article | None:
    normalized = normalize_url(url) if url.lower().startswith(("http://", "https://")) else url
    candidates = session.scalars(
        select(Article)
        .where(or_(Article.url.in_({url, normalized}), Article.canonical_url.in_({url, normalized})))
        .order_by(Article.id)
    ).all()
    # Prefer the row that holds content over a failure placeholder.
    found = next((a for a in candidates if a.fetch_status in CONTENT_STATUSES), candidates[0] if candidates else None)
    if found is None or found.fetch_status not in CONTENT_STATUSES:
        alias = session.scalars(
            select(Article)
            .join(ArticleAlias, ArticleAlias.article_id == Article.id)
            .where(ArticleAlias.url == normalized)
        ).first()
        found = alias or found
    return found


def _remember_alias(session: Session, article: Article, url: str) -> None:
    """Record `url` as another address of `article` unless it is already one of its own."""
    normalized = normalize_url_safe(url)
    if normalized in {article.canonical_url, normalize_url_safe(article.url)} or len(normalized) > 2048:
        return
    if session.scalar(select(ArticleAlias.id).where(ArticleAlias.url == normalized)) is None:
        session.add(ArticleAlias(url=normalized, article_id=article.id))


def store_article(
    database: Database,
    settings: Settings,
    extracted: ExtractedArticle,
    source_id: int | None,
    on_done: TranslationDone | None,
) -> tuple[StoreOutcome, int | None]:
    """`store_extracted` in its own transaction; one retry if a concurrent writer won a unique race."""
    for attempt in (1, 2):
        try:
            with database.session() as session:
                source = session.get(Source, source_id) if source_id is not None else None
                outcome = store_extracted(session, settings, extracted, source, on_done)
                article = session.scalars(
                    select(Article).where(Article.canonical_url == extracted.canonical_url)
                ).one_or_none()
                return outcome, article.id if article is not None else None
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("concurrent insert of %s; retrying as an update", extracted.canonical_url)
    raise AssertionError("unreachable")


def store_extracted(
    session: Session,
    settings: Settings,
    extracted: ExtractedArticle,
    source: Source | None,
    on_done: TranslationDone | None = None,
) -> StoreOutcome:
    """Store `extracted` idempotently; queue new or changed English articles for translation.

    Same canonical URL and content -> "unchanged"; same canonical URL, new content -> a new
    revision ("updated"); same content under another URL -> "duplicate" (not stored again);
    body not in the source's language -> kept with `fetch_status="not_english"`, never queued.
    The caller commits: article, revision and queue entry land in one transaction.
    """
    now = utcnow()
    _strip_forbidden_characters(extracted)
    digest = content_hash(extracted.title, extracted.paragraphs)
    language = _language_verdict(settings, extracted, source)
    article, placeholders = _stored_rows(session, extracted)
    if article is not None:
        _drop_placeholders(session, placeholders)
        _remember_alias(session, article, extracted.url)
        article.fetched_at = now
        _apply_licence(article, extracted)
        if article.content_hash == digest:
            return "unchanged"
        return _store_revision(session, settings, article, extracted, digest, language, source, on_done, now)

    duplicate = session.scalars(
        select(Article).where(Article.content_hash == digest, Article.fetch_status.in_(CONTENT_STATUSES)).limit(1)
    ).first()
    if duplicate is not None:
        _drop_placeholders(session, placeholders)
        _remember_alias(session, duplicate, extracted.url)
        return "duplicate"
    return _store_new(session, settings, placeholders, extracted, digest, language, source, on_done, now)


@dataclass(frozen=True)
class _Language:
    """What an extracted article's language means for it."""

    # In the source's language, or already in the target language and published as is.
    accepted: bool
    # Already in the target language, and the source says "publish as is": content, not translated.
    as_original: bool


def _language_verdict(settings: Settings, extracted: ExtractedArticle, source: Source | None) -> _Language:
    expected_language = (source.language if source is not None else None) or settings.source_language
    is_expected_language = extracted.language == expected_language
    as_original = (
        not is_expected_language
        and extracted.language == settings.target_language
        and source_filters(source or None).target_language == "publish"
    )
    return _Language(accepted=is_expected_language or as_original, as_original=as_original)


def _stored_rows(session: Session, extracted: ExtractedArticle) -> tuple[Article | None, list[Article]]:
    """The stored article with this canonical URL (None when that row holds no content), and the
    failure placeholders of this article that stored content replaces."""
    article = session.scalars(select(Article).where(Article.canonical_url == extracted.canonical_url)).one_or_none()
    placeholders = [
        row
        for row in session.scalars(
            select(Article).where(
                or_(Article.url == extracted.url, Article.canonical_url == normalize_url_safe(extracted.url)),
                Article.fetch_status.in_(PLACEHOLDER_STATUSES),
            )
        )
        if article is None or row.id != article.id
    ]
    if article is not None and article.fetch_status not in CONTENT_STATUSES:
        placeholders.insert(0, article)
        article = None
    return article, placeholders


def _store_revision(
    session: Session,
    settings: Settings,
    article: Article,
    extracted: ExtractedArticle,
    digest: str,
    language: _Language,
    source: Source | None,
    on_done: TranslationDone | None,
    now: datetime,
) -> StoreOutcome:
    """A stored article's content changed: a new revision, translated again (or held, or published as is)."""
    was_filtered = article.fetch_status == FetchStatus.FILTERED
    was_rejected = article.fetch_status == FetchStatus.REJECTED
    _apply(article, extracted, digest, language.accepted, now)
    article.revision += 1
    session.add(_revision_of(article))
    session.flush()
    if not language.accepted:
        return "not_english"
    if was_rejected:
        # An editor rejected it: a new revision is stored, and stays rejected.
        article.fetch_status = FetchStatus.REJECTED
        return "filtered"
    if language.as_original:
        publish_original(session, settings, article, on_done)
        return "updated"
    if was_filtered:
        # Still held unless the new revision passes; an admitted article stays admitted.
        verdict = filter_verdict(source or article.source, article)
        if verdict is not None:
            mark_filtered(article, verdict)
            return "filtered"
        article.filter_reason = article.filter_note = None
    enqueue_translation(session, article, settings.target_language)
    return "updated"


def _store_new(
    session: Session,
    settings: Settings,
    placeholders: list[Article],
    extracted: ExtractedArticle,
    digest: str,
    language: _Language,
    source: Source | None,
    on_done: TranslationDone | None,
    now: datetime,
) -> StoreOutcome:
    """A new article (in the row of an earlier failure, if any): stored, then queued, held or published as is."""
    if placeholders:
        article = placeholders.pop(0)  # a later success fills the row of an earlier failure
        _drop_placeholders(session, placeholders)
        article.canonical_url = extracted.canonical_url
        article.url = extracted.url
    else:
        article = Article(url=extracted.url, canonical_url=extracted.canonical_url, discovered_at=now)
        session.add(article)
    if source is not None:
        article.source_id = source.id
    article.fetch_attempts = (article.fetch_attempts or 0) + 1
    article.fetched_at = now
    _apply(article, extracted, digest, language.accepted, now)
    article.revision = 1
    session.flush()
    session.add(_revision_of(article))
    session.flush()
    if not language.accepted:
        return "not_english"
    if language.as_original:
        publish_original(session, settings, article, on_done)
        return "new"
    verdict = filter_verdict(source, article)
    if verdict is not None:
        mark_filtered(article, verdict)
        return "filtered"
    enqueue_translation(session, article, settings.target_language)
    return "new"


def publish_original(session: Session, settings: Settings, article: Article, on_done: TranslationDone | None) -> None:
    """An article already in the target language, published as is: a `done` translation holding the
    original text (engine `original`, labelled so on the page), then `on_done` (the publish stage's
    `publisher`: published by the source's policy) in the same transaction."""
    translation = session.scalars(
        select(Translation).where(
            Translation.article_id == article.id, Translation.language == settings.target_language
        )
    ).one_or_none()
    if translation is None:
        translation = Translation(article_id=article.id, language=settings.target_language)
        session.add(translation)
    translation.source_revision = article.revision
    translation.engine, translation.model = ORIGINAL_ENGINE, None
    translation.title, translation.paragraphs = article.title, list(article.paragraphs)
    translation.report = {"original_language": article.language}
    translation.status, translation.error, translation.reviewed = TranslationStatus.DONE, None, False
    translation.translated_at = utcnow()
    session.flush()
    session.refresh(translation, ["article"])
    if on_done is not None:
        on_done(session, translation)


def _strip_forbidden_characters(extracted: ExtractedArticle) -> None:
    """Drop the characters XML 1.0 forbids from the metadata (paragraphs drop them themselves):
    stored, they would make every feed that carries the article unreadable."""

    def clean(value: str | None) -> str | None:
        return strip_xml_forbidden(value) if value is not None else None

    extracted.title = clean(extracted.title)
    extracted.authors = [strip_xml_forbidden(author) for author in extracted.authors]
    extracted.outlet = clean(extracted.outlet)
    extracted.description = clean(extracted.description)
    extracted.image_url = clean(extracted.image_url)


def normalize_url_safe(url: str) -> str:
    return normalize_url(url) if url.lower().startswith(("http://", "https://")) else url


def _apply(
    article: Article, extracted: ExtractedArticle, digest: str, is_expected_language: bool, now: datetime
) -> None:
    article.title = extracted.title
    article.authors = list(extracted.authors)
    article.outlet = extracted.outlet[:300] if extracted.outlet else None
    article.description = extracted.description
    article.image_url = extracted.image_url if len(extracted.image_url or "") <= 2048 else None
    if extracted.published_at is not None:
        article.published_at = extracted.published_at
        article.published_date_only = extracted.published_date_only
        article.published_at_source = extracted.published_at_source
    article.genre = extracted.genre
    _apply_licence(article, extracted)
    article.updated_at = extracted.updated_at or (now if article.content_hash else None)
    article.language = extracted.language
    article.paragraphs = paragraphs_to_json(extracted.paragraphs)
    article.content_hash = digest
    article.fetch_status = FetchStatus.OK if is_expected_language else FetchStatus.NOT_ENGLISH
    article.fetch_error = (
        None
        if is_expected_language
        else f"language detected as {extracted.language or 'unknown'} "
        f"(p={extracted.language_probability:.2f}), not the source's language"
    )


def _apply_licence(article: Article, extracted: ExtractedArticle) -> None:
    """The licence the page declares; a feed entry (which declares none) keeps what its page said."""
    detected = extracted.licence
    if detected.found is None and article.licence not in (None, detected.id):
        return
    article.licence = detected.id
    article.licence_found = detected.found
    article.licence_url = detected.url[:2048] if detected.url else None


def _revision_of(article: Article) -> ArticleRevision:
    return ArticleRevision(
        article_id=article.id,
        revision=article.revision,
        title=article.title,
        paragraphs=list(article.paragraphs),
        content_hash=article.content_hash or "",
    )


def _drop_placeholders(session: Session, rows: Iterable[Article]) -> None:
    # Failure placeholders hold no content, only the error of an attempt that has now succeeded.
    for row in rows:
        session.delete(row)
    session.flush()


def record_item_failure(database: Database, url: str, source_id: int | None, error: IngestError) -> None:
    """Note a failed item on its article row (created as a placeholder if new); content is never touched."""
    status = FetchStatus.NO_ARTICLE if isinstance(error, NoArticleFound) else FetchStatus.FAILED
    if isinstance(error, ExtractionError) and not isinstance(error, NoArticleFound):
        status = FetchStatus.FAILED
    with database.session() as session:
        article = find_by_url(session, url)
        if article is not None and article.fetch_status in CONTENT_STATUSES:
            log.info("refetch of stored article %s failed (%s); keeping the stored content", url, error.reason)
            return
        if article is None:
            article = Article(url=url, canonical_url=normalize_url_safe(url), source_id=source_id, fetch_attempts=0)
            session.add(article)
        article.fetch_status = status
        article.fetch_error = f"{error.kind}: {error.reason}"
        article.fetch_attempts = (article.fetch_attempts or 0) + 1
        if _is_permanent(error):
            # Retrying cannot help: the URL is refused here, or the server says it is gone.
            article.fetch_attempts = max(article.fetch_attempts, MAX_ITEM_ATTEMPTS)
        article.fetched_at = utcnow()


def _is_permanent(error: IngestError) -> bool:
    if isinstance(error, InvalidURL | BlockedAddress | RobotsDisallowed):
        return True
    return isinstance(error, HTTPStatusError) and error.status_code in (404, 410)
