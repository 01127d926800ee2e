"""Dependencies of the admin routes: the area, the submitted form, and the signed-in visitor.

`Editor` and `Admin` are the guard every admin route takes, checked in this order: a valid session
(else a redirect to the login page for GET, 403 for POST), the role, and for a POST the CSRF token
bound to the session. The form is read before the session is looked up (its size limits apply to
everyone), once per request: `Form` hands the same, already checked, form to the route.
"""

from __future__ import annotations

from typing import Annotated, cast
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from presseschau.web.admin.area import PREFIX, AdminArea, Refusal, Visitor, form_str, see_other
from presseschau.web.limits import read_form


def admin_area(request: Request) -> AdminArea:
    return cast(AdminArea, request.app.state.admin_area)


Area = Annotated[AdminArea, Depends(admin_area)]


async def submitted_form(request: Request) -> FormData | None:
    """The POSTed form (within its route's limits); None for GET."""
    return await read_form(request) if request.method == "POST" else None


Submitted = Annotated[FormData | None, Depends(submitted_form)]


def _guard(request: Request, area: AdminArea, form: FormData | None, role: str) -> Visitor:
    visitor = area.visitor(request)
    if visitor is None:
        if request.method != "POST":
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise Refusal(see_other(f"{PREFIX}/anmelden?weiter={quote(target, safe='')}"))
        raise Refusal(area.error(None, 403, "Nicht angemeldet. Bitte zuerst anmelden."))
    if role == "admin" and not visitor.user.is_admin:
        raise Refusal(area.error(visitor, 403, "Dieser Bereich ist Administratoren vorbehalten."))
    if form is not None and not area.signer.check_csrf(visitor.session.nonce, form_str(form, "csrf_token")):
        raise Refusal(
            area.error(visitor, 403, "Das Formular ist abgelaufen oder ungültig (CSRF-Schutz). Bitte Seite neu laden.")
        )
    return visitor


def signed_in_editor(request: Request, area: Area, form: Submitted) -> Visitor:
    """Any signed-in user (editors and admins); a POST's CSRF token checked."""
    return _guard(request, area, form, "editor")


def signed_in_admin(request: Request, area: Area, form: Submitted) -> Visitor:
    """A signed-in admin; a POST's CSRF token checked."""
    return _guard(request, area, form, "admin")


Editor = Annotated[Visitor, Depends(signed_in_editor)]
Admin = Annotated[Visitor, Depends(signed_in_admin)]


def checked_form(form: Submitted, visitor: Editor) -> FormData:
    """The POSTed form, its CSRF token checked (by `Editor`; routes take `Admin` before `Form`)."""
    assert form is not None, "only POST routes take a form"
    return form


Form = Annotated[FormData, Depends(checked_form)]
