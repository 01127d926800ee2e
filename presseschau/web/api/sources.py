"""/api/v1/sources: list, read, create, update, pause, resume and remove sources; refilter and fetch one."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from presseschau import reporting
from presseschau.ingest.sources import (
    RIGHTS_FIELDS,
    create_source,
    refilter_source,
    retranslate_for_reuse,
    update_source,
)
from presseschau.publish.service import reindex_source
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.translate.source_checks import SOURCE_CHECKS
from presseschau.web.api.convert import filters_value, source_out
from presseschau.web.api.deps import ERRORS, PAGE_NUMBER, PER_PAGE, AdminToken, Reader, service_errors
from presseschau.web.api.schemas import FetchResult, Page, RefilterResult, SourceCreate, SourceOut, SourceUpdate
from presseschau.web.deps import Context, Db
from presseschau.web.params import RowId

router = APIRouter(responses=ERRORS)


def stored_source(database: Database, source_id: int) -> SourceOut:
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise HTTPException(404, f"source {source_id}: no such source")
        return source_out(source)


@router.get("/sources", response_model=Page[SourceOut], tags=["sources"])
def list_sources(
    _: Reader,
    database: Db,
    tag: str | None = None,
    enabled: bool | None = None,
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[SourceOut]:
    with database.session() as session:
        rows, total = reporting.source_page(session, tag, enabled, page, per_page)
        return Page[SourceOut](items=[source_out(s) for s in rows], page=page, per_page=per_page, total=total)


@router.get("/sources/{source_id}", response_model=SourceOut, tags=["sources"])
def get_source(source_id: RowId, _: Reader, database: Db) -> SourceOut:
    return stored_source(database, source_id)


@router.post("/sources", response_model=SourceOut, status_code=201, tags=["sources"])
def add_source(body: SourceCreate, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        fields = body.model_dump(exclude={"url", "filters"}, exclude_none=True)
        source = create_source(
            context.database,
            context.settings,
            body.url,
            filters=filters_value(body.filters),
            checks=SOURCE_CHECKS,
            **fields,
        )
    return stored_source(context.database, source.id)


@router.patch("/sources/{source_id}", response_model=SourceOut, tags=["sources"])
def change_source(source_id: RowId, body: SourceUpdate, _: AdminToken, context: Context) -> SourceOut:
    """Only the fields sent are changed; stored articles are not refiltered."""
    changes = {name: getattr(body, name) for name in body.model_fields_set if name != "filters"}
    with service_errors():
        if "filters" in body.model_fields_set:
            changes["filters"] = filters_value(body.filters)
        update_source(context.database, source_id, checks=SOURCE_CHECKS, **changes)
        if RIGHTS_FIELDS & set(changes):
            retranslate_for_reuse(context.database, context.settings, source_id)
            with context.database.session() as session:
                reindex_source(session, context.settings, source_id)
    return stored_source(context.database, source_id)


@router.post("/sources/{source_id}/pause", response_model=SourceOut, tags=["sources"])
def pause_source(source_id: RowId, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        update_source(context.database, source_id, enabled=False)
    return stored_source(context.database, source_id)


@router.post("/sources/{source_id}/resume", response_model=SourceOut, tags=["sources"])
def resume_source(source_id: RowId, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        update_source(context.database, source_id, enabled=True)
    return stored_source(context.database, source_id)


@router.delete("/sources/{source_id}", status_code=204, tags=["sources"])
def delete_source(source_id: RowId, _: AdminToken, context: Context) -> Response:
    """Remove a source; its articles are kept."""
    from presseschau.ingest.sources import remove_source

    with service_errors():
        remove_source(context.database, source_id)
    return Response(status_code=204)


@router.post("/sources/{source_id}/refilter", response_model=RefilterResult, tags=["sources"])
def refilter(source_id: RowId, _: AdminToken, context: Context) -> RefilterResult:
    """Apply the source's current filters to its stored articles that are not translated yet."""
    with service_errors():
        report = refilter_source(context.database, context.settings, source_id)
    return RefilterResult(**vars(report))


@router.post("/sources/{source_id}/fetch", response_model=FetchResult, tags=["sources"])
def fetch_source(source_id: RowId, _: AdminToken, context: Context) -> FetchResult:
    """Poll the source now (as `presseschau fetch --source ID`) and answer with what came in."""
    from presseschau.pipeline.steps import fetch_and_publish

    with service_errors():
        report = fetch_and_publish(context.database, context.settings, source_id=source_id)
    return FetchResult(
        source_id=source_id,
        articles_new=report.articles_new,
        articles_updated=report.articles_updated,
        filtered=report.filtered,
        failures=[f"{what}: {why}" for what, why in report.failures],
    )
