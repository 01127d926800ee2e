"""The JSON API under /api/v1/ (OpenAPI docs at /api/v1/docs, schema at /api/v1/openapi.json).

Read articles, translations and publications (paginated, filtered by source, status and date);
create, update, pause, resume and remove sources; trigger a fetch; re-translate or release an
article. Every request carries `Authorization: Bearer <token>` (`presseschau tokens add`); there are
no cookies, so there is no CSRF surface. Read tokens may only read; write tokens may change what
their role allows (`editor`: articles; `admin`: also sources). Requests are rate-limited per token
(`api_rate_limit_per_minute`, per server process), and failed authentications per client address.
Every write goes through the same service functions and validation as the CLI and the admin area.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from presseschau import __version__
from presseschau.app import AppContext
from presseschau.web.api import articles, publications, sources, translations
from presseschau.web.api.deps import ApiLimits, ServiceError, service_error_answer
from presseschau.web.offline import add_offline_docs
from presseschau.web.strict_json import StrictJsonMiddleware

PREFIX = "/api/v1"


async def no_store(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Cache-Control", "no-store")  # answers depend on the token
    return response


def api_app(context: AppContext) -> FastAPI:
    """The API as an application of its own, mounted at /api/v1 by `presseschau.web.app.create_app`."""
    app = FastAPI(
        title=f"{context.settings.site_title} API",
        version=__version__,
        description=__doc__,
        docs_url=None,  # served from local files by add_offline_docs, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.state.api_limits = ApiLimits(context.settings.api_rate_limit_per_minute)
    app.middleware("http")(no_store)
    app.add_middleware(StrictJsonMiddleware)
    for resource in (articles, translations, publications, sources):
        app.include_router(resource.router)
    app.add_exception_handler(ServiceError, service_error_answer)
    add_offline_docs(app)
    return app
