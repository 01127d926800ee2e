"""Why the translation queue waits: per-engine pauses and a broken glossary, kept in `service_state`.

An engine that cannot run (quota used up, circuit open, service down through all retries, no
model, bad credentials) pauses the whole queue for that engine with a growing wait; a glossary
that does not load stops the queue until it is fixed. `presseschau status` shows both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from presseschau.backoff import Backoff
from presseschau.config import Settings
from presseschau.store.db import Database
from presseschau.store.models import ServiceState, utcnow
from presseschau.translate.engines import EngineError, EngineNotReady
from presseschau.translate.engines.base import ModelNotFound
from presseschau.translate.glossary import GlossaryError, glossary_for

log = logging.getLogger("presseschau.translate")

# service_state keys "pause:<engine>" and "pause:glossary": why the queue waits, and until when.
PAUSE_PREFIX = "pause:"
GLOSSARY_PAUSE = "glossary"
# Pauses grow from `backoff_base_s` but stay short enough that a fixed cause (a model installed,
# a quota renewed) is noticed within the hour.
PAUSE_MAX_S = 3600.0


@dataclass(frozen=True)
class Pause:
    """The queue waits for `subject` (an engine name, or "glossary") until `until` (None: until fixed)."""

    subject: str
    reason: str
    since: datetime
    until: datetime | None
    count: int = 1

    def active(self, now: datetime) -> bool:
        return self.until is None or self.until > now

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "reason": self.reason,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "count": self.count,
        }

    @classmethod
    def from_json(cls, subject: str, value: dict[str, Any]) -> Pause:
        until = value.get("until")
        return cls(
            subject=subject,
            reason=str(value.get("reason") or ""),
            since=datetime.fromisoformat(value["since"]) if value.get("since") else utcnow(),
            until=datetime.fromisoformat(until) if until else None,
            count=int(value.get("count") or 1),
        )


def load_pauses(session: Session) -> dict[str, Pause]:
    """Every recorded pause by subject (expired ones too: the next success clears them)."""
    rows = session.scalars(select(ServiceState).where(ServiceState.key.startswith(PAUSE_PREFIX)))
    return {row.key[len(PAUSE_PREFIX) :]: Pause.from_json(row.key[len(PAUSE_PREFIX) :], row.value) for row in rows}


def save_pause(database: Database, pause: Pause) -> None:
    key = PAUSE_PREFIX + pause.subject
    for _ in range(2):  # two workers may insert the same key at once; the loser updates instead
        try:
            with database.session() as session:
                row = session.get(ServiceState, key)
                if row is None:
                    session.add(ServiceState(key=key, value=pause.to_json()))
                else:
                    row.value = pause.to_json()
            return
        except IntegrityError:
            continue


def clear_pause(database: Database, subject: str) -> None:
    with database.session() as session:
        session.execute(delete(ServiceState).where(ServiceState.key == PAUSE_PREFIX + subject))
    log.info("%s works again: the translation queue goes on", subject)


def engine_cannot_run(failure: EngineError) -> bool:
    """Quota used up, circuit open, service down through all retries, no model, bad credentials:
    no article could be translated with this engine now, so none is to blame."""
    return isinstance(failure, EngineNotReady | ModelNotFound)


def pause_for(
    settings: Settings, subject: str, reason: str, previous: Pause | None, engine_wait_s: float | None = None
) -> Pause:
    """The next pause of `subject`; `engine_wait_s` is the engine's own wait (an open circuit's)."""
    count = previous.count + 1 if previous is not None else 1
    seconds = Backoff(settings.backoff_base_s, min(settings.backoff_max_s, PAUSE_MAX_S)).delay(count).total_seconds()
    if engine_wait_s is not None:
        seconds = max(seconds, engine_wait_s)
    now = utcnow()
    since = previous.since if previous is not None else now
    # At least a second, so a zero backoff (tests) cannot make the worker spin.
    return Pause(subject, reason, since, now + timedelta(seconds=max(1.0, seconds)), count)


_last_config_error: str | None = None


def check_glossary(database: Database, settings: Settings, pauses: dict[str, Pause]) -> str | None:
    """None when the configured glossary loads; else the error, recorded once for `status`.

    A broken glossary is a configuration error: every article would fail the same way, so the
    run stops before claiming anything instead of burning every article's attempts.
    """
    global _last_config_error
    try:
        glossary_for(settings)
    except GlossaryError as error:
        message = f"GlossaryError: {error}"
        if message != _last_config_error:
            log.error("translation stopped: %s (fix the file or glossary_path)", message)
            _last_config_error = message
        known = pauses.get(GLOSSARY_PAUSE)
        if known is None or known.reason != message:
            save_pause(database, Pause(GLOSSARY_PAUSE, message, utcnow(), None))
        return message
    _last_config_error = None
    if GLOSSARY_PAUSE in pauses:
        clear_pause(database, GLOSSARY_PAUSE)
    return None
