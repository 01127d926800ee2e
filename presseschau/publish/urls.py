"""The site's addresses: site-relative and absolute URLs of every page (server or static build),
and the static assets' cache-busting versions. Below `site` and the press review's pages, which
both build links with it."""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from presseschau.publish import ranking

Mode = Literal["server", "static"]
FEED_FILES: dict[str, str] = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
STATIC_DIR = Path(__file__).parent / "static"


@lru_cache(maxsize=32)
def asset_version(name: str) -> str:
    path = STATIC_DIR / name
    return hashlib.blake2b(path.read_bytes(), digest_size=5).hexdigest() if path.is_file() else "0"


class Urls:
    """Site-relative and absolute URLs; honours a path prefix in `base_url` (e.g. `/presse`)."""

    def __init__(self, base_url: str, mode: Mode) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.prefix = parts.path.rstrip("/")
        self.mode = mode

    def path(self, path: str) -> str:
        return self.prefix + path

    def absolute(self, site_path: str) -> str:
        """`site_path` as returned by the other methods (already prefixed) made absolute."""
        return self.origin + site_path

    def home(self, page: int = 1) -> str:
        if page <= 1:
            return self.path("/")
        return self.path(f"/seite/{page}/") if self.mode == "static" else self.path(f"/?seite={page}")

    def article(self, slug: str) -> str:
        return self.path(f"/{slug}/")

    def source(self, source_id: int, page: int = 1) -> str:
        if page <= 1:
            return self.path(f"/quelle/{source_id}/")
        if self.mode == "static":
            return self.path(f"/quelle/{source_id}/seite/{page}/")
        return self.path(f"/quelle/{source_id}/?seite={page}")

    def archive(self) -> str:
        return self.path("/archiv/")

    def month(self, year: int, month: int) -> str:
        return self.path(f"/archiv/{year:04d}/{month:02d}/")

    def day(self, day: date) -> str:
        return self.path(f"/archiv/{day.year:04d}/{day.month:02d}/{day.day:02d}/")

    def search(self, query: str | None = None, page: int = 1, filters: ranking.Filters | None = None) -> str:
        base = self.path("/suche/") if self.mode == "static" else self.path("/suche")
        if not query:
            return base
        extra = "".join(f"&{name}={quote(value)}" for name, value in ranking.filter_params(filters))
        return f"{base}?q={quote(query)}{extra}" + (f"&seite={page}" if page > 1 else "")

    def feed(self, kind: str, source_id: int | None = None) -> str:
        name = FEED_FILES[kind]
        return self.path(f"/quelle/{source_id}/{name}" if source_id is not None else f"/{name}")

    def bilingual(self, slug: str) -> str:
        """The side-by-side page of an article (German beside the English original)."""
        return self.path(f"/{slug}/zweisprachig/")

    def report(self, publication_id: int, index: int) -> str:
        """The form for reporting a translation error in paragraph `index` (server only)."""
        return self.path(f"/korrektur/{publication_id}/{index}/")

    def corrections(self) -> str:
        return self.path("/korrekturen/")

    def corrections_feed(self) -> str:
        return self.path("/korrekturen/feed.xml")

    def asset(self, name: str) -> str:
        # The content hash in the URL lets browsers cache assets forever (a change gives a new URL).
        return self.path(f"/static/{name}?v={asset_version(name)}")
