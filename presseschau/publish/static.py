"""`presseschau build OUTDIR`: the website as static files, written incrementally.

The same templates as the server, in the static URL style: pretty article URLs `/<slug>/`,
`/seite/N/` instead of `?seite=N`, and a JSON index for the client-side search at `/suche/`.
A manifest (`.presseschau-build.json`) keeps the content hash of every file written: files
whose bytes did not change are not rewritten, files no longer produced are deleted. It also keeps
a fingerprint of everything the pages are made from (publications, sources, settings, templates,
presseschau's version): when that is unchanged and every file is in place, nothing is rendered at
all, only the clock-dependent news sitemap is refreshed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from presseschau import __version__
from presseschau.config import Settings
from presseschau.publish import press_review, queries, search
from presseschau.publish.feeds import FeedItem
from presseschau.publish.formatting import german_date, local_datetime
from presseschau.publish.site import FEED_FILES, FEED_ITEMS, STATIC_DIR, MonthEntry, Site
from presseschau.store.db import Database
from presseschau.store.models import SearchDocument

MANIFEST_NAME = ".presseschau-build.json"
log = logging.getLogger(__name__)
Progress = Callable[[int, str | None], None]


@dataclass
class BuildReport:
    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    articles: int = 0
    seconds: float = 0.0
    written_paths: list[str] = field(default_factory=list)
    skipped: bool = False  # nothing the pages depend on changed: no page was rendered

    @property
    def total(self) -> int:
        return self.written + self.unchanged


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _Writer:
    """Writes only files whose content hash differs from the last build's manifest."""

    def __init__(self, outdir: Path, report: BuildReport) -> None:
        self.outdir = outdir
        self.report = report
        manifest_path = outdir / MANIFEST_NAME
        try:
            manifest = json.loads(manifest_path.read_text("utf-8"))
            self.previous: dict[str, str] = dict(manifest["files"])
            self.fingerprint: str | None = manifest.get("fingerprint")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self.previous, self.fingerprint = {}, None
        self.current: dict[str, str] = {}

    def all_present(self) -> bool:
        return bool(self.previous) and all((self.outdir / relpath).is_file() for relpath in self.previous)

    def write(self, relpath: str, content: str | bytes) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        digest = _digest(data)
        self.current[relpath] = digest
        target = self.outdir / relpath
        if self.previous.get(relpath) == digest and target.is_file():
            self.report.unchanged += 1
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a web server never serves a half-written file.
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        self.report.written += 1
        self.report.written_paths.append(relpath)

    def _inside(self, relpath: str) -> Path | None:
        """The file `relpath` names if it lies inside the output directory, else None.

        The manifest is a file on disk anyone with write access can edit: "../x", an absolute
        path or a path through a symlink must never make the build delete outside its directory.
        """
        root = self.outdir.resolve()
        candidate = Path(relpath)
        if candidate.is_absolute() or ".." in candidate.parts:
            return None
        path = self.outdir / candidate
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            return None
        if root not in resolved.parents:
            return None
        return path

    def finish(self, fingerprint: str) -> None:
        for relpath in sorted(set(self.previous) - set(self.current)):
            path = self._inside(relpath)
            if path is None:
                log.warning("static build: manifest entry %r is outside %s; not deleted", relpath, self.outdir)
                continue
            if path.is_file():
                path.unlink()
                self.report.deleted += 1
            _remove_empty_parents(path.parent, self.outdir)
        manifest = {"generator": "presseschau", "fingerprint": fingerprint, "files": self.current}
        (self.outdir / MANIFEST_NAME).write_text(json.dumps(manifest, sort_keys=True, indent=0), "utf-8")


def _remove_empty_parents(directory: Path, root: Path) -> None:
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _chunks(items: list[queries.Summary], size: int) -> Iterator[list[queries.Summary]]:
    for start in range(0, max(len(items), 1), size):
        yield items[start : start + size]


def _search_terms(session: Session, publication_id: int) -> list[str]:
    """Every stem of the article's search entry (German text, English title, teaser and authors):
    the static search matches queries by the server's rules (see `presseschau.publish.search`)."""
    document = session.get(SearchDocument, publication_id)
    return search.search_terms(f"{document.title}\n{document.body}") if document is not None else []


