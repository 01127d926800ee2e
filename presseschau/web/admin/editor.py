"""The editor of one translation: edit, draft, publish, retranslate a paragraph, change the slug,
approve or reject. Every change runs in one transaction; a failure re-renders the editor with
what was typed."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json, sanitize_inline_html
from presseschau.editorial import review
from presseschau.editorial.markers import MarkerError, markers_to_html
from presseschau.store.db import Database
from presseschau.store.models import Translation
from presseschau.web.admin.area import MESSAGES, PREFIX, AdminArea, AdminRoute, Visitor, form_int, form_str, see_other
from presseschau.web.admin.deps import Area, Editor, Form
from presseschau.web.admin.editor_page import editor_page, load_translation
from presseschau.web.admin.form_errors import FieldError, field_errors
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)
# A change to a translation: returns the key of the message shown after it.
Action = Callable[[Session, Translation], str]


class Conflict(Exception):
    """Someone saved a newer revision after this form was loaded."""


@router.get("/uebersetzung/{translation_id}")
def editor(request: Request, area: Area, visitor: Editor, database: Db, translation_id: RowId) -> Response:
    with database.session() as session:
        translation = load_translation(session, translation_id)
        if translation is None:
            return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden oder nicht fertig.")
        return editor_page(area, session, visitor, translation, notice=MESSAGES.get(request.query_params.get("ok", "")))


def _form_changes(session: Session, translation: Translation, form: FormData) -> tuple[dict[int, str], str | None]:
    """The paragraphs and title of the editor form that differ from the live text."""
    if form_int(form, "version") != review.latest_revision_number(session, translation):
        raise Conflict
    current = paragraphs_from_json(translation.paragraphs)
    changed: dict[int, str] = {}
    for index, paragraph in enumerate(current):
        value = form.get(f"absatz-{index}")
        if not isinstance(value, str):
            continue
        try:
            new_html = markers_to_html(value, index + 1)
        except MarkerError as error:
            raise review.ReviewError(error.german, f"absatz-{index}") from error
        # An untouched field gives the stored HTML back (in the sanitizer's form).
        if new_html != sanitize_inline_html(paragraph.html):
            changed[index] = new_html
    title = form.get("titel")
    new_title = title if isinstance(title, str) and title != (translation.title or "") else None
    return changed, new_title


def _apply_form_edits(
    context: AppContext, session: Session, visitor: Visitor, translation: Translation, form: FormData
) -> bool:
    """Save the title and paragraphs of the editor form (only fields that differ); True if saved.
    The live page changes with it: for published translations only on "Änderung veröffentlichen"."""
    changed, new_title = _form_changes(session, translation, form)
    translation.draft = None  # what the form held is now the translation
    if not changed and new_title is None:
        return False
    saved = review.save_edit(
        context.settings, session, translation, visitor.user.name, title=new_title, paragraphs=changed or None
    )
    return saved is not None


def _save_form_as_draft(session: Session, visitor: Visitor, translation: Translation, form: FormData) -> bool:
    """Keep the form of a published translation as its draft; the live page stays as it is."""
    changed, new_title = _form_changes(session, translation, form)
    translation.draft = None  # the form holds the whole draft: start from the live text
    title = new_title if new_title is not None else translation.title or ""
    return review.save_draft(translation, visitor.user.name, title=title, paragraphs=changed)


def _run_action(
    area: AdminArea, database: Database, visitor: Visitor, form: FormData, translation_id: int, action: Action
) -> Response:
    """Run `action` in one transaction and redirect with its message; errors re-render the editor."""
    try:
        with database.session() as session:
            translation = load_translation(session, translation_id)
            if translation is None:
                return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden.")
            key = action(session, translation)
    except Conflict:
        with database.session() as session:
            translation = load_translation(session, translation_id)
            assert translation is not None
            error = (
                "Die Übersetzung wurde inzwischen geändert (siehe Versionen). Ihre Eingaben stehen "
                "unten; erneut speichern übernimmt sie."
            )
            return editor_page(area, session, visitor, translation, status=409, error=error, submitted=form)
    except (review.ReviewError, FieldError) as failure:
        said = failure.german
        with database.session() as session:
            translation = load_translation(session, translation_id)
            if translation is None:
                return area.error(visitor, 404, said)
            return editor_page(
                area,
                session,
                visitor,
                translation,
                status=400,
                error=said,
                submitted=form,
                errors=field_errors(failure),
            )
    if key == "freigegeben":
        return see_other(f"{PREFIX}/warteschlange?ok={key}")
    return see_other(f"{PREFIX}/uebersetzung/{translation_id}?ok={key}")


@router.post("/uebersetzung/{translation_id}")
def save(area: Area, visitor: Editor, form: Form, context: Context, translation_id: RowId) -> Response:
    def action(session: Session, translation: Translation) -> str:
        if not review.is_live(translation):
            saved = _apply_form_edits(context, session, visitor, translation, form)
            return "gespeichert" if saved else "unveraendert"
        # On the site: "Entwurf speichern" keeps the page as it is; only "Änderung veröffentlichen"
        # changes what readers see.
        if form_str(form, "aktion") == "veroeffentlichen":
            saved = _apply_form_edits(context, session, visitor, translation, form)
            return "veroeffentlicht" if saved else "unveraendert"
        return "entwurf" if _save_form_as_draft(session, visitor, translation, form) else "kein-entwurf"

    return _run_action(area, context.database, visitor, form, translation_id, action)


@router.post("/uebersetzung/{translation_id}/neu-uebersetzen")
def retranslate(area: Area, visitor: Editor, form: Form, context: Context, translation_id: RowId) -> Response:
    from presseschau.translate.engines import UnknownEngine, check_engine_name

    def action(session: Session, translation: Translation) -> str:
        index = form_int(form, "absatz")
        if index is None:
            raise review.ReviewError("Kein Absatz zum Neuübersetzen gewählt.")
        try:
            engine = check_engine_name(form_str(form, "engine"))
        except UnknownEngine as error:
            raise review.ReviewError(error.german) from None
        # The button sits in the editor form: unsaved edits of other paragraphs are kept (in the
        # draft of a published translation, whose live page stays as it is).
        live = review.is_live(translation)
        if live:
            _save_form_as_draft(session, visitor, translation, form)
        else:
            _apply_form_edits(context, session, visitor, translation, form)
        review.retranslate_paragraph(
            context.settings, session, translation, index - 1, visitor.user.name, engine, into_draft=live
        )
        return "neu-uebersetzt"

    return _run_action(area, context.database, visitor, form, translation_id, action)


@router.post("/uebersetzung/{translation_id}/alles-neu-uebersetzen")
def retranslate_all(area: Area, visitor: Editor, form: Form, context: Context, translation_id: RowId) -> Response:
    """*Neu übersetzen* for the whole text, with the chosen engine (into the draft of a live article)."""
    from presseschau.translate.engines import UnknownEngine, check_engine_name

    def action(session: Session, translation: Translation) -> str:
        try:
            engine = check_engine_name(form_str(form, "engine"))
        except UnknownEngine as error:
            raise review.ReviewError(error.german) from None
        live = review.is_live(translation)
        review.retranslate_article(context.settings, session, translation, visitor.user.name, engine, into_draft=live)
        return "alles-neu-uebersetzt"

    return _run_action(area, context.database, visitor, form, translation_id, action)


@router.post("/uebersetzung/{translation_id}/slug")
def slug(area: Area, visitor: Editor, form: Form, database: Db, translation_id: RowId) -> Response:
    def action(session: Session, translation: Translation) -> str:
        try:
            review.change_slug(session, translation, form_str(form, "slug").strip(), visitor.user.name)
        except review.ReviewError as failure:
            raise FieldError(failure.german, "slug") from failure
        return "slug"

    return _run_action(area, database, visitor, form, translation_id, action)


@router.post("/uebersetzung/{translation_id}/freigeben")
def approve(
    area: Area, visitor: Editor, form: Form, context: Context, settings: CurrentSettings, translation_id: RowId
) -> Response:
    def action(session: Session, translation: Translation) -> str:
        if "version" in form:
            # What the editor sees is what goes out.
            _apply_form_edits(context, session, visitor, translation, form)
        review.approve(session, settings, translation, visitor.user.name)
        return "freigegeben"

    return _run_action(area, context.database, visitor, form, translation_id, action)


@router.post("/uebersetzung/{translation_id}/ablehnen")
def reject(area: Area, visitor: Editor, form: Form, database: Db, translation_id: RowId) -> Response:
    def action(session: Session, translation: Translation) -> str:
        # Confirmed by a required tick box (the admin runs no scripts, so no confirm() dialog).
        if form_str(form, "bestaetigt") != "ja":
            raise FieldError("Bitte bestätigen Sie das Ablehnen mit dem Häkchen „Ja, ablehnen“.", "bestaetigt")
        review.reject(session, translation, visitor.user.name)
        return "abgelehnt"

    return _run_action(area, database, visitor, form, translation_id, action)
