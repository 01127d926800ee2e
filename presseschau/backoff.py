"""The one exponential backoff: base · 2^(attempt − 1), capped, jittered.

Used for schedules kept in the database (a failed translation's `next_attempt_at`, a failing
source's `next_poll_at`, an engine's pause, a failed feed item's next fetch) and for the HTTP
engines' retries inside one call. The Celery tasks use Celery's own `retry_backoff`, the same
formula, since Celery schedules their retries.

Why no retry library (tenacity, stamina): they wrap a call and sleep between its attempts. Most
waits here are not sleeps but times written to a row, for whichever worker or process comes next;
the one in-process loop (`HttpClient`) decides per answer (Retry-After, quota, refusal) and feeds
its circuit breaker, so the library would be one more layer around the same two lines.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    base_s: float = 60.0
    max_s: float = 6 * 3600.0

    def seconds(self, attempt: int) -> float:
        """The wait after the `attempt`-th failure (counted from 1), without jitter."""
        return min(self.max_s, self.base_s * 2.0 ** max(0, attempt - 1))

    def delay(self, attempt: int) -> timedelta:
        """`seconds(attempt)` with ±10 % jitter, so items that failed together don't retry in lockstep."""
        return timedelta(seconds=self.seconds(attempt) * random.uniform(0.9, 1.1))

    def full_jitter_s(self, attempt: int) -> float:
        """Anywhere from 0 to `seconds(attempt)`: spreads the retries of many workers hitting one
        service ("full jitter")."""
        return random.uniform(0.0, self.seconds(attempt))
