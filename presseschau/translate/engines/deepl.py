"""DeepL API engine (free and pro endpoints).

- `POST /v2/translate` with JSON, up to 50 texts and well under the 128 KiB request limit per call;
- the presseschau glossary is mirrored as a DeepL glossary (`/v2/glossaries`, TSV entries) whose
  name carries a hash of the entries: an unchanged glossary is found again, a changed one is
  created anew and the stale presseschau glossaries of the language pair are deleted. With a
  DeepL glossary the source is sent unchanged (DeepL inflects the term in context); the document
  translator still checks and repairs every term afterwards;
- formality from settings; billed characters are recorded per call (`usage.record`);
- 456 (quota exceeded) raises `QuotaExceeded`, which sends the article to the fallback engine.

Markup: the document translator keeps tags out of the engine input and re-attaches them by
alignment (the same guarantee for every engine), so plain text is sent and `tag_handling` is
not needed on that path.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from presseschau.translate import usage
from presseschau.translate.engines.base import EngineError
from presseschau.translate.engines.http import HttpClient, HttpPolicy, probe_text
from presseschau.translate.glossary import Glossary

log = logging.getLogger("presseschau.translate")

FREE_URL = "https://api-free.deepl.com"
PRO_URL = "https://api.deepl.com"
MAX_TEXTS = 50
# DeepL allows 128 KiB per request; characters of German/English text are mostly one byte.
MAX_REQUEST_CHARS = 60_000
GLOSSARY_PREFIX = "presseschau"


def default_url(api_key: str) -> str:
    # DeepL's documented convention: free-plan keys end in ":fx".
    return FREE_URL if api_key.endswith(":fx") else PRO_URL


def glossary_tsv(glossary: Glossary) -> str:
    lines = []
    for term in glossary.terms:
        source, target = term.source.strip(), term.target.strip()
        # TSV cannot carry tabs or newlines inside a term; such a term stays with local enforcement.
        if source and target and not any(c in source + target for c in "\t\r\n"):
            lines.append(f"{source}\t{target}")
    return "\n".join(sorted(lines))


class DeepLEngine:
    name = "deepl"

    def __init__(
        self,
        client: HttpClient,
        formality: str = "default",
        glossary: Glossary | None = None,
        source_language: str = "en",
        target_language: str = "de",
    ) -> None:
        self.client = client
        self.formality = formality
        self.model: str | None = "deepl-v2"
        # Characters: DeepL bills and limits by characters, so the document translator counts them.
        self.max_input_tokens = 5000
        self.call_tokens = MAX_REQUEST_CHARS
        self.glossary = glossary
        self.glossary_pair = (source_language, target_language)
        self.glossary_id: str | None = None
        # True until a DeepL glossary exists: then terms are substituted before the call instead.
        self.substitute_terms = True

    def count_tokens(self, text: str) -> int:
        return len(text)

    # Glossary ----------------------------------------------------------------------------------

    def sync_glossary(self) -> str | None:
        """Find or create the DeepL glossary for the current presseschau glossary; delete stale ones."""
        if self.glossary is None:
            return None
        tsv = glossary_tsv(self.glossary)
        if not tsv:
            return None
        source, target = self.glossary_pair
        prefix = f"{GLOSSARY_PREFIX} {source}-{target} "
        name = prefix + hashlib.sha256(tsv.encode()).hexdigest()[:16]
        listing = self.client.request("GET", "/v2/glossaries")
        existing = listing.get("glossaries", []) if isinstance(listing, dict) else []
        found = next((g for g in existing if isinstance(g, dict) and g.get("name") == name), None)
        if found is None:
            created = self.client.request(
                "POST",
                "/v2/glossaries",
                json_body={
                    "name": name,
                    "source_lang": source,
                    "target_lang": target,
                    "entries": tsv,
                    "entries_format": "tsv",
                },
            )
            if not isinstance(created, dict) or not created.get("glossary_id"):
                raise EngineError("deepl: glossary creation answered without a glossary_id")
            found = created
            log.info("deepl: created glossary %s (%s entries)", name, created.get("entry_count", "?"))
        glossary_id = str(found["glossary_id"])
        for stale in existing:
            if (
                isinstance(stale, dict)
                and str(stale.get("name", "")).startswith(prefix)
                and stale.get("glossary_id") != glossary_id
            ):
                self.client.request("DELETE", f"/v2/glossaries/{stale['glossary_id']}", expect_json=False)
        self.glossary_id = glossary_id
        self.substitute_terms = False
        return glossary_id

    def prepare_glossary(self) -> None:
        """Sync at build time; a failure leaves local substitution on (same guarantee, less fluent)."""
        try:
            self.sync_glossary()
        except EngineError as error:
            log.warning("deepl: glossary not synced (%s); terms are substituted before translation", error)

    # Translation -------------------------------------------------------------------------------

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        outputs: list[str] = []
        for chunk in self._chunks(segments):
            outputs.extend(self._translate(chunk, source_language, target_language))
        return outputs

    def _chunks(self, segments: Sequence[str]) -> list[list[str]]:
        chunks: list[list[str]] = []
        current: list[str] = []
        size = 0
        for segment in segments:
            if current and (len(current) >= MAX_TEXTS or size + len(segment) > MAX_REQUEST_CHARS):
                chunks.append(current)
                current, size = [], 0
            current.append(segment)
            size += len(segment)
        if current:
            chunks.append(current)
        return chunks

    def _translate(self, texts: list[str], source_language: str, target_language: str) -> list[str]:
        body: dict[str, Any] = {
            "text": texts,
            "source_lang": source_language.upper(),
            "target_lang": target_language.upper(),
            # Segments are sentences already; DeepL must not split or merge them further.
            "split_sentences": "nonewlines",
            "show_billed_characters": True,
        }
        if self.formality != "default":
            body["formality"] = self.formality
        if self.glossary_id and (source_language, target_language) == self.glossary_pair:
            body["glossary_id"] = self.glossary_id
        answer = self.client.request("POST", "/v2/translate", json_body=body)
        translations = answer.get("translations") if isinstance(answer, dict) else None
        if not isinstance(translations, list) or len(translations) != len(texts):
            raise EngineError(f"deepl: {len(texts)} texts sent, answer has no matching 'translations' list")
        result: list[str] = []
        billed = 0
        for text, item in zip(texts, translations, strict=True):
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise EngineError("deepl: a translation in the answer has no text")
            result.append(item["text"])
            billed += int(item.get("billed_characters", len(text)))
        usage.record(self.name, characters=billed)
        return result

    # Status ------------------------------------------------------------------------------------

    def usage_left(self) -> tuple[int, int]:
        answer = self.client.request("GET", "/v2/usage", retries=0)
        if not isinstance(answer, dict):
            raise EngineError("deepl: malformed /v2/usage answer")
        return int(answer.get("character_count", 0)), int(answer.get("character_limit", 0))

    def is_ready(self) -> tuple[bool, str]:
        try:
            count, limit = self.usage_left()
        except EngineError as error:
            return probe_text(True, False, str(error))
        if limit and count >= limit:
            return False, f"configured; reachable; quota used up ({count:,} of {limit:,} characters)"
        circuit = self.client.circuit.state
        extra = "" if circuit == "closed" else f"; circuit {circuit}"
        return probe_text(True, True, f"{limit - count:,} of {limit:,} characters left this period{extra}")


def build_deepl(
    api_key: str,
    url: str | None,
    formality: str,
    policy: HttpPolicy,
    glossary: Glossary | None,
    source_language: str,
    target_language: str,
) -> DeepLEngine:
    client = HttpClient(
        "deepl",
        url or default_url(api_key),
        policy,
        headers={"Authorization": f"DeepL-Auth-Key {api_key}"},
        secrets=[api_key],
        quota_statuses=[456],
    )
    engine = DeepLEngine(client, formality, glossary, source_language, target_language)
    engine.prepare_glossary()
    return engine
