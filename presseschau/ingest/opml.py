"""OPML 2.0 import and export of sources (the feed-reader exchange format).

Import: every `<outline xmlUrl="…">` becomes a source named by its `text` (or `title`); the outlines
it is nested in (categories) become its first tag (`News/Europe`), an OPML `category` attribute adds
more. presseschau's own settings travel as attributes in the `urn:presseschau:opml:1` namespace
(interval, policy, engine, language, kind, enabled, tags, glossary, filters, and the outlet's profile
`country` and `outlet-kind`), so an export imported into an empty data directory gives the same sources
with the same settings; other readers ignore them.

The whole file is read and every outline validated before anything is stored: a file that is not
OPML, or an outline that cannot become a source, gives one error naming the line and the reason and
adds nothing. Feeds registered already (same URL, normalized) or listed twice are reported, not added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree
from sqlalchemy import select

from presseschau.config import Settings
from presseschau.content import strip_xml_forbidden
from presseschau.ingest.errors import IngestError
from presseschau.ingest.filters import FilterError, build_filters, filters_from_json
from presseschau.ingest.sources import (
    SourceChecks,
    SourceDraft,
    check_source_address,
    draft_source,
    insert_source,
    registered_urls,
)
from presseschau.ingest.urls import normalize_url
from presseschau.messages import CataloguedError, Text, said, text
from presseschau.store.db import Database
from presseschau.store.models import Source

NAMESPACE = "urn:presseschau:opml:1"
PREFIX = "presseschau"
MAX_OPML_BYTES = 10 * 1024 * 1024
MAX_OUTLINES = 10_000
MAX_DEPTH = 20
ADDRESS_CHECK_THREADS = 16


class OpmlError(IngestError):
    """The OPML file cannot be imported; nothing was added."""

    kind = "invalid_opml"


class OpmlSettingError(CataloguedError, ValueError):
    """One outline's presseschau settings cannot be used (becomes an `OpmlError` naming its line)."""


@dataclass
class OpmlEntry:
    line: int
    url: str
    name: str | None
    tags: list[str]
    settings: dict[str, str]


