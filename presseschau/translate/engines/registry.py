"""Engine registry: one shared instance per (engine, model, device) and process.

Each engine module registers itself (`register_engine(EngineSpec(name, description, factory,
probe))` at its end); a factory gets the settings and the requested model and returns
`(cache_key, build)` so the registry can reuse an instance without building a second one.
`presseschau.translate.engines` imports the built-in engine modules, so they are registered
whenever the registry is used.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from presseschau.config import Settings
from presseschau.messages import CataloguedError, text
from presseschau.translate.engines.base import Engine
from presseschau.translate.errors import EngineError, EngineNotReady

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


def remote_probe(name: str) -> Callable[[Settings], tuple[bool, str]]:
    """The readiness check of an engine behind an HTTP API: built (not configured?) and asked."""

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
