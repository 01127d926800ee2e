"""The pipeline's stages as Celery tasks, for many machines (`PRESSESCHAU_BROKER_URL=redis://…`).

Queues: `fetch` (polling and extraction), `translate` (GPU machines take this one), `publish`.
Tasks carry ids, never content, and every task is idempotent: fetching is deduplicated by the
store, translation is coordinated by the database leases of `presseschau.store.queue` (a task
that finds nothing claimable does nothing), publishing is `on_translation_done`, which is
idempotent. Tasks are acknowledged late, so a worker killed mid-task has its task redelivered.
Without a broker URL none of this is used: `presseschau run` keeps everything in one process.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from celery import Celery, signals
from sqlalchemy import select, update

from presseschau.app import AppContext
from presseschau.config import Settings, load_settings
from presseschau.pipeline.service import make_owner_id
from presseschau.store.models import Publication, PublicationStatus, Source, Translation, TranslationStatus, utcnow
from presseschau.store.queue import recover_orphaned_leases

log = logging.getLogger("presseschau.tasks")

QUEUES = ("fetch", "translate", "publish")
TRANSLATE_BATCH = 4
# A source handed to a fetch task is not due again for this long (its poll sets the real time),
# so the 30 s beat does not send a second poll while the first is still queued or running.
POLL_CLAIM_S = 600

celery_app = Celery("presseschau")

_context: AppContext | None = None
_owner: str | None = None


def configure(settings: Settings) -> Celery:
    """Point the Celery app at the configured broker, with presseschau's routing and schedule."""
    if not settings.broker_url:
        raise RuntimeError("no broker configured: set PRESSESCHAU_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")
    celery_app.conf.update(
        broker_url=settings.broker_url,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,  # redeliver when a worker dies mid-task
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # long translation tasks: don't hoard messages
        task_default_queue="fetch",
        task_routes={
            "presseschau.poll_due_sources": {"queue": "fetch"},
            "presseschau.fetch_source": {"queue": "fetch"},
            "presseschau.dispatch": {"queue": "fetch"},
            "presseschau.translate_batch": {"queue": "translate"},
            "presseschau.publish_translation": {"queue": "publish"},
        },
        # Unacknowledged messages come back after this long (Redis transport).
        broker_transport_options={"visibility_timeout": max(60, settings.lease_seconds * 2)},
        beat_schedule={
            "poll-due-sources": {"task": "presseschau.poll_due_sources", "schedule": 30.0},
            "dispatch-queued-work": {"task": "presseschau.dispatch", "schedule": 15.0},
        },
        timezone="UTC",
        worker_hijack_root_logger=False,
    )
    return celery_app


def set_context(context: AppContext) -> None:
    global _context
    _context = context


def context() -> AppContext:
    """The worker process's context (from `presseschau worker --data`, else the environment)."""
    global _context
    if _context is None:
        _context = AppContext(settings=load_settings(os.environ.get("PRESSESCHAU_DATA")))
    return _context


def owner() -> str:
    global _owner
    if _owner is None:
        _owner = make_owner_id("celery")
    return _owner


@signals.worker_process_init.connect
def _after_fork(**_: Any) -> None:
    # A forked pool process must not share the parent's database connections or lease id.
    global _owner
    _owner = None
    if _context is not None and _context._database is not None:
        _context._database.engine.dispose(close=False)


@celery_app.task(name="presseschau.poll_due_sources")
def poll_due_sources() -> int:
    """Send a fetch task for every enabled source whose poll is due, at most one per source."""
    ctx = context()
    now = utcnow()
    due_now = Source.enabled.is_(True) & ((Source.next_poll_at.is_(None)) | (Source.next_poll_at <= now))
    sent: list[int] = []
    with ctx.database.session() as session:
        for source_id in session.scalars(select(Source.id).where(due_now)).all():
            # Claim the poll: a conditional UPDATE, so two beats (or a slow poll) never send twice.
            result = session.execute(
                update(Source)
                .where(Source.id == source_id, due_now)
                .values(next_poll_at=now + timedelta(seconds=POLL_CLAIM_S))
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                sent.append(source_id)
    for source_id in sent:
        fetch_source.delay(source_id)
    return len(sent)


# A crashed task is sent again by Celery after 30 s, 60 s, 120 s … (capped), five times at most.
# Per-item errors are recorded by the stages themselves; what reaches Celery is a crash of the
# whole step (the database restarting, say), and every task here is idempotent.
RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": (Exception,),
    "max_retries": 5,
    "retry_backoff": 30,
    "retry_backoff_max": 3600,
    "retry_jitter": False,
}


