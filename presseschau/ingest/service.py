"""The ingest service: sources, polling, imports, and idempotent storage of extracted articles.

Transactions are per item: each article is stored -- and, if English, queued for translation --
in one transaction, so a crash loses at most the item in flight, which the next run finds again.
A source's conditional-GET state (ETag / Last-Modified) is saved only after all its entries were
processed: saving it first would make a crash turn the next poll into a 304 that hides entries.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.content import content_hash, paragraphs_to_json, strip_xml_forbidden
from presseschau.ingest.encoding import decode_bytes
from presseschau.ingest.errors import (
    BlockedAddress,
    ExtractionError,
    FeedError,
    HTTPStatusError,
    IngestError,
    InvalidInput,
    InvalidURL,
    NoArticleFound,
    RobotsDisallowed,
    SourceNotFound,
)
from presseschau.ingest.extract import (
    ExtractedArticle,
    discover_feeds,
    extract_article,
    html_fragment_to_paragraphs,
)
from presseschau.ingest.feeds import (
    FEED_FORMATS,
    SITEMAP_FORMATS,
    FeedEntry,
    detect_format,
    gunzip_file,
    maybe_gunzip,
    parse_feed,
)
from presseschau.ingest.fetcher import ACCEPT_FEED, Fetcher, FetchResponse
from presseschau.ingest.language import detect_language
from presseschau.ingest.sitemaps import parse_sitemap
from presseschau.ingest.sources import (
    create_source,
    filter_verdict,
    mark_filtered,
    publish_original,
    source_filters,
)
from presseschau.ingest.urls import normalize_url, validate_url
from presseschau.store.models import Article, ArticleAlias, ArticleRevision, Source, utcnow
from presseschau.store.queue import TranslationDone, enqueue_translation

log = logging.getLogger(__name__)

StoreOutcome = Literal["new", "updated", "unchanged", "duplicate", "not_english", "filtered"]
Progress = Callable[..., None]

# Per poll: a sitemap can list thousands of URLs; the newest this many are what matters for news.
MAX_ENTRIES_PER_POLL = 100  # page fetches per poll; the rest waits for a catch-up poll
MAX_ENTRIES_PER_DOCUMENT = 10_000  # entries read from one feed or sitemap (pathological inputs)
BACKLOG_POLL_DELAY_S = 60  # a poll that hit MAX_ENTRIES_PER_POLL comes back this soon
MAX_CHILD_SITEMAPS = 5
# A feed item with at least this many words of content is the full text: no page fetch needed.
FULL_CONTENT_MIN_WORDS = 150
# A failed item is retried on later polls until it has failed this often.
MAX_ITEM_ATTEMPTS = 5
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")

CONTENT_STATUSES = ("ok", "not_english", "filtered")
PLACEHOLDER_STATUSES = ("failed", "no_article", "pending")


@dataclass
class FetchReport:
    sources_polled: int = 0
    not_modified: int = 0
    entries_seen: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_duplicate: int = 0
    not_english: int = 0
    filtered: int = 0  # held back by their source's filters
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Sources and items attempted / done: the CLI fails only when nothing at all succeeded.
    attempted: int = 0
    succeeded: int = 0

    def count(self, outcome: StoreOutcome) -> None:
        self.succeeded += 1
        if outcome == "new":
            self.articles_new += 1
        elif outcome == "updated":
            self.articles_updated += 1
        elif outcome == "unchanged":
            self.articles_unchanged += 1
        elif outcome == "duplicate":
            self.articles_duplicate += 1
        elif outcome == "filtered":
            self.filtered += 1
        else:
            self.not_english += 1

    @property
    def all_failed(self) -> bool:
        return self.attempted > 0 and self.succeeded == 0


@dataclass
class ImportReport:
    inputs: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_duplicate: int = 0
    not_english: int = 0
    filtered: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)

    def count(self, outcome: StoreOutcome, article_id: int | None) -> None:
        setattr(self, _REPORT_FIELD[outcome], getattr(self, _REPORT_FIELD[outcome]) + 1)
        if article_id is not None:
            self.article_ids.append(article_id)

    @property
    def all_failed(self) -> bool:
        return self.inputs > 0 and len(self.failures) == self.inputs


_REPORT_FIELD: dict[str, str] = {
    "new": "articles_new",
    "updated": "articles_updated",
    "unchanged": "articles_unchanged",
    "duplicate": "articles_duplicate",
    "not_english": "not_english",
    "filtered": "filtered",
}


# Sources ------------------------------------------------------------------------------------------


def add_source(context: AppContext, url: str, **fields: Any) -> Source:
    """Register a feed, sitemap or page URL to poll; `SourceExists` if it is already registered.

    The fields (name, language, kind, poll_interval_s, publish_policy, engine, enabled, glossary,
    tags, filters) are validated by `presseschau.ingest.sources.create_source`."""
    return create_source(context, url, **fields)


def remove_source(context: AppContext, source_id: int) -> None:
    """Delete a source; its articles stay (with no source)."""
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(f"source {source_id}", "no such source")
        session.execute(update(Article).where(Article.source_id == source_id).values(source_id=None))
        session.delete(source)


def sources_to_poll(context: AppContext, source_id: int | None = None, due_only: bool = False) -> list[int]:
    now = utcnow()
    with context.database.session() as session:
        if source_id is not None:
            if session.get(Source, source_id) is None:
                raise SourceNotFound(f"source {source_id}", "no such source")
            return [source_id]
        query = select(Source.id).where(Source.enabled.is_(True)).order_by(Source.id)
        if due_only:
            query = query.where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        return list(session.scalars(query))


# Polling ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SourceView:
    """What a poll needs of a source, detached from any session."""

    id: int
    url: str
    name: str
    kind: str
    language: str
    etag: str | None
    last_modified: str | None


def fetch_sources(
    context: AppContext,
    source_id: int | None = None,
    due_only: bool = False,
    progress: Progress | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    on_done: TranslationDone | None = None,
) -> FetchReport:
    """Poll sources (all enabled ones, one, or the due ones), store what is new or changed.

    `on_done` is called, in the same transaction, for an article published as its original text
    (a `done` translation of engine `original`): the entry points pass the publish stage's
    `publisher`, so that it is published by its source's policy at once."""
    report = FetchReport()
    ids = sources_to_poll(context, source_id, due_only)
    with Fetcher(context.settings, transport=transport) as fetcher:
        for sid in ids:
            note = _poll_source(context, fetcher, sid, report, on_done)
            if progress is not None:
                progress(1, note)
    return report


