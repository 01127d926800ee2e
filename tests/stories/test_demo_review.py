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
    assert covered[date(2026, 11, 24)] == [2, 2]  # the Inchmorra ferry, Lukashenko's Minsk offer
    assert sum(len(found) for found in covered.values()) == 5
    assert len(days) == 9


def test_demo_latest_review_has_several_stories_from_several_outlets(context: AppContext) -> None:
    """The demo's landing page (/presseschau/) shows the latest day: it must not look empty."""
    load_demo_site(context)
    with context.database.session() as session:
        latest = max(service.public_days(session, context.settings))
        stories = service.review(session, context.settings, latest)
        # Each story by the URLs of its originals: two reports of an event together, events apart.
        groups = sorted(sorted(m.article.canonical_url for m in item.members) for item in stories)
    assert latest == date(2026, 11, 24)
    assert len(stories) >= 3
    assert sum(1 for item in stories if item.outlets >= 2) >= 2
    assert sorted(len(urls) for urls in groups) == [1, 2, 2]
    for event in ("lukashenko", "inchmorra"):  # the Minsk offer (analysis and report), the ferry aground
        reports = next(urls for urls in groups if any(event in url for url in urls))
        assert len(reports) == 2 and all(event in url for url in reports), groups
