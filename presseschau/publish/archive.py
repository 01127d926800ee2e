"""The archive as a calendar by the original's date: years → months → days.

Readers look for what was said on a day, so an article is filed under the day its original
appeared (in the site's time zone; a source that gave only the day keeps that day), and only an
article without a known original date under the day presseschau published it. The index is built
from one light query (ids and dates) or, in the static build, from the summaries it already has.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from babel.dates import format_date, get_day_names
from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.publish import queries
from presseschau.publish.formatting import german_month, local_datetime
from presseschau.store.models import Article, Publication, Translation


@dataclass(frozen=True, slots=True)
class MonthEntry:
    month: int
    name: str
    count: int


Years = list[tuple[int, list[MonthEntry]]]


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One cell of a month's calendar: the day (None outside the month) and its article count."""

    day: date | None
    count: int = 0


@dataclass(frozen=True, slots=True)
class DayGroup:
    """One day of a month page: its articles and, if there is one, its public Presseschau."""

    day: date
    heading: str
    items: list[queries.Summary]
    review_url: str | None


def archive_day(original: datetime | None, date_only: bool, published: datetime | None, timezone: str) -> date:
    """The day an article is filed under: the original's local day, else the day it was published here."""
    if original is None:
        assert published is not None
        return local_datetime(published, timezone).date()
    if date_only:
        return original.date()  # stored as that day's midnight: no time zone shift
    return local_datetime(original, timezone).date()


def summary_day(summary: queries.Summary, timezone: str) -> date:
    return archive_day(summary.original_published_at, summary.original_date_only, summary.published_at, timezone)


@lru_cache(maxsize=4096)
def day_heading(day: date) -> str:
    """`Donnerstag, 5. November 2026`."""
    return str(format_date(day, "EEEE, d. MMMM y", locale="de"))


def weekday_names() -> list[tuple[str, str]]:
    """(abbreviation, full name) Monday first, for the calendar's column heads."""
    short = get_day_names("abbreviated", locale="de")
    wide = get_day_names("wide", locale="de")
    return [(str(short[i]), str(wide[i])) for i in range(7)]


@dataclass
class ArchiveIndex:
    """Publication ids by archive day, each day's ids in the lists' order (newest first)."""

    days: dict[date, list[int]] = field(default_factory=dict)

    @classmethod
    def from_summaries(cls, summaries: Iterable[queries.Summary], timezone: str) -> ArchiveIndex:
        index = cls()
        for summary in summaries:
            index.days.setdefault(summary_day(summary, timezone), []).append(summary.publication_id)
        return index

    @classmethod
    def load(cls, session: Session, language: str, timezone: str) -> ArchiveIndex:
        rows = session.execute(
            select(Publication.id, Article.published_at, Article.published_date_only, Publication.published_at)
            .join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .where(queries._published(language))
            .order_by(*queries._NEWEST_FIRST)
        )
        index = cls()
        for publication_id, original, date_only, published in rows:
            if published is None and original is None:
                continue  # a published row always has its time; nothing to file it under otherwise
            day = archive_day(original, bool(date_only), published, timezone)
            index.days.setdefault(day, []).append(int(publication_id))
        return index

    def years(self) -> Years:
        """Months with their article counts by year, newest first."""
        counts: dict[tuple[int, int], int] = {}
        for day, ids in self.days.items():
            counts[(day.year, day.month)] = counts.get((day.year, day.month), 0) + len(ids)
        years: dict[int, list[MonthEntry]] = {}
        for (year, month), count in sorted(counts.items(), reverse=True):
            years.setdefault(year, []).append(MonthEntry(month, german_month(year, month).split(" ")[0], count))
        return sorted(years.items(), reverse=True)

    def month_days(self, year: int, month: int) -> list[date]:
        """The month's days with articles, newest first."""
        return sorted((d for d in self.days if d.year == year and d.month == month), reverse=True)

    def calendar(self, year: int, month: int) -> list[list[CalendarDay]]:
        """Weeks (Monday first) of the month, each day with its article count."""
        weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
        return [
            [CalendarDay(d, len(self.days.get(d, []))) if d.month == month else CalendarDay(None) for d in week]
            for week in weeks
        ]

    def neighbours(self, day: date) -> tuple[date | None, date | None]:
        """The nearest earlier and later days with articles."""
        earlier = [d for d in self.days if d < day]
        later = [d for d in self.days if d > day]
        return (max(earlier) if earlier else None, min(later) if later else None)