def _poll_source(
    context: AppContext, fetcher: Fetcher, source_id: int, report: FetchReport, on_done: TranslationDone | None
) -> str:
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:  # removed meanwhile
            return ""
        view = _SourceView(
            source.id, source.url, source.name, source.kind, source.language, source.etag, source.last_modified
        )
    started = utcnow()
    report.sources_polled += 1
    report.attempted += 1
    try:
        response = fetcher.get(view.url, etag=view.etag, last_modified=view.last_modified, accept=ACCEPT_FEED)
        if response.not_modified:
            report.not_modified += 1
            report.succeeded += 1
            retried = _retry_failed_items(context, fetcher, view, report, on_done, exclude=set())
            _record_source_success(context, view.id, started, None, kind=None, new_items=0)
            return f"{view.name}: not modified" + (f", {retried} retried" if retried else "")
        body = maybe_gunzip(response.content, context.settings.http_max_bytes, view.url)
        fmt = detect_format(body)
        kind = _source_kind(view.kind, fmt, view.url)
        skipped_urls: set[str] = set()  # malformed feed items: recorded, not retried by URL meanwhile
        if kind == "page":
            entries: list[FeedEntry] = []
            outcome = _process_page_response(context, view, response, on_done)
            report.count(outcome)
            new_items = int(outcome == "new")
            backlog = False
        else:
            entries = _entries(context, fetcher, view, body, fmt, response, report, skipped_urls)
            report.succeeded += 1
            new_items, backlog = _process_entries(context, fetcher, view, entries, report, on_done)
    except Exception as caught:
        # A bug or an odd library error on one source must not end the run for the others.
        error = caught if isinstance(caught, IngestError) else _unexpected(view.url, caught)
        _record_source_failure(context, view.id, started, error)
        report.failures.append((view.url, error.reason))
        return f"{view.name}: {error.kind}"
    handled = {entry.url for entry in entries} | skipped_urls
    _retry_failed_items(context, fetcher, view, report, on_done, exclude=handled)
    _record_source_success(context, view.id, started, response, kind=kind, new_items=new_items, backlog=backlog)
    return f"{view.name}: {len(entries)} entries, {new_items} new" + (", more to fetch soon" if backlog else "")


