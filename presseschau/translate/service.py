"""The translate stage as services: one article, or the queue (leases, retries, crash safety)."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.content import paragraphs_from_json, paragraphs_to_json
from presseschau.store.models import Article, Translation
from presseschau.store.queue import (
    IN_PROGRESS,
    QUEUED,
    Backoff,
    claim_translations,
    fail_translation,
    finish_translation,
    holds_lease,
)
from presseschau.translate import usage
from presseschau.translate.document import Document, DocumentTranslator, TranslatedDocument
from presseschau.translate.engines import Engine, EngineError, EngineNotReady, get_engine
from presseschau.translate.glossary import Glossary, Term
from presseschau.translate.memory import TranslationMemory

log = logging.getLogger("presseschau.translate")

OnDone = Callable[[Session, Translation], None]
# Engine errors that no other article could escape either (reported as "<Type>: message").
STOP_ERRORS = ("EngineNotReady", "ModelNotFound", "QuotaExceeded", "EngineAuthError", "CircuitOpen")
Progress = Callable[..., None]


class ArticleNotFound(LookupError):
    """No article with the given id, or it has no content to translate yet."""


@dataclass
class TranslationOutcome:
    article_id: int
    translation_id: int | None
    status: str
    complete: bool
    engine: str
    model: str | None
    error: str | None = None
    report: dict[str, Any] = field(default_factory=dict)


@dataclass
class TranslateRunReport:
    claimed: int = 0
    done: int = 0
    failed: int = 0
    lost_lease: int = 0
    aborted: str | None = None
    outcomes: list[TranslationOutcome] = field(default_factory=list)


@lru_cache(maxsize=4)
def _load_glossary(path: str, mtime: float) -> Glossary:
    return Glossary.load(path)


def glossary_for(settings: Settings, additions: dict[str, Any] | None = None) -> Glossary | None:
    """The configured glossary, plus a source's own additions (`Source.glossary`, editorial admin)."""
    path: Path | None = settings.glossary_path
    base: Glossary | None = None
    if path is not None:
        if not path.is_absolute():
            path = settings.data_dir / path
        base = _load_glossary(str(path), path.stat().st_mtime if path.exists() else 0.0)
    if not additions:
        return base
    # A new Glossary, never the cached one; the source's term replaces a global one with that source.
    own = [Term(str(source), str(target)) for source, target in additions.items() if str(source).strip()]
    kept = [term for term in (base.terms if base else []) if term.source not in additions]
    return Glossary([*kept, *own])


def choose_engine_name(settings: Settings, article: Article, engine_name: str | None) -> str:
    if engine_name:
        return engine_name
    if article.source is not None and article.source.engine:
        return article.source.engine
    return settings.engine


def resolve_engine(settings: Settings, name: str, model: str | None) -> Engine:
    """The engine `name`, or the configured fallback engine when `name` cannot run."""
    try:
        return get_engine(name, settings, model)
    except EngineNotReady:
        if settings.fallback_engine and settings.fallback_engine != name:
            log.warning("engine %s not ready; using fallback engine %s", name, settings.fallback_engine)
            return get_engine(settings.fallback_engine, settings, None)
        raise


def translate_with_fallback(
    context: AppContext,
    document: Document,
    name: str,
    model: str | None,
    source_language: str | None = None,
    target_language: str | None = None,
    glossary_additions: dict[str, Any] | None = None,
) -> tuple[Engine, TranslatedDocument, dict[str, Any]]:
    """Translate with engine `name`; if it cannot run (not ready, quota used up, circuit open,
    service down through all retries), the whole document goes to the fallback engine.

    Returns the engine that produced the result and, when the fallback ran, report entries that
    say so. Nothing of a failed primary attempt is kept: the document translator stores memory
    only after a finished run, and the fallback translates every segment itself.
    """
    settings = context.settings

    def run(engine: Engine) -> TranslatedDocument:
        return translate_document(context, document, engine, source_language, target_language, glossary_additions)

    engine = resolve_engine(settings, name, model)
    if engine.name != name:
        notice = {"fallback_engine": engine.name, "fallback_from": name, "fallback_reason": f"{name} not ready"}
        return engine, run(engine), notice
    try:
        return engine, run(engine), {}
    except EngineNotReady as failure:
        fallback = settings.fallback_engine
        if not fallback or fallback == engine.name:
            raise
        reason = f"{type(failure).__name__}: {failure}"
        log.warning("engine %s failed (%s); the article goes to fallback engine %s", name, reason, fallback)
        backup = get_engine(fallback, settings, None)
        notice = {"fallback_engine": backup.name, "fallback_from": name, "fallback_reason": reason}
        return backup, run(backup), notice


def translate_document(
    context: AppContext,
    document: Document,
    engine: Engine,
    source_language: str | None = None,
    target_language: str | None = None,
    glossary_additions: dict[str, Any] | None = None,
) -> TranslatedDocument:
    settings = context.settings
    source = source_language or settings.source_language
    target = target_language or settings.target_language
    translator = DocumentTranslator(
        engine,
        memory=TranslationMemory(context.database, source, target),
        glossary=glossary_for(settings, glossary_additions),
        source_language=source,
        target_language=target,
    )
    return translator.translate(document)


def _load_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound(f"no article {article_id}")
    if not article.paragraphs:
        raise ArticleNotFound(f"article {article_id} has no paragraphs (not fetched yet?)")
    return article