def build_site(
    database: Database,
    settings: Settings,
    outdir: Path | str,
    progress: Progress | None = None,
    force: bool = False,
) -> BuildReport:
    """Write the whole site into `outdir`; returns what was written, kept and deleted.

    Renders nothing when the inputs' fingerprint equals the last build's and its files are all
    there (`force` renders anyway, e.g. after editing files in `outdir` by hand)."""
    started = time.perf_counter()
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    report = BuildReport()
    writer = _Writer(outdir, report)
    site = Site(settings, "static")
    with database.session() as session:
        fingerprint = _fingerprint(session, site)
        if not force and writer.fingerprint == fingerprint and writer.all_present():
            writer.current = dict(writer.previous)
            report.unchanged = len(writer.previous) - 1
            report.articles = queries.count_published(session, site.language)
            report.skipped = True
            writer.write("news-sitemap.xml", site.news_sitemap(session))  # "the last two days" moves on
        else:
            _build(session, site, writer, report, progress)
    writer.finish(fingerprint)
    report.seconds = time.perf_counter() - started
    return report


def _fingerprint(session: Session, site: Site) -> str:
    """A digest of everything the pages are made from, except the clock (see the news sitemap)."""
    # Editorial changes, slug changes and (un)publishing all touch Publication.updated_at.
    settings = site.settings.model_dump(mode="json", exclude={"data_dir"})
    inputs = {
        "version": __version__,
        "publications": queries.site_version(session, site.language),
        "sources": [repr(info) for info in queries.sources(session, site.language)],
        "settings": {key: value for key, value in settings.items() if not key.endswith("api_key")},
        "templates": _package_files_digest(),
        "press_review": press_review.fingerprint(session, site.settings),
    }
    return _digest(json.dumps(inputs, sort_keys=True, default=str).encode("utf-8"))


def _package_files_digest() -> str:
    """Templates and assets as installed (a development edit of a template must rebuild)."""
    digest = hashlib.blake2b(digest_size=16)
    for root in (STATIC_DIR, STATIC_DIR.parent / "templates"):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()


# The archive's months by year, as `Site.archive_months` lists them.
Archive = list[tuple[int, list[MonthEntry]]]


@dataclass
class _Published:
    """Every published article's summary (newest first), indexed the ways the build needs them."""

    everything: list[queries.Summary]
    by_id: dict[int, queries.Summary] = field(default_factory=dict)
    by_source: dict[int, list[queries.Summary]] = field(default_factory=lambda: defaultdict(list))
    by_month: dict[tuple[int, int], list[queries.Summary]] = field(default_factory=lambda: defaultdict(list))
    # Title-word postings in memory: the same ranking as the server's, without a query per article.
    title_terms: dict[int, list[str]] = field(default_factory=dict)
    postings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Feed entries are made from the article views of the article loop (newest 30, site and source).
    feed_ids: set[int] = field(default_factory=set)
    feed_entries: dict[int, FeedItem] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, language: str, tz: str) -> _Published:
        published = cls(queries.latest(session, language, limit=10_000_000))
        for summary in published.everything:
            published.by_id[summary.publication_id] = summary
            if summary.source_id is not None:
                published.by_source[summary.source_id].append(summary)
            local = local_datetime(summary.published_at, tz)
            published.by_month[(local.year, local.month)].append(summary)
            terms = list(queries.title_terms(summary.title))
            published.title_terms[summary.publication_id] = terms
            for term in terms:
                published.postings[term].append(summary.publication_id)
        published.feed_ids = {s.publication_id for s in published.everything[:FEED_ITEMS]}
        for items_of_source in published.by_source.values():
            published.feed_ids.update(s.publication_id for s in items_of_source[:FEED_ITEMS])
        return published

    def feed_items(self, summaries: list[queries.Summary]) -> list[FeedItem]:
        return [self.feed_entries[s.publication_id] for s in summaries[:FEED_ITEMS]]


def _build(session: Session, site: Site, writer: _Writer, report: BuildReport, progress: Progress | None) -> None:
    published = _Published.read(session, site.language, site.settings.timezone)
    report.articles = len(published.everything)
    search_entries = _write_articles(session, site, writer, published, progress)
    for old, new in queries.slug_redirects(session, site.language):
        # Static hosting cannot answer 301: the old URL gets a page that refreshes to the new one.
        if f"{old}/index.html" not in writer.current:
            writer.write(f"{old}/index.html", site.redirect_page(new))
    archive = _write_lists(session, site, writer, published)
    _write_site_files(session, site, writer, published, archive, search_entries)