def _unexpected(url: str, error: Exception) -> IngestError:
    log.exception("unexpected error while ingesting %s", url)
    return IngestError(url, f"unexpected {type(error).__name__}: {error}")


def _source_kind(declared: str, fmt: str, url: str) -> str:
    detected = "feed" if fmt in FEED_FORMATS else "sitemap" if fmt in SITEMAP_FORMATS else "page"
    if fmt == "unknown":
        raise FeedError(url, "response is neither a feed, a sitemap nor an HTML page")
    if declared != "auto" and declared != detected:
        raise FeedError(url, f"source is configured as {declared} but the response is {fmt}")
    return detected


def _entries(
    context: AppContext,
    fetcher: Fetcher,
    view: _SourceView,
    body: bytes,
    fmt: str,
    response: FetchResponse,
    report: FetchReport,
    skipped_urls: set[str],
) -> list[FeedEntry]:
    if fmt in FEED_FORMATS:
        feed = parse_feed(body, response.final_url, response.content_type)
        entries = feed.entries
        for skipped in feed.skipped:
            # Recorded like a failed item (on a placeholder row when it has a URL), never fatal.
            subject = skipped.subject(response.final_url)
            log.warning("feed %s: skipped %s: %s", response.final_url, subject, skipped.reason)
            report.failures.append((subject, skipped.reason))
            if skipped.url is not None:
                skipped_urls.add(skipped.url)
                _record_item_failure(context, skipped.url, view.id, FeedError(skipped.url, skipped.reason))
    else:
        parsed = parse_sitemap(body, response.final_url)
        entries = list(parsed.entries)
        for child_url in parsed.child_sitemaps[:MAX_CHILD_SITEMAPS]:
            try:
                child = fetcher.get(child_url, accept=ACCEPT_FEED)
                child_body = maybe_gunzip(child.content, context.settings.http_max_bytes, child_url)
                entries.extend(parse_sitemap(child_body, child.final_url).entries)
            except IngestError as error:
                # One broken child sitemap must not stop the others.
                report.failures.append((child_url, error.reason))
        entries.sort(key=lambda entry: entry.published.timestamp() if entry.published else 0.0, reverse=True)
    unique: dict[str, FeedEntry] = {}
    for entry in entries:
        unique.setdefault(entry.url, entry)
    return list(unique.values())[:MAX_ENTRIES_PER_DOCUMENT]


def _process_entries(
    context: AppContext,
    fetcher: Fetcher,
    view: _SourceView,
    entries: list[FeedEntry],
    report: FetchReport,
    on_done: TranslationDone | None,
) -> tuple[int, bool]:
    """Fetch the entries not stored yet, at most MAX_ENTRIES_PER_POLL; returns (new, backlog left).

    Known entries cost one lookup, so a long feed is read whole every time and nothing beyond
    the cap is lost: the caller schedules a catch-up poll while a backlog remains.
    """
    new_items = fetched = 0
    for entry in entries:
        report.entries_seen += 1
        with context.database.session() as session:
            known = _find_by_url(session, entry.url)
            state = (known.fetch_status, known.fetch_attempts, known.fetched_at) if known else None
        if state is not None and not _should_refetch(context.settings, state, entry):
            continue
        if fetched >= MAX_ENTRIES_PER_POLL:
            return new_items, True
        fetched += 1
        report.attempted += 1
        outcome = _process_entry(context, fetcher, view, entry, report, on_done)
        if outcome == "new":
            new_items += 1
    return new_items, False


