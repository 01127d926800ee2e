"""Engine registry: one shared instance per (engine, model, device) and process.

Engines plug in with `register_engine(name, factory, description)`; a factory gets the settings
and the requested model and returns `(cache_key, build)` so the registry can reuse an instance
without building a second one.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from presseschau.config import Settings
from presseschau.messages import CataloguedError, text
from presseschau.translate.engines.base import (
    Engine,
    EngineError,
    EngineNotReady,
    ModelNotFound,
    TranslationMissing,
    UnsupportedLanguagePair,
)
from presseschau.translate.glossary import Glossary, glossary_for

if TYPE_CHECKING:
    from presseschau.translate.catalog import ModelStore

log = logging.getLogger("presseschau.translate")

Builder = Callable[[], Engine]
Factory = Callable[[Settings, str | None], tuple[tuple[str, ...], Builder]]


@dataclass(frozen=True)
class EngineSpec:
    name: str
    description: str
    factory: Factory
    # ready(settings) -> (ready?, reason) without loading anything heavy.
    probe: Callable[[Settings], tuple[bool, str]]


_REGISTRY: dict[str, EngineSpec] = {}
_INSTANCES: dict[tuple[str, ...], Engine] = {}
_LOCK = threading.Lock()


def register_engine(spec: EngineSpec) -> None:
    _REGISTRY[spec.name] = spec


def engine_names() -> list[str]:
    return sorted(_REGISTRY)


class UnknownEngine(CataloguedError, ValueError):
    """An engine name that is not registered; the message lists the ones that are."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(text("engine_unknown", name=name, engines=engine_names()))


def check_engine_name(name: str | None) -> str | None:
    """The one check of an engine name given by a user (source settings, editor, command line):
    `name` when it is registered, None when none was given (None or ""), else `UnknownEngine`."""
    if name is None or name == "":
        return None
    if name not in engine_names():
        raise UnknownEngine(name)
    return name


def engine_specs() -> list[EngineSpec]:
    return [_REGISTRY[name] for name in engine_names()]


def get_engine(name: str, settings: Settings, model: str | None = None) -> Engine:
    """The shared engine `name` (with `model`), built on first use. Thread-safe."""
    spec = _REGISTRY.get(name)
    if spec is None:
        raise EngineNotReady(f"unknown engine {name!r}; available: {', '.join(engine_names())}")
    key, build = spec.factory(settings, model)
    with _LOCK:
        engine = _INSTANCES.get(key)
        if engine is None:
            # Built under the lock: two threads must not load the same model twice.
            engine = build()
            _INSTANCES[key] = engine
        return engine


def clear_engine_cache() -> None:
    with _LOCK:
        _INSTANCES.clear()


# Built-in engines ------------------------------------------------------------------------------


def _ct2_model_dir(settings: Settings, model: str | None) -> Path:
    from presseschau.translate.catalog import (
        CATALOG,
        ModelInstallError,
        ModelStore,
        default_model_for,
        not_ready_message,
    )
    from presseschau.translate.download import DownloadError

    store = ModelStore.for_settings(settings)
    wanted = model or settings.model
    if wanted:
        try:
            return store.resolve(wanted)
        except ModelNotFound:
            if wanted not in CATALOG:
                raise
            entry = CATALOG[wanted]
    else:
        for installed in store.installed():
            langs = installed.meta
            if settings.source_language in langs.source_languages and settings.target_language in (
                langs.target_languages
            ):
                return installed.path
        default = default_model_for(settings.source_language, settings.target_language)
        if default is None:
            raise EngineNotReady(
                not_ready_message(settings.source_language, settings.target_language, text("no_catalog_model"))
            )
        entry = default
    if not settings.model_auto_pull:
        raise EngineNotReady(
            not_ready_message(
                settings.source_language, settings.target_language, text("model_not_installed", name=entry.name)
            )
        )
    log.warning(
        "no model installed: downloading %s (%s, %s) into %s -- once only",
        entry.name,
        entry.download_size,
        entry.license,
        store.models_dir,
    )
    reported = [-1]

    def progress(done: int, total: int | None) -> None:
        # No terminal is guaranteed here (service, worker): log every 10 %.
        if total:
            tenth = done * 10 // total
            if tenth > reported[0]:
                reported[0] = tenth
                log.info("downloading %s: %d %% of %.0f MB", entry.name, tenth * 10, total / 1e6)

    try:
        path = store.pull(entry, progress=progress)
    except (DownloadError, ModelInstallError) as error:
        raise EngineNotReady(
            not_ready_message(settings.source_language, settings.target_language, str(error))
        ) from error
    log.warning("installed %s into %s", entry.name, path)
    return path


