"""A hostile corpus, generated here (never downloaded): text that looks like markup, characters that
XML 1.0 forbids, Rich console markup, and malformed feed items. Shared by the output-format, CLI
and ingest tests, so every entry point and output format sees the same input."""

from __future__ import annotations

import html
import json
import re

# Text that looks like markup (a code sample, a quote): it must arrive as text everywhere.
MARKUP_TEXTS = (
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "</title></item><script>alert(3)</script>",
    '"><svg onload=alert(4)>',
    "]]><b>cdata</b>",
    "&lt;i&gt;escaped&lt;/i&gt;",
)
# Every character XML 1.0 forbids (C0 controls but tab, LF and CR; U+FFFE and U+FFFF).
XML_FORBIDDEN_CHARS = "".join(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)) + "\ufffe\uffff"
XML_FORBIDDEN_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Rich console markup: closing tags without an opening one raise MarkupError when printed as markup.
RICH_MARKUP_TEXTS = ("Rich [/i] Times", "[/x]", "[/bold]", "[bold red]laut[/]", "[link=https://x.example]k[/link]")


def with_controls(text: str) -> str:
    """`text` with a forbidden character between every pair of words."""
    words = text.split(" ")
    out = [words[0]]
    for index, word in enumerate(words[1:]):
        out.append(XML_FORBIDDEN_CHARS[index % len(XML_FORBIDDEN_CHARS)] + " " + word)
    return "".join(out)


def stored_html(text: str) -> str:
    """How a text (not markup) is stored in the inline-HTML content model."""
    return html.escape(text, quote=False)


def hostile_jsonfeed(base_url: str) -> bytes:
    """A JSON Feed whose second and fourth items are malformed; the other three are valid."""
    items: list[dict[str, object]] = []
    for n in range(5):
        items.append(
            {
                "id": f"{base_url}/item/{n}",
                "url": f"{base_url}/item/{n}",
                "title": f"Item {n} {MARKUP_TEXTS[n % len(MARKUP_TEXTS)]}",
                "content_html": f"<p>Paragraph of item {n}.</p>",
                "date_published": f"2024-02-1{n}T10:00:00Z",
            }
        )
    items[1]["authors"] = 5
    items[3]["url"] = 42
    items[3]["tags"] = "not-a-list"
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "items": items}).encode()
