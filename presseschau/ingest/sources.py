"""Validated writes to sources and their filters: the one path for the CLI, the admin, the API and OPML.

`create_source` / `update_source` check every field the same way wherever the request comes from
and raise `InvalidInput` (naming the source and the reason), `SourceExists` or `SourceNotFound`.
The engine and the glossary are checked by the translate stage through the `SourceChecks` the
caller passes in. `refilter_source` applies a source's current filters to its stored articles
(only when asked: a rule change alone touches nothing stored). `add_source` / `remove_source`
register and delete sources; `sources_to_poll` picks the ones to poll.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import strip_xml_forbidden
from presseschau.ingest.errors import FetchError, InvalidInput, SourceExists, SourceNotFound
from presseschau.ingest.filters import SourceFilters, article_values, filters_from_json, hold_reason
from presseschau.ingest.profiles import ProfileError, check_country, check_outlet_kind
from presseschau.ingest.urls import check_address_allowed, normalize_url, validate_url
from presseschau.messages import Text, said, text
from presseschau.store.db import Database
from presseschau.store.models import (
    ORIGINAL_ENGINE,
    Article,
    FetchStatus,
    RemovedSource,
    Source,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.store.queue import enqueue_translation
from presseschau.store.rights import REUSE_MODES, ReuseError, article_reuse, parse_excerpt_words, parse_reuse_mode
from presseschau.text import clean_text

log = logging.getLogger(__name__)


class SourceChecks(Protocol):
    """The checks of a source's fields that the translate stage owns (is the engine registered, is
    the glossary usable), passed in by the caller -- the CLI, the admin, the API hand in
    `presseschau.translate.source_checks.SOURCE_CHECKS` -- so that ingest imports nothing of
    translate. Each raises `ValueError` with a message for the person who typed the value."""

    def engine(self, name: str) -> str | None: ...

    def glossary(self, terms: dict[str, str]) -> dict[str, str]: ...


SOURCE_KINDS = frozenset({"auto", "feed", "sitemap", "page"})
PUBLISH_POLICIES = frozenset({"auto", "review", "auto-unless-risky"})
MIN_INTERVAL_S = 60  # polite
MAX_INTERVAL_S = 7 * 24 * 3600
MAX_TAGS = 20
MAX_TAG_LENGTH = 100
# What `update_source` accepts; everything else is refused by name.
EDITABLE_FIELDS = frozenset(
    {
        "name",
        "language",
        "kind",
        "poll_interval_s",
        "publish_policy",
        "risk_threshold",
        "engine",
        "enabled",
        "glossary",
        "tags",
        "filters",
        "country",
        "outlet_kind",
    }
)
# Rights (presseschau.store.rights): the reuse mode, the excerpt's length, the permission note
# that lifts licence caps, bilingual reading (None: the site's settings). Checked by `_check_rights_value`.
RIGHTS_FIELDS = frozenset({"reuse", "excerpt_words", "reuse_permission", "bilingual"})
EDITABLE_FIELDS = EDITABLE_FIELDS | RIGHTS_FIELDS


def _check_interval(subject: str | Text, interval: int) -> int:
    if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
        raise InvalidInput(subject, text("interval_range", interval=interval))
    return interval


def _check_value(subject: str | Text, name: str, value: Any, checks: SourceChecks | None) -> Any:
    """The validated, normalized value of one source field (`checks`: see `SourceChecks`; without
    them an engine or a glossary cannot be set); `InvalidInput` names the field."""
    try:
        return _checked_value(subject, name, value, checks)
    except InvalidInput as error:
        error.field = name  # a form shows the message next to this field
        raise


def _checked_value(subject: str | Text, name: str, value: Any, checks: SourceChecks | None) -> Any:
    if name in RIGHTS_FIELDS:
        return _check_rights_value(subject, name, value)
    if name == "name":
        name_text = clean_text(str(value or ""))  # every write of a name passes here: CLI, admin, API, OPML
        if not name_text:
            raise InvalidInput(subject, text("name_empty"))
        return name_text[:300]
    if name == "language":
        code = str(value or "")
        if not code or not code.replace("-", "").isalpha() or len(code) > 16:
            raise InvalidInput(subject, text("language_invalid", code=code))
        return code.lower()
    if name == "kind":
        if value not in SOURCE_KINDS:
            raise InvalidInput(subject, text("kind_unknown", kind=value, kinds=sorted(SOURCE_KINDS)))
        return value
    if name == "poll_interval_s":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(subject, text("interval_not_whole", value=value))
        return _check_interval(subject, value)
    if name == "publish_policy":
        if value not in PUBLISH_POLICIES:
            raise InvalidInput(subject, text("policy_unknown", policy=value))
        return value
    if name == "risk_threshold":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise InvalidInput(subject, text("risk_threshold_invalid", value=value))
        return float(value)
    if name == "engine":
        if value is None or value == "":
            return None
        try:
            return _required(checks, name).engine(value)
        except ValueError as error:
            raise InvalidInput(subject, said(error)) from None
    if name == "enabled":
        if not isinstance(value, bool):
            raise InvalidInput(subject, text("enabled_not_bool", value=value))
        return value
    if name == "glossary":
        if not value:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise InvalidInput(subject, text("glossary_not_mapping"))
        try:
            return _required(checks, name).glossary(dict(value)) or None
        except ValueError as error:
            raise InvalidInput(subject, text("glossary_invalid", problem=said(error))) from None
    if name == "tags":
        return normalize_tags(subject, value)
    if name in ("country", "outlet_kind"):
        check = check_country if name == "country" else check_outlet_kind
        try:
            return check(value if isinstance(value, str) or value is None else str(value))
        except ProfileError as error:
            raise InvalidInput(subject, error.text) from None
    if name == "filters":
        if value is None:
            return None
        if not isinstance(value, SourceFilters):
            raise InvalidInput(subject, text("filters_not_built"))
        return value.to_json()
    raise InvalidInput(subject, text("field_not_changeable", field=name, fields=sorted(EDITABLE_FIELDS)))


def _required(checks: SourceChecks | None, name: str) -> SourceChecks:
    if checks is None:
        # A caller's mistake, not the user's: every entry point passes the translate stage's checks.
        raise RuntimeError(f"a source's {name} is checked by the translate stage: pass its SourceChecks")
    return checks


_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _check_rights_value(subject: str | Text, name: str, value: Any) -> Any:
    """A source's rights field, validated; empty values mean "the site's setting"."""
    if value is None or value == "":
        return None
    try:
        if name == "reuse":
            return parse_reuse_mode(str(value))
        if name == "excerpt_words":
            if isinstance(value, bool):
                raise ReuseError(text("excerpt_not_whole", value=value))
            return parse_excerpt_words(value)
    except ReuseError as error:
        raise InvalidInput(subject, error.text) from None
    if name == "reuse_permission":
        # Plain text of the operator's: no control or bidi-override characters that reorder what follows.
        note = " ".join(_INVISIBLE_RE.sub("", strip_xml_forbidden(str(value))).split())
        if len(note) > 1000:
            raise InvalidInput(subject, text("permission_too_long"))
        return note or None
    if not isinstance(value, bool):
        raise InvalidInput(subject, text("bilingual_not_bool", value=value))
    return value


