"""Per-source glossary additions as editors type them: one `English = Deutsch` pair per line.

A tab works as separator too (pasted from the TSV glossary file); a line with only a term marks a
name that must stay as it is; `#` starts a comment. Stored as `Source.glossary`, merged over the
configured glossary by `presseschau.translate.service.glossary_for`.
"""

from __future__ import annotations

from typing import Any

MAX_TERMS = 500
MAX_TERM_LENGTH = 200


class GlossaryInputError(ValueError):
    """A line of the additions cannot be used; the message names it (in German, for the form)."""


def parse_glossary_additions(text: str) -> dict[str, str]:
    terms: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        separator = "\t" if "\t" in line else "=" if "=" in line else None
        if separator is None:
            source, target = line, line
        else:
            source, _, target = (part.strip() for part in line.partition(separator))
            target = target or source
        if not source:
            raise GlossaryInputError(f"Zeile {number}: kein englischer Begriff vor „{separator}“")
        if len(source) > MAX_TERM_LENGTH or len(target) > MAX_TERM_LENGTH:
            raise GlossaryInputError(f"Zeile {number}: Begriffe dürfen höchstens {MAX_TERM_LENGTH} Zeichen haben")
        if source in terms and terms[source] != target:
            raise GlossaryInputError(f"Zeile {number}: „{source}“ steht schon mit „{terms[source]}“ in der Liste")
        terms[source] = target
    if len(terms) > MAX_TERMS:
        raise GlossaryInputError(f"Höchstens {MAX_TERMS} Einträge pro Quelle")
    return terms


def format_glossary_additions(terms: dict[str, Any] | None) -> str:
    return "\n".join(
        f"{source} = {target}" if source != target else str(source) for source, target in (terms or {}).items()
    )
