from __future__ import annotations

import re

import pytest

from presseschau.translate.typography import (
    NBSP,
    apply_typography,
    convert_numbers,
    german_quotes,
    missing_numbers,
    protect_dates,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Er sagte "Hallo" und ging.', "Er sagte „Hallo“ und ging."),
        ("Er sagte “Hallo” und ging.", "Er sagte „Hallo“ und ging."),
        ("Er sagte „Hallo“ und ging.", "Er sagte „Hallo“ und ging."),
        ("Sie nannte es 'Unsinn' und ging.", "Sie nannte es ‚Unsinn‘ und ging."),
        ("Peter's Plan, don't, the '90s", "Peter's Plan, don't, the '90s"),
        ("\"Wir sagen 'nein'\", sagte er.", "„Wir sagen ‚nein‘“, sagte er."),
    ],
)
def test_german_quotes(text: str, expected: str) -> None:
    assert german_quotes(text) == expected
    assert german_quotes(expected) == expected  # idempotent


def test_date_gets_non_breaking_space() -> None:
    assert protect_dates("am 13. Februar 2024") == f"am 13.{NBSP}Februar 2024"
    assert protect_dates("Kapitel 13. Dann") == "Kapitel 13. Dann"


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("It cost $3.5 million.", "Es kostete 3.5 Millionen Dollar.", "Es kostete 3,5 Millionen Dollar."),
        ("1,500 people and 2,000,000.75", "1,500 Menschen und 2,000,000.75", "1.500 Menschen und 2.000.000,75"),
        ("1,500 people", "1.500 Menschen", "1.500 Menschen"),  # already German: untouched
        ("version 3.5.1 on 10.0.0.1", "Version 3.5.1 auf 10.0.0.1", "Version 3.5.1 auf 10.0.0.1"),
        # Versions, times and protocol names are no amounts: left as they are.
        ("iOS 13.2 and Python 3.11", "iOS 13.2 und Python 3.11", "iOS 13.2 und Python 3.11"),
        ("Web 2.0 over HTTP/1.1 at 10.30", "Web 2.0 über HTTP/1.1 um 10.30 Uhr", "Web 2.0 über HTTP/1.1 um 10.30 Uhr"),
        ("It rose 3.5% and 2.5 percent", "Es stieg um 3.5% und 2.5 Prozent", "Es stieg um 3,5% und 2,5 Prozent"),
        ("It cost €1.25.", "Es kostete €1.25.", "Es kostete €1,25."),
        ("In 2024, 12 died.", "2024 starben 12.", "2024 starben 12."),
    ],
)
def test_numbers_converted_only_where_unambiguous(source: str, target: str, expected: str) -> None:
    converted = convert_numbers(target, source)
    assert converted == expected
    assert re.sub(r"\D", "", converted) == re.sub(r"\D", "", target)  # no digit lost or added


def test_missing_numbers_detected() -> None:
    assert missing_numbers("Prices rose 3.5% in 2024.", "Die Preise stiegen um 3,5 %.") == ["2024"]
    assert missing_numbers("1,500 people", "1.500 Menschen") == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("They came at 3pm.", "Sie kamen um 15 Uhr."),
        ("They came at 3pm.", "Eles vieram às 15h."),
        ("at 3:30 p.m. on Friday", "am Freitag um 15:30 Uhr"),
        ("at 12 a.m.", "um 0 Uhr"),
        ("at 9 a.m.", "um 9 Uhr"),
        ("400,000 people", "400 mil pessoas"),
        ("400,000 people", "400.000 Menschen"),
        ("400,000 people", "400 Tausend Menschen"),
        ("2,500,000 euros", "2,5 Millionen Euro"),
        ("4,000,000,000 dollars", "4 Mrd. Dollar"),
        ("4,000,000,000 dollars", "4 mil milhões de dólares"),
    ],
)
def test_numbers_read_in_the_forms_translations_use(source: str, target: str) -> None:
    assert missing_numbers(source, target) == []


@pytest.mark.parametrize(
    ("source", "target", "lost"),
    [
        ("400,000 people", "400 pessoas", ["400000"]),  # the magnitude word is what makes 400 mean 400,000
        ("400,000 people", "400 Millionen Menschen", ["400000"]),  # the wrong magnitude
        ("at 3pm", "um 16 Uhr", ["3"]),
        ("at 3am", "um 15 Uhr", ["3"]),  # morning is not afternoon
    ],
)
def test_number_readings_stay_strict(source: str, target: str, lost: list[str]) -> None:
    assert missing_numbers(source, target) == lost


def test_typography_on_html_leaves_tags_and_attributes_alone() -> None:
    fragment = 'Er sagte "<a href="https://x.org/?q=&quot;a&quot;">Hallo</a>" am 3. Mai.'
    result = apply_typography(fragment, "de")
    assert result == f'Er sagte „<a href="https://x.org/?q=&quot;a&quot;">Hallo</a>“ am 3.{NBSP}Mai.'
    assert apply_typography(fragment, "fr") == fragment
