"""The local engine: a CTranslate2 model with SentencePiece, loaded once per process."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from presseschau.config import Settings
from presseschau.translate.engines.base import Engine, EngineNotReady, UnsupportedLanguagePair
from presseschau.translate.engines.registry import Builder, EngineSpec, register_engine
from presseschau.translate.models.meta import ModelMeta
from presseschau.translate.models.resolution import ct2_model_dir, ct2_readiness

log = logging.getLogger("presseschau.translate")

# Language tokens of multilingual models (FLORES-200 codes for NLLB).
_NLLB_CODES = {
    "en": "eng_Latn", "de": "deu_Latn", "fr": "fra_Latn", "es": "spa_Latn", "it": "ita_Latn",
    "nl": "nld_Latn", "pl": "pol_Latn", "pt": "por_Latn", "ru": "rus_Cyrl", "uk": "ukr_Cyrl",
    "tr": "tur_Latn", "ar": "arb_Arab", "zh": "zho_Hans", "ja": "jpn_Jpan", "ko": "kor_Hang",
}  # fmt: skip


def choose_device(requested: str) -> str:
    if requested in ("cpu", "cuda"):
        return requested
    import ctranslate2  # here, not at the top: the registry imports this module, most runs never load ct2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def choose_compute_type(device: str, requested: str | None) -> str:
    if requested:
        return requested
    # int8 is the fast CPU path; float16 is the fast, accurate GPU path.
    return "float16" if device == "cuda" else "int8"


class CT2Engine:
    """Translate with a CTranslate2 model directory (see `presseschau.translate.models.catalog`)."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "auto",
        compute_type: str | None = None,
        threads: int = 0,
        beam_size: int = 4,
        length_penalty: float = 1.0,
        max_batch_tokens: int = 2048,
        max_input_tokens: int | None = None,
        max_decoding_length: int | None = None,
    ) -> None:
        self.name = "ct2"
        self.model_dir = model_dir
        self.meta = ModelMeta.read(model_dir)
        self.model: str | None = self.meta.name
        self.max_input_tokens = max_input_tokens or self.meta.max_input_tokens
        self.device = choose_device(device)
        self.compute_type = choose_compute_type(self.device, compute_type)
        self.beam_size = beam_size
        self.length_penalty = length_penalty
        # CTranslate2's own batch size (tokens); it sorts and splits each call by it, so callers
        # should send large calls (`call_tokens`) rather than many small ones.
        self.max_batch_tokens = max_batch_tokens
        self.call_tokens = max(65536, max_batch_tokens)
        # None: derived from each batch's longest input (the normal case); a fixed value is for
        # benchmarks that must give every caller the same decoding budget.
        self.max_decoding_length = max_decoding_length
        import ctranslate2
        import sentencepiece as spm

        try:
            self.translator = ctranslate2.Translator(
                str(model_dir),
                device=self.device,
                compute_type=self.compute_type,
                intra_threads=threads or min(8, os.cpu_count() or 1),
            )
            self.source_sp = spm.SentencePieceProcessor(model_file=str(model_dir / self.meta.source_spm))
            self.target_sp = spm.SentencePieceProcessor(model_file=str(model_dir / self.meta.target_spm))
        except (RuntimeError, OSError, ValueError) as error:
            raise EngineNotReady(f"cannot load CTranslate2 model {model_dir}: {error}") from error
        # count_tokens runs before translate_batch on the same text: keep recent encodings.
        self._tokens: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()
        log.info("loaded %s on %s (%s)", model_dir, self.device, self.compute_type)

    def _encode(self, text: str) -> list[str]:
        with self._lock:
            cached = self._tokens.get(text)
            if cached is not None:
                self._tokens.move_to_end(text)
                return cached
        tokens: list[str] = self.source_sp.encode(text, out_type=str)
        with self._lock:
            self._tokens[text] = tokens
            if len(self._tokens) > 20000:
                self._tokens.popitem(last=False)
        return tokens

    def count_tokens(self, text: str) -> int:
        return len(self._encode(text))

    def is_ready(self) -> tuple[bool, str]:
        return True, f"model {self.model} on {self.device} ({self.compute_type})"

    def _language_tokens(self, source_language: str, target_language: str) -> tuple[list[str], list[str]]:
        scheme = self.meta.language_tokens
        if scheme is None:
            src_ok = "*" in self.meta.source_languages or source_language in self.meta.source_languages
            tgt_ok = "*" in self.meta.target_languages or target_language in self.meta.target_languages
            if not (src_ok and tgt_ok):
                raise UnsupportedLanguagePair(
                    f"model {self.model} translates {self.meta.source_languages}→{self.meta.target_languages}, "
                    f"not {source_language}→{target_language}"
                )
            return [], []
        if scheme == "nllb":
            try:
                return [_NLLB_CODES[source_language]], [_NLLB_CODES[target_language]]
            except KeyError as error:
                raise UnsupportedLanguagePair(f"no NLLB language code known for {error}") from error
        return [f"__{source_language}__"], [f"__{target_language}__"]

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        return self._translate(segments, source_language, target_language)

    def translate_retry(self, segment: str, source_language: str, target_language: str) -> str:
        """A second opinion for a segment that failed the coverage check.

        Beam search is deterministic, so the same call would give the same output. The usual NMT
        failures are repetition loops (too long) and early stops (too short): a wider beam, a
        repetition penalty and a stronger length reward address both.
        """
        return self._translate(
            [segment],
            source_language,
            target_language,
            beam_size=max(4, 2 * self.beam_size),
            length_penalty=max(1.5, self.length_penalty),
            repetition_penalty=1.2,
            no_repeat_ngram_size=4,
        )[0]

    def _translate(
        self, segments: Sequence[str], source_language: str, target_language: str, **options: float
    ) -> list[str]:
        if not segments:
            return []
        source_prefix, target_prefix = self._language_tokens(source_language, target_language)
        batch = [source_prefix + self._encode(s) + (["</s>"] if source_prefix else []) for s in segments]
        longest = max(len(tokens) for tokens in batch)
        results = self.translator.translate_batch(
            batch,
            target_prefix=[list(target_prefix) for _ in batch] if target_prefix else None,
            beam_size=int(options.pop("beam_size", self.beam_size)),
            length_penalty=options.pop("length_penalty", self.length_penalty),
            # German runs ~20 % longer than English; 2x + 10 leaves room without letting a
            # degenerate repetition loop run for thousands of steps.
            max_decoding_length=self.max_decoding_length or 2 * longest + 10,
            # 0 disables CTranslate2's silent input truncation: the document translator already
            # split anything longer than max_input_tokens.
            max_input_length=0,
            max_batch_size=self.max_batch_tokens,
            batch_type="tokens",
            **options,
        )
        outputs = []
        for result in results:
            tokens = result.hypotheses[0]
            if target_prefix and tokens[: len(target_prefix)] == target_prefix:
                tokens = tokens[len(target_prefix) :]
            outputs.append(self.target_sp.decode(tokens))
        return outputs


def _ct2_factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Builder]:
    model_dir = ct2_model_dir(settings, model)
    device = choose_device(settings.ct2_device)

    def build() -> Engine:
        return CT2Engine(
            model_dir,
            device=device,
            compute_type=settings.ct2_compute_type,
            threads=settings.ct2_threads,
            beam_size=settings.beam_size,
            length_penalty=settings.length_penalty,
            max_batch_tokens=settings.max_batch_tokens,
        )

    key = ("ct2", str(model_dir.resolve()), device, settings.ct2_compute_type or "", str(settings.beam_size))
    return key, build


register_engine(
    EngineSpec(
        "ct2",
        "local CTranslate2 model (OPUS-MT, NLLB, M2M-100), CPU int8 or CUDA float16",
        _ct2_factory,
        ct2_readiness,
    )
)
