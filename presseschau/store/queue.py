"""The translate stage's work queue, kept on the `translations` rows themselves.

States: queued -> in_progress (leased to one worker until `lease_expires_at`) -> done | failed.
A worker that dies leaves an expired lease behind; the next claim takes the item over, so a
crash loses nothing and, because results are written only by the lease holder, duplicates
nothing. Claims are conditional UPDATEs, which are atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from presseschau.store.models import Article, Translation, utcnow

QUEUED, IN_PROGRESS, DONE, FAILED = "queued", "in_progress", "done", "failed"


def enqueue_translation(session: Session, article: Article, language: str) -> Translation:
    """Queue `article` for translation into `language` unless its current revision is done.

    Idempotent: calling it twice for the same revision changes nothing.
    """
    translation = session.scalars(
        select(Translation).where(Translation.article_id == article.id, Translation.language == language)
    ).one_or_none()
    if translation is None:
        translation = Translation(article_id=article.id, language=language, source_revision=article.revision)
        session.add(translation)
        session.flush()
        return translation
    if translation.source_revision == article.revision and translation.status in (QUEUED, IN_PROGRESS, DONE):
        return translation
    translation.source_revision = article.revision
    translation.status = QUEUED
    translation.attempts = 0
    translation.next_attempt_at = None
    translation.error = None
    translation.lease_owner = None
    translation.lease_expires_at = None
    return translation


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            Translation.status == QUEUED,
            or_(Translation.next_attempt_at.is_(None), Translation.next_attempt_at <= now),
        ),
        and_(Translation.status == IN_PROGRESS, Translation.lease_expires_at < now),
    )


def claim_translations(
    session: Session,
    owner: str,
    lease_seconds: int,
    limit: int = 1,
    language: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Lease up to `limit` claimable translations to `owner`; returns their ids, oldest first.

    Commits the claim so other workers see it at once.
    """
    now = now or utcnow()
    query = select(Translation.id).where(_claimable(now)).order_by(Translation.id).limit(limit * 4)
    if language:
        query = query.where(Translation.language == language)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[int] = []
    for translation_id in session.scalars(query).all():
        if len(claimed) >= limit:
            break
        result = session.execute(
            update(Translation)
            .where(Translation.id == translation_id, _claimable(now))
            .values(
                status=IN_PROGRESS,
                lease_owner=owner,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Translation.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(translation_id)
    session.commit()
    return claimed


def holds_lease(session: Session, translation_id: int, owner: str) -> bool:
    row = session.execute(
        select(Translation.status, Translation.lease_owner).where(Translation.id == translation_id)
    ).one_or_none()
    return row is not None and row.status == IN_PROGRESS and row.lease_owner == owner


def renew_lease(session: Session, translation_id: int, owner: str, lease_seconds: int) -> bool:
    result = session.execute(
        update(Translation)
        .where(Translation.id == translation_id, Translation.lease_owner == owner, Translation.status == IN_PROGRESS)
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Backoff:
    base_s: float = 60.0
    max_s: float = 6 * 3600.0

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff with +-10 % jitter so failed items don't retry in lockstep."""
        seconds = min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))
        return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def finish_translation(session: Session, translation: Translation, owner: str | None) -> bool:
    """Mark done, but only if `owner` still holds the lease (None: caller runs without leases)."""
    if owner is not None and (translation.lease_owner != owner or translation.status != IN_PROGRESS):
        return False
    translation.status = DONE
    translation.error = None
    translation.lease_owner = None
    translation.lease_expires_at = None
    translation.next_attempt_at = None
    translation.translated_at = utcnow()
    return True


def fail_translation(
    session: Session,
    translation: Translation,
    owner: str | None,
    error: str,
    max_attempts: int,
    backoff: Backoff | None = None,
) -> None:
    """Record a failure: re-queued with backoff while attempts remain, else `failed` for good."""
    if owner is not None and translation.lease_owner != owner:
        return
    translation.error = error
    translation.lease_owner = None
    translation.lease_expires_at = None
    if translation.attempts >= max_attempts:
        translation.status = FAILED
        translation.next_attempt_at = None
    else:
        translation.status = QUEUED
        translation.next_attempt_at = utcnow() + (backoff or Backoff()).delay(translation.attempts)


def retry_failed(session: Session, language: str | None = None) -> int:
    """Put every `failed` translation back in the queue (after the cause was fixed)."""
    query = update(Translation).where(Translation.status == FAILED)
    if language:
        query = query.where(Translation.language == language)
    result = session.execute(
        query.values(status=QUEUED, attempts=0, next_attempt_at=None).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
