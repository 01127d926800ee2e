"""Cross-stage read queries in one place, so that every view counts alike.

`presseschau status`, `sources list`, `articles list|show|export`, the admin dashboard and source
list, `/healthz` and `/metrics` all read their numbers here: articles, translations and
publications by status, articles per source (stored articles only: a feed item that failed leaves a
placeholder row, which is no article), failures, throughput, pauses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from presseschau.config import Settings
from presseschau.content import paragraphs_from_json
from presseschau.store.db import Database
from presseschau.store.models import (
    CONTENT_STATUSES,
    Article,
    FetchStatus,
    Publication,
    ServiceState,
    Source,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.store.rights import reuse_setting_text
from presseschau.translate.pauses import load_pauses
from presseschau.translate.usage import monthly as monthly_usage

# Fetch statuses that mean "something went wrong here" (`articles list --failed`, status failures).
FAILED_FETCH_STATUSES = (FetchStatus.FAILED, FetchStatus.NO_ARTICLE)
# A stored article: content was extracted (not the placeholder row a failed feed item leaves).
STORED_ARTICLE = Article.fetch_status.in_(CONTENT_STATUSES)


# Counts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCounts:
    """Rows by status: articles by fetch status, translations and publications by status."""

    articles: dict[str, int]
    translations: dict[str, int]
    publications: dict[str, int]

    @property
    def articles_total(self) -> int:
        return sum(self.articles.values())


def _by_status(
    session: Session, column: InstrumentedAttribute[Any], where: ColumnElement[bool] | None = None
) -> dict[str, int]:
    query = select(column, func.count()).group_by(column)
    if where is not None:
        query = query.where(where)
    return {str(status): int(count) for status, count in session.execute(query).all()}


def status_counts(session: Session, language: str | None = None) -> StatusCounts:
    """Counts by status; `language`: only translations and publications into that language."""
    return StatusCounts(
        articles=_by_status(session, Article.fetch_status),
        translations=_by_status(
            session, Translation.status, Translation.language == language if language is not None else None
        ),
        publications=_by_status(
            session, Publication.status, Publication.language == language if language is not None else None
        ),
    )


def articles_per_source(session: Session) -> dict[int, int]:
    """Stored articles per source id; placeholders of failed feed items are not counted."""
    rows = session.execute(
        select(Article.source_id, func.count(Article.id))
        .where(Article.source_id.is_not(None), STORED_ARTICLE)
        .group_by(Article.source_id)
    ).all()
    return {int(source_id): int(count) for source_id, count in rows if source_id is not None}


# The columns a list of sources can be sorted by (the admin's table; `name` is the tie-breaker).
SOURCE_SORT_KEYS = ("name", "kind", "reuse", "last_polled", "status", "articles", "failures")


@dataclass(frozen=True)
class SourceRow:
    source: Source
    articles: int


def source_overview(
    session: Session,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[SourceRow], int]:
    """One page of sources with their stored articles, and how many sources match `search` (in
    the name or address, case-insensitive); sorted and paged in SQL, so it costs one page."""
    counts = (
        select(Article.source_id.label("source_id"), func.count(Article.id).label("articles"))
        .where(Article.source_id.is_not(None), STORED_ARTICLE)
        .group_by(Article.source_id)
        .subquery()
    )
    articles = func.coalesce(counts.c.articles, 0)
    matching: list[ColumnElement[bool]] = []
    if search.strip():
        # LIKE's wildcards in what was typed are literal characters.
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching.append(
            or_(func.lower(Source.name).like(pattern, escape="\\"), func.lower(Source.url).like(pattern, escape="\\"))
        )
    columns: dict[str, Any] = {
        "name": func.lower(Source.name),
        "kind": Source.kind,
        "reuse": Source.reuse,
        "last_polled": Source.last_polled_at,
        "status": Source.last_status,
        "articles": articles,
        "failures": Source.consecutive_failures,
    }
    column = columns.get(sort, columns["name"])
    # Never-polled sources and unset values last in both directions (as SQLite and PostgreSQL agree).
    order = [column.is_(None), column.desc() if descending else column.asc(), func.lower(Source.name), Source.id]
    total = int(session.scalar(select(func.count(Source.id)).where(*matching)) or 0)
    rows = session.execute(
        select(Source, articles)
        .outerjoin(counts, counts.c.source_id == Source.id)
        .where(*matching)
        .order_by(*order)
        .offset(offset)
        .limit(limit)
    ).all()
    return [SourceRow(source, int(count)) for source, count in rows], total


def articles_of_source(session: Session, source_id: int) -> int:
    """Stored articles of one source, counted as `articles_per_source` counts them."""
    count = session.scalar(select(func.count(Article.id)).where(Article.source_id == source_id, STORED_ARTICLE))
    return int(count or 0)


# Articles ----------------------------------------------------------------------------------------


def translation_of(session: Session, article_id: int, language: str) -> Translation | None:
    return session.scalars(
        select(Translation).where(Translation.article_id == article_id, Translation.language == language)
    ).one_or_none()


def publication_of(session: Session, translation: Translation | None) -> Publication | None:
    if translation is None:
        return None
    return session.scalars(select(Publication).where(Publication.translation_id == translation.id)).one_or_none()


@dataclass(frozen=True)
class ArticleRow:
    """One line of `articles list`: an article with its translation and publication (if any)."""

    article: Article
    translation: Translation | None
    publication: Publication | None

    @property
    def statuses(self) -> list[str]:
        status = [self.article.fetch_status]
        if self.translation is not None:
            status.append(f"translation {self.translation.status}")
        if self.publication is not None:
            status.append(f"publication {self.publication.status}")
        return status

    @property
    def reason(self) -> str:
        """Why it failed or was held back; empty when nothing went wrong."""
        article = self.article
        return (
            article.fetch_error
            or (self.translation.error if self.translation is not None else None)
            or (article.filter_reason if article.fetch_status == FetchStatus.FILTERED else None)
            or ""
        )


def article_rows(
    session: Session, language: str, *, failed: bool = False, filtered: bool = False, limit: int = 50
) -> list[ArticleRow]:
    """The newest articles (at most `limit`), optionally only failed or only filtered ones."""
    query = select(Article).order_by(Article.id.desc()).limit(limit)
    if failed:
        failed_translations = select(Translation.article_id).where(Translation.status == TranslationStatus.FAILED)
        query = query.where(
            or_(
                Article.fetch_status.in_((*FAILED_FETCH_STATUSES, FetchStatus.NOT_ENGLISH)),
                Article.id.in_(failed_translations),
            )
        )
    if filtered:
        query = query.where(Article.fetch_status == FetchStatus.FILTERED)
    rows = []
    for article in session.scalars(query):
        translation = translation_of(session, article.id, language)
        rows.append(ArticleRow(article, translation, publication_of(session, translation)))
    return rows


def export_records(session: Session, language: str) -> Iterator[dict[str, Any]]:
    """Every stored article (no placeholders) as a JSON-ready record, oldest first."""
    query = select(Article).where(STORED_ARTICLE).order_by(Article.id)
    for article in session.scalars(query):
        yield export_record(session, article, language)


def export_record(session: Session, article: Article, language: str) -> dict[str, Any]:
    paragraphs = paragraphs_from_json(article.paragraphs)
    record: dict[str, Any] = {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "outlet": article.outlet,
        "title": article.title,
        "authors": list(article.authors),
        "published_at": published_iso(article),
        "published_date_only": article.published_date_only,
        "published_at_source": article.published_at_source,
        "language": article.language,
        "revision": article.revision,
        "fetch_status": article.fetch_status,
        "paragraphs": [p.text for p in paragraphs],
        "paragraphs_html": [p.to_json() for p in paragraphs],
    }
    translation = translation_of(session, article.id, language)
    if translation is not None and translation.paragraphs:
        record["translation"] = {
            "language": translation.language,
            "engine": translation.engine,
            "model": translation.model,
            "title": translation.title,
            "paragraphs": [p.text for p in paragraphs_from_json(translation.paragraphs)],
            "status": translation.status,
        }
    publication = publication_of(session, translation)
    if publication is not None:
        record["slug"] = publication.slug
        record["status"] = publication.status
    return record


def published_iso(article: Article) -> str | None:
    """The original's date in ISO form: `2026-11-05` when the source gave only the day."""
    if article.published_at is None:
        return None
    return article.published_at.date().isoformat() if article.published_date_only else article.published_at.isoformat()


