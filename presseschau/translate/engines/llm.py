"""LLM engine: any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, hosted APIs).

Each segment of a batch becomes one numbered block (`[1] ...`); blocks are grouped into requests
sized so that prompt, blocks and the (longer, German) answer fit the model's context window.
The prompt asks for faithful German in the house style, lists the glossary terms that occur in
the blocks, and gives the text sent before as context (not to be translated). The engine sets
`keep_order`, so the document translator sends segments in document order and that context is
the preceding text of the article.

The answer is parsed strictly: it must consist of the blocks 1..N, each exactly once, in order,
not empty, with nothing but whitespace (and a code fence) outside them. Any deviation - a block
missing, repeated, extra or out of order, text before, between or after the blocks - means the
answer's positions cannot be trusted (a model that merges two blocks and renumbers the rest
shifts every later block), so none of its blocks is used. So does a block whose length does not
fit its source, measured against the answer's typical target/source length ratio (a merge that
is hidden by a split elsewhere keeps the count but not the lengths). An untrusted request is
split in halves and each half asked again, down to single blocks; a single block that still
fails comes back empty, so the document translator's coverage check reports it and the article
is not published incomplete.

Token usage comes from the answer's `usage` (estimated from the text where a server omits it)
and is recorded with its cost at the configured prices per 1,000 tokens.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from presseschau.config import Settings
from presseschau.translate import usage
from presseschau.translate.engines.base import Engine, EngineError, EngineNotReady
from presseschau.translate.engines.http import HttpClient, HttpPolicy, glossary_with_digest, probe_text, secret_digest
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine, remote_probe
from presseschau.translate.glossary import Glossary, Term

log = logging.getLogger("presseschau.translate")

LANGUAGE_NAMES = {
    "de": "German",
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "uk": "Ukrainian",
}

HOUSE_STYLE = (
    "You translate news articles for a German-language quality publication. Translate from {source} "
    "into {target}. House style: faithful and complete - every statement, name, number, date and "
    "quotation exactly as in the original, nothing added, nothing left out, no explanations; the "
    "neutral, factual register of a German newspaper; current German spelling; German quotation "
    "marks („...“). Use the glossary's target terms where the source term occurs (inflected as the "
    "sentence needs).\n"
    "The input is a list of numbered blocks, each starting with its number in square brackets. "
    "Answer with exactly the same blocks in the same order: each block on its own line, starting "
    "with the same number in square brackets, followed only by its translation. Never merge, split, "
    "skip or add blocks, and write nothing before or after them."
)
_MARKER = re.compile(r"^[ \t]*\[(\d+)\][ \t]*", re.MULTILINE)
# A code fence around the whole answer is formatting, not content.
_FENCE = re.compile(r"^[ \t]*```[\w-]*[ \t]*$", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Characters per token: conservative for English and German news prose with BPE vocabularies.
CHARS_PER_TOKEN = 3.0
# German output runs about 1.2-1.3 times the English tokens; plus the block markers.
OUTPUT_FACTOR = 1.5
# A block is implausible when its length is outside [LOW * expected - SLACK, HIGH * expected + SLACK],
# expected = its source length times the answer's median target/source ratio. On FLORES dev (en-de,
# three human and MT references, groups of 5-25 sentences) this flags 0.3 % of correct groups and
# 83 % of answers where two blocks were merged and the last one split to keep the count.
PLAUSIBLE_LOW = 0.6
PLAUSIBLE_HIGH = 1.5
PLAUSIBLE_SLACK = 10
# Sources this short have ratios too noisy to estimate the typical ratio from.
RATIO_MIN_CHARS = 20


@dataclass
class ParsedAnswer:
    """The blocks of an answer, in answer order; usable only when `trusted` (no problems)."""

    blocks: list[str]
    problems: list[str] = field(default_factory=list)

    @property
    def trusted(self) -> bool:
        return not self.problems


def parse_blocks(answer: str, count: int) -> ParsedAnswer:
    """The answer's blocks if it is exactly `[1] ... [count] ...`; otherwise the problems found."""
    text = _FENCE.sub("", answer)
    markers = list(_MARKER.finditer(text))
    parsed = ParsedAnswer([])
    if text[: markers[0].start() if markers else len(text)].strip():
        parsed.problems.append("text before the first block")
    numbers = [int(m.group(1)) for m in markers]
    if numbers != list(range(1, count + 1)):
        shown = ", ".join(map(str, numbers[:12])) + (" ..." if len(numbers) > 12 else "")
        parsed.problems.append(f"blocks [{shown}] for {count} sent")
    for position, marker in enumerate(markers):
        end = markers[position + 1].start() if position + 1 < len(markers) else len(text)
        raw = text[marker.end() : end].strip()
        # Blocks are sent one per line; a paragraph break inside one is a remark or a second text.
        if len(_BLANK_LINE.split(raw)) > 1:
            parsed.problems.append(f"text after block [{numbers[position]}]")
        content = " ".join(raw.split())
        if not content:
            parsed.problems.append(f"block [{numbers[position]}] empty")
        parsed.blocks.append(content)
    return parsed


