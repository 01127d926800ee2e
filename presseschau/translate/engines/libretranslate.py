"""LibreTranslate engine: any LibreTranslate server, URL plus optional API key.

`POST /translate` with `q` as a list; the server's character limit (`charLimit` from
`/frontend/settings`, -1 for none) applies to the whole request, and its batch limit (a server
option it does not publish: `libretranslate_batch_limit`) to the number of texts, so a batch is
split into requests that respect both. Segments never exceed the character limit: it is the
engine's `max_input_tokens` (characters), and the document translator splits longer sentences.

Markup: sentences with inline tags come from the document translator as HTML with marker tags
(`translate_html`) and go as `format=html`: the server translates the markup and places the tags
itself. The document translator sends markup only for text without `<`, `>` and `&`, because the
server HTML-unescapes every answer (an escaped `&lt;` would come back as a raw `<`). Plain
segments go as `format=text`, not html: the server then keeps its post-editing of plain text
(trailing punctuation and capitalisation matched to the source, the repeated-word "salad" fix).
The unescaping would turn a literal `&amp;` or `&copy` in plain text into `&` or `©`, so the few
plain segments that unescaping would change are sent HTML-escaped as `format=html`, where the
server's own escaping and unescaping cancel out and the answer comes back literal.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

from presseschau.config import Settings
from presseschau.translate import usage
from presseschau.translate.engines.base import Engine, EngineError, EngineNotReady
from presseschau.translate.engines.http import HttpClient, HttpPolicy, probe_text, request_batches, secret_digest
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine, remote_probe

log = logging.getLogger("presseschau.translate")

DEFAULT_CHAR_LIMIT = 2000


def needs_html(segment: str) -> bool:
    """Whether the server's unescaping of its answer would change this text (see above)."""
    return html.unescape(segment) != segment


class LibreTranslateEngine:
    name = "libretranslate"
    unescapes_html_answers = True  # see the module docstring: markup only for text without <, >, &

    def __init__(self, client: HttpClient, api_key: str | None = None, batch_limit: int = 16) -> None:
        self.client = client
        self.api_key = api_key
        self.batch_limit = max(1, batch_limit)
        self.model: str | None = None
        self.char_limit: int | None = None  # None: unlimited
        self.max_input_tokens = DEFAULT_CHAR_LIMIT
        self.call_tokens = 20_000
        self._limits_known = False

    def count_tokens(self, text: str) -> int:
        return len(text)

    def load_limits(self) -> None:
        answer = self.client.request("GET", "/frontend/settings", retries=1)
        if not isinstance(answer, dict):
            raise EngineError("libretranslate: malformed /frontend/settings answer")
        limit = int(answer.get("charLimit", -1))
        self.char_limit = limit if limit > 0 else None
        self.max_input_tokens = min(DEFAULT_CHAR_LIMIT, self.char_limit or DEFAULT_CHAR_LIMIT)
        self._limits_known = True

    def _requests(self, segments: Sequence[str]) -> list[list[str]]:
        for segment in segments:
            if self.char_limit is not None and len(segment) > self.char_limit:
                raise EngineError(
                    f"libretranslate: a segment of {len(segment)} characters exceeds the server limit {self.char_limit}"
                )
        return request_batches(segments, self.batch_limit, self.char_limit)

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        if not self._limits_known:
            self.load_limits()
        outputs = [""] * len(segments)
        plain = [i for i, segment in enumerate(segments) if not needs_html(segment)]
        escaped = [i for i, segment in enumerate(segments) if needs_html(segment)]
        for text_format, indices in (("text", plain), ("html", escaped)):
            texts = [segments[i] if text_format == "text" else html.escape(segments[i], quote=False) for i in indices]
            translated: list[str] = []
            for chunk in self._requests(texts):
                translated.extend(self._translate(chunk, text_format, source_language, target_language))
            for index, translation in zip(indices, translated, strict=True):
                outputs[index] = translation
        return outputs

    def translate_html(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        """Inline-HTML segments (text without `<`, `>`, `&`) in, inline HTML out, tags placed by the server."""
        if not self._limits_known:
            self.load_limits()
        outputs: list[str] = []
        for chunk in self._requests(list(segments)):
            outputs.extend(self._translate(chunk, "html", source_language, target_language))
        return outputs

    def _translate(self, chunk: list[str], text_format: str, source_language: str, target_language: str) -> list[str]:
        body: dict[str, Any] = {"q": chunk, "source": source_language, "target": target_language, "format": text_format}
        if self.api_key:
            body["api_key"] = self.api_key
        answer = self.client.request("POST", "/translate", json_body=body)
        translated = answer.get("translatedText") if isinstance(answer, dict) else None
        if isinstance(translated, str) and len(chunk) == 1:
            translated = [translated]  # older servers answer a one-element list with a string
        if not isinstance(translated, list) or len(translated) != len(chunk):
            raise EngineError(f"libretranslate: {len(chunk)} texts sent, answer has no matching translatedText")
        if not all(isinstance(t, str) for t in translated):
            raise EngineError("libretranslate: a translatedText entry is not a string")
        usage.record(self.name, characters=sum(len(t) for t in chunk))
        # Already unescaped by the server, in both formats.
        return list(translated)

    def is_ready(self) -> tuple[bool, str]:
        try:
            self.load_limits()
            languages = self.client.request("GET", "/languages", retries=0)
        except EngineError as error:
            return probe_text(True, False, str(error))
        codes = (
            sorted({str(item.get("code")) for item in languages if isinstance(item, dict)})
            if isinstance(languages, list)
            else []
        )
        limit = f"{self.char_limit:,} characters per request" if self.char_limit else "no character limit"
        return probe_text(True, True, f"{limit}; languages: {', '.join(codes) or 'unknown'}; no quota")


def _libretranslate_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:

    url = settings.libretranslate_url
    if not url:
        raise EngineNotReady("libretranslate: no server (set PRESSESCHAU_LIBRETRANSLATE_URL)")
    api_key = settings.libretranslate_api_key

    def build() -> Engine:
        client = HttpClient("libretranslate", url, HttpPolicy.from_settings(settings), secrets=[api_key])
        engine = LibreTranslateEngine(client, api_key, settings.libretranslate_batch_limit)
        try:
            engine.load_limits()
        except EngineError as error:
            # Not fatal here: the limits are fetched again before the first translation.
            log.warning("libretranslate: limits not loaded yet (%s)", error)
        return engine

    return ("libretranslate", url, secret_digest(api_key), str(settings.libretranslate_batch_limit)), build


register_engine(
    EngineSpec(
        "libretranslate",
        "a LibreTranslate server (URL, optional API key); requests split by its character and batch limits",
        _libretranslate_factory,
        remote_probe("libretranslate"),
    )
)
