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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from presseschau.config import Settings
from presseschau.messages import CataloguedError
from presseschau.messages import text as catalogued


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
        # Longest first, so "New York Times" wins over "New York" (and over "Times").
        self.terms = sorted(self.terms, key=lambda t: len(t.source), reverse=True)
        self._combined = _alternation(self.terms)

    @classmethod
    def load(cls, path: str | Path) -> Glossary:
        path = Path(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise GlossaryError(f"glossary {path} is not UTF-8 text (byte {error.start})") from None
        except OSError as error:
            raise GlossaryError(f"cannot read glossary {path}: {error.strerror or error}") from None
        if path.suffix.lower() == ".toml":
            return cls(_parse_toml(raw, path))
        return cls(_parse_tsv(raw, path))

    def terms_in(self, text: str) -> list[Term]:
        return _unique(self.terms[_group(match)] for match in self._combined.finditer(text)) if self.terms else []

    def prepare(self, source: str) -> Enforcement:
        """The segment as the engine should see it: each term already in its required form.

        One pass over the text: a replacement is never scanned again, so `Times → Zeiten` cannot
        rewrite the kept name "New York Times" (or the target of another term)."""
        if not self.terms:
            return Enforcement(source, [])
        applied: list[Term] = []

        def replace(match: re.Match[str]) -> str:
            term = self.terms[_group(match)]
            applied.append(term)
            return term.target

        text = self._combined.sub(replace, source)
        return Enforcement(text, _unique(applied))

    def repair(self, output: str, terms: list[Term]) -> tuple[str, list[Term]]:
        """Fix copied-through source terms in `output`; returns it and the terms still missing.

        The required target forms of all `terms` found in the output are protected: a source term
        is only replaced where it is not part of another term's target ("Times" inside a kept
        "New York Times")."""

        def target_spans(text: str) -> list[tuple[int, int]]:
            return [match.span() for term in terms for match in term.target_pattern.finditer(text)]

        protected = target_spans(output)
        missing: list[Term] = []
        for term in terms:
            if term.target_pattern.search(output):
                continue
            spans = [
                match.span()
                for match in term.pattern.finditer(output)
                if not any(start < match.end() and match.start() < end for start, end in protected)
            ]
            if not spans:
                missing.append(term)
                continue
            for start, end in reversed(spans):
                output = output[:start] + term.target + output[end:]
            protected = target_spans(output)
        return output, missing


def _alternation(terms: list[Term]) -> re.Pattern[str]:
    """One regex matching any term's source as a whole word; group `t<i>` tells which term."""
    alternatives = [
        f"(?P<t{index}>{re.escape(term.source) if term.case_sensitive else f'(?i:{re.escape(term.source)})'})"
        for index, term in enumerate(terms)
    ]
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives) or '(?!)'})(?!\w)")


def _group(match: re.Match[str]) -> int:
    assert match.lastgroup is not None
    return int(match.lastgroup[1:])


def _unique(terms: Iterable[Term]) -> list[Term]:
    return list(dict.fromkeys(terms))


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
    terms: dict[str, Term] = {}

    def add(term: Term) -> None:
        if not term.source.strip():
            raise GlossaryError(f"{path}: empty source term")
        if term.source in terms and terms[term.source].target != term.target:
            raise GlossaryError(f"{path}: {term.source!r} given twice with different targets")
        terms[term.source] = term

    table = data.get("terms") or {}
    if not isinstance(table, dict):
        raise GlossaryError(f'{path}: [terms] must be a table of "source" = "target"')
    for source, target in table.items():
        if not isinstance(target, str):
            raise GlossaryError(f"{path}: the target of {source!r} must be a string, not {target!r}")
        add(Term(source, target or source))
    for entry in data.get("term") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("source"), str) or not entry["source"]:
            raise GlossaryError(f"{path}: every [[term]] needs a source string")
        target = entry.get("target") or entry["source"]
        if not isinstance(target, str):
            raise GlossaryError(f"{path}: the target of {entry['source']!r} must be a string, not {target!r}")
        add(Term(entry["source"], target, bool(entry.get("case_sensitive", True))))
    return list(terms.values())


@lru_cache(maxsize=4)
def _load_glossary(path: str, mtime: float) -> Glossary:
    return Glossary.load(path)


def glossary_for(settings: Settings, additions: dict[str, Any] | None = None) -> Glossary | None:
    """The configured glossary, plus a source's own additions (`Source.glossary`, editorial admin)."""
    path: Path | None = settings.glossary_path
    base: Glossary | None = None
    if path is not None:
        if not path.is_absolute():
            path = settings.data_dir / path
        base = _load_glossary(str(path), path.stat().st_mtime if path.exists() else 0.0)
    if not additions:
        return base
    # A new Glossary, never the cached one; the source's term replaces a global one with that source.
    own = [Term(str(source), str(target)) for source, target in additions.items() if str(source).strip()]
    kept = [term for term in (base.terms if base else []) if term.source not in additions]
    return Glossary([*kept, *own])


# Per-source additions as editors type them (stored as `Source.glossary`, merged by `glossary_for`):
# one `English = Deutsch` pair per line; a tab works as separator too (pasted from the TSV file); a
# line with only a term marks a name that must stay as it is; `#` starts a comment.

MAX_ADDITIONS = 500
MAX_TERM_LENGTH = 200


class GlossaryInputError(CataloguedError, ValueError):
    """A line of the additions cannot be used; the catalogued message names it."""


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
            raise GlossaryInputError(catalogued("glossary_no_source", line=number, separator=separator))
        if len(source) > MAX_TERM_LENGTH or len(target) > MAX_TERM_LENGTH:
            raise GlossaryInputError(catalogued("glossary_term_too_long", line=number, limit=MAX_TERM_LENGTH))
        if source in terms and terms[source] != target:
            raise GlossaryInputError(catalogued("glossary_term_twice", line=number, term=source, target=terms[source]))
        terms[source] = target
    if len(terms) > MAX_ADDITIONS:
        raise GlossaryInputError(catalogued("glossary_too_many", limit=MAX_ADDITIONS))
    return terms


def format_glossary_additions(terms: dict[str, Any] | None) -> str:
    return "\n".join(
        f"{source} = {target}" if source != target else str(source) for source, target in (terms or {}).items()
    )