def _ct2_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.translate.engines.ct2 import CT2Engine, choose_device

    model_dir = _ct2_model_dir(settings, model)
    device = choose_device(settings.ct2_device)

    def build() -> Engine:
        return CT2Engine(
            model_dir,
            device=device,
            compute_type=settings.ct2_compute_type,
            threads=settings.ct2_threads,
            beam_size=settings.beam_size,
            length_penalty=settings.length_penalty,
            max_batch_tokens=settings.max_batch_tokens,
        )

    key = ("ct2", str(model_dir.resolve()), device, settings.ct2_compute_type or "", str(settings.beam_size))
    return key, build


def _ct2_probe(settings: Settings) -> tuple[bool, str]:
    from presseschau.translate.catalog import ModelStore, default_model_for

    store = ModelStore.for_settings(settings)
    if settings.model:
        try:
            return True, f"model {store.resolve(settings.model)}"
        except ModelNotFound as error:
            return False, str(error)
    installed = store.installed()
    if installed:
        return True, "models: " + ", ".join(m.name for m in installed)
    default = default_model_for(settings.source_language, settings.target_language)
    name = default.name if default else "NAME"
    return False, f"no model installed; the first translation pulls {name} (or `presseschau models pull {name}`)"


def _installed_firefox_route(store: ModelStore, source: str, target: str) -> list[Path] | None:
    """Installed models for a pair: a direct one, else two through English."""
    from presseschau.translate.firefox import PIVOT_LANGUAGE

    by_pair: dict[tuple[str, str], Path] = {}
    for installed in store.installed("firefox"):
        for src in installed.meta.source_languages:
            for trg in installed.meta.target_languages:
                by_pair.setdefault((src, trg), installed.path)
    if (source, target) in by_pair:
        return [by_pair[source, target]]
    first, second = by_pair.get((source, PIVOT_LANGUAGE)), by_pair.get((PIVOT_LANGUAGE, target))
    return [first, second] if first and second else None


def _firefox_model_dirs(settings: Settings, model: str | None) -> list[Path]:
    from presseschau.translate.catalog import (
        CATALOG,
        ModelInstallError,
        ModelStore,
        firefox_not_ready_message,
        model_format,
    )
    from presseschau.translate.firefox import architecture_preference, parse_model_name

    store = ModelStore.for_settings(settings)
    source, target = settings.source_language, settings.target_language
    wanted = model
    configured = settings.model
    if wanted is None and configured:
        # `model` in the settings may name the ct2 engine's model (a fallback setup): not ours to load.
        entry = CATALOG.get(configured)
        for_ct2 = (
            entry.format != "firefox"
            if entry is not None
            else "ct2"
            in (
                model_format(Path(configured).expanduser()),
                model_format(store.models_dir / configured),
            )
        )
        wanted = None if for_ct2 else configured
    if wanted:
        pair = parse_model_name(wanted)
        if pair is None or (store.models_dir / wanted).exists() or "/" in wanted:
            return [store.resolve(wanted, "firefox")]
        source, target = pair
    route = _installed_firefox_route(store, source, target)
    if route:
        return route
    if not settings.model_auto_pull:
        raise EngineNotReady(firefox_not_ready_message(source, target, text("model_not_installed_no_pull")))
    log.warning(
        "no Firefox Translations model for %s→%s installed: pulling it once from %s",
        source,
        target,
        settings.firefox_records_url,
    )
    try:
        return store.pull_firefox(source, target, architecture_preference(settings.firefox_architecture))
    except ModelInstallError as error:
        raise EngineNotReady(firefox_not_ready_message(source, target, str(error))) from error


