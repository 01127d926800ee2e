"""DeepL API engine (free and pro endpoints).

- `POST /v2/translate` with JSON, up to 50 texts and well under the 128 KiB request limit per call;
- the presseschau glossary is mirrored as a DeepL glossary (`/v2/glossaries`, TSV entries) whose
  name carries a hash of the entries, so hosts with equal glossaries share one DeepL glossary. It
  is synced when the engine is built and, while none is in use (DeepL was down, say), again
  before a translation at most every `glossary_retry_s`. A translation refused because the
  glossary is gone (400/404 naming the glossary: deleted remotely) forgets it, syncs once more
  (re-creating it) and repeats the request. Other presseschau glossaries of the language pair are
  deleted only when older than `STALE_GLOSSARY_AGE_S`: a host still using an older version
  re-creates its glossary at most that often, instead of two hosts deleting each other's
  glossary on every sync. With a DeepL glossary the source is sent unchanged (DeepL inflects the
  term in context); without one terms are substituted before the call. Either way the document
  translator checks and repairs every term afterwards;
- formality from settings; billed characters are recorded per call (`usage.record`);
- 456 (quota exceeded) raises `QuotaExceeded`, which sends the article to the fallback engine.

Markup: every request uses `tag_handling=html`. Sentences with inline tags come from the document
translator as HTML with marker tags (`translate_html`) and DeepL places the tags in its German
itself; the answer goes back as HTML. Plain segments (`translate_batch`) are sent HTML-escaped and
the answers unescaped, so `<` and `&` in the text stay literal.
"""

from __future__ import annotations

import hashlib
import html
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from presseschau.config import Settings
from presseschau.translate import usage
from presseschau.translate.engines.base import Engine, EngineError, EngineNotReady
from presseschau.translate.engines.http import (
    EngineRequestError,
    HttpClient,
    HttpPolicy,
    glossary_with_digest,
    probe_text,
    request_batches,
    secret_digest,
)
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine, remote_probe
from presseschau.translate.glossary import Glossary

log = logging.getLogger("presseschau.translate")

FREE_URL = "https://api-free.deepl.com"
PRO_URL = "https://api.deepl.com"
MAX_TEXTS = 50
# DeepL allows 128 KiB per request; characters of German/English text are mostly one byte.
MAX_REQUEST_CHARS = 60_000
GLOSSARY_PREFIX = "presseschau"
# How often a missing glossary is synced again (a failed first sync, a glossary not ready yet).
GLOSSARY_RETRY_S = 300.0
# Other versions of the presseschau glossary younger than this may be in use by another host.
STALE_GLOSSARY_AGE_S = 24 * 3600.0


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


def created_at(glossary: dict[str, Any]) -> float | None:
    """A listed glossary's `creation_time` as a Unix timestamp; None when missing or unreadable."""
    value = glossary.get("creation_time")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return None


def glossary_refused(error: EngineRequestError) -> bool:
    """Whether DeepL refused a translation because of its glossary_id (deleted, unknown)."""
    return error.status in (400, 404) and "glossary" in error.detail.lower()