def _translate(
    context: AppContext,
    article_id: int,
    engine_name: str | None,
    model: str | None,
    owner: str | None,
    on_done: OnDone | None,
) -> TranslationOutcome:
    settings = context.settings
    target_language = settings.target_language
    with context.database.session() as session:
        article = _load_article(session, article_id)
        name = choose_engine_name(settings, article, engine_name)
        source_language = article.language or (article.source.language if article.source else None)
        source_language = source_language or settings.source_language
        document = Document(article.title or "", paragraphs_from_json(article.paragraphs))
        revision = article.revision
        # Per-source glossary additions (editorial admin); None when the source has none.
        additions = dict(article.source.glossary or {}) if article.source is not None else None

    started = time.perf_counter()
    error: str | None = None
    result: TranslatedDocument | None = None
    engine_label, model_label = name, model
    fallback: dict[str, Any] = {}
    # Billable usage of this article (DeepL characters, LLM tokens and cost), failed tries included.
    with usage.metering() as meter:
        try:
            engine, result, fallback = translate_with_fallback(
                context, document, name, model, source_language, target_language, additions
            )
            engine_label, model_label = engine.name, engine.model
        except EngineError as failure:
            error = f"{type(failure).__name__}: {failure}"
    elapsed = time.perf_counter() - started

    with context.database.session() as session:
        translation = session.scalars(
            select(Translation).where(Translation.article_id == article_id, Translation.language == target_language)
        ).one_or_none()
        if translation is None:
            translation = Translation(article_id=article_id, language=target_language, source_revision=revision)
            session.add(translation)
            session.flush()
        if owner is not None and not holds_lease(session, translation.id, owner):
            # Another worker took the item over (our lease expired): write nothing.
            return TranslationOutcome(article_id, translation.id, "lost_lease", False, engine_label, model_label)
        translation.engine, translation.model = engine_label, model_label
        translation.engine_seconds = result.report.engine_seconds if result else elapsed
        if result is not None:
            if result.complete:
                # Only a complete result replaces the text: a published article keeps its last
                # complete translation on the site while a failed re-translation is retried.
                translation.title = result.title
                translation.paragraphs = paragraphs_to_json(result.paragraphs)
                # New machine text has not been reviewed, whatever its predecessor was.
                translation.reviewed = False
            report = result.report.to_json()
            if fallback:
                report.update(fallback, fallback_segments=result.report.engine_segments)
            if meter.by_engine:
                report["usage"] = meter.to_json()
            translation.report = report
            translation.source_revision = revision
            if not result.complete:
                failed = result.report.failed_segments
                error = (
                    f"incomplete translation: {len(failed)} segment(s) failed the coverage check "
                    f"(first: {failed[0]['reason']} in {failed[0]['source'][:80]!r})"
                )
        if meter.by_engine:
            usage.add_monthly(session, meter)
        if error is None:
            finish_translation(session, translation, owner)
            if on_done is not None:
                on_done(session, translation)  # same transaction as marking it done
        else:
            if owner is None:
                translation.attempts += 1  # a direct call consumes an attempt like a claim does
            fail_translation(
                session,
                translation,
                owner,
                error,
                settings.translation_max_attempts,
                Backoff(settings.backoff_base_s, settings.backoff_max_s),
            )
        session.flush()
        return TranslationOutcome(
            article_id,
            translation.id,
            translation.status,
            error is None,
            engine_label,
            model_label,
            error,
            dict(translation.report or {}),
        )


def translate_article(
    context: AppContext,
    article_id: int,
    engine_name: str | None = None,
    model: str | None = None,
    on_done: OnDone | None = None,
) -> TranslationOutcome:
    """Translate one article now (no lease); the Translation row records the outcome.

    Only a complete translation is marked done; an incomplete one is stored with its report and
    re-queued with backoff (or failed after `translation_max_attempts`).
    """
    return _translate(context, article_id, engine_name, model, None, on_done)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def queued_count(context: AppContext) -> int:
    with context.database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Translation)
                .where(
                    Translation.status.in_((QUEUED, IN_PROGRESS)),
                    Translation.language == context.settings.target_language,
                )
            )
            or 0
        )


def translate_queued(
    context: AppContext,
    limit: int | None = None,
    engine_name: str | None = None,
    model: str | None = None,
    owner: str | None = None,
    progress: Progress | None = None,
    on_done: OnDone | None = None,
) -> TranslateRunReport:
    """Claim queued translations one by one, translate them, record done/failed under the lease."""
    settings = context.settings
    owner = owner or default_owner()
    report = TranslateRunReport()
    while limit is None or report.claimed < limit:
        with context.database.session() as session:
            claimed = claim_translations(
                session, owner, settings.lease_seconds, limit=1, language=settings.target_language
            )
            article_id = (
                session.scalar(select(Translation.article_id).where(Translation.id == claimed[0])) if claimed else None
            )
        if article_id is None:
            break
        report.claimed += 1
        try:
            outcome = _translate(context, article_id, engine_name, model, owner, on_done)
        except Exception as problem:
            log.exception("translating article %s failed", article_id)
            message = f"{type(problem).__name__}: {problem}"
            with context.database.session() as session:
                translation = session.get(Translation, claimed[0])
                if translation is not None:
                    fail_translation(
                        session,
                        translation,
                        owner,
                        message,
                        settings.translation_max_attempts,
                        Backoff(settings.backoff_base_s, settings.backoff_max_s),
                    )
                status = translation.status if translation is not None else "failed"
            outcome = TranslationOutcome(article_id, claimed[0], status, False, engine_name or "", model, message)
        report.outcomes.append(outcome)
        if outcome.status == "lost_lease":
            report.lost_lease += 1
        elif outcome.complete:
            report.done += 1
        else:
            report.failed += 1
        if progress is not None:
            progress(1, f"article {article_id}: {outcome.status}")
        if outcome.error and outcome.error.startswith(STOP_ERRORS):
            # Every further item would fail the same way: stop and say why (a used-up quota or
            # an open circuit would otherwise burn one attempt of every queued article).
            report.aborted = outcome.error
            break
    return report
