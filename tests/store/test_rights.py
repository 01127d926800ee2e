"""Reuse decisions and the cut of the text for each mode."""

from __future__ import annotations

import pytest

from presseschau.content import Paragraph
from presseschau.store.rights import (
    ReuseDecision,
    ReuseError,
    ReuseMode,
    decide_reuse,
    excerpt_paragraphs,
    parse_reuse_mode,
    quoted_passages,
    reusable_paragraphs,
    sentences,
    word_count,
)


def decide(
    licence: str | None, mode: str | None = None, permission: str | None = None, unknown: str | None = None
) -> ReuseDecision:
    return decide_reuse(
        source_mode=mode,
        default_mode="full",
        excerpt_words=None,
        permission=permission,
        licence_id=licence,
        if_no_derivatives="quote",
        if_unknown=unknown,
    )


def test_no_derivatives_caps_a_full_source_at_the_configured_level() -> None:
    decision = decide("CC-BY-ND-4.0")
    assert (decision.mode, decision.capped) == ("quote", True)
    assert "Keine Bearbeitungen" in decision.reason and "begrenzt" in decision.reason


def test_an_open_licence_keeps_the_source_mode() -> None:
    assert decide("CC-BY-4.0").mode == "full"
    assert decide("CC-BY-4.0", mode="excerpt").mode == "excerpt"


def test_the_cap_never_widens_a_narrower_source_mode() -> None:
    assert decide("CC-BY-ND-4.0", mode="headline").mode == "headline"


def test_unknown_licence_is_capped_only_when_configured() -> None:
    assert decide(None).mode == "full"
    assert decide("unknown", unknown="excerpt").mode == "excerpt"


def test_permission_lifts_the_cap_and_says_so() -> None:
    decision = decide("CC-BY-NC-ND-3.0", permission="E-Mail von J. Doe, 3.12.2026")
    assert decision.mode == "full" and not decision.capped
    assert "Erlaubnis" in decision.reason and "J. Doe" not in decision.reason  # the note stays internal


def test_unknown_mode_is_refused_with_its_name() -> None:
    with pytest.raises(ReuseError, match="'everything'"):
        parse_reuse_mode("everything")


LONG = [
    Paragraph("p", "Mr. Smith went to <a href='https://x.example'>Washington</a>. He said “hello.” Then he left."),
    Paragraph("h2", "Next"),
    Paragraph("p", " ".join(["word"] * 30) + ". Another sentence follows here. And one more."),
]


def test_excerpt_keeps_whole_sentences_within_the_word_limit() -> None:
    cut = excerpt_paragraphs(LONG, 40)
    assert word_count(cut) <= 40
    assert cut[0] == LONG[0]  # whole paragraph kept with its markup
    assert cut[-1].text.endswith(".")
    assert all(s in " ".join(p.text for p in LONG) for p in cut for s in sentences(p.text))


def test_excerpt_drops_a_trailing_heading() -> None:
    assert excerpt_paragraphs(LONG, 12) == [LONG[0]]


def test_quote_is_the_opening_sentences() -> None:
    assert quoted_passages(LONG) == ["Mr. Smith went to Washington. He said “hello.”"]


@pytest.mark.parametrize("mode", ["full", "excerpt", "quote", "headline"])
def test_each_mode_carries_no_more_than_the_full_text(mode: ReuseMode) -> None:
    decision = ReuseDecision(mode, "test", excerpt_words=20)
    words = word_count(reusable_paragraphs(LONG, decision))
    assert words <= word_count(LONG)
    if mode == "excerpt":
        assert words <= 20
    if mode == "headline":
        assert words <= 12
