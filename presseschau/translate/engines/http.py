"""Shared machinery of the engines behind an HTTP API (deepl, libretranslate, llm).

One `HttpClient` per engine instance (the registry shares instances per process) gives:
- timeouts, and retries with exponential backoff and full jitter on timeouts, connection errors,
  429, 5xx and malformed or undecodable answers; a `Retry-After` header (seconds or HTTP date) is
  a lower bound for the wait, honoured beyond `retry_max_s` up to `RETRY_AFTER_MAX_S`; a service
  that asks for a longer wait fails the call at once (`EngineUnavailable`) instead of being asked
  again;
- a concurrency limit: at most `engine_concurrency` requests of this engine in flight, however
  many worker threads translate at once;
- a circuit breaker: after `circuit_failure_threshold` calls that failed even after their
  retries, every call fails fast with `CircuitOpen` for `circuit_reset_s`; then one trial call
  is let through (half-open) and its outcome closes or re-opens the circuit; any exception in
  that call, expected or not, counts as its outcome, so the circuit cannot stay half-open;
- errors in the engine hierarchy: quota, auth and circuit problems are `EngineNotReady`
  subclasses, so the translate service switches to the fallback engine for them.

Secrets (API keys) are passed in `secrets` and replaced by `***` in every error message; they
travel in headers or request bodies, which are never logged.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from presseschau.backoff import Backoff
from presseschau.config import Settings
from presseschau.translate.engines.base import EngineError, EngineNotReady
from presseschau.translate.glossary import Glossary, glossary_for

log = logging.getLogger("presseschau.translate")

# The longest Retry-After waited for inside one call (a worker sleeps meanwhile); longer means
# the service is out for now, so the call fails and the fallback engine or a later run takes over.
RETRY_AFTER_MAX_S = 900.0


class QuotaExceeded(EngineNotReady):
    """The account's character or token quota is used up (DeepL 456, ...)."""


