"""German typography as a post-processing step: quotes, protected spaces, number separators.

Every transformation replaces characters one for one, so inline-tag offsets computed on the
text stay valid, and none of them adds, drops or reorders a digit.
"""

from __future__ import annotations

import re

from presseschau.translate.markup import parse_inline, render_inline

NBSP = "\u00a0"
_MONTHS = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
_DATE_SPACE = re.compile(rf"(?<!\d)(\d{{1,2}}\.) (?=(?:{_MONTHS})\b)")
# English number formats: "1,234,567(.89)" grouped, and "3.5" decimal. The lookarounds keep out
# versions (3.5.1), IP addresses and numbers glued to letters (v1.2).
_EN_GROUPED = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w]|[.,]\d)")
_EN_DECIMAL = re.compile(r"(?<![\w.,/])\d+\.\d+(?![\w]|[.,]\d)")
# A bare "3.11" may be a version (Python 3.11, Web 2.0) or a time (10.30 Uhr): a decimal point is
# only certain next to an amount -- a currency before it, or a unit, magnitude or percent after.
_AMOUNT_BEFORE = re.compile(r"[$€£¥]\s?$|(?:Euro|Dollar|Pfund|Franken|US-Dollar)\s$")
_AMOUNT_AFTER = re.compile(
    r"\s?(?:%|‰|°|-?[Pp]rozent|-?[Pp]rozentpunkt|Promille|Mio\.|Mrd\.|Millionen?|Milliarden?|Billionen|"
    r"Grad|Meter|Kilometer|Zentimeter|Millimeter|Quadratkilometer|km|cm|mm|kg|Kilogramm|Gramm|Tonnen|"
    r"Liter|Euro|Dollar|US-Dollar|Pfund|Franken|Yen|Punkte|Stunden|Minuten|Sekunden|Tage|Wochen|Monate|Jahre|"
    r"Jahren|Mal|-mal|-fach|fach|Kilowatt|Megawatt|Gigawatt|Watt|Kilowattstunden|Einwohner|Menschen)(?!\w)"
)
_NUMBER = re.compile(r"\d(?:[\d.,]*\d)?")

_OPENERS_BEFORE = set(" \t\n\u00a0([{–—-/\u201e\u201a")


def _is_opening(text: str, index: int) -> bool:
    before = text[index - 1] if index > 0 else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return (before in _OPENERS_BEFORE or before.isspace()) and not after.isspace()


def german_quotes(text: str) -> str:
    """„…“ for double and ‚…‘ for single quotes; apostrophes (don't, Peter's) stay as they are."""
    chars = list(text)
    double_open = False
    single_open = False
    for index, char in enumerate(chars):
        if char in '"\u201c\u201d\u201e':
            if not double_open and (char == "\u201e" or _is_opening(text, index)):
                chars[index] = "\u201e"
                double_open = True
            elif double_open:
                chars[index] = "\u201c"
                double_open = False
        elif char in "'\u2018\u2019\u201a":
            before = text[index - 1] if index > 0 else " "
            after = text[index + 1] if index + 1 < len(text) else " "
            if before.isalnum() and after.isalnum():
                continue  # an apostrophe inside a word
            if (char == "\u201a" or _is_opening(text, index)) and not single_open and after.isalpha():
                if _has_single_closer(text, index + 1):
                    chars[index] = "\u201a"
                    single_open = True
            elif single_open and not before.isspace():
                chars[index] = "\u2018"
                single_open = False
    return "".join(chars)


def _has_single_closer(text: str, start: int) -> bool:
    """A quote that opens must close before the paragraph ends, or it is an elision ('90s)."""
    for index in range(start, len(text)):
        if text[index] in "'\u2018\u2019":
            after = text[index + 1] if index + 1 < len(text) else " "
            if not after.isalnum():
                return True
    return False


def protect_dates(text: str) -> str:
    """A non-breaking space in `13. Februar`, so a line never breaks inside a date."""
    return _DATE_SPACE.sub(lambda m: m.group(1) + NBSP, text)


