"""Signing in and out of the admin area: a throttled login form and session cookies."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from presseschau.editorial.security import password_fingerprint
from presseschau.editorial.users import AuthenticatedUser, LoginThrottled, authenticate
from presseschau.store.db import Database
from presseschau.store.models import User
from presseschau.web.admin.area import (
    COOKIE_PATH,
    LOGIN_COOKIE,
    LOGIN_FAILED,
    MESSAGES,
    PREFIX,
    SESSION_COOKIE,
    AdminArea,
    AdminRoute,
    client_address,
    form_str,
    safe_next,
    see_other,
)
from presseschau.web.admin.deps import Area, Editor, Form, Submitted
from presseschau.web.deps import CurrentSettings, Db

router = APIRouter(prefix=PREFIX, route_class=AdminRoute)


def login_page(
    request: Request,
    area: AdminArea,
    status: int = 200,
    message: str | None = None,
    form: FormData | None = None,
) -> Response:
    """The login form; after a refusal (`form`: the refused one) the name and the page to go to
    stay as they were, the password is never sent back."""
    binding = request.cookies.get(LOGIN_COOKIE) or area.signer.csrf_token(str(time.time_ns()))
    response = area.page(
        "login.html",
        None,
        status=status,
        csrf=area.signer.csrf_token("login:" + binding),
        message=message,
        name=form_str(form, "name") if form is not None else "",
        next=safe_next(form_str(form, "weiter") if form is not None else request.query_params.get("weiter")),
        notice=MESSAGES.get(request.query_params.get("ok", "")),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        binding,
        max_age=3600,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=area.cookie_secure(request),
    )
    return response


def _check_password(database: Database, name: str, password: str) -> tuple[AuthenticatedUser, str] | None:
    """The user and their password's fingerprint (bound into the session), or None."""
    with database.session() as session:
        try:
            user = authenticate(session, name, password)
        except LoginThrottled:
            # Answered like a wrong password: "locked until" would tell that the name exists.
            return None
        stored = session.get(User, user.id) if user is not None else None
        if user is None or stored is None:
            return None
        return user, password_fingerprint(stored.password_hash, stored.session_generation)


@router.get("/anmelden")
def login_form(request: Request, area: Area) -> Response:
    return login_page(request, area)


@router.post("/anmelden")
def login(request: Request, area: Area, database: Db, settings: CurrentSettings, form: Submitted) -> Response:
    assert form is not None  # a POST
    binding = request.cookies.get(LOGIN_COOKIE)
    if not area.signer.check_csrf("login:" + binding if binding else None, form_str(form, "csrf_token")):
        return login_page(request, area, 403, "Das Anmeldeformular ist abgelaufen. Bitte erneut versuchen.")
    address = client_address(request)
    wait = area.throttle.retry_after(address)
    if wait > 0:
        message = f"Zu viele fehlgeschlagene Anmeldungen. Bitte in {int(wait) + 1} Sekunden erneut versuchen."
        response = login_page(request, area, 429, message, form)
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response
    found = _check_password(database, form_str(form, "name").strip(), form_str(form, "passwort"))
    if found is None:
        area.throttle.record_failure(address)
        return login_page(request, area, 401, LOGIN_FAILED, form)
    user, fingerprint = found
    lifetime = settings.admin_session_hours * 3600
    response = see_other(safe_next(form_str(form, "weiter")))
    response.set_cookie(
        SESSION_COOKIE,
        area.signer.new_session(user.id, fingerprint, lifetime),
        max_age=lifetime,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=area.cookie_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)
    return response


@router.post("/abmelden")
def logout(area: Area, visitor: Editor, form: Form) -> Response:
    area.revoke(visitor.session)  # a copy of the cookie must not outlive the sign-out
    response = see_other(f"{PREFIX}/anmelden?ok=abgemeldet")
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response
