from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from presseschau.config import Settings
from presseschau.translate.engines import (
    Engine,
    EngineNotReady,
    EngineSpec,
    UnsupportedLanguagePair,
    clear_engine_cache,
    get_engine,
    register_engine,
)
from presseschau.translate.engines.ct2 import CT2Engine

from .conftest import FakeEngine


@pytest.fixture
def slow_engine_builds() -> Iterator[list[int]]:
    builds: list[int] = []

    def factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Callable[[], FakeEngine]]:
        def build() -> FakeEngine:
            builds.append(1)
            time.sleep(0.05)  # a model load takes time: a racing thread must wait, not build twice
            return FakeEngine(name="slow")

        return ("slow", model or ""), build

    register_engine(EngineSpec("slow", "test", factory, lambda settings: (True, "")))
    clear_engine_cache()
    yield builds
    clear_engine_cache()


def test_registry_builds_one_instance_per_key_across_threads(slow_engine_builds: list[int], tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(get_engine("slow", settings))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(slow_engine_builds) == 1 and all(r is results[0] for r in results)
    assert get_engine("slow", settings, "other-model") is not results[0]


def test_unknown_engine_is_not_ready(tmp_path: Path) -> None:
    with pytest.raises(EngineNotReady, match="unknown engine 'nosuch'"):
        get_engine("nosuch", Settings(data_dir=tmp_path))


def test_ct2_engine_protocol_and_language_check(tiny_model: Path) -> None:
    engine = CT2Engine(tiny_model, device="cpu", threads=1)
    assert isinstance(engine, Engine)
    assert engine.is_ready()[0] and engine.device == "cpu" and engine.compute_type == "int8"
    assert engine.max_input_tokens == 128
    assert engine.count_tokens("Hello world.") == len(engine.source_sp.encode("Hello world."))
    outputs = engine.translate_batch(["One.", "Two sentences here.", "Three."], "en", "de")
    assert len(outputs) == 3 and all(isinstance(o, str) for o in outputs)
    assert isinstance(engine.translate_retry("One.", "en", "de"), str)
    with pytest.raises(UnsupportedLanguagePair):
        engine.translate_batch(["Bonjour."], "fr", "de")
