"""Terminology: source terms that must come out as a given target term (Kyiv → Kiew).

File formats:
- TSV: `source<TAB>target` per line; `#` starts a comment; a line with only a source term (or
  the same term twice) marks a name that must not be translated.
- TOML: a `[terms]` table of `"source" = "target"`, and/or `[[term]]` entries with `source`,
  `target` and optional `case_sensitive` (default true).

Enforcement: before the engine sees a segment, each term is replaced by its required target
form (engines copy names they do not know), and afterwards the output is checked. A source term
the engine copied through anyway is replaced; a target term still absent is reported as not
enforced, never silently ignored.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


class GlossaryError(ValueError):
    """A glossary file cannot be read (bad format, duplicate or empty terms)."""


@dataclass(frozen=True)
class Term:
    source: str
    target: str
    case_sensitive: bool = True

    @property
    def pattern(self) -> re.Pattern[str]:
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return re.compile(rf"(?<!\w){re.escape(self.source)}(?!\w)", flags)

    @property
    def target_pattern(self) -> re.Pattern[str]:
        # German inflects names by suffix (Kiews, Lukaschenkos): a prefix match at a word start counts.
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return re.compile(rf"(?<!\w){re.escape(self.target)}", flags)


@dataclass
class Enforcement:
    text: str
    applied: list[Term] = field(default_factory=list)


@dataclass
class Glossary:
    terms: list[Term]

    def __post_init__(self) -> None:
        # Longest first, so "New York Times" wins over "New York".
        self.terms = sorted(self.terms, key=lambda t: len(t.source), reverse=True)

    @classmethod
    def load(cls, path: str | Path) -> Glossary:
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as error:
            raise GlossaryError(f"cannot read glossary {path}: {error}") from error
        if path.suffix.lower() == ".toml":
            return cls(_parse_toml(raw, path))
        return cls(_parse_tsv(raw, path))

    def terms_in(self, text: str) -> list[Term]:
        return [term for term in self.terms if term.pattern.search(text)]

    def prepare(self, source: str) -> Enforcement:
        """The segment as the engine should see it: each term already in its required form."""
        applied: list[Term] = []
        text = source
        for term in self.terms:
            if term.pattern.search(text):
                applied.append(term)
                text = term.pattern.sub(term.target, text)
        return Enforcement(text, applied)

    def repair(self, output: str, terms: list[Term]) -> tuple[str, list[Term]]:
        """Fix copied-through source terms in `output`; returns it and the terms still missing."""
        missing: list[Term] = []
        for term in terms:
            if term.target_pattern.search(output):
                continue
            if term.pattern.search(output):
                output = term.pattern.sub(term.target, output)
                continue
            missing.append(term)
        return output, missing


def _parse_tsv(raw: str, path: Path) -> list[Term]:
    terms: dict[str, Term] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [part.strip() for part in line.split("\t")]
        source = parts[0]
        target = parts[1] if len(parts) > 1 and parts[1] else source
        if not source:
            raise GlossaryError(f"{path}:{number}: empty source term")
        if source in terms and terms[source].target != target:
            raise GlossaryError(f"{path}:{number}: {source!r} given twice with different targets")
        terms[source] = Term(source, target)
    return list(terms.values())


def _parse_toml(raw: str, path: Path) -> list[Term]:
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise GlossaryError(f"{path}: {error}") from error
    terms: list[Term] = []
    for source, target in (data.get("terms") or {}).items():
        terms.append(Term(str(source), str(target or source)))
    for entry in data.get("term") or []:
        if not isinstance(entry, dict) or not entry.get("source"):
            raise GlossaryError(f"{path}: every [[term]] needs a source")
        source = str(entry["source"])
        terms.append(Term(source, str(entry.get("target") or source), bool(entry.get("case_sensitive", True))))
    return terms
