"""Inline markup as readable, editable markers for the editor's text boxes, and back.

Editors saw raw `<a href="…">` HTML. In the text boxes a paragraph's inline markup is written as
markers -- `[Link: Text → https://…]`, `[kursiv: …]`, `[fett: …]`, `[Zeilenumbruch]` -- and turned
back into the same HTML on save: `markers_to_html(html_to_markers(html))` is `html` in the
sanitizer's form (`sanitize_inline_html`; round-trip tested), so an untouched paragraph never
counts as changed and every link, emphasis and line break survives an edit of its words.
Literal `[`, `]`, `\\`, `→` and `|` in the text are written with a backslash before them.
"""

from __future__ import annotations

import html as html_lib
from urllib.parse import urlsplit

import lxml.html

from presseschau.content import sanitize_inline_html

# Marker label by tag: German words for what editors meet daily, the tag name for the rare rest.
LABELS = {
    "a": "Link",
    "em": "kursiv",
    "strong": "fett",
    "b": "b",
    "i": "i",
    "u": "unterstrichen",
    "code": "code",
    "sub": "tief",
    "sup": "hoch",
    "mark": "markiert",
    "q": "zitat",
    "s": "durchgestrichen",
    "small": "klein",
    "abbr": "abk",
}
TAGS = {label.lower(): tag for tag, label in LABELS.items()}
LINE_BREAK = "[Zeilenumbruch]"
ARROW = " → "
# The link targets the sanitizer keeps (`presseschau.content`); anything else is refused with a reason.
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_SPECIAL = "\\[]→|"


class MarkerError(ValueError):
    """An editor's markers cannot be read; the message (German) says where and why."""

    @property
    def german(self) -> str:
        """The message, which is German already: only editors in the admin area meet this error."""
        return str(self)


def _escape(text: str) -> str:
    return "".join("\\" + char if char in _SPECIAL else char for char in text)


def html_to_markers(fragment: str) -> str:
    """The paragraph `fragment` (sanitized inline HTML) as marker text for the text box."""
    root = lxml.html.fragment_fromstring(fragment or "", create_parent="div")
    return _children(root)


def _children(element: lxml.html.HtmlElement) -> str:
    out = [_escape(element.text or "")]
    for child in element:
        out.append(_element(child))
        out.append(_escape(child.tail or ""))
    return "".join(out)


def _element(element: lxml.html.HtmlElement) -> str:
    tag = str(element.tag).lower()
    if tag == "br":
        return LINE_BREAK
    inner = _children(element)
    if tag == "a":
        title = element.get("title")
        return f"[Link: {inner}{ARROW}{_escape(element.get('href') or '')}" + (
            f" | {_escape(title)}]" if title is not None else "]"
        )
    if tag == "abbr" and element.get("title") is not None:
        return f"[abk: {inner} | {_escape(element.get('title') or '')}]"
    return f"[{LABELS.get(tag, tag)}: {inner}]"


def markers_to_html(text: str, paragraph: int | None = None) -> str:
    """The sanitized inline HTML of an editor's marker `text` (paragraph number for messages)."""
    parser = _Parser(text.replace("\r\n", "\n"), paragraph)
    body = parser.nodes(top=True)
    return sanitize_inline_html(body)


class _Parser:
    def __init__(self, text: str, paragraph: int | None) -> None:
        self.text, self.pos, self.where = text, 0, f"Absatz {paragraph}: " if paragraph else ""

    def fail(self, message: str) -> MarkerError:
        return MarkerError(f"{self.where}{message} (bei Zeichen {self.pos + 1}).")

    def nodes(self, top: bool = False, stops: tuple[str, ...] = ()) -> str:
        """HTML up to the closing `]` of the marker being read (or the end, at the top)."""
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if any(self.text.startswith(stop, self.pos) for stop in stops):
                return "".join(out)
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(html_lib.escape(self.text[self.pos + 1], quote=False))
                self.pos += 2
            elif char == "[":
                out.append(self.marker())
            elif char == "]":
                if top:
                    raise self.fail("„]“ ohne öffnende Marke – als Text bitte „\\]“ schreiben")
                return "".join(out)
            else:
                out.append(html_lib.escape(char, quote=False))
                self.pos += 1
        if not top:
            raise self.fail("eine Marke „[…“ wird nicht mit „]“ geschlossen")
        return "".join(out)

    def raw(self, stops: tuple[str, ...]) -> str:
        """Plain text (backslash escapes read) up to one of `stops` or the marker's `]`."""
        out: list[str] = []
        while self.pos < len(self.text) and self.text[self.pos] != "]":
            if any(self.text.startswith(stop, self.pos) for stop in stops):
                break
            if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
            out.append(self.text[self.pos])
            self.pos += 1
        return "".join(out)

    def close(self) -> None:
        if self.pos >= len(self.text) or self.text[self.pos] != "]":
            raise self.fail("eine Marke „[…“ wird nicht mit „]“ geschlossen")
        self.pos += 1

    def marker(self) -> str:
        if self.text.startswith(LINE_BREAK, self.pos):
            self.pos += len(LINE_BREAK)
            return "<br>"
        colon = self.text.find(": ", self.pos)
        label = self.text[self.pos + 1 : colon] if colon > 0 else ""
        tag = TAGS.get(label.lower())
        if tag is None:
            known = ", ".join(f"[{name}: …]" for name in ("Link", "kursiv", "fett"))
            raise self.fail(f"unbekannte Marke „[{label[:20]}“ – zum Beispiel {known}; „[“ als Text: „\\[“")
        self.pos = colon + 2
        if tag == "a":
            inner = self.nodes(stops=(ARROW,))
            if not self.text.startswith(ARROW, self.pos):
                raise self.fail("ein Link braucht „→ Adresse“: [Link: Text → https://…]")
            self.pos += len(ARROW)
            href = self.raw((" | ",)).strip()
            scheme = urlsplit(href).scheme.lower()
            if not href or (scheme and scheme not in LINK_SCHEMES):  # relative addresses are kept too
                # The sanitizer would drop such a link silently ("[Link: böse → ]"): say so instead.
                shown = href[:40] or "(leer)"
                raise self.fail(f"die Link-Adresse „{shown}“ ist nicht erlaubt – nur http://, https:// oder mailto:")
            title = self._title()
            self.close()
            title_attr = f' title="{html_lib.escape(title)}"' if title is not None else ""
            return f'<a href="{html_lib.escape(href)}"{title_attr}>{inner}</a>'
        if tag == "abbr":
            inner = self.nodes(stops=(" | ",))
            title = self._title()
            self.close()
            title_attr = f' title="{html_lib.escape(title)}"' if title is not None else ""
            return f"<abbr{title_attr}>{inner}</abbr>"
        inner = self.nodes()
        self.close()
        return f"<{tag}>{inner}</{tag}>"

    def _title(self) -> str | None:
        if not self.text.startswith(" | ", self.pos):
            return None
        self.pos += 3
        return self.raw(())
