"""Corrections: readers report translation errors per paragraph; editors publish correction notes.

A report is stored with the paragraph's index and its German text as the reader saw it, plus the
reader's words as plain text (control and bidi-override characters removed; rendered escaped
everywhere). A correction note is public: on the article ("Korrigiert am …: …"), on the
corrections page and in its feed; it moves the article's `dateModified`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.content import strip_xml_forbidden
from presseschau.publish import queries
from presseschau.store.models import (
    CorrectionNote,
    CorrectionReport,
    Publication,
    PublicationStatus,
    Translation,
    utcnow,
)

MAX_MESSAGE_CHARS = 2000
MAX_NOTE_CHARS = 1000
REPORT_STATUSES = ("open", "done", "dismissed")
# Bidi embeddings, overrides and isolates, and zero-width marks: a report must not reorder the
# text around it in the admin area (Trojan-Source style).
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class CorrectionError(ValueError):
    """A report or note was refused; `german` says why, for the reader or editor."""

    def __init__(self, german: str) -> None:
        super().__init__(german)
        self.german = german


def clean_text(value: str, limit: int, what: str) -> str:
    """`value` as storable plain text: forbidden, control and bidi characters removed, spaces kept."""
    text = _INVISIBLE_RE.sub("", strip_xml_forbidden(value or ""))
    text = "\n".join(" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")).strip()
    if not text:
        raise CorrectionError(f"{what} ist leer.")
    if len(text) > limit:
        raise CorrectionError(f"{what} ist zu lang (höchstens {limit} Zeichen).")
    return text


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """A published article's paragraph a reader may report: what the page showed."""

    publication_id: int
    slug: str
    title: str
    index: int
    text: str


def report_target(session: Session, settings: Settings, publication_id: int, index: int) -> ReportTarget | None:
    """The shown paragraph `index` of a published article (None when there is no such paragraph)."""
    view = queries.article_view(session, settings, publication_id, with_links=False)
    if view is None or not 0 <= index < len(view.body_paragraphs):
        return None
    return ReportTarget(publication_id, view.summary.slug, view.summary.title, index, view.body_paragraphs[index].text)


def add_report(session: Session, settings: Settings, publication_id: int, index: int, message: str) -> CorrectionReport:
    """Store a reader's report for the editors; `CorrectionError` for an unknown paragraph or bad text."""
    target = report_target(session, settings, publication_id, index)
    if target is None:
        raise CorrectionError("Diesen Absatz gibt es nicht (mehr).")
    report = CorrectionReport(
        publication_id=publication_id,
        paragraph_index=index,
        paragraph_text=target.text,
        message=clean_text(message, MAX_MESSAGE_CHARS, "Die Meldung"),
    )
    session.add(report)
    session.flush()
    return report


@dataclass(frozen=True, slots=True)
class OpenReport:
    id: int
    publication_id: int
    translation_id: int
    slug: str
    title: str
    paragraph_index: int
    paragraph_text: str
    message: str
    status: str
    created_at: datetime


def reports(session: Session, status: str = "open", limit: int = 200) -> list[OpenReport]:
    """Readers' reports with their article, newest first."""
    rows = session.execute(
        select(CorrectionReport, Publication.slug, Translation.id, Translation.title)
        .join(Publication, Publication.id == CorrectionReport.publication_id)
        .join(Translation, Translation.id == Publication.translation_id)
        .where(CorrectionReport.status == status)
        .order_by(CorrectionReport.created_at.desc(), CorrectionReport.id.desc())
        .limit(limit)
    )
    return [
        OpenReport(
            report.id,
            report.publication_id,
            int(translation_id),
            str(slug),
            queries.plain_text(title) or "Ohne Titel",
            report.paragraph_index,
            report.paragraph_text,
            report.message,
            report.status,
            report.created_at,
        )
        for report, slug, translation_id, title in rows
    ]


def open_report_count(session: Session) -> int:
    return int(session.scalar(select(func.count(CorrectionReport.id)).where(CorrectionReport.status == "open")) or 0)


def set_report_status(session: Session, report_id: int, status: str, by: str) -> CorrectionReport:
    if status not in REPORT_STATUSES:
        raise CorrectionError(f"Unbekannter Status „{status}“.")
    report = session.get(CorrectionReport, report_id)
    if report is None:
        raise CorrectionError(f"Meldung {report_id} gibt es nicht.")
    report.status, report.handled_by = status, by[:100]
    return report


def publish_note(session: Session, publication_id: int, text: str, author: str) -> CorrectionNote:
    """A public correction note on a published article; its `dateModified` follows."""
    publication = session.get(Publication, publication_id)
    if publication is None or publication.status != PublicationStatus.PUBLISHED:
        raise CorrectionError("Der Artikel ist nicht veröffentlicht.")
    now = utcnow()
    note = CorrectionNote(
        publication_id=publication_id, text=clean_text(text, MAX_NOTE_CHARS, "Die Korrektur"), author=author[:100]
    )
    note.created_at = now
    session.add(note)
    # Readers see the article change: "Aktualisiert am …", dateModified, and a fresh page in the cache.
    publication.text_updated_at = now
    publication.updated_at = now
    session.flush()
    return note


@dataclass(frozen=True, slots=True)
class PublicCorrection:
    note_id: int
    publication_id: int
    slug: str
    title: str
    text: str
    created_at: datetime


def public_corrections(session: Session, language: str, limit: int = 100) -> list[PublicCorrection]:
    """Correction notes of published articles, newest first (the corrections page and feed)."""
    rows = session.execute(
        select(CorrectionNote, Publication.slug, Translation.title)
        .join(Publication, Publication.id == CorrectionNote.publication_id)
        .join(Translation, Translation.id == Publication.translation_id)
        .where(Publication.status == PublicationStatus.PUBLISHED, Publication.language == language)
        .order_by(CorrectionNote.created_at.desc(), CorrectionNote.id.desc())
        .limit(limit)
    )
    return [
        PublicCorrection(
            note.id,
            note.publication_id,
            str(slug),
            queries.plain_text(title) or "Ohne Titel",
            queries.plain_text(note.text),
            note.created_at,
        )
        for note, slug, title in rows
    ]
