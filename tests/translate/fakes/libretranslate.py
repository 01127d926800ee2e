"""Fake LibreTranslate: /translate (q string or list), /languages, /frontend/settings, errors.

Like the real server: 400 {"error": ...} when the request's total characters exceed `charLimit`
or its number of texts the batch limit, 403 for a missing/invalid key when keys are required.
`format` is "text" (default) or "html"; like the real server the answer is HTML-unescaped in
both (so "&amp;" sent as text comes back as "&"). HTML is parsed by the real server: tags
are kept around their translated words, and a `<` that starts no tag or a bare `&` (not an
entity) in an html request would be read as broken markup and mangled: the fake refuses it (400).
"""

from __future__ import annotations

import html
from typing import Any

from .server import FakeServer, Request, fake_german, fake_german_html, well_formed_markup


class FakeLibreTranslate(FakeServer):
    def __init__(self, char_limit: int = 400, batch_limit: int = 4, api_key: str | None = "libre-key") -> None:
        super().__init__()
        self.char_limit = char_limit
        self.batch_limit = batch_limit
        self.api_key = api_key

    def route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if request.path == "/frontend/settings" and request.method == "GET":
            return (
                200,
                {
                    "charLimit": self.char_limit,
                    "frontendTimeout": 500,
                    "apiKeys": self.api_key is not None,
                    "keyRequired": self.api_key is not None,
                    "suggestions": False,
                    "supportedFilesFormat": [],
                },
                {},
            )
        if request.path == "/languages" and request.method == "GET":
            return (
                200,
                [
                    {"code": "en", "name": "English", "targets": ["de"]},
                    {"code": "de", "name": "German", "targets": ["en"]},
                ],
                {},
            )
        if request.path == "/translate" and request.method == "POST":
            return self._translate(request.body or {})
        return 404, {"error": "Not Found"}, {}

    def _translate(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if self.api_key is not None and body.get("api_key") != self.api_key:
            return 403, {"error": "Invalid API key"}, {}
        q = body.get("q")
        if q is None or not body.get("source") or not body.get("target"):
            return 400, {"error": "Invalid request: missing q, source or target parameter"}, {}
        texts = q if isinstance(q, list) else [q]
        if len(texts) > self.batch_limit:
            return (
                400,
                {"error": f"Invalid request: request ({len(texts)}) exceeds batch limit ({self.batch_limit})"},
                {},
            )
        characters = sum(len(t) for t in texts)
        if self.char_limit > 0 and characters > self.char_limit:
            return 400, {"error": f"Invalid request: request ({characters}) exceeds text limit ({self.char_limit})"}, {}
        text_format = body.get("format") or "text"
        if text_format not in ("text", "html"):
            return 400, {"error": f"{text_format} format is not supported"}, {}
        if text_format == "html":
            if not all(well_formed_markup(t) for t in texts):
                return 400, {"error": "Fake LibreTranslate: unescaped markup characters in an html request"}, {}
            # Parsed, translated with the tags kept, serialised (escaped) and unescaped again: tags
            # come back as tags, the text literal.
            translated = [html.unescape(fake_german_html(t)) for t in texts]
        else:
            translated = [html.unescape(fake_german(t)) for t in texts]
        return 200, {"translatedText": translated if isinstance(q, list) else translated[0]}, {}
