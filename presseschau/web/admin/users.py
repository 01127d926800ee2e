"""User accounts in the admin area (admins only): add, lock and unlock, reset a password, remove."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.editorial.users import ROLES, UserError, add_user, remove_user, set_disabled, set_password
from presseschau.messages import text
from presseschau.store.db import Database
from presseschau.store.models import User
from presseschau.web.admin.area import MESSAGES, PREFIX, AdminArea, AdminRoute, Visitor, form_str, see_other
from presseschau.web.admin.deps import Admin, Area, Form
from presseschau.web.deps import Db
from presseschau.web.params import RowId

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


def users_page(
    area: AdminArea,
    database: Database,
    visitor: Visitor,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
) -> Response:
    """The users and their forms. After a refusal, `errors` holds the message by the id of the input
    it is about, and `typed` the new-user form's name and role (never a password)."""
    with database.session() as session:
        rows = list(session.scalars(select(User).order_by(User.name)))
        return area.page(
            "users.html",
            visitor,
            status=status,
            users=rows,
            roles=ROLES,
            error=error,
            notice=notice,
            errors=errors or {},
            typed=typed or {},
        )


def _change_user(
    area: AdminArea,
    database: Database,
    visitor: Visitor,
    change: Callable[[Session], str],
    inputs: Mapping[str, str],
    typed: Mapping[str, str] | None = None,
) -> Response:
    """Run a user change (returns a message key) in one transaction; errors re-render the list with
    the message next to the input it is about (`inputs`: `UserError.field` → the input's id; "" for
    the form's first input)."""
    try:
        with database.session() as session:
            key = change(session)
    except UserError as error:
        where = inputs.get(error.field or "", inputs[""])
        return users_page(
            area,
            database,
            visitor,
            status=400,
            error=f"Nicht geändert: {error.german}",
            errors={where: error.german},
            typed=typed,
        )
    return see_other(f"{PREFIX}/benutzer?ok={key}")


def _user_name(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    if user is None:
        raise UserError(text("user_id_not_found", user_id=user_id))
    return user.name


def _same_passwords(form: Form) -> str:
    if form_str(form, "passwort") != form_str(form, "passwort2"):
        raise UserError(text("passwords_differ"), field="repeated")
    return form_str(form, "passwort")


@router.get("/benutzer")
def users(request: Request, area: Area, visitor: Admin, database: Db) -> Response:
    return users_page(area, database, visitor, notice=MESSAGES.get(request.query_params.get("ok", "")))


@router.post("/benutzer")
def add_user_route(area: Area, visitor: Admin, form: Form, database: Db) -> Response:
    def change(session: Session) -> str:
        password = _same_passwords(form)
        add_user(session, form_str(form, "name").strip(), password, form_str(form, "rolle"))
        return "benutzer-angelegt"

    inputs = {"": "neu-name", "role": "neu-rolle", "password": "neu-passwort", "repeated": "neu-passwort2"}
    typed = {"name": form_str(form, "name"), "rolle": form_str(form, "rolle")}
    return _change_user(area, database, visitor, change, inputs, typed)


@router.post("/benutzer/{user_id}/sperren")
def disable_user(area: Area, visitor: Admin, form: Form, database: Db, user_id: RowId) -> Response:
    def change(session: Session) -> str:
        disable = form_str(form, "aktion") != "entsperren"
        set_disabled(session, _user_name(session, user_id), disable)
        return "benutzer-gesperrt" if disable else "benutzer-entsperrt"

    return _change_user(area, database, visitor, change, {"": f"sperren-{user_id}"})


@router.post("/benutzer/{user_id}/passwort")
def reset_password(area: Area, visitor: Admin, form: Form, database: Db, user_id: RowId) -> Response:
    def change(session: Session) -> str:
        password = _same_passwords(form)
        set_password(session, _user_name(session, user_id), password)
        return "passwort-gesetzt"

    return _change_user(area, database, visitor, change, {"": f"pw-{user_id}", "repeated": f"pw2-{user_id}"})


@router.post("/benutzer/{user_id}/entfernen")
def delete_user(area: Area, visitor: Admin, form: Form, database: Db, user_id: RowId) -> Response:
    def change(session: Session) -> str:
        if form_str(form, "bestaetigt") != "1":
            raise UserError(text("removal_not_confirmed"))
        remove_user(session, _user_name(session, user_id))
        return "benutzer-entfernt"

    return _change_user(area, database, visitor, change, {"": f"entfernen-{user_id}"})
