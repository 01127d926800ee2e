"""The quality estimate's faster helpers give what their plain definitions give (performance-only edits)."""

from __future__ import annotations

import random
import re

import pytest

from presseschau.translate.quality import _has_letters, _letters, _name_runs, _repeats, _words

WHITE_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
NO_WHITE_SPACE = "a\u200bZ9.,é\u00adß"  # the zero-width space and the soft hyphen are no white space


def _plain_repeats(tokens: list[str]) -> tuple[int, list[str]]:
    """The repetition search as first written: every candidate compared as two slices."""
    best, phrase = 0, []
    size = len(tokens)
    for n in range(1, 9):
        index = 0
        while index + 2 * n <= size:
            copies = 1
            while index + (copies + 1) * n <= size and (
                tokens[index + copies * n : index + (copies + 1) * n] == tokens[index : index + n]
            ):
                copies += 1
            if copies > 1:
                taken = copies * n if n > 1 or copies > 2 else 0
                if taken > best:
                    best, phrase = taken, tokens[index : index + n]
                index += copies * n
            else:
                index += 1
    return best, phrase


def test_letters_counts_what_isspace_does_not_call_white_space() -> None:
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(WHITE_SPACE + NO_WHITE_SPACE) for _ in range(rng.randrange(0, 40)))
        assert _letters(text) == sum(not ch.isspace() for ch in text), repr(text)


def test_has_letters_stops_at_the_count_wanted() -> None:
    rng = random.Random(8)
    for _ in range(300):
        text = "".join(rng.choice("ab1 .é\u00e9-") for _ in range(rng.randrange(0, 30)))
        for wanted in (1, 5, 12):
            assert _has_letters(text, wanted) == (sum(ch.isalpha() for ch in text) >= wanted), (text, wanted)


def test_repeats_finds_what_the_plain_search_finds() -> None:
    rng = random.Random(9)
    for _ in range(2000):
        # A small vocabulary and inserted loops, so that n-grams often start alike and repeat.
        tokens = [rng.choice("abcd") for _ in range(rng.randrange(0, 30))]
        if tokens and rng.random() < 0.5:
            start = rng.randrange(len(tokens))
            loop = tokens[start : start + rng.randint(1, 5)]
            tokens[start:start] = loop * rng.randint(1, 4)
        assert _repeats(tokens) == _plain_repeats(tokens), tokens


def test_repeats_counts_a_loop_whose_copies_differ_after_the_first_token() -> None:
    # Same first token, different second: no repetition of the pair.
    assert _repeats(["der", "mann", "der", "frau", "der", "hund"]) == (0, [])
    assert _repeats(["der", "mann", "der", "mann", "der", "mann"]) == (6, ["der", "mann"])


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        # "v." and titles end no sentence: the word after them is inside one (Roe starts the text).
        ("Roe v. Wade was decided in 1973 by Judge Harry Blackmun.", [["Wade"], ["Harry", "Blackmun"]]),
        ("The report by Dr.   Lee reached Ottawa.", [["Lee"], ["Ottawa"]]),
        ("Mr. Smith met Mrs. Jones in Paris.", [["Smith"], ["Jones"], ["Paris"]]),
        # A full stop with white space after it ends a sentence: the next word starts one.
        ("They met in Paris.\n\nBoth left for Rome.", [["Paris"], ["Rome"]]),
        ("Talks ended at the summit.  Kyiv said yes.", [["Kyiv"]]),
        # "Drs." is no title of the list; the text's first words and those after "(" start a sentence.
        ("Talks with Drs. Adams ended.", [["Drs"]]),
        ("  Vienna St. Pölten and  (Graz)", [["Vienna"], ["Pölten"], ["Graz"]]),
    ],
)
def test_name_runs_reads_the_text_before_each_word(text: str, runs: list[list[str]]) -> None:
    assert _name_runs(text) == runs


def test_words_are_shared_but_cannot_be_changed() -> None:
    words = _words("The Berlin office opened.")
    assert words == ("The", "Berlin", "office", "opened")
    assert _words("The Berlin office opened.") is words  # memoized
    assert isinstance(words, tuple)
    assert re.findall(r"\w+", "The Berlin office opened.") == list(words)
