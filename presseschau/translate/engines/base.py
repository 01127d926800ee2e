"""The engine protocol every translation backend implements, and the engine error hierarchy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from presseschau.messages import Text


class EngineError(Exception):
    """Something went wrong in a translation engine; subclasses say what."""

    @property
    def german(self) -> str:
        """The German text for the admin where presseschau words the problem itself (a catalogued
        message, see `EngineNotReady`); a remote service's own words stay as it sent them."""
        return str(self)


class EngineNotReady(EngineError):
    """The engine cannot translate now (no model installed, service unreachable, ...).

    Raised with a catalogued `Text` where presseschau words the problem (no model: the CLI gets the
    English advice with commands, the editor a German one without them)."""

    def __init__(self, message: str | Text = "", *args: object) -> None:
        self.text = message if isinstance(message, Text) else None
        super().__init__(message.english() if isinstance(message, Text) else message, *args)

    @property
    def german(self) -> str:
        return self.text.german() if self.text is not None else str(self)


class ModelNotFound(EngineError):
    """A model name or path given by the user is neither in the catalog, installed, nor a model directory."""


class UnsupportedLanguagePair(EngineError):
    """The engine or its model does not translate between the requested languages."""


class TranslationMissing(EngineError):
    """Some segments have no translation (the `memory` engine's misses).

    `partial` holds one entry per input segment: the translation, or None where it is missing,
    so a caller can keep what was found and report the rest.
    """

    def __init__(self, message: str, missing: Sequence[int], partial: Sequence[str | None]) -> None:
        super().__init__(message)
        self.missing = list(missing)
        self.partial = list(partial)


@runtime_checkable
class Engine(Protocol):
    """A machine translation backend: segments in, one translation per segment out, same order.

    Optional attributes the document translator uses when present:
    - `translate_retry(segment, source_language, target_language) -> str`: a differently decoded
      second attempt for a segment that failed the coverage check (default: the same call, alone);
    - `call_tokens: int`: tokens per `translate_batch` call for engines that batch internally;
    - `substitute_terms: bool`: False for engines that look the source up verbatim (memory), so
      glossary terms are checked and repaired but not substituted before the call;
    - `keep_order: bool`: True for engines that use earlier segments as context (LLMs), so segments
      are sent in document order instead of sorted by length;
    - `translate_html(segments, source_language, target_language) -> list[str]`: for engines that
      translate inline HTML and place its tags themselves (DeepL `tag_handling=html`,
      LibreTranslate `format=html`). Segments are escaped text with tags `<a id="m0">…</a>` (the
      tag's name, only a marker id); the answers are the same kind of fragment. Where the answer
      keeps every marker, the tags go where the engine put them; otherwise they are aligned;
    - `unescapes_html_answers: bool`: True for an HTML mode that unescapes its answers
      (LibreTranslate), so text with `<`, `>` or `&` is not sent to it as markup.
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
