"""The shared HTTP engine machinery: Retry-After, backoff with jitter, concurrency, circuit breaker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.store.models import Article
from presseschau.translate.engines import clear_engine_cache
from presseschau.translate.engines.http import (
    CircuitOpen,
    EngineRequestError,
    EngineUnavailable,
    HttpClient,
    HttpPolicy,
    retry_after_seconds,
)
from presseschau.translate.queue import translate_article

from .conftest import FakeEngine
from .fakes.article import add_article, translation_of
from .fakes.deepl import FakeDeepL
from .fakes.server import FakeServer, Fault, Request, running


class SlowEcho(FakeServer):
    """Answers after a pause and counts how many requests were in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.peak = 0
        self.count_lock = threading.Lock()

    def route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        with self.count_lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.05)
        with self.count_lock:
            self.in_flight -= 1
        return 200, {"ok": True}, {}


@pytest.fixture
def server() -> Iterator[FakeDeepL]:
    yield from running(FakeDeepL(api_key="k"))


def client(url: str, sleeps: list[float], **policy: Any) -> HttpClient:
    defaults: dict[str, Any] = {"timeout_s": 0.5, "max_retries": 3, "retry_base_s": 0.01, "retry_max_s": 60.0}
    return HttpClient(
        "test",
        url,
        HttpPolicy(**{**defaults, **policy}),
        headers={"Authorization": "DeepL-Auth-Key k"},
        sleep=sleeps.append,
    )


def test_retry_after_is_honored_in_seconds_and_as_a_date(server: FakeDeepL) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    server.inject(
        Fault(status=429, headers={"Retry-After": "7"}, path="/v2/usage"),
        Fault(status=503, headers={"Retry-After": when}, path="/v2/usage"),
    )
    sleeps: list[float] = []
    answer = client(server.url, sleeps).request("GET", "/v2/usage")
    assert answer["character_limit"] == 500_000
    assert sleeps[0] >= 7 and 25 <= sleeps[1] <= 31
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_backoff_is_exponential_with_jitter_and_capped(server: FakeDeepL) -> None:
    http = client(server.url, [], retry_base_s=1.0, retry_max_s=5.0)
    delays = [[http.backoff(attempt) for _ in range(200)] for attempt in range(5)]
    assert all(0 <= d <= min(5.0, 2**a) for a, row in enumerate(delays) for d in row)
    assert len({round(d, 3) for d in delays[2]}) > 50  # jittered, not one fixed delay
    assert max(delays[4]) > 4.0  # grows to the cap


def test_client_errors_are_not_retried(server: FakeDeepL) -> None:
    sleeps: list[float] = []
    with pytest.raises(EngineRequestError, match=r"request refused \(400\): Parameter 'text' not specified"):
        client(server.url, sleeps).request("POST", "/v2/translate", json_body={"target_lang": "DE"})
    assert sleeps == [] and len(server.calls("/v2/translate")) == 1


def test_circuit_opens_after_repeated_failures_and_closes_after_a_good_trial(server: FakeDeepL) -> None:
    http = client(server.url, [], max_retries=1, failure_threshold=2, reset_s=30.0)
    now = [1000.0]
    http.circuit.clock = lambda: now[0]
    server.inject(*[Fault(status=500, path="/v2/usage") for _ in range(4)])
    for _ in range(2):
        with pytest.raises(EngineUnavailable, match="HTTP 500"):
            http.request("GET", "/v2/usage")
    sent = len(server.requests)
    with pytest.raises(CircuitOpen, match="next try in 30 s"):
        http.request("GET", "/v2/usage")
    assert len(server.requests) == sent  # paused: no request at all
    now[0] += 31
    assert http.circuit.state == "half-open"
    assert http.request("GET", "/v2/usage")["character_count"] == 0
    assert http.circuit.state == "closed"


