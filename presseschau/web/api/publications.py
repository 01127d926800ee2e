"""/api/v1/publications: list and read publications."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select

from presseschau.store.models import Article, Publication, Translation
from presseschau.web.api.convert import publication_out
from presseschau.web.api.deps import ERRORS, PAGE_NUMBER, PER_PAGE, Reader, dated, paginate
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
    query = select(Publication).where(
        Publication.language == settings.target_language, *dated(Publication.published_at, since, until)
    )
    if source_id is not None:
        query = (
            query.join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .where(Article.source_id == source_id)
        )
    if status is not None:
        query = query.where(Publication.status == status)
    with database.session() as session:
        rows, total = paginate(session, query, page, per_page, Publication.id.desc())
        items = [publication_out(p, settings.base_url) for p in rows]
        return Page[PublicationOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/publications/{publication_id}", response_model=PublicationOut, tags=["publications"])
def get_publication(publication_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> PublicationOut:
    with database.session() as session:
        publication = session.get(Publication, publication_id)
        if publication is None:
            raise HTTPException(404, f"publication {publication_id}: no such publication")
        return publication_out(publication, settings.base_url)
