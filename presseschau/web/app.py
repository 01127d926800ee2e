"""The website: `create_app` assembles state, the ASGI layers, error handlers, the public routes,
the admin area and the JSON API; the parts live in `cache`, `public`, `middleware`, `site_routes`,
`errors`, `press_review`, `corrections`, `admin` and `api`.
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException

from presseschau import __version__
from presseschau.app import AppContext
from presseschau.web import admin
from presseschau.web.admin import SECURITY_HEADERS
from presseschau.web.api import PREFIX as API_PREFIX
from presseschau.web.api import api_app
from presseschau.web.corrections import router as corrections_router
from presseschau.web.errors import german_error, server_error, too_many_fields
from presseschau.web.limits import BodyLimitMiddleware, TooManyFields
from presseschau.web.middleware import SiteFront, Website, metrics_registry
from presseschau.web.press_review import router as press_review_router
from presseschau.web.public import PublicSite
from presseschau.web.site_routes import article_router, site_router

GZIP_MINIMUM_BYTES = 500


def app_from_environment() -> FastAPI:
    """`create_app` for the data directory in PRESSESCHAU_DATA: the factory each process of
    `presseschau serve --workers N` calls, since a live app object cannot cross a process fork."""
    return create_app(AppContext.for_data_dir(os.environ.get("PRESSESCHAU_DATA")))


def create_app(context: AppContext) -> FastAPI:
    """The website of `context`'s database: the site, the admin area and the JSON API."""
    settings = context.settings
    app = Website(title=settings.site_title, version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    public = PublicSite(context)
    app.state.context = context
    app.state.public = public
    app.state.site = public.site
    app.state.page_cache = public.cache
    app.state.admin_area = admin.AdminArea(context)
    registry, requests_total, latency = metrics_registry(context)
    app.state.metrics_registry = registry
    # Innermost: pages, CSS and feeds go out compressed to clients that accept gzip (on the demo
    # set the RSS feed goes from 54.6 to 19.4 kB, an article page from 12.6 to 4.8 kB). Small
    # bodies are not worth it.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    signer = app.state.admin_area.signer
    # Before anything reads a body: the admin area's cookie check and every route's size limit.
    app.add_middleware(
        BodyLimitMiddleware,
        has_session=lambda cookie: signer.read_session(cookie) is not None,
        session_cookie=admin.SESSION_COOKIE,
        login_cookie=admin.LOGIN_COOKIE,
        headers=SECURITY_HEADERS,
    )
    app.add_exception_handler(TooManyFields, too_many_fields)
    # Outermost, outside FastAPI's own layers: metrics see HEAD and replayed pages.
    app.front = lambda stack: SiteFront(stack, public, requests_total, latency)
    app.add_exception_handler(StarletteHTTPException, german_error)
    app.add_exception_handler(RequestValidationError, german_error)
    app.add_exception_handler(Exception, server_error)
    app.include_router(site_router)
    app.include_router(press_review_router)
    app.include_router(corrections_router)
    # Before the catch-all slug routes, which would otherwise take /admin/ as an article.
    app.include_router(admin.router)
    app.mount(API_PREFIX, api_app(context))  # before the slug routes; its own OpenAPI docs
    app.include_router(article_router)
    return app
