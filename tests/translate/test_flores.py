"""Acceptance: document fidelity on FLORES dev with the `memory` engine loaded from Google's outputs."""

from __future__ import annotations

import re
from pathlib import Path

import sacrebleu

from presseschau.app import AppContext
from presseschau.content import Paragraph
from presseschau.translate.document import Document, DocumentTranslator
from presseschau.translate.engines.memory import MemoryEngine
from presseschau.translate.memory import TranslationMemory

GOOGLE_BLEU = 44.5  # tests/data/eval/flores-dev/README.md


def untypeset(text: str) -> str:
    """Compare modulo typography: quotes and protected spaces as plain ASCII."""
    text = re.sub("[„“”]", '"', text)
    return re.sub("[‚‘’]", "'", text).replace("\u00a0", " ")


def test_flores_document_fidelity_with_memory_engine(test_data_dir: Path, context: AppContext) -> None:
    flores = test_data_dir / "eval" / "flores-dev"
    english = (flores / "flores-dev.en").read_text(encoding="utf-8").splitlines()
    google = (flores / "flores-dev.google.de").read_text(encoding="utf-8").splitlines()
    reference = (flores / "flores-dev.de").read_text(encoding="utf-8").splitlines()
    assert len(english) == len(google) == len(reference) == 997

    memory = TranslationMemory(context.database, "en", "de")
    assert memory.import_pairs(zip(english, google, strict=True)) == 997  # one entry per line
    groups = [list(range(start, min(start + 10, 997))) for start in range(0, 997, 10)]
    document = Document("", [Paragraph.from_text(" ".join(english[i] for i in group)) for group in groups])

    result = DocumentTranslator(MemoryEngine(context.database), memory).translate(document)

    assert len(result.paragraphs) == 100
    assert result.complete, result.report.failed_segments
    lines: list[str] = []
    for paragraph, group in zip(result.paragraphs, groups, strict=True):
        text = paragraph.text
        assert untypeset(text) == untypeset(" ".join(google[i] for i in group))
        # Typography replaces characters one for one, so the lines sit at Google's offsets.
        position = 0
        for i in group:
            lines.append(text[position : position + len(google[i])])
            position += len(google[i]) + 1
    assert [untypeset(line) for line in lines] == [untypeset(line) for line in google]
    bleu = sacrebleu.corpus_bleu(lines, [reference]).score
    print(
        f"\nflores memory fidelity: 100 paragraphs, BLEU {bleu:.2f} (Google {GOOGLE_BLEU}); {result.report.summary()}"
    )
    assert abs(bleu - GOOGLE_BLEU) <= 0.3
