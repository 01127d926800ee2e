"""German presentation of dates, teasers and the translation notice."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from presseschau.content import Paragraph
from presseschau.translate.names import engine_display_name

TEASER_LENGTH = 300
# Running text only: headings, list items, quotes and code would make a poor teaser.
_TEASER_KINDS = frozenset({"p"})
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before a space.
_SENTENCE_END = re.compile(r"[.!?…][\"'”“’‘«»)\]]*(?=\s|$)")
# Tokens that end with a dot but do not end a sentence: abbreviations, initials, ordinals.
_NO_END_BEFORE_DOT = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Col|Lt|Sgt|Gov|Sen|Rep|Inc|Ltd|Co|Corp|vs|etc|No|Nr|bzw|ca|"
    r"usw|vgl|z\.B|d\.h|u\.a|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z]|\b\d{1,2})\.$"
)


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_datetime(moment: datetime, timezone: str) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(_zone(timezone))


@lru_cache(maxsize=65_536)  # the same dates appear on many list pages; Babel is not cheap
def german_datetime(moment: datetime, timezone: str, locale: str = "de") -> str:
    """`13. Februar 2024 20:33` in `timezone`."""
    return str(format_datetime(local_datetime(moment, timezone), "d. MMMM y HH:mm", locale=locale))


def german_datetime_uhr(moment: datetime, timezone: str) -> str:
    """`13. Februar 2024, 20:33 Uhr` in `timezone`: the form readers see on the pages."""
    return str(format_datetime(local_datetime(moment, timezone), "d. MMMM y, HH:mm 'Uhr'", locale="de"))


def original_date_text(moment: datetime, date_only: bool, timezone: str) -> str:
    """The original's date for readers: `5. November 2026` when the source gave only the day
    (no time is made up), else `5. November 2026, 13:40 Uhr`."""
    if date_only:
        return str(format_date(moment.date(), "d. MMMM y", locale="de"))
    return german_datetime_uhr(moment, timezone)


def original_date_iso(moment: datetime, date_only: bool, timezone: str) -> str:
    """`2026-11-05` for a date-only original, else the ISO time with offset."""
    return moment.date().isoformat() if date_only else iso_datetime(moment, timezone)


def german_date(moment: datetime, timezone: str, locale: str = "de") -> str:
    """`13. Februar 2024` in `timezone`."""
    return str(format_date(local_datetime(moment, timezone).date(), "d. MMMM y", locale=locale))


def german_month(year: int, month: int, locale: str = "de") -> str:
    """`Februar 2024`."""
    return str(format_date(datetime(year, month, 1).date(), "MMMM y", locale=locale))


def iso_datetime(moment: datetime, timezone: str) -> str:
    """ISO 8601 with the local offset, for `<time datetime>` and metadata."""
    return local_datetime(moment, timezone).isoformat(timespec="seconds")


def _open_quote(text: str) -> str:
    """The closing mark of a quotation still open at the end of `text` ("" when none is open)."""
    if text.count("„") > text.count("“"):  # German „…“
        return "“"
    if "„" not in text and text.count("“") > text.count("”"):  # English “…”
        return "”"
    if text.count('"') % 2:
        return '"'
    return ""


def teaser(paragraphs: Iterable[Paragraph], length: int = TEASER_LENGTH) -> str:
    """The opening of `paragraphs` as plain text, about `length` characters.

    Whole paragraphs are kept while they fit; beyond that the text is cut at the last sentence
    end within reach, or else at a word boundary with "…" -- never mid-word without a mark.
    Prose paragraphs are preferred (headings only when there is no prose). `paragraphs` is read
    only as far as needed, so a lazy iterable saves work on long articles.
    """
    text, fallback = "", ""
    for paragraph in paragraphs:
        if paragraph.kind not in _TEASER_KINDS:
            if len(fallback) < length:
                fallback = f"{fallback} {paragraph.text}".strip()
            continue
        part = paragraph.text
        if part:
            text = f"{text} {part}" if text else part
        if len(text) >= length:
            break
    text = text or fallback
    if len(text) <= length:
        return text
    # Allow a sentence to run a little past the target rather than cutting it.
    reach = text[: int(length * 1.15)]
    best = inside_quote = -1
    closing = ""
    for match in _SENTENCE_END.finditer(reach):
        if _NO_END_BEFORE_DOT.search(reach[: match.start() + 1]):
            continue
        still_open = _open_quote(reach[: match.end()])
        if still_open:
            # A sentence end inside quoted speech: only if nothing better.
            inside_quote, closing = match.end(), still_open
            continue
        best = match.end()
    if best >= length // 3:
        return reach[:best].strip()
    if inside_quote >= length // 3:
        return f"{reach[:inside_quote].strip()} …{closing}"
    cut = text[: length + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > length // 2 else text[:length]
    return cut.rstrip(" ,;:–-") + " …"


# "Aus dem Englischen": the source language in the dative, as the disclosure line needs it.
_FROM_LANGUAGE = {"en": "Englischen", "fr": "Französischen", "es": "Spanischen", "it": "Italienischen"}


ORIGINAL_TEXT_NOTICE = "Originaltext auf Deutsch, nicht übersetzt"


def translation_disclosure(engine: str | None, model: str | None, reviewed: bool, source_language: str = "en") -> str:
    """The line under the byline: `Aus dem Englischen · maschinell übersetzt (DeepL) · redaktionell
    geprüft`. The machine origin stays visible after review."""
    if engine == "original":  # not a translation at all
        return ORIGINAL_TEXT_NOTICE
    language = _FROM_LANGUAGE.get(source_language.split("-")[0])
    parts = [f"Aus dem {language}" if language else f"Übersetzt aus „{source_language}“"]
    if engine == "memory":
        parts.append("aus gespeicherten Übersetzungen")
    else:
        parts.append(f"maschinell übersetzt ({engine_display_name(engine, model)})")
    if reviewed:
        parts.append("redaktionell geprüft")
    return " · ".join(parts)


def translation_notice(engine: str | None, model: str | None, reviewed: bool) -> str:
    """How the German text came about, for the attribution block."""
    if engine == "original":  # the source published it in German already (a source filter setting)
        return ORIGINAL_TEXT_NOTICE
    if engine == "memory":
        notice = "Aus gespeicherten Übersetzungen übernommen"
    else:
        notice = f"Maschinell übersetzt mit {engine_display_name(engine, model)}"
    return f"{notice}, redaktionell geprüft" if reviewed else notice


def join_authors(authors: Sequence[str]) -> str:
    """`A`, `A und B`, `A, B und C`."""
    names = [a.strip() for a in authors if a and a.strip()]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " und " + names[-1]


def plural(count: int, one: str, other: str, locale: str = "de") -> str:
    """`1 Geschichte`, `2 Geschichten`, `1.234 Artikel`: the count in the locale's digits and the
    noun by the locale's plural rule (CLDR through Babel). The one helper for counted nouns."""
    form = Locale.parse(locale).plural_form(count)
    return f"{format_decimal(count, locale=locale)} {one if form == 'one' else other}"


def nest_quotes(text: str) -> str:
    """German quotations inside a quotation: „…“ becomes ‚…‘ (only where the text opens one with „,
    so an English “…” is left alone)."""
    if "„" not in text:
        return text
    return text.replace("„", "‚").replace("“", "‘")