def test_concurrency_limit_per_engine() -> None:
    for server in running(SlowEcho()):
        http = client(server.url, [], concurrency=2)
        threads = [threading.Thread(target=http.request, args=("GET", "/x")) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert server.peak == 2


def test_failing_engine_goes_to_fallback_then_circuit_keeps_it_paused(
    data_dir: Path, server: FakeDeepL, registered_fake: FakeEngine
) -> None:
    clear_engine_cache()
    context = AppContext.for_data_dir(
        data_dir,
        engine="deepl",
        fallback_engine="fake",
        deepl_api_key="k",
        deepl_api_url=server.url,
        engine_max_retries=0,
        circuit_failure_threshold=1,
        circuit_reset_s=600,
    )
    try:
        server.inject(Fault(status=502, path="/v2/translate"))
        first = translation_of(context, _translated(context, 1))
        second = translation_of(context, _translated(context, 2))
    finally:
        context.close()
        clear_engine_cache()
    assert first.status == second.status == "done" and first.engine == second.engine == "fake"
    assert first.report["fallback_reason"].startswith("EngineUnavailable: deepl: HTTP 502")
    assert second.report["fallback_reason"].startswith("CircuitOpen: engine deepl paused")
    assert len(server.calls("/v2/translate")) == 1  # the second article did not touch DeepL


def _translated(context: AppContext, number: int) -> int:
    article_id = add_article(context, number=number)
    with context.database.session() as session:
        # Each article its own text: the second must need the engine, not the translation memory.
        article = session.get(Article, article_id)
        assert article is not None
        article.paragraphs = paragraphs_to_json([Paragraph("p", f"Report {number} said prices fell today.")])
    translate_article(context.database, context.settings, article_id)
    return article_id


def test_a_refused_request_in_the_half_open_trial_closes_the_circuit(server: FakeDeepL) -> None:
    # The service answered: the circuit must not stay stuck in its trial state.
    http = client(server.url, [], max_retries=0, failure_threshold=1, reset_s=10.0)
    now = [0.0]
    http.circuit.clock = lambda: now[0]
    server.inject(Fault(status=500, path="/v2/translate"))
    with pytest.raises(EngineUnavailable):
        http.request("POST", "/v2/translate", json_body={"text": ["a"], "target_lang": "DE"})
    now[0] += 11
    with pytest.raises(EngineRequestError):
        http.request("POST", "/v2/translate", json_body={"target_lang": "DE"})
    assert http.circuit.state == "closed"


def test_a_long_retry_after_is_honoured_beyond_the_backoff_cap(server: FakeDeepL) -> None:
    # The backoff cap (retry_max_s) limits our own jitter, not the wait the server asks for.
    server.inject(Fault(status=429, headers={"Retry-After": "120"}, path="/v2/usage"))
    sleeps: list[float] = []
    assert client(server.url, sleeps, retry_max_s=5.0).request("GET", "/v2/usage")["character_limit"] == 500_000
    assert len(sleeps) == 1 and sleeps[0] >= 120


def test_a_retry_after_beyond_the_hard_maximum_fails_at_once(server: FakeDeepL) -> None:
    server.inject(Fault(status=503, headers={"Retry-After": str(2 * 3600)}, path="/v2/usage"))
    sleeps: list[float] = []
    http = client(server.url, sleeps, failure_threshold=1)
    with pytest.raises(EngineUnavailable, match="service asks to wait 7200 s"):
        http.request("GET", "/v2/usage")
    assert sleeps == [] and len(server.calls("/v2/usage")) == 1  # no hammering, no sleeping for hours
    assert http.circuit.state == "open"


def _open_circuit(server: FakeDeepL, http: HttpClient, now: list[float]) -> None:
    server.inject(Fault(status=500, path="/v2/usage"))
    with pytest.raises(EngineUnavailable):
        http.request("GET", "/v2/usage")
    assert http.circuit.state == "open"
    now[0] += 11


def test_an_undecodable_answer_in_the_half_open_trial_reopens_the_circuit(server: FakeDeepL) -> None:
    http = client(server.url, [], max_retries=0, failure_threshold=1, reset_s=10.0)
    now = [0.0]
    http.circuit.clock = lambda: now[0]
    _open_circuit(server, http, now)
    # A body that claims gzip but is not: httpx raises DecodingError (neither timeout nor transport error).
    server.inject(Fault(status=200, headers={"Content-Encoding": "gzip"}, path="/v2/usage"))
    with pytest.raises(EngineUnavailable, match="unreadable answer"):
        http.request("GET", "/v2/usage")
    assert http.circuit.state == "open"  # counted as a failed trial, not left half-open forever
    now[0] += 11
    assert http.request("GET", "/v2/usage")["character_limit"] == 500_000
    assert http.circuit.state == "closed"


def test_an_unexpected_error_in_the_half_open_trial_does_not_wedge_the_circuit(server: FakeDeepL) -> None:
    http = client(server.url, [], max_retries=0, failure_threshold=1, reset_s=10.0)
    now = [0.0]
    http.circuit.clock = lambda: now[0]
    _open_circuit(server, http, now)
    real_request = http._client.request

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("transport bug")

    http._client.request = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="transport bug"):
        http.request("GET", "/v2/usage")
    http._client.request = real_request  # type: ignore[method-assign]
    assert http.circuit.state == "open"
    now[0] += 11
    assert http.request("GET", "/v2/usage")["character_limit"] == 500_000
