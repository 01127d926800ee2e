"""Inline-markup transfer: strip tags to plain text with spans, translate, put the tags back.

Tags never reach the engine (models mangle or drop them). Each tag is remembered as a span over
the plain text; after translation it is re-attached to the target words that translate its
content: the span's own translation (or its source text, for names) is searched in the target,
fuzzily if need be, and as a last resort the span is placed proportionally. A tag may end up
approximately placed, but it is never dropped. Line breaks and empty elements (an anchor with no
text) are points between words: they go to the matching word boundary of the target.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from html.parser import HTMLParser

from presseschau.content import INLINE_TAGS

VOID_TAGS = frozenset({"br"})
_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class InlineTag:
    """A tag over plain-text characters [start, end); `open_html` is the rendered opening tag."""

    name: str
    open_html: str
    start: int
    end: int
    depth: int = 0
    # An element with no text in the source (`<a id="x"></a>`): kept as a point, like a break.
    empty: bool = False

    @property
    def void(self) -> bool:
        return self.name in VOID_TAGS

    @property
    def point(self) -> bool:
        """A position between characters rather than a span of text."""
        return self.void or self.empty


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.length = 0
        self.tags: list[InlineTag] = []
        self.stack: list[tuple[str, str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in INLINE_TAGS:
            return
        rendered = "".join(
            f' {name}="{html.escape(value, quote=True)}"' if value is not None else f" {name}" for name, value in attrs
        )
        open_html = f"<{tag}{rendered}>"
        if tag in VOID_TAGS:
            # A line break reads as a space to the segmenter and the engine.
            self.tags.append(InlineTag(tag, open_html, self.length, self.length, len(self.stack)))
            self._add(" ")
            return
        self.stack.append((tag, open_html, self.length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                name, open_html, start = self.stack.pop(index)
                self.tags.append(InlineTag(name, open_html, start, self.length, index, empty=start == self.length))
                return

    def handle_data(self, data: str) -> None:
        self._add(data)

    def _add(self, data: str) -> None:
        self.text.append(data)
        self.length += len(data)

    def finish(self) -> tuple[str, list[InlineTag]]:
        self.close()
        while self.stack:  # unclosed tags run to the end
            name, open_html, start = self.stack.pop()
            empty = start == self.length
            self.tags.append(InlineTag(name, open_html, start, self.length, len(self.stack), empty=empty))
        return "".join(self.text), sorted(self.tags, key=lambda t: (t.start, -t.end, t.depth))


def parse_inline(fragment: str) -> tuple[str, list[InlineTag]]:
    """Plain text (entities decoded) of an inline-HTML fragment and its tags as text spans."""
    parser = _Parser()
    parser.feed(fragment)
    return parser.finish()


def render_inline(text: str, tags: list[InlineTag]) -> str:
    """Inline HTML from plain text and tag spans; overlapping spans are nested, never dropped."""
    ordered = sorted(tags, key=lambda t: (t.start, 0 if t.point else 1, -t.end, t.depth))
    out: list[str] = []
    stack: list[tuple[str, int]] = []  # (name, end)
    position = 0

    def close_until(limit: int) -> None:
        nonlocal position
        while stack and stack[-1][1] <= limit:
            name, end = stack.pop()
            if end > position:
                out.append(html.escape(text[position:end], quote=False))
                position = end
            out.append(f"</{name}>")

    for tag in ordered:
        close_until(tag.start)
        if tag.start > position:
            out.append(html.escape(text[position : tag.start], quote=False))
            position = tag.start
        if tag.void:
            out.append(tag.open_html)
            if text[position : position + 1] == " ":
                position += 1  # the space that stood for the break in the plain text
            continue
        if tag.empty:
            out.append(f"{tag.open_html}</{tag.name}>")
            continue
        end = tag.end
        if stack and end > stack[-1][1]:
            end = stack[-1][1]  # crosses its parent's end: nest it inside instead
        if end <= tag.start:
            continue  # an empty span (callers widen spans first; this is a last guard)
        out.append(tag.open_html)
        stack.append((tag.name, end))
    close_until(len(text))
    out.append(html.escape(text[position:], quote=False))
    return "".join(out)


def clip_tags(tags: list[InlineTag], start: int, end: int) -> list[InlineTag]:
    """The tags overlapping [start, end), clipped to it and shifted to be relative to `start`."""
    clipped: list[InlineTag] = []
    for tag in tags:
        if tag.point:
            if start <= tag.start < end:
                clipped.append(replace(tag, start=tag.start - start, end=tag.start - start))
        elif tag.start < end and tag.end > start:
            clipped.append(replace(tag, start=max(tag.start, start) - start, end=min(tag.end, end) - start))
    return clipped


def _word_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD_RE.finditer(text)]


def _find(target: str, needle: str, expected: float) -> tuple[int, int] | None:
    """Case-insensitive occurrence of `needle` in `target` nearest the expected position."""
    needle = needle.strip()
    if not needle:
        return None
    lowered, low_needle = target.lower(), needle.lower()
    hits = []
    position = lowered.find(low_needle)
    while position >= 0:
        hits.append(position)
        position = lowered.find(low_needle, position + 1)
    if not hits:
        return None
    best = min(hits, key=lambda h: abs(h - expected))
    return best, best + len(needle)


def _fuzzy(target: str, needle: str, words: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The window of target words most similar to `needle` (similarity >= 0.6)."""
    needle = needle.strip().lower()
    if not needle or not words:
        return None
    size = len(needle.split())
    best: tuple[float, int, int] | None = None
    for width in {max(1, size - 1), size, size + 1}:
        for i in range(0, max(1, len(words) - width + 1)):
            j = min(len(words), i + width) - 1
            window = target[words[i][0] : words[j][1]].lower()
            score = SequenceMatcher(None, needle, window, autojunk=False).ratio()
            if best is None or score > best[0]:
                best = (score, words[i][0], words[j][1])
    if best is None or best[0] < 0.6:
        return None
    return best[1], best[2]


