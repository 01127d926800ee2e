"""Rights: the licences presseschau recognises, the reuse modes, and what an article may show.

One decision per article (`decide_reuse`): the source's reuse mode (or the site default), capped
by the article's licence when that licence forbids adaptations (a translation is one) or is
unknown, unless the operator recorded permission for the source. Every stage uses the same cut
of the text for a mode (`reusable_paragraphs`): the translate stage sends only that to the
engine, and the publish stage shows only that, so no output can carry more than the mode allows.

This is a tool for the operator's decisions, not legal advice: the operator sets the modes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from presseschau.config import Settings
from presseschau.content import Paragraph, html_to_text, text_to_html
from presseschau.messages import CataloguedError
from presseschau.messages import text as message
from presseschau.store.models import Article, Source

ReuseMode = Literal["full", "excerpt", "quote", "headline"]
# Widest first: a cap keeps the narrower of two modes.
REUSE_MODES: tuple[ReuseMode, ...] = ("full", "excerpt", "quote", "headline")
REUSE_LABELS: dict[str, str] = {
    "full": "vollständig",
    "excerpt": "Auszug",
    "quote": "Zitat",
    "headline": "nur Titel",
}
DEFAULT_EXCERPT_WORDS = 150
MIN_EXCERPT_WORDS = 20
MAX_EXCERPT_WORDS = 2000
# The opening sentences quoted in `quote` mode (until key passages are chosen otherwise).
QUOTE_MAX_SENTENCES = 2
QUOTE_MAX_WORDS = 60
# What a `headline` article translates: enough opening text for its teaser (characters).
HEADLINE_LEAD_CHARS = 320
UNKNOWN_LICENCE = "unknown"


class ReuseError(CataloguedError, ValueError):
    """A reuse setting is not valid; the message names the value and the reason."""


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence presseschau recognises, by its SPDX-style identifier."""

    id: str
    name: str
    url: str | None
    # Forbids adaptations (a translation is one): the article is capped.
    no_derivatives: bool
    non_commercial: bool = False
    share_alike: bool = False


def _cc(elements: str, version: str) -> Licence:
    parts = elements.split("-")
    names = {"by": "Namensnennung", "sa": "Weitergabe unter gleichen Bedingungen", "nd": "Keine Bearbeitungen",
             "nc": "Nicht kommerziell"}  # fmt: skip
    german = " – ".join(names[p] for p in parts)
    return Licence(
        id=f"CC-{elements.upper()}-{version}",
        name=f"CC {elements.upper()} {version} ({german})",
        url=f"https://creativecommons.org/licenses/{elements}/{version}/",
        no_derivatives="nd" in parts,
        non_commercial="nc" in parts,
        share_alike="sa" in parts,
    )


_CC_ELEMENTS = ("by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd")
_CC_VERSIONS = ("1.0", "2.0", "2.5", "3.0", "4.0")
LICENCES: dict[str, Licence] = {
    lic.id: lic for lic in (_cc(elements, version) for elements in _CC_ELEMENTS for version in _CC_VERSIONS)
}
LICENCES["CC0-1.0"] = Licence(
    "CC0-1.0", "CC0 1.0 (gemeinfrei)", "https://creativecommons.org/publicdomain/zero/1.0/", False
)
LICENCES["PDM-1.0"] = Licence(
    "PDM-1.0", "Public Domain Mark 1.0 (gemeinfrei)", "https://creativecommons.org/publicdomain/mark/1.0/", False
)
# Said outright in the page's rights metadata: no licence to adapt.
LICENCES["all-rights-reserved"] = Licence("all-rights-reserved", "Alle Rechte vorbehalten", None, True)
LICENCES[UNKNOWN_LICENCE] = Licence(UNKNOWN_LICENCE, "unbekannt", None, False)


def licence(licence_id: str | None) -> Licence:
    """The `Licence` of a stored identifier (`unknown` for None or one no longer known)."""
    return LICENCES.get(licence_id or UNKNOWN_LICENCE, LICENCES[UNKNOWN_LICENCE])


def parse_reuse_mode(value: str) -> ReuseMode:
    """`value` as a reuse mode, or `ReuseError` naming it and the choices."""
    cleaned = value.strip().lower()
    for mode in REUSE_MODES:
        if cleaned == mode:
            return mode
    raise ReuseError(message("reuse_mode_unknown", mode=value, modes=REUSE_MODES))


def parse_excerpt_words(value: int | str) -> int:
    try:
        words = int(value)
    except (TypeError, ValueError):
        raise ReuseError(message("excerpt_not_whole", value=value)) from None
    if not MIN_EXCERPT_WORDS <= words <= MAX_EXCERPT_WORDS:
        raise ReuseError(message("excerpt_range", words=words, low=MIN_EXCERPT_WORDS, high=MAX_EXCERPT_WORDS))
    return words


