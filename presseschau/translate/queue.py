"""The translate stage's work: one article now, or the queue (leases, retries, crash safety).

`translate_queued` claims queued translations one at a time under a lease, translates each
(`translating`), and records done or failed only while the lease is still held; an engine that
cannot run pauses the queue (`pauses`) instead of failing articles.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from presseschau.backoff import Backoff
from presseschau.config import Settings
from presseschau.content import paragraphs_from_json, paragraphs_to_json, strip_xml_forbidden
from presseschau.errors import ArticleNotFound
from presseschau.progress import Progress
from presseschau.store.db import Database
from presseschau.store.faults import is_storage_fault
from presseschau.store.models import Article, Translation, TranslationStatus, utcnow
from presseschau.store.queue import (
    WORKER_DEATHS,
    LeaseKeeper,
    TranslationDone,
    claim_translations,
    fail_translation,
    finish_translation,
    hold_lease,
    recover_orphaned_leases,
    release_translation,
)
from presseschau.store.rights import article_reuse, reusable_paragraphs, word_count
from presseschau.translate import usage
from presseschau.translate.document import Document, TranslatedDocument
from presseschau.translate.engines import EngineError
from presseschau.translate.engines.base import Engine
from presseschau.translate.glossary import GlossaryError
from presseschau.translate.pauses import (
    Pause,
    check_glossary,
    clear_pause,
    engine_cannot_run,
    load_pauses,
    pause_for,
    save_pause,
)
from presseschau.translate.quality import assess_document
from presseschau.translate.translating import choose_engine, translate_with_fallback

log = logging.getLogger("presseschau.translate")

OnDone = TranslationDone
# `TranslationOutcome.status` (besides a TranslationStatus) when another worker took the item over.
LOST_LEASE = "lost_lease"


@dataclass
class TranslationOutcome:
    article_id: int
    translation_id: int | None
    status: str
    complete: bool
    engine: str
    model: str | None
    error: str | None = None
    report: dict[str, Any] = field(default_factory=dict)
    # Set when the engine could not run (not the article's fault): back in the queue until then,
    # without spending an attempt.
    paused_until: datetime | None = None
    # True when the engine was already known to be paused, so it was not even tried.
    deferred: bool = False


@dataclass
class TranslateRunReport:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    lost_lease: int = 0
    # Items put straight back because their engine is paused (not counted in `claimed`).
    deferred: int = 0
    # Items taken back from a `translate` or `run` on this host that died holding them.
    reclaimed: int = 0
    aborted: str | None = None
    outcomes: list[TranslationOutcome] = field(default_factory=list)


def _load_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound(article_id)
    if not article.paragraphs:
        raise ArticleNotFound(article_id, without_text=True)
    return article


@dataclass(frozen=True)
class _Job:
    """What translating one article needs, read in one short transaction."""

    article_id: int
    engine: str
    source_language: str
    document: Document
    revision: int
    # Per-source glossary additions (editorial admin); None when the source has none.
    glossary_additions: dict[str, Any] | None
    # The reuse mode the document was cut to, and how much of the original that is (the report's "reuse").
    reuse: dict[str, Any] = field(default_factory=dict)


@dataclass
class _EngineRun:
    """What the engine made of a job (or why it could not), and what that cost."""

    engine_label: str
    model_label: str | None
    meter: usage.Meter
    elapsed: float = 0.0
    result: TranslatedDocument | None = None
    fallback: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    # The engine could not run at all (not the article's fault): the queue pauses for it.
    cannot_run: bool = False
    engine_wait_s: float | None = None
    # The job's `reuse` record, written into the translation's report.
    reuse: dict[str, Any] = field(default_factory=dict)
    # The quality estimate of a complete result (`Assessment.to_json()`), with the article's risk.
    quality: dict[str, Any] | None = None
    quality_risk: float | None = None


def _load_job(database: Database, settings: Settings, article_id: int, engine_name: str | None) -> _Job:
    with database.session() as session:
        article = _load_article(session, article_id)
        source_language = article.language or (article.source.language if article.source else None)
        # Only what the article's reuse mode shows is translated: an excerpt costs an excerpt.
        original = paragraphs_from_json(article.paragraphs)
        decision = article_reuse(settings, article)
        shown = reusable_paragraphs(original, decision)
        return _Job(
            article_id=article_id,
            engine=choose_engine(settings, engine_name, article.source),
            source_language=source_language or settings.source_language,
            document=Document(article.title or "", shown),
            revision=article.revision,
            glossary_additions=dict(article.source.glossary or {}) if article.source is not None else None,
            reuse={
                **decision.to_json(),
                "paragraphs_translated": len(shown),
                "paragraphs_total": len(original),
                "words_translated": word_count(shown),
                "words_total": word_count(original),
            },
        )


def _run_engine(database: Database, settings: Settings, job: _Job, model: str | None) -> _EngineRun:
    """Translate the job's document (with the fallback engine if need be), outside any transaction."""
    started = time.perf_counter()
    # Billable usage of this article (DeepL characters, LLM tokens and cost), failed tries included.
    with usage.metering() as meter:
        run = _EngineRun(job.engine, model, meter)
        try:
            engine, run.result, run.fallback = translate_with_fallback(
                database,
                settings,
                job.document,
                job.engine,
                model,
                job.source_language,
                settings.target_language,
                job.glossary_additions,
            )
            run.engine_label, run.model_label = engine.name, engine.model
            if run.result is not None and run.result.complete:
                _assess(run, job, settings, engine)
        except EngineError as failure:
            run.error = f"{type(failure).__name__}: {failure}"
            run.cannot_run = engine_cannot_run(failure)
            run.engine_wait_s = getattr(failure, "retry_after_s", None)
    run.elapsed = time.perf_counter() - started
    return run


