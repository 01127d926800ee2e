"""Request body limits, enforced before a body is read.

Starlette parses a whole form (about 1,000 fields of 1 MB each) when a route asks for it, and the
admin routes asked before they checked the session: an anonymous 900 MB POST grew the server by
hundreds of MB before its 403. `BodyLimitMiddleware` runs first:
- a POST to the admin area without a validly signed session cookie (the login form: without its
  pre-session cookie) is refused with 403 before one byte of the body is read;
- a body larger than its route's limit is refused with 413: at once by its `Content-Length`,
  or, sent without one (chunked), as soon as the bytes read pass the limit;
`read_form` then parses a form with its route's field limit (413 beyond it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presseschau.ingest.opml import MAX_OPML_BYTES

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class FormLimit:
    max_bytes: int
    max_fields: int
    max_files: int = 0


# A login form is a name, a password and a token; an editor's save holds every paragraph of an
# article (long ones have hundreds); sources and users forms are small, but a glossary is a textarea.
LOGIN_LIMIT = FormLimit(16 * KIB, 10)
EDITOR_LIMIT = FormLimit(4 * MIB, 5_000)
ADMIN_LIMIT = FormLimit(256 * KIB, 100)
# An OPML upload: one file as large as the importer takes, plus the form around it.
OPML_LIMIT = FormLimit(MAX_OPML_BYTES + 64 * KIB, 10, max_files=1)
# The public site takes no forms: anything with a body there is small or refused.
PUBLIC_LIMIT = FormLimit(64 * KIB, 20)
BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def limit_for(path: str, admin_prefix: str = "/admin") -> FormLimit:
    if path == f"{admin_prefix}/anmelden":
        return LOGIN_LIMIT
    if path.startswith(f"{admin_prefix}/uebersetzung/"):
        return EDITOR_LIMIT
    if path == f"{admin_prefix}/opml":
        return OPML_LIMIT
    if path == admin_prefix or path.startswith(admin_prefix + "/"):
        return ADMIN_LIMIT
    return PUBLIC_LIMIT


class BodyTooLarge(Exception):
    """The body read so far passed the route's limit (`max_bytes`)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"request body too large (at most {max_bytes // KIB} KiB)")
        self.max_bytes = max_bytes


async def _plain(send: Send, status: int, text: str, headers: Mapping[str, str]) -> None:
    body = text.encode("utf-8")
    raw_headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),  # the unread rest of the body is not wanted
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Per-route body limits and the admin area's early cookie check (see the module docstring).

    `has_session(cookie_value)` says whether a session cookie is validly signed and unexpired (a
    signature check, no database); `headers` go on every refusal from the admin area.
    """

    def __init__(
        self,
        app: ASGIApp,
        has_session: Callable[[str | None], bool],
        session_cookie: str,
        login_cookie: str,
        admin_prefix: str = "/admin",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.has_session = has_session
        self.session_cookie = session_cookie
        self.login_cookie = login_cookie
        self.admin_prefix = admin_prefix
        self.headers = dict(headers or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = limit_for(path, self.admin_prefix)
        is_admin = path == self.admin_prefix or path.startswith(self.admin_prefix + "/")
        headers = self.headers if is_admin else {}
        if is_admin and scope.get("method") not in BODYLESS_METHODS:
            cookies = _cookies(scope)
            if path == f"{self.admin_prefix}/anmelden":
                if not cookies.get(self.login_cookie):
                    await _plain(send, 403, "Das Anmeldeformular ist abgelaufen. Bitte neu laden.", headers)
                    return
            elif not self.has_session(cookies.get(self.session_cookie)):
                await _plain(send, 403, "Nicht angemeldet. Bitte zuerst anmelden.", headers)
                return
        declared = _content_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _plain(send, 413, f"Anfrage zu groß (höchstens {limit.max_bytes // KIB} KiB).", headers)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit.max_bytes:
                    raise BodyTooLarge(limit.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _plain(send, 413, f"Anfrage zu groß (höchstens {limit.max_bytes // KIB} KiB).", headers)


def _cookies(scope: Scope) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies.update(cookie_parser(value.decode("latin-1")))
    return cookies


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class TooManyFields(Exception):
    def __init__(self, limit: FormLimit) -> None:
        super().__init__(f"more than {limit.max_fields} form fields")
        self.limit = limit


async def read_form(request: Request) -> FormData:
    """The request's form within its route's field and file limits; `TooManyFields` beyond them."""
    limit = limit_for(request.url.path)
    try:
        form = await request.form(max_fields=limit.max_fields, max_files=limit.max_files, max_part_size=limit.max_bytes)
    except HTTPException as error:  # Starlette's own field limit answers 400
        if error.status_code == 400 and "Too many fields" in str(error.detail):
            raise TooManyFields(limit) from error
        raise
    if len(form.multi_items()) > limit.max_fields:  # url-encoded forms are not counted by the parser
        raise TooManyFields(limit)
    return form
