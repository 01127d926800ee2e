"""The editorial admin area under /admin/: login, dashboard, review queue, editor, sources, users.

Security design (see `presseschau.editorial.security` and `presseschau.web.admin.deps`):
- every route takes the `Editor` or `Admin` dependency: no valid signed session cookie means a
  redirect to the login page (GET) or 403 (POST); role `admin` is required for sources and users;
- every POST carries a CSRF token bound to the session (the login form: to a pre-session cookie);
- logins are throttled per account (lockout in `users.authenticate`) and per client address;
- every response is `Cache-Control: no-store` and never touches the public page cache (these
  routes render directly), with headers that forbid framing and inline scripts.

Everything works with plain HTML forms; no JavaScript is needed. `create_app` puts an `AdminArea`
on `app.state.admin_area` and includes `router` before the site's catch-all slug routes.
"""

from __future__ import annotations

from fastapi import APIRouter

from presseschau.web.admin import auth, corrections, editor, review, source_tools, sources, stories, users
from presseschau.web.admin.area import LOGIN_COOKIE, PREFIX, SECURITY_HEADERS, SESSION_COOKIE, AdminArea

router = APIRouter()
for _part in (auth, review, editor, sources, source_tools, users, stories, corrections):
    router.include_router(_part.router)

__all__ = ["LOGIN_COOKIE", "PREFIX", "SECURITY_HEADERS", "SESSION_COOKIE", "AdminArea", "router"]
