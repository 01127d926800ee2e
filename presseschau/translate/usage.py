"""Billable engine usage (characters, tokens, cost) per article and per month.

Engines report what each API call cost with `record(...)`; the translate service opens a
`metering()` scope around one article, so the numbers land in that article's
`Translation.report["usage"]`, and adds them to a monthly `ServiceState` row
(`usage <engine> <YYYY-MM>`) that `presseschau status` shows.

The scope is a context variable: concurrent articles in different threads each see their own
meter, and calls outside any scope (the `engines` probe) are simply not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.store.models import ServiceState, utcnow

FIELDS = ("requests", "characters", "input_tokens", "output_tokens", "cost")


@dataclass
class Usage:
    requests: int = 0
    characters: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.characters += other.characters
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost += other.cost

    def to_json(self) -> dict[str, Any]:
        # Only what the engine bills by: DeepL counts characters, LLMs count tokens.
        data: dict[str, Any] = {"requests": self.requests}
        if self.characters:
            data["characters"] = self.characters
        if self.input_tokens or self.output_tokens:
            data["input_tokens"] = self.input_tokens
            data["output_tokens"] = self.output_tokens
        if self.cost:
            data["cost"] = round(self.cost, 6)
        return data


@dataclass
class Meter:
    by_engine: dict[str, Usage] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {name: usage.to_json() for name, usage in sorted(self.by_engine.items())}


_CURRENT: ContextVar[Meter | None] = ContextVar("presseschau_usage_meter", default=None)


@contextmanager
def metering() -> Iterator[Meter]:
    meter = Meter()
    token = _CURRENT.set(meter)
    try:
        yield meter
    finally:
        _CURRENT.reset(token)


def record(
    engine: str,
    characters: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cost: float = 0.0,
) -> None:
    """Count one API call of `engine` in the current metering scope (if any)."""
    meter = _CURRENT.get()
    if meter is None:
        return
    usage = meter.by_engine.setdefault(engine, Usage())
    usage.add(Usage(1, characters, input_tokens, output_tokens, cost))


def month_key(engine: str, when: datetime | None = None) -> str:
    return f"usage {engine} {(when or utcnow()).strftime('%Y-%m')}"


def add_monthly(session: Session, meter: Meter, when: datetime | None = None) -> None:
    """Add one article's usage to the monthly totals (`articles` counts articles that used the engine)."""
    for engine, usage in meter.by_engine.items():
        key = month_key(engine, when)
        # FOR UPDATE: two workers finishing at once must not lose each other's increments (PostgreSQL).
        row = session.scalars(select(ServiceState).where(ServiceState.key == key).with_for_update()).one_or_none()
        if row is None:
            row = ServiceState(key=key, value={})
            session.add(row)
        totals = dict(row.value or {})
        totals["articles"] = int(totals.get("articles", 0)) + 1
        for name, value in usage.to_json().items():
            totals[name] = round(totals.get(name, 0) + value, 6) if name == "cost" else totals.get(name, 0) + value
        row.value = totals


def monthly(session: Session, month: str | None = None) -> dict[str, dict[str, Any]]:
    """Usage totals per engine for `month` (YYYY-MM, default: this month)."""
    month = month or utcnow().strftime("%Y-%m")
    result: dict[str, dict[str, Any]] = {}
    for row in session.scalars(select(ServiceState).where(ServiceState.key.like("usage %"))):
        _, engine, row_month = row.key.split(" ", 2)
        if row_month == month:
            result[engine] = dict(row.value or {})
    return result
