"""LLM engine: any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, hosted APIs).

Each segment of a batch becomes one numbered block (`[1] ...`); blocks are grouped into requests
sized so that prompt, blocks and the (longer, German) answer fit the model's context window.
The prompt asks for faithful German in the house style, lists the glossary terms that occur in
the blocks, and gives the text sent before as context (not to be translated). The engine sets
`keep_order`, so the document translator sends segments in document order and that context is
the preceding text of the article.

The answer is parsed strictly: every block must come back exactly once, under its number, not
empty. A missing block, a duplicated one, a block next to a missing one (the usual sign of two
blocks merged into one) and text outside the blocks are detected, and each affected block is
retried alone. A block that still fails comes back empty, so the document translator's coverage
check reports it and the article is not published incomplete.

Token usage comes from the answer's `usage` (estimated from the text where a server omits it)
and is recorded with its cost at the configured prices per 1,000 tokens.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from presseschau.translate import usage
from presseschau.translate.engines.base import EngineError
from presseschau.translate.engines.http import HttpClient, probe_text
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
_MARKER = re.compile(r"^\s*\[(\d+)\][ \t]*", re.MULTILINE)
_FENCE = re.compile(r"^```[\w-]*\s*$", re.MULTILINE)
# Characters per token: conservative for English and German news prose with BPE vocabularies.
CHARS_PER_TOKEN = 3.0
# German output runs about 1.2-1.3 times the English tokens; plus the block markers.
OUTPUT_FACTOR = 1.5


@dataclass
class ParsedAnswer:
    blocks: dict[int, str]
    suspect: set[int] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def parse_blocks(answer: str, count: int) -> ParsedAnswer:
    """The blocks 1..count of an answer; `suspect` names blocks that must be retried alone."""
    text = _FENCE.sub("", answer)
    markers = list(_MARKER.finditer(text))
    parsed = ParsedAnswer({})
    if text[: markers[0].start() if markers else len(text)].strip():
        parsed.problems.append("text before the first block")
    seen: dict[int, int] = {}
    for position, marker in enumerate(markers):
        number = int(marker.group(1))
        end = markers[position + 1].start() if position + 1 < len(markers) else len(text)
        content = " ".join(text[marker.end() : end].split())
        seen[number] = seen.get(number, 0) + 1
        if not 1 <= number <= count:
            parsed.problems.append(f"extra block [{number}]")
            continue
        parsed.blocks[number] = content
    for number in range(1, count + 1):
        if seen.get(number, 0) > 1:
            parsed.problems.append(f"block [{number}] repeated")
            parsed.suspect.add(number)
        elif not parsed.blocks.get(number):
            parsed.problems.append(f"block [{number}] missing or empty")
            parsed.suspect.add(number)
            # Its neighbours may hold its text (two blocks merged into one): retried as well.
            parsed.suspect.update(n for n in (number - 1, number + 1) if 1 <= n <= count)
    if any(p.startswith("extra") for p in parsed.problems) and not parsed.suspect:
        # An extra block with all numbers present means one translation was split in two: the
        # block before the extra one cannot be trusted, and which one that is is unknown.
        parsed.suspect.update(range(1, count + 1))
    return parsed


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
        return parse_blocks(answer, len(blocks))

    def _alone(self, block: str, source_language: str, target_language: str, context: str | None) -> str:
        for attempt in range(1, self.retries_alone + 1):
            parsed = self._translate_group([block], source_language, target_language, context)
            if not parsed.suspect and parsed.blocks.get(1):
                return parsed.blocks[1]
            log.info("llm: block retried alone, attempt %d: %s", attempt, "; ".join(parsed.problems))
        return ""  # the coverage check reports it: the article stays unpublished

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        outputs = [""] * len(segments)
        context: str | None = None
        for group in self._requests(segments):
            blocks = [segments[i] for i in group]
            parsed = self._translate_group(blocks, source_language, target_language, context)
            if parsed.problems:
                log.info("llm: answer for %d blocks: %s", len(blocks), "; ".join(parsed.problems))
            for number, index in enumerate(group, 1):
                if number in parsed.suspect or not parsed.blocks.get(number):
                    before = segments[index - 1] if index else context
                    outputs[index] = self._alone(segments[index], source_language, target_language, before)
                else:
                    outputs[index] = parsed.blocks[number]
            context = blocks[-1]
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
