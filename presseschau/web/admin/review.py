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
from presseschau.store.models import FetchStatus, Publication, PublicationStatus, Source, Translation
from presseschau.web.admin.area import MESSAGES, PREFIX, AdminRoute, form_int
from presseschau.web.admin.deps import Area, Editor
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


@router.get("/")
def dashboard(area: Area, visitor: Editor, database: Db, settings: CurrentSettings) -> Response:
    with database.session() as session:
        counts = _dashboard_counts(session, settings.target_language)
    return area.page("dashboard.html", visitor, counts=counts)


@router.get("/warteschlange")
def queue(request: Request, area: Area, visitor: Editor, database: Db, settings: CurrentSettings) -> Response:
    include_published = request.query_params.get("alle") == "1"
    with database.session() as session:
        items = review.review_queue(session, settings, include_published=include_published)
    return area.page(
        "queue.html",
        visitor,
        items=items,
        include_published=include_published,
        notice=MESSAGES.get(request.query_params.get("ok", "")),
    )


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
            (source.id, source.name, source.last_error or source.last_status or "", source.consecutive_failures)
            for source in failing
        ],
        "articles_failed": counts.articles.get(FetchStatus.FAILED, 0),
        # Readers' reports of translation errors, not yet handled (presseschau.publish.corrections).
        "open_reports": corrections.open_report_count(session),
    }
