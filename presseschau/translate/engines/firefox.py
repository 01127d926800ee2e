"""The `firefox` engine: Mozilla's Firefox Translations models, run by `fxtranslate`.

Facts about `fxtranslate` this engine is built around (measured here):
- a `Translator` is bound to the thread that created it (another thread's call panics), so each
  thread that translates gets its own, built from model bytes read once;
- one translator uses one core and holds the GIL while it decodes: threads give no parallelism,
  so `workers` > 1 runs translators in worker processes instead;
- `translate()` silently drops input past the model's context, so the engine announces
  `max_input_tokens` (counted with the model's own SentencePiece vocabulary) and the document
  translator splits longer sentences before they get here; its coverage check catches the rest.

A language pair without a direct model goes through English (fr→en→de) when both models are
installed: `model` names both legs and `pivot` says through which language.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import sentencepiece as spm
from fxtranslate import Translator

from presseschau.config import Settings
from presseschau.translate.engines.base import Engine, EngineNotReady, UnsupportedLanguagePair
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine
from presseschau.translate.models.catalog import read_meta
from presseschau.translate.models.firefox_records import FirefoxFiles, find_files
from presseschau.translate.models.meta import ModelMeta
from presseschau.translate.models.resolution import firefox_model_dirs, firefox_readiness
from presseschau.translate.segment import split_long

log = logging.getLogger("presseschau.translate")


@dataclass(frozen=True)
class ModelBuffers:
    """What `fxtranslate.Translator` is built from: the files' bytes (shared vocabularies twice)."""

    model: bytes
    source_vocab: bytes
    target_vocab: bytes
    shortlist: bytes | None

    @classmethod
    def read(cls, files: FirefoxFiles) -> ModelBuffers:
        return cls(
            files.model.read_bytes(),
            files.source_vocab.read_bytes(),
            files.target_vocab.read_bytes(),
            files.shortlist.read_bytes() if files.shortlist else None,
        )

    def build(self) -> Translator:
        return Translator(self.model, self.source_vocab, self.target_vocab, self.shortlist)


@dataclass(frozen=True)
class Leg:
    """One model of the route: its directory, metadata, files and tokenizer."""

    path: Path
    meta: ModelMeta
    files: FirefoxFiles
    source_language: str
    target_language: str


def _language(code: str) -> str:
    return code.split("-")[0].split("_")[0].lower()


def _translate_all(translator: Translator, segments: Sequence[str]) -> list[str]:
    translate = translator.translate
    # The models were trained on single lines: a newline inside a segment is only white space.
    return [translate(" ".join(segment.split())) if segment.strip() else "" for segment in segments]


# Worker processes (workers > 1). Module-level so that a spawned process can import them.
_WORKER_TRANSLATORS: list[Translator] = []


def _start_worker(model_files: list[FirefoxFiles]) -> None:
    _WORKER_TRANSLATORS[:] = [ModelBuffers.read(files).build() for files in model_files]


def _translate_in_worker(leg: int, segments: list[str]) -> list[str]:
    return _translate_all(_WORKER_TRANSLATORS[leg], segments)


