"""The Celery tasks against a real Redis broker, called in-process: bounded dispatch, idempotence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.pipeline import tasks
from presseschau.store.models import Article, Publication, Source, Translation
from tests.pipeline.distributed import REDIS_TEST_URL, fresh_broker
from tests.store.factories import queued_articles

pytestmark = pytest.mark.redis


@pytest.fixture
def broker(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AppContext, redis.Redis]]:
    try:
        url = fresh_broker()
    except redis.ConnectionError as error:
        pytest.skip(f"Redis not reachable at {REDIS_TEST_URL}: {error}")
    context = AppContext.for_data_dir(data_dir, broker_url=url)
    tasks.configure(context.settings)
    monkeypatch.setattr(tasks, "_context", context)
    yield context, redis.Redis.from_url(url)
    tasks.celery_app.close()
    fresh_broker()
    context.close()


def test_dispatch_tops_up_translate_tasks_instead_of_piling_them_up(
    broker: tuple[AppContext, redis.Redis],
) -> None:
    context, client = broker
    queued_articles(context, 10)
    expected = -(-10 // tasks.TRANSLATE_BATCH)
    assert tasks.dispatch()["translate_tasks"] == expected
    for _ in range(3):  # beats while no translate worker runs: nothing more is sent
        assert tasks.dispatch()["translate_tasks"] == 0
    assert client.llen("translate") == expected == tasks.waiting_tasks("translate")
    client.lpop("translate")  # a worker took one
    assert tasks.dispatch()["translate_tasks"] == 1


def test_a_source_is_sent_to_fetch_once_while_its_poll_is_pending(broker: tuple[AppContext, redis.Redis]) -> None:
    context, client = broker
    with context.database.session() as session:
        session.add(Source(url="https://x.example/feed", name="X"))
    assert tasks.poll_due_sources() == 1
    assert [tasks.poll_due_sources() for _ in range(3)] == [0, 0, 0]  # still queued: not sent again
    assert client.llen("fetch") == 1


def test_publishing_a_published_translation_again_changes_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = AppContext.for_data_dir(data_dir)
    monkeypatch.setattr(tasks, "_context", context)
    with context.database.session() as session:
        article = Article(url="https://x.example/a", canonical_url="https://x.example/a", revision=1, title="A")
        session.add(article)
        session.flush()
        translation = Translation(
            article_id=article.id,
            language="de",
            status="done",
            title="Der Markt stieg",
            paragraphs=paragraphs_to_json([Paragraph("p", "Die Preise fielen.")]),
        )
        session.add(translation)
        session.flush()
        translation_id = translation.id

    def published_at() -> tuple[str, object]:
        with context.database.session() as session:
            publication = session.scalars(select(Publication)).one()
            return publication.status, publication.updated_at

    assert tasks.publish_translation(translation_id) == "published"
    first = published_at()
    assert tasks.publish_translation(translation_id) == "published"  # a redelivered task
    assert published_at() == first  # not re-stamped (feeds, sitemaps, caches) nor re-indexed
    context.close()
