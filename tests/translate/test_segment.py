from __future__ import annotations

import itertools
import re

from presseschau.translate.segment import split_long, split_sentences


def words(text: str) -> int:
    return len(text.split())


def test_sentences_cover_every_character_and_respect_abbreviations() -> None:
    text = 'Mr. Smith went to Washington D.C. on Monday. He said "It works. Really." Then he left!  Prices rose 3.5%.'
    spans = split_sentences(text)
    pieces = [text[s:e] for s, e in spans]
    assert pieces[0] == "Mr. Smith went to Washington D.C. on Monday."
    assert pieces[-1] == "Prices rose 3.5%."
    assert re.sub(r"\s+", "", "".join(pieces)) == re.sub(r"\s+", "", text)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_single_sentence_and_empty_text() -> None:
    assert split_sentences("  no break here  ") == [(2, 15)]
    assert split_sentences("   ") == []


def test_long_sentence_split_at_clause_boundaries_within_limit() -> None:
    clause = "the minister said that the talks would continue for several more weeks"
    sentence = "; ".join([clause] * 3) + ", and " + ", ".join([clause] * 4) + "."
    spans = split_long(sentence, words, 20)
    pieces = [sentence[s:e] for s, e in spans]
    assert len(pieces) > 1
    assert all(words(p) <= 20 for p in pieces)
    assert " ".join(pieces).split() == sentence.split()  # nothing lost, nothing duplicated
    # cut after clause punctuation, not in the middle of a clause
    assert all(p.endswith((";", ",", ".")) for p in pieces)


def test_long_run_without_punctuation_still_split_never_cut() -> None:
    sentence = " ".join(f"w{i}" for i in range(333))
    pieces = [sentence[s:e] for s, e in split_long(sentence, words, 50)]
    assert all(words(p) <= 50 for p in pieces)
    assert " ".join(pieces) == sentence


def test_short_sentence_untouched() -> None:
    assert split_long(" short one. ", words, 10) == [(1, 11)]


def test_fast_path_and_pysbd_fallback_agree_on_hard_cases() -> None:
    cases = {
        "The U.S. Army said so. It left at 9 a.m. on Monday.": [
            "The U.S. Army said so.",
            "It left at 9 a.m. on Monday.",
        ],
        'He said "It works. Really." Then he left.': ['He said "It works. Really."', "Then he left."],
        "Dr. Smith met Gen. Jones. J. K. Rowling wrote it.": ["Dr. Smith met Gen. Jones.", "J. K. Rowling wrote it."],
        "Wait... What happened? Nobody knows!": ["Wait...", "What happened?", "Nobody knows!"],
    }
    for text, expected in cases.items():
        assert [text[s:e] for s, e in split_sentences(text)] == expected, text


def test_a_sentence_ending_in_a_small_number_keeps_it() -> None:
    # pysbd alone reads "district 0." as a list item opening the next sentence.
    text = "Troops came from the north in district 0. Officials said it would end in district 1. Critics argued."
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Troops came from the north in district 0.",
        "Officials said it would end in district 1.",
        "Critics argued.",
    ]
    listed = "Officials named two steps. 2. Officials stay."
    assert [listed[a:b] for a, b in split_sentences(listed)][-1] == "2. Officials stay."
