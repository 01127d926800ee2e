"""The sources pages of the admin area: the sortable, searchable, paged table and the page of one
source with its form, rights and tools (rendering only; the routes are in `sources`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import Response

from presseschau import reporting
from presseschau.config import Settings
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.text import clean_text
from presseschau.web.admin.area import (
    PREFIX,
    AdminArea,
    Visitor,
)
from presseschau.web.admin.source_forms import form_options, new_source_values, stored_source_values
from presseschau.web.params import MAX_PAGE, parse_row_id

SOURCES_PER_PAGE = 50
# The table's columns: query value (German, as the page's other parameters) → reporting's sort key.
SORT_COLUMNS = {
    "name": ("name", "Name"),
    "art": ("kind", "Art"),
    "umfang": ("reuse", "Nutzungsumfang"),
    "abruf": ("last_polled", "Letzter Abruf"),
    "status": ("status", "Status"),
    "artikel": ("articles", "Artikel"),
    "fehler": ("failures", "Fehler"),
}


# The list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListView:
    """The table's search, order and page, read from the query string (bad values: the defaults)."""

    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListView:
        sort = query.get("sortierung", "name")
        page = parse_row_id(query.get("seite")) or 1
        return cls(
            # As names are stored (controls out, NFC): a NUL byte would fail PostgreSQL's LIKE.
            search=clean_text(query.get("suche", "")[:200]),
            sort=sort if sort in SORT_COLUMNS else "name",
            descending=query.get("richtung") == "ab",
            page=min(max(page, 1), MAX_PAGE),
        )

    def url(self, **changes: Any) -> str:
        """This view's address with `changes` (search, sort, descending, page)."""
        values = {**self.__dict__, **changes}
        query = {"suche": values["search"], "sortierung": values["sort"]}
        if values["descending"]:
            query["richtung"] = "ab"
        if values["page"] > 1:
            query["seite"] = str(values["page"])
        return f"{PREFIX}/quellen?" + urlencode({key: value for key, value in query.items() if value})

    def sort_url(self, column: str) -> str:
        """The header link of `column`: sorts by it; on the sorted column, reverses the order."""
        return self.url(sort=column, descending=column == self.sort and not self.descending, page=1)


def sources_page(
    area: AdminArea,
    database: Database,
    settings: Settings,
    visitor: Visitor,
    view: ListView | None = None,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    preview: Any = None,
) -> Response:
    """The table of sources and the add form (`typed`: what a refused or previewed form held)."""
    view = view or ListView()
    with database.session() as session:
        rows, total = reporting.source_overview(
            session,
            view.search,
            SORT_COLUMNS[view.sort][0],
            view.descending,
            (view.page - 1) * SOURCES_PER_PAGE,
            SOURCES_PER_PAGE,
        )
        pages = max(1, -(-total // SOURCES_PER_PAGE))
        return area.page(
            "sources.html",
            visitor,
            status=status,
            rows=rows,
            total=total,
            pages=pages,
            view=view,
            columns={key: label for key, (_, label) in SORT_COLUMNS.items()},
            new_values={**new_source_values(settings), **(typed or {})},
            errors=errors or {},
            preview=preview,
            error=error,
            notice=notice,
            **form_options(),
        )


def source_page(
    area: AdminArea,
    database: Database,
    visitor: Visitor,
    source_id: int,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    """One source: what its polls came to, its form (`typed`: a refused form as typed), its rights
    and its actions."""
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
        return area.page(
            "source.html",
            visitor,
            status=status,
            source=source,
            articles=reporting.articles_of_source(session, source_id),
            # A refused form as typed; the page's other form as stored.
            values={**stored_source_values(source), **(typed or {})},
            errors=errors or {},
            error=error,
            notice=notice,
            **form_options(),
        )
