"""Importing single articles: URLs fetched once, and saved HTML files (optionally gzip-compressed)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from presseschau.config import Settings
from presseschau.ingest.encoding import decode_bytes
from presseschau.ingest.errors import IngestError, InvalidInput
from presseschau.ingest.extract import extract_article
from presseschau.ingest.feeds import gunzip_file
from presseschau.ingest.fetcher import Fetcher, page_text
from presseschau.ingest.storing import StoreCounts, StoreOutcome, record_item_failure, store_article
from presseschau.ingest.urls import normalize_url, validate_url
from presseschau.progress import Progress
from presseschau.store.db import Database

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")


@dataclass
class ImportReport(StoreCounts):
    inputs: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)

    def count(self, outcome: StoreOutcome, article_id: int | None) -> None:
        self.count_outcome(outcome)
        if article_id is not None:
            self.article_ids.append(article_id)

    @property
    def all_failed(self) -> bool:
        return self.inputs > 0 and len(self.failures) == self.inputs


def import_inputs(
    database: Database,
    settings: Settings,
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
    with Fetcher(settings, transport=transport) as fetcher:
        for item in inputs:
            report.inputs += 1
            try:
                outcome, article_id = _import_one(database, settings, fetcher, item, original_url)
                report.count(outcome, article_id)
                note = f"{outcome}: {item}"
            except IngestError as error:
                report.failures.append((item, error.reason))
                note = f"failed: {item}"
            if progress is not None:
                progress(1, note)
    return report


def _import_one(
    database: Database, settings: Settings, fetcher: Fetcher, item: str, original_url: str | None
) -> tuple[StoreOutcome, int | None]:
    if item.lower().startswith(("http://", "https://")):
        url = validate_url(item)
        try:
            response = fetcher.get(url)
            extracted = extract_article(page_text(response), response.final_url)
        except IngestError as error:
            record_item_failure(database, url, None, error)
            raise
        extracted.url = normalize_url(url)
        return store_article(database, settings, extracted, None, None)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", item):
        validate_url(item)  # another scheme (ftp://, file://): says which, and that only http(s) is fetched
    path = Path(item).expanduser()
    if path.is_dir():
        raise InvalidInput(item, "is a directory; give the HTML files in it (e.g. DIR/*.html)")
    if not path.is_file():
        raise InvalidInput(item, "no such file (and not an http(s) URL)")
    if not path.name.lower().endswith(HTML_SUFFIXES):
        raise InvalidInput(item, f"unsupported file type; expected one of {', '.join(HTML_SUFFIXES)}")
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
            record_item_failure(database, original_url, None, error)
        raise
    if original_url:
        extracted.url = normalize_url(original_url)
    return store_article(database, settings, extracted, None, None)
