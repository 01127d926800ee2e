"""Translating a document or one paragraph with the right engine: choice, fallback, memory, glossary.

`choose_engine` is the one rule for which engine translates an article (an explicit choice, else
its source's engine, else the configured one); `translate_with_fallback` hands the whole document
to the configured fallback engine when the chosen one cannot run; `translate_paragraph` is the
editor's fresh translation of one paragraph.
"""

from __future__ import annotations

import logging
from typing import Any

from presseschau.config import Settings
from presseschau.content import Paragraph
from presseschau.store.db import Database
from presseschau.store.models import Source
from presseschau.translate.document import Document, DocumentTranslator, TranslatedDocument
from presseschau.translate.engines import Engine, EngineNotReady, get_engine
from presseschau.translate.glossary import glossary_for
from presseschau.translate.memory import TranslationMemory

log = logging.getLogger("presseschau.translate")


def choose_engine(settings: Settings, requested: str | None = None, source: Source | None = None) -> str:
    """The engine to translate with: `requested` (a command's flag, an editor's choice), else the
    source's own engine, else the configured one."""
    if requested:
        return requested
    if source is not None and source.engine:
        return source.engine
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
    database: Database,
    settings: Settings,
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
    engine_settings = settings
    if source_language or target_language:
        # Engines whose model depends on the pair (firefox, ct2 without an explicit model) choose by it.
        engine_settings = settings.model_copy(
            update={
                "source_language": source_language or settings.source_language,
                "target_language": target_language or settings.target_language,
            }
        )

    def run(engine: Engine) -> TranslatedDocument:
        return translate_document(
            database, settings, document, engine, source_language, target_language, glossary_additions
        )

    engine = resolve_engine(engine_settings, name, model)
    if engine.name != name:
        notice = {"fallback_engine": engine.name, "fallback_from": name, "fallback_reason": f"{name} not ready"}
        return engine, run(engine), notice
    try:
        return engine, run(engine), {}
    except EngineNotReady as failure:
        fallback = engine_settings.fallback_engine
        if not fallback or fallback == engine.name:
            raise
        reason = f"{type(failure).__name__}: {failure}"
        log.warning("engine %s failed (%s); the article goes to fallback engine %s", name, reason, fallback)
        backup = get_engine(fallback, engine_settings, None)
        notice = {"fallback_engine": backup.name, "fallback_from": name, "fallback_reason": reason}
        return backup, run(backup), notice


def translate_document(
    database: Database,
    settings: Settings,
    document: Document,
    engine: Engine,
    source_language: str | None = None,
    target_language: str | None = None,
    glossary_additions: dict[str, Any] | None = None,
) -> TranslatedDocument:
    source = source_language or settings.source_language
    target = target_language or settings.target_language
    translator = DocumentTranslator(
        engine,
        memory=TranslationMemory(database, source, target),
        glossary=glossary_for(settings, glossary_additions),
        source_language=source,
        target_language=target,
    )
    return translator.translate(document)


def translate_paragraph(
    settings: Settings,
    paragraph: Paragraph,
    engine_name: str,
    target_language: str | None = None,
    glossary_additions: dict[str, Any] | None = None,
) -> Paragraph | None:
    """`paragraph` translated afresh by engine `engine_name`, for an editor who waits for it.

    No translation memory (the editor asks for a new translation, not the stored one) and no model
    download (hundreds of MB are not fetched during a request); the glossary with the source's
    additions applies as in the pipeline. None when the result fails the coverage check;
    `EngineError` when the engine cannot run.
    """
    engine = get_engine(engine_name, settings.model_copy(update={"model_auto_pull": False}))
    translator = DocumentTranslator(
        engine,
        memory=None,
        glossary=glossary_for(settings, glossary_additions),
        source_language=settings.source_language,
        target_language=target_language or settings.target_language,
    )
    result = translator.translate(Document(title="", paragraphs=[paragraph]))
    if not result.complete or not result.paragraphs:
        return None
    return result.paragraphs[0]