def _assess(run: _EngineRun, job: _Job, settings: Settings, engine: Engine) -> None:
    """Estimate the result's quality; with `quality_round_trip`, translate it back with the same
    engine (when it has the reverse model) for the round-trip signal, and report the time it took."""
    assert run.result is not None
    target = settings.target_language

    def back_translate(texts: Sequence[str]) -> list[str]:
        return engine.translate_batch(texts, target, job.source_language)

    round_trip = None
    if settings.quality_round_trip:
        round_trip = back_translate
    try:
        assessment = assess_document(
            [paragraph.text for paragraph in job.document.paragraphs],
            [paragraph.text for paragraph in run.result.paragraphs],
            job.source_language,
            target,
            round_trip,
        )
    except EngineError as failure:  # no reverse model: the model-free signals still count
        log.warning("quality round trip not available (%s); estimating without it", failure)
        assessment = assess_document(
            [paragraph.text for paragraph in job.document.paragraphs],
            [paragraph.text for paragraph in run.result.paragraphs],
            job.source_language,
            target,
        )
    run.quality, run.quality_risk = assessment.to_json(), assessment.quality.risk


def _translate(
    database: Database,
    settings: Settings,
    article_id: int,
    engine_name: str | None,
    model: str | None,
    owner: str | None,
    on_done: OnDone | None,
    pauses: dict[str, Pause] | None = None,
) -> TranslationOutcome:
    pauses = pauses or {}
    job = _load_job(database, settings, article_id, engine_name)
    name = job.engine
    pause = pauses.get(name)
    if owner is not None and pause is not None and pause.active(utcnow()):
        # The engine is known not to run: back in the queue until the pause ends, no engine call.
        return _defer(database, settings, article_id, name, model, owner, pause)

    run = _run_engine(database, settings, job, model)
    run.reuse = job.reuse
    paused: Pause | None = None
    translation_id: int | None = None
    try:
        with database.session() as session:
            translation_id = session.scalar(
                select(Translation.id).where(
                    Translation.article_id == article_id, Translation.language == settings.target_language
                )
            )
            if owner is not None and (translation_id is None or not hold_lease(session, translation_id, owner)):
                # Another worker took the item over (our lease expired): write nothing. Holding the
                # lease from here on (a row lock) keeps it ours until this transaction commits.
                return _lost_lease(article_id, translation_id, run)
            translation = _translation_row(session, translation_id, job, settings.target_language)
            if run.meter.by_engine:
                usage.add_monthly(session, run.meter)
            if run.cannot_run and run.error is not None:
                paused = pause_for(settings, name, run.error, pauses.get(name), run.engine_wait_s)
                outcome = _requeue_paused(session, translation, owner, run, paused)
            else:
                outcome = _record_result(session, translation, owner, on_done, run, job.revision, settings)
    except _LostLease:  # the conditional final write lost the race: everything was rolled back
        return _lost_lease(article_id, translation_id, run)
    if paused is not None:
        log.warning("engine %s cannot run, translation paused until %s: %s", name, paused.until, run.error)
        save_pause(database, paused)
    elif outcome.complete and name in pauses and run.engine_label == name:
        clear_pause(database, name)
    return outcome