@dataclass
class OpmlImportReport:
    added: list[tuple[int, str, str]] = field(default_factory=list)  # (id, name, url)
    # (url, why) of each feed not added: registered already or listed twice.
    duplicate_reasons: list[tuple[str, Text]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (outline, why)

    @property
    def duplicates(self) -> list[tuple[str, str]]:
        """(url, why in English) of each feed not added (`duplicate_reasons` for the German admin)."""
        return [(url, why.english()) for url, why in self.duplicate_reasons]


def _q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def parse_opml(data: bytes, subject: str) -> list[OpmlEntry]:
    """The feed outlines of an OPML document; `OpmlError` naming `subject` when it is not usable OPML."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(subject, text("opml_too_large", megabytes=MAX_OPML_BYTES // (1024 * 1024)))
    if not data.strip():
        raise OpmlError(subject, text("opml_empty"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise OpmlError(subject, text("opml_not_xml", problem=str(error))) from None
    if not isinstance(root.tag, str) or etree.QName(root).localname != "opml":
        raise OpmlError(subject, text("opml_not_opml", root=root.tag))
    body = root.find("body")
    if body is None:
        raise OpmlError(subject, text("opml_no_body"))
    entries: list[OpmlEntry] = []

    def walk(element: Any, path: list[str]) -> Iterator[tuple[Any, list[str]]]:
        if len(path) > MAX_DEPTH:
            raise OpmlError(subject, text("opml_too_deep", line=element.sourceline, limit=MAX_DEPTH))
        for child in element:
            if child.tag != "outline":
                continue
            yield child, path
            label = (child.get("text") or child.get("title") or "").strip()
            yield from walk(child, [*path, label] if label and not child.get("xmlUrl") else path)

    count = 0
    for outline, path in walk(body, []):
        count += 1
        if count > MAX_OUTLINES:
            raise OpmlError(subject, text("opml_too_many", limit=MAX_OUTLINES))
        url = (outline.get("xmlUrl") or "").strip()
        if not url:
            continue  # a category (or a link outline): its children are walked
        tags = ["/".join(path)] if path else []
        tags += [c.strip().strip("/") for c in (outline.get("category") or "").split(",") if c.strip().strip("/")]
        settings = {
            etree.QName(key).localname: value
            for key, value in outline.attrib.items()
            if etree.QName(key).namespace == NAMESPACE
        }
        name = (outline.get("text") or outline.get("title") or "").strip() or None
        entries.append(OpmlEntry(outline.sourceline or 0, url, name, tags, settings))
    return entries


# Rights (presseschau.store.rights): presseschau:reuse, :excerpt-words, :permission, :bilingual.


def _rights_fields(options: dict[str, str]) -> dict[str, Any]:
    """A source's rights settings from its outline's attributes (validated by `draft_source`)."""
    fields: dict[str, Any] = {}
    if options.get("reuse"):
        fields["reuse"] = options["reuse"]
    if options.get("excerpt-words"):
        fields["excerpt_words"] = int(options["excerpt-words"])
    if options.get("permission"):
        fields["reuse_permission"] = options["permission"]
    if "bilingual" in options:
        if options["bilingual"] not in ("true", "false"):
            raise ValueError(f"bilingual={options['bilingual']!r}, expected true or false")
        fields["bilingual"] = options["bilingual"] == "true"
    return fields


def _rights_attributes(source: Source) -> dict[str, str]:
    attributes: dict[str, str] = {}
    if source.reuse:
        attributes["reuse"] = source.reuse
    if source.excerpt_words:
        attributes["excerpt-words"] = str(source.excerpt_words)
    if source.reuse_permission:
        attributes["permission"] = source.reuse_permission
    if source.bilingual is not None:
        attributes["bilingual"] = "true" if source.bilingual else "false"
    return attributes


def _draft(settings: Settings, entry: OpmlEntry, subject: str, checks: SourceChecks | None) -> SourceDraft:
    where = text("opml_line", line=entry.line, url=entry.url)
    options = entry.settings
    fields: dict[str, Any] = {"name": entry.name, "tags": entry.tags or None}
    try:
        if "interval" in options:
            fields["poll_interval_s"] = int(options["interval"])
        if "policy" in options:
            fields["publish_policy"] = options["policy"]
        if options.get("engine"):
            fields["engine"] = options["engine"]
        if "language" in options:
            fields["language"] = options["language"]
        if "kind" in options:
            fields["kind"] = options["kind"]
        if "country" in options:
            fields["country"] = options["country"]
        if "outlet-kind" in options:
            fields["outlet_kind"] = options["outlet-kind"]
        if "enabled" in options:
            if options["enabled"] not in ("true", "false"):
                raise OpmlSettingError(text("opml_enabled_invalid", value=options["enabled"]))
            fields["enabled"] = options["enabled"] == "true"
        if "glossary" in options:
            fields["glossary"] = _json_attribute("glossary", options["glossary"])
        if "filters" in options:
            stored = _json_attribute("filters", options["filters"])
            if not isinstance(stored, dict):
                raise OpmlSettingError(text("opml_filters_not_object"))
            fields["filters"] = build_filters(
                stored.get("include") or (),
                stored.get("exclude") or (),
                stored.get("min_words") or 0,
                stored.get("target_language") or "skip",
            )
        fields.update(_rights_fields(options))
        return draft_source(settings, entry.url, check_address=False, checks=checks, **fields)
    except (ValueError, TypeError, FilterError) as error:
        raise OpmlError(subject, text("about", subject=where, reason=said(error))) from None
    except IngestError as error:
        raise OpmlError(subject, text("about", subject=where, reason=error.reason_text or error.reason)) from None


def import_opml(
    database: Database, settings: Settings, data: bytes, subject: str, *, checks: SourceChecks | None = None
) -> OpmlImportReport:
    """Add the feeds of an OPML document as sources, all or none (see the module documentation);
    `checks` as for `create_source`."""
    entries = parse_opml(data, subject)
    if not entries:
        raise OpmlError(subject, text("opml_no_feeds"))
    report = OpmlImportReport()
    drafts: list[SourceDraft] = []
    seen: dict[str, int] = {}
    lines: dict[str, int] = {}
    for entry in entries:
        draft = _draft(settings, entry, subject, checks)
        lines.setdefault(draft.url, entry.line)
        key = normalize_url(draft.url)
        if key in seen:
            report.duplicate_reasons.append((draft.url, text("opml_listed_twice", first=seen[key], second=entry.line)))
            continue
        seen[key] = entry.line
        drafts.append(draft)
    with database.session() as session:
        registered = registered_urls(session)
        new: list[SourceDraft] = []
        for draft in drafts:
            existing = registered.get(normalize_url(draft.url))
            if existing is not None:
                report.duplicate_reasons.append(
                    (draft.url, text("source_exists", source_id=existing.id, name=existing.name))
                )
            else:
                new.append(draft)
    _check_addresses(settings, new, lines, subject)
    with database.session() as session:
        registered = registered_urls(session)  # again: another writer may have added one meanwhile
        for draft in new:
            source = insert_source(session, draft, registered)
            report.added.append((source.id, source.name, source.url))
    return report


def _check_addresses(settings: Settings, drafts: list[SourceDraft], lines: dict[str, int], subject: str) -> None:
    """The private-address check of `add_source` for every new feed, resolved concurrently (a large
    file would otherwise wait for one DNS answer after another)."""

    def check(draft: SourceDraft) -> IngestError | None:
        try:
            check_source_address(settings, draft.url)
        except IngestError as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=ADDRESS_CHECK_THREADS) as pool:
        for draft, error in zip(drafts, pool.map(check, drafts), strict=True):
            if error is not None:
                where = text("opml_line", line=lines[draft.url], url=draft.url)
                raise OpmlError(subject, text("about", subject=where, reason=error.reason_text or error.reason))


def _json_attribute(name: str, attribute: str) -> Any:
    """A presseschau:NAME attribute's JSON; `ValueError` naming it when it is unreadable or nested
    deeper than the settings ever are (100,000 levels raised RecursionError: a traceback, a 500)."""
    try:
        return json.loads(attribute)
    except RecursionError:
        raise OpmlSettingError(text("opml_json_too_deep", name=name)) from None
    except ValueError as error:
        raise OpmlSettingError(text("opml_json_invalid", name=name, problem=str(error))) from None


def export_opml(database: Database, settings: Settings, title: str | None = None) -> bytes:
    """Every source as OPML 2.0, nested by its first tag, with presseschau's settings attached."""
    root = etree.Element("opml", version="2.0", nsmap={PREFIX: NAMESPACE})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title or f"{settings.site_title}: Quellen"
    etree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC))
    body = etree.SubElement(root, "body")
    folders: dict[tuple[str, ...], Any] = {(): body}

    def folder(path: tuple[str, ...]) -> Any:
        if path not in folders:
            folders[path] = etree.SubElement(folder(path[:-1]), "outline", text=strip_xml_forbidden(path[-1]))
        return folders[path]

    with database.session() as session:
        for source in session.scalars(select(Source).order_by(Source.id)):
            tags = [str(tag) for tag in source.tags or ()]
            path = tuple(part for part in tags[0].split("/") if part) if tags else ()
            # Names stored before every write was cleaned may hold characters XML forbids.
            name, url = strip_xml_forbidden(source.name), strip_xml_forbidden(source.url)
            outline = etree.SubElement(folder(path), "outline", type="rss", text=name, title=name, xmlUrl=url)
            if tags:
                outline.set("category", strip_xml_forbidden(",".join("/" + tag for tag in tags)))
            attributes: dict[str, str] = {
                "interval": str(source.poll_interval_s),
                "policy": source.publish_policy,
                "language": source.language,
                "kind": source.kind,
                "enabled": "true" if source.enabled else "false",
            }
            if source.engine:
                attributes["engine"] = source.engine
            if source.country:
                attributes["country"] = source.country
            if source.outlet_kind:
                attributes["outlet-kind"] = source.outlet_kind
            if source.glossary:
                attributes["glossary"] = json.dumps(source.glossary, ensure_ascii=False)
            stored_filters = filters_from_json(source.filters).to_json()
            if stored_filters:
                attributes["filters"] = json.dumps(stored_filters, ensure_ascii=False)
            attributes.update(_rights_attributes(source))
            for key, value in attributes.items():
                outline.set(_q(key), strip_xml_forbidden(value))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))
