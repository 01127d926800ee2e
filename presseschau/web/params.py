"""Path parameters shared by the site and the admin area."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

# The largest id a database row can have (a signed 64-bit integer on SQLite and PostgreSQL). A
# larger number in a URL cannot name a row; unbounded, it overflowed the query (a 500).
MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=0, le=MAX_ROW_ID)]
