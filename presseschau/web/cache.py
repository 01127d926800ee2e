"""The website's page cache: rendered pages (`CachedPage`), slug lookups (`SlugTarget`) and
replayable responses (`CachedResponse`) in one thread-safe LRU, and `respond`, which answers with a
page's ETag and caching headers.

Every page is keyed by the site version -- (publication count, newest `updated_at`),
re-read at most once per `VERSION_TTL_S` -- and article pages additionally by publication id
and `updated_at`. Any publish, unpublish, slug change or re-translation bumps `updated_at`,
so cached pages are never older than that TTL. Responses carry a strong ETag (hash of the
body) and answer `If-None-Match` with 304. A slug's lookup (`SlugTarget`: an article, a redirect
or nothing) is cached the same way, in the same LRU.

Fast path: a route whose answer depends only on the request's path and query, the site version and
cache entries marks the request `reusable`; `SiteFront`, the outermost ASGI layer, then keeps the
response exactly as it went out (`CachedResponse`: headers after compression, body) and replays it
for the same path, query and compression while the version is current and those entries are still
cached -- before FastAPI's own layers, routing and dependencies, which cost ten times the answer.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

# An article takes a slug lookup, its page and up to two replayable responses (with and without
# gzip; the plain one shares the page's bytes): twice the 4,096 entries of the page-only cache keeps as
# many articles (2,000 articles of 18 kB: about 50 MB).
CACHE_ENTRIES = 8192


# The scope key under which a route marks its answer as replayable: (version, cache keys, page).
REUSABLE = "presseschau.reusable"
HTML = "text/html; charset=utf-8"


# Browsers and proxies may reuse a page briefly and revalidate cheaply (ETag) afterwards.
CACHE_ARTICLE = "public, max-age=300, stale-while-revalidate=3600"
CACHE_LIST = "public, max-age=60, stale-while-revalidate=600"
CACHE_ASSET = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class CachedPage:
    body: bytes
    etag: str
    media_type: str
    cache_control: str
    status: int = 200


def make_page(
    body: str | bytes, media_type: str = HTML, cache_control: str = CACHE_LIST, status: int = 200
) -> CachedPage:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return CachedPage(
        data, '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"', media_type, cache_control, status
    )


SiteVersion = tuple[int, str, str]
RawHeaders = list[tuple[bytes, bytes]]
# What a route leaves under `REUSABLE`: the version, the cache keys it read, the page it answered with.
Reusable = tuple[SiteVersion, tuple[tuple[Any, ...], ...], CachedPage]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A page's response as it went out (status 200; headers after compression; body), with what
    it was made from: the site version and the cache keys the route read. While the version is
    current and those entries are still cached, routing the request again gives these bytes."""

    version: SiteVersion
    sources: tuple[tuple[Any, ...], ...]
    headers: RawHeaders
    body: bytes
    etag: str
    not_modified_headers: RawHeaders
    route: str


@dataclass(frozen=True, slots=True)
class SlugTarget:
    """What a slug names at one site version: a published article (`publication_id`, with its
    `updated` time for the page's cache key), a permanent redirect to its new address, or nothing."""

    publication_id: int | None = None
    updated: str = ""
    redirect_to: str | None = None


class PageCache:
    """A small thread-safe LRU of rendered pages, of slug lookups (`SlugTarget`, under keys that
    start with "slug") and of replayable responses (`CachedResponse`, keys that start with
    "response"): one bound on memory for all, and one hit count (a replay counts the hits of the
    entries it was made from, as routing the request again would)."""

    def __init__(self, size: int = CACHE_ENTRIES) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], CachedPage | SlugTarget | CachedResponse] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _get(self, key: tuple[Any, ...]) -> CachedPage | SlugTarget | CachedResponse | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return entry

    def get_page(self, key: tuple[Any, ...]) -> CachedPage | None:
        entry = self._get(key)
        return entry if isinstance(entry, CachedPage) else None

    def get_slug(self, key: tuple[Any, ...]) -> SlugTarget | None:
        entry = self._get(key)
        return entry if isinstance(entry, SlugTarget) else None

    def holds_all(self, keys: tuple[tuple[Any, ...], ...]) -> bool:
        """Whether every one of `keys` is cached; if so each is a hit and counts as just used."""
        with self._lock:
            if not all(key in self._pages for key in keys):
                return False
            for key in keys:
                self._pages.move_to_end(key)
            self.hits += len(keys)
            return True

    def get_response(self, key: tuple[Any, ...]) -> CachedResponse | None:
        """The replayable response under `key`; not counted as a hit or miss (its sources are)."""
        with self._lock:
            entry = self._pages.get(key)
            if not isinstance(entry, CachedResponse):
                return None
            self._pages.move_to_end(key)
            return entry

    def put(self, key: tuple[Any, ...], entry: CachedPage | SlugTarget | CachedResponse) -> None:
        with self._lock:
            self._pages[key] = entry
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def not_modified(etag: str, if_none_match: str) -> bool:
    """Whether a client that sent `If-None-Match: if_none_match` holds the page with `etag`."""
    return etag in if_none_match or if_none_match.strip() == "*"


def not_modified_response(page: CachedPage) -> Response:
    return Response(status_code=304, headers={"ETag": page.etag, "Cache-Control": page.cache_control})


def respond(request: Request, page: CachedPage) -> Response:
    """`page` with its ETag and caching headers; 304 when the client holds it already."""
    if page.status == 200 and not_modified(page.etag, request.headers.get("if-none-match", "")):
        return not_modified_response(page)
    headers = {"ETag": page.etag, "Cache-Control": page.cache_control}
    return Response(page.body, status_code=page.status, media_type=page.media_type, headers=headers)
