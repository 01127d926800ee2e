from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.content import Paragraph, paragraphs_from_json, paragraphs_to_json
from presseschau.editorial.review import retranslate_paragraph, review_queue
from presseschau.pipeline import tasks
from presseschau.pipeline.service import PipelineService, RunOptions
from presseschau.publish.queries import latest
from presseschau.publish.service import publisher
from presseschau.reporting import collect_status
from presseschau.store.models import Article, ServiceState, Source, Translation, utcnow
from presseschau.store.queue import claim_translations, enqueue_translation
from presseschau.translate import queue, translating
from presseschau.translate.models.catalog import CATALOG
from presseschau.translate.queue import translate_article, translate_queued
from tests.hostile import XML_FORBIDDEN_RE, with_controls

from .conftest import DEEPL_KEY as KEY
from .conftest import FakeEngine
from .fakes import article as long_article
from .fakes.deepl import FakeDeepL
from .fakes.server import Fault

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

    outcome = translate_article(context.database, context.settings, article_id, engine_name="fake", on_done=on_done)
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
    outcome = translate_article(
        context.database, context.settings, article_id, engine_name="fake", on_done=lambda s, t: called.append(t.id)
    )
    assert not outcome.complete and called == []
    translation = translation_of(context, article_id)
    assert translation.status == "queued" and translation.next_attempt_at is not None
    assert translation.error is not None and "incomplete translation" in translation.error
    assert translation.report["failed_segments"][0]["source"] == "Prices fell in the capital."


