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
from presseschau.translate.engines.llm import LLMEngine, implausible_blocks, parse_blocks
from presseschau.translate.queue import translate_article

from .fakes.article import add_article, assert_complete_and_aligned, assert_not_published, translation_of
from .fakes.openai import FakeOpenAI
from .fakes.server import Fault, fake_german, running

KEY = "sk-llm-secret-key"


@pytest.fixture
def llm() -> Iterator[FakeOpenAI]:
    clear_engine_cache()
    yield from running(FakeOpenAI(model="fake-llm", api_key=KEY))
    clear_engine_cache()


def options(llm: FakeOpenAI, **overrides: Any) -> dict[str, Any]:
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
    parsed = parse_blocks("```\n[1] Eins.\n[2] Zwei\nzweite Zeile.\n\n[3] Drei.\n```", 3)
    assert parsed.trusted and parsed.blocks == ["Eins.", "Zwei zweite Zeile.", "Drei."]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("[1] Eins.\n[3] Drei.", "blocks [1, 3] for 3 sent"),  # a gap
        ("[1] Eins.\n[2] Zwei. Drei.", "blocks [1, 2] for 3 sent"),  # merged and renumbered: fewer blocks
        ("[1] Eins.\n[1] Eins.\n[2] Zwei.", "blocks [1, 1, 2] for 3 sent"),  # repeated
        ("[1] Eins.\n[3] Drei.\n[2] Zwei.", "blocks [1, 3, 2] for 3 sent"),  # out of order
        ("[1] Eins.\n[2] Zwei.\n[3] Drei.\n[4] Vier.", "blocks [1, 2, 3, 4] for 3 sent"),  # extra
        ("Gern:\n[1] Eins.\n[2] Zwei.\n[3] Drei.", "text before the first block"),
        ("[1] Eins.\n[2] Zwei.\n[3] Drei.\n\nIch hoffe, das hilft!", "text after block [3]"),
        ("[1] Eins.\n[2]\n[3] Drei.", "block [2] empty"),
        ("Eins. Zwei. Drei.", "blocks [] for 3 sent"),
    ],
)
def test_parse_distrusts_every_deviation(answer: str, problem: str) -> None:
    parsed = parse_blocks(answer, 3)
    assert not parsed.trusted and problem in parsed.problems, parsed.problems


# Real English/German news sentences (FLORES-like): lengths vary, ratios about 1.0-1.45.
PAIRS = [
    ("The government announced new sanctions on Monday.", "Die Regierung kündigte am Montag neue Sanktionen an."),
    (
        "Prices rose by 3.2 percent in October, the statistics office said.",
        "Die Preise stiegen im Oktober um 3,2 Prozent, teilte das Statistikamt mit.",
    ),
    ("He declined to comment.", "Er lehnte eine Stellungnahme ab."),
    (
        "Thousands of people gathered in the capital to protest against the reform.",
        "Tausende Menschen versammelten sich in der Hauptstadt, um gegen die Reform zu protestieren.",
    ),
    ("The talks will continue next week.", "Die Gespräche werden nächste Woche fortgesetzt."),
    (
        "Officials said the death toll was likely to rise.",
        "Nach Angaben von Behörden dürfte die Zahl der Todesopfer noch steigen.",
    ),
]


def test_plausibility_accepts_real_translations_and_catches_a_hidden_merge() -> None:
    sources, targets = [s for s, _ in PAIRS], [t for _, t in PAIRS]
    assert implausible_blocks(sources, targets) == []
    # Blocks 2 and 3 merged, the last one split in two: the count is right, the lengths are not.
    last = targets[-1].split()
    hidden = [targets[0], targets[1] + " " + targets[2], *targets[3:-1], " ".join(last[:5]), " ".join(last[5:])]
    assert (
        len(hidden) == len(sources)
        and parse_blocks("\n".join(f"[{n}] {t}" for n, t in enumerate(hidden, 1)), len(sources)).trusted
    )
    assert implausible_blocks(sources, hidden)