def normalize_tags(subject: str | Text, tags: Iterable[Any] | None) -> list[str] | None:
    cleaned: list[str] = []
    for tag in tags or ():
        if not isinstance(tag, str):
            raise InvalidInput(subject, text("tag_not_text", tag=tag))
        # "News / Europe" and "News/Europe" are one category path (OPML nesting).
        cleaned_tag = "/".join(" ".join(part.split()) for part in clean_text(tag).split("/") if part.strip())
        if "," in cleaned_tag:
            raise InvalidInput(subject, text("tag_comma", tag=cleaned_tag))
        if len(cleaned_tag) > MAX_TAG_LENGTH:
            raise InvalidInput(subject, text("tag_too_long", tag=cleaned_tag[:30], limit=MAX_TAG_LENGTH))
        if cleaned_tag and cleaned_tag not in cleaned:
            cleaned.append(cleaned_tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(subject, text("too_many_tags", limit=MAX_TAGS))
    return cleaned or None


@dataclass(frozen=True)
class SourceDraft:
    """A validated, not yet stored source (OPML import checks a whole file before adding any)."""

    url: str
    values: dict[str, Any]


def draft_source(
    settings: Settings,
    url: str,
    *,
    name: str | None = None,
    language: str = "en",
    kind: str = "auto",
    poll_interval_s: int | None = None,
    publish_policy: str | None = None,
    risk_threshold: float | None = None,
    engine: str | None = None,
    enabled: bool = True,
    glossary: Mapping[str, str] | None = None,
    tags: Iterable[str] | None = None,
    filters: SourceFilters | None = None,
    country: str | None = None,
    outlet_kind: str | None = None,
    check_address: bool = True,
    # Rights (issue 20): None keeps the site's settings.
    reuse: str | None = None,
    excerpt_words: int | None = None,
    reuse_permission: str | None = None,
    bilingual: bool | None = None,
    checks: SourceChecks | None = None,
) -> SourceDraft:
    """Validate a new source's fields; `check_address=False` leaves the address check to the caller
    (an OPML import checks many addresses concurrently)."""
    url = validate_url(url)
    if check_address:
        check_source_address(settings, url)
    wanted: dict[str, Any] = {
        "name": name or urlsplit(url).hostname or url,
        "language": language,
        "kind": kind,
        "poll_interval_s": poll_interval_s if poll_interval_s is not None else settings.default_poll_interval_s,
        "publish_policy": publish_policy or settings.default_publish_policy,
        "risk_threshold": risk_threshold,
        "engine": engine,
        "enabled": enabled,
        "glossary": glossary,
        "tags": tags,
        "filters": filters,
        "country": country,
        "outlet_kind": outlet_kind,
        "reuse": reuse,
        "excerpt_words": excerpt_words,
        "reuse_permission": reuse_permission,
        "bilingual": bilingual,
    }
    return SourceDraft(url, {key: _check_value(url, key, value, checks) for key, value in wanted.items()})


def check_source_address(settings: Settings, url: str) -> None:
    """`BlockedAddress` when `url`'s host resolves to a private address; a host that does not resolve
    now is accepted (it is checked again at every fetch)."""
    try:
        check_address_allowed(url, settings.allow_private_addresses)
    except FetchError as error:
        if error.kind == "blocked_address":
            raise
        log.debug("cannot resolve %s now (%s); adding it anyway", url, error.reason)


def registered_urls(session: Session) -> dict[str, Source]:
    """Every source by its normalized URL (for checking many URLs at once)."""
    return {normalize_url(source.url): source for source in session.scalars(select(Source))}


def find_registered(session: Session, url: str) -> Source | None:
    """The source registered under `url` (compared normalized), if any."""
    normalized = normalize_url(url)
    for existing in session.scalars(select(Source)):
        if existing.url == url or normalize_url(existing.url) == normalized:
            return existing
    return None


def insert_source(session: Session, draft: SourceDraft, registered: dict[str, Source] | None = None) -> Source:
    """Store a validated source; `SourceExists` when its URL is registered already. `registered`
    (from `registered_urls`, kept current here) spares a bulk insert one scan per source."""
    key = normalize_url(draft.url)
    existing = registered.get(key) if registered is not None else find_registered(session, draft.url)
    if existing is not None:
        raise SourceExists(draft.url, text("source_exists", source_id=existing.id, name=existing.name))
    source = Source(url=draft.url, **draft.values)
    session.add(source)
    session.flush()
    if registered is not None:
        registered[key] = source
    return source


def create_source(
    database: Database, settings: Settings, url: str, *, checks: SourceChecks | None = None, **fields: Any
) -> Source:
    """Validate and register a source; `SourceExists` when its URL is registered already."""
    draft = draft_source(settings, url, checks=checks, **fields)
    with database.session() as session:
        return insert_source(session, draft)


def update_source(database: Database, source_id: int, *, checks: SourceChecks | None = None, **changes: Any) -> Source:
    """Change the named fields of a source after validating each; stored articles are not touched."""
    subject = text("source", source_id=source_id)
    values = {name: _check_value(subject, name, value, checks) for name, value in changes.items()}
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(subject, text("source_not_found"))
        for name, value in values.items():
            setattr(source, name, value)
        return source


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceNotFound(text("source", source_id=source_id), text("source_not_found"))
    return source


def source_filters(source: Source | None) -> SourceFilters:
    return filters_from_json(source.filters if source is not None else None)


# Filtering ----------------------------------------------------------------------------------------


def filter_verdict(source: Source | None, article: Article) -> Text | None:
    """Why `article` is held back by its source's filters (None: translate it)."""
    if source is None or article.filter_released_by:
        return None
    filters = source_filters(source)
    if not filters.active and not filters.errors:
        return None
    values = article_values(article.title, article.paragraphs, article.authors, (article.url, article.canonical_url))
    return hold_reason(filters, values)


def mark_filtered(article: Article, reason: Text) -> None:
    """Hold `article` for `reason`: its English text for the CLI and logs, its code and parameters
    (`filter_note`) for the German admin."""
    article.fetch_status = FetchStatus.FILTERED
    article.filter_reason, article.filter_note = reason.english(), reason.to_json()
    log.info("article %s held by its source's filters: %s", article.url, article.filter_reason)


@dataclass
class RefilterReport:
    held: int = 0
    released: int = 0
    unchanged: int = 0
    # Already translated (or being translated): the money is spent; an editor unpublishes by hand.
    kept_translated: int = 0


def refilter_source(database: Database, settings: Settings, source_id: int) -> RefilterReport:
    """Apply the source's current filters to its stored articles that are not translated yet.

    Newly matching articles are held (their queued translation is withdrawn); held ones that now
    pass are queued. Released, translated and in-progress articles stay as they are."""
    report = RefilterReport()
    language = settings.target_language
    with database.session() as session:
        source = get_source(session, source_id)
        articles = session.scalars(
            select(Article).where(
                Article.source_id == source_id, Article.fetch_status.in_((FetchStatus.OK, FetchStatus.FILTERED))
            )
        ).all()
        for article in articles:
            translation = session.scalars(
                select(Translation).where(Translation.article_id == article.id, Translation.language == language)
            ).one_or_none()
            if translation is not None and (
                translation.status in (TranslationStatus.DONE, TranslationStatus.IN_PROGRESS) or translation.publication
            ):
                report.kept_translated += 1
                continue
            if article.filter_released_by:
                report.unchanged += 1
                continue
            verdict = filter_verdict(source, article)
            if verdict is not None:
                if article.fetch_status == FetchStatus.FILTERED and article.filter_reason == verdict.english():
                    report.unchanged += 1
                    continue
                if translation is not None:
                    session.delete(translation)  # queued or failed, never published: nothing of value yet
                mark_filtered(article, verdict)
                report.held += 1
            elif article.fetch_status == FetchStatus.FILTERED:
                article.fetch_status, article.filter_reason, article.filter_note = FetchStatus.OK, None, None
                enqueue_translation(session, article, language)
                report.released += 1
            else:
                report.unchanged += 1
    return report


def retranslate_for_reuse(database: Database, settings: Settings, source_id: int) -> int:
    """Queue a new translation of the source's translated articles whose text is narrower than
    their reuse mode now allows (a source widened from excerpt to full); returns how many.

    A narrower mode needs no work: every output shows only what the mode allows."""
    queued = 0
    language = settings.target_language
    with database.session() as session:
        source = get_source(session, source_id)
        rows = session.execute(
            select(Article, Translation)
            .join(Translation, Translation.article_id == Article.id)
            .where(
                Article.source_id == source_id,
                Article.fetch_status == FetchStatus.OK,
                Translation.language == language,
                Translation.status == TranslationStatus.DONE,
                Translation.engine != ORIGINAL_ENGINE,
            )
        ).all()
        for article, translation in rows:
            done = (translation.report or {}).get("reuse") or {}
            wanted = article_reuse(settings, article, source)
            before = done.get("mode", "full")
            widened = REUSE_MODES.index(wanted.mode) < REUSE_MODES.index(before) if before in REUSE_MODES else False
            longer = wanted.mode == before == "excerpt" and wanted.excerpt_words > int(done.get("excerpt_words") or 0)
            if widened or longer:
                translation.status, translation.attempts = TranslationStatus.QUEUED, 0
                translation.next_attempt_at, translation.error = None, None
                queued += 1
    return queued


def filtered_articles(session: Session, source_id: int | None = None, limit: int = 200) -> list[Article]:
    query = select(Article).where(Article.fetch_status == FetchStatus.FILTERED).order_by(Article.id.desc()).limit(limit)
    if source_id is not None:
        query = query.where(Article.source_id == source_id)
    return list(session.scalars(query))


def add_source(
    database: Database, settings: Settings, url: str, *, checks: SourceChecks | None = None, **fields: Any
) -> Source:
    """Register a feed, sitemap or page URL to poll; `SourceExists` if it is already registered.

    The fields (name, language, kind, poll_interval_s, publish_policy, engine, enabled, glossary,
    tags, filters) are validated by `create_source`."""
    return create_source(database, settings, url, checks=checks, **fields)


def remove_source(database: Database, source_id: int) -> None:
    """Delete a source; its articles stay (with no source)."""
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(text("source", source_id=source_id), text("source_not_found"))
        session.execute(update(Article).where(Article.source_id == source_id).values(source_id=None))
        session.add(RemovedSource(id=source.id, name=source.name))  # its public pages answer 410 Gone
        session.delete(source)


def sources_to_poll(database: Database, source_id: int | None = None, due_only: bool = False) -> list[int]:
    now = utcnow()
    with database.session() as session:
        if source_id is not None:
            if session.get(Source, source_id) is None:
                raise SourceNotFound(text("source", source_id=source_id), text("source_not_found"))
            return [source_id]
        query = select(Source.id).where(Source.enabled.is_(True)).order_by(Source.id)
        if due_only:
            query = query.where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        return list(session.scalars(query))
