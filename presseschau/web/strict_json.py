"""Strict JSON request bodies for the API: what Python's `json` takes but no stored value can hold.

`json.loads` reads `NaN`, `Infinity` and `1e999` (an infinite float), integers of any size, lone
surrogates (`"\\ud800"`, which no database encoding takes) and nesting until the interpreter's
recursion limit: each ended as a 500 somewhere behind the validation. `StrictJsonMiddleware` reads a
JSON body before the route does and refuses such a body with 422 and a JSON `detail` naming the
problem; a body past the size limit (`limits.BodyLimitMiddleware`) is answered with 413 here, where
FastAPI's body parser turned it into a 400.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from presseschau.web.limits import BodyTooLarge
from presseschau.web.params import MAX_ROW_ID

MAX_JSON_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BadJson(ValueError):
    """The body cannot be taken; the message says why."""


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise BadJson(f"number {text[:40]} is out of range")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or abs(number := int(text)) > MAX_ROW_ID:
        raise BadJson(f"integer {text[:40]}{'…' if len(text) > 40 else ''} is out of range (at most {MAX_ROW_ID})")
    return number


def check_json_body(body: bytes) -> None:
    """`BadJson` unless `body` is JSON whose every number is finite and fits 64 bits, every string
    is valid Unicode (no lone surrogates) and nesting is at most MAX_JSON_DEPTH deep."""
    try:
        value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except BadJson:
        raise
    except RecursionError:
        raise BadJson(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:  # malformed JSON, or bytes that are no Unicode text
        raise BadJson(f"not valid JSON: {error}") from None
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise BadJson(f"nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key)
                pending.append((inner, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, depth + 1) for inner in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("a string holds a lone surrogate (\\ud800–\\udfff), which is no character") from None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # FastAPI reads a body without a content type as JSON too


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class StrictJsonMiddleware:
    """Checks a JSON request body with `check_json_body` before the route reads it (see above)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except BodyTooLarge as error:
            await _answer(send, 413, str(error))
            return
        body = b"".join(chunks)
        if body.strip():
            try:
                check_json_body(body)
            except BadJson as error:
                await _answer(send, 422, f"request body: {error}")
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
