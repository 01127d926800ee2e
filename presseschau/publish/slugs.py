"""URL slugs from German titles: ASCII, lower case, words joined by single hyphens."""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

# German spelling first, so "Größe" becomes "groesse" and not the generic "grosse".
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"})
_SEPARATORS = re.compile(r"[^a-z0-9]+")
# Path segments the site uses itself; an article must never shadow them.
RESERVED_SLUGS = frozenset(
    {"admin", "quelle", "archiv", "suche", "seite", "static", "healthz", "metrics", "feed", "atom", "sitemap", "robots"}
) | {"api", "presseschau"}
# The correction form and the corrections page (presseschau.web.corrections).
RESERVED_SLUGS = RESERVED_SLUGS | {"korrektur", "korrekturen"}
DEFAULT_MAX_LENGTH = 100


def slugify(title: str, max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """`title` as a slug, cut at a word boundary to at most `max_length` characters.

    Apostrophes vanish instead of splitting words ("Russia's" -> "russias"); every other
    character that is not a letter or digit separates words.
    """
    text = unicodedata.normalize("NFC", title).translate(_GERMAN)
    text = re.sub(r"(?<=\w)['’ʼ](?=\w)", "", text)
    # anyascii transliterates other scripts and drops accents (é -> e, Ł -> L, Киев -> Kiev).
    text = anyascii(text).lower()
    words = [word for word in _SEPARATORS.split(text) if word]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    if not slug and words:
        # A single word longer than the limit: cutting inside it is the only option.
        slug = words[0][:max_length]
    return slug or "artikel"


def unique_slug(base: str, taken: set[str] | frozenset[str], max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """`base`, or `base-2`, `base-3`, ... -- the first that is not in `taken` and not reserved."""
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def is_valid_slug(slug: str, max_length: int = 200) -> bool:
    """Whether an editor's slug is clean: lower-case ASCII words joined by single hyphens."""
    return bool(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)) and len(slug) <= max_length
