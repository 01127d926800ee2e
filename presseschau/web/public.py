"""What the public routes of one app share (`PublicSite`: renderer, page cache, site version),
as the route dependency `Public`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from presseschau.app import AppContext
from presseschau.publish import queries
from presseschau.publish.site import Site
from presseschau.publish.urls import STATIC_DIR
from presseschau.store.models import PublicationStatus, RemovedSource
from presseschau.text import ascii_digits
from presseschau.web.cache import (
    CACHE_ARTICLE,
    CACHE_ASSET,
    CACHE_LIST,
    HTML,
    REUSABLE,
    CachedPage,
    PageCache,
    SiteVersion,
    SlugTarget,
    make_page,
    respond,
)

VERSION_TTL_S = 1.0
CONTENT_TYPES = {
    "feed.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
    "feed.json": "application/feed+json; charset=utf-8",
}


SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def page_number(request: Request) -> int | None:
    raw = request.query_params.get("seite", "1")
    return int(raw) if ascii_digits(raw) and 0 < int(raw) < 1_000_000 else None


class PublicSite:
    """What the public routes of one app share: the renderer, the page cache and the site version."""

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.site = Site(context.settings, "server")
        self.language = context.settings.target_language
        self.cache = PageCache()
        self._version: tuple[int, str, str] | None = None
        self._version_at = 0.0
        self._version_lock = threading.Lock()
        self.assets = {
            path.name: make_page(path.read_bytes(), _asset_type(path), CACHE_ASSET)
            for path in STATIC_DIR.iterdir()
            if path.is_file()
        }
        self.robots = make_page(self.site.robots_txt(), "text/plain; charset=utf-8", "public, max-age=3600")

    def version(self) -> SiteVersion:
        """(publication count, newest `updated_at`, ...), re-read at most once per `VERSION_TTL_S`."""
        now = time.monotonic()
        if self._version is None or now - self._version_at > VERSION_TTL_S:
            with self._version_lock, self.context.database.session() as session:
                self._version = queries.site_version(session, self.language)
                self._version_at = now
        return self._version

    def fresh_version(self) -> SiteVersion | None:
        """The version when it is younger than `VERSION_TTL_S`; None when it must be read again."""
        if self._version is None or time.monotonic() - self._version_at > VERSION_TTL_S:
            return None
        return self._version

    async def current_version(self) -> SiteVersion:
        """`version()`, reading the database in a worker thread, never on the event loop."""
        fresh = self.fresh_version()
        return fresh if fresh is not None else await run_in_threadpool(self.version)

    def not_found(self) -> CachedPage:
        return make_page(self.site.not_found(), cache_control="public, max-age=60", status=404)

    def removed_source(self, source_id: int) -> CachedPage | None:
        """410 Gone for the pages of a removed source (IDs are never reused); None for any other ID."""
        with self.context.database.session() as session:
            removed = session.get(RemovedSource, source_id)
        if removed is None:
            return None
        body = self.site.error("Quelle entfernt", "Diese Quelle wurde entfernt; ihre Seite und ihr Feed enden hier.")
        return make_page(body, cache_control="public, max-age=3600", status=410)

    def rendered(
        self, render: Callable[[Session], str | None], media_type: str = HTML, cache_control: str = CACHE_LIST
    ) -> Callable[[], CachedPage | None]:
        """A builder that renders one page in its own session; None when `render` finds nothing."""

        def build() -> CachedPage | None:
            with self.context.database.session() as session:
                body = render(session)
            return None if body is None else make_page(body, media_type, cache_control)

        return build

    async def cached(
        self,
        request: Request,
        key: tuple[Any, ...],
        build: Callable[[], CachedPage | None],
        reusable: bool = False,
    ) -> Response:
        """The page under `key` at the current version, built on a miss. `reusable`: the answer
        depends on nothing but the path, the query and this entry, so `SiteFront` may replay it."""
        version = await self.current_version()
        full_key = (*key, version)
        page = self.cache.get_page(full_key)
        if page is None:
            page = await run_in_threadpool(build) or self.not_found()
            self.cache.put(full_key, page)
        if reusable:
            request.scope[REUSABLE] = (version, (full_key,), page)
        return respond(request, page)

    def resolve_slug(self, slug: str) -> SlugTarget:
        with self.context.database.session() as session:
            found = queries.find_slug(session, self.language, slug)
            if found is not None and found[1] == PublicationStatus.PUBLISHED:
                return SlugTarget(publication_id=found[0], updated=found[2].isoformat())
            if found is None:
                new_slug = queries.redirect_target(session, self.language, slug)
                if new_slug is not None:
                    return SlugTarget(redirect_to=self.site.urls.article(new_slug))
        return SlugTarget()

    def render_article(self, publication_id: int) -> CachedPage:
        with self.context.database.session() as session:
            body = self.site.article(session, publication_id)
        return make_page(body, cache_control=CACHE_ARTICLE) if body else self.not_found()


def public_site(request: Request) -> PublicSite:
    return cast(PublicSite, request.app.state.public)


async def _public_dependency(request: Request) -> PublicSite:
    # async: FastAPI runs a plain `def` dependency in the thread pool, a hop for an attribute read.
    return public_site(request)


Public = Annotated[PublicSite, Depends(_public_dependency)]


def _asset_type(path: Path) -> str:
    types = {
        ".css": "text/css; charset=utf-8",
        ".js": "text/javascript; charset=utf-8",
        ".svg": "image/svg+xml",
        ".ico": "image/x-icon",
    }
    return types.get(path.suffix, "application/octet-stream")