def _lost_lease(article_id: int, translation_id: int | None, run: _EngineRun) -> TranslationOutcome:
    return TranslationOutcome(article_id, translation_id, LOST_LEASE, False, run.engine_label, run.model_label)


def _translation_row(session: Session, translation_id: int | None, job: _Job, language: str) -> Translation:
    """The article's translation row, created (at the job's revision) when there is none yet."""
    if translation_id is not None:
        return session.get_one(Translation, translation_id)
    translation = Translation(article_id=job.article_id, language=language, source_revision=job.revision)
    session.add(translation)
    session.flush()
    return translation


def _requeue_paused(
    session: Session, translation: Translation, owner: str | None, run: _EngineRun, paused: Pause
) -> TranslationOutcome:
    """Back in the queue until the engine's pause ends, without spending an attempt."""
    if owner is not None:
        release_translation(session, translation.id, owner, paused.until, run.error)
    else:
        translation.status = TranslationStatus.QUEUED
        translation.next_attempt_at, translation.error = paused.until, run.error
    return TranslationOutcome(
        translation.article_id,
        translation.id,
        TranslationStatus.QUEUED,
        False,
        run.engine_label,
        run.model_label,
        run.error,
        paused_until=paused.until,
    )


def _defer(
    database: Database, settings: Settings, article_id: int, name: str, model: str | None, owner: str, pause: Pause
) -> TranslationOutcome:
    with database.session() as session:
        translation_id = session.scalar(
            select(Translation.id).where(
                Translation.article_id == article_id, Translation.language == settings.target_language
            )
        )
        if translation_id is None or not release_translation(session, translation_id, owner, pause.until):
            return TranslationOutcome(article_id, translation_id, LOST_LEASE, False, name, model)
    return TranslationOutcome(
        article_id,
        translation_id,
        TranslationStatus.QUEUED,
        False,
        name,
        model,
        pause.reason,
        paused_until=pause.until,
        deferred=True,
    )


class _LostLease(Exception):
    """The conditional final write found the lease gone (see `finish_translation`)."""


def _record_result(
    session: Session,
    translation: Translation,
    owner: str | None,
    on_done: OnDone | None,
    run: _EngineRun,
    revision: int,
    settings: Settings,
) -> TranslationOutcome:
    """Write the run's result under the lease: done (and `on_done`), or a failure with backoff."""
    deaths = (translation.report or {}).get(WORKER_DEATHS)
    result, error = run.result, run.error
    translation.engine, translation.model = run.engine_label, run.model_label
    translation.engine_seconds = result.report.engine_seconds if result else run.elapsed
    if result is not None:
        if result.complete:
            # Only a complete result replaces the text: a published article keeps its last
            # complete translation on the site while a failed re-translation is retried.
            # Paragraphs drop characters XML forbids themselves; an engine may emit them in a title.
            translation.title = strip_xml_forbidden(result.title)
            translation.paragraphs = paragraphs_to_json(result.paragraphs)
            # New machine text has not been reviewed, whatever its predecessor was.
            translation.reviewed = False
            translation.quality, translation.quality_risk = run.quality, run.quality_risk
        report = result.report.to_json()
        if run.fallback:
            report.update(run.fallback, fallback_segments=result.report.engine_segments)
        if run.meter.by_engine:
            report["usage"] = run.meter.to_json()
        if run.reuse:
            report["reuse"] = run.reuse
        translation.report = report
        translation.source_revision = revision
        if not result.complete:
            failed = result.report.failed_segments
            error = (
                f"incomplete translation: {len(failed)} segment(s) failed the coverage check "
                f"(first: {failed[0]['reason']} in {failed[0]['source'][:80]!r})"
            )
    if error is None:
        if not finish_translation(session, translation, owner):
            raise _LostLease
        # In the same transaction as marking it done: the entry points (CLI, `run`, Celery workers)
        # pass the publish stage's `publisher`, which publishes it or holds it by the source's policy.
        if on_done is not None:
            on_done(session, translation)
    else:
        if deaths and result is not None:
            translation.report = {**translation.report, WORKER_DEATHS: deaths}  # still counts for this revision
        if owner is None:
            translation.attempts += 1  # a direct call consumes an attempt like a claim does
        written = fail_translation(
            session,
            translation,
            owner,
            error,
            settings.translation_max_attempts,
            Backoff(settings.backoff_base_s, settings.backoff_max_s),
        )
        if not written:
            raise _LostLease
    session.flush()
    return TranslationOutcome(
        translation.article_id,
        translation.id,
        translation.status,
        error is None,
        run.engine_label,
        run.model_label,
        error,
        dict(translation.report or {}),
    )


