from __future__ import annotations

from datetime import UTC, datetime

from presseschau.content import Paragraph
from presseschau.publish.formatting import (
    german_date,
    german_datetime,
    german_month,
    iso_datetime,
    join_authors,
    nest_quotes,
    original_date_iso,
    original_date_text,
    teaser,
    translation_disclosure,
    translation_notice,
)
from presseschau.publish.press_review import Entry


def test_german_dates_in_the_configured_zone() -> None:
    moment = datetime(2024, 2, 13, 19, 33, tzinfo=UTC)
    assert german_datetime(moment, "Europe/Berlin") == "13. Februar 2024 20:33"
    assert german_date(moment, "Europe/Berlin") == "13. Februar 2024"
    assert iso_datetime(moment, "Europe/Berlin") == "2024-02-13T20:33:00+01:00"
    summer = datetime(2024, 7, 1, 22, 5, tzinfo=UTC)
    assert german_datetime(summer, "Europe/Berlin") == "2. Juli 2024 00:05"
    assert german_datetime(summer, "America/New_York") == "1. Juli 2024 18:05"
    assert german_month(2024, 3) == "März 2024"


def _p(text: str, kind: str = "p") -> Paragraph:
    return Paragraph.from_text(text, kind)


def test_short_text_is_the_whole_teaser() -> None:
    assert teaser([_p("Ein kurzer Satz."), _p("Noch einer.")]) == "Ein kurzer Satz. Noch einer."


def test_teaser_cuts_at_a_sentence_end() -> None:
    text = (
        "Russia's invasion of Ukraine opened with a march toward Kyiv. Mr. Putin expected a quick victory, and "
        "Western capitals were slow to answer. Belarus served as a staging ground for the attack on the capital. "
        "A dispute over dairy product exports led to a long chill between Minsk and Washington, which the U.S. "
        "never repaired. Counterfactuals are always risky, but this one is worth it."
    )
    result = teaser([_p(text)])
    assert result.endswith("never repaired.")
    assert "Mr. Putin" in result  # "Mr." is not a sentence end
    assert 150 < len(result) <= 345


def test_teaser_does_not_stop_inside_a_quotation() -> None:
    opening = (
        "When Alexander Lukashenko offered last week to host a new round of talks on the future of the Black Sea "
        "in Minsk, the response from Kyiv was swift and scornful. “A country that lent its territory for the "
        "invasion of Ukraine cannot be a mediator,” a senior adviser told reporters. “Minsk is not a neutral venue. "
        "It is a staging ground for every army that wants to march on our capital, and it will stay one for as long "
        "as the man in charge there owes his survival to Moscow.” The offer deserves more attention than that."
    )
    result = teaser([_p(opening)])
    assert result.count("“") == result.count("”"), result
    assert result.endswith("told reporters.")
    # Only sentence ends inside one long quotation: the quote is closed after the ellipsis.
    quoted = "„" + "Das ist ein langer Satz in einem Zitat. " * 12 + "Ende.“ Danach."
    cut = teaser([_p(quoted)])
    assert cut.endswith("Zitat. …“") and cut.count("„") == cut.count("“")


def test_teaser_without_sentence_end_cuts_at_a_word_with_ellipsis() -> None:
    result = teaser([_p("wort " * 100)])
    assert result.endswith("wort …")
    assert len(result) <= 302
    assert "wor …" not in result


def test_teaser_skips_headings_and_joins_paragraphs() -> None:
    paragraphs = [_p("Zwischentitel", "h2"), _p("Erster Absatz."), _p("Zweiter Absatz.")]
    assert teaser(paragraphs) == "Erster Absatz. Zweiter Absatz."


def test_translation_notice_names_engine_memory_or_review() -> None:
    assert translation_notice("ct2", "opus-mt-en-de", False) == "Maschinell übersetzt mit OPUS-MT (CTranslate2)"
    assert translation_notice("memory", None, False) == "Aus gespeicherten Übersetzungen übernommen"
    # The machine origin stays named after review.
    assert (
        translation_notice("ct2", None, True) == "Maschinell übersetzt mit OPUS-MT (CTranslate2), redaktionell geprüft"
    )
    assert translation_notice("deepl", None, False) == "Maschinell übersetzt mit DeepL"
    assert translation_notice("firefox", None, False) == "Maschinell übersetzt mit Firefox Translations"


def test_translation_disclosure_says_translation_engine_and_review() -> None:
    assert translation_disclosure("deepl", None, False) == "Aus dem Englischen · maschinell übersetzt (DeepL)"
    assert translation_disclosure("deepl", None, True) == (
        "Aus dem Englischen · maschinell übersetzt (DeepL) · redaktionell geprüft"
    )
    assert translation_disclosure("memory", None, False) == "Aus dem Englischen · aus gespeicherten Übersetzungen"


def test_original_date_is_date_only_when_the_source_gave_no_time() -> None:
    moment = datetime(2026, 11, 5, tzinfo=UTC)
    assert original_date_text(moment, True, "Europe/Berlin") == "5. November 2026"
    assert original_date_iso(moment, True, "Europe/Berlin") == "2026-11-05"
    timed = datetime(2026, 11, 5, 12, 40, tzinfo=UTC)
    assert original_date_text(timed, False, "Europe/Berlin") == "5. November 2026, 13:40 Uhr"
    assert original_date_iso(timed, False, "Europe/Berlin") == "2026-11-05T13:40:00+01:00"


def test_join_authors() -> None:
    assert join_authors([]) == ""
    assert join_authors(["A"]) == "A"
    assert join_authors(["A", "B"]) == "A und B"
    assert join_authors(["A", "B", " ", "C"]) == "A, B und C"


def test_quotations_inside_a_key_passage_nest_as_half_quotes() -> None:
    assert nest_quotes("Er sagte: „Wir bleiben“, und ging.") == "Er sagte: ‚Wir bleiben‘, und ging."
    # Without a German opening mark the text is left alone (an English “…” is not turned into ‘…’).
    assert nest_quotes("Kein Zitat hier.") == "Kein Zitat hier."
    assert nest_quotes("He said “yes”.") == "He said “yes”."
    entry = Entry(
        outlet="The Guardian",
        title="T",
        teaser="",
        url="/a/",
        original_url=None,
        original_title="T",
        original_published_at=None,
        original_date_only=False,
        passage="Sie nannte es „historisch“.",
    )
    assert entry.quote == "„Sie nannte es ‚historisch‘.“"
