"""The libretranslate engine against a loopback LibreTranslate server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.translate.engines import clear_engine_cache, engine_specs, get_engine
from presseschau.translate.engines.http import EngineRequestError, HttpClient, HttpPolicy
from presseschau.translate.engines.libretranslate import LibreTranslateEngine
from presseschau.translate.queue import translate_article

from .fakes.article import add_article, assert_complete_and_aligned, assert_not_published, translation_of
from .fakes.libretranslate import FakeLibreTranslate
from .fakes.server import Fault, fake_german, running

KEY = "libre-secret-key"


@pytest.fixture
def libre() -> Iterator[FakeLibreTranslate]:
    clear_engine_cache()
    yield from running(FakeLibreTranslate(char_limit=400, batch_limit=4, api_key=KEY))
    clear_engine_cache()


def settings_for(data_dir: Path, libre: FakeLibreTranslate, **overrides: Any) -> dict[str, Any]:
    return {
        "engine": "libretranslate",
        "libretranslate_url": libre.url,
        "libretranslate_api_key": KEY,
        "libretranslate_batch_limit": 4,
        "engine_timeout_s": 0.5,
        "engine_max_retries": 4,
        "engine_retry_base_s": 0.01,
        "engine_retry_max_s": 0.05,
        **overrides,
    }


@pytest.fixture
def ctx(data_dir: Path, libre: FakeLibreTranslate) -> Iterator[AppContext]:
    context = AppContext.for_data_dir(data_dir, **settings_for(data_dir, libre))
    yield context
    context.close()


def test_article_is_split_by_the_servers_char_and_batch_limits(ctx: AppContext, libre: FakeLibreTranslate) -> None:
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert outcome.complete, outcome.error
    assert_complete_and_aligned(translation)
    requests = libre.calls("/translate")
    # The fake refuses (400) any request over either limit, so every request respected both.
    assert len(requests) >= 11
    assert all(len(r.body["q"]) <= 4 and sum(map(len, r.body["q"])) <= 400 for r in requests)
    assert all(r.body["api_key"] == KEY for r in requests)
    # Sentences with a link go as HTML, the link a marker the server places; the rest as text.
    html_texts = [q for r in requests if r.body["format"] == "html" for q in r.body["q"]]
    assert len(html_texts) == 20 and all('<a id="m0">capital city</a>' in q for q in html_texts)
    assert all(r.body["format"] in ("text", "html") for r in requests)
    assert translation.report["markup_by_engine"] == 20 and translation.report["markup_approximate"] == 0
    assert translation.report["usage"]["libretranslate"]["requests"] == len(requests)


def test_long_sentences_are_split_below_the_char_limit(data_dir: Path, libre: FakeLibreTranslate) -> None:
    libre.char_limit = 120
    settings = Settings(data_dir=data_dir, **settings_for(data_dir, libre))
    engine = get_engine("libretranslate", settings)
    assert isinstance(engine, LibreTranslateEngine) and engine.max_input_tokens == 120
    long = "The market rose sharply today, and prices fell in the capital city, " * 3
    with pytest.raises(Exception, match="exceeds the server limit 120"):
        engine.translate_batch([long], "en", "de")
    assert not libre.calls("/translate")  # refused before sending


def test_recovers_from_429_5xx_timeouts_and_malformed_json(ctx: AppContext, libre: FakeLibreTranslate) -> None:
    libre.inject(
        Fault(
            status=429,
            headers={"Retry-After": "0"},
            body={"error": "Too many request limits violations"},
            path="/translate",
        ),
        Fault(status=502, body={"error": "Bad Gateway"}, path="/translate", skip=2),
        Fault(malformed=True, path="/translate", skip=1),
        Fault(delay_s=1.0, path="/translate"),
    )
    article_id = add_article(ctx)
    translate_article(ctx.database, ctx.settings, article_id)
    assert_complete_and_aligned(translation_of(ctx, article_id))
    assert not libre.faults


def test_server_down_mid_article_publishes_nothing(ctx: AppContext, libre: FakeLibreTranslate) -> None:
    libre.inject(
        *[Fault(status=500, body={"error": "boom"}, path="/translate", skip=3 if i == 0 else 0) for i in range(5)]
    )
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert_not_published(translation)
    assert outcome.error and outcome.error.startswith("EngineUnavailable") and "HTTP 500: boom" in outcome.error
    assert not translation.paragraphs


def test_wrong_key_is_an_auth_error_without_the_key(
    data_dir: Path, libre: FakeLibreTranslate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    libre.api_key = "another-key"
    context = AppContext.for_data_dir(data_dir, **settings_for(data_dir, libre))
    try:
        article_id = add_article(context)
        outcome = translate_article(context.database, context.settings, article_id)
    finally:
        context.close()
    assert outcome.error and outcome.error.startswith("EngineAuthError") and "Invalid API key" in outcome.error
    assert len(libre.calls("/translate")) == 1  # not retried
    assert KEY not in caplog.text and KEY not in outcome.error


def test_engines_listing(data_dir: Path, libre: FakeLibreTranslate) -> None:
    spec = next(s for s in engine_specs() if s.name == "libretranslate")
    ready, details = spec.probe(Settings(data_dir=data_dir, **settings_for(data_dir, libre)))
    assert ready and details == "configured; reachable; 400 characters per request; languages: de, en; no quota"
    libre.stop()
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, **settings_for(data_dir, libre)))
    assert not ready and details.startswith("configured; not reachable: libretranslate: connection failed")


def test_text_that_the_servers_unescaping_would_change_goes_as_escaped_html(
    data_dir: Path, libre: FakeLibreTranslate
) -> None:
    settings = Settings(data_dir=data_dir, **settings_for(data_dir, libre))
    engine = get_engine("libretranslate", settings)
    texts = ["Profits & losses at AT&T: 3 < 4.", "The &amp; sign and &copy stay as written.", "Prices fell."]
    assert engine.translate_batch(texts, "en", "de") == [fake_german(t) for t in texts]
    sent = {r.body["format"]: r.body["q"] for r in libre.calls("/translate")}
    # Plain text keeps the server's post-editing; only the text at risk goes as (escaped) HTML.
    assert sent == {"text": [texts[0], texts[2]], "html": ["The &amp;amp; sign and &amp;copy stay as written."]}


def test_the_fake_refuses_what_libretranslate_would_read_as_markup(libre: FakeLibreTranslate) -> None:
    http = HttpClient("t", libre.url, HttpPolicy(max_retries=0))
    body = {"source": "en", "target": "de", "api_key": KEY}
    for text in ("3 < 4", "Fish &copy chips"):
        with pytest.raises(EngineRequestError, match="unescaped markup"):
            http.request("POST", "/translate", json_body={**body, "q": [text], "format": "html"})
    with pytest.raises(EngineRequestError, match="md format is not supported"):
        http.request("POST", "/translate", json_body={**body, "q": ["a"], "format": "md"})
    # As text, the server's unescaping changes entity-like text: why the engine avoids that.
    assert http.request("POST", "/translate", json_body={**body, "q": ["&copy"], "format": "text"}) == {
        "translatedText": ["\u00a9"]
    }
