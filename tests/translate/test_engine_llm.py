"""The llm engine against a loopback OpenAI-compatible chat-completions server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.translate.engines import clear_engine_cache, engine_specs, get_engine
from presseschau.translate.engines.llm import LLMEngine, parse_blocks
from presseschau.translate.service import translate_article

from .fakes.article import add_article, assert_complete_and_aligned, assert_not_published, translation_of
from .fakes.openai import FakeOpenAI
from .fakes.server import Fault, fake_german, running

KEY = "sk-llm-secret-key"


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    clear_engine_cache()
    yield from running(FakeOpenAI(model="fake-llm", api_key=KEY))
    clear_engine_cache()


def options(llm: FakeOpenAI, **overrides: object) -> dict[str, object]:
    return {
        "engine": "llm",
        "llm_base_url": llm.url + "/v1",
        "llm_api_key": KEY,
        "llm_model": "fake-llm",
        "llm_context_tokens": 2048,
        "llm_price_per_1k_input": 0.5,
        "llm_price_per_1k_output": 1.5,
        "engine_timeout_s": 0.5,
        "engine_max_retries": 4,
        "engine_retry_base_s": 0.01,
        "engine_retry_max_s": 0.05,
        **overrides,
    }


@pytest.fixture
def ctx(data_dir: Path, llm: FakeOpenAI) -> Iterator[AppContext]:
    context = AppContext.for_data_dir(data_dir, **options(llm))
    yield context
    context.close()


# Strict parsing -----------------------------------------------------------------------------------


def test_parse_accepts_exact_blocks_only() -> None:
    parsed = parse_blocks("```\n[1] Eins.\n[2] Zwei\nzweite Zeile.\n[3] Drei.\n```", 3)
    assert parsed.blocks == {1: "Eins.", 2: "Zwei zweite Zeile.", 3: "Drei."} and not parsed.suspect
    missing = parse_blocks("[1] Eins.\n[3] Drei.", 4)
    assert missing.suspect == {1, 2, 3, 4}  # 2 and 4 missing; their neighbours may hold them merged
    repeated = parse_blocks("[1] Eins.\n[1] Eins.\n[2] Zwei.", 2)
    assert repeated.suspect == {1}
    extra = parse_blocks("[1] Eins.\n[2] Zwei.\n[3] Drei.", 2)
    assert extra.suspect == {1, 2} and "extra block [3]" in extra.problems
    assert parse_blocks("Hier ist die Übersetzung:\n[1] Eins.", 1).problems == ["text before the first block"]
    assert parse_blocks("", 2).suspect == {1, 2}


# Articles through the fake server -----------------------------------------------------------------


def test_dropped_and_merged_blocks_are_retried_alone(ctx: AppContext, llm: FakeOpenAI) -> None:
    llm.block_faults.extend([("drop", 3), ("merge", 2)])
    article_id = add_article(ctx)
    outcome = translate_article(ctx, article_id)
    translation = translation_of(ctx, article_id)
    assert outcome.complete, outcome.error
    assert_complete_and_aligned(translation)
    assert not llm.block_faults
    singles = [p for p in llm.prompts if p.count("\n[") == 1 and "[1] " in p]
    assert len(singles) >= 4  # the dropped block, the merged pair, and the dropped block's neighbours


def test_context_window_sizes_requests_and_prompt_carries_glossary_and_context(data_dir: Path, llm: FakeOpenAI) -> None:
    glossary = data_dir / "glossary.tsv"
    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")
    settings = Settings(data_dir=data_dir, glossary_path=glossary, **options(llm, llm_context_tokens=1024))  # type: ignore[arg-type]
    engine = get_engine("llm", settings)
    assert isinstance(engine, LLMEngine) and not engine.substitute_terms
    segments = [f"Report {n} said the troops moved toward Kyiv today." for n in range(30)]
    assert engine.translate_batch(segments, "en", "de") == [fake_german(s) for s in segments]
    assert len(llm.prompts) > 1  # one context window does not hold 30 blocks
    for prompt in llm.prompts:
        blocks = prompt.split("Blocks:", 1)[1]
        assert engine.count_tokens(blocks) <= engine.block_budget + 8
        assert "- Kyiv -> Kiew" in prompt
    # Each further request gets the text before its first block as context.
    assert "do not translate" not in llm.prompts[0]
    assert all("do not translate" in p for p in llm.prompts[1:])


def test_usage_and_cost_per_article_and_month(ctx: AppContext, llm: FakeOpenAI) -> None:
    from presseschau.pipeline.status import collect_status

    article_id = add_article(ctx)
    translate_article(ctx, article_id)
    used = translation_of(ctx, article_id).report["usage"]["llm"]
    assert used["requests"] == len(llm.prompts) and used["input_tokens"] > 0 and used["output_tokens"] > 0
    assert used["cost"] == pytest.approx(used["input_tokens"] / 1000 * 0.5 + used["output_tokens"] / 1000 * 1.5)
    month = next(v for k, v in collect_status(ctx).services.items() if k.startswith("usage llm "))
    assert month["cost"] == pytest.approx(used["cost"]) and month["articles"] == 1


def test_recovers_from_429_5xx_timeouts_and_malformed_json(ctx: AppContext, llm: FakeOpenAI) -> None:
    path = "/v1/chat/completions"
    llm.inject(
        Fault(status=429, headers={"Retry-After": "0"}, body={"error": {"message": "Rate limit"}}, path=path),
        Fault(status=500, path=path),
        Fault(malformed=True, path=path),
        Fault(delay_s=1.0, path=path),
    )
    article_id = add_article(ctx)
    translate_article(ctx, article_id)
    assert_complete_and_aligned(translation_of(ctx, article_id))


def test_a_block_that_never_comes_back_keeps_the_article_unpublished(ctx: AppContext, llm: FakeOpenAI) -> None:
    # Every answer for the paragraph-7 sentence is empty: retries alone cannot fix it.
    original = llm._complete

    def sabotage(body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        status, answer, headers = original(body)
        message = answer["choices"][0]["message"]
        message["content"] = "\n".join(line for line in message["content"].split("\n") if "Bericht 7 " not in line)
        return status, answer, headers

    llm._complete = sabotage  # type: ignore[method-assign]
    article_id = add_article(ctx)
    outcome = translate_article(ctx, article_id)
    report = assert_not_published(translation_of(ctx, article_id))
    assert outcome.error and outcome.error.startswith("incomplete translation")
    assert [f["paragraph"] for f in report["failed_segments"]] == [6]


def test_engines_listing_and_key_not_logged(data_dir: Path, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    spec = next(s for s in engine_specs() if s.name == "llm")
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm)))  # type: ignore[arg-type]
    assert ready and details.startswith("configured; reachable; model fake-llm; 0.5/1.5 per 1k tokens")
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm, llm_model="other")))  # type: ignore[arg-type]
    assert not ready and "model other not served" in details
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm, llm_api_key="sk-wrong")))  # type: ignore[arg-type]
    assert not ready and "credentials rejected (401)" in details
    assert KEY not in caplog.text and "sk-wrong" not in caplog.text


def test_translate_text_command_reports_tokens_and_cost(data_dir: Path, llm: FakeOpenAI) -> None:
    from typer.testing import CliRunner

    from presseschau.cli import app

    (data_dir / "presseschau.toml").write_text(
        f'llm_base_url = "{llm.url}/v1"\nllm_model = "fake-llm"\nllm_price_per_1k_input = 2.0\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        app,
        ["--data", str(data_dir), "translate-text", "--engine", "llm"],
        input="The market rose sharply today.\n\nPrices fell in the capital.\n",
        env={"PRESSESCHAU_LLM_API_KEY": KEY},
    )
    assert result.exit_code == 0, result.output
    assert "Der Markt stieg stark heute." in result.output and "Preise fielen in der Hauptstadt." in result.output
    assert "usage llm: requests=1, input_tokens=" in result.output and "cost=" in result.output
    assert KEY not in result.output
