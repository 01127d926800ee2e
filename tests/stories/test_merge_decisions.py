"""Merging stories keeps the editors' decisions: headline, order, key passages (issue 22, item 15);
a merged story's page redirects to the story it became part of."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.store.models import Story, StoryRedirect
from presseschau.stories import key_passages, service
from presseschau.web.app import create_app
from tests.stories.story_data import QUAKE, STARSHIP, publish_event

DAY = date(2026, 11, 9)


def _two_stories(context: AppContext) -> tuple[int, int]:
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP)
        quake, starship = (item.story.id for item in service.review(session, context.settings, DAY))
    return quake, starship


def test_the_merged_storys_headline_survives(context: AppContext) -> None:
    """Headline set on story A, then B "Zusammenführen mit A" (B is the target): before the fix the
    public headline reverted to a machine title."""
    first, second = _two_stories(context)
    with context.database.session() as session:
        service.set_headline(session, first, "Beben in der Westtürkei", "anna")
        service.reorder(session, context.settings, DAY, [first], "anna")
    with context.database.session() as session:
        merged = service.merge(session, second, [first], "ben")
        assert merged.headline == "Beben in der Westtürkei"
        assert merged.position == 1
    with context.database.session() as session:
        (item,) = service.review(session, context.settings, DAY)
        assert item.headline == "Beben in der Westtürkei" and item.story.id == second


def test_two_editors_headlines_ask_which_wins(context: AppContext) -> None:
    first, second = _two_stories(context)
    with context.database.session() as session:
        service.set_headline(session, first, "Beben", "anna")
        service.set_headline(session, second, "Starship", "ben")
    with pytest.raises(service.StoryError, match="headline-from"), context.database.session() as session:
        service.merge(session, first, [second], "anna")
    with pytest.raises(service.StoryError, match="not one of the merged"), context.database.session() as session:
        service.merge(session, first, [second], "anna", headline_from=999)
    with context.database.session() as session:
        assert service.merge(session, first, [second], "anna", headline_from=second).headline == "Starship"


def test_the_same_headline_twice_is_no_question(context: AppContext) -> None:
    first, second = _two_stories(context)
    with context.database.session() as session:
        service.set_headline(session, first, "Beben", "anna")
        service.set_headline(session, second, "Beben", "ben")
        assert service.merge(session, first, [second], "anna").headline == "Beben"


def test_key_passages_travel_with_their_articles(context: AppContext) -> None:
    first, second = _two_stories(context)
    with context.database.session() as session:
        member = service.get_story(session, second).members[0]
        key_passages.write_passage(session, member.translation_id, "Die Redaktion fasst zusammen.", "anna")
        translation_id = member.translation_id
    with context.database.session() as session:
        service.merge(session, first, [second], "ben")
    with context.database.session() as session:
        (item,) = service.review(session, context.settings, DAY)
        passage = key_passages.story_passages(item)[translation_id]
        assert passage is not None
        assert passage.text == "Die Redaktion fasst zusammen."
        assert passage.editorial


def test_a_merged_storys_page_redirects_and_its_id_is_never_reused(context: AppContext) -> None:
    first, second = _two_stories(context)
    with context.database.session() as session:
        service.merge(session, first, [second], "anna")
    client = TestClient(create_app(context), follow_redirects=False)
    moved = client.get(f"/presseschau/geschichte/{second}/")
    assert moved.status_code == 301 and moved.headers["location"] == f"/presseschau/geschichte/{first}/"
    assert client.get(f"/presseschau/geschichte/{first}/").status_code == 200
    assert client.get("/presseschau/geschichte/9999/").status_code == 404
    with context.database.session() as session:
        fresh = Story(language=context.settings.target_language, day=DAY.isoformat())
        session.add(fresh)
        session.flush()
        assert fresh.id > second  # the merged story's ID (the highest) stays its redirect
        # A story merged into one that is merged later leads to the last one.
        third = Story(language=context.settings.target_language, day=DAY.isoformat())
        session.add(third)
        session.flush()
        service.merge(session, third.id, [first], "anna")
        redirect = session.get(StoryRedirect, second)
        assert redirect is not None and redirect.story_id == third.id
