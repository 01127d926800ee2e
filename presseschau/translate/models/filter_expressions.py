"""Remote Settings filter expressions of Mozilla's model records, evaluated for one environment.

Mozilla publishes some models for one platform or channel only: its Remote Settings tooling writes
a record's `filter_expression` (a JEXL expression Firefox evaluates), and the published records
hold forms such as `env.appinfo.OS != 'Android' || env.channel != 'release'` (desktop release),
`env.appinfo.OS == 'Android'` and `env.channel == 'default' || env.channel == 'nightly'`. Treating
every record with a filter as unreleased found no model for such a pair, or an older one.

`evaluate` reads the subset those records use: the variables `env.channel` and `env.appinfo.OS`,
string literals, `==`, `!=`, `&&`, `||`, `!` and parentheses. Anything else raises
`UnreadableExpression`, and the caller treats the record as ineligible: a model must never be
installed on a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Platform = Literal["desktop", "android"]
PLATFORMS: tuple[Platform, ...] = ("desktop", "android")
_TOKEN_RE = re.compile(r"\s*(?:(\|\||&&|==|!=|!|\(|\))|'([^'\\]*)'|\"([^\"\\]*)\"|([A-Za-z_][A-Za-z0-9_.]*))")
MAX_EXPRESSION_LENGTH = 1000


class UnreadableExpression(ValueError):
    """The expression uses something this reader does not know; the message says what."""


@dataclass(frozen=True)
class Environment:
    """What Firefox would report: `env.channel` and `env.appinfo.OS`."""

    platform: Platform = "desktop"
    channel: str = "release"

    @property
    def variables(self) -> dict[str, str]:
        # A desktop OS: Mozilla's desktop filters only ever ask "not Android".
        return {"env.channel": self.channel, "env.appinfo.OS": "Android" if self.platform == "android" else "Linux"}


def _tokens(expression: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise UnreadableExpression(f"cannot read {text[position : position + 20]!r}")
        operator, single, double, name = match.groups()
        if operator is not None:
            tokens.append(("op", operator))
        elif name is not None:
            tokens.append(("name", name))
        else:
            tokens.append(("string", single if single is not None else double))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], variables: dict[str, str]) -> None:
        self.tokens = tokens
        self.variables = variables
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise UnreadableExpression("the expression ends too early")
        self.index += 1
        return token

    def expression(self) -> bool:
        value = self.conjunction()
        while self.peek() == ("op", "||"):
            self.take()
            value = self.conjunction() or value
        return value

    def conjunction(self) -> bool:
        value = self.unary()
        while self.peek() == ("op", "&&"):
            self.take()
            value = self.unary() and value
        return value

    def unary(self) -> bool:
        if self.peek() == ("op", "!"):
            self.take()
            return not self.unary()
        if self.peek() == ("op", "("):
            self.take()
            value = self.expression()
            if self.take() != ("op", ")"):
                raise UnreadableExpression("a parenthesis is not closed")
            return value
        left = self.operand()
        kind, operator = self.take()
        if kind != "op" or operator not in ("==", "!="):
            raise UnreadableExpression(f"expected == or != after a value, found {operator!r}")
        right = self.operand()
        return (left == right) == (operator == "==")

    def operand(self) -> str:
        kind, value = self.take()
        if kind == "string":
            return value
        if kind == "name" and value in self.variables:
            return self.variables[value]
        raise UnreadableExpression(f"unknown value {value!r}")


def evaluate(expression: str, environment: Environment) -> bool:
    """Whether a record with this `filter_expression` is meant for `environment` (empty: for all)."""
    if not expression.strip():
        return True
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise UnreadableExpression(f"longer than {MAX_EXPRESSION_LENGTH} characters")
    parser = _Parser(_tokens(expression), environment.variables)
    value = parser.expression()
    if parser.peek() is not None:
        raise UnreadableExpression(f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return value
