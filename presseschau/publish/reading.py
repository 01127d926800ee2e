"""The article body as readers get it on the site: per paragraph the English original (bilingual
reading, no JavaScript: `<details>`, `lang="en"`) and a link to report a translation error.

Feeds and the newsletter carry the plain body (`site._block_html`); only pages get these extras.
Every paragraph's HTML is sanitized when loaded (`queries.safe_paragraphs`).
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import escape

from presseschau.content import Paragraph

ReportUrl = Callable[[int], str]


def _element(paragraph: Paragraph) -> tuple[str, str]:
    """(opening, closing) tags of a stored paragraph on the page."""
    kind = "h2" if paragraph.kind == "h1" else paragraph.kind  # the page title is the only h1
    if kind == "blockquote":
        return "<blockquote><p>", "</p></blockquote>"
    return f"<{kind}>", f"</{kind}>"


def _extras(number: int, original: Paragraph | None, report_url: str | None) -> str:
    if original is None and report_url is None:
        return ""
    label = "Original und Korrektur" if original is not None and report_url else "Original" if original else "Korrektur"
    parts = [
        f'<details class="paragraph-extras" id="absatz-{number}" data-pagefind-ignore="all">',  # German search only
        f'<summary>{label}<span class="visually-hidden"> zu Absatz {number}</span></summary>',
    ]
    if original is not None:
        parts.append(f'<p class="original-text" lang="en">{original.html}</p>')
    if report_url is not None:
        parts.append(
            f'<p class="report-link"><a href="{escape(report_url)}" rel="nofollow">'
            f"Übersetzungsfehler in diesem Absatz melden</a></p>"
        )
    parts.append("</details>")
    return "".join(parts)


def article_body_html(paragraphs: list[Paragraph], originals: list[Paragraph], report_url: ReportUrl | None) -> str:
    """The body with its per-paragraph extras; `originals` aligned by index (empty: none shown)."""
    out: list[str] = []
    in_list = False
    for index, paragraph in enumerate(paragraphs):
        original = originals[index] if index < len(originals) else None
        extras = _extras(index + 1, original, report_url(index) if report_url else None)
        if paragraph.kind == "li":
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{paragraph.html}{extras}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        opening, closing = _element(paragraph)
        out.append(f"{opening}{paragraph.html}{closing}{extras}")
    if in_list:
        out.append("</ul>")
    return "\n".join(out)


def side_by_side_rows(paragraphs: list[Paragraph], originals: list[Paragraph]) -> list[tuple[Paragraph, Paragraph]]:
    """(German, English) pairs for the side-by-side page."""
    return list(zip(paragraphs, originals, strict=False))
