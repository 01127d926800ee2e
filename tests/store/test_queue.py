from __future__ import annotations

import subprocess
from datetime import timedelta

from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.pipeline.service import HOSTNAME, recover_orphaned_leases
from presseschau.store.models import Article, Translation, utcnow
from presseschau.store.queue import (
    DONE,
    FAILED,
    IN_PROGRESS,
    QUEUED,
    Backoff,
    claim_translations,
    enqueue_translation,
    fail_translation,
    finish_translation,
    holds_lease,
    retry_failed,
)


def _article(context: AppContext, n: int = 1) -> list[int]:
    ids = []
    with context.database.session() as session:
        for i in range(n):
            article = Article(url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}", revision=1)
            session.add(article)
            session.flush()
            enqueue_translation(session, article, "de")
            ids.append(article.id)
    return ids


def test_enqueue_is_idempotent_and_requeues_new_revisions(context: AppContext) -> None:
    (article_id,) = _article(context)
    with context.database.session() as session:
        article = session.get_one(Article, article_id)
        enqueue_translation(session, article, "de")
        translation = session.scalars(select(Translation)).one()
        translation.status = DONE
    with context.database.session() as session:
        article = session.get_one(Article, article_id)
        assert enqueue_translation(session, article, "de").status == DONE  # same revision: nothing to do
        article.revision = 2
        translation = enqueue_translation(session, article, "de")
        assert (translation.status, translation.source_revision) == (QUEUED, 2)
    with context.database.session() as session:
        assert len(session.scalars(select(Translation)).all()) == 1


def test_claims_are_exclusive_and_expired_leases_are_taken_over(context: AppContext) -> None:
    _article(context, 3)
    with context.database.session() as session:
        first = claim_translations(session, "a", lease_seconds=60, limit=2)
        second = claim_translations(session, "b", lease_seconds=60, limit=5)
        assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)
        assert claim_translations(session, "c", lease_seconds=60, limit=5) == []
        later = utcnow() + timedelta(seconds=120)
        taken_over = claim_translations(session, "c", lease_seconds=60, limit=5, now=later)
        assert sorted(taken_over) == sorted(first + second)
        assert not holds_lease(session, first[0], "a")
        assert holds_lease(session, first[0], "c")


def test_only_the_lease_holder_finishes(context: AppContext) -> None:
    _article(context)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "a", lease_seconds=60)
        translation = session.get_one(Translation, translation_id)
        assert not finish_translation(session, translation, "someone-else")
        assert translation.status == IN_PROGRESS
        assert finish_translation(session, translation, "a")
        assert translation.status == DONE and translation.translated_at is not None


def test_failures_back_off_then_fail_for_good(context: AppContext) -> None:
    _article(context)
    backoff = Backoff(base_s=10, max_s=100)
    for attempt in range(1, 4):
        with context.database.session() as session:
            later = utcnow() + timedelta(days=attempt)
            (translation_id,) = claim_translations(session, "w", lease_seconds=60, now=later)
            translation = session.get_one(Translation, translation_id)
            assert translation.attempts == attempt
            fail_translation(session, translation, "w", f"boom {attempt}", max_attempts=3, backoff=backoff)
            if attempt < 3:
                assert translation.status == QUEUED
                assert translation.next_attempt_at is not None and translation.next_attempt_at > utcnow()
    with context.database.session() as session:
        translation = session.scalars(select(Translation)).one()
        assert (translation.status, translation.error) == (FAILED, "boom 3")
        assert retry_failed(session) == 1
    with context.database.session() as session:
        assert session.scalars(select(Translation)).one().status == QUEUED


def test_backoff_grows_exponentially_and_is_capped() -> None:
    backoff = Backoff(base_s=10, max_s=100)
    assert 9 <= backoff.delay(1).total_seconds() <= 11
    assert 36 <= backoff.delay(3).total_seconds() <= 44
    assert backoff.delay(10).total_seconds() <= 110


def test_leases_of_dead_local_processes_are_recovered(context: AppContext) -> None:
    _article(context, 2)
    finished = subprocess.Popen(["true"])  # a pid whose process has ended and been reaped
    finished.wait()
    dead_pid = finished.pid
    with context.database.session() as session:
        ids = claim_translations(session, f"{HOSTNAME}:{dead_pid}:translate:x", lease_seconds=600, limit=1)
        ids += claim_translations(session, "other-host:1:translate:y", lease_seconds=600, limit=1)
    with context.database.session() as session:
        assert recover_orphaned_leases(session) == 1
    with context.database.session() as session:
        statuses = {t.id: t.status for t in session.scalars(select(Translation))}
        assert statuses[ids[0]] == QUEUED and statuses[ids[1]] == IN_PROGRESS
