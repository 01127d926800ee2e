from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.content import Paragraph
from presseschau.translate.document import Document, DocumentTranslator
from presseschau.translate.memory import TranslationMemory

from .conftest import FakeEngine, fake_translate

LINKED = Paragraph(
    "p",
    'The market <a href="https://ex.org/a">rose sharply</a> today. Prices <em>fell</em> in '
    '<a href="https://ex.org/b">the capital</a>. Read <strong><a href="https://ex.org/c">this report</a></strong>.',
)


def hrefs(fragment: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', fragment)


def test_structure_kinds_title_and_markup_round_trip(fake_engine: FakeEngine) -> None:
    document = Document(
        "The market rose",
        [Paragraph("h2", "Prices fell"), LINKED, Paragraph("pre", "x = 1  # code"), Paragraph("li", "Today.")],
    )
    result = DocumentTranslator(fake_engine).translate(document)
    assert result.complete
    assert result.title == "Der Markt stieg"
    assert [p.kind for p in result.paragraphs] == ["h2", "p", "pre", "li"]
    assert result.paragraphs[2].html == "x = 1  # code"  # code is not translated
    html = result.paragraphs[1].html
    assert html == (
        'Der Markt <a href="https://ex.org/a">stieg stark</a> heute. Preise <em>fielen</em> in '
        '<a href="https://ex.org/b">der Hauptstadt</a>. Lies <strong><a href="https://ex.org/c">diesen Bericht</a>'
        "</strong>."
    )
    assert result.report.markup_approximate == 0
    json.dumps(result.report.to_json())  # storable in Translation.report


def test_identical_sentences_sent_once_and_batches_bounded(fake_engine: FakeEngine) -> None:
    paragraphs = [Paragraph.from_text("The market rose. The market rose. Prices fell today.")] * 3
    translator = DocumentTranslator(fake_engine, max_batch_tokens=4)
    result = translator.translate(Document("", paragraphs))
    assert fake_engine.segments_sent == 2
    assert len(fake_engine.calls) == 2  # 4 + 4 tokens do not fit one batch of 4
    assert all(p.text == "Der Markt stieg. Der Markt stieg. Preise fielen heute." for p in result.paragraphs)


def test_segments_sorted_by_length_unless_engine_keeps_document_order() -> None:
    sentences = ["The market rose sharply today in the capital.", "Prices fell.", "He said this was very important."]
    document = Document("", [Paragraph.from_text(text) for text in sentences])
    sorting = FakeEngine()
    DocumentTranslator(sorting).translate(document)
    assert [segment for call in sorting.calls for segment in call] == sorted(sentences, key=sorting.count_tokens)

    ordered = FakeEngine()
    ordered.keep_order = True  # type: ignore[attr-defined]  # as the LLM engine declares it
    DocumentTranslator(ordered).translate(document)
    assert [segment for call in ordered.calls for segment in call] == sentences


def test_long_sentence_split_for_the_engine_and_rejoined() -> None:
    engine = FakeEngine(max_input_tokens=25)
    clause = "the market rose sharply today in the capital"
    sentence = ", ".join([clause] * 12) + "."
    result = DocumentTranslator(engine).translate(Document("", [Paragraph.from_text(sentence)]))
    assert result.complete
    assert len(result.report.split_sentences) == 1
    assert result.report.split_sentences[0]["pieces"] >= 4
    assert result.paragraphs[0].text == fake_translate(sentence)  # every clause came back, in order


def test_memory_reuse_second_run_makes_no_engine_calls(context: AppContext, fake_engine: FakeEngine) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    clause = "the market rose sharply today in the capital"
    long_sentence = ", ".join([clause] * 8) + "."
    fake_engine.max_input_tokens = 30
    document = Document("The market rose", [LINKED, Paragraph.from_text(long_sentence)])
    first = DocumentTranslator(fake_engine, memory).translate(document)
    assert first.report.engine_calls > 0
    calls = len(fake_engine.calls)
    second = DocumentTranslator(fake_engine, memory).translate(document)
    assert len(fake_engine.calls) == calls, "a re-run must cost zero engine calls"
    assert second.report.engine_calls == 0
    assert second.paragraphs == first.paragraphs and second.title == first.title
    entry = memory.entries()[0]
    assert (entry.engine, entry.model, entry.origin) == ("fake", "fake-1", "machine")


def test_memory_lookups_share_one_session_and_none_is_open_while_the_engine_runs(
    context: AppContext, fake_engine: FakeEngine
) -> None:
    opened: list[Session] = []
    open_during_engine: list[int] = []

    def sessions() -> Session:
        session = context.database.sessions()
        opened.append(session)
        return session

    engine_translate = fake_engine.translate_batch

    def translate(segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        open_during_engine.append(sum(1 for session in opened if session.in_transaction()))
        return engine_translate(segments, source_language, target_language)

    fake_engine.translate_batch = translate  # type: ignore[method-assign]
    memory = TranslationMemory(sessions, "en", "de")
    memory.store([("Prices fell in the capital.", "Die Preise fielen in der Hauptstadt.")])
    opened.clear()
    document = Document("The market rose", [LINKED, Paragraph.from_text("Prices fell in the capital. It rained.")])
    result = DocumentTranslator(fake_engine, memory).translate(document)
    assert result.report.memory_hits == 2 and result.report.engine_calls > 0  # in both paragraphs
    # Paragraph, sentence, cover and tag-text lookups in one session; the new entries stored in another.
    assert len(opened) == 2
    assert open_during_engine and set(open_during_engine) == {0}


def test_paragraph_level_memory_entry_with_html_used_as_is(context: AppContext, fake_engine: FakeEngine) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    german = 'Der Markt <a href="https://ex.org/a">stieg „stark“</a>.'
    memory.import_pairs([('The  market <a href="https://ex.org/a">rose sharply</a>.', german)])
    result = DocumentTranslator(fake_engine, memory).translate(
        Document("", [Paragraph("p", 'The market <a href="https://ex.org/a">rose sharply</a>.')])
    )
    assert result.paragraphs[0].html == german
    assert fake_engine.calls == []
    assert result.report.memory_paragraph_hits == 1


def test_coverage_check_retries_a_dropped_sentence_alone() -> None:
    # Drops "Prices fell today." the first time only: the retry recovers it.
    engine = FakeEngine(drop=lambda segment, attempt: segment.startswith("Prices") and attempt == 1)
    result = DocumentTranslator(engine).translate(
        Document("", [Paragraph.from_text("The market rose sharply. Prices fell today in the capital.")])
    )
    assert result.complete
    assert result.paragraphs[0].text == "Der Markt stieg stark. Preise fielen heute in der Hauptstadt."
    assert result.report.coverage_retries == [
        {"paragraph": 0, "source": "Prices fell today in the capital.", "reason": "empty output", "recovered": True}
    ]
    assert engine.calls[-1] == ["Prices fell today in the capital."]  # retried alone


def test_coverage_check_reports_what_still_fails_and_marks_incomplete() -> None:
    engine = FakeEngine(drop=lambda segment, attempt: segment.startswith("Prices"))
    result = DocumentTranslator(engine).translate(
        Document("", [Paragraph.from_text("The market rose sharply. Prices fell today in the capital.")])
    )
    assert not result.complete and not result.report.complete
    assert result.report.failed_segments == [
        {"paragraph": 0, "source": "Prices fell today in the capital.", "reason": "empty output"}
    ]
    # the paragraph keeps its place and its text; nothing silently vanishes
    assert result.paragraphs[0].text.endswith("Prices fell today in the capital.")


class ShorteningEngine(FakeEngine):
    """Returns only the first few words of long segments: an engine that silently truncates."""

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        outputs = super().translate_batch(segments, source_language, target_language)
        return [" ".join(o.split()[:3]) if len(o.split()) > 6 else o for o in outputs]


def test_coverage_check_catches_truncated_output(context: AppContext) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    text = "The market rose sharply today in the capital and prices fell in the city."
    result = DocumentTranslator(ShorteningEngine(), memory).translate(Document("", [Paragraph.from_text(text)]))
    assert not result.complete
    assert "too short" in result.report.failed_segments[0]["reason"]
    assert memory.entries() == []  # a failed segment is never stored as a translation


class NumberDroppingEngine(FakeEngine):
    """Drops the digits of a segment on its first `drops` attempts (the rest of the words stay)."""

    def __init__(self, drops: int) -> None:
        super().__init__()
        self.drops = drops

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        outputs = super().translate_batch(segments, source_language, target_language)
        return [
            re.sub(r"\d+", "", output) if self.attempts[segment] <= self.drops else output
            for segment, output in zip(segments, outputs, strict=True)
        ]


def test_lost_numbers_are_retried_and_reported() -> None:
    document = Document("", [Paragraph.from_text("The market rose 12 percent in 2019. Prices fell today.")])
    once = DocumentTranslator(NumberDroppingEngine(drops=1)).translate(document)
    assert "12" in once.paragraphs[0].text and "2019" in once.paragraphs[0].text
    assert once.report.numbers_missing == []
    assert [r["reason"] for r in once.report.coverage_retries] == ["numbers lost: 12, 2019"]
    assert once.report.coverage_retries[0]["recovered"] is True

    always = DocumentTranslator(NumberDroppingEngine(drops=99)).translate(document)
    # Still published as complete (digits may change legitimately: "5 p.m." → "17 Uhr"), but reported.
    assert always.complete
    assert always.report.numbers_missing == [
        {"paragraph": 0, "numbers": ["12", "2019"], "segment": "The market rose 12 percent in 2019."}
    ]
    assert "1 segments lost numbers" in always.report.summary()


def test_an_engine_losing_numbers_everywhere_is_not_retried_segment_by_segment() -> None:
    sentences = [f"Prices rose {n} percent in the city." for n in range(10, 70)]
    document = Document("", [Paragraph.from_text(" ".join(sentences[i : i + 6])) for i in range(0, 60, 6)])
    engine = NumberDroppingEngine(drops=99)
    result = DocumentTranslator(engine).translate(document)
    assert len(result.report.numbers_missing) == 60  # every loss is reported...
    assert len(result.report.coverage_retries) == 6  # ...but only a budget of them retried
    assert engine.segments_sent == 60 + 6


class MarkupEngine(FakeEngine):
    """An engine with an HTML mode (like DeepL's): answers from a script, tags where it puts them."""

    def __init__(self, html_answers: dict[str, str], plain_answers: dict[str, str]) -> None:
        super().__init__(name="markup")
        self.html_answers = html_answers
        self.plain_answers = plain_answers
        self.html_calls: list[list[str]] = []

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        self.calls.append(list(segments))
        return [self.plain_answers[segment] for segment in segments]

    def translate_html(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        self.html_calls.append(list(segments))
        return [self.html_answers[segment] for segment in segments]


RESIGNED = Paragraph(
    "p", 'The minister <a href="https://ex.org/r">resigned</a> yesterday, <em>unexpectedly</em> for many.'
)
RESIGNED_MARKED = 'The minister <a id="m0">resigned</a> yesterday, <em id="m1">unexpectedly</em> for many.'


def test_an_engine_with_an_html_mode_places_the_tags_itself() -> None:
    # German splits the verb ("trat … zurück"): only the engine, in context, knows the link
    # belongs on "trat"; the word's own translation ("zurückgetreten") is nowhere in the sentence.
    engine = MarkupEngine(
        {RESIGNED_MARKED: 'Der Minister <a id="m0">trat</a> gestern, für viele <em id="m1">unerwartet</em>, zurück.'},
        {},
    )
    result = DocumentTranslator(engine).translate(Document("", [RESIGNED]))
    assert result.complete
    assert result.paragraphs[0].html == (
        'Der Minister <a href="https://ex.org/r">trat</a> gestern, für viele <em>unerwartet</em>, zurück.'
    )
    assert engine.html_calls == [[RESIGNED_MARKED]]
    assert engine.calls == []  # the link texts were not translated on their own
    assert (result.report.markup_by_engine, result.report.markup_approximate) == (2, 0)


def test_an_answer_that_lost_a_marker_is_aligned_and_keeps_every_tag() -> None:
    engine = MarkupEngine(
        {RESIGNED_MARKED: "Der Minister trat gestern, für viele <em>unerwartet</em>, zurück."},
        {"resigned": "trat zurück", "unexpectedly": "unerwartet"},
    )
    result = DocumentTranslator(engine).translate(Document("", [RESIGNED]))
    html = result.paragraphs[0].html
    assert result.complete and result.report.markup_by_engine == 0
    assert html.count('<a href="https://ex.org/r">') == 1 and html.count("<em>") == 1
    assert "<em>unerwartet</em>" in html
    # The sentence is kept; no answer's markup was trusted, and the engine's stray tag is gone.
    assert re.sub(r"<[^>]+>", "", html) == "Der Minister trat gestern, für viele unerwartet, zurück."


def test_text_an_unescaping_html_mode_would_misread_goes_as_plain_text() -> None:
    paragraph = Paragraph("p", 'Profits &amp; losses <a href="https://ex.org/p">rose</a>.')
    engine = MarkupEngine({}, {"Profits & losses rose.": "Gewinne & Verluste stiegen.", "rose": "stiegen"})
    engine.unescapes_html_answers = True  # type: ignore[attr-defined]  # like LibreTranslate
    result = DocumentTranslator(engine).translate(Document("", [paragraph]))
    assert engine.html_calls == []
    assert result.paragraphs[0].html == 'Gewinne &amp; Verluste <a href="https://ex.org/p">stiegen</a>.'

    # An HTML mode that answers proper HTML (DeepL) gets it escaped, as markup.
    marked = 'Profits &amp; losses <a id="m0">rose</a>.'
    engine = MarkupEngine({marked: 'Gewinne &amp; Verluste <a id="m0">stiegen</a>.'}, {})
    result = DocumentTranslator(engine).translate(Document("", [paragraph]))
    assert engine.html_calls == [[marked]] and result.report.markup_by_engine == 1
    assert result.paragraphs[0].html == 'Gewinne &amp; Verluste <a href="https://ex.org/p">stiegen</a>.'


def test_a_rerun_from_memory_costs_nothing_and_keeps_the_engines_tag_placement(context: AppContext) -> None:
    memory = TranslationMemory(context.database, "en", "de")
    placed = 'Der Minister <a id="m0">trat</a> gestern, für viele <em id="m1">unerwartet</em>, zurück.'
    engine = MarkupEngine({RESIGNED_MARKED: placed}, {})
    first = DocumentTranslator(engine, memory).translate(Document("", [RESIGNED]))
    second = DocumentTranslator(engine, memory).translate(Document("", [RESIGNED]))
    assert len(engine.html_calls) == 1 and engine.calls == []
    assert second.report.engine_calls == 0 and second.report.memory_paragraph_hits == 1
    assert second.paragraphs == first.paragraphs
    assert '<a href="https://ex.org/r">trat</a>' in second.paragraphs[0].html
    # Only the sentence and the whole paragraph are stored, not the engine's text inside a tag.
    assert "resigned" not in {entry.source for entry in memory.entries()}


def test_markers_around_nothing_or_renamed_are_not_trusted() -> None:
    for answer in (
        'Der Minister <a id="m0"> </a>trat gestern, für viele <em id="m1">unerwartet</em>, zurück.',
        'Der Minister <em id="m0">trat</em> gestern, für viele <a id="m1">unerwartet</a>, zurück.',
        'Der Minister <a id="m0">trat gestern, für viele <em id="m1">unerwartet</em>, zurück.',
    ):
        engine = MarkupEngine({RESIGNED_MARKED: answer}, {"resigned": "trat", "unexpectedly": "unerwartet"})
        result = DocumentTranslator(engine).translate(Document("", [RESIGNED]))
        assert result.report.markup_by_engine == 0, answer
        assert result.paragraphs[0].html == (
            'Der Minister <a href="https://ex.org/r">trat</a> gestern, für viele <em>unerwartet</em>, zurück.'
        ), answer


def test_an_empty_answer_fails_the_sentence_without_translating_its_tag_texts() -> None:
    engine = MarkupEngine({RESIGNED_MARKED: ""}, {})
    result = DocumentTranslator(engine).translate(Document("", [RESIGNED]))
    assert not result.complete and result.report.failed_segments
    assert engine.calls == [] and len(engine.html_calls) == 2  # the sentence and its retry alone
