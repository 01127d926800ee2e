"""Editors' work on Die Presseschau des Tages: days, stories (merge, split, headline), order, release.

Plain HTML forms (the admin area allows no scripts); each action runs in one transaction through
`presseschau.stories.service` and redirects back to the day with its message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.messages import text
from presseschau.publish import press_review
from presseschau.store.models import Story
from presseschau.stories import key_passages, service
from presseschau.web.admin.area import PREFIX, AdminArea, AdminRoute, Visitor, form_int, form_str, see_other
from presseschau.web.admin.deps import Area, Editor, Form
from presseschau.web.deps import CurrentSettings, Db
from presseschau.web.params import RowId, parse_row_id, parse_row_ids

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)

NOTICES = {
    "ueberschrift": "Überschrift gespeichert.",
    "zusammengefuehrt": "Geschichten zusammengeführt.",
    "getrennt": "Artikel in eine eigene Geschichte verschoben.",
    "reihenfolge": "Reihenfolge gespeichert.",
    "freigegeben": "Presseschau freigegeben: sie ist jetzt öffentlich.",
    "zurueckgezogen": "Presseschau zurückgezogen: sie ist nicht mehr öffentlich.",
    "kernaussage": "Kernaussage gespeichert.",
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
        passages={item.story.id: key_passages.story_passages(item) for item in found},
        sentences={t.id: key_passages.translation_sentences(t) for item in found for t in item.members},
        state=state,
        state_label=STATE_LABELS[state.state],
        public_url=f"/presseschau/{day:%Y/%m/%d}/",
        **{"errors": {}, "typed": {}, **values},
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
    field: str = "",
    typed: Mapping[str, str] | None = None,
) -> Response:
    """Run `action` in one transaction; redirect with its message, or show the day with the error
    next to the input `field` (an id on the day's page) and `typed` (by input id) as typed."""
    try:
        with database.session() as session:
            key = action(session)
    except service.StoryError as failure:
        with database.session() as session:
            return _day_page(
                area,
                session,
                settings,
                visitor,
                day,
                status=400,
                error=failure.german,
                errors={field: failure.german},
                typed=typed or {},
            )
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
                raise service.StoryError(text("withdrawal_not_confirmed"))
            service.withdraw(session, settings, wanted, visitor.user.name)
            return "zurueckgezogen"
        service.release(session, settings, wanted, visitor.user.name)
        return "freigegeben"

    field = "zurueckziehen-bestaetigt" if withdraw else ""
    return _act(area, database, settings, visitor, wanted, action, field)


@router.post("/presseschau/{day}/reihenfolge")
def reorder(area: Area, visitor: Editor, form: Form, database: Db, settings: CurrentSettings, day: str) -> Response:
    wanted = _parse(day)
    if wanted is None:
        return area.error(visitor, 404, "Diesen Tag gibt es nicht.")
    positions: list[tuple[int, int]] = []
    for key in form:
        story_id = parse_row_id(key.removeprefix("position-")) if key.startswith("position-") else None
        if story_id is not None:
            position = form_int(form, key)
            if position is not None:
                positions.append((position, story_id))
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
            others = parse_row_ids(form.getlist("mit"))
            service.merge(session, story_id, others, editor, headline_from=form_int(form, "ueberschrift_von"))
            return "zusammengefuehrt"
        if kind == "trennen":
            chosen = parse_row_ids(form.getlist("artikel"))
            service.split(session, story_id, chosen, editor, settings)
            return "getrennt"
        service.set_headline(session, story_id, form_str(form, "ueberschrift"), editor)
        return "ueberschrift"

    field = {"zusammenfuehren": "mit", "trennen": "trennen"}.get(kind, "ueberschrift")
    typed = {f"ueberschrift-{story_id}": form_str(form, "ueberschrift")} if "ueberschrift" in form else {}
    return _act(area, database, settings, visitor, wanted, action, f"{field}-{story_id}", typed)


@router.post("/geschichte/{story_id}/kernaussage/{translation_id}")
def edit_passage(
    area: Area,
    visitor: Editor,
    form: Form,
    database: Db,
    settings: CurrentSettings,
    story_id: RowId,
    translation_id: RowId,
) -> Response:
    """An article's key passage: `aktion` = satz (sentence `satz`) | eigener (`text`) | automatisch."""
    with database.session() as session:
        story = session.get(Story, story_id)
        if story is None or translation_id not in {m.translation_id for m in story.members}:
            return area.error(visitor, 404, "Diesen Artikel gibt es in dieser Geschichte nicht.")
        wanted = service.parse_day(story.day)
    editor = visitor.user.name
    kind = form_str(form, "aktion")

    def action(session: Session) -> str:
        if kind == "satz":
            number = form_int(form, "satz")
            if number is None:
                raise service.StoryError(text("no_sentence_chosen"))
            key_passages.pick_sentence(session, translation_id, number, editor)
        elif kind == "eigener":
            key_passages.write_passage(session, translation_id, form_str(form, "text"), editor)
        else:
            key_passages.reset_passage(session, translation_id, editor)
        return "kernaussage"

    field = f"{'satz' if kind == 'satz' else 'text'}-{translation_id}"
    typed = {f"text-{translation_id}": form_str(form, "text")} if kind == "eigener" else {}
    return _act(area, database, settings, visitor, wanted, action, field, typed)