def _firefox_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.translate.engines.firefox import FirefoxEngine

    model_dirs = _firefox_model_dirs(settings, model)

    def build() -> Engine:
        return FirefoxEngine(model_dirs, workers=settings.firefox_workers)

    return ("firefox", *(str(path.resolve()) for path in model_dirs), str(settings.firefox_workers)), build


def _firefox_probe(settings: Settings) -> tuple[bool, str]:
    from presseschau.translate.catalog import ModelStore
    from presseschau.translate.firefox import model_name

    store = ModelStore.for_settings(settings)
    source, target = settings.source_language, settings.target_language
    installed = store.installed("firefox")
    names = ", ".join(
        f"{m.name} ({' '.join(p for p in (m.meta.architecture, m.meta.version) if p) or 'imported'})" for m in installed
    )
    route = _installed_firefox_route(store, source, target)
    if route:
        via = " (through en)" if len(route) > 1 else ""
        return True, f"{source}→{target}{via} ready; models: {names}"
    pull = model_name(source, target)
    have = f"installed: {names}; " if names else "no model installed; "
    return False, f"{have}the first {source}→{target} translation pulls {pull} (or `presseschau models pull {pull}`)"


def _memory_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.store.db import Database
    from presseschau.translate.engines.memory import MemoryEngine

    def build() -> Engine:
        database = Database(settings)
        database.migrate()
        return MemoryEngine(database)

    return ("memory", settings.effective_database_url), build


register_engine(
    EngineSpec(
        "ct2",
        "local CTranslate2 model (OPUS-MT, NLLB, M2M-100), CPU int8 or CUDA float16",
        _ct2_factory,
        _ct2_probe,
    )
)
register_engine(
    EngineSpec(
        "firefox",
        "local Firefox Translations model (Mozilla, Marian int8; ~20-40 MB per pair), CPU; the default",
        _firefox_factory,
        _firefox_probe,
    )
)
register_engine(
    EngineSpec(
        "memory",
        "translation memory only; misses are errors (deterministic tests, human translations)",
        _memory_factory,
        lambda settings: (True, "always available"),
    )
)

# Engines behind an HTTP API ---------------------------------------------------------------------


def _glossary(settings: Settings) -> tuple[Glossary | None, str]:
    """The configured glossary and a digest of it: a changed glossary gives a new engine instance."""
    glossary = glossary_for(settings)
    if glossary is None:
        return None, ""
    entries = "\n".join(f"{t.source}\t{t.target}\t{t.case_sensitive}" for t in glossary.terms)
    return glossary, hashlib.sha256(entries.encode()).hexdigest()[:16]


def _secret_digest(secret: str | None) -> str:
    # Cache keys are plain tuples that may end up in debug output: never the key itself.
    return hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else ""


def _deepl_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.translate.engines.deepl import build_deepl, default_url
    from presseschau.translate.engines.http import HttpPolicy

    api_key = settings.deepl_api_key
    if not api_key:
        raise EngineNotReady("deepl: no API key (set PRESSESCHAU_DEEPL_API_KEY or deepl_api_key in presseschau.toml)")
    url = settings.deepl_api_url or default_url(api_key)
    glossary, digest = _glossary(settings)

    def build() -> Engine:
        return build_deepl(
            api_key,
            url,
            settings.deepl_formality,
            HttpPolicy.from_settings(settings),
            glossary,
            settings.source_language,
            settings.target_language,
        )

    key = (
        "deepl",
        url,
        _secret_digest(api_key),
        settings.deepl_formality,
        digest,
        settings.source_language,
        settings.target_language,
    )
    return key, build


