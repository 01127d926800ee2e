"""Language identification of article bodies with py3langid (one model per process: `presseschau.language_id`)."""

from __future__ import annotations

from dataclasses import dataclass

from presseschau.language_id import full_identifier

# Enough text for a stable answer; more only costs time.
_SAMPLE_CHARS = 6000
# Below this many letters an identification is a guess; we then trust the page's own claim.
MIN_LETTERS = 40


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    language: str | None
    probability: float


def detect_language(text: str, fallback: str | None = None) -> LanguageGuess:
    """The ISO 639-1 code of `text`'s language; `fallback` (e.g. `<html lang>`) for tiny texts."""
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return LanguageGuess(_primary(fallback), 0.0)
    language, probability = full_identifier().classify(sample)
    return LanguageGuess(str(language), float(probability))


def _primary(tag: str | None) -> str | None:
    """`en-GB` -> `en`."""
    if not tag:
        return None
    return tag.strip().replace("_", "-").split("-", 1)[0].lower() or None
