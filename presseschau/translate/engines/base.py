"""The engine protocol every translation backend implements, its optional capabilities (each a
protocol of its own), and the engine errors (defined in `presseschau.translate.errors`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from presseschau.translate.errors import (
    EngineError,
    EngineNotReady,
    ModelNotFound,
    TranslationMissing,
    UnsupportedLanguagePair,
)

__all__ = [
    "BatchesInternally",
    "DeclaresTermSubstitution",
    "Engine",
    "EngineError",
    "EngineNotReady",
    "KeepsOrder",
    "ModelNotFound",
    "Pivots",
    "RetriesDifferently",
    "TranslatesHtml",
    "TranslationMissing",
    "UnescapesHtmlAnswers",
    "UnsupportedLanguagePair",
]


@runtime_checkable
class Engine(Protocol):
    """A machine translation backend: segments in, one translation per segment out, same order.

    Optional capabilities are protocols of their own (below); the document translator checks
    them with `isinstance`.
    """

    name: str
    # Model name/version, for attribution and the translation memory (None: engine has no model).
    model: str | None
    # The most tokens (as counted by `count_tokens`) one segment may have; longer input is split
    # by the document translator, so an engine never has to cut text.
    max_input_tokens: int

    def count_tokens(self, text: str) -> int: ...

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]: ...

    def is_ready(self) -> tuple[bool, str]: ...


# Optional capabilities ---------------------------------------------------------------------------
# Each is `runtime_checkable`: the document translator asks `isinstance(engine, Capability)`. An
# engine has one by having its member (a method or an attribute), without naming the protocol.


@runtime_checkable
class RetriesDifferently(Protocol):
    """`translate_retry`: a differently decoded second attempt for a segment that failed the
    coverage check (without it: the same call again, alone)."""

    def translate_retry(self, segment: str, source_language: str, target_language: str) -> str: ...


@runtime_checkable
class BatchesInternally(Protocol):
    """`call_tokens`: tokens per `translate_batch` call for engines that sort and batch a call
    themselves (ct2) or bill per request (DeepL); without it, 2,048."""

    call_tokens: int


@runtime_checkable
class DeclaresTermSubstitution(Protocol):
    """`substitute_terms` False: the engine looks the source up verbatim (memory) or is told the
    terms itself (an LLM, DeepL's glossary), so glossary terms are checked and repaired but not
    substituted before the call; without it, they are substituted."""

    substitute_terms: bool


@runtime_checkable
class KeepsOrder(Protocol):
    """`keep_order` True: the engine uses earlier segments as context (LLMs), so segments are sent
    in document order instead of sorted by length."""

    keep_order: bool


@runtime_checkable
class TranslatesHtml(Protocol):
    """`translate_html`: the engine translates inline HTML and places its tags itself (DeepL
    `tag_handling=html`, LibreTranslate `format=html`). Segments are escaped text with tags
    `<a id="m0">…</a>` (the tag's name, only a marker id); the answers are the same kind of
    fragment. Where the answer keeps every marker, the tags go where the engine put them;
    otherwise they are aligned."""

    def translate_html(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]: ...


@runtime_checkable
class UnescapesHtmlAnswers(Protocol):
    """`unescapes_html_answers` True: the engine's HTML mode unescapes its answers (LibreTranslate),
    so text with `<`, `>` or `&` is not sent to it as markup."""

    unescapes_html_answers: bool


@runtime_checkable
class Pivots(Protocol):
    """`pivot`: the language a chained engine translates through (Firefox models via English),
    None when it translates directly; recorded in the translation report."""

    pivot: str | None