def narrower(a: ReuseMode, b: ReuseMode) -> ReuseMode:
    return a if REUSE_MODES.index(a) >= REUSE_MODES.index(b) else b


@dataclass(frozen=True, slots=True)
class ReuseDecision:
    """What one article may show, and why (German, for the editor and the reader-facing notes)."""

    mode: ReuseMode
    reason: str
    excerpt_words: int = DEFAULT_EXCERPT_WORDS
    licence_id: str = UNKNOWN_LICENCE
    # The licence lowered the source's mode.
    capped: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "reason": self.reason,
            "excerpt_words": self.excerpt_words,
            "licence": self.licence_id,
            "capped": self.capped,
        }


def decide_reuse(
    *,
    source_mode: str | None,
    default_mode: str,
    excerpt_words: int | None,
    permission: str | None,
    licence_id: str | None,
    if_no_derivatives: str,
    if_unknown: str | None,
) -> ReuseDecision:
    """The mode an article is shown in: its source's (else the site default), capped by its licence.

    A licence forbidding adaptations caps at `if_no_derivatives`; an unknown licence at
    `if_unknown` (None: the source's own mode). Recorded permission lifts the cap."""
    wanted = parse_reuse_mode(source_mode or default_mode)
    words = excerpt_words or DEFAULT_EXCERPT_WORDS
    found = licence(licence_id)
    origin = "Quelle" if source_mode else "Voreinstellung der Seite"
    base = f"Modus „{REUSE_LABELS[wanted]}“ ({origin})"
    if permission and permission.strip():
        # The note itself (who, when) is for the operator: readers see that permission exists.
        return ReuseDecision(wanted, f"{base}; Erlaubnis des Mediums liegt vor", words, found.id)
    if found.no_derivatives:
        cap = parse_reuse_mode(if_no_derivatives)
        why = f"Lizenz {found.name} erlaubt keine Bearbeitung (eine Übersetzung ist eine)"
    elif found.id == UNKNOWN_LICENCE:
        cap = parse_reuse_mode(if_unknown) if if_unknown else wanted
        why = "Lizenz unbekannt"
    else:
        return ReuseDecision(wanted, f"{base}; Lizenz {found.name}", words, found.id)
    mode = narrower(wanted, cap)
    if mode == wanted:
        return ReuseDecision(wanted, f"{base}; {why}", words, found.id)
    return ReuseDecision(mode, f"{why}: begrenzt auf „{REUSE_LABELS[mode]}“ statt {base}", words, found.id, True)


def source_reuse(settings: Settings, source: Source | None) -> tuple[ReuseMode, int]:
    """The reuse mode and excerpt length a source's articles get before any licence cap."""
    mode = parse_reuse_mode(source.reuse if source is not None and source.reuse else settings.default_reuse)
    words = (source.excerpt_words if source is not None else None) or settings.default_excerpt_words
    return mode, words


def reuse_setting_text(settings: Settings, source: Source | None) -> str:
    """A source's reuse setting in a few words, for lists: `excerpt (150 words)`, `full (site default)`."""
    mode, words = source_reuse(settings, source)
    text = f"{mode} ({words} words)" if mode == "excerpt" else mode
    if source is None or not source.reuse:
        text += " (site default)"
    if source is not None and source.reuse_permission:
        text += ", permission granted"
    return text


def licence_text(article: Article) -> str:
    """The article's licence, where it was found and the URL it named, for the editor."""
    found = licence(article.licence)
    if article.licence is None:
        return "not checked (stored before licence detection)"
    if found.id == UNKNOWN_LICENCE:
        return "unknown (none declared)"
    where = f", found in {article.licence_found}" if article.licence_found else ""
    return f"{found.id} – {found.name}{where}" + (f" <{article.licence_url}>" if article.licence_url else "")


def article_reuse(settings: Settings, article: Article, source: Source | None = None) -> ReuseDecision:
    """The decision for a stored article (its source's settings, its licence, the site's caps)."""
    source = source if source is not None else article.source
    return decide_reuse(
        source_mode=source.reuse if source is not None else None,
        default_mode=settings.default_reuse,
        excerpt_words=(source.excerpt_words if source is not None else None) or settings.default_excerpt_words,
        permission=source.reuse_permission if source is not None else None,
        licence_id=article.licence,
        if_no_derivatives=settings.reuse_if_no_derivatives,
        if_unknown=settings.reuse_if_unknown,
    )


def bilingual_allowed(settings: Settings, source: Source | None, decision: ReuseDecision) -> bool:
    """Readers may see the English original beside the German text (full mode only)."""
    if decision.mode != "full":
        return False
    own = source.bilingual if source is not None else None
    return settings.bilingual_reading if own is None else bool(own)


# The cut of the text for a mode -----------------------------------------------------------------

