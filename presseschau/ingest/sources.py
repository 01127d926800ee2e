"""Validated writes to sources and their filters: the one path for the CLI, the admin, the API and OPML.

`create_source` / `update_source` check every field the same way wherever the request comes from
and raise `InvalidInput` (naming the source and the reason), `SourceExists` or `SourceNotFound`.
`refilter_source` applies a source's current filters to its stored articles (only when asked: a
rule change alone touches nothing stored); `release_article` lets an editor translate a filtered
article anyway; `retranslate_article` queues an article for a fresh machine translation.
`add_source` / `remove_source` register and delete sources; `sources_to_poll` picks the ones to poll.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import strip_xml_forbidden
from presseschau.ingest.errors import FetchError, InvalidInput, SourceExists, SourceNotFound
from presseschau.ingest.filters import SourceFilters, article_values, filters_from_json, screen
from presseschau.ingest.profiles import ProfileError, check_country, check_outlet_kind
from presseschau.ingest.urls import check_address_allowed, normalize_url, validate_url
from presseschau.store.db import Database
from presseschau.store.models import (
    Article,
    FetchStatus,
    RemovedSource,
    Source,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.store.queue import TranslationDone, enqueue_translation
from presseschau.store.rights import REUSE_MODES, ReuseError, article_reuse, parse_excerpt_words, parse_reuse_mode
from presseschau.text import clean_text
from presseschau.translate.glossary import GlossaryInputError, format_glossary_additions, parse_glossary_additions

log = logging.getLogger(__name__)

SOURCE_KINDS = frozenset({"auto", "feed", "sitemap", "page"})
PUBLISH_POLICIES = frozenset({"auto", "review", "auto-unless-risky"})
MIN_INTERVAL_S = 60  # polite
MAX_INTERVAL_S = 7 * 24 * 3600
MAX_TAGS = 20
MAX_TAG_LENGTH = 100
# Engine name of a translation that is the original text (already in the target language).
ORIGINAL_ENGINE = "original"
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


def _check_interval(subject: str, interval: int) -> int:
    if not MIN_INTERVAL_S <= interval <= MAX_INTERVAL_S:
        raise InvalidInput(subject, f"poll interval {interval} s: must be between 60 s (polite) and 7 days")
    return interval


def _check_value(subject: str, name: str, value: Any) -> Any:
    """The validated, normalized value of one source field."""
    if name in RIGHTS_FIELDS:
        return _check_rights_value(subject, name, value)
    if name == "name":
        text = clean_text(str(value or ""))  # every write of a name passes here: CLI, admin, API, OPML
        if not text:
            raise InvalidInput(subject, "the name is empty")
        return text[:300]
    if name == "language":
        code = str(value or "")
        if not code or not code.replace("-", "").isalpha() or len(code) > 16:
            raise InvalidInput(subject, f"invalid language code {code!r}")
        return code.lower()
    if name == "kind":
        if value not in SOURCE_KINDS:
            raise InvalidInput(subject, f"unknown source kind {value!r}; expected one of {sorted(SOURCE_KINDS)}")
        return value
    if name == "poll_interval_s":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(subject, f"poll interval {value!r}: a whole number of seconds")
        return _check_interval(subject, value)
    if name == "publish_policy":
        if value not in PUBLISH_POLICIES:
            raise InvalidInput(subject, f"unknown publish policy {value!r}; expected auto, review or auto-unless-risky")
        return value
    if name == "risk_threshold":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
            raise InvalidInput(subject, f"risk threshold {value!r}: a number from 0 to 1")
        return float(value)
    if name == "engine":
        from presseschau.translate.engines import UnknownEngine, check_engine_name

        try:
            return check_engine_name(value)
        except UnknownEngine as error:
            raise InvalidInput(subject, str(error)) from None
    if name == "enabled":
        if not isinstance(value, bool):
            raise InvalidInput(subject, f"enabled must be true or false, not {value!r}")
        return value
    if name == "glossary":
        if not value:
            return None
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise InvalidInput(subject, "glossary additions must map English terms to target terms")
        try:
            # The editor's text format is the one validated form: a dict goes through it too.
            return parse_glossary_additions(format_glossary_additions(dict(value))) or None
        except GlossaryInputError as error:
            raise InvalidInput(subject, f"glossary additions: {error}") from None
    if name == "tags":
        return normalize_tags(subject, value)
    if name in ("country", "outlet_kind"):
        check = check_country if name == "country" else check_outlet_kind
        try:
            return check(value if isinstance(value, str) or value is None else str(value))
        except ProfileError as error:
            raise InvalidInput(subject, str(error)) from None
    if name == "filters":
        if value is None:
            return None
        if not isinstance(value, SourceFilters):
            raise InvalidInput(subject, "filters must be built with presseschau.ingest.filters.build_filters")
        return value.to_json()
    raise InvalidInput(subject, f"{name!r} cannot be changed; changeable: {', '.join(sorted(EDITABLE_FIELDS))}")


_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _check_rights_value(subject: str, name: str, value: Any) -> Any:
    """A source's rights field, validated; empty values mean "the site's setting"."""
    if value is None or value == "":
        return None
    try:
        if name == "reuse":
            return parse_reuse_mode(str(value))
        if name == "excerpt_words":
            if isinstance(value, bool):
                raise ReuseError(f"excerpt length {value!r} is not a whole number of words")
            return parse_excerpt_words(value)
    except ReuseError as error:
        raise InvalidInput(subject, str(error)) from None
    if name == "reuse_permission":
        # Plain text of the operator's: no control or bidi-override characters that reorder what follows.
        text = " ".join(_INVISIBLE_RE.sub("", strip_xml_forbidden(str(value))).split())
        if len(text) > 1000:
            raise InvalidInput(subject, "the permission note is longer than 1000 characters")
        return text or None
    if not isinstance(value, bool):
        raise InvalidInput(subject, f"bilingual must be true or false, not {value!r}")
    return value


