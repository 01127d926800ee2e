"""Translation engines: the registry (`registry`), the protocol and its optional capabilities
(`base`), and the built-in engines, each registering itself when its module is imported:
local models (`ct2`, `firefox`), the translation memory (`memory`), and services behind an HTTP
API (`deepl`, `libretranslate`, `llm`, on the shared client in `http`).

Importing this package imports the built-in engine modules, so `engine_names()` and
`get_engine()` know them all; the heavy model libraries load only when an engine is built.
"""

from __future__ import annotations

# Each module registers its engine on import (the names are unused here on purpose).
from presseschau.translate.engines import ct2, deepl, firefox, libretranslate, llm, memory  # noqa: F401
from presseschau.translate.engines.base import (
    Engine,
    EngineError,
    EngineNotReady,
    ModelNotFound,
    TranslationMissing,
    UnsupportedLanguagePair,
)
from presseschau.translate.engines.registry import (
    EngineSpec,
    UnknownEngine,
    check_engine_name,
    clear_engine_cache,
    engine_names,
    engine_specs,
    get_engine,
    register_engine,
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
