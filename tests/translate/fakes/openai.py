"""Fake OpenAI-compatible API: /v1/chat/completions (with `usage`) and /v1/models.

It reads the numbered blocks (`[n] text`) of the last user message and answers each block under
its number. `block_faults` corrupts the next answers that have more than one block, the way real
models do, `(kind, n)` acting on block n:
- "drop": block n left out, the others keep their numbers (a gap);
- "merge": blocks n and n+1 under number n, n+1 missing (a gap);
- "extra": one more block at the end;
- "drop_renumber": block n left out and the rest renumbered (every later block shifted by one);
- "merge_renumber": blocks n and n+1 under number n and the rest renumbered;
- "merge_split": like "merge_renumber", then the last block split in two so the count is right
  again (only the content shows that blocks moved);
- "chatter": a friendly remark after the last block (n unused);
- "preamble": a remark before the first block (n unused).
"""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from .server import FakeServer, Request, fake_german

_BLOCK = re.compile(r"^\[(\d+)\] (.*)$", re.MULTILINE)


class FakeOpenAI(FakeServer):
    def __init__(self, model: str = "fake-llm", api_key: str = "sk-test-secret") -> None:
        super().__init__()
        self.model = model
        self.api_key = api_key
        self.block_faults: deque[tuple[str, int]] = deque()
        self.prompts: list[str] = []

    def route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, {}
        if request.path == "/v1/models" and request.method == "GET":
            return 200, {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}, {}
        if request.path == "/v1/chat/completions" and request.method == "POST":
            return self._complete(request.body or {})
        return 404, {"error": {"message": "not found"}}, {}

    def _complete(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if body.get("model") != self.model:
            return 404, {"error": {"message": f"The model `{body.get('model')}` does not exist"}}, {}
        messages = body.get("messages") or []
        prompt = messages[-1]["content"] if messages else ""
        self.prompts.append(prompt)
        blocks = [(int(n), text) for n, text in _BLOCK.findall(prompt.split("Blocks:", 1)[-1])]
        answer = [(n, fake_german(text)) for n, text in blocks]
        kind: str | None = None
        if len(answer) > 1 and self.block_faults:
            kind, number = self.block_faults.popleft()
            answer = corrupt(answer, kind, number)
        content = "\n".join(f"[{n}] {text}" for n, text in answer)
        if kind == "chatter":
            content += "\n\nIch hoffe, das hilft!"
        elif kind == "preamble":
            content = "Gern, hier die Übersetzung:\n" + content
        prompt_chars = sum(len(m.get("content", "")) for m in messages)
        return (
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 1764064800,
                "model": self.model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4,
                    "completion_tokens": len(content) // 4,
                    "total_tokens": prompt_chars // 4 + len(content) // 4,
                },
            },
            {},
        )


def corrupt(answer: list[tuple[int, str]], kind: str, number: int) -> list[tuple[int, str]]:
    """The numbered blocks of an answer after the fault `kind` at block `number` (see above)."""
    answer = list(answer)
    position = min(number, len(answer)) - 1
    if kind == "drop":
        del answer[position]
    elif kind == "merge" and position + 1 < len(answer):
        answer[position] = (answer[position][0], answer[position][1] + " " + answer[position + 1][1])
        del answer[position + 1]
    elif kind == "extra":
        answer.append((len(answer) + 1, "Zusätzlicher Block."))
    elif kind in ("drop_renumber", "merge_renumber", "merge_split"):
        texts = [text for _, text in answer]
        if kind == "drop_renumber":
            del texts[position]
        elif position + 1 < len(texts):
            texts[position : position + 2] = [texts[position] + " " + texts[position + 1]]
            if kind == "merge_split":
                words = texts[-1].split()
                half = max(1, len(words) // 2)
                texts[-1:] = [" ".join(words[:half]), " ".join(words[half:])]
        answer = list(enumerate(texts, 1))
    elif kind not in ("chatter", "preamble"):
        raise ValueError(f"unknown block fault {kind!r}")
    return answer
