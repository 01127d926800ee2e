"""The dashboard, the review queue, and the version history of a translation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from presseschau import reporting
from presseschau.editorial import review
from presseschau.publish import corrections
from presseschau.publish.formatting import plural
from presseschau.store.models import FetchStatus, Publication, PublicationStatus, Source, Translation
from presseschau.web.admin.area import (
    MESSAGES,
    PREFIX,
    AdminArea,
    AdminRoute,
    Visitor,
    form_int,
    form_str,
    poll_failure_text,
)
from presseschau.web.admin.deps import Area, Editor, Form
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import RowId, parse_row_ids

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


@router.get("/")
def dashboard(area: Area, visitor: Editor, database: Db, settings: CurrentSettings) -> Response:
    with database.session() as session:
        counts = _dashboard_counts(session, settings.target_language)
    return area.page("dashboard.html", visitor, counts=counts)


def queue_page(
    area: AdminArea,
    database: Db,
    settings: CurrentSettings,
    visitor: Visitor,
    include_published: bool,
    status: int = 200,
    **values: Any,
) -> Response:
    with database.session() as session:
        items = review.review_queue(session, settings, include_published=include_published)
    return area.page("queue.html", visitor, status=status, items=items, include_published=include_published, **values)


@router.get("/warteschlange")
def queue(request: Request, area: Area, visitor: Editor, database: Db, settings: CurrentSettings) -> Response:
    include_published = request.query_params.get("alle") == "1"
    notice = MESSAGES.get(request.query_params.get("ok", ""))
    return queue_page(area, database, settings, visitor, include_published, notice=notice)


@router.post("/warteschlange/auswahl")
def queue_bulk(area: Area, visitor: Editor, form: Form, database: Db, settings: CurrentSettings) -> Response:
    """Release or reject the ticked articles of the queue, after one confirmation for all of them.
    Each article is its own transaction: one that cannot be changed is named, the others are done."""
    include_published = form_str(form, "alle") == "1"
    action = form_str(form, "aktion")
    chosen = parse_row_ids(form.getlist("auswahl"))
    refusal = None
    if action not in ("freigeben", "ablehnen"):
        refusal = "Unbekannte Aktion."
    elif not chosen:
        refusal = "Bitte mindestens einen Artikel ankreuzen."
    elif form_str(form, "bestaetigt") != "ja":
        refusal = "Bitte bestätigen Sie die Aktion für die gewählten Artikel mit dem Häkchen."
    if refusal is not None:
        return queue_page(
            area, database, settings, visitor, include_published, status=400, error=refusal, chosen=set(chosen)
        )
    done: list[int] = []
    failures: list[str] = []
    for translation_id in chosen:
        try:
            with database.session() as session:
                translation = review.get_translation(session, translation_id)
                if action == "freigeben":
                    review.approve(session, settings, translation, visitor.user.name)
                else:
                    review.reject(session, translation, visitor.user.name)
            done.append(translation_id)
        except review.ReviewError as failure:
            failures.append(failure.german)
    verb = "freigegeben und veröffentlicht" if action == "freigeben" else "abgelehnt und archiviert"
    notice = f"{plural(len(done), 'Artikel', 'Artikel')} {verb}."
    error = ("Nicht geändert: " + "; ".join(failures)) if failures else None
    return queue_page(area, database, settings, visitor, include_published, notice=notice, error=error)


@router.get("/uebersetzung/{translation_id}/versionen")
def versions(request: Request, area: Area, visitor: Editor, database: Db, translation_id: RowId) -> Response:
    with database.session() as session:
        try:
            translation = review.get_translation(session, translation_id)
        except review.ReviewError:
            return area.error(visitor, 404, f"Übersetzung {translation_id} nicht gefunden.")
        history = review.revisions(session, translation)
        by_number = {r.number: r for r in history}
        newest = history[-1].number
        to_number = form_int(request.query_params, "zu") or newest
        from_number = form_int(request.query_params, "von") or max(1, to_number - 1)
        if from_number not in by_number or to_number not in by_number:
            return area.error(visitor, 404, "Diese Version gibt es nicht.")
        title_diff, paragraph_diffs = review.diff_revisions(by_number[from_number], by_number[to_number])
        return area.page(
            "versions.html",
            visitor,
            translation=translation,
            history=list(reversed(history)),
            old=by_number[from_number],
            new=by_number[to_number],
            title_diff=title_diff,
            diffs=paragraph_diffs,
        )


def _unreviewed(session: Session, language: str, publication_status: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Translation)
        .join(Publication, Publication.translation_id == Translation.id)
        .where(
            Publication.status == publication_status,
            Translation.reviewed.is_(False),
            Translation.language == language,
        )
    )
    return int(count or 0)


def _dashboard_counts(session: Session, language: str) -> dict[str, Any]:
    """Counts for the dashboard: publications by status, the queue, translation work, source errors."""
    failing = list(session.scalars(select(Source).where(Source.consecutive_failures > 0).order_by(Source.name)))
    counts = reporting.status_counts(session, language)
    return {
        "publications": counts.publications,
        "translations": counts.translations,
        "waiting": _unreviewed(session, language, PublicationStatus.HELD),
        "unreviewed_published": _unreviewed(session, language, PublicationStatus.PUBLISHED),
        "sources_total": int(session.scalar(select(func.count(Source.id))) or 0),
        "sources_paused": int(session.scalar(select(func.count(Source.id)).where(Source.enabled.is_(False))) or 0),
        "failing_sources": [
            (
                source.id,
                source.name,
                poll_failure_text(source.last_status, source.last_error),
                source.consecutive_failures,
            )
            for source in failing
        ],
        "articles_failed": counts.articles.get(FetchStatus.FAILED, 0),
        # Readers' reports of translation errors, not yet handled (presseschau.publish.corrections).
        "open_reports": corrections.open_report_count(session),
    }
