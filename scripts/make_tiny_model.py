#!/usr/bin/env python
"""Build the tiny English→German test model (random weights: it translates nothing, on purpose).

Writes, in the real OPUS-MT (Marian) release format, `tests/fixtures/models/tiny-en-de-opus-mt.zip`
(decoder.yml, model .npz, vocab .yml, source.spm, target.spm) and converts it with presseschau's
import path, i.e. CTranslate2's `OpusMTConverter`, into `tests/fixtures/models/tiny-en-de/`.
The SentencePiece vocabulary is trained on local text: the FLORES dev set in ../shared when it is
there, else this repository's Python sources and Markdown files.

    python scripts/make_tiny_model.py [--output tests/fixtures/models]

`--architecture opus-mt` builds the same random model at the size of the real opus-mt-en-de
(6+6 layers, 512 dimensions, 8 heads, 2,048 FFN, a 58,101-entry output vocabulary) for benchmarks
only: its compute per token is a real model's, so bench/pipeline.py can show where the time goes
with a realistic engine. It is still random and never a translation; it is not committed.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import sentencepiece as spm
import yaml

ROOT = Path(__file__).resolve().parents[1]
VOCAB_SIZE = 600
# name -> (layers, model dimension, FFN dimension, heads, output vocabulary size)
ARCHITECTURES = {"tiny": (1, 32, 64, 2, 0), "opus-mt": (6, 512, 2048, 8, 58101)}
MAX_INPUT_TOKENS = 128  # low on purpose: 300-word sentences (~700 tokens here) must be split


SHORT_PIECE_BIAS = 10.0


def training_text() -> list[str]:
    flores = ROOT.parent / "shared" / "eval" / "flores-dev"
    lines: list[str] = []
    for name in ("flores-dev.en", "flores-dev.de"):
        path = flores / name
        if path.is_file():
            lines += path.read_text(encoding="utf-8").splitlines()
    if not lines:
        for path in sorted(ROOT.glob("**/*.md")) + sorted((ROOT / "presseschau").glob("**/*.py")):
            lines += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def train_spm(directory: Path) -> spm.SentencePieceProcessor:
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(training_text()) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(directory / "spm"),
        vocab_size=VOCAB_SIZE,
        model_type="unigram",
        character_coverage=1.0,
        normalization_rule_name="identity",
        num_threads=1,
        seed_sentencepiece_size=20000,
        minloglevel=2,
    )
    corpus.unlink()
    return spm.SentencePieceProcessor(model_file=str(directory / "spm.model"))


def marian_vocab(processor: spm.SentencePieceProcessor) -> list[str]:
    # Marian vocabularies start with </s> and <unk>; SentencePiece's own control pieces are dropped.
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    return ["</s>", "<unk>"] + [p for p in pieces if p not in ("<unk>", "<s>", "</s>")]


def write_vocab_yml(tokens: list[str], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for index, token in enumerate(tokens):
            handle.write(f"{json.dumps(token, ensure_ascii=False)}: {index}\n")


def padded_vocab(tokens: list[str], size: int) -> list[str]:
    """`tokens` extended with never-chosen filler pieces to `size` entries (output-layer cost)."""
    return tokens + [f"\u2581filler{n}" for n in range(max(0, size - len(tokens)))]


def random_weights(tokens: list[str], architecture: str = "tiny", seed: int = 1234) -> dict[str, np.ndarray]:
    layers, dim, ffn_dim, heads, _ = ARCHITECTURES[architecture]
    vocab_size = len(tokens)
    rng = np.random.default_rng(seed)
    scale_factor: float = (32 / dim) ** 0.5  # keeps activations in range as the dimension grows

    def matrix(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale * scale_factor).astype(np.float32)

    weights: dict[str, np.ndarray] = {"Wemb": matrix(vocab_size, dim, scale=0.5)}

    def attention(scope: str) -> None:
        for part in ("q", "k", "v", "o"):
            weights[f"{scope}_W{part}"] = matrix(dim, dim)
            weights[f"{scope}_b{part}"] = np.zeros((1, dim), np.float32)
        weights[f"{scope}_Wo_ln_scale"] = np.ones((1, dim), np.float32)
        weights[f"{scope}_Wo_ln_bias"] = np.zeros((1, dim), np.float32)

    def ffn(scope: str) -> None:
        weights[f"{scope}_W1"] = matrix(dim, ffn_dim)
        weights[f"{scope}_b1"] = np.zeros((1, ffn_dim), np.float32)
        weights[f"{scope}_W2"] = matrix(ffn_dim, dim)
        weights[f"{scope}_b2"] = np.zeros((1, dim), np.float32)
        weights[f"{scope}_ffn_ln_scale"] = np.ones((1, dim), np.float32)
        weights[f"{scope}_ffn_ln_bias"] = np.zeros((1, dim), np.float32)

    for layer in range(1, layers + 1):
        attention(f"encoder_l{layer}_self")
        ffn(f"encoder_l{layer}_ffn")
        attention(f"decoder_l{layer}_self")
        attention(f"decoder_l{layer}_context")
        ffn(f"decoder_l{layer}_ffn")
    bias = np.zeros((1, vocab_size), np.float32)
    # Suppress </s>: random weights know nothing of length, so the output runs to the decoding limit
    # the engine derives from the input length -- plausible lengths, so pipeline tests can finish articles.
    bias[0, 0] = -30.0
    # Prefer one-character pieces (no word boundary): the decoding limit counts tokens, the coverage
    # check characters, so short pieces keep the output's character length near the input's.
    for index, token in enumerate(tokens[2:], start=2):
        if len(token) == 1 and token != "\u2581":
            bias[0, index] = SHORT_PIECE_BIAS
        elif token.startswith("\u2581filler"):
            bias[0, index] = -30.0  # padding for size only: computed, never chosen
    weights["decoder_ff_logit_out_b"] = bias
    config = {
        "type": "transformer",
        "enc-depth": layers,
        "dec-depth": layers,
        "dim-emb": dim,
        "transformer-dim-ffn": ffn_dim,
        "transformer-heads": heads,
        "transformer-ffn-activation": "swish",
        "transformer-decoder-autoreg": "self-attention",
        "transformer-no-projection": False,
        "transformer-preprocess": "",
        "transformer-postprocess": "dan",
        "transformer-postprocess-emb": "d",
        "transformer-guided-alignment-layer": "last",
        "tied-embeddings-all": True,
    }
    raw = yaml.safe_dump(config).encode("utf-8") + b"\0"
    weights["special:model.yml"] = np.frombuffer(raw, dtype=np.int8).copy()
    return weights


def build_release(directory: Path, architecture: str = "tiny") -> None:
    processor = train_spm(directory)
    tokens = padded_vocab(marian_vocab(processor), ARCHITECTURES[architecture][4])
    write_vocab_yml(tokens, directory / "opus.spm600.vocab.yml")
    np.savez(
        directory / "opus.spm600.transformer.model1.npz.best-perplexity.npz",
        allow_pickle=False,  # plain number arrays; named, so no weight's name can be taken for the option
        **random_weights(tokens, architecture),
    )
    shutil.copy(directory / "spm.model", directory / "source.spm")
    shutil.move(directory / "spm.model", directory / "target.spm")
    (directory / "spm.vocab").unlink()
    (directory / "decoder.yml").write_text(
        yaml.safe_dump(
            {
                "models": ["opus.spm600.transformer.model1.npz.best-perplexity.npz"],
                "vocabs": ["opus.spm600.vocab.yml", "opus.spm600.vocab.yml"],
                "beam-size": 4,
                "normalize": 1,
            }
        ),
        encoding="utf-8",
    )
    (directory / "README.md").write_text(
        "# tiny-en-de (test fixture)\n\nRandom weights in the OPUS-MT release layout. It produces nonsense;\n"
        "it exists to exercise download, conversion and inference. Made by scripts/make_tiny_model.py.\n",
        encoding="utf-8",
    )


def zip_release(directory: Path, archive: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.iterdir()):
            info = zipfile.ZipInfo(path.name, date_time=(2024, 1, 1, 0, 0, 0))  # reproducible archive
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    archive.write_bytes(buffer.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "tests" / "fixtures" / "models")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="tiny")
    args = parser.parse_args()
    name = "tiny-en-de" if args.architecture == "tiny" else f"random-{args.architecture}-en-de"
    sys.path.insert(0, str(ROOT))
    from presseschau.translate.models.catalog import ModelStore
    from presseschau.translate.models.meta import ModelMeta

    args.output.mkdir(parents=True, exist_ok=True)
    archive = args.output / f"{name}-opus-mt.zip"
    with tempfile.TemporaryDirectory() as scratch:
        release = Path(scratch) / "release"
        release.mkdir()
        build_release(release, args.architecture)
        zip_release(release, archive)
        store = ModelStore(Path(scratch) / "models")
        meta = ModelMeta(
            name=name,
            max_input_tokens=MAX_INPUT_TOKENS if args.architecture == "tiny" else 512,
            license="CC0-1.0 (random weights, test fixture)",
            origin="scripts/make_tiny_model.py",
        )
        installed = store.import_path(archive, name=name, meta=meta)
        target = args.output / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(installed, target)
    size = sum(f.stat().st_size for f in args.output.rglob("*") if f.is_file())
    print(f"wrote {archive} and {target} ({size / 1024:.0f} KiB in {args.output})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
