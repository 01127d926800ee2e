"""Fixtures for the translate stage: fake engines with call counters, the tiny CTranslate2 model."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from presseschau.config import Settings
from presseschau.translate.engines import EngineSpec, clear_engine_cache, register_engine

from .fakes.deepl import FakeDeepL
from .fakes.server import fake_german, running

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models"
TINY_MODEL = FIXTURES / "tiny-en-de"
TINY_RELEASE = FIXTURES / "tiny-en-de-opus-mt.zip"

_TOKEN = re.compile(r"\w+|[^\w\s]+")

# The fake engine and the fake HTTP servers translate alike (one small dictionary).
fake_translate = fake_german


class FakeEngine:
    """A deterministic engine that records every call; `drop(segment, attempt)` -> True drops output."""

    def __init__(
        self,
        max_input_tokens: int = 1000,
        drop: Callable[[str, int], bool] | None = None,
        name: str = "fake",
    ) -> None:
        self.name = name
        self.model: str | None = "fake-1"
        self.max_input_tokens = max_input_tokens
        self.drop = drop
        self.calls: list[list[str]] = []
        self.attempts: dict[str, int] = {}

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def is_ready(self) -> tuple[bool, str]:
        return True, "fake"

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        self.calls.append(list(segments))
        outputs = []
        for segment in segments:
            assert self.count_tokens(segment) <= self.max_input_tokens, "engine got a segment over its limit"
            attempt = self.attempts.get(segment, 0) + 1
            self.attempts[segment] = attempt
            outputs.append("" if self.drop and self.drop(segment, attempt) else fake_translate(segment))
        return outputs

    @property
    def segments_sent(self) -> int:
        return sum(len(c) for c in self.calls)


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def registered_fake() -> Iterator[FakeEngine]:
    """A FakeEngine available through the registry as engine "fake"."""
    engine = FakeEngine()

    def factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Callable[[], FakeEngine]]:
        return ("fake",), lambda: engine

    register_engine(EngineSpec("fake", "test engine", factory, lambda settings: (True, "test")))
    clear_engine_cache()
    yield engine
    clear_engine_cache()


@pytest.fixture
def tiny_model() -> Path:
    if not (TINY_MODEL / "model.bin").is_file():
        pytest.fail(f"{TINY_MODEL} missing: run scripts/make_tiny_model.py")
    return TINY_MODEL


# A loopback DeepL (tests/translate/fakes/deepl.py) for the engine's and the queue's tests.
DEEPL_KEY = "deepl-secret-key:fx"


@pytest.fixture
def deepl() -> Iterator[FakeDeepL]:
    clear_engine_cache()
    yield from running(FakeDeepL(api_key=DEEPL_KEY))
    clear_engine_cache()
