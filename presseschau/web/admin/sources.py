"""Sources in the admin area (admins only): a sortable, searchable, paged table; a page per source
with its form; add (after a preview of the feed's newest items), change, fetch now, remove.

Every write goes through `presseschau.ingest` (the functions the CLI and the JSON API use). A
refused form comes back as it was typed, with the message next to the field it is about. The
tools for sources at scale (OPML, refiltering, filtered articles) are in `source_tools`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from presseschau import reporting
from presseschau.ingest.errors import IngestError, SourceNotFound
from presseschau.messages import CataloguedError
from presseschau.store.models import Source
from presseschau.translate.source_checks import SOURCE_CHECKS
from presseschau.web.admin.area import MESSAGES, PREFIX, AdminRoute, form_str, see_other
from presseschau.web.admin.deps import Admin, Area, Form
from presseschau.web.admin.form_errors import field_errors
from presseschau.web.admin.source_forms import (
    form_filters,
    refused_field,
    source_profile,
    source_risk_threshold,
    source_settings,
    typed_values,
)
from presseschau.web.admin.source_pages import ListView, source_page, sources_page
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


@router.get("/quellen")
def sources(request: Request, area: Area, visitor: Admin, database: Db, settings: CurrentSettings) -> Response:
    notice = MESSAGES.get(request.query_params.get("ok", ""))
    view = ListView.from_query(request.query_params)
    return sources_page(area, database, settings, visitor, view, notice=notice)


@router.post("/quellen")
def add_source(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    from presseschau.ingest.sources import add_source as ingest_add_source

    try:
        interval, policy, engine, glossary = source_settings(form)
        filters, tags = form_filters(form)
        source = ingest_add_source(
            context.database,
            context.settings,
            form_str(form, "url").strip(),
            name=form_str(form, "name").strip() or None,
            poll_interval_s=interval,
            publish_policy=policy,
            engine=engine,
            glossary=glossary,
            tags=tags,
            filters=filters,
            checks=SOURCE_CHECKS,
            **source_profile(form),
            **source_risk_threshold(form),
        )
    except CataloguedError as failure:
        return sources_page(
            area,
            context.database,
            context.settings,
            visitor,
            status=400,
            error="Quelle nicht hinzugefügt – bitte die markierten Angaben prüfen.",
            typed=typed_values(form),
            errors=field_errors(failure, refused_field(failure) or ""),
        )
    return see_other(f"{PREFIX}/quellen/{source.id}?ok=quelle-neu")


@router.post("/quellen/vorschau")
def preview_source(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    """The add form's "Vorschau": fetch and parse the address as a poll would, store nothing."""
    from presseschau.ingest.preview import preview_source as ingest_preview

    database, settings = context.database, context.settings
    typed = typed_values(form)
    try:
        found = ingest_preview(settings, form_str(form, "url").strip())
    except IngestError as failure:
        errors = {"url": f"Keine Vorschau: {failure.german}"}
        return sources_page(area, database, settings, visitor, status=400, typed=typed, errors=errors)
    return sources_page(area, database, settings, visitor, typed=typed, preview=found)


@router.get("/quellen/{source_id}")
def source_detail(request: Request, area: Area, visitor: Admin, database: Db, source_id: RowId) -> Response:
    return source_page(area, database, visitor, source_id, notice=MESSAGES.get(request.query_params.get("ok", "")))


@router.post("/quellen/{source_id}")
def update_source(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    from presseschau.ingest.sources import update_source as ingest_update_source

    try:
        interval, policy, engine, glossary = source_settings(form)
        filters, tags = form_filters(form)
        name = form_str(form, "name").strip()
        ingest_update_source(
            context.database,
            source_id,
            poll_interval_s=interval,
            publish_policy=policy,
            engine=engine,
            glossary=glossary,
            enabled=form.get("aktiv") == "1",
            tags=tags,
            filters=filters,
            checks=SOURCE_CHECKS,
            **source_profile(form),
            **source_risk_threshold(form),
            **({"name": name} if name else {}),
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    except CataloguedError as failure:
        return source_page(
            area,
            context.database,
            visitor,
            source_id,
            status=400,
            error="Nicht gespeichert – bitte die markierten Angaben prüfen.",
            typed={"aktiv": "", **typed_values(form)},  # an unticked box sends nothing
            errors=field_errors(failure, refused_field(failure) or ""),
        )
    return see_other(f"{PREFIX}/quellen/{source_id}?ok=quelle-gespeichert")


@router.post("/quellen/{source_id}/abrufen")
def fetch_now(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    """„Jetzt abrufen“: the poll `presseschau fetch --source ID` runs, its counts on the page."""
    from presseschau.ingest.polling import fetch_sources
    from presseschau.publish.service import publisher

    try:
        report = fetch_sources(
            context.database, context.settings, source_id=source_id, on_done=publisher(context.settings)
        )
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    notice = (
        f"Abgerufen: {report.entries_seen} Einträge gesehen; Artikel: {report.articles_new} neu, "
        f"{report.articles_updated} geändert, {report.articles_unchanged} unverändert, "
        f"{report.articles_duplicate} doppelt, {report.not_english} nicht auf Englisch, "
        f"{report.filtered} von Filtern zurückgehalten."
    )
    if report.not_modified:
        notice = "Abgerufen: der Feed ist seit dem letzten Abruf unverändert."
    error = None
    if report.failures:
        error = f"{len(report.failures)} Fehler: " + "; ".join(f"{what}: {why}" for what, why in report.failures[:10])
    return source_page(area, context.database, visitor, source_id, notice=notice, error=error)


@router.post("/quellen/{source_id}/entfernen")
def remove_source(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    from presseschau.ingest.sources import remove_source as ingest_remove_source

    if form_str(form, "bestaetigt") != "1":
        # One click must not remove a source: ask first, saying what stays.
        with context.database.session() as session:
            source = session.get(Source, source_id)
            if source is None:
                return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
            articles = reporting.articles_of_source(session, source_id)
            return area.page("source_remove.html", visitor, source=source, articles=articles)
    try:
        ingest_remove_source(context.database, source_id)
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    return see_other(f"{PREFIX}/quellen?ok=quelle-entfernt")
