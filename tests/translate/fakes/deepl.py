"""Fake DeepL API v2: /v2/translate, /v2/usage, /v2/glossaries (TSV entries), errors as documented.

- auth: `Authorization: DeepL-Auth-Key <key>`, else 403;
- /v2/translate: JSON or form body; `text` list (at most 50), `target_lang` required; characters
  counted against `character_limit`, 456 "Quota exceeded" when the request would exceed it;
  `glossary_id` applies the glossary's entries (case-sensitive, whole words) before translating,
  an unknown one is 400 "Invalid glossary_id";
- `tag_handling`: absent (plain text) or "html"/"xml". In HTML mode the text is markup: tags are
  kept in place around their (translated) words and the answer is HTML. A `<` that starts no tag
  or a bare `&` (not an entity) would be parsed as broken markup by the real service and come
  back mangled, so the fake refuses it (400);
- /v2/glossaries: GET list (with `creation_time`, settable in `glossaries[id]["creation_time"]`),
  POST create (`entries_format` tsv or csv), DELETE /v2/glossaries/{id} -> 204.
"""

from __future__ import annotations

import html
import itertools
import re
from datetime import UTC, datetime
from typing import Any

from .server import MARKUP_TAG, FakeServer, Request, fake_german, fake_german_html, well_formed_markup


class FakeDeepL(FakeServer):
    def __init__(self, api_key: str = "test-key:fx", character_limit: int = 500_000) -> None:
        super().__init__()
        self.api_key = api_key
        self.character_count = 0
        self.character_limit = character_limit
        self.glossaries: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    def route(self, request: Request) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("authorization") != f"DeepL-Auth-Key {self.api_key}":
            return 403, {"message": "Forbidden"}, {}
        path, method = request.path, request.method
        if path == "/v2/usage" and method == "GET":
            return 200, {"character_count": self.character_count, "character_limit": self.character_limit}, {}
        if path == "/v2/translate" and method == "POST":
            return self._translate(request.body or {})
        if path == "/v2/glossaries" and method == "GET":
            return 200, {"glossaries": [self._info(g) for g in self.glossaries.values()]}, {}
        if path == "/v2/glossaries" and method == "POST":
            return self._create(request.body or {})
        match = re.fullmatch(r"/v2/glossaries/([\w-]+)", path)
        if match and method == "DELETE":
            if self.glossaries.pop(match.group(1), None) is None:
                return 404, {"message": "Glossary not found"}, {}
            return 204, None, {}
        return 404, {"message": "Not found"}, {}

    def _translate(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        texts = body.get("text")
        if isinstance(texts, str):
            texts = [texts]
        if not texts or not isinstance(texts, list):
            return 400, {"message": "Parameter 'text' not specified."}, {}
        if len(texts) > 50:
            return 413, {"message": "Request Entity Too Large"}, {}
        if not body.get("target_lang"):
            return 400, {"message": "Value for 'target_lang' not supported."}, {}
        tag_handling = body.get("tag_handling")
        if tag_handling not in (None, "html", "xml"):
            return 400, {"message": "Value for 'tag_handling' not supported."}, {}
        if tag_handling:
            for text in texts:
                if not well_formed_markup(text):
                    return 400, {"message": f"Fake DeepL: unescaped markup characters in {text!r}"}, {}
        # Billed: the text, not the markup around it.
        characters = sum(len(html.unescape(MARKUP_TAG.sub("", t))) if tag_handling else len(t) for t in texts)
        if self.character_count + characters > self.character_limit:
            return 456, {"message": "Quota exceeded"}, {}
        self.character_count += characters
        glossary = self.glossaries.get(str(body.get("glossary_id"))) if body.get("glossary_id") else None
        if body.get("glossary_id") and glossary is None:
            return 400, {"message": "Invalid glossary_id"}, {}
        translations = []
        for text in texts:
            if glossary is not None:
                for source, target in glossary["entries"]:
                    text = re.sub(rf"(?<!\w){re.escape(source)}(?!\w)", target, text)
            item: dict[str, Any] = {
                "detected_source_language": "EN",
                "text": fake_german_html(text) if tag_handling else fake_german(text),
            }
            if body.get("show_billed_characters"):
                item["billed_characters"] = len(html.unescape(MARKUP_TAG.sub("", text))) if tag_handling else len(text)
            translations.append(item)
        return 200, {"translations": translations}, {}

    def _create(self, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        if body.get("entries_format") not in ("tsv", "csv") or not body.get("name"):
            return 400, {"message": "Invalid glossary"}, {}
        separator = "\t" if body["entries_format"] == "tsv" else ","
        entries = []
        for line in str(body.get("entries", "")).splitlines():
            if not line.strip():
                continue
            parts = line.split(separator)
            if len(parts) != 2 or not parts[0] or not parts[1]:
                return 400, {"message": f"Invalid glossary entry: {line!r}"}, {}
            entries.append((parts[0], parts[1]))
        glossary_id = f"gl-{next(self._ids)}"
        self.glossaries[glossary_id] = {
            "glossary_id": glossary_id,
            "name": body["name"],
            "source_lang": body.get("source_lang"),
            "target_lang": body.get("target_lang"),
            "entries": entries,
            "creation_time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        return 201, self._info(self.glossaries[glossary_id]), {}

    def _info(self, glossary: dict[str, Any]) -> dict[str, Any]:
        return {
            "glossary_id": glossary["glossary_id"],
            "name": glossary["name"],
            "ready": True,
            "source_lang": glossary["source_lang"],
            "target_lang": glossary["target_lang"],
            "creation_time": glossary["creation_time"],
            "entry_count": len(glossary["entries"]),
        }