class CircuitOpen(EngineNotReady):
    """The engine failed repeatedly and is paused; calls fail fast until it is tried again."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        # When the circuit lets the next (trial) call through.
        self.retry_after_s = retry_after_s


class EngineAuthError(EngineNotReady):
    """The API rejected the credentials (401/403): a configuration problem, not retried."""


class EngineUnavailable(EngineNotReady):
    """The service kept failing (timeouts, 429, 5xx, malformed answers) through all retries."""


class EngineRequestError(EngineError):
    """The API refused the request itself (4xx other than the above): retrying will not help."""

    def __init__(self, message: str, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        # For engines that repair a refused request (DeepL: a glossary deleted remotely).
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class HttpPolicy:
    timeout_s: float = 60.0
    max_retries: int = 4
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0
    concurrency: int = 2
    failure_threshold: int = 5
    reset_s: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpPolicy:
        return cls(
            timeout_s=settings.engine_timeout_s,
            max_retries=settings.engine_max_retries,
            retry_base_s=settings.engine_retry_base_s,
            retry_max_s=settings.engine_retry_max_s,
            concurrency=max(1, settings.engine_concurrency),
            failure_threshold=max(1, settings.circuit_failure_threshold),
            reset_s=settings.circuit_reset_s,
        )


class CircuitBreaker:
    def __init__(self, name: str, threshold: int, reset_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.threshold = threshold
        self.reset_s = reset_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    def before_call(self) -> None:
        with self._lock:
            if self.opened_at is None:
                return
            waited = self.clock() - self.opened_at
            if waited < self.reset_s or self._trial:
                left = max(0.0, self.reset_s - waited)
                raise CircuitOpen(
                    f"engine {self.name} paused after {self.failures} failed calls; next try in {left:.0f} s", left
                )
            self._trial = True  # half-open: exactly one call probes whether the service is back

    def success(self) -> None:
        with self._lock:
            if self.opened_at is not None:
                log.info("engine %s: circuit closed, service is back", self.name)
            self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._trial or self.failures >= self.threshold:
                if self.opened_at is None or self._trial:
                    log.warning(
                        "engine %s: circuit open for %.0f s after %d failures", self.name, self.reset_s, self.failures
                    )
                self.opened_at, self._trial = self.clock(), False

    @property
    def state(self) -> str:
        with self._lock:
            if self.opened_at is None:
                return "closed"
            return "half-open" if self.clock() - self.opened_at >= self.reset_s else "open"


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


class HttpClient:
    """JSON over HTTP with the retry, concurrency and circuit-breaker policy above."""

    def __init__(
        self,
        name: str,
        base_url: str,
        policy: HttpPolicy,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str | None] = (),
        quota_statuses: Sequence[int] = (),
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.policy = policy
        self.secrets = [s for s in secrets if s]
        self.quota_statuses = set(quota_statuses)
        self.sleep = sleep
        self.circuit = CircuitBreaker(name, policy.failure_threshold, policy.reset_s)
        self._slots = threading.BoundedSemaphore(policy.concurrency)
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            timeout=httpx.Timeout(policy.timeout_s, connect=min(10.0, policy.timeout_s)),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        # Full jitter spreads the retries of many workers; Retry-After is the server's minimum, and
        # `retry_max_s` caps only our own backoff: asking again sooner than told would be refused.
        delay = Backoff(self.policy.retry_base_s, self.policy.retry_max_s).full_jitter_s(attempt + 1)
        if retry_after is not None:
            delay = max(delay, min(retry_after, RETRY_AFTER_MAX_S))
        return delay

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        retries: int | None = None,
        expect_json: bool = True,
    ) -> Any:
        """The parsed JSON answer (or None for an empty 2xx when `expect_json` is False)."""
        self.circuit.before_call()
        settled = False
        try:
            answer = self._attempts(method, path, json_body, data, params, retries, expect_json)
            settled = True
            return answer
        except EngineError:
            settled = True  # `_attempts` recorded the outcome (success or failure) before raising
            raise
        finally:
            if not settled:
                # Anything else (a bug, an interrupt) still ends a half-open trial: a failure.
                self.circuit.failure()

    def _attempts(
        self,
        method: str,
        path: str,
        json_body: Any,
        data: Mapping[str, Any] | None,
        params: Mapping[str, Any] | None,
        retries: int | None,
        expect_json: bool,
    ) -> Any:
        retries = self.policy.max_retries if retries is None else retries
        problem = "no attempt"
        for attempt in range(retries + 1):
            retry_after: float | None = None
            try:
                with self._slots:
                    response = self._client.request(method, path, json=json_body, data=data, params=params)
            except httpx.TimeoutException:
                problem = f"timeout after {self.policy.timeout_s:g} s"
            except httpx.TransportError as error:
                problem = f"connection failed: {type(error).__name__}: {self.redact(str(error))}"
            except httpx.RequestError as error:
                # Undecodable body (bad gzip), too many redirects ...: a broken answer, like malformed JSON.
                problem = f"unreadable answer: {type(error).__name__}: {self.redact(str(error))}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    if not expect_json and not response.content.strip():
                        self.circuit.success()
                        return None
                    try:
                        answer = response.json()
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        problem = f"malformed JSON in a {status} answer"
                    else:
                        self.circuit.success()
                        return answer
                elif status == 429 or status >= 500:
                    problem = f"HTTP {status}: {self._detail(response)}"
                    retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > RETRY_AFTER_MAX_S:
                        self.circuit.failure()
                        raise EngineUnavailable(f"{self.name}: service asks to wait {retry_after:.0f} s ({problem})")
                else:
                    # The service answered (it is up), so the circuit closes, half-open trial included;
                    # these errors are about the account or the request: not retried.
                    self.circuit.success()
                    detail = self._detail(response)
                    text = f"({status}): {detail}"
                    if status in self.quota_statuses:
                        raise QuotaExceeded(f"{self.name}: quota exceeded {text}")
                    if status in (401, 403):
                        raise EngineAuthError(f"{self.name}: credentials rejected {text}")
                    raise EngineRequestError(f"{self.name}: request refused {text}", status, detail)
            if attempt < retries:
                delay = self.backoff(attempt, retry_after)
                log.info("engine %s: %s; retry %d/%d in %.1f s", self.name, problem, attempt + 1, retries, delay)
                self.sleep(delay)
        self.circuit.failure()
        raise EngineUnavailable(f"{self.name}: {problem} (after {retries + 1} attempts)")

    def _detail(self, response: httpx.Response) -> str:
        text = response.text[:300]
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            for key in ("message", "error", "detail"):
                value = data.get(key)
                if isinstance(value, dict):
                    value = value.get("message")
                if isinstance(value, str) and value:
                    text = value
                    break
        return self.redact(" ".join(text.split())) or response.reason_phrase


def request_batches(texts: Sequence[str], max_texts: int, max_chars: int | None) -> list[list[str]]:
    """`texts` in order, cut into requests of at most `max_texts` texts and `max_chars` characters
    (None: no character limit); a single text longer than `max_chars` goes alone."""
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for text in texts:
        over = max_chars is not None and size + len(text) > max_chars
        if current and (len(current) >= max_texts or over):
            batches.append(current)
            current, size = [], 0
        current.append(text)
        size += len(text)
    if current:
        batches.append(current)
    return batches


def probe_text(configured: bool, reachable: bool | None, details: str) -> tuple[bool, str]:
    """The `presseschau engines` line: configured, reachable, quota left."""
    if not configured:
        return False, f"not configured: {details}"
    if not reachable:
        return False, f"configured; not reachable: {details}"
    return True, f"configured; reachable; {details}"


def glossary_with_digest(settings: Settings) -> tuple[Glossary | None, str]:
    """The configured glossary and a digest of it: a changed glossary gives a new engine instance."""
    glossary = glossary_for(settings)
    if glossary is None:
        return None, ""
    entries = "\n".join(f"{t.source}\t{t.target}\t{t.case_sensitive}" for t in glossary.terms)
    return glossary, hashlib.sha256(entries.encode()).hexdigest()[:16]


def secret_digest(secret: str | None) -> str:
    # Cache keys are plain tuples that may end up in debug output: never the key itself.
    return hashlib.sha256(secret.encode()).hexdigest()[:12] if secret else ""