@celery_app.task(name="presseschau.fetch_source", **RETRY_POLICY)
def fetch_source(source_id: int) -> int:
    from presseschau.pipeline.steps import fetch_and_publish

    ctx = context()
    report = fetch_and_publish(ctx.database, ctx.settings, source_id=source_id)
    dispatch.delay()
    return int(report.articles_new + report.articles_updated)


def waiting_tasks(queue: str) -> int | None:
    """Messages waiting in the broker queue `queue` (None when the broker cannot say)."""
    try:
        with celery_app.connection_for_read() as connection:
            return int(connection.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as error:  # no such queue yet (nothing ever sent), or a transport without counts
        log.debug("cannot count the %s queue: %s", queue, error)
        return 0 if "NOT_FOUND" in str(error) or "no queue" in str(error).lower() else None


@celery_app.task(name="presseschau.dispatch")
def dispatch() -> dict[str, int]:
    """Send translate tasks for queued work and publish tasks for finished, unpublished work.

    Translate tasks are topped up to one per TRANSLATE_BATCH claimable articles, counting those
    already waiting in the broker: while translation is slower than the beat, the backlog stays
    bounded. Sending more tasks than needed is harmless (the leases decide who works), sending
    fewer only delays work until the next beat.
    """
    ctx = context()
    now = utcnow()
    with ctx.database.session() as session:
        recover_orphaned_leases(session, ctx.settings.translation_max_attempts)
        claimable = session.scalars(
            select(Translation.id).where(
                (
                    (Translation.status == TranslationStatus.QUEUED)
                    & ((Translation.next_attempt_at.is_(None)) | (Translation.next_attempt_at <= now))
                )
                | ((Translation.status == TranslationStatus.IN_PROGRESS) & (Translation.lease_expires_at < now))
            )
        ).all()
        unpublished = session.scalars(
            select(Translation.id)
            .outerjoin(Publication, Publication.translation_id == Translation.id)
            .where(Translation.status == TranslationStatus.DONE, Publication.id.is_(None))
        ).all()
    wanted = -(-len(claimable) // TRANSLATE_BATCH)
    waiting = waiting_tasks("translate") if wanted else 0
    # A broker that cannot count: one batch per beat at most, never an unbounded pile.
    batches = max(0, wanted - waiting) if waiting is not None else min(wanted, 1)
    for _ in range(batches):
        translate_batch.delay()
    for translation_id in unpublished:
        publish_translation.delay(translation_id)
    return {"translate_tasks": batches, "publish_tasks": len(unpublished)}


@celery_app.task(name="presseschau.translate_batch", **RETRY_POLICY)
def translate_batch(engine: str | None = None, model: str | None = None) -> int:
    """Translate up to TRANSLATE_BATCH queued articles (the engine is loaded once per process).

    Returns how many were worked on. When the engine cannot run (quota, open circuit, no model)
    the batch stops at the first article, which goes back to the queue without spending an
    attempt until the engine's pause ends; `dispatch` sends no work for it meanwhile.
    """
    from presseschau.pipeline.steps import translate_and_publish

    ctx = context()
    report = translate_and_publish(
        ctx.database, ctx.settings, limit=TRANSLATE_BATCH, engine_name=engine, model=model, owner=owner()
    )
    # Each finished translation was published (or held) by its policy in its own transaction.
    if report.aborted:
        log.warning("translation paused: %s", report.aborted)
        return 0
    return int(report.claimed)


def already_published(publication: Publication | None, translation: Translation) -> bool:
    """The publication is on the site with this very text: publishing again would only bump
    `updated_at` (feeds, sitemaps, caches) and re-index, so a redelivered task skips it."""
    return (
        publication is not None
        and publication.status == PublicationStatus.PUBLISHED
        and translation.status == TranslationStatus.DONE
        and publication.updated_at is not None
        and translation.updated_at is not None
        and publication.updated_at >= translation.updated_at
    )


# Publishing is quick and idempotent: tried again sooner (5 s, 10 s … up to 5 minutes).
@celery_app.task(
    name="presseschau.publish_translation", **{**RETRY_POLICY, "retry_backoff": 5, "retry_backoff_max": 300}
)
def publish_translation(translation_id: int) -> str | None:
    from presseschau.publish.service import on_translation_done

    ctx = context()
    with ctx.database.session() as session:
        translation = session.get(Translation, translation_id)
        if translation is None:
            return None
        if already_published(translation.publication, translation):
            return PublicationStatus.PUBLISHED
        publication = on_translation_done(session, translation, ctx.settings)
        return publication.status if publication else None
