"""Polling sources: conditional GETs, feed and sitemap entries, page fetches, per-source backoff.

Transactions are per item (see `storing`). A source's conditional-GET state (ETag /
Last-Modified) is saved only after all its entries were processed: saving it first would make a
crash turn the next poll into a 304 that hides entries.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from presseschau.backoff import Backoff
from presseschau.config import Settings
from presseschau.ingest.errors import FeedError, HTTPStatusError, IngestError, NoArticleFound
from presseschau.ingest.extract import ExtractedArticle, discover_feeds, extract_article, html_fragment_to_paragraphs
from presseschau.ingest.feeds import (
    FEED_FORMATS,
    SITEMAP_FORMATS,
    FeedEntry,
    detect_format,
    maybe_gunzip,
    parse_feed,
)
from presseschau.ingest.fetcher import ACCEPT_FEED, Fetcher, FetchResponse, page_text
from presseschau.ingest.language import detect_language
from presseschau.ingest.sitemaps import parse_sitemap
from presseschau.ingest.sources import sources_to_poll
from presseschau.ingest.storing import (
    MAX_ITEM_ATTEMPTS,
    StoreCounts,
    StoreOutcome,
    find_by_url,
    record_item_failure,
    store_article,
)
from presseschau.ingest.urls import normalize_url
from presseschau.progress import Progress
from presseschau.store.db import Database
from presseschau.store.faults import is_storage_fault
from presseschau.store.models import CONTENT_STATUSES, Article, FetchStatus, Source, SourceStatus, utcnow
from presseschau.store.queue import TranslationDone

log = logging.getLogger(__name__)


# Per poll: a sitemap can list thousands of URLs; the newest this many are what matters for news.
MAX_ENTRIES_PER_POLL = 100  # page fetches per poll; the rest waits for a catch-up poll
MAX_ENTRIES_PER_DOCUMENT = 10_000  # entries read from one feed or sitemap (pathological inputs)
BACKLOG_POLL_DELAY_S = 60  # a poll that hit MAX_ENTRIES_PER_POLL comes back this soon
MAX_CHILD_SITEMAPS = 5
# A feed item with at least this many words of content is the full text: no page fetch needed.
FULL_CONTENT_MIN_WORDS = 150


@dataclass
class FetchReport(StoreCounts):
    sources_polled: int = 0
    not_modified: int = 0
    entries_seen: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    # Sources and items attempted / done: the CLI fails only when nothing at all succeeded.
    attempted: int = 0
    succeeded: int = 0

    def count(self, outcome: StoreOutcome) -> None:
        self.succeeded += 1
        self.count_outcome(outcome)

    @property
    def all_failed(self) -> bool:
        return self.attempted > 0 and self.succeeded == 0


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
    database: Database,
    settings: Settings,
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
    ids = sources_to_poll(database, source_id, due_only)
    with Fetcher(settings, transport=transport) as fetcher:
        for sid in ids:
            note = _poll_source(database, settings, fetcher, sid, report, on_done)
            if progress is not None:
                progress(1, note)
    return report


def _poll_source(
    database: Database,
    settings: Settings,
    fetcher: Fetcher,
    source_id: int,
    report: FetchReport,
    on_done: TranslationDone | None,
) -> str:
    with database.session() as session:
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
            retried = _retry_failed_items(database, settings, fetcher, view, report, on_done, exclude=set())
            _record_source_success(database, settings, view.id, started, None, kind=None, new_items=0)
            return f"{view.name}: not modified" + (f", {retried} retried" if retried else "")
        body = maybe_gunzip(response.content, settings.http_max_bytes, view.url)
        fmt = detect_format(body)
        kind = _source_kind(view.kind, fmt, view.url)
        skipped_urls: set[str] = set()  # malformed feed items: recorded, not retried by URL meanwhile
        if kind == "page":
            entries: list[FeedEntry] = []
            outcome = _process_page_response(database, settings, view, response, on_done)
            report.count(outcome)
            new_items = int(outcome == "new")
            backlog = False
        else:
            entries = _entries(database, settings, fetcher, view, body, fmt, response, report, skipped_urls)
            report.succeeded += 1
            new_items, backlog = _process_entries(database, settings, fetcher, view, entries, report, on_done)
    except Exception as caught:
        if is_storage_fault(caught):
            # The machine's disk, not the source: no backoff for the source, no traceback, and no
            # point in trying the other sources (the entry point prints one line and stops).
            raise
        # A bug or an odd library error on one source must not end the run for the others.
        error = caught if isinstance(caught, IngestError) else _unexpected(view.url, caught)
        _record_source_failure(database, settings, view.id, started, error)
        report.failures.append((view.url, error.reason))
        return f"{view.name}: {error.kind}"
    handled = {entry.url for entry in entries} | skipped_urls
    _retry_failed_items(database, settings, fetcher, view, report, on_done, exclude=handled)
    _record_source_success(
        database, settings, view.id, started, response, kind=kind, new_items=new_items, backlog=backlog
    )
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
    database: Database,
    settings: Settings,
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
                record_item_failure(database, skipped.url, view.id, FeedError(skipped.url, skipped.reason))
    else:
        parsed = parse_sitemap(body, response.final_url)
        entries = list(parsed.entries)
        for child_url in parsed.child_sitemaps[:MAX_CHILD_SITEMAPS]:
            try:
                child = fetcher.get(child_url, accept=ACCEPT_FEED)
                child_body = maybe_gunzip(child.content, settings.http_max_bytes, child_url)
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
    database: Database,
    settings: Settings,
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
        with database.session() as session:
            known = find_by_url(session, entry.url)
            state = (known.fetch_status, known.fetch_attempts, known.fetched_at) if known else None
        if state is not None and not _should_refetch(settings, state, entry):
            continue
        if fetched >= MAX_ENTRIES_PER_POLL:
            return new_items, True
        fetched += 1
        report.attempted += 1
        outcome = _process_entry(database, settings, fetcher, view, entry, report, on_done)
        if outcome == "new":
            new_items += 1
    return new_items, False


def _item_retry_due(settings: Settings, attempts: int, fetched_at: datetime | None, now: datetime) -> bool:
    """Whether a failed item may be fetched again: attempts left and its backoff passed."""
    if attempts >= MAX_ITEM_ATTEMPTS:
        return False
    if fetched_at is None or settings.item_retry_base_s <= 0:
        return True
    wait = Backoff(settings.item_retry_base_s, settings.backoff_max_s).seconds(attempts)
    return fetched_at + timedelta(seconds=wait) <= now


def _should_refetch(settings: Settings, state: tuple[str, int, datetime | None], entry: FeedEntry) -> bool:
    status, attempts, fetched_at = state
    if status == FetchStatus.FAILED:
        return _item_retry_due(settings, attempts, fetched_at, utcnow())
    if status in CONTENT_STATUSES:
        # The feed says the article changed after we fetched it: fetch again (maybe a revision).
        return entry.updated is not None and fetched_at is not None and entry.updated > fetched_at
    return status == FetchStatus.PENDING


def _process_entry(
    database: Database,
    settings: Settings,
    fetcher: Fetcher,
    view: _SourceView,
    entry: FeedEntry,
    report: FetchReport,
    on_done: TranslationDone | None,
) -> StoreOutcome | None:
    try:
        extracted = _extract_entry(fetcher, entry)
    except Exception as caught:
        if is_storage_fault(caught):
            raise
        error = caught if isinstance(caught, IngestError) else _unexpected(entry.url, caught)
        record_item_failure(database, entry.url, view.id, error)
        report.failures.append((entry.url, error.reason))
        return None
    outcome, _ = store_article(database, settings, extracted, view.id, on_done)
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


def _process_page_response(
    database: Database, settings: Settings, view: _SourceView, response: FetchResponse, on_done: TranslationDone | None
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
    outcome, _ = store_article(database, settings, extracted, view.id, on_done)
    return outcome


def _retry_failed_items(
    database: Database,
    settings: Settings,
    fetcher: Fetcher,
    view: _SourceView,
    report: FetchReport,
    on_done: TranslationDone | None,
    exclude: set[str],
) -> int:
    """Retry this source's failed items that the current poll did not already handle."""
    now = utcnow()
    with database.session() as session:
        rows = session.execute(
            select(Article.url, Article.fetch_attempts, Article.fetched_at)
            .where(
                Article.source_id == view.id,
                Article.fetch_status == FetchStatus.FAILED,
                Article.fetch_attempts < MAX_ITEM_ATTEMPTS,
            )
            .order_by(Article.id)
            .limit(MAX_ENTRIES_PER_POLL)
        ).all()
    retried = 0
    for url, attempts, fetched_at in rows:
        if url in exclude or not _item_retry_due(settings, attempts, fetched_at, now):
            continue
        retried += 1
        report.attempted += 1
        _process_entry(database, settings, fetcher, view, FeedEntry(url=url), report, on_done)
    return retried


