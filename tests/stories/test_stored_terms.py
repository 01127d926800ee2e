"""Candidate retrieval for the production grouping: the stored stories' terms a process keeps
(`StoredIndex`, `service.stored_terms`), brought up to date from the database across processes, and
`group_pending` loading only the stories they find."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from presseschau.app import AppContext
from presseschau.store.models import StoryArticle, StoryRevision
from presseschau.stories import grouping, service
from presseschau.stories.grouping import StoredIndex, StoryDoc
from presseschau.stories.vectors import TermStats
from tests.publish.factories import make_article
from tests.stories.story_data import QUAKE, STARSHIP, publish_event
from tests.stories.test_grouping_production import ATTACK
from tests.stories.test_grouping_production import BACKGROUND as NEWS
from tests.stories.test_grouping_signals import ARRESTS, QUAKES

DAY = datetime(2026, 3, 2, 8, tzinfo=UTC)


def _doc(key: str, title: str, text: str) -> StoryDoc:
    return StoryDoc(key, title, text, time=DAY)


def test_stored_index_finds_the_stories_of_the_days_that_share_telling_terms() -> None:
    stats = TermStats()
    index = StoredIndex()
    for number in range(6):  # background, so that the shared words weigh little
        index.place(
            _doc(f"bg{number}", f"Council meets {number}", "The council said it would meet."),
            100 + number,
            "2026-03-02",
            stats,
        )
    index.place(_doc("q1", "Quake in Malatya", "AFAD said the Malatya quake killed 12."), 1, "2026-03-02", stats)
    index.place(_doc("r1", "Starship reaches orbit", "SpaceX said Starship reached orbit."), 2, "2026-03-02", stats)
    index.place(_doc("q0", "Malatya quake of 1999", "AFAD recalls the Malatya quake."), 3, "2026-02-01", stats)
    late = _doc("q2", "Malatya rescuers search rubble", "AFAD rescuers in Malatya searched the rubble.")
    assert index.candidates([late], stats, "2026-03-01", "2026-03-03") == {1}  # not 3: another day
    assert index.candidates([late], stats, "2026-01-30", "2026-03-03") == {1, 3}
    # An editor moved the first quake report into story 7: its terms now find story 7.
    assert index.move("q1", 7, "2026-03-02")
    assert index.candidates([late], stats, "2026-03-01", "2026-03-03") == {7}
    assert not index.move("unknown", 7, "2026-03-02")
    assert len(index) == 9


def test_stored_index_reads_a_bounded_number_of_each_terms_latest_stories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grouping, "MAX_POSTING", 2)
    monkeypatch.setattr(grouping, "COMMON_SHARE", 1.0)
    stats = TermStats()
    index = StoredIndex()
    for number in range(5):
        index.place(_doc(f"k{number}", "Kowalski speaks", f"Kowalski said {number}."), number, "2026-03-02", stats)
    found = index.candidates([_doc("new", "Kowalski", "Kowalski again.")], stats, "2026-03-01", "2026-03-03")
    assert found == {3, 4}  # the latest two stories holding the name


def _groups_by_key(context: AppContext, keys: dict[int, str]) -> list[list[str]]:
    with context.database.session() as session:
        rows = session.execute(select(StoryArticle.story_id, StoryArticle.translation_id)).all()
    by_story: dict[int, list[str]] = {}
    for story_id, translation_id in rows:
        by_story.setdefault(story_id, []).append(keys[translation_id])
    return sorted(sorted(members) for members in by_story.values())


def _publish_docs(context: AppContext, docs: list[StoryDoc]) -> dict[int, str]:
    """Each of `docs` published on its own (one grouping each), in time order; translation ID → key."""
    keys = {}
    for doc in sorted(docs, key=lambda d: (d.time or DAY, d.key)):
        with context.database.session() as session:
            made = make_article(
                session,
                context.settings,
                title_en=doc.title,
                body_en=[doc.text],
                title_de=doc.title,
                body_de=[doc.text],
                published_at=doc.time,
            )
        keys[made.translation_id] = doc.key
    return keys


def test_candidates_group_as_every_story_of_the_window_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same articles, published one at a time into two databases: once as production groups them
    # (only the stories the stored terms find are loaded), once with every story of the window given
    # (as before candidate retrieval). The stories must come out the same.
    docs = [*NEWS, *ATTACK, *QUAKES, *ARRESTS]
    found = AppContext.for_data_dir(tmp_path / "candidates")
    every = AppContext.for_data_dir(tmp_path / "every")
    try:
        keys = _publish_docs(found, docs)

        def every_story(self: StoredIndex, docs: list[StoryDoc], stats: TermStats, low: str, high: str) -> set[int]:
            return {story for story, day in self.day_of.items() if low <= day <= high}

        monkeypatch.setattr(StoredIndex, "candidates", every_story)
        every_keys = _publish_docs(every, docs)
        grouped = _groups_by_key(found, keys)
        assert grouped == _groups_by_key(every, every_keys)
        assert ["attack", "raid", "suspect", "victims", "vigil"] in grouped  # and they are stories indeed
    finally:
        found.close()
        every.close()


def test_grouping_loads_only_the_stories_the_terms_find(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        for number, doc in enumerate(NEWS):  # more stories of the same days
            make_article(
                session,
                context.settings,
                title_en=doc.title,
                body_en=[doc.text],
                title_de=doc.title,
                body_de=[doc.text],
                published_at=QUAKE[0][5] + timedelta(minutes=number),
            )
    loaded: list[set[int]] = []
    stories = service._stories

    def spy(session: object, settings: object, story_ids: set[int], low: str, high: str) -> object:
        loaded.append(set(story_ids))
        return stories(session, settings, story_ids, low, high)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_stories", spy)
    with context.database.session() as session:
        late = publish_event(session, context.settings, [("Third Paper", *QUAKE[0][1:])])
        quake_story = session.get(StoryArticle, quake[0].translation_id).story_id  # type: ignore[union-attr]
        assert session.get(StoryArticle, late[0].translation_id).story_id == quake_story  # type: ignore[union-attr]
        all_stories = len(set(session.scalars(select(StoryArticle.story_id)).all()))
    assert quake_story in loaded[-1]
    assert len(loaded[-1]) < all_stories - 3  # not the window's every story


@contextmanager
def another_process() -> Iterator[None]:
    """What a second worker process sees: none of this process's kept terms, corpus or look-backs."""
    stored, corpora, backlog = dict(service._STORED), dict(service._CORPORA), dict(service._BACKLOG)
    for table in (service._STORED, service._CORPORA, service._BACKLOG):
        table.clear()
    try:
        yield
    finally:
        service._STORED.clear()
        service._STORED.update(stored)
        service._CORPORA.clear()
        service._CORPORA.update(corpora)
        service._BACKLOG.clear()
        service._BACKLOG.update(backlog)


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_a_process_learns_the_stories_other_processes_made_and_editors_moved(
    database: str, request: pytest.FixtureRequest
) -> None:
    context: AppContext = request.getfixturevalue("context" if database == "sqlite" else "postgres_context")
    context.database.migrate()
    settings = context.settings
    with context.database.session() as session:
        quake = publish_event(session, settings, QUAKE[:1])  # this process knows the quake's story
    with another_process(), context.database.session() as session:
        rocket = publish_event(session, settings, STARSHIP[:1])  # another one opens the rocket's story
    with context.database.session() as session:
        # This process had never seen it: the rocket's second report still joins it.
        second = publish_event(session, settings, STARSHIP[1:])
        rocket_story = session.get(StoryArticle, rocket[0].translation_id).story_id  # type: ignore[union-attr]
        assert session.get(StoryArticle, second[0].translation_id).story_id == rocket_story  # type: ignore[union-attr]
        quake_story = session.get(StoryArticle, quake[0].translation_id).story_id  # type: ignore[union-attr]
    with another_process(), context.database.session() as session:
        service.merge(session, quake_story, [rocket_story], "anna")  # an editor, in the web process
    with context.database.session() as session:
        stats = service.recent_terms(session, settings)
        stored = service.stored_terms(session, settings, stats, "2026-11-06", "2026-11-12")
        assert stored.index.story_of[str(rocket[0].translation_id)] == quake_story
        doc = service.story_doc(session.get(StoryArticle, second[0].translation_id).translation)  # type: ignore[union-attr]
        assert stored.index.candidates([doc], stats, "2026-11-06", "2026-11-12") == {quake_story}


