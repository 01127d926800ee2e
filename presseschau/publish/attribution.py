"""Attribution that satisfies the licence, the same on every output.

Author, outlet, the original's title and link, the licence's name and link, and the statement
that the German text is a machine translation (and edited, if an editor changed it). Built once
from the article view (`queries.ArticleView`) and rendered by the article page, the JSON-LD, the
feeds (`dc:rights`, Atom `<rights>`, JSON Feed `_rights`), the static build and the newsletter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from presseschau.publish.formatting import join_authors, translation_notice
from presseschau.publish.queries import ArticleView
from presseschau.store.models import Article, Translation
from presseschau.store.rights import REUSE_LABELS, UNKNOWN_LICENCE, licence
from presseschau.text import isolate_bidi

# What readers are told for each narrower mode, next to the link to the original.
READ_ON = "Weiterlesen im Original"
MODE_NOTES = {
    "excerpt": "Auszug aus dem Original",
    "quote": "Zitiert aus dem Original",
    "headline": "Nur Titel und Anriss – der Text steht im Original",
}


@dataclass(frozen=True, slots=True)
class Attribution:
    original_title: str
    original_url: str
    outlet: str | None
    authors: tuple[str, ...]
    licence_id: str
    licence_name: str | None
    licence_url: str | None
    non_commercial: bool
    # "Maschinell übersetzt mit DeepL, bearbeitet"
    statement: str
    mode: str
    mode_note: str | None

    @property
    def by_line(self) -> str:
        """`„Title“ von A und B, Outlet`"""
        parts = [f"„{self.original_title}“"]
        if self.authors:
            parts.append(f"von {join_authors(self.authors)}")
        text = " ".join(parts)
        return f"{text}, {self.outlet}" if self.outlet else text

    @property
    def licence_text(self) -> str:
        if self.licence_name is None:
            return "Lizenz des Originals: nicht angegeben; Rechte beim Medium"
        text = f"Lizenz des Originals: {self.licence_name}"
        return text + " – nur nicht kommerzielle Nutzung" if self.non_commercial else text

    def rights_text(self) -> str:
        """One line of plain text for `dc:rights`, Atom `<rights>` and the newsletter."""
        parts = [f"Original: {isolate_bidi(self.by_line)}" + (f" <{self.original_url}>" if self.original_url else "")]
        parts.append(self.licence_text + (f" <{self.licence_url}>" if self.licence_url else ""))
        parts.append(self.statement)
        if self.mode_note:
            parts.append(self.mode_note)
        return ". ".join(parts) + "."

    def credit_html(self) -> str:
        """The attribution as an HTML paragraph (feed content, newsletter): every value escaped."""
        title = f"„{escape(isolate_bidi(self.original_title))}“"
        if self.original_url:
            title = f'<a href="{escape(self.original_url)}">{title}</a>'
        parts = [f"Original: {title}"]
        if self.authors:
            parts[0] += f" von {escape(isolate_bidi(join_authors(self.authors)))}"
        if self.outlet:
            parts[0] += f", {escape(isolate_bidi(self.outlet))}"
        licence = str(escape(self.licence_text))
        if self.licence_url:
            licence = f'<a href="{escape(self.licence_url)}" rel="license">{licence}</a>'
        parts += [licence, str(escape(self.statement))]
        if self.mode_note:
            parts.append(str(escape(self.mode_note)))
        return "<p><em>" + ". ".join(parts) + ".</em></p>"

    def json_ld(self) -> dict[str, Any]:
        """`license` for the schema.org JSON-LD of the German article (the original's licence)."""
        return {"license": self.licence_url} if self.licence_url else {}

    def to_json(self) -> dict[str, Any]:
        """JSON Feed's `_rights` extension object."""
        return {
            "about": "presseschau attribution",
            "original": self.original_url,
            "licence": self.licence_id,
            **({"licence_url": self.licence_url} if self.licence_url else {}),
            "non_commercial": self.non_commercial,
            "reuse": self.mode,
            "text": self.rights_text(),
        }


def licence_line(licence_id: str | None) -> str:
    """`Lizenz des Originals: CC BY-NC 4.0 (…) – nur nicht kommerzielle Nutzung`, or the rights' holder."""
    found = licence(licence_id)
    if found.id == UNKNOWN_LICENCE:
        return "Lizenz des Originals: nicht angegeben; Rechte beim Medium"
    text = f"Lizenz des Originals: {found.name}" + (f" <{found.url}>" if found.url else "")
    return text + " – nur nicht kommerzielle Nutzung" if found.non_commercial else text


def short_rights(article: Article, translation: Translation) -> str:
    """The attribution's licence and translation statement in one line (newsletter entries)."""
    statement = translation_notice(translation.engine, translation.model, translation.reviewed)
    return f"{licence_line(article.licence)}. {statement}."


def attribution(view: ArticleView) -> Attribution:
    found = view.licence
    known = found.id != UNKNOWN_LICENCE
    statement = view.notice
    if view.edited and "bearbeitet" not in statement:
        statement += ", bearbeitet"
    if view.reuse.mode != "full":
        statement += f" (Umfang: {REUSE_LABELS[view.reuse.mode]})"
    return Attribution(
        original_title=view.original_title,
        original_url=view.original_url,
        outlet=view.summary.outlet or view.summary.source_name,
        authors=tuple(view.authors),
        licence_id=found.id,
        licence_name=found.name if known else None,
        licence_url=found.url if known else None,
        non_commercial=found.non_commercial,
        statement=statement,
        mode=view.reuse.mode,
        mode_note=MODE_NOTES.get(view.reuse.mode),
    )
