"""Inline markup as editable markers in the editor, and back to the same HTML."""

from __future__ import annotations

import re

import pytest

from presseschau.app import AppContext
from presseschau.content import sanitize_inline_html
from presseschau.editorial.markers import MarkerError, html_to_markers, markers_to_html
from presseschau.store.models import Translation
from tests.demo_site import load_demo_site

HOSTILE = [
    'Mehr <a href="https://example.org/x?a=1&amp;b=2">in der [Analyse]</a> von <em>Lukaschenkos</em> Politik.',
    'a\\b → c | d <strong>fett <em>kursiv</em></strong><br>neu &amp; &lt;x&gt; "q" &nbsp;Ende',
    '<abbr title="Europäische Union">EU</abbr> und <a href="https://x.example/" title="T &quot;1&quot;">x</a>',
    "<b>b</b><i>i</i><u>u</u><code>c</code><sub>2</sub><sup>3</sup><mark>m</mark><q>q</q><s>s</s><small>k</small>",
    '<a href="https://x.example/a]b">[Link: kein → Link]</a> \\[ \\] [[',
    "",
]


@pytest.mark.parametrize("fragment", HOSTILE)
def test_markers_round_trip_exactly(fragment: str) -> None:
    canonical = sanitize_inline_html(fragment)
    markers = html_to_markers(canonical)
    assert "<" not in markers.replace("&lt;x&gt;", "").replace("<x>", "")  # no raw tags shown
    assert markers_to_html(markers) == canonical


def test_markers_are_readable() -> None:
    html = sanitize_inline_html('Laut <a href="https://bank.example/r">Bericht</a> <em>sehr</em> knapp.')
    assert html_to_markers(html) == "Laut [Link: Bericht → https://bank.example/r] [kursiv: sehr] knapp."
    # An editor changes words around the link; the link stays exactly.
    edited = "Nach dem [Link: Bericht → https://bank.example/r] [kursiv: sehr] knapp."
    assert markers_to_html(edited) == sanitize_inline_html(
        'Nach dem <a href="https://bank.example/r">Bericht</a> <em>sehr</em> knapp.'
    )


def test_every_demo_paragraph_round_trips(context: AppContext) -> None:
    load_demo_site(context)
    count = 0
    with context.database.session() as session:
        for translation in session.query(Translation):
            for paragraph in [*translation.paragraphs, *translation.article.paragraphs]:
                canonical = sanitize_inline_html(paragraph["html"])
                assert markers_to_html(html_to_markers(paragraph["html"])) == canonical
                count += 1
    assert count > 250


@pytest.mark.parametrize(
    ("markers", "message"),
    [
        ("Text [fett: offen", "nicht mit „]“ geschlossen"),
        ("Text ] zu", "„]“ ohne öffnende Marke"),
        ("[Unsinn: x]", "unbekannte Marke „[Unsinn“"),
        ("[Link: nur Text]", "ein Link braucht „→ Adresse“"),
        ("[Link: böse → javascript:alert(1)]", "die Link-Adresse „javascript:alert(1)“ ist nicht erlaubt"),
        ("[Link: leer → ]", "die Link-Adresse „(leer)“ ist nicht erlaubt"),
    ],
)
def test_broken_markers_are_explained(markers: str, message: str) -> None:
    with pytest.raises(MarkerError, match=re.escape(message)) as error:
        markers_to_html(markers, 3)
    assert str(error.value).startswith("Absatz 3: ")