def test_a_database_behind_this_process_is_read_afresh(context: AppContext) -> None:
    # A backup put back: its change numbers are behind the ones this process has read.
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        stats = service.recent_terms(session, context.settings)
        before = service.stored_terms(session, context.settings, stats, "2026-11-06", "2026-11-12")
        assert before.revision > 0 and len(before.index) == 2
        session.execute(update(StoryRevision).values(value=0))
        after = service.stored_terms(session, context.settings, stats, "2026-11-06", "2026-11-12")
        assert after is not before and len(after.index) == 2 and after.revision == 0


def test_a_publication_looks_for_older_ungrouped_articles_once_per_process(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "RECENT_PUBLICATIONS", 1)
    monkeypatch.setattr(service, "group_pending", lambda *_: None)  # grouping fails: they stay out
    with context.database.session() as session:
        left = publish_event(session, context.settings, QUAKE)
    monkeypatch.undo()
    monkeypatch.setattr(service, "RECENT_PUBLICATIONS", 1)
    with context.database.session() as session:
        # The process's first grouping looks at every publication: the two left out are placed too.
        rocket = publish_event(session, context.settings, STARSHIP[:1])
        assert service.group_pending(session, context.settings, limit=service.PUBLISH_BATCH).placed == 0
        placed = session.scalars(select(StoryArticle.translation_id)).all()
    assert sorted(placed) == sorted([*(m.translation_id for m in left), rocket[0].translation_id])
    with context.database.session() as session:
        session.execute(delete(StoryArticle).where(StoryArticle.translation_id == left[0].translation_id))
        # Afterwards a publication looks among the latest publications only (here: one) …
        assert service.group_pending(session, context.settings, limit=service.PUBLISH_BATCH).placed == 0
        # … and `stories group` (no limit) at all of them.
        assert service.group_pending(session, context.settings).placed == 1


def test_the_production_scale_benchmark_groups_through_the_database(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "bench"))
    try:
        import stories as bench
    finally:
        sys.path.remove(str(root / "bench"))
    costs = bench.production_scale((30, 90), probes=4)
    assert sorted(costs) == [30, 90] and all(cost > 0 for cost in costs.values())
    out = capsys.readouterr().out
    assert "ms per article through group_pending" in out and "90 vs 30 in the window" in out
