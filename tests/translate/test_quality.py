"""The reference-free quality estimator: each fault it is built for, clean text, the CLI, the queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.store.models import Translation
from presseschau.translate.quality import (
    DEFAULT_RISK_THRESHOLD,
    QualityOptions,
    assess_document,
    chrf,
    estimate_document,
    estimate_paragraphs,
)
from presseschau.translate.queue import translate_article

from .conftest import FakeEngine

SOURCE = (
    "On Monday, scientists from the Stanford University School of Medicine announced a new diagnostic tool. "
    "Lead researchers say it may bring early detection of cancer to patients in 42 low-income countries. "
    "The chip does not need electricity and costs about one U.S. cent. "
    "Dr. Maria Vasquez said the team would publish the designs in March."
)
CLEAN = (
    "Am Montag gaben Wissenschaftler der Stanford University School of Medicine ein neues Diagnosewerkzeug bekannt. "
    "Führende Forscher sagen, es könne Patienten in 42 Ländern mit niedrigem Einkommen eine Früherkennung von Krebs "
    "ermöglichen. Der Chip braucht keinen Strom und kostet etwa einen US-Cent. "
    "Dr. Maria Vasquez sagte, das Team werde die Entwürfe im März veröffentlichen."
)
CLEAN_SENTENCES = [
    "Am Montag gaben Wissenschaftler der Stanford University School of Medicine ein neues Diagnosewerkzeug bekannt.",
    "Führende Forscher sagen, es könne Patienten in 42 Ländern mit niedrigem Einkommen eine Früherkennung von Krebs "
    "ermöglichen.",
    "Der Chip braucht keinen Strom und kostet etwa einen US-Cent.",
    "Dr. Maria Vasquez sagte, das Team werde die Entwürfe im März veröffentlichen.",
]
SOURCE_SENTENCES = [
    "On Monday, scientists from the Stanford University School of Medicine announced a new diagnostic tool.",
    "Lead researchers say it may bring early detection of cancer to patients in 42 low-income countries.",
    "The chip does not need electricity and costs about one U.S. cent.",
    "Dr. Maria Vasquez said the team would publish the designs in March.",
]


def score(target: str, source: str = SOURCE) -> tuple[float, list[str]]:
    quality = estimate_paragraphs([(source, target)])[0]
    return quality.risk, quality.flag_names


def test_a_clean_translation_is_not_risky() -> None:
    risk, flags = score(CLEAN)
    assert risk < DEFAULT_RISK_THRESHOLD and flags == []


@pytest.mark.parametrize(
    ("faulty", "flag"),
    [
        (" ".join(CLEAN_SENTENCES[:-1]), "dropped_sentence"),  # the last sentence cut off
        (CLEAN[: 2 * len(CLEAN) // 3].rsplit(" ", 1)[0], "truncated"),  # the last third cut off
        (" ".join(CLEAN_SENTENCES[:1] + CLEAN_SENTENCES[2:]), "dropped_sentence"),
        (" ".join([*CLEAN_SENTENCES[:2], SOURCE_SENTENCES[2], CLEAN_SENTENCES[3]]), "untranslated"),
        (CLEAN.replace("bekannt.", "bekannt bekannt bekannt bekannt bekannt."), "repetition"),
        (CLEAN.replace("in 42 Ländern", "in 24 Ländern"), "numbers"),
        (CLEAN.replace("braucht keinen Strom", "braucht Strom"), "negation"),
    ],
)
def test_each_fault_is_flagged(faulty: str, flag: str) -> None:
    risk, flags = score(faulty)
    assert risk >= DEFAULT_RISK_THRESHOLD, (risk, flags)
    assert flag in flags


def test_a_changed_name_raises_the_risk_and_names_it() -> None:
    changed = CLEAN.replace("Stanford", "Harvard").replace("Maria Vasquez", "Peter Miller")
    quality = estimate_paragraphs([(SOURCE, changed)])[0]
    assert quality.risk >= DEFAULT_RISK_THRESHOLD and "names" in quality.flag_names
    names = next(flag for flag in quality.flags if flag.name == "names")
    assert {"Stanford", "Vasquez"} <= set(names.words)
    assert names.explanation.startswith("Ein Name")


def test_flags_carry_a_german_explanation_and_the_words() -> None:
    quality = estimate_paragraphs([(SOURCE, CLEAN.replace("in 42 Ländern", "in 24 Ländern"))])[0]
    numbers = next(flag for flag in quality.flags if flag.name == "numbers")
    assert numbers.words == ("42",)
    assert "Zahl" in numbers.explanation
    assert quality.to_json()["flags"][0]["name"] in quality.flag_names


def test_glossary_terms_must_be_honoured() -> None:
    options = QualityOptions(terms=(("Stanford University", "Universität Stanford"),))
    quality = estimate_paragraphs([(SOURCE, CLEAN)], options)[0]
    assert "glossary" in quality.flag_names


def test_round_trip_adds_a_signal_when_a_reverse_model_is_given() -> None:
    def faithful(texts: object) -> list[str]:
        return [SOURCE]

    def unrelated(texts: object) -> list[str]:
        return ["The weather in the mountains was cold and wet all week long."]

    good = assess_document([SOURCE], [CLEAN], "en", "de", faithful)
    bad = assess_document([SOURCE], [CLEAN], "en", "de", unrelated)
    assert good.quality.paragraphs[0].round_trip_chrf == pytest.approx(100.0)
    assert "round_trip" in bad.quality.paragraphs[0].flag_names
    assert good.round_trip_s is not None and good.round_trip_s >= 0.0


def test_chrf_matches_identity_and_disjoint_texts() -> None:
    assert chrf("abc def", "abc def") == pytest.approx(100.0)
    assert chrf("xyz", "abc") == 0.0


def test_the_article_risk_is_its_riskiest_paragraph() -> None:
    pairs = [(SOURCE, CLEAN), (SOURCE, CLEAN.replace("in 42 Ländern", "in 24 Ländern")), ("", "")]
    document = estimate_document(pairs)
    assert document.risk == max(paragraph.risk for paragraph in document.paragraphs)
    assert document.risky() and "Absatz 2: numbers" in document.reason()


def test_hostile_text_is_scored_without_error() -> None:
    hostile = '<script>alert(1)</script> \u202eevil\u202c \x00\x07 "quoted" [/i]'
    risk, _ = score(hostile, hostile)
    assert 0.0 <= risk <= 1.0


def test_quality_score_cli_prints_one_line_per_paragraph(tmp_path: Path, data_dir: Path) -> None:
    source, translation = tmp_path / "src.txt", tmp_path / "mt.txt"
    source.write_text(f"{SOURCE}\n{SOURCE}\n\n", encoding="utf-8")
    translation.write_text(f"{CLEAN}\n{CLEAN.replace('42', '24')}\n\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--data", str(data_dir), "quality", "score", "--from", "en", "--to", "de", str(source), str(translation)]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    first, second, empty = (line.split("\t") for line in lines)
    assert float(first[0]) < 0.5 and first[1:] == []
    assert float(second[0]) >= 0.5 and "numbers" in second[1:]
    assert float(empty[0]) == 0.0


def test_quality_score_cli_refuses_files_of_different_lengths(tmp_path: Path, data_dir: Path) -> None:
    source, translation = tmp_path / "src.txt", tmp_path / "mt.txt"
    source.write_text("One.\nTwo.\n", encoding="utf-8")
    translation.write_text("Eins.\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["--data", str(data_dir), "quality", "score", str(source), str(translation)])
    assert result.exit_code == 2
    assert "has 2 lines" in result.output and "has 1" in result.output


def test_the_queue_stores_the_estimate_with_the_translation(context: AppContext, registered_fake: FakeEngine) -> None:
    from .test_service import add_article

    article_id = add_article(context, 7)
    translate_article(context.database, context.settings, article_id, engine_name="fake")
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        assert translation.quality_risk is not None and 0.0 <= translation.quality_risk <= 1.0
        assert translation.quality is not None and len(translation.quality["paragraphs"]) >= 1


def test_quality_score_cli_ignores_blank_lines_at_the_end_of_one_file(tmp_path: Path, data_dir: Path) -> None:
    source, translation = tmp_path / "src.txt", tmp_path / "mt.txt"
    source.write_text(f"\ufeff{SOURCE}\r\n\r\n\r\n", encoding="utf-8")
    translation.write_text(f"{CLEAN}", encoding="utf-8")
    result = CliRunner().invoke(app, ["--data", str(data_dir), "quality", "score", str(source), str(translation)])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 and float(result.stdout.split("\t")[0]) < 0.5


def test_one_name_replaced_by_another_is_flagged_but_translated_title_words_are_not() -> None:
    source = "The talks in Geneva were led by Superintendent Clarke and Senator Obama, officials said."
    clean = "Die Gespräche in Genf leiteten Schulrat Clarke und Senator Obama, sagten Beamte."
    changed = clean.replace("Obama", "Johnson")
    clean_quality, changed_quality = estimate_paragraphs([(source, clean), (source, changed)])
    assert "names" not in clean_quality.flag_names  # Superintendent → Schulrat: a word, translated
    names = next(flag for flag in changed_quality.flags if flag.name == "names")
    assert {"Obama", "Johnson"} <= set(names.words)


def test_german_transliterations_keep_a_name() -> None:
    source = "Lukashenko met Yeltsin's successor in Minsk, and the talks went on for hours."
    target = "Lukaschenko traf den Nachfolger Jelzins in Minsk, und die Gespräche dauerten Stunden."
    assert "names" not in estimate_paragraphs([(source, target)])[0].flag_names


def test_the_round_trip_confirms_a_changed_name_and_clears_a_rendered_one() -> None:
    source = "Officials said Ngawang Drukgyal met the delegation from Thimphu on Monday morning."
    rendered = "Beamte sagten, Ngawang Drugyel habe die Delegation aus Thimphu am Montagmorgen getroffen."
    changed = "Beamte sagten, Ngawang Johnson habe die Delegation aus Thimphu am Montagmorgen getroffen."

    def back(texts: object) -> list[str]:
        return [
            "Officials said Ngawang Drukgyal met the delegation from Thimphu on Monday morning."
            if "Drugyel" in str(texts)
            else "Officials said Ngawang Johnson met the delegation from Thimphu on Monday morning."
        ]

    options = QualityOptions("en", "de", back_translate=back)
    (cleared,) = estimate_paragraphs([(source, rendered)], options)
    (confirmed,) = estimate_paragraphs([(source, changed)], options)
    assert "names" not in cleared.flag_names
    assert "names" in confirmed.flag_names


def test_a_target_language_without_word_frequencies_is_scored() -> None:
    # wordfreq has no list for Walloon (nor a near one): a lost name cannot be told from a word then, and
    # the names signal stays below a flag instead of failing.
    pairs = [("Obama met Merkel in Paris.", "Obama a rescontré Schmidt a Paris.")]
    quality = estimate_paragraphs(pairs, QualityOptions("en", "wa"))[0]
    assert "names" not in quality.flag_names and quality.risk < DEFAULT_RISK_THRESHOLD


def names_flagged(source: str, target: str) -> bool:
    return "names" in estimate_paragraphs([(source, target)])[0].flag_names


def test_a_first_name_kept_is_no_trace_of_a_family_name_changed() -> None:
    # "Galileo" and "Galilei" share "galil": the output's Galileo stands for the first name only.
    source = "In 1610, the Italian astronomer Galileo Galilei used a telescope to observe that Venus has phases."
    clean = "Im Jahr 1610 beobachtete der italienische Astronom Galileo Galilei mit einem Teleskop die Venusphasen."
    assert not names_flagged(source, clean)
    assert names_flagged(source, clean.replace("Galilei", "Glynn"))


def test_a_well_known_name_lost_alone_is_flagged_but_a_rare_one_is_not() -> None:
    source = "He recently lost against Raonic in the Brisbane Open, officials said on Monday."
    clean = "Vor kurzem verlor er bei den Brisbane Open gegen Raonic, sagten Beamte am Montag."
    assert not names_flagged(source, clean)
    # Brisbane is known to both languages' word lists: gone without a trace, it was changed.
    assert names_flagged(source, clean.replace("Brisbane", "Sydney"))
    # A rare English word German's list lacks may be a term the output translated: not alone.
    assert not names_flagged(
        "The guards of the Sultan were Janissary soldiers in red coats.",
        "Die Wachen des Sultans waren Janitscharen in roten Mänteln.",
    )


def test_german_words_that_english_shares_and_compounds_are_no_added_names() -> None:
    # Tempo and Grab are English dictionary words, Truppenabschussrampe is a compound of German words:
    # none is a name put in place of "Preliminary" (a word German translates).
    source = "Maroochydore then won the Preliminary Final at a fast pace near the old launching pad."
    target = "Maroochydore gewann dann das Vorfinale in hohem Tempo nahe der alten Truppenabschussrampe am Grab."
    assert not names_flagged(source, target)


def test_one_mention_of_a_name_changed_with_another_in_its_place_is_flagged() -> None:
    source = "28-year-old Vidal had joined Barça three seasons ago. Since then, Vidal had played 49 games."
    clean = "Der 28-jährige Vidal war vor drei Spielzeiten zu Barça gekommen. Seitdem hatte Vidal 49 Partien gespielt."
    assert not names_flagged(source, clean)
    assert names_flagged(source, clean.replace("Vidal", "Alonso", 1))


def test_a_name_changed_inside_a_german_compound_is_flagged() -> None:
    source = "The Apollo-Soyuz mission was the first joint flight of the two space programmes."
    clean = "Die Apollo-Sojus-Mission war der erste gemeinsame Flug der beiden Raumfahrtprogramme."
    assert not names_flagged(source, clean)  # Soyuz → Sojus: a transliteration
    assert names_flagged(source, clean.replace("Apollo", "Kennedy"))


def test_a_name_spelled_otherwise_is_no_name_put_in_place() -> None:
    # Drukyel is the output's spelling of Drukgyal (the same first letter, most letters in order), not a
    # new name; Glynn in place of Drukgyal is.
    source = "Pilgrims visited the Drukgyal Dzong on Monday, officials said."
    rendered = "Pilger besuchten am Montag den Drukyel-Dzong, sagten Beamte."
    assert not names_flagged(source, rendered)
    assert names_flagged(source, rendered.replace("Drukyel", "Glynn"))


def test_a_known_name_added_is_flagged_but_a_coinage_is_not() -> None:
    source = "When the capsule enters the atmosphere, it will put on quite a light show for folks in Oregon."
    clean = "Wenn die Kapsel in die Atmosphäre eintritt, wird sie für die Leute in Oregon eine Lightshow abgeben."
    assert not names_flagged(source, clean)  # Lightshow: a coinage of the output, rare in both languages
    assert names_flagged(source, clean.replace("die Leute", "die Leute von Florida"))


def test_words_of_a_title_translated_are_no_name_changed() -> None:
    # Several capitalised words of a title lost at once are words translated, not names changed (one
    # name is changed at a time); a month written out (Nov → November) is no name added.
    source = (
        "The International Horticultural Exposition is a world's fair; Participating countries show plants "
        "there from Nov-Feb."
    )
    target = (
        "Die Internationale Gartenbauausstellung ist eine Weltausstellung; teilnehmende Länder zeigen dort "
        "von November bis Februar Pflanzen."
    )
    assert not names_flagged(source, target)
    # A name that is an English dictionary word too (japan: a lacquer) lost with another in its place.
    source = "The treaty was signed by the envoys of Japan and the host country."
    clean = "Der Vertrag wurde von den Gesandten Japans und des Gastgeberlandes unterzeichnet."
    assert not names_flagged(source, clean)
    assert names_flagged(source, clean.replace("Japans", "Floridas"))


def test_a_sentence_dropped_where_the_output_split_another_is_flagged() -> None:
    # The translation splits the long first sentence in two, so leaving out the last one keeps the count
    # of sentences: the length alignment finds it.
    source = (
        "The council met on Monday evening to discuss the new budget for the city's schools and hospitals, "
        "and after a long debate it agreed to raise spending on both by a tenth over the next two years. "
        "The vote was close. "
        "Several members said they would ask the regional government for help with the cost of repairing "
        "the old bridge across the river, which has been closed to heavy traffic since the spring floods."
    )
    split = [
        "Der Rat trat am Montagabend zusammen, um über den neuen Haushalt für die Schulen und Krankenhäuser "
        "der Stadt zu beraten.",
        "Nach einer langen Debatte beschloss er, die Ausgaben für beide in den nächsten zwei Jahren um ein "
        "Zehntel zu erhöhen.",
        "Die Abstimmung war knapp.",
        "Mehrere Mitglieder sagten, sie würden die Regionalregierung um Hilfe bei den Kosten für die Reparatur "
        "der alten Brücke über den Fluss bitten, die seit dem Frühjahrshochwasser für den Schwerverkehr "
        "gesperrt ist.",
    ]
    clean_quality, cut_quality = estimate_paragraphs([(source, " ".join(split)), (source, " ".join(split[:-1]))])
    assert "dropped_sentence" not in clean_quality.flag_names
    assert "dropped_sentence" in cut_quality.flag_names


def test_an_english_word_put_in_place_of_a_name_is_flagged() -> None:
    # Valley and Blake are English dictionary words German hardly uses: in a German output, with Noosa
    # gone, each is a name put in its place.
    source = "Officials in Noosa said the coastal road was closed on Monday after the storm."
    clean = "Beamte in Noosa sagten, die Küstenstraße sei am Montag nach dem Sturm gesperrt worden."
    assert not names_flagged(source, clean)
    assert names_flagged(source, clean.replace("Noosa", "Valley"))
    assert names_flagged(source, clean.replace("Noosa", "Blake"))
    # A German noun that English shares (Museum) or an English word alone, no name lost, is no change.
    assert not names_flagged(source, clean.replace("Beamte", "Beamte im Museum"))
    assert not names_flagged(source, clean.replace("Sturm", "Sturm am Rainbow"))


def test_a_name_after_a_title_or_a_german_ordinal_is_no_sentence_start() -> None:
    source = "On the night of August 9, Blake visited the team in Fujian, the officials said."
    clean = "In der Nacht zum 9. August besuchte Blake das Team in Fujian, sagten die Beamten."
    assert not names_flagged(source, clean)
    # "9. Komen" and "St. Downing" start no sentence: the word put in place of a name is seen.
    assert names_flagged(source, clean.replace("August", "Komen"))
    source = "The bus was headed to Six Flags St. Louis in Missouri for the band to play."
    clean = "Der Bus fuhr nach Six Flags St. Louis in Missouri, wo die Band spielen sollte."
    assert not names_flagged(source, clean)
    assert names_flagged(source, clean.replace("Louis", "Downing"))


def test_mentions_are_counted_in_the_names_spelling() -> None:
    # Sejong spelled for comparison is "seiong": the output's tokens must be spelled alike, or each mention
    # kept reads as one fewer, which with a rare name translated (a hall's name) made a change.
    source = "King Sejong founded the Jiphyeonjeon hall of scholars. King Sejong also wrote poems."
    target = "König Sejong gründete die Gelehrtenhalle. König Sejong schrieb auch Gedichte."
    assert not names_flagged(source, target)


def test_a_known_name_first_in_a_sentence_is_a_name_put_in_place() -> None:
    source = "Blake was convicted on Monday. The judge told Blake that he would go to jail."
    clean = "Blake wurde am Montag verurteilt. Der Richter sagte Blake, er werde ins Gefängnis gehen."
    assert not names_flagged(source, clean)
    # One mention of two changed, the new name first in its sentence.
    assert names_flagged(source, clean.replace("Blake wurde", "Florida wurde"))
    # A German word first in a sentence is none (Damals: German uses it, English does not).
    assert not names_flagged(source, clean.replace("Blake wurde am Montag", "Damals wurde Blake"))
