from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.backoff import Backoff
from presseschau.pipeline.service import HOSTNAME
from presseschau.store.models import Article, Translation, TranslationStatus, utcnow
from presseschau.store.queue import (
    LeaseKeeper,
    claim_translations,
    enqueue_translation,
    fail_translation,
    finish_translation,
    holds_lease,
    recover_orphaned_leases,
    release_translation,
    retry_failed,
)
from tests.store.factories import queued_articles

QUEUED, IN_PROGRESS, DONE, FAILED = (
    TranslationStatus.QUEUED,
    TranslationStatus.IN_PROGRESS,
    TranslationStatus.DONE,
    TranslationStatus.FAILED,
)


def test_enqueue_is_idempotent_and_requeues_new_revisions(context: AppContext) -> None:
    (article_id,) = queued_articles(context)
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
    queued_articles(context, 3)
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
    queued_articles(context)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "a", lease_seconds=60)
        translation = session.get_one(Translation, translation_id)
        assert not finish_translation(session, translation, "someone-else")
        assert translation.status == IN_PROGRESS
        assert finish_translation(session, translation, "a")
        assert translation.status == DONE and translation.translated_at is not None


def test_failures_back_off_then_fail_for_good(context: AppContext) -> None:
    queued_articles(context)
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
    queued_articles(context, 2)
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


def test_translate_takes_back_what_a_killed_translate_held(context: AppContext, data_dir: Path) -> None:
    """Issue 22 item 7: after kill -9 of `translate`, the next `translate` said "0 done" and left the
    articles `in_progress` until their leases ran out; only `run` took them back."""
    from typer.testing import CliRunner

    from presseschau.cli import app
    from presseschau.translate.queue import default_owner

    queued_articles(context, 3)
    finished = subprocess.Popen(["true"])
    finished.wait()
    dead_translate = default_owner().rsplit(":", 1)[0] + f":{finished.pid}"  # as `translate` names itself
    with context.database.session() as session:
        claim_translations(session, dead_translate, lease_seconds=600, limit=2)
        claim_translations(session, "other-host:1", lease_seconds=600, limit=1)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "translate", "--limit", "0"])
    assert result.exit_code == 0, result.output
    assert "Took back 2 article(s)" in result.output
    with context.database.session() as session:
        statuses = sorted(t.status for t in session.scalars(select(Translation)))
    assert statuses == [IN_PROGRESS, QUEUED, QUEUED]  # another host's lease runs its time


def _dead_owner() -> str:
    finished = subprocess.Popen(["true"])  # a pid whose process has ended and been reaped
    finished.wait()
    return f"{HOSTNAME}:{finished.pid}:translate:x"


def test_finishing_checks_the_lease_in_the_database_not_the_loaded_row(context: AppContext) -> None:
    queued_articles(context)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "a", lease_seconds=60)
    with context.database.session() as stale:
        translation = stale.get_one(Translation, translation_id)  # loaded while "a" held the lease
        with context.database.session() as other:  # meanwhile the lease expired and "b" took over
            assert claim_translations(other, "b", lease_seconds=60, now=utcnow() + timedelta(seconds=120))
        assert translation.lease_owner == "a"  # what "a" still believes
        assert not finish_translation(stale, translation, "a")
        assert not fail_translation(stale, translation, "a", "boom", max_attempts=5)
        stale.rollback()
    with context.database.session() as session:
        row = session.get_one(Translation, translation_id)
        assert (row.status, row.lease_owner) == (IN_PROGRESS, "b") and row.error and "boom" not in row.error


def test_a_released_item_is_claimable_again_without_spending_an_attempt(context: AppContext) -> None:
    queued_articles(context)
    later = utcnow() + timedelta(minutes=5)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "a", lease_seconds=60)
        assert not release_translation(session, translation_id, "someone-else")
        assert release_translation(session, translation_id, "a", next_attempt_at=later, error="quota")
    with context.database.session() as session:
        translation = session.get_one(Translation, translation_id)
        assert (translation.status, translation.attempts, translation.lease_owner) == (QUEUED, 0, None)
        assert claim_translations(session, "b", lease_seconds=60) == []  # waits until `later`
        assert claim_translations(session, "b", lease_seconds=60, now=later + timedelta(seconds=1)) == [translation_id]


def test_an_item_that_kills_its_worker_fails_after_max_attempts(context: AppContext) -> None:
    queued_articles(context)
    for attempt in (1, 2):
        with context.database.session() as session:
            (translation_id,) = claim_translations(session, _dead_owner(), lease_seconds=600, max_attempts=2)
        with context.database.session() as session:
            assert recover_orphaned_leases(session, max_attempts=2) == 1
        with context.database.session() as session:
            translation = session.get_one(Translation, translation_id)
            assert translation.attempts == attempt and translation.lease_owner is None
            assert translation.error and "worker died" in translation.error
    assert translation.status == FAILED
    assert translation.error == "the worker died 2 times while translating this article; gave up after 2 attempts"
    with context.database.session() as session:
        assert claim_translations(session, "w", lease_seconds=600, max_attempts=2) == []


def test_expired_leases_at_max_attempts_are_failed_not_claimed_again(context: AppContext) -> None:
    queued_articles(context)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "other-host:1:translate:y", lease_seconds=60, max_attempts=2)
    later = utcnow() + timedelta(seconds=120)
    with context.database.session() as session:
        assert claim_translations(session, "b", lease_seconds=60, now=later, max_attempts=2) == [translation_id]
        translation = session.get_one(Translation, translation_id)
        assert translation.attempts == 2 and translation.error == (
            "the worker died once while translating this article; re-queued"
        )
    much_later = later + timedelta(seconds=120)
    with context.database.session() as session:
        assert claim_translations(session, "c", lease_seconds=60, now=much_later, max_attempts=2) == []
        translation = session.get_one(Translation, translation_id)
        assert translation.status == FAILED and translation.error and "died 2 times" in translation.error
    with context.database.session() as session:  # a new revision starts counting again
        article = session.get_one(Article, translation.article_id)
        article.revision += 1
        assert "worker_deaths" not in enqueue_translation(session, article, "de").report


def test_the_lease_keeper_renews_while_working_and_stops_after(context: AppContext) -> None:
    queued_articles(context)
    with context.database.session() as session:
        (translation_id,) = claim_translations(session, "a", lease_seconds=1)
        first_expiry = session.get_one(Translation, translation_id).lease_expires_at
    assert first_expiry is not None

    def expiry() -> object:
        with context.database.session() as session:
            return session.get_one(Translation, translation_id).lease_expires_at

    with LeaseKeeper(context.database.session, translation_id, "a", lease_seconds=1) as keeper:
        deadline = time.monotonic() + 30  # a bound on waiting, not a timing assertion
        while keeper.renewals < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert keeper.renewals >= 2 and not keeper.lost
        renewed = expiry()
        assert isinstance(renewed, type(first_expiry)) and renewed > first_expiry
    assert not keeper._thread.is_alive()  # stopped with the work
    with LeaseKeeper(context.database.session, translation_id, "b", lease_seconds=1) as intruder:
        deadline = time.monotonic() + 30
        while not intruder.lost and time.monotonic() < deadline:
            time.sleep(0.05)
    assert intruder.lost and intruder.renewals == 0  # a lease it does not hold is never extended