def _record_source_success(
    database: Database,
    settings: Settings,
    source_id: int,
    started: datetime,
    response: FetchResponse | None,
    kind: str | None,
    new_items: int,
    backlog: bool = False,
) -> None:
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return
        if backlog:
            # Entries are left over: the next poll must get the full document again, not a 304.
            source.etag = source.last_modified = None
            source.last_status = SourceStatus.OK
        elif response is not None:
            # Oversized validators would not fit their columns; without them we just get a 200.
            source.etag = response.etag if response.etag and len(response.etag) <= 512 else None
            source.last_modified = (
                response.last_modified if response.last_modified and len(response.last_modified) <= 128 else None
            )
            source.last_status = SourceStatus.OK
        else:
            source.last_status = SourceStatus.NOT_MODIFIED
        if kind is not None and source.kind == "auto":
            source.kind = kind
        source.last_polled_at = started
        source.last_success_at = started
        source.last_error = None
        source.consecutive_failures = 0
        source.items_seen += new_items
        interval = min(source.poll_interval_s, BACKLOG_POLL_DELAY_S) if backlog else source.poll_interval_s
        source.next_poll_at = utcnow() + _jittered(interval, settings.poll_jitter_fraction)


def _record_source_failure(
    database: Database, settings: Settings, source_id: int, started: datetime, error: IngestError
) -> None:
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            return
        source.consecutive_failures += 1
        source.last_polled_at = started
        source.last_status = error.kind
        source.last_error = str(error)
        delay = Backoff(settings.backoff_base_s, settings.backoff_max_s).delay(source.consecutive_failures)
        if isinstance(error, HTTPStatusError) and error.retry_after_s:
            delay = max(delay, timedelta(seconds=min(error.retry_after_s, settings.backoff_max_s)))
        source.next_poll_at = utcnow() + delay
        log.warning("source %s failed (%d in a row): %s", source.url, source.consecutive_failures, error)


def _jittered(interval_s: int, fraction: float) -> timedelta:
    return timedelta(seconds=interval_s * random.uniform(1 - fraction, 1 + fraction))