def _item_retry_due(settings: Settings, attempts: int, fetched_at: datetime | None, now: datetime) -> bool:
    """Whether a failed item may be fetched again: attempts left and its backoff passed."""
    if attempts >= MAX_ITEM_ATTEMPTS:
        return False
    if fetched_at is None or settings.item_retry_base_s <= 0:
        return True
    wait = min(settings.backoff_max_s, settings.item_retry_base_s * 2 ** max(0, attempts - 1))
    return fetched_at + timedelta(seconds=wait) <= now


def _should_refetch(settings: Settings, state: tuple[str, int, datetime | None], entry: FeedEntry) -> bool:
    status, attempts, fetched_at = state
    if status == "failed":
        return _item_retry_due(settings, attempts, fetched_at, utcnow())
    if status in CONTENT_STATUSES:
        # The feed says the article changed after we fetched it: fetch again (maybe a revision).
        return entry.updated is not None and fetched_at is not None and entry.updated > fetched_at
    return status == "pending"


def _process_entry(
    context: AppContext,
    fetcher: Fetcher,
    view: _SourceView,
    entry: FeedEntry,
    report: FetchReport,
    on_done: TranslationDone | None,
) -> StoreOutcome | None:
    try:
        extracted = _extract_entry(fetcher, entry)
    except Exception as caught:
        error = caught if isinstance(caught, IngestError) else _unexpected(entry.url, caught)
        _record_item_failure(context, entry.url, view.id, error)
        report.failures.append((entry.url, error.reason))
        return None
    outcome, _ = _store(context, extracted, view.id, on_done)
    report.count(outcome)
    return outcome


def _extract_entry(fetcher: Fetcher, entry: FeedEntry) -> ExtractedArticle:
    if entry.content_html:
        paragraphs = html_fragment_to_paragraphs(entry.content_html, entry.url)
        if sum(len(p.text.split()) for p in paragraphs) >= FULL_CONTENT_MIN_WORDS:
            guess = detect_language(" ".join(p.text for p in paragraphs), fallback=entry.language)
            return ExtractedArticle(
                url=entry.url,
                canonical_url=normalize_url(entry.url),
                title=entry.title,
                authors=list(entry.authors),
                published_at=entry.published,
                published_date_only=entry.published_date_only,
                published_at_source="feed" if entry.published else None,
                updated_at=entry.updated,
                outlet=entry.outlet,
                language=guess.language,
                language_probability=guess.probability,
                paragraphs=paragraphs,
            )
    # Only a summary (or nothing) in the feed: the article page has the full text.
    response = fetcher.get(entry.url)
    extracted = extract_article(page_text(response), response.final_url)
    extracted.url = entry.url
    extracted.title = extracted.title or entry.title
    extracted.authors = extracted.authors or list(entry.authors)
    _prefer_feed_time(extracted, entry)
    extracted.updated_at = entry.updated
    extracted.outlet = extracted.outlet or entry.outlet
    return extracted


def _prefer_feed_time(extracted: ExtractedArticle, entry: FeedEntry) -> None:
    """Take the feed's date when the page had none, or when the page gave only the day and the
    feed has the time of that same day."""
    if entry.published is None:
        return
    page = extracted.published_at
    same_day = page is not None and abs((entry.published - page).total_seconds()) < 36 * 3600
    if page is None or (extracted.published_date_only and not entry.published_date_only and same_day):
        extracted.published_at = entry.published
        extracted.published_date_only = entry.published_date_only
        extracted.published_at_source = "feed"


_PAGE_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")


def page_text(response: FetchResponse) -> str:
    """The decoded HTML of an article page; `ExtractionError` for PDFs, images and the like."""
    media_type = response.content_type.split(";", 1)[0].strip().lower()
    if media_type and not media_type.startswith(_PAGE_TYPES):
        raise ExtractionError(response.final_url, f"not an HTML page (Content-Type {media_type})")
    return response.decoded().text


