"""Stories in the store: grouping on publication, idempotence, editors' changes, the day's review, release."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from presseschau.app import AppContext
from presseschau.publish.service import publish, publish_all, unpublish
from presseschau.store.models import Article, Story, StoryArticle
from presseschau.stories import service
from tests.publish.factories import make_article
from tests.stories.story_data import QUAKE, STARSHIP, publish_event

DAY = date(2026, 11, 9)


def _groups(context: AppContext) -> list[list[int]]:
    with context.database.session() as session:
        rows = session.execute(select(StoryArticle.story_id, StoryArticle.translation_id)).all()
    by_story: dict[int, list[int]] = {}
    for story_id, translation_id in rows:
        by_story.setdefault(story_id, []).append(translation_id)
    return sorted(sorted(members) for members in by_story.values())


def test_publishing_groups_reports_of_one_event_across_outlets(context: AppContext) -> None:
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        rocket = publish_event(session, context.settings, STARSHIP)
    assert _groups(context) == sorted(
        [sorted(p.translation_id for p in quake), sorted(p.translation_id for p in rocket)]
    )
    with context.database.session() as session:
        found = service.review(session, context.settings, DAY)
        assert [item.outlets for item in found] == [2, 2]
        titles = {report[2] for report in QUAKE + STARSHIP}
        assert all(item.headline in titles for item in found)  # the fullest report's German title
        assert found[0].span[0] <= found[0].span[1]


def test_regrouping_is_idempotent_and_keeps_editors_decisions(context: AppContext) -> None:
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        rocket = publish_event(session, context.settings, STARSHIP)
    with context.database.session() as session:
        assert service.group_pending(session, context.settings) == service.GroupReport(0, 0)
        quake_story = session.get_one(StoryArticle, quake[0].translation_id).story_id
        rocket_story = session.get_one(StoryArticle, rocket[0].translation_id).story_id
        service.set_headline(session, quake_story, "  Beben in der\x01 Westtürkei  ", "anna")
        new = service.split(session, rocket_story, [rocket[1].translation_id], "anna", context.settings)
        service.merge(session, quake_story, [new.id], "anna")
    before = _groups(context)
    with context.database.session() as session:
        assert service.group_pending(session, context.settings).placed == 0
        # A new article of the quake joins the edited story; the merged rocket report stays where the editor put it.
        late = publish_event(session, context.settings, [("Third Paper", *QUAKE[0][1:])])
    after = _groups(context)
    assert len(after) == len(before) == 2
    assert next(g for g in after if late[0].translation_id in g) == sorted(
        [quake[0].translation_id, quake[1].translation_id, rocket[1].translation_id, late[0].translation_id]
    )
    with context.database.session() as session:
        assert session.get_one(Story, quake_story).headline == "Beben in der Westtürkei"
        assert session.scalar(select(func.count(Story.id))) == 2


def test_editors_changes_are_validated(context: AppContext) -> None:
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        story_id = session.get_one(StoryArticle, quake[0].translation_id).story_id
        with pytest.raises(service.StoryError):
            service.split(
                session, story_id, [quake[0].translation_id, quake[1].translation_id], "anna", context.settings
            )
        with pytest.raises(service.StoryError):
            service.split(session, story_id, [999], "anna", context.settings)
        with pytest.raises(service.StoryError):
            service.merge(session, story_id, [story_id], "anna")
        with pytest.raises(service.StoryError):
            service.set_headline(session, story_id, "x" * 301, "anna")
        with pytest.raises(service.StoryError):
            service.get_story(session, 4242)
        service.set_headline(session, story_id, "", "anna")
        assert service.get_story(session, story_id).headline is None


def test_review_order_coverage_first_then_editor(context: AppContext) -> None:
    with context.database.session() as session:
        quake = publish_event(session, context.settings, QUAKE)
        lone = publish_event(session, context.settings, [STARSHIP[0]])
        found = service.review(session, context.settings, DAY)
        assert [len(item.members) for item in found] == [2, 1]
        lone_story = session.get_one(StoryArticle, lone[0].translation_id).story_id
        service.reorder(session, context.settings, DAY, [lone_story], "anna")
        assert next(item.story.id for item in service.review(session, context.settings, DAY)) == lone_story
        with pytest.raises(service.StoryError):
            service.reorder(session, context.settings, DAY, [4242], "anna")
        # An unpublished article leaves the review; the story stays for when it returns.
        unpublish(session, context.settings, quake[0].article_id)
        assert sorted(len(i.members) for i in service.review(session, context.settings, DAY)) == [1, 1]
        publish(session, context.settings, quake[0].article_id)
        assert sorted(len(i.members) for i in service.review(session, context.settings, DAY)) == [1, 2]


def test_the_day_is_the_local_day(context: AppContext) -> None:
    late = datetime(2026, 11, 9, 23, 30, tzinfo=UTC)  # 00:30 on the 10th in Berlin
    assert service.local_day(late, context.settings) == date(2026, 11, 10)
    with context.database.session() as session:
        made = make_article(session, context.settings, published_at=late, title_de="Spät", title_en="Late")
        story_id = session.get_one(StoryArticle, made.translation_id).story_id
        assert service.get_story(session, story_id).day == "2026-11-10"
        assert service.parse_day("2026-11-10") == date(2026, 11, 10)
        with pytest.raises(ValueError):
            service.parse_day("10.11.2026")


def test_release_policy_auto_at_the_hour_review_waits(context: AppContext) -> None:
    settings = context.settings
    before = datetime(2026, 11, 9, 16, 59, tzinfo=UTC)  # 17:59 in Berlin
    after = datetime(2026, 11, 9, 17, 0, tzinfo=UTC)
    with context.database.session() as session:
        publish_event(session, settings, QUAKE)
        assert service.review_state(session, settings, DAY, before).state == "scheduled"
        assert not service.review_state(session, settings, DAY, before).public
        assert service.review_state(session, settings, DAY, after).public
        assert service.public_days(session, settings, after) == [DAY]
        service.withdraw(session, settings, DAY, "anna")
        assert not service.review_state(session, settings, DAY, after).public
        service.release(session, settings, DAY, "anna")
        assert service.review_state(session, settings, DAY, before).state == "released"
        with pytest.raises(service.StoryError):
            service.release(session, settings, date(2026, 1, 1), "anna")
    waiting = settings.model_copy(update={"press_review_policy": "review"})
    with context.database.session() as session:
        assert service.review_state(session, waiting, date(2026, 11, 10), after).state == "waiting"
        assert service.review_state(session, waiting, DAY, after).public  # released above


def test_grouping_failure_never_blocks_publishing(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "group_pending", broken)
    with context.database.session() as session:
        made = publish_event(session, context.settings, [QUAKE[0]])
    assert made[0].slug
    assert _groups(context) == []
    monkeypatch.undo()
    with context.database.session() as session:
        assert service.group_pending(session, context.settings).placed == 1


def test_publish_all_groups_every_article_it_publishes(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # One publication places a bounded batch; `publish --all` must place every article it publishes,
    # else the rest stay out of the review until some later publication or `stories group`.
    monkeypatch.setattr(service, "PUBLISH_BATCH", 2)
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE + STARSHIP, publish=False)
        assert publish_all(session, context.settings) == 4
    assert sum(len(members) for members in _groups(context)) == 4


def test_a_date_only_original_is_on_its_own_day_in_any_time_zone(context: AppContext) -> None:
    # A source that gives only "2026-11-09" is stored as midnight UTC; west of UTC that moment is the
    # evening before, but the original says the 9th: its story belongs to the 9th's review.
    settings = context.settings.model_copy(update={"timezone": "America/New_York"})
    with context.database.session() as session:
        made = make_article(
            session, settings, published_at=datetime(2026, 11, 9, tzinfo=UTC), title_de="Datum", publish=False
        )
        article = session.get(Article, made.article_id)
        assert article is not None
        article.published_date_only = True
        publish(session, settings, made.article_id)
        story_id = session.get_one(StoryArticle, made.translation_id).story_id
        assert service.get_story(session, story_id).day == "2026-11-09"


def test_merge_names_a_story_twice(context: AppContext) -> None:
    # A form or command line may name a story twice (`stories merge 1 2 2`): merged once, no error.
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        first, second = (item.story.id for item in service.review(session, context.settings, DAY))
        merged = service.merge(session, first, [second, second, first], "anna")
        assert len(merged.members) == 4
    assert [len(members) for members in _groups(context)] == [4]


@pytest.mark.postgres
def test_concurrent_publishers_group_one_event_into_one_story(postgres_context: AppContext) -> None:
    # Two workers publishing reports of the same event at the same moment: each grouping must see
    # the other's, or the event becomes two stories that no later run joins (grouping never moves).
    context = postgres_context
    context.database.migrate()
    with context.database.session() as session:
        made = publish_event(session, context.settings, QUAKE + STARSHIP, publish=False)
    barrier = threading.Barrier(len(made))
    errors: list[BaseException] = []

    def publish_one(article_id: int) -> None:
        try:
            with context.database.session() as session:
                barrier.wait()
                publish(session, context.settings, article_id)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=publish_one, args=(m.article_id,)) for m in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _groups(context) == sorted(
        [sorted(m.translation_id for m in made[:2]), sorted(m.translation_id for m in made[2:])]
    )


def test_merge_refuses_a_story_of_another_language(context: AppContext) -> None:
    # One database may hold the stories of several target languages; the command line takes any ID.
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        (item,) = service.review(session, context.settings, DAY)
        french = Story(language="fr", day=DAY.isoformat())
        session.add(french)
        session.flush()
        with pytest.raises(service.StoryError):
            service.merge(session, item.story.id, [french.id], "anna")
        with pytest.raises(service.StoryError):
            service.merge(session, french.id, [item.story.id], "anna")
        assert len(service.get_story(session, item.story.id).members) == 2


def test_grouping_keeps_a_sliding_corpus_per_database(context: AppContext) -> None:
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        stats = service.recent_terms(session, context.settings)
        counted = len(stats)
        assert counted >= len(QUAKE)  # the published reports, counted when the grouping began
        publish_event(session, context.settings, STARSHIP)
        # The same corpus, grown by the new articles only (nothing counted twice).
        assert service.recent_terms(session, context.settings) is stats
        assert len(stats) == counted + len(STARSHIP)
