"""The editor of one translation: edit, draft, publish, retranslate a paragraph, change the slug,
approve or reject. Every change runs in one transaction; a failure re-renders the editor with
what was typed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json, sanitize_inline_html
from presseschau.editorial import review
from presseschau.editorial.markers import MarkerError, html_to_markers, markers_to_html
from presseschau.store.db import Database
from presseschau.store.models import PublicationStatus, Translation
from presseschau.web.admin.area import (
    MESSAGES,
    PREFIX,
    AdminArea,
    AdminRoute,
    FieldError,
    Visitor,
    field_errors,
    form_int,
    form_str,
    see_other,
)
from presseschau.web.admin.deps import Area, Editor, Form
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)
# A change to a translation: returns the key of the message shown after it.
Action = Callable[[Session, Translation], str]


class Conflict(Exception):
    """Someone saved a newer revision after this form was loaded."""


def _rows(translation: Translation, submitted: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """English and German side by side; a published translation shows its draft where one is open."""
    _, german = review.draft_text(translation)
    english = paragraphs_from_json(translation.article.paragraphs)
    rows = []
    for index in range(max(len(german), len(english))):
        source = english[index] if index < len(english) else None
        target = german[index] if index < len(german) else None
        # Inline markup as readable markers ("[Link: Text → URL]"), not raw HTML.
        value = html_to_markers(target.html) if target else ""
        shown = target or source
        if submitted is not None and isinstance(submitted.get(f"absatz-{index}"), str):
            value = submitted[f"absatz-{index}"]  # keep what the editor typed when saving failed
        rows.append(
            {
                "index": index,
                "kind": shown.kind if shown else "p",
                # Source paragraphs are sanitized at ingest; sanitized again as they go to the page.
                "english": sanitize_inline_html(source.html) if source else "",
                "german": value,
                "editable": target is not None,
                "retranslatable": source is not None and target is not None,
                "quality": _paragraph_quality(translation, index),
            }
        )
    return rows


def _paragraph_quality(translation: Translation, index: int) -> dict[str, Any] | None:
    """The quality estimate of paragraph `index` (risk, flags with words), when it has flags."""
    paragraphs = (translation.quality or {}).get("paragraphs", [])
    if index >= len(paragraphs) or not isinstance(paragraphs[index], dict) or not paragraphs[index].get("flags"):
        return None
    return dict(paragraphs[index])


def editor_page(
    area: AdminArea,
    session: Session,
    visitor: Visitor,
    translation: Translation,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    submitted: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    """The editor; after a refusal `submitted` (the form) fills it again and `errors` holds the
    message by the name of the field it is about."""
    from presseschau.translate.engines import engine_names

    history = review.revisions(session, translation)
    title, _ = review.draft_text(translation)
    if submitted is not None and isinstance(submitted.get("titel"), str):
        title = submitted["titel"]
    publication = translation.publication
    return area.page(
        "editor.html",
        visitor,
        status=status,
        translation=translation,
        article=translation.article,
        publication=publication,
        title=title,
        rows=_rows(translation, submitted),
        version=review.latest_revision_number(session, translation),
        history=list(reversed(history)),
        flags=review.translation_flags(area.settings, translation),
        engines=engine_names(),
        public_url=(
            f"/{publication.slug}/" if publication and publication.status == PublicationStatus.PUBLISHED else None
        ),
        live=review.is_live(translation),
        draft=translation.draft,
        error=error,
        notice=notice,
        errors=errors or {},
        typed_slug=submitted.get("slug") if submitted is not None and isinstance(submitted.get("slug"), str) else None,
    )


def _load(session: Session, translation_id: int) -> Translation | None:
    try:
        return review.get_translation(session, translation_id)
    except review.ReviewError:
        return None


@router.get("/uebersetzung/{translation_id}")
def editor(request: Request, area: Area, visitor: Editor, database: Db, translation_id: RowId) -> Response:
    with database.session() as session:
        translation = _load(session, translation_id)
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
            raise FieldError(str(error), f"absatz-{index}") from error
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
            translation = _load(session, translation_id)
            if translation is None:
                return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden.")
            key = action(session, translation)
    except Conflict:
        with database.session() as session:
            translation = _load(session, translation_id)
            assert translation is not None
            error = (
                "Die Übersetzung wurde inzwischen geändert (siehe Versionen). Ihre Eingaben stehen "
                "unten; erneut speichern übernimmt sie."
            )
            return editor_page(area, session, visitor, translation, status=409, error=error, submitted=form)
    except (review.ReviewError, FieldError) as failure:
        with database.session() as session:
            translation = _load(session, translation_id)
            if translation is None:
                return area.error(visitor, 404, str(failure))
            return editor_page(
                area,
                session,
                visitor,
                translation,
                status=400,
                error=str(failure),
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
            raise review.ReviewError(f"Unbekannter Übersetzungsdienst {error.name!r}.") from None
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
            raise review.ReviewError(f"Unbekannter Übersetzungsdienst {error.name!r}.") from None
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
            raise FieldError(str(failure), "slug") from failure
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
