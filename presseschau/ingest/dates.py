"""Lenient date parsing for feeds, sitemaps and page metadata; always returns aware UTC datetimes."""

from __future__ import annotations

import calendar
import time
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