def _libretranslate_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.translate.engines.http import HttpClient, HttpPolicy
    from presseschau.translate.engines.libretranslate import LibreTranslateEngine

    url = settings.libretranslate_url
    if not url:
        raise EngineNotReady("libretranslate: no server (set PRESSESCHAU_LIBRETRANSLATE_URL)")
    api_key = settings.libretranslate_api_key

    def build() -> Engine:
        client = HttpClient("libretranslate", url, HttpPolicy.from_settings(settings), secrets=[api_key])
        engine = LibreTranslateEngine(client, api_key, settings.libretranslate_batch_limit)
        try:
            engine.load_limits()
        except EngineError as error:
            # Not fatal here: the limits are fetched again before the first translation.
            log.warning("libretranslate: limits not loaded yet (%s)", error)
        return engine

    return ("libretranslate", url, _secret_digest(api_key), str(settings.libretranslate_batch_limit)), build


def _llm_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    from presseschau.translate.engines.http import HttpClient, HttpPolicy
    from presseschau.translate.engines.llm import LLMEngine

    url = settings.llm_base_url
    chosen = model or settings.llm_model
    if not url or not chosen:
        raise EngineNotReady(
            "llm: set PRESSESCHAU_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1) and PRESSESCHAU_LLM_MODEL"
        )
    api_key = settings.llm_api_key
    glossary, digest = _glossary(settings)

    def build() -> Engine:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        client = HttpClient("llm", url, HttpPolicy.from_settings(settings), headers=headers, secrets=[api_key])
        return LLMEngine(
            client,
            chosen,
            context_tokens=settings.llm_context_tokens,
            temperature=settings.llm_temperature,
            price_per_1k_input=settings.llm_price_per_1k_input,
            price_per_1k_output=settings.llm_price_per_1k_output,
            glossary=glossary,
        )

    key = (
        "llm",
        url,
        chosen,
        _secret_digest(api_key),
        str(settings.llm_context_tokens),
        digest,
        f"{settings.llm_price_per_1k_input}/{settings.llm_price_per_1k_output}",
    )
    return key, build


def _remote_probe(name: str) -> Callable[[Settings], tuple[bool, str]]:
    def probe(settings: Settings) -> tuple[bool, str]:
        try:
            # Without the glossary: asking whether an engine is ready must not create (or wait
            # through retries to create) a DeepL glossary on the service.
            engine = get_engine(name, settings.model_copy(update={"glossary_path": None}))
        except EngineNotReady as error:
            return False, f"not configured: {error}"
        except EngineError as error:
            return False, f"configured; {type(error).__name__}: {error}"
        return engine.is_ready()

    return probe


register_engine(
    EngineSpec(
        "deepl",
        "DeepL API (free or pro key), DeepL glossary synced from presseschau's, formality, character usage",
        _deepl_factory,
        _remote_probe("deepl"),
    )
)
register_engine(
    EngineSpec(
        "libretranslate",
        "a LibreTranslate server (URL, optional API key); requests split by its character and batch limits",
        _libretranslate_factory,
        _remote_probe("libretranslate"),
    )
)
register_engine(
    EngineSpec(
        "llm",
        "an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, hosted); tokens and cost",
        _llm_factory,
        _remote_probe("llm"),
    )
)

__all__ = [
    "Engine",
    "EngineError",
    "EngineNotReady",
    "EngineSpec",
    "ModelNotFound",
    "TranslationMissing",
    "UnknownEngine",
    "UnsupportedLanguagePair",
    "check_engine_name",
    "clear_engine_cache",
    "engine_names",
    "engine_specs",
    "get_engine",
    "register_engine",
]