def implausible_blocks(sources: Sequence[str], targets: Sequence[str]) -> list[str]:
    """Problems for blocks whose length does not fit their source (see PLAUSIBLE_*)."""
    pairs = [(len(" ".join(s.split())), len(t)) for s, t in zip(sources, targets, strict=True)]
    ratios = [t / s for s, t in pairs if s >= RATIO_MIN_CHARS]
    if not ratios:
        return []
    typical = statistics.median(ratios)
    problems = []
    for number, (source, target) in enumerate(pairs, 1):
        expected = typical * source
        if not PLAUSIBLE_LOW * expected - PLAUSIBLE_SLACK <= target <= PLAUSIBLE_HIGH * expected + PLAUSIBLE_SLACK:
            problems.append(f"block [{number}] implausible: {target} chars for {source}")
    return problems


class LLMEngine:
    name = "llm"
    keep_order = True  # segments arrive in document order: the previous block is real context

    def __init__(
        self,
        client: HttpClient,
        model: str,
        context_tokens: int = 8192,
        temperature: float = 0.0,
        price_per_1k_input: float = 0.0,
        price_per_1k_output: float = 0.0,
        glossary: Glossary | None = None,
        retries_alone: int = 2,
    ) -> None:
        self.client = client
        self.model: str | None = model
        self.context_tokens = context_tokens
        self.temperature = temperature
        self.price_in = price_per_1k_input
        self.price_out = price_per_1k_output
        self.glossary = glossary
        self.retries_alone = retries_alone
        # The prompt carries the glossary; the document translator checks and repairs afterwards.
        self.substitute_terms = False
        # Room left for blocks once the instructions (and a margin for glossary and context) are in.
        reserve = self.count_tokens(HOUSE_STYLE) + 512
        self.block_budget = max(64, int((context_tokens - reserve) / (1 + OUTPUT_FACTOR)))
        self.max_input_tokens = max(32, min(1000, self.block_budget // 2))
        # Whole articles per call: the engine groups blocks into requests itself.
        self.call_tokens = 100_000

    def count_tokens(self, text: str) -> int:
        return math.ceil(len(text) / CHARS_PER_TOKEN)

    # Prompt ------------------------------------------------------------------------------------

    def _messages(
        self, blocks: Sequence[str], source_language: str, target_language: str, context: str | None
    ) -> list[dict[str, str]]:
        system = HOUSE_STYLE.format(
            source=LANGUAGE_NAMES.get(source_language, source_language),
            target=LANGUAGE_NAMES.get(target_language, target_language),
        )
        parts: list[str] = []
        terms = self._terms(blocks)
        if terms:
            parts.append("Glossary (source term -> required target term):")
            parts.extend(f"- {t.source} -> {t.target}" for t in terms)
            parts.append("")
        if context:
            parts.append("Context from the same article (do not translate it):")
            parts.append(context)
            parts.append("")
        parts.append("Blocks:")
        parts.extend(f"[{number}] {' '.join(block.split())}" for number, block in enumerate(blocks, 1))
        return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(parts)}]

    def _terms(self, blocks: Sequence[str]) -> list[Term]:
        if self.glossary is None:
            return []
        return self.glossary.terms_in("\n".join(blocks))

    def _requests(self, segments: Sequence[str]) -> list[list[int]]:
        groups: list[list[int]] = []
        current: list[int] = []
        budget = 0
        for index, segment in enumerate(segments):
            tokens = self.count_tokens(segment) + 4  # the marker and line break
            if current and budget + tokens > self.block_budget:
                groups.append(current)
                current, budget = [], 0
            current.append(index)
            budget += tokens
        if current:
            groups.append(current)
        return groups

    # Calls -------------------------------------------------------------------------------------

    def _complete(self, messages: list[dict[str, str]]) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        answer = self.client.request("POST", "/chat/completions", json_body=body)
        content: Any = None
        if isinstance(answer, dict):
            choices = answer.get("choices")
            if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                message = choices[0].get("message")
                content = message.get("content") if isinstance(message, dict) else None
        prompt_text = "".join(m["content"] for m in messages)
        reported = answer.get("usage") if isinstance(answer, dict) else None
        if isinstance(reported, dict) and "prompt_tokens" in reported:
            tokens_in = int(reported.get("prompt_tokens") or 0)
            tokens_out = int(reported.get("completion_tokens") or 0)
        else:
            tokens_in = self.count_tokens(prompt_text)
            tokens_out = self.count_tokens(content) if isinstance(content, str) else 0
        cost = tokens_in / 1000 * self.price_in + tokens_out / 1000 * self.price_out
        usage.record(self.name, input_tokens=tokens_in, output_tokens=tokens_out, cost=cost)
        if not isinstance(content, str):
            # A 200 without a message: handled like an answer without blocks (each retried alone).
            log.warning("llm: answer without choices[0].message.content")
            return ""
        return content

    def _translate_group(
        self, blocks: Sequence[str], source_language: str, target_language: str, context: str | None
    ) -> ParsedAnswer:
        answer = self._complete(self._messages(blocks, source_language, target_language, context))
        parsed = parse_blocks(answer, len(blocks))
        if parsed.trusted and len(blocks) > 1:
            # One block alone has nothing to shift into; the document translator's coverage check judges it.
            parsed.problems.extend(implausible_blocks(blocks, parsed.blocks))
        return parsed

    def _alone(self, block: str, source_language: str, target_language: str, context: str | None) -> str:
        for attempt in range(1, self.retries_alone + 1):
            parsed = self._translate_group([block], source_language, target_language, context)
            if parsed.trusted:
                return parsed.blocks[0]
            log.info("llm: block retried alone, attempt %d: %s", attempt, "; ".join(parsed.problems))
        return ""  # the coverage check reports it: the article stays unpublished

    def _translate_indices(
        self,
        segments: Sequence[str],
        indices: Sequence[int],
        source_language: str,
        target_language: str,
        outputs: list[str],
    ) -> None:
        # The text right before the first block is the context (segments come in document order).
        context = segments[indices[0] - 1] if indices[0] else None
        if len(indices) == 1:
            outputs[indices[0]] = self._alone(segments[indices[0]], source_language, target_language, context)
            return
        blocks = [segments[i] for i in indices]
        parsed = self._translate_group(blocks, source_language, target_language, context)
        if parsed.trusted:
            for index, translation in zip(indices, parsed.blocks, strict=True):
                outputs[index] = translation
            return
        # Nothing of an answer that lost its alignment is used: both halves are asked again.
        log.info("llm: answer for %d blocks not used: %s", len(blocks), "; ".join(parsed.problems[:5]))
        half = len(indices) // 2
        self._translate_indices(segments, indices[:half], source_language, target_language, outputs)
        self._translate_indices(segments, indices[half:], source_language, target_language, outputs)

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        outputs = [""] * len(segments)
        for group in self._requests(segments):
            self._translate_indices(segments, group, source_language, target_language, outputs)
        return outputs

    def translate_retry(self, segment: str, source_language: str, target_language: str) -> str:
        return self._alone(segment, source_language, target_language, None)

    def is_ready(self) -> tuple[bool, str]:
        try:
            answer = self.client.request("GET", "/models", retries=0)
        except EngineError as error:
            return probe_text(True, False, str(error))
        models = (
            [str(m.get("id")) for m in answer.get("data", []) if isinstance(m, dict)]
            if isinstance(answer, dict)
            else []
        )
        if models and self.model not in models:
            return False, f"configured; reachable; model {self.model} not served (has: {', '.join(models[:8])})"
        price = (
            f"{self.price_in:g}/{self.price_out:g} per 1k tokens in/out"
            if self.price_in or self.price_out
            else "no price set"
        )
        return probe_text(True, True, f"model {self.model}; {price}; quota not reported by the API")


def _llm_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:

    url = settings.llm_base_url
    chosen = model or settings.llm_model
    if not url or not chosen:
        raise EngineNotReady(
            "llm: set PRESSESCHAU_LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1) and PRESSESCHAU_LLM_MODEL"
        )
    api_key = settings.llm_api_key
    glossary, digest = glossary_with_digest(settings)

    def build() -> Engine:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        client = HttpClient("llm", url, HttpPolicy.from_settings(settings), headers=headers, secrets=[api_key])
        return LLMEngine(
            client,
            chosen,
            context_tokens=settings.llm_context_tokens,
            temperature=settings.llm_temperature,
            price_per_1k_input=settings.llm_price_per_1k_input,
            price_per_1k_output=settings.llm_price_per_1k_output,
            glossary=glossary,
        )

    key = (
        "llm",
        url,
        chosen,
        secret_digest(api_key),
        str(settings.llm_context_tokens),
        digest,
        f"{settings.llm_price_per_1k_input}/{settings.llm_price_per_1k_output}",
    )
    return key, build


register_engine(
    EngineSpec(
        "llm",
        "an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, hosted); tokens and cost",
        _llm_factory,
        remote_probe("llm"),
    )
)
