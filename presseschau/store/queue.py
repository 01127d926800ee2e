"""The translate stage's work queue, kept on the `translations` rows themselves.

States: queued -> in_progress (leased to one worker until `lease_expires_at`) -> done | failed.
A worker renews its lease while it works (`LeaseKeeper`); a worker that dies leaves an expired
lease behind, which the next claim re-queues (or fails, once the attempts are used up), so a crash
loses nothing. Because every result is written by a conditional UPDATE that only the lease holder
can make, a crash duplicates nothing either. Claims are conditional UPDATEs too, which are atomic
on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.orm import Session

from presseschau.backoff import Backoff
from presseschau.store.models import Article, Translation, TranslationStatus, utcnow

log = logging.getLogger("presseschau.queue")

# Key in `Translation.report`: how often a worker died holding this item (for the final reason).
WORKER_DEATHS = "worker_deaths"

# Called in the transaction that marks a translation done (the publish stage's `publisher`, which
# publishes it or holds it by its source's policy); the stages below publish take it as a value.
TranslationDone = Callable[[Session, Translation], object]


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
    if translation.source_revision == article.revision and translation.status in (
        TranslationStatus.QUEUED,
        TranslationStatus.IN_PROGRESS,
        TranslationStatus.DONE,
    ):
        return translation
    translation.source_revision = article.revision
    translation.status = TranslationStatus.QUEUED
    translation.attempts = 0
    translation.next_attempt_at = None
    translation.error = None
    translation.lease_owner = None
    translation.lease_expires_at = None
    if WORKER_DEATHS in (translation.report or {}):  # counted per revision, like the attempts
        translation.report = {k: v for k, v in translation.report.items() if k != WORKER_DEATHS}
    return translation


def _claimable(now: datetime) -> ColumnElement[bool]:
    # Expired leases are not claimable directly: `reap_expired_leases` re-queues or fails them first,
    # so an item that keeps killing its worker cannot be claimed forever.
    return and_(
        Translation.status == TranslationStatus.QUEUED,
        or_(Translation.next_attempt_at.is_(None), Translation.next_attempt_at <= now),
    )


def death_reason(deaths: int, attempts: int, max_attempts: int | None) -> str:
    times = "once" if deaths == 1 else f"{deaths} times"
    if max_attempts is not None and attempts >= max_attempts:
        return f"the worker died {times} while translating this article; gave up after {attempts} attempts"
    return f"the worker died {times} while translating this article; re-queued"


def abandon_leases(
    session: Session,
    rows: Iterable[tuple[int, str | None]],
    max_attempts: int | None,
    now: datetime | None = None,
) -> int:
    """Take back items whose worker died: re-queued, or `failed` once `max_attempts` are used up.

    `rows` are (translation id, lease owner seen); an item is only taken back if that owner still
    holds it (and, with `now`, its lease expired before `now`), so two reapers never count one
    death twice. Returns how many items were taken back.
    """
    taken = 0
    for translation_id, seen_owner in rows:
        row = session.execute(
            select(Translation.attempts, Translation.report).where(Translation.id == translation_id)
        ).one_or_none()
        if row is None:
            continue
        report = dict(row.report or {})
        deaths = int(report.get(WORKER_DEATHS) or 0) + 1
        report[WORKER_DEATHS] = deaths
        given_up = max_attempts is not None and row.attempts >= max_attempts
        reason = death_reason(deaths, row.attempts, max_attempts)
        conditions = [Translation.id == translation_id, Translation.status == TranslationStatus.IN_PROGRESS]
        conditions.append(
            Translation.lease_owner.is_(None) if seen_owner is None else Translation.lease_owner == seen_owner
        )
        if now is not None:
            conditions.append(Translation.lease_expires_at < now)
        result = session.execute(
            update(Translation)
            .where(*conditions)
            .values(
                status=TranslationStatus.FAILED if given_up else TranslationStatus.QUEUED,
                lease_owner=None,
                lease_expires_at=None,
                next_attempt_at=None,
                error=reason,
                report=report,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken += 1
            log.warning("translation %s: %s", translation_id, reason)
    return taken


def reap_expired_leases(session: Session, max_attempts: int | None, now: datetime | None = None) -> int:
    """Re-queue (or fail, at `max_attempts`) every item whose lease expired: its worker is gone."""
    now = now or utcnow()
    rows = session.execute(
        select(Translation.id, Translation.lease_owner).where(
            Translation.status == TranslationStatus.IN_PROGRESS, Translation.lease_expires_at < now
        )
    ).all()
    return abandon_leases(session, [(r.id, r.lease_owner) for r in rows], max_attempts, now) if rows else 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or no pid at all: leave it to the lease time
    return True


def recover_orphaned_leases(session: Session, max_attempts: int | None = None) -> int:
    """Take back items leased by processes on this host that no longer exist.

    Lease owner ids start with "host:pid" (`translate` and `run` alike), so every entry point that
    claims work calls this first: a killed `translate` left 9 articles `in_progress` and the next
    `translate` reported "0 done" until their 600 s leases ran out. Leases held by other hosts are
    left to expire on their own (`reap_expired_leases`), since we cannot see their processes. An
    item is re-queued, or `failed` once it used up `max_attempts`: an article that crashes its
    worker every time must not be claimed forever.
    """
    rows = session.execute(
        select(Translation.id, Translation.lease_owner).where(Translation.status == TranslationStatus.IN_PROGRESS)
    ).all()
    host_name = socket.gethostname()
    orphaned: list[tuple[int, str | None]] = []
    for translation_id, owner in rows:
        host, _, rest = (owner or "").partition(":")
        pid_text = rest.split(":", 1)[0]
        if host == host_name and pid_text.isascii() and pid_text.isdigit() and not _pid_alive(int(pid_text)):
            orphaned.append((translation_id, owner))
    return abandon_leases(session, orphaned, max_attempts) if orphaned else 0


def claim_translations(
    session: Session,
    owner: str,
    lease_seconds: int,
    limit: int = 1,
    language: str | None = None,
    now: datetime | None = None,
    max_attempts: int | None = None,
) -> list[int]:
    """Lease up to `limit` claimable translations to `owner`; returns their ids, oldest first.

    Expired leases are taken back first (failed for good once `max_attempts` are used up; None:
    never). Commits the claim so other workers see it at once.
    """
    now = now or utcnow()
    reap_expired_leases(session, max_attempts, now)
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
                status=TranslationStatus.IN_PROGRESS,
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


def _held_by(translation_id: int, owner: str) -> tuple[ColumnElement[bool], ...]:
    return (
        Translation.id == translation_id,
        Translation.lease_owner == owner,
        Translation.status == TranslationStatus.IN_PROGRESS,
    )


def _update_if_held(
    session: Session, translation_id: int, owner: str, values: dict[str, Any], synchronize: str | bool = False
) -> bool:
    """UPDATE the item with `values` only while `owner` holds its lease; whether it did."""
    result = session.execute(
        update(Translation)
        .where(*_held_by(translation_id, owner))
        .values(**values)
        .execution_options(synchronize_session=synchronize)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def holds_lease(session: Session, translation_id: int, owner: str) -> bool:
    """A plain look (no lock): for reports and tests. Writers use `hold_lease` or the conditional writes."""
    row = session.execute(
        select(Translation.status, Translation.lease_owner).where(Translation.id == translation_id)
    ).one_or_none()
    return row is not None and row.status == TranslationStatus.IN_PROGRESS and row.lease_owner == owner


def hold_lease(session: Session, translation_id: int, owner: str) -> bool:
    """True if `owner` holds the lease, and keep it held until this transaction ends.

    A conditional UPDATE rather than a SELECT: it locks the row (PostgreSQL) or the database
    (SQLite), so no other worker can take the item over between this check and our commit.
    """
    return _update_if_held(session, translation_id, owner, {"lease_owner": owner})


def renew_lease(session: Session, translation_id: int, owner: str, lease_seconds: int) -> bool:
    expires = utcnow() + timedelta(seconds=lease_seconds)
    return _update_if_held(session, translation_id, owner, {"lease_expires_at": expires})


def renewal_interval(lease_seconds: float) -> float:
    """Renew three times per lease: two renewals may fail (a busy database) before it expires."""
    return max(0.2, lease_seconds / 3)


class LeaseKeeper(AbstractContextManager["LeaseKeeper"]):
    """Renews one lease every `lease_seconds / 3` from a background thread while the item is worked on.

    An article slower than its lease (an LLM on CPU, long Retry-After waits) is thus never taken
    over by another worker while its own worker lives. `lost` turns true when a renewal finds the
    lease gone; the result is then discarded by the conditional final write anyway.
    """

    def __init__(
        self,
        sessions: Callable[[], AbstractContextManager[Session]],
        translation_id: int,
        owner: str,
        lease_seconds: int,
    ) -> None:
        self.sessions = sessions
        self.translation_id = translation_id
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.renewals = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{translation_id}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(renewal_interval(self.lease_seconds)):
            try:
                with self.sessions() as session:
                    renewed = renew_lease(session, self.translation_id, self.owner, self.lease_seconds)
            except Exception:  # a database hiccup: the next renewal may succeed before the lease ends
                log.warning("could not renew the lease on translation %s", self.translation_id, exc_info=True)
                continue
            if not renewed:
                self.lost = True
                if not self._stop.is_set():  # else the item was just finished: nothing was lost
                    log.warning("translation %s: lease no longer held (expired, taken over)", self.translation_id)
                return
            self.renewals += 1

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()


def _write_state(session: Session, translation: Translation, owner: str | None, values: dict[str, Any]) -> bool:
    """Set `values` on `translation`: conditionally on `owner`'s lease, or directly without one."""
    if owner is not None:
        return _conditional_write(session, translation, owner, values)
    for name, value in values.items():
        setattr(translation, name, value)
    return True


