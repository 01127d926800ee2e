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

import contextlib
import hashlib
import json
import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from presseschau import __version__
from presseschau.config import Settings
from presseschau.progress import Progress
from presseschau.publish import press_review, queries, search, static_search
from presseschau.publish.archive import ArchiveIndex
from presseschau.publish.feeds import FeedItem
from presseschau.publish.formatting import german_date
from presseschau.publish.site import FEED_ITEMS, Site
from presseschau.publish.urls import FEED_FILES, STATIC_DIR
from presseschau.store.db import Database
from presseschau.text import balance_bidi, isolate_bidi

MANIFEST_NAME = ".presseschau-build.json"
log = logging.getLogger(__name__)


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


class StaticBuildError(OSError):
    """The build cannot write a file inside its output directory; the message names the path."""


def _manifest_files(manifest: object) -> dict[str, str]:
    """The manifest's {relative path: digest} entries that can name a file: an entry someone edited
    into a NUL byte, a non-text value, an absolute path or ".." is dropped (a NUL made every later
    build end in a traceback)."""
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ValueError("no files in the manifest")
    return {
        relpath: digest
        for relpath, digest in files.items()
        if isinstance(relpath, str)
        and isinstance(digest, str)
        and relpath
        and "\x00" not in relpath
        and not Path(relpath).is_absolute()
        and ".." not in Path(relpath).parts
    }


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)


def _write_inside(root: Path, relpath: str, data: bytes) -> None:
    """Write `data` to `root/relpath` without following a symbolic link anywhere below `root`.

    Each directory is opened relative to its parent with O_NOFOLLOW, the file is created fresh
    (O_EXCL, after removing a leftover temporary or a link planted under its name) and renamed
    into place, which replaces a link at the target instead of writing through it: a link
    `OUT/archiv/.index.html.tmp -> elsewhere` or `OUT/quelle/1 -> elsewhere/` made the build
    overwrite files outside OUT."""
    parts = Path(relpath).parts
    if not parts or Path(relpath).is_absolute() or ".." in parts or "\x00" in relpath:
        raise StaticBuildError(f"static build: {relpath!r} is no path inside {root}")
    # The output directory itself may be a link the operator set up; below it, no link is followed.
    directory = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for part in parts[:-1]:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=directory)
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=directory)
            except OSError as error:  # ELOOP / ENOTDIR: a symbolic link or a file in the way
                raise StaticBuildError(
                    f"static build: {root / Path(*parts[: parts.index(part) + 1])} is not a directory inside "
                    f"{root} (a symbolic link?); not writing through it ({error.strerror})"
                ) from None
            os.close(directory)
            directory = inner
        name = parts[-1]
        temporary = f".{name}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=directory)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(temporary, flags, 0o644, dir_fd=directory)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        # Write then rename: a web server never serves a half-written file.
        os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    finally:
        os.close(directory)


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
            self.previous: dict[str, str] = _manifest_files(manifest)
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
        if self.previous.get(relpath) == digest and target.is_file() and not target.is_symlink():
            self.report.unchanged += 1
            return
        try:
            _write_inside(self.outdir, relpath, data)
        except StaticBuildError:
            raise
        except OSError as error:  # opened relative to a directory: name the whole path (a full disk)
            raise OSError(error.errno, error.strerror, str(target)) from None
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
        _write_inside(self.outdir, MANIFEST_NAME, json.dumps(manifest, sort_keys=True, indent=0).encode("utf-8"))


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


def _search_terms(session: Session, view: queries.ArticleView) -> list[str]:
    """Every stem of the article's search entry (German text, English title, teaser and authors):
    the static search matches queries by the server's rules (see `presseschau.publish.search`).
    Built from the article view, so it holds no more of the text than its reuse mode shows."""
    body = "\n".join(p.text for p in view.paragraphs)
    original = search.original_text(session, view.summary.publication_id, view.reuse)
    return search.search_terms(f"{view.summary.title}\n{body}\n{original}")


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


@dataclass
class _Published:
    """Every published article's summary (newest first), indexed the ways the build needs them."""

    everything: list[queries.Summary]
    by_id: dict[int, queries.Summary] = field(default_factory=dict)
    by_source: dict[int, list[queries.Summary]] = field(default_factory=lambda: defaultdict(list))
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
    view = queries.article_view(session, site.settings, summary.publication_id, with_links=False)
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
        if view.bilingual:
            bilingual = site.bilingual_page(session, summary.publication_id)
            if bilingual is not None:
                writer.write(f"{summary.slug}/zweisprachig/index.html", bilingual)
        search_entries.append(
            {
                "url": site.urls.article(summary.slug),
                # Shown by the search page's script: outside text isolated like in the templates.
                "title": isolate_bidi(summary.title),
                "teaser": isolate_bidi(summary.teaser),
                "date": german_date(summary.published_at, site.settings.timezone),
                "outlet": isolate_bidi(summary.outlet or summary.source_name or ""),
                "terms": [balance_bidi(term) for term in _search_terms(session, view)],
            }
        )
        if progress is not None:
            progress(1, summary.title)
    return search_entries


def _write_lists(session: Session, site: Site, writer: _Writer, published: _Published) -> ArchiveIndex:
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
    archive = ArchiveIndex.from_summaries(everything, site.settings.timezone)
    writer.write("archiv/index.html", site.archive(session, archive.years()))
    review_days = site.review_days(session)
    for year, months in archive.years():
        for entry in months:
            html = site.render_month(year, entry.month, archive, published.by_id, review_days)
            writer.write(f"archiv/{year:04d}/{entry.month:02d}/index.html", html)
    for day in archive.days:
        html = site.render_archive_day(archive, day, published.by_id, review_days)
        writer.write(f"archiv/{day.year:04d}/{day.month:02d}/{day.day:02d}/index.html", html)
    return archive


def _write_search_index(
    site: Site, writer: _Writer, published: _Published, search_entries: list[dict[str, str | list[str]]]
) -> None:
    """Pagefind's chunked index of the article pages; the one-file JSON index only without it."""
    pages = [f"{s.slug}/index.html" for s in published.everything if f"{s.slug}/index.html" in writer.current]
    files = static_search.bundle(writer.outdir, pages, site.language, site.urls.prefix)
    if files is None:
        body = json.dumps({"articles": search_entries}, ensure_ascii=False, separators=(",", ":"))
        writer.write("suche/index.json", body)
        return
    for relpath, data in sorted(files.items()):
        writer.write(f"{static_search.BUNDLE_DIR}/{relpath}", data)


def _write_site_files(
    session: Session,
    site: Site,
    writer: _Writer,
    published: _Published,
    archive: ArchiveIndex,
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
    _write_search_index(site, writer, published, search_entries)
    writer.write("404.html", site.not_found())
    writer.write("korrekturen/index.html", site.corrections_page(session))
    writer.write("korrekturen/feed.xml", site.corrections_feed(session))
    for relpath, body in press_review.static_files(session, site).items():
        writer.write(relpath, body)
    for asset in sorted(STATIC_DIR.iterdir()):
        if asset.is_file():
            writer.write(f"static/{asset.name}", asset.read_bytes())
    writer.write("favicon.ico", (STATIC_DIR / "favicon.ico").read_bytes())  # asked for at the root
