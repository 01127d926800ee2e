"""Self-hosting details of the web app: the API's documentation page from local files, and the
token that guards /metrics.

The Swagger UI comes from the `swagger-ui-bundle` package and is served by the app itself, so
/api/v1/docs works on a machine without internet access (FastAPI's default loads it from a CDN).
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_ASSETS = "/docs-assets"

docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/docs")
def api_docs(request: Request) -> HTMLResponse:
    # Under a mount (/api/v1) the page must name its assets with the mount's prefix.
    root = request.scope.get("root_path", "").rstrip("/")
    return get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{request.app.title} – Dokumentation",
        swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
    )


def add_offline_docs(app: FastAPI) -> None:
    """Serve the Swagger UI page at /docs of `app`, its scripts and styles at /docs-assets/."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    app.include_router(docs_router)


def metrics_allowed(token: str | None, authorization: str | None) -> bool:
    """Whether a request with header `authorization` may read /metrics: always without a
    configured token, else only with `Bearer <token>` (compared in constant time)."""
    if not token:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())