def test_failed_retranslation_keeps_the_last_complete_text_and_new_text_is_unreviewed(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    article_id = add_article(context, 3)
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        translation.reviewed = True  # an editor approved it
        published_text = list(translation.paragraphs)
        article = session.get_one(Article, article_id)
        article.paragraphs = paragraphs_to_json([*PARAGRAPHS, Paragraph("p", "Prices rose in the north.")])
        article.revision += 1
        enqueue_translation(session, article, "de")
    registered_fake.drop = lambda segment, attempt: segment.startswith("Prices rose")
    assert not translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    failed = translation_of(context, article_id)
    assert failed.paragraphs == published_text and failed.reviewed  # partial output never replaces it
    registered_fake.drop = lambda segment, attempt: False
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    redone = translation_of(context, article_id)
    assert len(redone.paragraphs) == 3 and not redone.reviewed


def test_queue_run_uses_source_engine_and_rerun_costs_no_engine_calls(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    ids = [add_article(context, n, source_engine="fake") for n in range(3)]
    progress: list[int] = []

    def advance(n: int, note: str | None) -> None:
        progress.append(n)

    report = translate_queued(context.database, context.settings, progress=advance)
    assert (report.claimed, report.done, report.failed) == (3, 3, 0) and len(progress) == 3
    assert all(translation_of(context, i).status == "done" for i in ids)
    calls = len(registered_fake.calls)
    assert calls > 0
    with context.database.session() as session:  # a new revision re-queues the articles
        for article in session.scalars(select(Article)):
            article.revision += 1
            enqueue_translation(session, article, "de")
    again = translate_queued(context.database, context.settings, limit=2)
    assert again.done == 2
    assert len(registered_fake.calls) == calls  # everything came from the translation memory


def test_the_first_translated_article_of_a_process_freezes_its_start_up_objects(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    gc.unfreeze()  # as a fresh process: nothing frozen, no article translated yet
    queue._settle_after_first_article.cache_clear()
    try:
        registered_fake.drop = lambda segment, attempt: True  # an incomplete article settles nothing
        add_article(context, 1, source_engine="fake")
        assert translate_queued(context.database, context.settings).failed == 1
        assert gc.get_freeze_count() == 0
        registered_fake.drop = lambda segment, attempt: False
        add_article(context, 2, source_engine="fake")
        assert translate_queued(context.database, context.settings).done == 1
        frozen = gc.get_freeze_count()
        assert frozen > 0
        add_article(context, 3, source_engine="fake")
        assert translate_queued(context.database, context.settings).done == 1
        assert gc.get_freeze_count() <= frozen  # once per process: later objects stay collectable
    finally:
        gc.unfreeze()


def test_result_is_written_only_while_holding_the_lease(context: AppContext, registered_fake: FakeEngine) -> None:
    article_id = add_article(context, 4)
    with context.database.session() as session:
        assert claim_translations(session, "someone-else", 600)
    outcome = queue._translate(context.database, context.settings, article_id, "fake", None, "me", None)
    assert outcome.status == "lost_lease"
    translation = translation_of(context, article_id)
    assert translation.title is None and translation.lease_owner == "someone-else"


def test_engine_not_ready_stops_the_run_with_a_clear_error(
    context: AppContext, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(CATALOG, "opus-mt-en-de", replace(CATALOG["opus-mt-en-de"], url="http://127.0.0.1:9/x.zip"))
    first = add_article(context, 5)
    add_article(context, 6)
    report = translate_queued(context.database, context.settings, engine_name="ct2")
    assert report.claimed == 1 and report.aborted is not None
    assert "models pull" in report.aborted
    translation = translation_of(context, first)
    assert translation.status == "queued" and translation.error and "EngineNotReady" in translation.error
    assert translation.attempts == 0  # a missing model is not the article's fault


def test_translate_cli_runs_the_queue(data_dir: Path, registered_fake: FakeEngine) -> None:
    context = AppContext.for_data_dir(data_dir)
    article_id = add_article(context, 7)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "translate", "--engine", "fake", "--limit", "5"])
    assert result.exit_code == 0, result.output
    assert "1 done, 0 failed" in result.stdout
    assert translation_of(context, article_id).status == "done"
    context.close()


class ExplodingEngine(FakeEngine):
    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        if any("3" in s for s in segments):
            raise RuntimeError("CUDA out of memory")
        return super().translate_batch(segments, source_language, target_language)


def test_a_crashing_article_is_recorded_and_the_queue_goes_on(
    context: AppContext, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    exploding = ExplodingEngine()
    monkeypatch.setattr(translating, "resolve_engine", lambda settings, name, model: exploding)
    bad, good = add_article(context, 3), add_article(context, 8)
    report = translate_queued(context.database, context.settings)
    assert (report.claimed, report.done, report.failed) == (2, 1, 1)
    failed = translation_of(context, bad)
    assert failed.status == "queued" and failed.error == "RuntimeError: CUDA out of memory"
    assert failed.lease_owner is None
    assert translation_of(context, good).status == "done"


# The engine cannot run: quota, circuit, outage, missing model --------------------------------


@pytest.fixture
def deepl_ctx(data_dir: Path, deepl: FakeDeepL) -> Iterator[AppContext]:
    context = AppContext.for_data_dir(
        data_dir,
        engine="deepl",
        deepl_api_key=KEY,
        deepl_api_url=deepl.url,
        engine_timeout_s=0.5,
        engine_max_retries=0,
        engine_retry_base_s=0.01,
        engine_retry_max_s=0.05,
        circuit_failure_threshold=1,
        circuit_reset_s=600,
        translation_max_attempts=3,
    )
    yield context
    context.close()


def _queue_state(context: AppContext, ids: Sequence[int]) -> list[tuple[str, int]]:
    return [(t.status, t.attempts) for t in (long_article.translation_of(context, i) for i in ids)]


def _end_pauses(context: AppContext) -> None:
    """What the passing of time does: every pause and the articles' waits are over."""
    past = (utcnow() - timedelta(seconds=1)).isoformat()
    with context.database.session() as session:
        for row in session.scalars(select(ServiceState).where(ServiceState.key.startswith("pause:"))):
            row.value = {**row.value, "until": past}
        session.execute(update(Translation).where(Translation.status == "queued").values(next_attempt_at=None))


def test_a_used_up_quota_pauses_the_run_worker_and_spends_no_attempts(deepl_ctx: AppContext, deepl: FakeDeepL) -> None:
    deepl.character_limit = 10
    ids = [long_article.add_article(deepl_ctx, number=n) for n in range(4)]
    worker = PipelineService(deepl_ctx, RunOptions(serve=False))
    assert worker.translate_step() == 0  # tried one article, hit the quota: idle, don't spin
    requests = len(deepl.calls("/v2/translate"))
    assert [worker.translate_step() for _ in range(5)] == [0] * 5
    assert len(deepl.calls("/v2/translate")) == requests  # paused: no further engine calls
    assert _queue_state(deepl_ctx, ids) == [("queued", 0)] * 4  # more steps than max_attempts, none spent
    assert all(long_article.translation_of(deepl_ctx, i).next_attempt_at for i in ids)
    (pause,) = collect_status(deepl_ctx.database, deepl_ctx.settings).paused
    assert pause["subject"] == "deepl" and pause["reason"].startswith("QuotaExceeded") and pause["until"]

    deepl.character_limit = 10**7  # the quota renews; time passes
    _end_pauses(deepl_ctx)
    while worker.translate_step():
        pass
    assert _queue_state(deepl_ctx, ids) == [("done", 1)] * 4
    assert collect_status(deepl_ctx.database, deepl_ctx.settings).paused == []


def test_the_celery_translate_task_stops_at_a_used_up_quota(
    deepl_ctx: AppContext, deepl: FakeDeepL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "_context", deepl_ctx)
    deepl.character_limit = 10
    ids = [long_article.add_article(deepl_ctx, number=n) for n in range(6)]
    assert tasks.translate_batch() == 0
    assert tasks.translate_batch() == 0
    assert _queue_state(deepl_ctx, ids) == [("queued", 0)] * 6


def test_an_outage_then_an_open_circuit_keep_the_queue_waiting(deepl_ctx: AppContext, deepl: FakeDeepL) -> None:
    ids = [long_article.add_article(deepl_ctx, number=n) for n in range(3)]
    deepl.inject(Fault(status=502, path="/v2/translate"))  # down through all (zero) retries: circuit opens
    report = translate_queued(deepl_ctx.database, deepl_ctx.settings)
    assert report.claimed == 1 and report.aborted and report.aborted.startswith("EngineUnavailable")
    _end_pauses(deepl_ctx)  # our pause is over, but the engine's circuit is still open (600 s)
    report = translate_queued(deepl_ctx.database, deepl_ctx.settings)
    assert report.aborted and report.aborted.startswith("CircuitOpen")
    (pause,) = collect_status(deepl_ctx.database, deepl_ctx.settings).paused
    # The queue waits as long as the circuit does, not a fixed short backoff.
    assert pause["count"] == 2 and pause["until"] >= (utcnow() + timedelta(seconds=500)).isoformat()
    assert (
        translate_queued(deepl_ctx.database, deepl_ctx.settings).deferred == 2
    )  # the others wait for the circuit too, untried
    assert _queue_state(deepl_ctx, ids) == [("queued", 0)] * 3


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "No such file or directory"), (b"Kyiv\tKiew\n\xff\xfe broken\n", "is not UTF-8 text")],
)
def test_a_broken_glossary_stops_the_run_once_and_leaves_the_articles_alone(
    data_dir: Path, registered_fake: FakeEngine, content: bytes | None, reason: str
) -> None:
    glossary = data_dir / "glossary.tsv"
    if content is not None:
        glossary.write_bytes(content)
    context = AppContext.for_data_dir(data_dir, glossary_path=glossary)
    ids = [add_article(context, n, source_engine="fake") for n in range(3)]
    report = translate_queued(context.database, context.settings)
    assert report.aborted and report.aborted.startswith("GlossaryError") and str(glossary) in report.aborted
    assert reason in report.aborted and report.claimed == 0 and registered_fake.calls == []
    assert PipelineService(context, RunOptions(serve=False)).translate_step() == 0
    rows = [translation_of(context, i) for i in ids]
    assert [(t.status, t.attempts, t.error) for t in rows] == [("queued", 0, None)] * 3
    (pause,) = collect_status(context.database, context.settings).paused
    assert pause["subject"] == "glossary" and pause["until"] is None and reason in pause["reason"]

    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")  # fixed: the queue goes on by itself
    assert translate_queued(context.database, context.settings).done == 3
    assert collect_status(context.database, context.settings).paused == []
    context.close()


