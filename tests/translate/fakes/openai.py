"""Fake OpenAI-compatible API: /v1/chat/completions (with `usage`) and /v1/models.

It reads the numbered blocks (`[n] text`) of the last user message and answers each block under
its number. `block_faults` corrupts the next answers that have more than one block: "drop" leaves
out a block, "merge" puts two blocks' translations under the first number, "extra" adds a block.
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
        if len(answer) > 1 and self.block_faults:
            kind, number = self.block_faults.popleft()
            position = min(number, len(answer)) - 1
            if kind == "drop":
                del answer[position]
            elif kind == "merge" and position + 1 < len(answer):
                answer[position] = (answer[position][0], answer[position][1] + " " + answer[position + 1][1])
                del answer[position + 1]
            elif kind == "extra":
                answer.append((len(answer) + 1, "Zusätzlicher Block."))
        content = "\n".join(f"[{n}] {text}" for n, text in answer)
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
