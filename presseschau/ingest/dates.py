"""Lenient date parsing for feeds, sitemaps and page metadata; always returns aware UTC datetimes."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 (full or date-only), RFC 822, or a `time.struct_time` (feedparser), else None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, time.struct_time):
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    text = str(value).strip()
    try:
        # Python 3.11 reads "2024-02-13T20:33:00Z", "+01:00" offsets and plain dates.
        return parse_datetime(datetime.fromisoformat(text.replace("z", "Z")))
    except ValueError:
        pass
    try:
        return parse_datetime(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


_DATE_ONLY_RE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{4}\d{2}\d{2}")
# A day in a URL path: /2026/11/05/ or a -20261105 slug suffix.
_URL_DATE_RES = (
    re.compile(r"/((?:19|20)\d{2})/(0[1-9]|1[0-2])/(0[1-9]|[12]\d|3[01])(?:/|$)"),
    re.compile(r"[-_/]((?:19|20)\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:[-_/.]|$)"),
)


@dataclass(frozen=True, slots=True)
class DatedValue:
    """A publication time as the source gave it: the moment (UTC), whether only the day was given
    (then the moment is that day's midnight UTC and carries no time), and where it was read."""

    moment: datetime
    date_only: bool
    source: str


def is_date_only(value: object) -> bool:
    """True when `value` names a day without a time of day (`2026-11-05`, a `date`)."""
    if isinstance(value, datetime):
        return False
    if isinstance(value, date):
        return True
    return isinstance(value, str) and bool(_DATE_ONLY_RE.fullmatch(value.strip()))


def dated(value: object, source: str, date_only: bool | None = None) -> DatedValue | None:
    """`value` parsed (see `parse_datetime`) with its precision and source, or None if unreadable."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    only_day = is_date_only(value) if date_only is None else date_only
    if only_day:
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return DatedValue(moment, only_day, source)


def url_date(url: str) -> DatedValue | None:
    """The day in a URL path such as `/2026/11/05/` or `...-20261105`, date-only."""
    for pattern in _URL_DATE_RES:
        match = pattern.search(url)
        if match:
            try:
                day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
            return DatedValue(datetime(day.year, day.month, day.day, tzinfo=UTC), True, "url")
    return None


def most_precise(candidates: Iterable[DatedValue | None]) -> DatedValue | None:
    """The first candidate with a time of day, else the first date-only one (candidates come in
    order of trust). A time is only taken when it falls on the day a date-only value named, if
    any came first: a page's own day wins over some other time elsewhere on it."""
    found = [c for c in candidates if c is not None]
    first_day = next((c for c in found if c.date_only), None)
    day_rank = found.index(first_day) if first_day is not None else len(found)
    for rank, candidate in enumerate(found):
        if candidate.date_only:
            continue
        if (
            first_day is not None
            and day_rank < rank
            and abs((candidate.moment - first_day.moment).total_seconds()) > 36 * 3600
        ):
            continue  # another day than the one the more trusted source named
        return candidate
    return first_day
