"""/api/v1/translations: list and read translations."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query

from presseschau import reporting
from presseschau.content import paragraphs_from_json
from presseschau.store.models import Translation
from presseschau.store.rights import article_reuse, shown_paragraphs
from presseschau.web.api.convert import reuse_out, translation_out
from presseschau.web.api.deps import ERRORS, PAGE_NUMBER, PER_PAGE, Reader
from presseschau.web.api.schemas import Page, ParagraphOut, TranslationDetail, TranslationOut
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import OptionalRowId, RowId

router = APIRouter(responses=ERRORS)


@router.get("/translations", response_model=Page[TranslationOut], tags=["translations"])
def list_translations(
    _: Reader,
    database: Db,
    settings: CurrentSettings,
    source_id: OptionalRowId = None,
    status: str | None = Query(None, description="queued, in_progress, done, failed"),
    since: datetime | None = Query(None, description="Changed at or after this time."),
    until: datetime | None = Query(None, description="Changed before this time."),
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[TranslationOut]:
    wanted = reporting.ListFilter(source_id, status, since, until, page, per_page)
    with database.session() as session:
        rows, total = reporting.translation_page(session, settings.target_language, wanted)
        return Page[TranslationOut](items=[translation_out(t) for t in rows], page=page, per_page=per_page, total=total)


@router.get("/translations/{translation_id}", response_model=TranslationDetail, tags=["translations"])
def get_translation(translation_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> TranslationDetail:
    with database.session() as session:
        translation = session.get(Translation, translation_id)
        if translation is None:
            raise HTTPException(404, f"translation {translation_id}: no such translation")
        decision = article_reuse(settings, translation.article)
        return TranslationDetail(
            **translation_out(translation).model_dump(),
            reuse=reuse_out(translation.article, decision),
            paragraphs=[
                ParagraphOut.model_validate(p)
                for p in shown_paragraphs(paragraphs_from_json(translation.paragraphs), decision, translation.report)
            ],
            quality=translation.quality,
        )