class DeepLEngine:
    name = "deepl"

    def __init__(
        self,
        client: HttpClient,
        formality: str = "default",
        glossary: Glossary | None = None,
        source_language: str = "en",
        target_language: str = "de",
        glossary_retry_s: float = GLOSSARY_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.formality = formality
        self.model: str | None = "deepl-v2"
        # Characters: DeepL bills and limits by characters, so the document translator counts them.
        self.max_input_tokens = 5000
        self.call_tokens = MAX_REQUEST_CHARS
        self.glossary = glossary
        self.glossary_pair = (source_language, target_language)
        self.glossary_tsv = glossary_tsv(glossary) if glossary is not None else ""
        self.glossary_id: str | None = None
        self.glossary_retry_s = glossary_retry_s
        self.clock = clock
        self.wall_clock = wall_clock
        self._next_sync = 0.0
        self._sync_lock = threading.Lock()

    @property
    def substitute_terms(self) -> bool:
        # Without a DeepL glossary in use, terms are substituted before the call instead.
        return self.glossary_id is None

    def count_tokens(self, text: str) -> int:
        return len(text)

    # Glossary ----------------------------------------------------------------------------------

    def sync_glossary(self) -> str | None:
        """Find or create the DeepL glossary for the current presseschau glossary; delete stale ones."""
        if not self.glossary_tsv:
            return None
        tsv = self.glossary_tsv
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
        if found.get("ready") is False:
            # DeepL refuses translations with a glossary that is still being built: try again later.
            log.info("deepl: glossary %s not ready yet", name)
            return None
        self.glossary_id = glossary_id
        self._delete_stale(existing, prefix, glossary_id)
        return glossary_id

    def _delete_stale(self, existing: list[Any], prefix: str, keep: str) -> None:
        cutoff = self.wall_clock() - STALE_GLOSSARY_AGE_S
        for stale in existing:
            if not isinstance(stale, dict) or not str(stale.get("name", "")).startswith(prefix):
                continue
            created = created_at(stale)
            if stale.get("glossary_id") == keep or created is None or created > cutoff:
                continue  # recent: another host may still translate with this version
            try:
                self.client.request("DELETE", f"/v2/glossaries/{stale['glossary_id']}", expect_json=False)
            except EngineError as error:
                # Someone else deleted it first, or DeepL hiccuped: the next sync tries again.
                log.info("deepl: stale glossary %s not deleted (%s)", stale.get("name"), error)

    def prepare_glossary(self, force: bool = False) -> None:
        """Sync unless a glossary is in use or the last try is recent; a failure leaves substitution on."""
        if not self.glossary_tsv or self.glossary_id is not None:
            return
        with self._sync_lock:
            # Another thread may have synced meanwhile.
            if self.glossary_id is not None or (not force and self.clock() < self._next_sync):
                return
            self._next_sync = self.clock() + self.glossary_retry_s
            try:
                self.sync_glossary()
            except EngineError as error:
                log.warning("deepl: glossary not synced (%s); terms are substituted before translation", error)

    def _forget_glossary(self, glossary_id: str) -> None:
        with self._sync_lock:
            if self.glossary_id == glossary_id:
                self.glossary_id = None

    # Translation -------------------------------------------------------------------------------

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        escaped = [html.escape(segment, quote=False) for segment in segments]
        return [html.unescape(answer) for answer in self.translate_html(escaped, source_language, target_language)]

    def translate_html(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        """Inline-HTML segments in, inline HTML out, tags placed by DeepL."""
        self.prepare_glossary()
        outputs: list[str] = []
        for chunk in request_batches(segments, MAX_TEXTS, MAX_REQUEST_CHARS):
            outputs.extend(self._translate(chunk, source_language, target_language))
        return outputs

    def _translate(self, texts: list[str], source_language: str, target_language: str) -> list[str]:
        """Translate HTML fragments; the answers are HTML fragments too."""
        body: dict[str, Any] = {
            "text": texts,
            "source_lang": source_language.upper(),
            "target_lang": target_language.upper(),
            "tag_handling": "html",
            # Segments are sentences already; DeepL must not split or merge them further.
            "split_sentences": "nonewlines",
            "show_billed_characters": True,
        }
        if self.formality != "default":
            body["formality"] = self.formality
        glossary_id = self.glossary_id
        if glossary_id and (source_language, target_language) == self.glossary_pair:
            body["glossary_id"] = glossary_id
        try:
            answer = self.client.request("POST", "/v2/translate", json_body=body)
        except EngineRequestError as error:
            if "glossary_id" not in body or not glossary_refused(error):
                raise
            # Deleted remotely (by hand, or as stale by another host): re-create it once and repeat.
            log.warning("deepl: glossary %s refused (%s); syncing it again", body["glossary_id"], error.detail)
            self._forget_glossary(body["glossary_id"])
            self.prepare_glossary(force=True)
            body.pop("glossary_id")
            if self.glossary_id:
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


def _deepl_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:

    api_key = settings.deepl_api_key
    if not api_key:
        raise EngineNotReady("deepl: no API key (set PRESSESCHAU_DEEPL_API_KEY or deepl_api_key in presseschau.toml)")
    url = settings.deepl_api_url or default_url(api_key)
    glossary, digest = glossary_with_digest(settings)

    def build() -> Engine:
        return build_deepl(
            api_key,
            url,
            settings.deepl_formality,
            HttpPolicy.from_settings(settings),
            glossary,
            settings.source_language,
            settings.target_language,
        )

    key = (
        "deepl",
        url,
        secret_digest(api_key),
        settings.deepl_formality,
        digest,
        settings.source_language,
        settings.target_language,
    )
    return key, build


register_engine(
    EngineSpec(
        "deepl",
        "DeepL API (free or pro key), DeepL glossary synced from presseschau's, formality, character usage",
        _deepl_factory,
        remote_probe("deepl"),
    )
)