def translate_article(
    database: Database,
    settings: Settings,
    article_id: int,
    engine_name: str | None = None,
    model: str | None = None,
    on_done: OnDone | None = None,
) -> TranslationOutcome:
    """Translate one article now (no lease); the Translation row records the outcome.

    `on_done(session, translation)` runs in the transaction that marks it done (entry points pass
    `presseschau.publish.service.publisher`).

    Only a complete translation is marked done; an incomplete one is stored with its report and
    re-queued with backoff (or failed after `translation_max_attempts`).
    """
    return _translate(database, settings, article_id, engine_name, model, None, on_done)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def queued_count(database: Database, settings: Settings) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Translation)
                .where(
                    Translation.status.in_((TranslationStatus.QUEUED, TranslationStatus.IN_PROGRESS)),
                    Translation.language == settings.target_language,
                )
            )
            or 0
        )


def translate_queued(
    database: Database,
    settings: Settings,
    limit: int | None = None,
    engine_name: str | None = None,
    model: str | None = None,
    owner: str | None = None,
    progress: Progress | None = None,
    on_done: OnDone | None = None,
) -> TranslateRunReport:
    """Claim queued translations one by one, translate them, record done/failed under the lease.

    The lease is renewed while an article is translated. The run stops (`aborted` says why) when
    the failure is not the article's: an engine that cannot run (quota, open circuit, service down,
    no model) pauses that engine for the whole queue and puts the article back without spending
    an attempt; a broken glossary stops the run before anything is claimed. Items whose engine is
    paused are put back until the pause ends without an engine call (`deferred`). `on_done` runs
    in the transaction that marks each one done (entry points pass `publish.service.publisher`).
    """
    owner = owner or default_owner()
    report = TranslateRunReport()
    with database.session() as session:
        report.reclaimed = recover_orphaned_leases(session, settings.translation_max_attempts)
        pauses = load_pauses(session)
    glossary_problem = check_glossary(database, settings, pauses)
    if glossary_problem is not None:
        report.aborted = glossary_problem
        return report
    while limit is None or report.claimed < limit:
        claim = _claim_next(database, settings, owner)
        if claim is None:
            break
        translation_id, article_id, pauses = claim
        try:
            outcome = _translate_claimed(
                database, settings, translation_id, article_id, owner, engine_name, model, on_done, pauses
            )
        except GlossaryError as problem:  # the file broke while we ran: a configuration error
            report.claimed += 1
            report.aborted = f"GlossaryError: {problem}"
            check_glossary(database, settings, pauses)  # records it for `status`
            break
        if outcome.deferred:
            report.deferred += 1
            continue
        _count(report, outcome)
        if outcome.complete:
            _settle_after_first_article()
        if progress is not None:
            progress(1, f"article {article_id}: {outcome.status}")
        if outcome.paused_until is not None:
            # Every further item of this engine would fail the same way: stop and say why.
            report.aborted = outcome.error
            break
    return report


