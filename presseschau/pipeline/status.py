"""What `presseschau status` shows: queues, sources, failures, engine, throughput, workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.store.models import (
    Article,
    FetchStatus,
    Publication,
    ServiceState,
    Source,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.translate.pauses import load_pauses
from presseschau.translate.usage import monthly as monthly_usage


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


def _counts(session: Any, column: Any) -> dict[str, int]:
    return {str(key): int(n) for key, n in session.execute(select(column, func.count()).group_by(column)).all()}


def collect_status(context: AppContext, failure_limit: int = 20) -> StatusReport:
    settings = context.settings
    now = utcnow()
    with context.database.session() as session:
        article_counts = {
            source_id: int(count)
            for source_id, count in session.execute(select(Article.source_id, func.count()).group_by(Article.source_id))
        }
        sources = [
            SourceStatus(
                id=s.id,
                name=s.name,
                url=s.url,
                last_polled_at=s.last_polled_at,
                next_poll_at=s.next_poll_at,
                last_status=s.last_status,
                last_error=s.last_error,
                consecutive_failures=s.consecutive_failures,
                articles=int(article_counts.get(s.id, 0)),
            )
            for s in session.scalars(select(Source).order_by(Source.id))
        ]
        failures: list[dict[str, Any]] = []
        for article in session.scalars(
            select(Article)
            .where(Article.fetch_status.in_([FetchStatus.FAILED, FetchStatus.NO_ARTICLE]))
            .order_by(Article.id.desc())
            .limit(failure_limit)
        ):
            failures.append(
                {
                    "stage": "fetch",
                    "article": article.id,
                    "url": article.url,
                    "status": article.fetch_status,
                    "reason": article.fetch_error,
                }
            )
        for translation in session.scalars(
            select(Translation)
            .where(Translation.error.is_not(None))
            .order_by(Translation.updated_at.desc())
            .limit(failure_limit)
        ):
            failures.append(
                {
                    "stage": "translate",
                    "article": translation.article_id,
                    "status": translation.status,
                    "attempts": translation.attempts,
                    "max_attempts": settings.translation_max_attempts,
                    "next_attempt_at": translation.next_attempt_at,
                    "reason": translation.error,
                }
            )
        last = session.execute(
            select(Translation.engine, Translation.model)
            .where(Translation.status == TranslationStatus.DONE)
            .order_by(Translation.translated_at.desc())
            .limit(1)
        ).one_or_none()

        def done_since(delta: timedelta) -> int:
            return int(
                session.scalar(
                    select(func.count()).where(
                        Translation.status == TranslationStatus.DONE, Translation.translated_at >= now - delta
                    )
                )
                or 0
            )

        mean_seconds = session.scalar(
            select(func.avg(Translation.engine_seconds)).where(Translation.status == TranslationStatus.DONE)
        )
        services = {row.key: dict(row.value) for row in session.scalars(select(ServiceState))}
        paused = [pause.to_json() for pause in load_pauses(session).values() if pause.active(now)]
        return StatusReport(
            articles_by_fetch_status=_counts(session, Article.fetch_status),
            translations_by_status=_counts(session, Translation.status),
            publications_by_status=_counts(session, Publication.status),
            sources=sources,
            failures=failures,
            engine=settings.engine,
            model=settings.model,
            last_engine_used=last.engine if last else None,
            last_model_used=last.model if last else None,
            translated_last_hour=done_since(timedelta(hours=1)),
            translated_last_day=done_since(timedelta(days=1)),
            mean_engine_seconds=float(mean_seconds) if mean_seconds is not None else None,
            services=services,
            usage_this_month=monthly_usage(session),
            paused=paused,
        )
