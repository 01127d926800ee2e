"""The website's error handlers: German pages for unknown URLs, other HTTP errors and failures."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from presseschau.web.admin import SECURITY_HEADERS
from presseschau.web.api import PREFIX as API_PREFIX
from presseschau.web.cache import HTML, respond
from presseschau.web.limits import TooManyFields
from presseschau.web.public import public_site


async def too_many_fields(request: Request, error: Exception) -> Response:
    assert isinstance(error, TooManyFields)  # registered for this exception only
    return Response(
        f"Zu viele Formularfelder (höchstens {error.limit.max_fields}).",
        status_code=413,
        media_type="text/plain",
        headers=SECURITY_HEADERS if request.url.path.startswith("/admin") else None,
    )


async def german_error(request: Request, error: Exception) -> Response:
    # Unknown URLs (no route) and malformed ones (/quelle/abc/, an id past the database's
    # range) get the site's German 404 page, never FastAPI's JSON or a Pydantic message.
    status = error.status_code if isinstance(error, StarletteHTTPException) else 404
    if request.url.path.startswith(API_PREFIX + "/"):  # a path the API's mount did not match ("\n" in it)
        return JSONResponse({"detail": "Not Found"}, status_code=404, headers={"Cache-Control": "no-store"})
    if status != 404:
        # Every other status a German page too ("Methode nicht erlaubt", not "Method Not Allowed"),
        # with the exception's headers (Allow, Retry-After, WWW-Authenticate).
        detail, headers = str(getattr(error, "detail", "")), dict(getattr(error, "headers", None) or {})
        if request.url.path.startswith("/admin"):
            headers = {**SECURITY_HEADERS, **headers}
        headers.setdefault("Cache-Control", "no-store")
        body = public_site(request).site.http_error(status, detail)
        return Response(body, status_code=status, media_type=HTML, headers=headers)
    page = public_site(request).not_found()
    if request.url.path.startswith("/admin"):
        return Response(page.body, status_code=404, media_type=HTML, headers={"Cache-Control": "no-store"})
    return respond(request, page)


async def server_error(request: Request, error: Exception) -> Response:
    """An unexpected failure: the German 500 page (the error itself goes to the log, not the reader)."""
    body = public_site(request).site.http_error(500)
    return Response(body, status_code=500, media_type=HTML, headers={"Cache-Control": "no-store"})