def _article_view(session: Session, site: Site, published: _Published, position: int) -> queries.ArticleView | None:
    """The article at `position` with prev/next from the ordered list (newest first: previous =
    older), related articles and more from the same source."""
    everything = published.everything
    summary = everything[position]
    view = queries.article_view(session, site.language, summary.publication_id, with_links=False)
    if view is None:
        return None
    view.previous = everything[position + 1] if position + 1 < len(everything) else None
    view.next = everything[position - 1] if position > 0 else None
    own_postings = {term: published.postings[term] for term in published.title_terms[summary.publication_id]}
    linked = [s.publication_id for s in (view.previous, view.next) if s is not None]
    related = queries.rank_related(
        summary.publication_id,
        own_postings,
        len(everything),
        lambda ids: queries.german_texts(session, ids),
        exclude=linked,
    )
    view.related = [published.by_id[i] for i in related if i in published.by_id]
    if summary.source_id is not None:
        shown = {summary.publication_id} | {r.publication_id for r in view.related}
        same_source = [s for s in published.by_source[summary.source_id][:12] if s.publication_id not in shown]
        view.same_source = same_source[: queries.RELATED_COUNT]
    return view


def _write_articles(
    session: Session, site: Site, writer: _Writer, published: _Published, progress: Progress | None
) -> list[dict[str, str | list[str]]]:
    """Every article page; returns the search index's entries."""
    search_entries: list[dict[str, str | list[str]]] = []
    for position, summary in enumerate(published.everything):
        view = _article_view(session, site, published, position)
        if view is None:
            continue
        if summary.publication_id in published.feed_ids:
            published.feed_entries[summary.publication_id] = site.feed_item(view)
        html = site.article(session, summary.publication_id, view)
        assert html is not None
        writer.write(f"{summary.slug}/index.html", html)
        search_entries.append(
            {
                "url": site.urls.article(summary.slug),
                "title": summary.title,
                "teaser": summary.teaser,
                "date": german_date(summary.published_at, site.settings.timezone),
                "outlet": summary.outlet or summary.source_name or "",
                "terms": _search_terms(session, summary.publication_id),
            }
        )
        if progress is not None:
            progress(1, summary.title)
    return search_entries


def _write_lists(session: Session, site: Site, writer: _Writer, published: _Published) -> Archive:
    """The home pages, each source's pages and feeds, the archive; returns the archive's months."""
    everything, page_size = published.everything, site.settings.page_size
    pages = site.pages_count(len(everything))
    sources = queries.sources(session, site.language)
    for number, items in enumerate(_chunks(everything, page_size), start=1):
        html = site.render_home(items, number, pages, sources if number == 1 else [])
        writer.write("index.html" if number == 1 else f"seite/{number}/index.html", html)
    for info in sources:
        source = queries.source(session, info.id)
        assert source is not None  # listed by queries.sources a moment ago, in this transaction
        items_of_source = published.by_source[info.id]
        source_pages = site.pages_count(len(items_of_source))
        for number, items in enumerate(_chunks(items_of_source, page_size), start=1):
            html = site.render_source(source, items, len(items_of_source), number, source_pages)
            writer.write(
                f"quelle/{info.id}/index.html" if number == 1 else f"quelle/{info.id}/seite/{number}/index.html", html
            )
        for kind, name in FEED_FILES.items():
            body = site.feed(session, kind, info.id, published.feed_items(items_of_source))
            assert body is not None
            writer.write(f"quelle/{info.id}/{name}", body)
    archive = site.archive_months(session, [s.published_at for s in everything])
    writer.write("archiv/index.html", site.archive(session, archive))
    for (year, month), items in published.by_month.items():
        writer.write(f"archiv/{year:04d}/{month:02d}/index.html", site.render_month(year, month, items))
    return archive


def _write_site_files(
    session: Session,
    site: Site,
    writer: _Writer,
    published: _Published,
    archive: Archive,
    search_entries: list[dict[str, str | list[str]]],
) -> None:
    """Feeds, sitemaps, robots.txt, search, the 404 page and the assets."""
    for kind, name in FEED_FILES.items():
        body = site.feed(session, kind, None, published.feed_items(published.everything))
        assert body is not None
        writer.write(name, body)
    for name, body in site.sitemap_files(session, archive=archive).items():
        writer.write(name, body)
    writer.write("news-sitemap.xml", site.news_sitemap(session))
    writer.write("robots.txt", site.robots_txt())
    writer.write("suche/index.html", site.search_page(session, ""))
    writer.write(
        "suche/index.json", json.dumps({"articles": search_entries}, ensure_ascii=False, separators=(",", ":"))
    )
    writer.write("404.html", site.not_found())
    for relpath, body in press_review.static_files(session, site).items():
        writer.write(relpath, body)
    for asset in sorted(STATIC_DIR.iterdir()):
        if asset.is_file():
            writer.write(f"static/{asset.name}", asset.read_bytes())
    writer.write("favicon.ico", (STATIC_DIR / "favicon.ico").read_bytes())  # asked for at the root