def _boundary(source: str, position: int, target: str, words: list[tuple[int, int]]) -> int:
    """The target position between words that corresponds to `position` between source words.

    Counted in words, not characters (German words are longer), and snapped to a sentence end
    when the source point follows one (a break after "here." stays after a full stop)."""
    if not words:
        return 0
    source_words = _word_spans(source)
    before = sum(1 for _, end in source_words if end <= position)
    if before == 0:
        return words[0][0]
    if before >= len(source_words):
        return words[-1][1]
    wanted = min(len(words) - 1, max(1, round(before * len(words) / len(source_words))))
    if source[:position].rstrip()[-1:] in (".", "!", "?", ":", ";"):
        ends = [i + 1 for i, (_, end) in enumerate(words[:-1]) if target[end - 1] in ".!?:;"]
        if ends:
            wanted = min(ends, key=lambda i: abs(i - wanted))
    return words[wanted - 1][1]


def _proportional(source_len: int, tag: InlineTag, target: str, words: list[tuple[int, int]]) -> tuple[int, int]:
    """The target words at the same relative position as the tag in the source (at least one word)."""
    if not words:
        return 0, len(target)
    first = min(len(words) - 1, int(len(words) * tag.start / max(1, source_len)))
    last = max(first, min(len(words) - 1, int(len(words) * tag.end / max(1, source_len) - 1e-9)))
    return words[first][0], words[last][1]


@dataclass
class Placement:
    tags: list[InlineTag]
    approximate: int
    by_engine: int = 0  # tags placed where the engine itself put them (see `hints`)


def transfer_tags(
    source: str,
    tags: list[InlineTag],
    target: str,
    span_translations: dict[str, str] | None = None,
    hints: dict[InlineTag, tuple[str, int]] | None = None,
) -> Placement:
    """Place `tags` (spans over `source`) on `target`, the translation of `source`.

    `span_translations` maps a tag's source text to its translation where one was made.
    `hints` gives, for tags an engine translated as markup, the text the engine put inside the
    tag and its position in the engine's output; it is looked up in `target` (which post-editing
    may have changed slightly) before any alignment.
    """
    span_translations = span_translations or {}
    hints = hints or {}
    words = _word_spans(target)
    stripped_source = source.strip()
    placed: list[InlineTag] = []
    approximate = by_engine = 0
    ratio = len(target) / max(1, len(source))
    for tag in sorted(tags, key=lambda t: (t.depth, t.start)):
        expected = tag.start * ratio
        if tag.point:
            spot = _boundary(source, tag.start, target, words)
            placed.append(replace(tag, start=spot, end=spot))
            continue
        hint = hints.get(tag)
        if hint is not None:
            hinted = _find(target, hint[0], hint[1])
            if hinted is not None:
                by_engine += 1
                placed.append(replace(tag, start=hinted[0], end=hinted[1]))
                continue
        inner = source[tag.start : tag.end]
        if inner.strip() == stripped_source:
            lead = len(target) - len(target.lstrip())
            placed.append(replace(tag, start=lead, end=len(target.rstrip())))
            continue
        found = None
        for candidate in (span_translations.get(inner.strip()), inner):
            if candidate:
                found = _find(target, candidate, expected)
                if found:
                    break
        if found is None:
            for candidate in (span_translations.get(inner.strip()), inner):
                if candidate:
                    found = _fuzzy(target, candidate, words)
                    if found:
                        break
        if found is None:
            approximate += 1
            found = _proportional(len(source), tag, target, words)
        placed.append(replace(tag, start=found[0], end=found[1]))
    return Placement(_resolve_overlaps(placed, target), approximate, by_engine)


def _resolve_overlaps(tags: list[InlineTag], target: str) -> list[InlineTag]:
    """Keep children inside parents and siblings apart; widen anything empty to a word."""
    result: list[InlineTag] = []
    for tag in sorted(tags, key=lambda t: (t.depth, t.start)):
        if tag.point:
            result.append(tag)
            continue
        start, end = tag.start, tag.end
        parents = [p for p in result if not p.point and p.depth < tag.depth and p.start <= start < p.end]
        if parents:
            parent = max(parents, key=lambda p: p.depth)
            start, end = max(start, parent.start), min(end, parent.end)
        if end <= start:
            words = _word_spans(target)
            near = min(words, key=lambda w: abs(w[0] - start)) if words else (0, len(target))
            start, end = near
        result.append(replace(tag, start=start, end=end))
    return result