def normalize_tags(subject: str, tags: Iterable[Any] | None) -> list[str] | None:
    cleaned: list[str] = []
    for tag in tags or ():
        if not isinstance(tag, str):
            raise InvalidInput(subject, f"tag {tag!r} is not text")
        # "News / Europe" and "News/Europe" are one category path (OPML nesting).
        text = "/".join(" ".join(part.split()) for part in clean_text(tag).split("/") if part.strip())
        if "," in text:
            raise InvalidInput(subject, f"tag {text!r}: no commas (OPML separates categories with them)")
        if len(text) > MAX_TAG_LENGTH:
            raise InvalidInput(subject, f"tag {text[:30]!r}…: longer than {MAX_TAG_LENGTH} characters")
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(subject, f"at most {MAX_TAGS} tags per source")
    return cleaned or None


class ArticleNotFound(InvalidInput):
    """No article with the given id."""

    kind = "article_not_found"


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
    return SourceDraft(url, {key: _check_value(url, key, value) for key, value in wanted.items()})


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
        raise SourceExists(draft.url, f"already registered as source {existing.id} ({existing.name})")
    source = Source(url=draft.url, **draft.values)
    session.add(source)
    session.flush()
    if registered is not None:
        registered[key] = source
    return source


def create_source(database: Database, settings: Settings, url: str, **fields: Any) -> Source:
    """Validate and register a source; `SourceExists` when its URL is registered already."""
    draft = draft_source(settings, url, **fields)
    with database.session() as session:
        return insert_source(session, draft)


def update_source(database: Database, source_id: int, **changes: Any) -> Source:
    """Change the named fields of a source after validating each; stored articles are not touched."""
    subject = f"source {source_id}"
    values = {name: _check_value(subject, name, value) for name, value in changes.items()}
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(subject, "no such source")
        for name, value in values.items():
            setattr(source, name, value)
        return source


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise SourceNotFound(f"source {source_id}", "no such source")
    return source


def source_filters(source: Source | None) -> SourceFilters:
    return filters_from_json(source.filters if source is not None else None)


# Filtering ----------------------------------------------------------------------------------------


def filter_verdict(source: Source | None, article: Article) -> str | None:
    """Why `article` is held back by its source's filters (None: translate it)."""
    if source is None or article.filter_released_by:
        return None
    filters = source_filters(source)
    if not filters.active and not filters.errors:
        return None
    values = article_values(article.title, article.paragraphs, article.authors, (article.url, article.canonical_url))
    return screen(filters, values)


def mark_filtered(article: Article, reason: str) -> None:
    article.fetch_status = FetchStatus.FILTERED
    article.filter_reason = reason
    log.info("article %s held by its source's filters: %s", article.url, reason)


