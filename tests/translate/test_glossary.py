from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from presseschau.app import AppContext
from presseschau.content import Paragraph
from presseschau.translate.document import Document, DocumentTranslator
from presseschau.translate.engines.memory import MemoryEngine
from presseschau.translate.glossary import Glossary, GlossaryError, Term
from presseschau.translate.memory import TranslationMemory

from .conftest import FakeEngine


def test_tsv_and_toml_formats(tmp_path: Path) -> None:
    tsv = tmp_path / "g.tsv"
    tsv.write_text("# names\nKyiv\tKiew\nLukashenko\tLukaschenko\nBellingcat\n", encoding="utf-8")
    terms = {t.source: t.target for t in Glossary.load(tsv).terms}
    assert terms == {"Kyiv": "Kiew", "Lukashenko": "Lukaschenko", "Bellingcat": "Bellingcat"}
    toml = tmp_path / "g.toml"
    toml.write_text(
        '[terms]\nCrimea = "Krim"\n[[term]]\nsource = "kremlin"\ntarget = "Kreml"\ncase_sensitive = false\n'
    )
    loaded = Glossary.load(toml)
    assert {(t.source, t.target, t.case_sensitive) for t in loaded.terms} == {
        ("Crimea", "Krim", True),
        ("kremlin", "Kreml", False),
    }
    bad = tmp_path / "bad.tsv"
    bad.write_text("Kyiv\tKiew\nKyiv\tKijiw\n")
    with pytest.raises(GlossaryError, match="twice"):
        Glossary.load(bad)


def test_terms_enforced_through_the_engine() -> None:
    glossary = Glossary([Term("Kyiv", "Kiew"), Term("Lukashenko", "Lukaschenko"), Term("Crimea", "Krim")])
    engine = FakeEngine()
    document = Document("", [Paragraph.from_text("Troops moved toward Kyiv and Crimea. Lukashenko said Crimean wine.")])
    result = DocumentTranslator(engine, glossary=glossary).translate(document)
    text = result.paragraphs[0].text
    assert "Kiew" in text and "Krim." in text and "Lukaschenko" in text
    assert "Crimean" in text  # word boundaries: a longer word is not a term
    sent = " ".join(s for call in engine.calls for s in call)
    assert "Kyiv" not in sent  # the engine saw the required form, not the source term
    assert result.report.glossary_enforced == 3
    assert result.report.glossary_not_enforced == []


class ManglingEngine(FakeEngine):
    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        return [s.replace("Kiew", "Kyjiw") for s in super().translate_batch(segments, source_language, target_language)]


def test_term_the_engine_changed_is_reported() -> None:
    glossary = Glossary([Term("Kyiv", "Kiew")])
    result = DocumentTranslator(ManglingEngine(), glossary=glossary).translate(
        Document("", [Paragraph.from_text("The market in Kyiv rose.")])
    )
    assert result.report.glossary_not_enforced == [
        {"paragraph": 0, "term": "Kyiv", "target": "Kiew", "segment": "The market in Kyiv rose."}
    ]


def test_memory_engine_lookups_are_not_broken_by_substitution(context: AppContext) -> None:
    TranslationMemory(context.database, "en", "de").import_pairs(
        [("Troops moved toward Kyiv.", "Truppen zogen nach Kiew.")]
    )
    glossary = Glossary([Term("Kyiv", "Kiew")])
    memory_engine = MemoryEngine(context.database)
    result = DocumentTranslator(memory_engine, glossary=glossary).translate(
        Document("", [Paragraph.from_text("Troops moved toward Kyiv.")])
    )
    assert result.complete and result.paragraphs[0].text == "Truppen zogen nach Kiew."
    assert result.report.glossary_enforced == 1


def test_paragraph_level_memory_entry_is_repaired_between_tags(context: AppContext) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    source = 'Troops near <a href="https://ex.org/Kyiv">Kyiv</a>, Crimea and Minsk.'
    memory.import_pairs([(source, 'Truppen bei <a href="https://ex.org/Kyiv">Kyiv</a>, Krim und Minsk.')])
    glossary = Glossary([Term("Kyiv", "Kiew"), Term("Crimea", "Krim"), Term("Minsk", "Minsk")])
    result = DocumentTranslator(MemoryEngine(context.database), memory, glossary).translate(
        Document("", [Paragraph("p", source)])
    )
    assert result.paragraphs[0].html == 'Truppen bei <a href="https://ex.org/Kyiv">Kiew</a>, Krim und Minsk.'
    assert result.report.glossary_enforced == 3 and result.report.glossary_not_enforced == []


def test_terms_never_rewrite_each_other() -> None:
    glossary = Glossary([Term("Times", "Zeiten"), Term("Financial Times", "Financial Times"), Term("Kyiv", "Kiew")])
    prepared = glossary.prepare("The Financial Times reported from Kyiv; hard Times.")
    assert prepared.text == "The Financial Times reported from Kiew; hard Zeiten."
    assert {t.source for t in prepared.applied} == {"Financial Times", "Kyiv", "Times"}
    # Repair replaces a copied-through "Times" but not the one inside the kept name.
    repaired, missing = glossary.repair("Die Financial Times berichtete aus Kiew über Times.", prepared.applied)
    assert repaired == "Die Financial Times berichtete aus Kiew über Zeiten."
    assert missing == []
    result = DocumentTranslator(FakeEngine(), glossary=glossary).translate(
        Document("", [Paragraph.from_text("The Financial Times reported it.")])
    )
    assert "Financial Times" in result.paragraphs[0].text and "Zeiten" not in result.paragraphs[0].text
    assert result.report.glossary_not_enforced == []


def test_case_insensitive_terms_in_the_single_pass() -> None:
    glossary = Glossary([Term("kremlin", "Kreml", case_sensitive=False), Term("Kyiv", "Kiew")])
    assert glossary.prepare("The KREMLIN and kyiv.").text == "The Kreml and kyiv."


def test_unreadable_glossaries_are_clear_errors(tmp_path: Path) -> None:
    binary = tmp_path / "g.tsv"
    binary.write_bytes(b"Kyiv\tKiew\n\xff\xfe\n")
    with pytest.raises(GlossaryError, match=r"g\.tsv is not UTF-8 text"):
        Glossary.load(binary)
    with pytest.raises(GlossaryError, match=r"cannot read glossary .*missing\.tsv: No such file"):
        Glossary.load(tmp_path / "missing.tsv")
    toml = tmp_path / "g.toml"
    toml.write_text("[terms]\nKyiv = 5\n")
    with pytest.raises(GlossaryError, match="must be a string"):
        Glossary.load(toml)
    toml.write_text('[terms]\nKyiv = "Kiew"\n[[term]]\nsource = "Kyiv"\ntarget = "Kyjiw"\n')
    with pytest.raises(GlossaryError, match="twice with different targets"):
        Glossary.load(toml)
