"""Admin tools for sources at scale: OPML upload and download, refiltering, filtered articles and release.

Registered on the admin router by `presseschau.web.admin.admin_router`, behind the same guard (session,
role, CSRF); every write goes through `presseschau.ingest.sources` / `presseschau.ingest.opml`, the
functions the CLI and the JSON API use. Also parses the filter fields of the source forms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from presseschau.app import AppContext
from presseschau.ingest.errors import IngestError, SourceNotFound
from presseschau.ingest.filters import FilterError, SourceFilters, build_filters, filters_from_json
from presseschau.ingest.opml import MAX_OPML_BYTES, export_opml, import_opml
from presseschau.ingest.sources import ArticleNotFound, filtered_articles, refilter_source, release_article
from presseschau.store.models import Source

if TYPE_CHECKING:
    from presseschau.web.admin import AdminArea

TARGET_LANGUAGE_CHOICES = {
    "skip": "behalten, nicht übersetzen",
    "publish": "unverändert veröffentlichen (als Originaltext gekennzeichnet)",
}
SourcesPage = Callable[..., Response]
Guard = Callable[..., Awaitable[Response]]


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_filters(form: Mapping[str, Any]) -> tuple[SourceFilters, list[str]]:
    """The filters and tags of a source form; `ValueError` with a German message naming the field."""
    words = _text(form, "mindestwoerter").strip() or "0"
    if not words.isdigit():
        raise ValueError(f"Mindestlänge: „{words}“ ist keine Zahl.")
    try:
        filters = build_filters(
            _text(form, "einschliessen").splitlines(),
            _text(form, "ausschliessen").splitlines(),
            int(words),
            _text(form, "zielsprache") or "skip",
        )
    except FilterError as error:
        raise ValueError(f"Filter: {error}") from None
    tags = [tag.strip() for tag in _text(form, "schlagworte").split(",") if tag.strip()]
    return filters, tags


def filter_template_values(source: Source) -> dict[str, Any]:
    """What the source form shows of the stored filters."""
    filters = filters_from_json(source.filters)
    return {
        "include": "\n".join(rule.text for rule in filters.include),
        "exclude": "\n".join(rule.text for rule in filters.exclude),
        "min_words": filters.min_words or "",
        "target_language": filters.target_language,
        "tags": ", ".join(str(tag) for tag in source.tags or ()),
    }


def add_source_tools(
    router: APIRouter, context: AppContext, area: AdminArea, guard: Guard, sources_page: SourcesPage
) -> None:
    prefix = router.prefix

    @router.get("/opml")
    async def download_opml(request: Request) -> Response:
        def work(visitor: Any, form: FormData | None) -> Response:
            return Response(
                export_opml(context),
                media_type="text/x-opml; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="presseschau-quellen.opml"'},
            )

        return await guard(request, work, role="admin")

    @router.post("/opml")
    async def upload_opml(request: Request) -> Response:
        def work(visitor: Any, form: FormData | None) -> Response:
            assert form is not None
            upload = form.get("datei")
            if not isinstance(upload, UploadFile) or not upload.filename:
                return sources_page(visitor, status=400, error="OPML-Import: bitte eine OPML-Datei auswählen.")
            data = upload.file.read(MAX_OPML_BYTES + 1)
            try:
                report = import_opml(context, data, upload.filename)
            except IngestError as error:
                return sources_page(visitor, status=400, error=f"OPML-Import: {error} – nichts wurde hinzugefügt.")
            notice = f"OPML-Import: {len(report.added)} Quelle(n) hinzugefügt"
            if report.duplicates:
                notice += f", {len(report.duplicates)} schon vorhanden oder doppelt (nicht hinzugefügt): " + "; ".join(
                    f"{url} ({why})" for url, why in report.duplicates[:20]
                )
            return sources_page(visitor, notice=notice + ".")

        return await guard(request, work, role="admin")

    @router.post("/quellen/{source_id}/neu-filtern")
    async def refilter(request: Request, source_id: int) -> Response:
        def work(visitor: Any, form: FormData | None) -> Response:
            try:
                report = refilter_source(context, source_id)
            except SourceNotFound:
                return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
            return sources_page(
                visitor,
                notice=f"Quelle {source_id} neu gefiltert: {report.held} zurückgehalten, {report.released} zur "
                f"Übersetzung freigegeben, {report.unchanged} unverändert, {report.kept_translated} schon übersetzt "
                "(bleiben, wie sie sind).",
            )

        return await guard(request, work, role="admin")

    @router.get("/gefiltert")
    async def filtered(request: Request) -> Response:
        def work(visitor: Any, form: FormData | None) -> Response:
            with context.database.session() as session:
                articles = filtered_articles(session)
                names = {source.id: source.name for source in session.scalars(select(Source))}
                return area.page(
                    "filtered.html",
                    visitor,
                    articles=articles,
                    source_names=names,
                    notice="Artikel freigegeben; er wird übersetzt." if request.query_params.get("ok") else None,
                )

        return await guard(request, work)

    @router.post("/gefiltert/freigeben")
    async def release(request: Request) -> Response:
        def work(visitor: Any, form: FormData | None) -> Response:
            assert form is not None
            article_id = _text(form, "artikel").strip()
            if not article_id.isdigit():
                return area.error(visitor, 400, "Nicht freigegeben: kein Artikel angegeben.")
            try:
                release_article(context, int(article_id), visitor.user.name)
            except IngestError as error:
                status = 404 if isinstance(error, ArticleNotFound) else 400
                return area.error(visitor, status, f"Nicht freigegeben: {error}")
            return RedirectResponse(f"{prefix}/gefiltert?ok=1", status_code=303)

        return await guard(request, work)