class FirefoxEngine:
    """Translate with one Firefox Translations model, or two chained through a pivot language."""

    def __init__(self, model_dirs: Sequence[Path], workers: int = 1, max_input_tokens: int | None = None) -> None:
        if not model_dirs:
            raise EngineNotReady("firefox: no model given")
        self.name = "firefox"
        self.legs = [self._leg(Path(path)) for path in model_dirs]
        for first, second in zip(self.legs, self.legs[1:], strict=False):
            if first.target_language != second.source_language:
                raise EngineNotReady(
                    f"firefox: {first.meta.name} ends in {first.target_language}, "
                    f"but {second.meta.name} starts from {second.source_language}"
                )
        self.source_language = self.legs[0].source_language
        self.target_language = self.legs[-1].target_language
        self.pivot: str | None = self.legs[0].target_language if len(self.legs) > 1 else None
        names = [_describe(leg.meta) for leg in self.legs]
        self.model: str | None = " + ".join(names) + (f" (pivot {self.pivot})" if self.pivot else "")
        # What the models take without cutting; `max_input_tokens` may announce more (tests, benchmarks).
        self.model_input_tokens = min(leg.meta.max_input_tokens for leg in self.legs)
        self.max_input_tokens = max_input_tokens or self.model_input_tokens
        self.workers = max(1, workers)
        try:
            self._buffers = [ModelBuffers.read(leg.files) for leg in self.legs]
            self._tokenizers = [spm.SentencePieceProcessor(model_file=str(leg.files.source_vocab)) for leg in self.legs]
        except (OSError, RuntimeError) as error:
            raise EngineNotReady(f"firefox: cannot read model files: {error}") from error
        self._local = threading.local()
        # Built here once so a malformed model fails now, with its name, not in the first article.
        self._translators()
        self._pool: Executor | None = None
        self._pool_lock = threading.Lock()
        log.info("loaded Firefox Translations %s (%d worker(s))", self.model, self.workers)

    @staticmethod
    def _leg(path: Path) -> Leg:
        files = find_files(path)
        if files is None:
            raise EngineNotReady(f"firefox: {path} holds no Firefox Translations model (model.*.bin, vocab.*.spm)")
        meta = read_meta(path)
        if len(meta.source_languages) != 1 or len(meta.target_languages) != 1:
            raise EngineNotReady(f"firefox: {path}: unknown language pair; install it with `presseschau models import`")
        return Leg(path, meta, files, _language(meta.source_languages[0]), _language(meta.target_languages[0]))

    # The Engine protocol ---------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizers[0].encode(text))

    def is_ready(self) -> tuple[bool, str]:
        return True, f"model {self.model}, {self.workers} worker(s)"

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        if (_language(source_language), _language(target_language)) != (self.source_language, self.target_language):
            raise UnsupportedLanguagePair(
                f"model {self.model} translates {self.source_language}→{self.target_language}, "
                f"not {source_language}→{target_language}"
            )
        texts = list(segments)
        for index in range(len(self.legs)):
            texts = self._run_leg(index, texts) if index == 0 else self._run_pivot_leg(index, texts)
        return texts

    def translate_retry(self, segment: str, source_language: str, target_language: str) -> str:
        """A second attempt for a segment that failed the coverage check.

        Decoding is greedy and deterministic, so the same call would give the same output; the
        usual failure of a small model on a long segment is an early stop or a dropped clause.
        The retry translates the segment's clauses one by one: halves at the best boundary, and
        pieces no longer than the model takes without cutting."""
        tokens = self.count_tokens(segment)
        if tokens < 16:
            return self.translate_batch([segment], source_language, target_language)[0]
        limit = min((tokens + 1) // 2, self.model_input_tokens)
        pieces = [segment[start:end] for start, end in split_long(segment, self.count_tokens, limit)]
        return " ".join(self.translate_batch(pieces, source_language, target_language))

    # Running the models --------------------------------------------------------------------

    def _translators(self) -> list[Translator]:
        """This thread's translators (one per leg), built on its first use."""
        translators: list[Translator] | None = getattr(self._local, "translators", None)
        if translators is None:
            try:
                translators = [buffers.build() for buffers in self._buffers]
            except ValueError as error:
                raise EngineNotReady(f"firefox: cannot load {self.model}: {error}") from error
            self._local.translators = translators
        return translators

    def _run_leg(self, index: int, texts: list[str]) -> list[str]:
        if self.workers == 1 or len(texts) < 2:
            return _translate_all(self._translators()[index], texts)
        pool = self._worker_pool()
        # Contiguous chunks, a few per worker, so a slow chunk does not leave the others idle.
        size = max(1, -(-len(texts) // (self.workers * 4)))
        chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
        results = pool.map(_translate_in_worker, [index] * len(chunks), chunks)
        return [text for chunk in results for text in chunk]

    def _run_pivot_leg(self, index: int, texts: list[str]) -> list[str]:
        """The second leg gets the first leg's output, which may be longer than its input limit."""
        tokenizer = self._tokenizers[index]
        limit = self.legs[index].meta.max_input_tokens

        def count(text: str) -> int:
            return len(tokenizer.encode(text))

        pieces: list[list[str]] = [
            [text[s:e] for s, e in split_long(text, count, limit)] if count(text) > limit else [text] for text in texts
        ]
        flat = self._run_leg(index, [piece for group in pieces for piece in group])
        outputs, position = [], 0
        for group in pieces:
            outputs.append(" ".join(flat[position : position + len(group)]))
            position += len(group)
        return outputs

    def _worker_pool(self) -> Executor:
        with self._pool_lock:
            if self._pool is None:
                # spawn, not fork: this process runs threads (server, workers) that fork would copy mid-state.
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=([leg.files for leg in self.legs],),
                )
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None


def _describe(meta: ModelMeta) -> str:
    details = " ".join(part for part in (meta.architecture, meta.version) if part)
    return f"{meta.name} ({details})" if details else meta.name


def _firefox_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    model_dirs = firefox_model_dirs(settings, model)

    def build() -> Engine:
        return FirefoxEngine(model_dirs, workers=settings.firefox_workers)

    return ("firefox", *(str(path.resolve()) for path in model_dirs), str(settings.firefox_workers)), build


register_engine(
    EngineSpec(
        "firefox",
        "local Firefox Translations model (Mozilla, Marian int8; ~20-40 MB per pair), CPU; the default",
        _firefox_factory,
        firefox_readiness,
    )
)
