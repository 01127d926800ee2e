from __future__ import annotations

import pytest

from presseschau.publish.slugs import RESERVED_SLUGS, is_valid_slug, slugify, unique_slug


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        # The two titles from the competitor's page (shared/reference/example-page.md).
        (
            "Mitten in der Wahlentrüstung kämpft Senegal darum, nicht dem „Putschgürtel“ zu erliegen",
            "mitten-in-der-wahlentruestung-kaempft-senegal-darum-nicht-dem-putschguertel-zu-erliegen",
        ),
        (
            "Ukraine-, Israel- und Taiwan-Hilfe geht nun an ein gespaltenes Haus",
            "ukraine-israel-und-taiwan-hilfe-geht-nun-an-ein-gespaltenes-haus",
        ),
        (
            "Was wäre, wenn die USA Belarus nicht aufgegeben hätten",
            "was-waere-wenn-die-usa-belarus-nicht-aufgegeben-haetten",
        ),
        ("ÄRGER ÜBER GRÖẞE", "aerger-ueber-groesse"),
        ("Straße nach Łódź und São Paulo", "strasse-nach-lodz-und-sao-paulo"),
        ("Selenskyj: „Wir halten durch“ – 24/7 im Einsatz!", "selenskyj-wir-halten-durch-24-7-im-einsatz"),
        ("Путин и Киев", "putin-i-kiev"),
        ("Russia's war", "russias-war"),
        ("  --  ", "artikel"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_slug_is_capped_at_a_word_boundary() -> None:
    title = "Ein sehr langer Titel " * 20
    slug = slugify(title, max_length=50)
    assert len(slug) <= 50
    assert not slug.endswith("-")
    assert slug == "ein-sehr-langer-titel-ein-sehr-langer-titel-ein"
    assert slugify("Donaudampfschifffahrtsgesellschaftskapitän", max_length=10) == "donaudampf"


def test_unique_slug_adds_a_suffix() -> None:
    assert unique_slug("kiew", set()) == "kiew"
    assert unique_slug("kiew", {"kiew"}) == "kiew-2"
    assert unique_slug("kiew", {"kiew", "kiew-2"}) == "kiew-3"
    assert unique_slug("archiv", set()) == "archiv-2"
    assert "suche" in RESERVED_SLUGS
    assert len(unique_slug("a" * 100, {"a" * 100})) <= 100


def test_is_valid_slug() -> None:
    assert is_valid_slug("neuer-slug-2024")
    for bad in ("Neuer-Slug", "a--b", "-a", "a-", "ä", "a,b", "", "a/b"):
        assert not is_valid_slug(bad)
