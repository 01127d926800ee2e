"""The `memory` engine: translations from the translation memory alone, misses are errors.

Deterministic and model-free: for tests with real German text and for sites that translate by
human-made memories only.
"""

from __future__ import annotations

from collections.abc import Sequence

from presseschau.config import Settings
from presseschau.store.db import Database
from presseschau.translate.engines.base import Engine, TranslationMissing
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine
from presseschau.translate.memory import TranslationMemory, normalize


class MemoryEngine:
    def __init__(self, database: Database, max_input_tokens: int = 100_000) -> None:
        self.name = "memory"
        self.model: str | None = None
        self.max_input_tokens = max_input_tokens
        # Glossary substitution would change the lookup key: the document translator checks terms only.
        self.substitute_terms = False
        self.database = database
        self._memories: dict[tuple[str, str], TranslationMemory] = {}

    def memory(self, source_language: str, target_language: str) -> TranslationMemory:
        key = (source_language, target_language)
        if key not in self._memories:
            self._memories[key] = TranslationMemory(self.database, source_language, target_language)
        return self._memories[key]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def is_ready(self) -> tuple[bool, str]:
        return True, "translates from the translation memory only (misses are reported as errors)"

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        memory = self.memory(source_language, target_language)
        found = memory.lookup(segments)
        partial: list[str | None] = []
        for segment in segments:
            hit = found.get(normalize(segment))
            if hit is None:
                pieces = memory.cover(segment)
                hit = " ".join(target for _, target in pieces) if pieces else None
            partial.append(hit)
        missing = [i for i, value in enumerate(partial) if value is None]
        if missing:
            example = segments[missing[0]][:80]
            raise TranslationMissing(
                f"{len(missing)} of {len(segments)} segments not in the {source_language}→{target_language} "
                f"translation memory (first: {example!r})",
                missing,
                partial,
            )
        return [value or "" for value in partial]


def _memory_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:

    def build() -> Engine:
        database = Database(settings)
        database.migrate()
        return MemoryEngine(database)

    return ("memory", settings.effective_database_url), build


register_engine(
    EngineSpec(
        "memory",
        "translation memory only; misses are errors (deterministic tests, human translations)",
        _memory_factory,
        lambda settings: (True, "always available"),
    )
)