def published_text(article: Article) -> str:
    """`2026-11-05 (date only, from url)`: the date and where it was read."""
    value = published_iso(article)
    if value is None:
        return "–"
    precision = "date only, " if article.published_date_only else ""
    return f"{value} ({precision}from {article.published_at_source or 'unknown source'})"


# The whole status (`presseschau status`) ---------------------------------------------------------


@dataclass
class SourceStatus:
    id: int
    name: str
    url: str
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    articles: int
    # Its reuse mode in words (presseschau.store.rights.reuse_setting_text).
    reuse: str = "full"


@dataclass
class StatusReport:
    articles_by_fetch_status: dict[str, int]
    translations_by_status: dict[str, int]
    publications_by_status: dict[str, int]
    sources: list[SourceStatus]
    failures: list[dict[str, Any]]
    engine: str
    model: str | None
    last_engine_used: str | None
    last_model_used: str | None
    translated_last_hour: int
    translated_last_day: int
    mean_engine_seconds: float | None
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    # This month's billable engine usage per engine (characters, tokens, cost); the monthly rows
    # also appear among `services` as "usage <engine> <YYYY-MM>".
    usage_this_month: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Why the translation queue waits: active pauses of an engine (until a time) or the glossary
    # (until fixed), each {"subject", "reason", "since", "until", "count"}.
    paused: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def convert(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, list):
                return [convert(v) for v in value]
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if hasattr(value, "__dataclass_fields__"):
                return {k: convert(getattr(value, k)) for k in value.__dataclass_fields__}
            return value

        result: dict[str, Any] = convert(self)
        return result


