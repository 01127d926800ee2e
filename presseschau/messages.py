"""The catalogue of user-facing messages: one code per message, English for the CLI and the logs,
German for the web (admin pages, public error pages, API answers).

A message is raised or returned as a `Text`: its code and its parameters. `Text.english()` and
`Text.german()` fill the catalogue's templates (`str.format` fields named like the parameters); a
parameter that is itself a `Text` is rendered in the same language (a field name inside a sentence),
a list or tuple is joined with commas. Every code has both texts with the same placeholders: the
test `tests/test_messages.py` walks the catalogue.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "de"]


@dataclass(frozen=True)
class Message:
    english: str
    german: str


CATALOGUE: dict[str, Message] = {
    # Articles -------------------------------------------------------------------------------------
    "article_not_found": Message("article {article_id}: no such article", "Artikel {article_id} gibt es nicht."),
    "article_not_fetched": Message(
        "article {article_id} has no paragraphs (not fetched yet?)",
        "Artikel {article_id} hat noch keinen Text (noch nicht abgerufen?).",
    ),
}


def placeholders(template: str) -> set[str]:
    """The names of a template's `{fields}`."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Text:
    """A catalogued message with its values; `english()` and `german()` render it."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        message = CATALOGUE.get(self.code)
        if message is None:
            raise KeyError(f"message code {self.code!r} is not in presseschau.messages.CATALOGUE")
        missing = placeholders(message.english) - set(self.params)
        if missing:
            raise KeyError(f"message {self.code!r} needs {', '.join(sorted(missing))}")

    def render(self, language: Language) -> str:
        message = CATALOGUE[self.code]
        template = message.german if language == "de" else message.english
        return template.format(**{name: render_value(value, language) for name, value in self.params.items()})

    def english(self) -> str:
        return self.render("en")

    def german(self) -> str:
        return self.render("de")

    def to_json(self) -> dict[str, object]:
        """`{"code": …, "params": …}` for API answers (nested texts as their own code and params)."""
        return {"code": self.code, "params": {name: json_value(value) for name, value in self.params.items()}}


def text(code: str, **params: object) -> Text:
    return Text(code, params)


def render_value(value: object, language: Language) -> str:
    if isinstance(value, Text):
        return value.render(language)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(render_value(item, language) for item in value)
    return str(value)


def json_value(value: object) -> object:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, list | tuple | frozenset | set):
        return [json_value(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class CataloguedError(Exception):
    """An error a person reads: a catalogued `Text`. `str(error)` is the English text (CLI, logs),
    `error.german` the web's; `code` and `params` go into API answers."""

    def __init__(self, message: Text) -> None:
        super().__init__(message.english())
        self.text = message

    @property
    def code(self) -> str:
        return self.text.code

    @property
    def params(self) -> Mapping[str, object]:
        return self.text.params

    @property
    def german(self) -> str:
        return self.text.german()
