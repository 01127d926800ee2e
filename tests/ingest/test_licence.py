"""Licence detection on pages shaped like outlets publish them (footer, JSON-LD, badge images)."""

from __future__ import annotations

import pytest

from presseschau.ingest.extract import extract_article
from presseschau.ingest.licence import normalise_licence

BODY = " ".join(
    f"<p>Paragraph {n}: the council met on Tuesday to discuss the harbour plan, and members "
    f"argued for hours about costs, tides and the fishermen who depend on the old quay.</p>"
    for n in range(1, 6)
)


def page(head: str = "", footer: str = "") -> str:
    return (
        f"<!doctype html><html lang='en'><head><title>Harbour plan</title>{head}</head><body>"
        f"<article><h1>Harbour plan</h1>{BODY}</article><footer>{footer}</footer></body></html>"
    )


# The Creative Commons chooser's snippet, as many outlets paste it into the footer.
CC_CHOOSER_FOOTER = (
    '<a rel="license" href="http://creativecommons.org/licenses/by-nd/4.0/">'
    '<img alt="Creative Commons License" style="border-width:0" '
    'src="https://i.creativecommons.org/l/by-nd/4.0/88x31.png" /></a><br />This work is licensed under a '
    '<a rel="license" href="http://creativecommons.org/licenses/by-nd/4.0/">Creative Commons '
    "Attribution-NoDerivatives 4.0 International License</a>."
)


@pytest.mark.parametrize(
    ("head", "footer", "expected", "found"),
    [
        ('<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">', "", "CC-BY-4.0", "link-rel"),
        ("", CC_CHOOSER_FOOTER, "CC-BY-ND-4.0", "a-rel"),
        (
            '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
            '"headline":"Harbour plan","license":"https://creativecommons.org/licenses/by-nd/4.0/"}</script>',
            "",
            "CC-BY-ND-4.0",
            "json-ld",
        ),
        (
            '<script type="application/ld+json">{"@graph":[{"@type":"WebSite","license":"x"},'
            '{"@type":["NewsArticle"],"license":{"@type":"CreativeWork","url":"https://creativecommons.org/licenses/by-sa/4.0/"}}]}</script>',
            "",
            "CC-BY-SA-4.0",
            "json-ld",
        ),
        (
            '<meta name="dcterms.license" content="https://creativecommons.org/licenses/by-nc-nd/3.0/">',
            "",
            "CC-BY-NC-ND-3.0",
            "meta:dcterms.license",
        ),
        ('<meta name="DC.rights" content="CC BY-NC 4.0">', "", "CC-BY-NC-4.0", "meta:dc.rights"),
        ("", '<img src="https://licensebuttons.net/l/by-nd/4.0/88x31.png" alt="CC">', "CC-BY-ND-4.0", "badge-image"),
        (
            "",
            '<p>Republish: <a href="https://creativecommons.org/publicdomain/zero/1.0/">CC0</a></p>',
            "CC0-1.0",
            "cc-link",
        ),
        (
            '<meta name="dc.rights" content="© 2026 Example Media. All rights reserved.">',
            "",
            "all-rights-reserved",
            "meta:dc.rights",
        ),
        ("", "<p>© 2026 Example Media</p>", "unknown", None),
    ],
)
def test_licence_is_detected_where_outlets_declare_it(head: str, footer: str, expected: str, found: str | None) -> None:
    article = extract_article(page(head, footer), "https://news.example/2026/harbour")
    assert article.licence.id == expected
    assert article.licence.found == found


def test_the_page_head_wins_over_a_badge_for_an_embedded_photo() -> None:
    head = '<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">'
    footer = '<img src="https://i.creativecommons.org/l/by-nc-nd/2.0/80x15.png">'
    assert extract_article(page(head, footer), "https://news.example/a").licence.id == "CC-BY-4.0"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://creativecommons.org/licenses/by-nc-sa/4.0/deed.de", "CC-BY-NC-SA-4.0"),
        ("CC-BY-NC-ND-3.0", "CC-BY-NC-ND-3.0"),
        ("Creative Commons Attribution-NonCommercial-NoDerivs 3.0 Unported", "CC-BY-NC-ND-3.0"),
        ("https://creativecommons.org/publicdomain/mark/1.0/", "PDM-1.0"),
        ("https://creativecommons.org/licenses/by/9.9/", None),  # no such version: not made up
        ("<script>alert(1)</script>", None),
        ("", None),
    ],
)
def test_normalise_licence(value: str, expected: str | None) -> None:
    assert normalise_licence(value) == expected
