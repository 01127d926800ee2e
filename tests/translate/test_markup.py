from __future__ import annotations

from presseschau.translate.markup import parse_inline, render_inline, transfer_tags


def test_parse_render_round_trip_keeps_attributes_entities_and_nesting() -> None:
    fragment = 'A <a href="https://example.org/?a=1&amp;b=2">link <em>with</em> style</a> &amp; more<br>end'
    text, tags = parse_inline(fragment)
    assert text == "A link with style & more end"
    assert [t.name for t in tags] == ["a", "em", "br"]
    assert render_inline(text, tags) == fragment


def test_transfer_finds_translated_span_and_keeps_href() -> None:
    source_html = 'Troops moved toward <a href="https://x.org/kyiv">the capital</a> today.'
    source, tags = parse_inline(source_html)
    target = "Truppen zogen heute nach der Hauptstadt."
    placed = transfer_tags(source, tags, target, {"the capital": "der Hauptstadt"})
    assert (
        render_inline(target, placed.tags)
        == 'Truppen zogen heute nach <a href="https://x.org/kyiv">der Hauptstadt</a>.'
    )
    assert placed.approximate == 0


def test_transfer_of_untranslated_name_and_fallback_never_drops() -> None:
    source, tags = parse_inline('<strong>Reuters</strong> says <a href="https://a.b/">something odd</a> happened.')
    target = "Reuters meldet, dass etwas passiert sei."
    placed = transfer_tags(source, tags, target, {})
    html = render_inline(target, placed.tags)
    assert html.startswith("<strong>Reuters</strong>")
    assert html.count('<a href="https://a.b/">') == 1 and html.count("</a>") == 1
    assert placed.approximate == 1  # the link text was not found: placed proportionally, reported


def test_overlapping_placements_are_nested_not_lost() -> None:
    source, tags = parse_inline('<a href="https://1/">one</a> <a href="https://2/">two</a>')
    target = "eins"  # the engine merged both words
    placed = transfer_tags(source, tags, target, {})
    html = render_inline(target, placed.tags)
    assert 'href="https://1/"' in html and 'href="https://2/"' in html
    assert html.count("</a>") == 2


def test_line_break_lands_between_the_matching_words() -> None:
    for fragment in ("Line one<br>line two.", "A poem line here<br>and another line there."):
        source, tags = parse_inline(fragment)
        # An engine that copies its input: the break must come back exactly where it was.
        assert render_inline(source, transfer_tags(source, tags, source).tags) == fragment
    source, tags = parse_inline("The first verse ends here.<br>The second verse begins.")
    target = "Der erste Vers endet hier. Der zweite beginnt."
    # Counted in words, and snapped to the sentence end the break followed in the source.
    assert render_inline(target, transfer_tags(source, tags, target).tags) == (
        "Der erste Vers endet hier.<br>Der zweite beginnt."
    )


def test_empty_elements_are_kept_as_points() -> None:
    fragment = '<a href="https://z.example/" id="top"></a>The market rose.'
    text, tags = parse_inline(fragment)
    assert text == "The market rose." and tags[0].empty and tags[0].point
    assert render_inline(text, tags) == fragment
    target = "Der Markt stieg."
    assert render_inline(target, transfer_tags(text, tags, target).tags) == (
        '<a href="https://z.example/" id="top"></a>Der Markt stieg.'
    )