class SlowEngine(FakeEngine):
    """Translates only after its lease was renewed twice, then lets an intruder try to take over."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.taken_over: list[int] | None = None

    def _expiry(self) -> object:
        with self.context.database.session() as session:
            return session.scalars(select(Translation.lease_expires_at)).one()

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        if self.taken_over is None:
            seen = [self._expiry()]
            deadline = time.monotonic() + 10  # a bound on waiting; without renewal the lease just expires
            while len(set(seen)) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
                seen.append(self._expiry())
            with self.context.database.session() as session:
                self.taken_over = claim_translations(session, "intruder", 60)
        return super().translate_batch(segments, source_language, target_language)


def test_the_lease_is_renewed_while_a_slow_article_is_translated(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = AppContext.for_data_dir(data_dir, lease_seconds=1)  # renewed every third of a second
    slow = SlowEngine(context)
    monkeypatch.setattr(translating, "resolve_engine", lambda settings, name, model: slow)
    article_id = add_article(context, 9)
    report = translate_queued(context.database, context.settings, engine_name="fake")
    assert slow.taken_over == []  # still ours after several lease lengths
    assert (report.done, report.lost_lease) == (1, 0)
    assert translation_of(context, article_id).status == "done"
    context.close()


class InterruptedEngine(FakeEngine):
    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        raise KeyboardInterrupt


def test_ctrl_c_mid_article_gives_the_lease_back(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(translating, "resolve_engine", lambda settings, name, model: InterruptedEngine())
    article_id = add_article(context, 10)
    with pytest.raises(KeyboardInterrupt):
        translate_queued(context.database, context.settings, engine_name="fake")
    translation = translation_of(context, article_id)
    assert (translation.status, translation.lease_owner, translation.attempts) == ("queued", None, 0)


def test_characters_xml_forbids_are_dropped_from_engine_output(
    context: AppContext, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = registered_fake.translate_batch

    def noisy(segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        return [with_controls(text) for text in original(segments, source_language, target_language)]

    monkeypatch.setattr(registered_fake, "translate_batch", noisy)
    article_id = add_article(context, 1)
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    translation = translation_of(context, article_id)
    assert translation.title == "Der Markt stieg 1"
    for paragraph in translation.paragraphs:
        assert not XML_FORBIDDEN_RE.search(paragraph["html"]), paragraph


# A finished translation is published or held by its source's policy, whoever translated it ----


def _add_with_policy(context: AppContext, number: int, policy: str) -> int:
    article_id = add_article(context, number)
    with context.database.session() as session:
        source = Source(
            url=f"https://policy.example/{number}", name=f"Policy {policy}", publish_policy=policy, enabled=False
        )
        session.add(source)
        session.flush()
        session.get_one(Article, article_id).source_id = source.id
    return article_id


def _publication_status(context: AppContext, article_id: int) -> str | None:
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        return translation.publication.status if translation.publication else None


def test_translate_cli_publishes_or_holds_by_the_source_policy(data_dir: Path, registered_fake: FakeEngine) -> None:
    context = AppContext.for_data_dir(data_dir)
    auto, held = _add_with_policy(context, 21, "auto"), _add_with_policy(context, 22, "review")
    result = CliRunner().invoke(app, ["--data", str(data_dir), "translate", "--engine", "fake"])
    assert result.exit_code == 0, result.output
    assert _publication_status(context, auto) == "published"
    assert _publication_status(context, held) == "held"
    with context.database.session() as session:
        queue = review_queue(session, context.settings)
        assert [item.article_id for item in queue] == [held]
        assert [view.title for view in latest(session, "de", 10)] == ["Der Markt stieg 21"]
    context.close()


def test_every_entry_point_publishes_a_finished_translation(
    context: AppContext, registered_fake: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A direct call with the publisher every entry point hands the translate stage; `run`; a worker.
    direct = _add_with_policy(context, 31, "auto")
    assert translate_article(
        context.database, context.settings, direct, engine_name="fake", on_done=publisher(context.settings)
    ).complete
    queued = _add_with_policy(context, 32, "auto")
    assert PipelineService(context, RunOptions(serve=False, build=False, engine="fake")).translate_step() == 1
    monkeypatch.setattr(tasks, "_context", context)
    monkeypatch.setattr(tasks.publish_translation, "delay", lambda translation_id: None)  # no broker here
    worker = _add_with_policy(context, 33, "auto")
    assert tasks.translate_batch(engine="fake") == 1
    assert [_publication_status(context, a) for a in (direct, queued, worker)] == ["published"] * 3


def test_translations_left_without_a_publication_are_repaired_at_start(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    # As an older `presseschau translate` left them: done, but never published nor held.
    auto, held = _add_with_policy(context, 41, "auto"), _add_with_policy(context, 42, "review")
    assert translate_queued(context.database, context.settings, engine_name="fake").done == 2  # no publisher handed in
    assert _publication_status(context, auto) is None
    PipelineService(context, RunOptions(serve=False, build=False)).run_once()
    assert (_publication_status(context, auto), _publication_status(context, held)) == ("published", "held")


def test_an_editors_retranslation_publishes_by_the_source_policy(
    context: AppContext, registered_fake: FakeEngine
) -> None:
    article_id = _add_with_policy(context, 51, "auto")
    # Without the publisher, as an older CLI left it.
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        retranslate_paragraph(context.settings, session, translation, 1, "anna", "fake")
    assert _publication_status(context, article_id) == "published"
