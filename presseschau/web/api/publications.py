"""/api/v1/publications: list and read publications."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query

from presseschau import reporting
from presseschau.store.models import Publication
from presseschau.web.api.convert import publication_out
from presseschau.web.api.deps import ERRORS, PAGE_NUMBER, PER_PAGE, Reader
from presseschau.web.api.schemas import Page, PublicationOut
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import OptionalRowId, RowId

router = APIRouter(responses=ERRORS)


@router.get("/publications", response_model=Page[PublicationOut], tags=["publications"])
def list_publications(
    _: Reader,
    database: Db,
    settings: CurrentSettings,
    source_id: OptionalRowId = None,
    status: str | None = Query(None, description="published, held, unpublished, archived"),
    since: datetime | None = Query(None, description="Published at or after this time."),
    until: datetime | None = Query(None, description="Published before this time."),
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[PublicationOut]:
    wanted = reporting.ListFilter(source_id, status, since, until, page, per_page)
    with database.session() as session:
        rows, total = reporting.publication_page(session, settings.target_language, wanted)
        items = [publication_out(p, settings.base_url) for p in rows]
        return Page[PublicationOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/publications/{publication_id}", response_model=PublicationOut, tags=["publications"])
def get_publication(publication_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> PublicationOut:
    with database.session() as session:
        publication = session.get(Publication, publication_id)
        if publication is None:
            raise HTTPException(404, f"publication {publication_id}: no such publication")
        return publication_out(publication, settings.base_url)
