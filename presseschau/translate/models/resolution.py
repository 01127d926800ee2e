"""Which installed model an engine loads, pulling the default one when allowed.

`ct2_model_dir` and `firefox_model_dirs` resolve a model name (or the settings) to directories,
downloading the catalog's default model (or Mozilla's) on first use when `model_auto_pull` is on;
`ct2_readiness` and `firefox_readiness` say whether the engine could translate now without
loading anything.
"""

from __future__ import annotations

import logging
from pathlib import Path

from presseschau.config import Settings
from presseschau.messages import text
from presseschau.translate.errors import EngineNotReady, ModelNotFound
from presseschau.translate.models.catalog import (
    CATALOG,
    ModelInstallError,
    ModelStore,
    default_model_for,
    firefox_not_ready_message,
    model_format,
    not_ready_message,
)
from presseschau.translate.models.download import DownloadError
from presseschau.translate.models.firefox_records import (
    PIVOT_LANGUAGE,
    architecture_preference,
    model_name,
    parse_model_name,
)

log = logging.getLogger("presseschau.translate")


def ct2_model_dir(settings: Settings, model: str | None) -> Path:
    """The ct2 model to load: `model` or the configured one (pulled from the catalog when it is a
    catalog name not installed yet), else an installed model for the pair, else the pair's
    catalog default, pulled once."""
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


def ct2_readiness(settings: Settings) -> tuple[bool, str]:
    """Whether the ct2 engine can translate now (the configured or any installed model), and why."""
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


def installed_firefox_route(store: ModelStore, source: str, target: str) -> list[Path] | None:
    """Installed models for a pair: a direct one, else two through English."""
    by_pair: dict[tuple[str, str], Path] = {}
    for installed in store.installed("firefox"):
        for src in installed.meta.source_languages:
            for trg in installed.meta.target_languages:
                by_pair.setdefault((src, trg), installed.path)
    if (source, target) in by_pair:
        return [by_pair[source, target]]
    first, second = by_pair.get((source, PIVOT_LANGUAGE)), by_pair.get((PIVOT_LANGUAGE, target))
    return [first, second] if first and second else None


def firefox_model_dirs(settings: Settings, model: str | None) -> list[Path]:
    """The Firefox model(s) to load for the configured pair (two through English for a pivot):
    `model`, the configured model unless it names a ct2 model, the installed ones, else pulled
    from Mozilla's records once."""
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
    route = installed_firefox_route(store, source, target)
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


def firefox_readiness(settings: Settings) -> tuple[bool, str]:
    """Whether the firefox engine can translate the configured pair now (directly or through
    English with installed models), and why."""
    store = ModelStore.for_settings(settings)
    source, target = settings.source_language, settings.target_language
    installed = store.installed("firefox")
    names = ", ".join(
        f"{m.name} ({' '.join(p for p in (m.meta.architecture, m.meta.version) if p) or 'imported'})" for m in installed
    )
    route = installed_firefox_route(store, source, target)
    if route:
        via = " (through en)" if len(route) > 1 else ""
        return True, f"{source}→{target}{via} ready; models: {names}"
    pull = model_name(source, target)
    have = f"installed: {names}; " if names else "no model installed; "
    return False, f"{have}the first {source}→{target} translation pulls {pull} (or `presseschau models pull {pull}`)"
