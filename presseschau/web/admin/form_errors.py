"""A refused admin form value and where a form shows it: next to the field it is about."""

from __future__ import annotations

from typing import Protocol


class FieldError(ValueError):
    """A refused form value: the message is shown next to the form field `field` (None: the form as
    a whole), with the form re-rendered as it was typed."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def german(self) -> str:
        return str(self)  # worded in German where it is raised


class Worded(Protocol):
    """An error a form can show: its German text (`presseschau.messages.CataloguedError`,
    `FieldError`, `ReviewError`)."""

    @property
    def german(self) -> str: ...


def field_errors(error: Worded, field: str | None = None) -> dict[str, str]:
    """The `errors` a form template shows for `error`: its German message under the name of the
    form field it is about (`field` when given, else the error's own `field`, as `FieldError`,
    `Refused` and `ReviewError` carry one); "" is the form as a whole."""
    name = field if field is not None else getattr(error, "field", None)
    return {name if isinstance(name, str) else "": error.german}