@cache
def _settle_after_first_article() -> None:
    """Once per process, after its first translated article: take every object alive now out of the
    cyclic garbage collector's reach (`gc.freeze`).

    By then the process holds what it keeps to its end: imported code, the engine's model, the
    extraction stack's and the quality estimate's tables (~190,000 objects with the Firefox model).
    Each full collection walked them all again, ~25 ms, about every third article: ~0.2 s of the
    2.4 s outside the engine in `bench/pipeline.py`. What is frozen is never collected, so this runs
    once; no collection first: it would cost a full one (~0.1 s) to free the ~100 garbage objects
    that are frozen instead."""
    gc.freeze()


def _claim_next(database: Database, settings: Settings, owner: str) -> tuple[int, int, dict[str, Pause]] | None:
    """Lease the next queued translation: (its id, its article's id, the pauses now); None when none is due."""
    with database.session() as session:
        pauses = load_pauses(session)  # another worker may have paused an engine meanwhile
        claimed = claim_translations(
            session,
            owner,
            settings.lease_seconds,
            limit=1,
            language=settings.target_language,
            max_attempts=settings.translation_max_attempts,
        )
        article_id = (
            session.scalar(select(Translation.article_id).where(Translation.id == claimed[0])) if claimed else None
        )
    if article_id is None:
        return None
    return claimed[0], article_id, pauses


def _translate_claimed(
    database: Database,
    settings: Settings,
    translation_id: int,
    article_id: int,
    owner: str,
    engine_name: str | None,
    model: str | None,
    on_done: OnDone | None,
    pauses: dict[str, Pause],
) -> TranslationOutcome:
    """Translate a leased item, renewing the lease meanwhile; a crash is recorded as the item's failure.

    The lease goes back at once when the run cannot go on: a broken glossary (`GlossaryError`,
    raised on), a storage fault, Ctrl-C or SystemExit."""
    try:
        with LeaseKeeper(database.session, translation_id, owner, settings.lease_seconds):
            return _translate(database, settings, article_id, engine_name, model, owner, on_done, pauses)
    except GlossaryError:
        _release(database, translation_id, owner)
        raise
    except Exception as problem:
        if is_storage_fault(problem):
            # A full disk or a read-only database is not the article's fault, and recording
            # a crash would fail the same way: give the item back at once (a small write that
            # may still fit) instead of leaving it leased for `lease_seconds`, then stop.
            _release(database, translation_id, owner)
            raise
        log.exception("translating article %s failed", article_id)
        return _record_crash(database, settings, translation_id, article_id, owner, engine_name, model, problem)
    except BaseException:
        # Ctrl-C or SystemExit mid-article: give the item back at once instead of leaving a
        # lease that blocks it until it expires.
        _release(database, translation_id, owner)
        raise


def _count(report: TranslateRunReport, outcome: TranslationOutcome) -> None:
    report.claimed += 1
    report.outcomes.append(outcome)
    if outcome.status == LOST_LEASE:
        report.lost_lease += 1
    elif outcome.complete:
        report.done += 1
    else:
        report.failed += 1


def _release(database: Database, translation_id: int, owner: str) -> None:
    try:
        with database.session() as session:
            release_translation(session, translation_id, owner)
    except Exception:  # best effort: otherwise the lease expires and the item is taken back then
        log.warning("could not release translation %s", translation_id, exc_info=True)


def _record_crash(
    database: Database,
    settings: Settings,
    translation_id: int,
    article_id: int,
    owner: str,
    engine_name: str | None,
    model: str | None,
    problem: Exception,
) -> TranslationOutcome:
    message = f"{type(problem).__name__}: {problem}"
    with database.session() as session:
        translation = session.get(Translation, translation_id)
        status: str
        if translation is None:
            status = TranslationStatus.FAILED
        elif fail_translation(
            session,
            translation,
            owner,
            message,
            settings.translation_max_attempts,
            Backoff(settings.backoff_base_s, settings.backoff_max_s),
        ):
            status = translation.status
        else:
            status = LOST_LEASE
    return TranslationOutcome(article_id, translation_id, status, False, engine_name or "", model, message)
