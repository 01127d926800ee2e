"""Editors' work on Die Presseschau des Tages: days, stories (merge, split, headline), order, release.

Plain HTML forms (the admin area allows no scripts); each action runs in one transaction through
`presseschau.stories.service` and redirects back to the day with its message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.publish import press_review
from presseschau.store.models import Story
from presseschau.stories import service
from presseschau.web.admin.area import PREFIX, AdminArea, AdminRoute, Visitor, form_int, form_str, see_other
from presseschau.web.admin.deps import Area, Editor, Form
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)

NOTICES = {
    "ueberschrift": "Überschrift gespeichert.",
    "zusammengefuehrt": "Geschichten zusammengeführt.",
    "getrennt": "Artikel in eine eigene Geschichte verschoben.",
    "reihenfolge": "Reihenfolge gespeichert.",
    "freigegeben": "Presseschau freigegeben: sie ist jetzt öffentlich.",
    "zurueckgezogen": "Presseschau zurückgezogen: sie ist nicht mehr öffentlich.",
}
STATE_LABELS = {
    "released": "freigegeben",
    "withdrawn": "zurückgezogen",
    "scheduled": "erscheint automatisch",
    "auto": "automatisch veröffentlicht",
    "waiting": "wartet auf Freigabe",
}


def _parse(day: str) -> date | None:
    try:
        return service.parse_day(day)
    except ValueError:
        return None


def _day_url(day: date, key: str | None = None) -> str:
    return f"{PREFIX}/presseschau/{day.isoformat()}" + (f"?ok={key}" if key else "")


@router.get("/presseschau")
def days(area: Area, visitor: Editor, database: Db, settings: CurrentSettings) -> Response:
    with database.session() as session:
        rows = [
            (day, service.review_state(session, settings, day), len(service.review(session, settings, day)))
            for day in service.story_days(session, settings)
        ]
    return area.page(
        "stories_days.html", visitor, rows=rows, state_labels=STATE_LABELS, policy=settings.press_review_policy
    )


def _day_page(
    area: AdminArea, session: Session, settings: Settings, visitor: Visitor, day: date, **values: Any
) -> Response:
    found = service.review(session, settings, day)
    state = service.review_state(session, settings, day)
    return area.page(
        "stories_day.html",
        visitor,
        day=day,
        date_text=press_review.german_day(day),
        stories=found,
        state=state,
        state_label=STATE_LABELS[state.state],
        public_url=f"/presseschau/{day:%Y/%m/%d}/",
        **values,
    )


@router.get("/presseschau/{day}")
def day_page(
    request: Request, area: Area, visitor: Editor, database: Db, settings: CurrentSettings, day: str
) -> Response:
    wanted = _parse(day)
    if wanted is None:
        return area.error(visitor, 404, "Diesen Tag gibt es nicht.")
    with database.session() as session:
        return _day_page(
            area, session, settings, visitor, wanted, notice=NOTICES.get(request.query_params.get("ok", ""))
        )


def _act(
    area: AdminArea,
    database: Db,
    settings: Settings,
    visitor: Visitor,
    day: date,
    action: Callable[[Session], str],
) -> Response:
    """Run `action` in one transaction; redirect with its message, or show the day with the error."""
    try:
        with database.session() as session:
            key = action(session)
    except service.StoryError as failure:
        with database.session() as session:
            return _day_page(area, session, settings, visitor, day, status=400, error=failure.german)
    return see_other(_day_url(day, key))


@router.get("/presseschau/{day}/vorschau")
def preview(area: Area, visitor: Editor, database: Db, settings: CurrentSettings, day: str) -> Response:
    """The public page as it will look, also before it is public."""
    from fastapi.responses import HTMLResponse

    from presseschau.publish.site import Site

    wanted = _parse(day)
    if wanted is None:
        return area.error(visitor, 404, "Diesen Tag gibt es nicht.")
    with database.session() as session:
        page = press_review.render_day(session, Site(settings, "server"), wanted, preview=True)
    if page is None:
        return area.error(visitor, 404, "An diesem Tag gibt es keine Geschichten.")
    return HTMLResponse(page)


@router.post("/presseschau/{day}/freigeben")
def release(area: Area, visitor: Editor, form: Form, database: Db, settings: CurrentSettings, day: str) -> Response:
    wanted = _parse(day)
    if wanted is None:
        return area.error(visitor, 404, "Diesen Tag gibt es nicht.")
    withdraw = form_str(form, "aktion") == "zurueckziehen"

    def action(session: Session) -> str:
        if withdraw:
            if form_str(form, "bestaetigt") != "ja":  # a required tick box: the admin runs no scripts
                raise service.StoryError(
                    "withdrawal not confirmed",
                    "Bitte bestätigen Sie das Zurückziehen mit dem Häkchen „Ja, zurückziehen“.",
                )
            service.withdraw(session, settings, wanted, visitor.user.name)
            return "zurueckgezogen"
        service.release(session, settings, wanted, visitor.user.name)
        return "freigegeben"

    return _act(area, database, settings, visitor, wanted, action)


@router.post("/presseschau/{day}/reihenfolge")
def reorder(area: Area, visitor: Editor, form: Form, database: Db, settings: CurrentSettings, day: str) -> Response:
    wanted = _parse(day)
    if wanted is None:
        return area.error(visitor, 404, "Diesen Tag gibt es nicht.")
    positions: list[tuple[int, int]] = []
    for key in form:
        if key.startswith("position-") and key[9:].isdigit():
            position = form_int(form, key)
            if position is not None:
                positions.append((position, int(key[9:])))
    order = [story_id for _, story_id in sorted(positions)]

    def action(session: Session) -> str:
        service.reorder(session, settings, wanted, order, visitor.user.name)
        return "reihenfolge"

    return _act(area, database, settings, visitor, wanted, action)


@router.post("/geschichte/{story_id}")
def edit_story(
    area: Area, visitor: Editor, form: Form, database: Db, settings: CurrentSettings, story_id: RowId
) -> Response:
    """One form per story: `aktion` = ueberschrift | zusammenfuehren | trennen."""
    with database.session() as session:
        story = session.get(Story, story_id)
        if story is None:
            return area.error(visitor, 404, f"Die Geschichte {story_id} gibt es nicht.")
        wanted = service.parse_day(story.day)
    editor = visitor.user.name
    kind = form_str(form, "aktion")

    def action(session: Session) -> str:
        if kind == "zusammenfuehren":
            others = [int(v) for v in form.getlist("mit") if isinstance(v, str) and v.isdigit()]
            service.merge(session, story_id, others, editor)
            return "zusammengefuehrt"
        if kind == "trennen":
            chosen = [int(v) for v in form.getlist("artikel") if isinstance(v, str) and v.isdigit()]
            service.split(session, story_id, chosen, editor, settings)
            return "getrennt"
        service.set_headline(session, story_id, form_str(form, "ueberschrift"), editor)
        return "ueberschrift"

    return _act(area, database, settings, visitor, wanted, action)