def test_plausibility_rarely_rejects_correct_answers_on_flores(test_data_dir: Path) -> None:
    flores = test_data_dir / "eval" / "flores-dev"
    english = (flores / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    groups = []
    for reference in ("de", "google.de", "microsoft.de"):  # one human, two MT translations
        german = (flores / f"flores-dev.{reference}").read_text(encoding="utf-8").splitlines()
        groups += [(english[i : i + 20], german[i : i + 20]) for i in range(0, len(english) - 20, 20)]
    rejected = sum(bool(implausible_blocks(src, tgt)) for src, tgt in groups)
    # A false alarm costs only smaller requests, but must stay rare.
    assert rejected <= len(groups) * 0.03, (rejected, len(groups))
    caught = 0
    for src, tgt in groups:
        shifted = [*tgt[:3], tgt[3] + " " + tgt[4], *tgt[5:-1]]
        words = tgt[-1].split()
        shifted += [" ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2 :])]
        caught += bool(implausible_blocks(src, shifted))
    assert caught >= len(groups) * 0.7, (caught, len(groups))


# Articles through the fake server -----------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        [("merge_renumber", 2)],  # [1] A [2] B C [3] D ...: every block after 2 shifted by one
        [("drop_renumber", 3)],
        [("merge_split", 2)],  # the count kept by splitting the last block: only lengths show it
        [("chatter", 0)],
        [("preamble", 0)],
        [("drop", 3), ("merge", 2), ("extra", 0)],  # gaps and an extra block
        [("merge_renumber", 2), ("drop_renumber", 1), ("merge_split", 4), ("merge_renumber", 1)],  # in the retries too
    ],
    ids=["merge_renumber", "drop_renumber", "merge_split", "chatter", "preamble", "gaps", "repeated"],
)
def test_malformed_answers_never_shift_paragraphs(
    ctx: AppContext, llm: FakeOpenAI, faults: list[tuple[str, int]]
) -> None:
    llm.block_faults.extend(faults)
    article_id = add_article(ctx)
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    translation = translation_of(ctx, article_id)
    assert outcome.complete, outcome.error
    assert not llm.block_faults  # every fault was served
    # Every German paragraph is the translation of its own source paragraph, links included.
    assert_complete_and_aligned(translation)
    assert translation.report["coverage_retries"] == []  # caught by the engine, not left to the coverage check


def test_untrusted_requests_are_halved_not_sent_block_by_block(llm: FakeOpenAI, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, **options(llm))
    engine = get_engine("llm", settings)
    segments = [f"Report {n} said the troops moved toward the city today." for n in range(16)]
    llm.block_faults.append(("merge_renumber", 5))
    assert engine.translate_batch(segments, "en", "de") == [fake_german(s) for s in segments]
    counts = [p.split("Blocks:", 1)[1].count("\n[") for p in llm.prompts]
    assert counts == [16, 8, 8]  # the malformed answer, then its two halves


def test_context_window_sizes_requests_and_prompt_carries_glossary_and_context(data_dir: Path, llm: FakeOpenAI) -> None:
    glossary = data_dir / "glossary.tsv"
    glossary.write_text("Kyiv\tKiew\n", encoding="utf-8")
    settings = Settings(data_dir=data_dir, glossary_path=glossary, **options(llm, llm_context_tokens=1024))
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
    from presseschau.reporting import collect_status

    article_id = add_article(ctx)
    translate_article(ctx.database, ctx.settings, article_id)
    used = translation_of(ctx, article_id).report["usage"]["llm"]
    assert used["requests"] == len(llm.prompts) and used["input_tokens"] > 0 and used["output_tokens"] > 0
    assert used["cost"] == pytest.approx(used["input_tokens"] / 1000 * 0.5 + used["output_tokens"] / 1000 * 1.5)
    month = next(
        v for k, v in collect_status(ctx.database, ctx.settings).services.items() if k.startswith("usage llm ")
    )
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
    translate_article(ctx.database, ctx.settings, article_id)
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
    outcome = translate_article(ctx.database, ctx.settings, article_id)
    report = assert_not_published(translation_of(ctx, article_id))
    assert outcome.error and outcome.error.startswith("incomplete translation")
    assert [f["paragraph"] for f in report["failed_segments"]] == [6]


def test_engines_listing_and_key_not_logged(data_dir: Path, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    spec = next(s for s in engine_specs() if s.name == "llm")
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm)))
    assert ready and details.startswith("configured; reachable; model fake-llm; 0.5/1.5 per 1k tokens")
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm, llm_model="other")))
    assert not ready and "model other not served" in details
    clear_engine_cache()
    ready, details = spec.probe(Settings(data_dir=data_dir, **options(llm, llm_api_key="sk-wrong")))
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
