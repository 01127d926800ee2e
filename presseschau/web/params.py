"""Typed ID and number parameters shared by the site, the admin area and the API.

Every ID or number a request carries (path, query string or form field) goes through one of these:
a value that cannot name a row (too large for a signed 64-bit integer, not ASCII digits) is refused
with 422 in the API and the site, or read as "none given" in the admin forms, never passed on to a
query where it overflowed into a 500.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from fastapi import Path, Query

from presseschau.text import ascii_digits

# The largest id a database row can have (a signed 64-bit integer on SQLite and PostgreSQL). A
# larger number in a URL cannot name a row; unbounded, it overflowed the query (a 500).
MAX_ROW_ID = 2**63 - 1
# Pages of a listing: page × per_page must stay an offset the databases take.
MAX_PAGE = 10**12

RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID)]
OptionalRowId = Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)]


def parse_row_id(value: object) -> int | None:
    """A row ID from text (a form field, a query string): ASCII digits up to MAX_ROW_ID, else None.

    `str.isdigit` alone takes other scripts' digits and superscripts ("²"), which `int` refuses."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > 19 or not ascii_digits(text):
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None


def parse_row_ids(values: Iterable[object]) -> list[int]:
    """The valid row IDs among `values` (see `parse_row_id`), in order."""
    return [number for number in map(parse_row_id, values) if number is not None]


def form_row_id(form: Mapping[str, Any], name: str) -> int | None:
    return parse_row_id(form.get(name))
