"""The demo set gives a Presseschau des Tages with stories from several outlets."""

from __future__ import annotations

from datetime import date

from presseschau.app import AppContext
from presseschau.stories import service
from tests.demo_site import load_demo_site


def test_demo_has_stories_covered_by_several_outlets(context: AppContext) -> None:
    load_demo_site(context)
    with context.database.session() as session:
        days = service.public_days(session, context.settings)
        covered = {
            day: [item.outlets for item in service.review(session, context.settings, day) if item.outlets >= 2]
            for day in days
        }
    assert covered[date(2026, 11, 5)] == [3]  # the Bank of England vote
    assert covered[date(2026, 11, 2)] == [2]  # the Marrowby barrier
    assert covered[date(2026, 11, 17)] == [2]  # the Belgian rail strike
    assert sum(len(found) for found in covered.values()) == 3
    assert len(days) == 9