def _process_page_response(
    context: AppContext, view: _SourceView, response: FetchResponse, on_done: TranslationDone | None
) -> StoreOutcome:
    page = page_text(response)
    try:
        extracted = extract_article(page, response.final_url)
    except NoArticleFound as error:
        feeds = discover_feeds(page, response.final_url)
        if view.kind == "auto" and feeds:
            # Someone added a home page: point them at the feeds it announces.
            raise FeedError(
                view.url, f"{error.reason}; the page announces feeds, add one of them instead: {', '.join(feeds)}"
            ) from None
        raise
    extracted.url = view.url
    outcome, _ = _store(context, extracted, view.id, on_done)
    return outcome


def _retry_failed_items(
    context: AppContext,
    fetcher: Fetcher,
    view: _SourceView,
    report: FetchReport,
    on_done: TranslationDone | None,
    exclude: set[str],
) -> int:
    """Retry this source's failed items that the current poll did not already handle."""
    now = utcnow()
    with context.database.session() as session:
        rows = session.execute(
            select(Article.url, Article.fetch_attempts, Article.fetched_at)
            .where(
                Article.source_id == view.id,
                Article.fetch_status == "failed",
                Article.fetch_attempts < MAX_ITEM_ATTEMPTS,
            )
            .order_by(Article.id)
            .limit(MAX_ENTRIES_PER_POLL)
        ).all()
    retried = 0
    for url, attempts, fetched_at in rows:
        if url in exclude or not _item_retry_due(context.settings, attempts, fetched_at, now):
            continue
        retried += 1
        report.attempted += 1
        _process_entry(context, fetcher, view, FeedEntry(url=url), report, on_done)
    return retried


def _record_source_success(
    context: AppContext,
    source_id: int,
    started: datetime,
    response: FetchResponse | None,
    kind: str | None,
    new_items: int,
    backlog: bool = False,
) -> None:
    settings = context.settings
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return
        if backlog:
            # Entries are left over: the next poll must get the full document again, not a 304.
            source.etag = source.last_modified = None
            source.last_status = "ok"
        elif response is not None:
            # Oversized validators would not fit their columns; without them we just get a 200.
            source.etag = response.etag if response.etag and len(response.etag) <= 512 else None
            source.last_modified = (
                response.last_modified if response.last_modified and len(response.last_modified) <= 128 else None
            )
            source.last_status = "ok"
        else:
            source.last_status = "not_modified"
        if kind is not None and source.kind == "auto":
            source.kind = kind
        source.last_polled_at = started
        source.last_success_at = started
        source.last_error = None
        source.consecutive_failures = 0
        source.items_seen += new_items
        interval = min(source.poll_interval_s, BACKLOG_POLL_DELAY_S) if backlog else source.poll_interval_s
        source.next_poll_at = utcnow() + _jittered(interval, settings.poll_jitter_fraction)


def _record_source_failure(context: AppContext, source_id: int, started: datetime, error: IngestError) -> None:
    settings = context.settings
    with context.database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return
        source.consecutive_failures += 1
        source.last_polled_at = started
        source.last_status = error.kind
        source.last_error = str(error)
        delay = backoff_delay(source.consecutive_failures, settings.backoff_base_s, settings.backoff_max_s)
        if isinstance(error, HTTPStatusError) and error.retry_after_s:
            delay = max(delay, timedelta(seconds=min(error.retry_after_s, settings.backoff_max_s)))
        source.next_poll_at = utcnow() + delay
        log.warning("source %s failed (%d in a row): %s", source.url, source.consecutive_failures, error)


def backoff_delay(failures: int, base_s: float, max_s: float) -> timedelta:
    """base · 2^(failures-1), capped, with ±10 % jitter so failing sources don't retry in lockstep."""
    seconds = min(max_s, base_s * 2 ** max(0, failures - 1))
    return timedelta(seconds=seconds * random.uniform(0.9, 1.1))


def _jittered(interval_s: int, fraction: float) -> timedelta:
    return timedelta(seconds=interval_s * random.uniform(1 - fraction, 1 + fraction))


# Imports ------------------------------------------------------------------------------------------