def publish_original(session: Session, settings: Settings, article: Article, on_done: TranslationDone | None) -> None:
    """An article already in the target language, published as is: a `done` translation holding the
    original text (engine `original`, labelled so on the page), then `on_done` (the publish stage's
    `publisher`: published by the source's policy) in the same transaction."""
    translation = session.scalars(
        select(Translation).where(
            Translation.article_id == article.id, Translation.language == settings.target_language
        )
    ).one_or_none()
    if translation is None:
        translation = Translation(article_id=article.id, language=settings.target_language)
        session.add(translation)
    translation.source_revision = article.revision
    translation.engine, translation.model = ORIGINAL_ENGINE, None
    translation.title, translation.paragraphs = article.title, list(article.paragraphs)
    translation.report = {"original_language": article.language}
    translation.status, translation.error, translation.reviewed = TranslationStatus.DONE, None, False
    translation.translated_at = utcnow()
    session.flush()
    session.refresh(translation, ["article"])
    if on_done is not None:
        on_done(session, translation)


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
                if article.fetch_status == FetchStatus.FILTERED and article.filter_reason == verdict:
                    report.unchanged += 1
                    continue
                if translation is not None:
                    session.delete(translation)  # queued or failed, never published: nothing of value yet
                mark_filtered(article, verdict)
                report.held += 1
            elif article.fetch_status == FetchStatus.FILTERED:
                article.fetch_status, article.filter_reason = FetchStatus.OK, None
                enqueue_translation(session, article, language)
                report.released += 1
            else:
                report.unchanged += 1
    return report


def release_article(database: Database, settings: Settings, article_id: int, by: str) -> Article:
    """Translate a filtered article after all (an editor's decision; it is never filtered again)."""
    subject = f"article {article_id}"
    with database.session() as session:
        article = session.get(Article, article_id)
        if article is None:
            raise ArticleNotFound(subject, "no such article")
        if article.fetch_status != FetchStatus.FILTERED:
            raise InvalidInput(subject, f"is not held by a filter (status {article.fetch_status})")
        article.fetch_status = FetchStatus.OK
        article.filter_released_by = by[:100]
        enqueue_translation(session, article, settings.target_language)
        log.info("article %s released by %s (held for: %s)", article_id, by, article.filter_reason)
        return article


def retranslate_article(database: Database, settings: Settings, article_id: int) -> Translation:
    """Queue a fresh machine translation of an article's current revision (its publication stays
    as it is until the new translation is done)."""
    subject = f"article {article_id}"
    language = settings.target_language
    with database.session() as session:
        article = session.get(Article, article_id)
        if article is None:
            raise ArticleNotFound(subject, "no such article")
        if article.fetch_status != FetchStatus.OK:
            raise InvalidInput(subject, f"cannot be translated (status {article.fetch_status})")
        translation = enqueue_translation(session, article, language)
        if translation.engine == ORIGINAL_ENGINE:
            raise InvalidInput(subject, "is published as original text; there is nothing to translate")
        if translation.status == TranslationStatus.IN_PROGRESS:
            raise InvalidInput(subject, "is being translated right now")
        translation.status, translation.attempts = TranslationStatus.QUEUED, 0
        translation.next_attempt_at, translation.error = None, None
        return translation


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


def add_source(database: Database, settings: Settings, url: str, **fields: Any) -> Source:
    """Register a feed, sitemap or page URL to poll; `SourceExists` if it is already registered.

    The fields (name, language, kind, poll_interval_s, publish_policy, engine, enabled, glossary,
    tags, filters) are validated by `create_source`."""
    return create_source(database, settings, url, **fields)


def remove_source(database: Database, source_id: int) -> None:
    """Delete a source; its articles stay (with no source)."""
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise SourceNotFound(f"source {source_id}", "no such source")
        session.execute(update(Article).where(Article.source_id == source_id).values(source_id=None))
        session.add(RemovedSource(id=source.id, name=source.name))  # its public pages answer 410 Gone
        session.delete(source)


def sources_to_poll(database: Database, source_id: int | None = None, due_only: bool = False) -> list[int]:
    now = utcnow()
    with database.session() as session:
        if source_id is not None:
            if session.get(Source, source_id) is None:
                raise SourceNotFound(f"source {source_id}", "no such source")
            return [source_id]
        query = select(Source.id).where(Source.enabled.is_(True)).order_by(Source.id)
        if due_only:
            query = query.where(or_(Source.next_poll_at.is_(None), Source.next_poll_at <= now))
        return list(session.scalars(query))