def source_statuses(session: Session, settings: Settings) -> list[SourceStatus]:
    counts = articles_per_source(session)
    return [
        SourceStatus(
            id=s.id,
            name=s.name,
            url=s.url,
            last_polled_at=s.last_polled_at,
            next_poll_at=s.next_poll_at,
            last_status=s.last_status,
            last_error=s.last_error,
            consecutive_failures=s.consecutive_failures,
            articles=counts.get(s.id, 0),
            reuse=reuse_setting_text(settings, s),
        )
        for s in session.scalars(select(Source).order_by(Source.id))
    ]


def recent_failures(session: Session, settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The newest fetch failures, then the newest translation errors (at most `limit` each)."""
    failures: list[dict[str, Any]] = [
        {
            "stage": "fetch",
            "article": article.id,
            "url": article.url,
            "status": article.fetch_status,
            "reason": article.fetch_error,
        }
        for article in session.scalars(
            select(Article)
            .where(Article.fetch_status.in_(FAILED_FETCH_STATUSES))
            .order_by(Article.id.desc())
            .limit(limit)
        )
    ]
    failures.extend(
        {
            "stage": "translate",
            "article": translation.article_id,
            "status": translation.status,
            "attempts": translation.attempts,
            "max_attempts": settings.translation_max_attempts,
            "next_attempt_at": translation.next_attempt_at,
            "reason": translation.error,
        }
        for translation in session.scalars(
            select(Translation)
            .where(Translation.error.is_not(None))
            .order_by(Translation.updated_at.desc())
            .limit(limit)
        )
    )
    return failures


def translated_since(session: Session, since: datetime) -> int:
    query = select(func.count()).where(Translation.status == TranslationStatus.DONE, Translation.translated_at >= since)
    return int(session.scalar(query) or 0)


def collect_status(database: Database, settings: Settings, failure_limit: int = 20) -> StatusReport:
    now = utcnow()
    with database.session() as session:
        counts = status_counts(session)
        last = session.execute(
            select(Translation.engine, Translation.model)
            .where(Translation.status == TranslationStatus.DONE)
            .order_by(Translation.translated_at.desc())
            .limit(1)
        ).one_or_none()
        mean_seconds = session.scalar(
            select(func.avg(Translation.engine_seconds)).where(Translation.status == TranslationStatus.DONE)
        )
        return StatusReport(
            articles_by_fetch_status=counts.articles,
            translations_by_status=counts.translations,
            publications_by_status=counts.publications,
            sources=source_statuses(session, settings),
            failures=recent_failures(session, settings, failure_limit),
            engine=settings.engine,
            model=settings.model,
            last_engine_used=last.engine if last else None,
            last_model_used=last.model if last else None,
            translated_last_hour=translated_since(session, now - timedelta(hours=1)),
            translated_last_day=translated_since(session, now - timedelta(days=1)),
            mean_engine_seconds=float(mean_seconds) if mean_seconds is not None else None,
            services={row.key: dict(row.value) for row in session.scalars(select(ServiceState))},
            usage_this_month=monthly_usage(session),
            paused=[pause.to_json() for pause in load_pauses(session).values() if pause.active(now)],
        )


# Paged lists (the JSON API) -------------------------------------------------------------------------


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def paginate(session: Session, query: Select[Any], page: int, per_page: int, order: Any) -> tuple[list[Any], int]:
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(session.scalars(query.order_by(order).offset((page - 1) * per_page).limit(per_page)))
    return rows, total


def dated(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(column >= _utc(since))
    if until is not None:
        conditions.append(column < _utc(until))
    return conditions


@dataclass(frozen=True, slots=True)
class ListFilter:
    """What a paged list is narrowed to: a source, a status, a time window (`since` inclusive,
    `until` exclusive; naive times are UTC), and the page."""

    source_id: int | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1
    per_page: int = 20


def article_page(session: Session, wanted: ListFilter) -> tuple[list[Article], int]:
    """One page of articles, newest first, by publication (or discovery) time; and the total."""
    when = func.coalesce(Article.published_at, Article.discovered_at)
    query = select(Article).where(*dated(when, wanted.since, wanted.until))
    if wanted.source_id is not None:
        query = query.where(Article.source_id == wanted.source_id)
    if wanted.status is not None:
        query = query.where(Article.fetch_status == wanted.status)
    return paginate(session, query, wanted.page, wanted.per_page, Article.id.desc())


def translation_page(session: Session, language: str, wanted: ListFilter) -> tuple[list[Translation], int]:
    """One page of `language`'s translations, newest first, by change time; and the total."""
    query = select(Translation).where(
        Translation.language == language, *dated(Translation.updated_at, wanted.since, wanted.until)
    )
    if wanted.source_id is not None:
        query = query.join(Article, Article.id == Translation.article_id).where(Article.source_id == wanted.source_id)
    if wanted.status is not None:
        query = query.where(Translation.status == wanted.status)
    return paginate(session, query, wanted.page, wanted.per_page, Translation.id.desc())


def publication_page(session: Session, language: str, wanted: ListFilter) -> tuple[list[Publication], int]:
    """One page of `language`'s publications, newest first, by publication time; and the total."""
    query = select(Publication).where(
        Publication.language == language, *dated(Publication.published_at, wanted.since, wanted.until)
    )
    if wanted.source_id is not None:
        query = (
            query.join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .where(Article.source_id == wanted.source_id)
        )
    if wanted.status is not None:
        query = query.where(Publication.status == wanted.status)
    return paginate(session, query, wanted.page, wanted.per_page, Publication.id.desc())


def source_page(
    session: Session, tag: str | None, enabled: bool | None, page: int, per_page: int
) -> tuple[list[Source], int]:
    """One page of sources in id order, optionally only those with `tag` or that are (not) enabled."""
    query = select(Source)
    if enabled is not None:
        query = query.where(Source.enabled.is_(enabled))
    if tag is None:
        return paginate(session, query, page, per_page, Source.id)
    # tags are a JSON list: filtered here, the same on every database
    matching = [s for s in session.scalars(query.order_by(Source.id)) if tag in (s.tags or ())]
    return matching[(page - 1) * per_page : page * per_page], len(matching)