def import_inputs(
    context: AppContext,
    inputs: list[str],
    original_url: str | None = None,
    progress: Progress | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> ImportReport:
    """Import article URLs and local HTML files (`.html`, `.htm`, `.html.gz`).

    `original_url` says where a single local file was published; links resolve against it and it
    becomes the article's URL (unless the page names a canonical URL on the same site).
    """
    if original_url is not None:
        if len(inputs) != 1:
            raise InvalidInput("--url", f"an original URL applies to exactly one input, not {len(inputs)}")
        original_url = validate_url(original_url)
    report = ImportReport()
    with Fetcher(context.settings, transport=transport) as fetcher:
        for item in inputs:
            report.inputs += 1
            try:
                outcome, article_id = _import_one(context, fetcher, item, original_url)
                report.count(outcome, article_id)
                note = f"{outcome}: {item}"
            except IngestError as error:
                report.failures.append((item, error.reason))
                note = f"failed: {item}"
            if progress is not None:
                progress(1, note)
    return report


def _import_one(
    context: AppContext, fetcher: Fetcher, item: str, original_url: str | None
) -> tuple[StoreOutcome, int | None]:
    if item.lower().startswith(("http://", "https://")):
        url = validate_url(item)
        try:
            response = fetcher.get(url)
            extracted = extract_article(page_text(response), response.final_url)
        except IngestError as error:
            _record_item_failure(context, url, None, error)
            raise
        extracted.url = normalize_url(url)
        return _store(context, extracted, None, None)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", item):
        validate_url(item)  # another scheme (ftp://, file://): says which, and that only http(s) is fetched
    path = Path(item).expanduser()
    if path.is_dir():
        raise InvalidInput(item, "is a directory; give the HTML files in it (e.g. DIR/*.html)")
    if not path.is_file():
        raise InvalidInput(item, "no such file (and not an http(s) URL)")
    if not path.name.lower().endswith(HTML_SUFFIXES):
        raise InvalidInput(item, f"unsupported file type; expected one of {', '.join(HTML_SUFFIXES)}")
    settings = context.settings
    try:
        if path.stat().st_size > settings.http_max_bytes:
            raise InvalidInput(item, f"file is larger than http_max_bytes ({settings.http_max_bytes} bytes)")
        data = path.read_bytes()
        if path.name.lower().endswith(".gz") and not data.startswith(b"\x1f\x8b"):
            raise InvalidInput(item, "named .gz but not gzip-compressed")
        raw = gunzip_file(data, settings.http_max_bytes, item)
        page = decode_bytes(raw, None, subject=item).text
        base = original_url or path.resolve().as_uri()
        extracted = extract_article(page, base, trust_canonical=original_url is None)
    except IngestError as error:
        # With its original address the failure is recorded on that article, as a fetch would be.
        if original_url:
            _record_item_failure(context, original_url, None, error)
        raise
    if original_url:
        extracted.url = normalize_url(original_url)
    return _store(context, extracted, None, None)


# Storage ------------------------------------------------------------------------------------------


def _find_by_url(session: Session, url: str) -> Article | None:
    normalized = normalize_url(url) if url.lower().startswith(("http://", "https://")) else url
    candidates = session.scalars(
        select(Article)
        .where(or_(Article.url.in_({url, normalized}), Article.canonical_url.in_({url, normalized})))
        .order_by(Article.id)
    ).all()
    # Prefer the row that holds content over a failure placeholder.
    found = next((a for a in candidates if a.fetch_status in CONTENT_STATUSES), candidates[0] if candidates else None)
    if found is None or found.fetch_status not in CONTENT_STATUSES:
        alias = session.scalars(
            select(Article)
            .join(ArticleAlias, ArticleAlias.article_id == Article.id)
            .where(ArticleAlias.url == normalized)
        ).first()
        found = alias or found
    return found


def _remember_alias(session: Session, article: Article, url: str) -> None:
    """Record `url` as another address of `article` unless it is already one of its own."""
    normalized = normalize_url_safe(url)
    if normalized in {article.canonical_url, normalize_url_safe(article.url)} or len(normalized) > 2048:
        return
    if session.scalar(select(ArticleAlias.id).where(ArticleAlias.url == normalized)) is None:
        session.add(ArticleAlias(url=normalized, article_id=article.id))


def _store(
    context: AppContext, extracted: ExtractedArticle, source_id: int | None, on_done: TranslationDone | None
) -> tuple[StoreOutcome, int | None]:
    """`store_extracted` in its own transaction; one retry if a concurrent writer won a unique race."""
    for attempt in (1, 2):
        try:
            with context.database.session() as session:
                source = session.get(Source, source_id) if source_id is not None else None
                outcome = store_extracted(session, context.settings, extracted, source, on_done)
                article = session.scalars(
                    select(Article).where(Article.canonical_url == extracted.canonical_url)
                ).one_or_none()
                return outcome, article.id if article is not None else None
        except IntegrityError:
            if attempt == 2:
                raise
            log.info("concurrent insert of %s; retrying as an update", extracted.canonical_url)
    raise AssertionError("unreachable")


def store_extracted(
    session: Session,
    settings: Settings,
    extracted: ExtractedArticle,
    source: Source | None,
    on_done: TranslationDone | None = None,
) -> StoreOutcome:
    """Store `extracted` idempotently; queue new or changed English articles for translation.

    Same canonical URL and content -> "unchanged"; same canonical URL, new content -> a new
    revision ("updated"); same content under another URL -> "duplicate" (not stored again);
    body not in the source's language -> kept with `fetch_status="not_english"`, never queued.
    The caller commits: article, revision and queue entry land in one transaction.
    """
    now = utcnow()
    _strip_forbidden_characters(extracted)
    digest = content_hash(extracted.title, extracted.paragraphs)
    expected_language = (source.language if source is not None else None) or settings.source_language
    is_expected_language = extracted.language == expected_language
    # Already in the target language and the source says "publish as is": kept as content, not translated.
    as_original = (
        not is_expected_language
        and extracted.language == settings.target_language
        and source_filters(source or None).target_language == "publish"
    )
    accepted = is_expected_language or as_original

    article = session.scalars(select(Article).where(Article.canonical_url == extracted.canonical_url)).one_or_none()
    placeholders = [
        row
        for row in session.scalars(
            select(Article).where(
                or_(Article.url == extracted.url, Article.canonical_url == normalize_url_safe(extracted.url)),
                Article.fetch_status.in_(PLACEHOLDER_STATUSES),
            )
        )
        if article is None or row.id != article.id
    ]
    if article is not None and article.fetch_status not in CONTENT_STATUSES:
        placeholders.insert(0, article)
        article = None

    if article is not None:
        _drop_placeholders(session, placeholders)
        _remember_alias(session, article, extracted.url)
        article.fetched_at = now
        if article.content_hash == digest:
            return "unchanged"
        was_filtered = article.fetch_status == "filtered"
        _apply(article, extracted, digest, accepted, now)
        article.revision += 1
        session.add(_revision_of(article))
        session.flush()
        if not accepted:
            return "not_english"
        if as_original:
            publish_original(session, settings, article, on_done)
            return "updated"
        if was_filtered:
            # Still held unless the new revision passes; an admitted article stays admitted.
            verdict = filter_verdict(source or article.source, article)
            if verdict is not None:
                mark_filtered(article, verdict)
                return "filtered"
            article.filter_reason = None
        enqueue_translation(session, article, settings.target_language)
        return "updated"

    duplicate = session.scalars(
        select(Article).where(Article.content_hash == digest, Article.fetch_status.in_(CONTENT_STATUSES)).limit(1)
    ).first()
    if duplicate is not None:
        _drop_placeholders(session, placeholders)
        _remember_alias(session, duplicate, extracted.url)
        return "duplicate"

    if placeholders:
        article = placeholders.pop(0)  # a later success fills the row of an earlier failure
        _drop_placeholders(session, placeholders)
        article.canonical_url = extracted.canonical_url
        article.url = extracted.url
    else:
        article = Article(url=extracted.url, canonical_url=extracted.canonical_url, discovered_at=now)
        session.add(article)
    if source is not None:
        article.source_id = source.id
    article.fetch_attempts = (article.fetch_attempts or 0) + 1
    article.fetched_at = now
    _apply(article, extracted, digest, accepted, now)
    article.revision = 1
    session.flush()
    session.add(_revision_of(article))
    session.flush()
    if not accepted:
        return "not_english"
    if as_original:
        publish_original(session, settings, article, on_done)
        return "new"
    verdict = filter_verdict(source, article)
    if verdict is not None:
        mark_filtered(article, verdict)
        return "filtered"
    enqueue_translation(session, article, settings.target_language)
    return "new"


def _strip_forbidden_characters(extracted: ExtractedArticle) -> None:
    """Drop the characters XML 1.0 forbids from the metadata (paragraphs drop them themselves):
    stored, they would make every feed that carries the article unreadable."""

    def clean(value: str | None) -> str | None:
        return strip_xml_forbidden(value) if value is not None else None

    extracted.title = clean(extracted.title)
    extracted.authors = [strip_xml_forbidden(author) for author in extracted.authors]
    extracted.outlet = clean(extracted.outlet)
    extracted.description = clean(extracted.description)
    extracted.image_url = clean(extracted.image_url)


def normalize_url_safe(url: str) -> str:
    return normalize_url(url) if url.lower().startswith(("http://", "https://")) else url


def _apply(
    article: Article, extracted: ExtractedArticle, digest: str, is_expected_language: bool, now: datetime
) -> None:
    article.title = extracted.title
    article.authors = list(extracted.authors)
    article.outlet = extracted.outlet[:300] if extracted.outlet else None
    article.description = extracted.description
    article.image_url = extracted.image_url if len(extracted.image_url or "") <= 2048 else None
    if extracted.published_at is not None:
        article.published_at = extracted.published_at
        article.published_date_only = extracted.published_date_only
        article.published_at_source = extracted.published_at_source
    article.genre = extracted.genre
    article.updated_at = extracted.updated_at or (now if article.content_hash else None)
    article.language = extracted.language
    article.paragraphs = paragraphs_to_json(extracted.paragraphs)
    article.content_hash = digest
    article.fetch_status = "ok" if is_expected_language else "not_english"
    article.fetch_error = (
        None
        if is_expected_language
        else f"language detected as {extracted.language or 'unknown'} "
        f"(p={extracted.language_probability:.2f}), not the source's language"
    )


def _revision_of(article: Article) -> ArticleRevision:
    return ArticleRevision(
        article_id=article.id,
        revision=article.revision,
        title=article.title,
        paragraphs=list(article.paragraphs),
        content_hash=article.content_hash or "",
    )


def _drop_placeholders(session: Session, rows: Iterable[Article]) -> None:
    # Failure placeholders hold no content, only the error of an attempt that has now succeeded.
    for row in rows:
        session.delete(row)
    session.flush()


def _record_item_failure(context: AppContext, url: str, source_id: int | None, error: IngestError) -> None:
    """Note a failed item on its article row (created as a placeholder if new); content is never touched."""
    status = "no_article" if isinstance(error, NoArticleFound) else "failed"
    if isinstance(error, ExtractionError) and not isinstance(error, NoArticleFound):
        status = "failed"
    with context.database.session() as session:
        article = _find_by_url(session, url)
        if article is not None and article.fetch_status in CONTENT_STATUSES:
            log.info("refetch of stored article %s failed (%s); keeping the stored content", url, error.reason)
            return
        if article is None:
            article = Article(url=url, canonical_url=normalize_url_safe(url), source_id=source_id, fetch_attempts=0)
            session.add(article)
        article.fetch_status = status
        article.fetch_error = f"{error.kind}: {error.reason}"
        article.fetch_attempts = (article.fetch_attempts or 0) + 1
        if _is_permanent(error):
            # Retrying cannot help: the URL is refused here, or the server says it is gone.
            article.fetch_attempts = max(article.fetch_attempts, MAX_ITEM_ATTEMPTS)
        article.fetched_at = utcnow()


def _is_permanent(error: IngestError) -> bool:
    if isinstance(error, InvalidURL | BlockedAddress | RobotsDisallowed):
        return True
    return isinstance(error, HTTPStatusError) and error.status_code in (404, 410)
