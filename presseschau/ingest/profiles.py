"""Outlet profiles: a source's country (ISO 3166-1 alpha-2) and kind of outlet, shown in the Presseschau.

Validated here for every entry point (CLI, admin, API, OPML); German names come from Babel's locale
data (the country list is CLDR's, so "GB" is „Vereinigtes Königreich“). The source's language is its
existing `language` field.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale

from presseschau.messages import CataloguedError
from presseschau.messages import text as message

# Kinds of outlet and their German labels.
OUTLET_KINDS: dict[str, str] = {
    "newspaper": "Zeitung",
    "magazine": "Magazin",
    "broadcaster": "Sender",
    "think-tank": "Denkfabrik",
    "blog": "Blog",
    "agency": "Nachrichtenagentur",
}
# CLDR territories that are no countries (regions, "unknown", pseudo codes).
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})


class ProfileError(CataloguedError, ValueError):
    """A country or kind of outlet that is not known; the message names the value and what is expected."""


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    territories = Locale("de").territories
    return {code: name for code, name in territories.items() if re.fullmatch(r"[A-Z]{2}", code)}


def check_country(value: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code, upper-cased ("gb" → "GB"); None for empty."""
    text = (value or "").strip()
    if not text:
        return None
    code = text.upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code not in _countries() or code in _NOT_COUNTRIES:
        raise ProfileError(message("country_unknown", country=text))
    return code


def check_outlet_kind(value: str | None) -> str | None:
    """One of `OUTLET_KINDS` (case and a space or underscore for the hyphen tolerated); None for empty."""
    text = (value or "").strip()
    if not text:
        return None
    kind = re.sub(r"[\s_]+", "-", text.lower())
    if kind not in OUTLET_KINDS:
        raise ProfileError(message("outlet_kind_unknown", kind=text, kinds=list(OUTLET_KINDS)))
    return kind


def country_name(code: str | None) -> str:
    """The German name of a stored country code ("" when none or unknown)."""
    return _countries().get(code or "", "") if code else ""


def language_name(code: str | None) -> str:
    """The German name of a language code ("en" → „Englisch“; the code itself when unknown)."""
    if not code:
        return ""
    base = code.split("-")[0].lower()
    return str(Locale("de").languages.get(base, code))


def kind_label(kind: str | None) -> str:
    return OUTLET_KINDS.get(kind or "", "")


def profile_text(country: str | None, kind: str | None) -> str:
    """„Vereinigtes Königreich, Zeitung“: what the review shows next to an outlet ("" when unset)."""
    return ", ".join(part for part in (country_name(country), kind_label(kind)) if part)


def country_choices() -> list[tuple[str, str]]:
    """(code, German name) of every country, by name: for the admin's selection list."""
    return sorted(((c, n) for c, n in _countries().items() if c not in _NOT_COUNTRIES), key=lambda item: item[1])