# A sentence ends at . ! ? … (optionally followed by closing quotes or brackets) before a space and
# an upper-case letter, digit or opening quote; "Mr." and single initials do not end one.
_SENTENCE_END_RE = re.compile(r"[.!?…][\"'”’»«)\]]*(?=\s+[\"'“„‚«»(\[]?[A-ZÄÖÜ0-9])")
_ABBREVIATIONS = "Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|No|vs|Gen|Sen|Rep|Gov|Lt|Col|U\\.S|z\\.B|Nr|Hr|Fr"
_NO_END_RE = re.compile(rf"(?:\b(?:{_ABBREVIATIONS})|\b[A-Z])\.$")


def sentences(text: str) -> list[str]:
    """`text` split into sentences (plain text)."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        if _NO_END_RE.search(text[start : match.start() + 1]):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [piece for piece in pieces if piece]


def word_count(paragraphs: Iterable[Paragraph]) -> int:
    return sum(len(p.text.split()) for p in paragraphs)


def excerpt_paragraphs(paragraphs: Sequence[Paragraph], max_words: int) -> list[Paragraph]:
    """The opening of `paragraphs`: at most `max_words` words, in whole sentences.

    Whole paragraphs keep their markup; the paragraph that does not fit is cut after its last
    sentence that fits and becomes plain text (inline links cannot be cut safely)."""
    kept: list[Paragraph] = []
    used = 0
    for paragraph in paragraphs:
        words = len(paragraph.text.split())
        if used + words <= max_words:
            kept.append(paragraph)
            used += words
            continue
        fitting: list[str] = []
        for sentence in sentences(paragraph.text):
            count = len(sentence.split())
            if used + count > max_words:
                break
            fitting.append(sentence)
            used += count
        if fitting:
            kept.append(Paragraph(paragraph.kind, text_to_html(" ".join(fitting))))
        break
    # Headings with nothing after them introduce nothing.
    while kept and kept[-1].kind not in ("p", "li", "blockquote", "pre"):
        kept.pop()
    return kept


def quoted_passages(paragraphs: Sequence[Paragraph]) -> list[str]:
    """The passage(s) a `quote` article quotes, as plain text: its opening sentences.

    The one place that chooses them: per-outlet key passages can replace this choice."""
    chosen: list[str] = []
    words = 0
    for paragraph in paragraphs:
        if paragraph.kind not in ("p", "blockquote"):
            continue
        for sentence in sentences(paragraph.text):
            count = len(sentence.split())
            if chosen and (len(chosen) >= QUOTE_MAX_SENTENCES or words + count > QUOTE_MAX_WORDS):
                return [" ".join(chosen)]
            chosen.append(sentence)
            words += count
        if chosen:
            break
    return [" ".join(chosen)] if chosen else []


def lead_paragraphs(paragraphs: Sequence[Paragraph], max_chars: int = HEADLINE_LEAD_CHARS) -> list[Paragraph]:
    """Whole opening sentences of the first prose paragraph, about `max_chars` long (a teaser's worth)."""
    for paragraph in paragraphs:
        if paragraph.kind != "p":
            continue
        text = ""
        for sentence in sentences(paragraph.text):
            if text and len(text) + len(sentence) > max_chars:
                break
            text = f"{text} {sentence}".strip()
        return [Paragraph("p", text_to_html(text))] if text else []
    return []


def reusable_paragraphs(paragraphs: Sequence[Paragraph], decision: ReuseDecision) -> list[Paragraph]:
    """What of `paragraphs` an article in `decision`'s mode may carry: the whole text, an excerpt,
    the quoted passage(s) as quotes, or (headline) the teaser's lead only.

    Used alike on the English original (what is translated) and the German translation (what is
    shown), so no output carries more than the mode allows."""
    if decision.mode == "full":
        return list(paragraphs)
    if decision.mode == "excerpt":
        return excerpt_paragraphs(paragraphs, decision.excerpt_words)
    if decision.mode == "quote":
        return [Paragraph("blockquote", text_to_html(passage)) for passage in quoted_passages(paragraphs)]
    return lead_paragraphs(paragraphs)


def plain(paragraphs: Iterable[Paragraph]) -> str:
    return "\n".join(html_to_text(p.html) for p in paragraphs)


def made_for(report: dict[str, Any] | None, decision: ReuseDecision) -> bool:
    """The translation (its `report`) was made from exactly the text `decision` allows: the German
    rendering of that text is what may be shown, however many German words it takes."""
    made = (report or {}).get("reuse") or {}
    if made.get("mode") != decision.mode:
        return False
    return decision.mode != "excerpt" or made.get("excerpt_words") == decision.excerpt_words


def shown_paragraphs(
    translated: Sequence[Paragraph], decision: ReuseDecision, report: dict[str, Any] | None
) -> list[Paragraph]:
    """What of a translation may be shown: all of it when it was made for this decision, else the
    mode's cut of it (a source narrowed after translation, or a translation from before the modes)."""
    if decision.mode == "full" or made_for(report, decision):
        return list(translated)
    return reusable_paragraphs(translated, decision)
