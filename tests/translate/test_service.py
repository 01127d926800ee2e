from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.content import Paragraph, paragraphs_from_json, paragraphs_to_json
from presseschau.store.models import Article, Source, Translation
from presseschau.store.queue import claim_translations, enqueue_translation
from presseschau.translate import service
from presseschau.translate.catalog import CATALOG
from presseschau.translate.service import translate_article, translate_queued

from .conftest import FakeEngine

PARAGRAPHS = [
    Paragraph("p", 'The market <a href="https://ex.org/">rose sharply</a> today.'),
    Paragraph("p", "Prices fell in the capital."),
]


def add_article(context: AppContext, number: int, source_engine: str | None = None) -> int:
    with context.database.session() as session:
        source = None
        if source_engine:
            source = Source(url=f"https://ex.org/feed{number}", name="Ex", engine=source_engine)
            session.add(source)
        article = Article(
            url=f"https://ex.org/{number}",
            canonical_url=f"https://ex.org/{number}",
            title=f"The market rose {number}",
            paragraphs=paragraphs_to_json(PARAGRAPHS),
            language="en",
            fetch_status="ok",
            source=source,
        )
        session.add(article)
        session.flush()
        enqueue_translation(session, article, "de")
        return article.id


def translation_of(context: AppContext, article_id: int) -> Translation:
    with context.database.session() as session:
        return session.scalars(select(Translation).where(Translation.article_id == article_id)).one()


def test_translate_article_stores_a_complete_translation(context: AppContext, registered_fake: FakeEngine) -> None:
    article_id = add_article(context, 1)
    seen: list[str] = []

    def on_done(session: Session, translation: Translation) -> None:
        seen.append(translation.status)  # called inside the transaction that marks it done

    outcome = translate_article(context, article_id, engine_name="fake", on_done=on_done)
    assert outcome.complete and outcome.status == "done" and seen == ["done"]
    translation = translation_of(context, article_id)
    assert (translation.engine, translation.model, translation.status) == ("fake", "fake-1", "done")
    assert translation.title == "Der Markt stieg 1"
    paragraphs = paragraphs_from_json(translation.paragraphs)
    assert paragraphs[0].html == 'Der Markt <a href="https://ex.org/">stieg stark</a> heute.'
    assert translation.report["complete"] is True and translation.report["engine"] == "fake"


def test_incomplete_translation_is_never_done(context: AppContext, registered_fake: FakeEngine) -> None:
    registered_fake.drop = lambda segment, attempt: segment.startswith("Prices")
    article_id = add_article(context, 2)
    called: list[int] = []
    outcome = translate_article(context, article_id, engine_name="fake", on_done=lambda s, t: called.append(t.id))
    assert not outcome.complete and called == []
    translation = translation_of(context, article_id)
    assert translation.status == "queued" and translation.next_attempt_at is not None
    assert translation.error is not None and "incomplete translation" in translation.error
    assert translation.report["failed_segments"][0]["source"] == "Prices fell in the capital."


def test_failed_retranslation_keeps_the_last_complete_text_and_new_text_is_unreviewed(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    article_id = add_article(context, 3)
    assert translate_article(context, article_id, engine_name="fake").complete
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        translation.reviewed = True  # an editor approved it
        published_text = list(translation.paragraphs)
        article = session.get_one(Article, article_id)
        article.paragraphs = paragraphs_to_json([*PARAGRAPHS, Paragraph("p", "Prices rose in the north.")])
        article.revision += 1
        enqueue_translation(session, article, "de")
    registered_fake.drop = lambda segment, attempt: segment.startswith("Prices rose")
    assert not translate_article(context, article_id, engine_name="fake").complete
    failed = translation_of(context, article_id)
    assert failed.paragraphs == published_text and failed.reviewed  # partial output never replaces it
    registered_fake.drop = lambda segment, attempt: False
    assert translate_article(context, article_id, engine_name="fake").complete
    redone = translation_of(context, article_id)
    assert len(redone.paragraphs) == 3 and not redone.reviewed


def test_queue_run_uses_source_engine_and_rerun_costs_no_engine_calls(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    ids = [add_article(context, n, source_engine="fake") for n in range(3)]
    progress: list[int] = []
    report = translate_queued(context, progress=lambda n=1, note=None: progress.append(n))
    assert (report.claimed, report.done, report.failed) == (3, 3, 0) and len(progress) == 3
    assert all(translation_of(context, i).status == "done" for i in ids)
    calls = len(registered_fake.calls)
    assert calls > 0
    with context.database.session() as session:  # a new revision re-queues the articles
        for article in session.scalars(select(Article)):
            article.revision += 1
            enqueue_translation(session, article, "de")
    again = translate_queued(context, limit=2)
    assert again.done == 2
    assert len(registered_fake.calls) == calls  # everything came from the translation memory


def test_result_is_written_only_while_holding_the_lease(context: AppContext, registered_fake: FakeEngine) -> None:
    article_id = add_article(context, 4)
    with context.database.session() as session:
        assert claim_translations(session, "someone-else", 600)
    outcome = service._translate(context, article_id, "fake", None, "me", None)
    assert outcome.status == "lost_lease"
    translation = translation_of(context, article_id)
    assert translation.title is None and translation.lease_owner == "someone-else"


def test_engine_not_ready_stops_the_run_with_a_clear_error(
    context: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", replace(CATALOG["opus-mt-en-de"], url="http://127.0.0.1:9/x.zip"))
    first = add_article(context, 5)
    add_article(context, 6)
    report = translate_queued(context, engine_name="ct2")
    assert report.claimed == 1 and report.aborted is not None
    assert "models pull" in report.aborted
    translation = translation_of(context, first)
    assert translation.status == "queued" and translation.error and "EngineNotReady" in translation.error


def test_translate_cli_runs_the_queue(data_dir: Path, registered_fake: FakeEngine) -> None:
    context = AppContext.for_data_dir(data_dir)
    article_id = add_article(context, 7)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "translate", "--engine", "fake", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "1 done, 0 failed" in result.stdout
    assert translation_of(context, article_id).status == "done"
    context.close()


class ExplodingEngine(FakeEngine):
    def translate_batch(self, segments, source_language, target_language):  # type: ignore[no-untyped-def]
        if any("3" in s for s in segments):
            raise RuntimeError("CUDA out of memory")
        return super().translate_batch(segments, source_language, target_language)


def test_a_crashing_article_is_recorded_and_the_queue_goes_on(
    context: AppContext, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exploding = ExplodingEngine()
    monkeypatch.setattr(service, "resolve_engine", lambda settings, name, model: exploding)
    bad, good = add_article(context, 3), add_article(context, 8)
    report = translate_queued(context)
    assert (report.claimed, report.done, report.failed) == (2, 1, 1)
    failed = translation_of(context, bad)
    assert failed.status == "queued" and failed.error == "RuntimeError: CUDA out of memory"
    assert failed.lease_owner is None
    assert translation_of(context, good).status == "done"
