"""The translations a grouping places come with their article and publication (`story_doc` reads both):
read for those the session does not hold, never read again for those it does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.publish.service import on_translation_done
from presseschau.store.models import StoryArticle, Translation
from presseschau.stories import service
from tests.stories.story_data import QUAKE, STARSHIP, publish_event


@contextmanager
def _selects_of(session: Session, tables: tuple[str, ...]) -> Iterator[list[str]]:
    """The SELECT statements on `tables` that the session's connection runs inside the block."""
    found: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        head = statement.lstrip()[:6].upper()
        if head == "SELECT" and any(f"FROM {table}" in statement for table in tables):
            found.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.parametrize("recent_only", [False, True])
def test_pending_translations_read_from_the_database_come_with_article_and_publication(
    context: AppContext, monkeypatch: pytest.MonkeyPatch, recent_only: bool
) -> None:
    monkeypatch.setattr(service, "group_pending", lambda *_: None)  # published, left ungrouped
    with context.database.session() as session:
        made = publish_event(session, context.settings, QUAKE)
    monkeypatch.undo()
    key = (str(context.database.engine.url), context.settings.target_language)
    # The first look of a process reads all publications, later ones the latest (see `_BACKLOG`).
    monkeypatch.setitem(service._BACKLOG, key, not recent_only)
    with context.database.session() as session:
        pending = service._published_translations(session, context.settings, limit=service.PUBLISH_BATCH)
        assert sorted(t.id for t in pending) == sorted(m.translation_id for m in made)
        for translation in pending:
            assert not {"article", "publication"} & inspect(translation).unloaded
        with _selects_of(session, ("articles", "publications")) as selects:
            docs = [service.story_doc(translation) for translation in pending]
        assert selects == []  # nothing left to load lazily
        assert all(doc.title and doc.german_title and doc.time is not None for doc in docs)


def test_a_publications_own_translation_is_not_read_again(context: AppContext) -> None:
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)  # grouped as published
    with context.database.session() as session:
        own = publish_event(session, context.settings, STARSHIP[:1], publish=False)[0]
        translation = session.get(Translation, own.translation_id)
        assert translation is not None
        with _selects_of(session, ("articles", "publications")) as selects:
            # Publishing reads the article and creates the publication; grouping reads neither again.
            on_translation_done(session, translation, context.settings)
        grouping_reads = [s for s in selects if "publications.translation_id IN" in s or "articles.id IN" in s]
        assert grouping_reads == []
        placed = session.scalars(
            select(StoryArticle.translation_id).where(StoryArticle.translation_id == own.translation_id)
        ).all()
        assert placed == [own.translation_id]
