"""The translate stage's error hierarchy: what went wrong in an engine or with its model.

Below both the engines and model management (`translate/models/`), which raise them alike.
"""

from __future__ import annotations

from collections.abc import Sequence

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