def _conditional_write(session: Session, translation: Translation, owner: str, values: dict[str, Any]) -> bool:
    # The ORM object's own changes (text, report) are flushed first, inside the same transaction;
    # a lost lease makes the caller roll them back.
    session.flush()
    return _update_if_held(session, translation.id, owner, values, synchronize="fetch")


def finish_translation(session: Session, translation: Translation, owner: str | None) -> bool:
    """Mark done, but only if `owner` still holds the lease (None: caller runs without leases).

    With an owner this is a conditional UPDATE checked by its row count; on False the caller must
    roll back, as its other changes to `translation` may already be flushed.
    """
    values: dict[str, Any] = {
        "status": TranslationStatus.DONE,
        "error": None,
        "lease_owner": None,
        "lease_expires_at": None,
        "next_attempt_at": None,
        "translated_at": utcnow(),
    }
    return _write_state(session, translation, owner, values)


def fail_translation(
    session: Session,
    translation: Translation,
    owner: str | None,
    error: str,
    max_attempts: int,
    backoff: Backoff | None = None,
) -> bool:
    """Record a failure: re-queued with backoff while attempts remain, else `failed` for good.

    With an owner, written only while `owner` holds the lease (conditional UPDATE); returns
    whether it was written.
    """
    values: dict[str, Any] = {"error": error, "lease_owner": None, "lease_expires_at": None}
    if translation.attempts >= max_attempts:
        values.update(status=TranslationStatus.FAILED, next_attempt_at=None)
    else:
        values.update(
            status=TranslationStatus.QUEUED,
            next_attempt_at=utcnow() + (backoff or Backoff()).delay(translation.attempts),
        )
    return _write_state(session, translation, owner, values)


def release_translation(
    session: Session,
    translation_id: int,
    owner: str,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> bool:
    """Give a leased item back without it costing an attempt: the failure was not the article's.

    For an engine that cannot run (quota, open circuit, missing model), a broken glossary, or a
    worker stopped by Ctrl-C. `error`, when given, says why it waits.
    """
    values: dict[str, Any] = {
        "status": TranslationStatus.QUEUED,
        "lease_owner": None,
        "lease_expires_at": None,
        "next_attempt_at": next_attempt_at,
        # The claim counted an attempt; this one does not count.
        "attempts": case((Translation.attempts > 0, Translation.attempts - 1), else_=0),
    }
    if error is not None:
        values["error"] = error
    return _update_if_held(session, translation_id, owner, values)


def retry_failed(session: Session, language: str | None = None) -> int:
    """Put every `failed` translation back in the queue (after the cause was fixed)."""
    query = update(Translation).where(Translation.status == TranslationStatus.FAILED)
    if language:
        query = query.where(Translation.language == language)
    result = session.execute(
        query.values(status=TranslationStatus.QUEUED, attempts=0, next_attempt_at=None).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