def convert_numbers(target: str, source: str) -> str:
    """English number formats copied verbatim from the source get German separators.

    Only numbers that also appear, character for character, in the English source are
    converted: there the English reading is certain. `1.500` in the target while the source has
    `1,500` is already German and stays.
    """
    source_numbers = set(_NUMBER.findall(source))

    def grouped(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in source_numbers:
            return token
        return token.translate(str.maketrans(",.", ".,"))

    def decimal(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in source_numbers:
            return token
        text = match.string
        amount = _AMOUNT_BEFORE.search(text, 0, match.start()) or _AMOUNT_AFTER.match(text, match.end())
        return token.replace(".", ",") if amount else token

    return _EN_DECIMAL.sub(decimal, _EN_GROUPED.sub(grouped, target))


def number_digits(text: str) -> list[str]:
    """The digit strings of the numbers in `text` (separators removed), for a no-lost-digits check."""
    return sorted(re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text))


# A clock time with am/pm in the source: "3pm", "3:30 p.m.", "12 a.m.".
_TWELVE_HOUR = re.compile(r"(?<![\d.,:])(\d{1,2})(?:[:.]\d{2})?\s?([ap])\.?\s?m\.?(?!\w)", re.IGNORECASE)
# Magnitude words after a number in a translation ("400 mil", "2,5 Millionen", "3 Mrd."), with
# the powers of ten they stand for (longest words are tried first: "mil milhões" before "mil").
_MAGNITUDES = {
    3: r"Tausend|thousand|mil|mille|mila|miles|k",
    6: r"Mio\.?|Millionen|Million|million|millions|milhões|milhão|millones|millón|millions?|milioni|milione",
    9: r"Mrd\.?|Milliarden|Milliarde|billion|billions|bilhões|bilhão|mil milhões|milliards?|miliardi|miliardo",
}
_MAGNITUDE_WORDS = "|".join(f"(?P<e{zeros}>{words})" for zeros, words in sorted(_MAGNITUDES.items(), reverse=True))
_MAGNITUDE_AFTER = re.compile(r"(\d(?:[\d.,]*\d)?)\s?(" + _MAGNITUDE_WORDS + r")(?!\w)")


def _clock_readings(source: str) -> dict[int, list[str]]:
    """24-hour readings of 12-hour times, by the position of the hour in `source` ("3pm" -> "15")."""
    readings: dict[int, list[str]] = {}
    for match in _TWELVE_HOUR.finditer(source):
        hour, half = int(match.group(1)), match.group(2).lower()
        if not 1 <= hour <= 12:
            continue
        if half == "p" and hour < 12:
            readings[match.start(1)] = [str(hour + 12)]
        elif half == "a" and hour == 12:
            readings[match.start(1)] = ["0", "00", "24"]
    return readings


def _magnitude_readings(target: str) -> list[str]:
    """Digits of amounts written with a magnitude word: "400 mil" -> "400000", "2,5 Millionen" -> "2500000"."""
    readings = []
    for match in _MAGNITUDE_AFTER.finditer(target):
        zeros = next(int(name[1:]) for name, value in match.groupdict().items() if value)
        token = match.group(1)
        decimals = re.search(r"[.,](\d{1,2})$", token)
        digits = re.sub(r"[.,]", "", token)
        places = len(decimals.group(1)) if decimals else 0
        readings.append(digits + "0" * (zeros - places))
    return readings


def missing_numbers(source: str, target: str) -> list[str]:
    """Numbers of `source` whose digits do not appear in `target`.

    A number also counts as present in a form translations commonly use: a 12-hour time in
    24-hour form ("3pm" as "15 Uhr", "15h") and an amount with a magnitude word ("400,000" as
    "400 mil", "2.5 million" as "2,5 Millionen" are digit-equal already)."""
    available = number_digits(target) + _magnitude_readings(target)
    clock = _clock_readings(source)
    missing = []
    for match in _NUMBER.finditer(source):
        digits = re.sub(r"[.,]", "", match.group(0))
        for reading in (digits, *clock.get(match.start(), ())):
            if reading in available:
                available.remove(reading)
                break
        else:
            missing.append(digits)
    return sorted(missing)


def german_text(text: str) -> str:
    return protect_dates(german_quotes(text))


def apply_typography(fragment: str, language: str) -> str:
    """Typography for `language` on the text of an inline-HTML fragment (tags untouched)."""
    if language.split("-")[0].lower() != "de":
        return fragment
    text, tags = parse_inline(fragment)
    converted = german_text(text)
    if converted == text:
        return fragment
    return render_inline(converted, tags)
