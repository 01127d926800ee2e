"""Rights and corrections in the admin area: a source's reuse settings (admins), readers' reports
and public correction notes (editors). Writes go through `presseschau.ingest.sources` and
`presseschau.publish.corrections`, as from the CLI and the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from presseschau.ingest.errors import SourceNotFound
from presseschau.ingest.sources import retranslate_for_reuse, update_source
from presseschau.messages import CataloguedError, Refused, text
from presseschau.publish import corrections
from presseschau.publish.service import reindex_source
from presseschau.text import ascii_digits
from presseschau.web.admin.area import MESSAGES, PREFIX, AdminArea, AdminRoute, Visitor, form_str, see_other
from presseschau.web.admin.deps import Admin, Area, Editor, Form
from presseschau.web.admin.form_errors import field_errors
from presseschau.web.admin.source_forms import refused_field, typed_values
from presseschau.web.admin.source_pages import source_page
from presseschau.web.deps import Context, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)
BILINGUAL_CHOICES = {"": None, "1": True, "0": False}


@router.post("/quellen/{source_id}/rechte")
def source_rights(area: Area, visitor: Admin, form: Form, context: Context, source_id: RowId) -> Response:
    words = form_str(form, "auszug_woerter").strip()
    choice = form_str(form, "zweisprachig")
    try:
        if choice not in BILINGUAL_CHOICES:
            raise Refused(text("form_bilingual_unknown", choice=choice), field="zweisprachig")
        update_source(
            context.database,
            source_id,
            reuse=form_str(form, "umfang").strip() or None,
            excerpt_words=int(words) if ascii_digits(words) else (words or None),
            reuse_permission=form_str(form, "erlaubnis"),
            bilingual=BILINGUAL_CHOICES[choice],
        )
        retranslate_for_reuse(context.database, context.settings, source_id)
        with context.database.session() as session:
            reindex_source(session, context.settings, source_id)
    except SourceNotFound:
        return area.error(visitor, 404, f"Quelle {source_id} nicht gefunden.")
    except CataloguedError as failure:
        return source_page(
            area,
            context.database,
            visitor,
            source_id,
            status=400,
            error="Nutzungsrechte nicht gespeichert – bitte die markierten Angaben prüfen.",
            typed=typed_values(form),
            errors=field_errors(failure, refused_field(failure) or "umfang"),
        )
    return see_other(f"{PREFIX}/quellen/{source_id}?ok=rechte#rechte-{source_id}")


def _reports_page(area: AdminArea, visitor: Visitor, database: Db, status: int = 200, **values: Any) -> Response:
    """The open reports; after a refusal, `typed` holds the note as typed and `errors` the message,
    both by the report's id."""
    with database.session() as session:
        found = corrections.reports(session)
    values.setdefault("typed", {})
    values.setdefault("errors", {})
    return area.page("corrections.html", visitor, status=status, reports=found, **values)


@router.get("/korrekturen")
def reports(request: Request, area: Area, visitor: Editor, database: Db) -> Response:
    return _reports_page(area, visitor, database, notice=MESSAGES.get(request.query_params.get("ok", "")))


@router.post("/korrekturen/{report_id}")
def handle_report(area: Area, visitor: Editor, form: Form, context: Context, report_id: RowId) -> Response:
    action = form_str(form, "aktion")
    note = form_str(form, "notiz").strip()
    try:
        with context.database.session() as session:
            report = corrections.set_report_status(
                session, report_id, "dismissed" if action == "verworfen" else "done", visitor.user.name
            )
            if note and action != "verworfen":
                corrections.publish_note(session, report.publication_id, note, visitor.user.name)
    except corrections.CorrectionError as failure:
        return _reports_page(
            area,
            visitor,
            context.database,
            status=400,
            error=f"Nicht erledigt: {failure.german}",
            typed={report_id: form_str(form, "notiz")},
            errors={f"notiz-{report_id}": failure.german},
        )
    return see_other(f"{PREFIX}/korrekturen?ok={'korrektur' if note and action != 'verworfen' else 'meldung'}")
