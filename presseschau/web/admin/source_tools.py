"""Admin tools for sources at scale: OPML upload and download, refiltering, filtered articles and release.

Behind the same dependencies as every admin route (session, role, CSRF); every write goes through
`presseschau.ingest.sources` / `presseschau.ingest.opml`, the functions the CLI and the JSON API use.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from presseschau.editorial.articles import reject_article, release_article
from presseschau.errors import ArticleNotFound
from presseschau.ingest.errors import IngestError, SourceNotFound
from presseschau.ingest.opml import MAX_OPML_BYTES, export_opml, import_opml
from presseschau.ingest.sources import filtered_articles, refilter_source
from presseschau.publish.formatting import plural
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.translate.source_checks import SOURCE_CHECKS
from presseschau.web.admin.area import PREFIX, AdminArea, AdminRoute, Visitor, form_str, see_other
from presseschau.web.admin.deps import Admin, Area, Editor, Form
from presseschau.web.admin.source_pages import source_page, sources_page
from presseschau.web.deps import Context, Db
from presseschau.web.params import RowId, form_row_id, parse_row_ids

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


@router.get("/opml")
def download_opml(visitor: Admin, context: Context) -> Response:
    return Response(
        export_opml(context.database, context.settings),
        media_type="text/x-opml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="presseschau-quellen.opml"'},
    )


@router.post("/opml")
def upload_opml(area: Area, visitor: Admin, form: Form, context: Context) -> Response:
    database, settings = context.database, context.settings
    upload = form.get("datei")
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = "OPML-Import: bitte eine OPML-Datei auswählen."
        return sources_page(area, database, settings, visitor, status=400, error=error)
    data = upload.file.read(MAX_OPML_BYTES + 1)
    try:
        report = import_opml(context.database, context.settings, data, upload.filename, checks=SOURCE_CHECKS)
    except IngestError as failure:
        error = f"OPML-Import: {failure.german} – nichts wurde hinzugefügt."
        return sources_page(area, database, settings, visitor, status=400, error=error)
    notice = f"OPML-Import: {len(report.added)} Quelle(n) hinzugefügt"
    if report.duplicates:
        notice += f", {len(report.duplicates)} schon vorhanden oder doppelt (nicht hinzugefügt): " + "; ".join(
            f"{url} ({why.german()})" for url, why in report.duplicate_reasons[:20]
        )
    return sources_page(area, database, settings, visitor, notice=notice + ".")


@router.post("/quellen/{source_id}/neu-filtern")
def refilter(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    try:
        report = refilter_source(context.database, context.settings, source_id)
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    notice = (
        f"Quelle {source_id} neu gefiltert: {report.held} zurückgehalten, {report.released} zur "
        f"Übersetzung freigegeben, {report.unchanged} unverändert, {report.kept_translated} schon übersetzt "
        "(bleiben, wie sie sind)."
    )
    return source_page(area, context.database, visitor, source_id, notice=notice)


def filtered_page(area: AdminArea, database: Database, visitor: Visitor, status: int = 200, **values: Any) -> Response:
    with database.session() as session:
        articles = filtered_articles(session)
        names = {source.id: source.name for source in session.scalars(select(Source))}
        return area.page("filtered.html", visitor, status=status, articles=articles, source_names=names, **values)


@router.get("/gefiltert")
def filtered(request: Request, area: Area, visitor: Editor, database: Db) -> Response:
    notice = "Artikel freigegeben; er wird übersetzt." if request.query_params.get("ok") else None
    return filtered_page(area, database, visitor, notice=notice)


@router.post("/gefiltert/auswahl")
def decide_chosen(area: Area, visitor: Editor, form: Form, context: Context) -> Response:
    """Release (translate after all) or reject (hold for good) the ticked held articles after one
    confirmation; each in its own transaction, one that cannot be changed is named."""
    chosen = parse_row_ids(form.getlist("auswahl"))
    action = form_str(form, "aktion")
    refusal = None
    if action not in ("freigeben", "ablehnen"):
        refusal = "Unbekannte Aktion."
    elif not chosen:
        refusal = "Bitte mindestens einen Artikel ankreuzen."
    elif form_str(form, "bestaetigt") != "ja":
        refusal = "Bitte bestätigen Sie die Aktion für die gewählten Artikel mit dem Häkchen."
    if refusal is not None:
        return filtered_page(area, context.database, visitor, status=400, error=refusal, chosen=set(chosen))
    done, failures = 0, []
    for article_id in chosen:
        try:
            if action == "freigeben":
                release_article(context.database, context.settings, article_id, visitor.user.name)
            else:
                reject_article(context.database, article_id, visitor.user.name)
            done += 1
        except (IngestError, ArticleNotFound) as failure:
            failures.append(failure.german)
    outcome = "freigegeben; sie werden übersetzt" if action == "freigeben" else "abgelehnt; sie werden nie übersetzt"
    notice = f"{plural(done, 'Artikel', 'Artikel')} {outcome}."
    error = ("Nicht geändert: " + "; ".join(failures)) if failures else None
    return filtered_page(area, context.database, visitor, notice=notice, error=error)


@router.post("/gefiltert/freigeben")
def release(area: Area, visitor: Editor, form: Form, context: Context) -> Response:
    article_id = form_row_id(form, "artikel")
    if article_id is None:
        return area.error(visitor, 400, "Nicht freigegeben: kein Artikel angegeben.")
    try:
        release_article(context.database, context.settings, article_id, visitor.user.name)
    except ArticleNotFound as error:
        return area.error(visitor, 404, f"Nicht freigegeben: {error.german}")
    except IngestError as error:
        return area.error(visitor, 400, f"Nicht freigegeben: {error.german}")
    return see_other(f"{PREFIX}/gefiltert?ok=1")
