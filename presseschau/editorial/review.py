"""Review actions on translations: queue, edits saved as revisions, re-translation, approve/reject.

Every change is a `TranslationRevision` (number 1 is the machine output), so the history and a
diff between any two states can be shown. Edited paragraphs flow into the translation memory as
`reviewed` entries, which win over machine ones the next time the same source text comes along.
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from presseschau.config import Settings
from presseschau.content import Paragraph, html_to_text, paragraphs_from_json, paragraphs_to_json, sanitize_inline_html
from presseschau.editorial.markers import html_to_markers
from presseschau.publish.service import done_translations
from presseschau.store.models import (
    Article,
    Publication,
    PublicationStatus,
    Translation,
    TranslationRevision,
    TranslationStatus,
    utcnow,
)
from presseschau.store.rights import article_reuse, reusable_paragraphs, shown_paragraphs

# Report keys written by the translate stage that an editor should look at.
_FLAG_KEYS = {
    "glossary_not_enforced": "Glossar nicht durchgesetzt",
    "coverage_retries": "Vollständigkeitsprüfung wiederholt",
    "failed_segments": "Segmente fehlgeschlagen",
    "numbers_missing": "Zahlen fehlen",
    "split_sentences": "Lange Sätze geteilt",
    "fallback_segments": "Segmente mit Ersatz-Engine",
}


class ReviewError(ValueError):
    """A review action is not possible; the message says why (`field`: the editor's form field it
    is about, `titel` or `absatz-N` with N counted from 0, when it is about one)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def german(self) -> str:
        """The message, which is German already: only editors in the admin area meet this error."""
        return str(self)


@dataclass(frozen=True)
class ReviewItem:
    translation_id: int
    article_id: int
    title: str
    original_title: str
    source_name: str | None
    engine: str | None
    paragraphs: int
    words: int
    translated_at: datetime | None
    status: str
    slug: str | None = None
    flags: list[str] = field(default_factory=list)
    # The quality estimate's article risk (None: not estimated) and the names of its flags.
    risk: float | None = None
    quality_flags: list[str] = field(default_factory=list)


def report_flags(report: dict[str, Any]) -> list[str]:
    """German labels (with counts) for the warnings in a translate-stage report."""
    flags = []
    for key, label in _FLAG_KEYS.items():
        value = report.get(key)
        # Lists of findings count their entries; plain counters count themselves (bool is no count).
        if isinstance(value, list | dict):
            count = len(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            count = value
        else:
            count = 0
        if count:
            flags.append(f"{label} ({count})")
    if report.get("fallback_engine"):
        flags.append(f"Ersatz-Engine {report['fallback_engine']}")
    return flags


def translation_flags(settings: Settings, translation: Translation) -> list[str]:
    """Report flags plus a fallback-engine flag when the whole article went to the fallback engine.

    The translate stage falls back per article (`resolve_engine`) and records only the engine that
    ran, so the fallback shows as: engine == configured fallback != the engine that was wanted.
    """
    from presseschau.translate.translating import choose_engine

    flags = report_flags(translation.report or {})
    fallback = settings.fallback_engine
    if (
        fallback
        and translation.engine == fallback
        and choose_engine(settings, source=translation.article.source) != fallback
        and not any(flag.startswith("Ersatz-Engine") for flag in flags)
    ):
        flags.append(f"Ersatz-Engine {fallback}")
    return flags


def review_queue(session: Session, settings: Settings, include_published: bool = False) -> list[ReviewItem]:
    """Translations waiting for review (held), riskiest first, then newest; optionally published unreviewed ones too."""
    statuses = [PublicationStatus.HELD, PublicationStatus.PUBLISHED] if include_published else [PublicationStatus.HELD]
    rows = session.scalars(
        # Only translations with a publication of these statuses: the outer join acts as an inner one.
        done_translations(settings, Publication.status.in_(statuses), Translation.reviewed.is_(False))
        .options(
            selectinload(Translation.article).selectinload(Article.source),
            selectinload(Translation.publication),
        )
        # Riskiest first (the quality estimate), then newest; not estimated ones after the estimated.
        .order_by(
            Translation.quality_risk.is_(None),
            Translation.quality_risk.desc(),
            Translation.translated_at.desc(),
            Translation.id.desc(),
        )
    ).all()
    items = []
    for translation in rows:
        paragraphs = paragraphs_from_json(translation.paragraphs)
        article = translation.article
        items.append(
            ReviewItem(
                translation_id=translation.id,
                article_id=article.id,
                title=html_to_text(translation.title or ""),
                original_title=article.title or "",
                source_name=article.source.name if article.source else article.outlet,
                engine=translation.engine,
                paragraphs=len(paragraphs),
                words=sum(len(p.text.split()) for p in paragraphs),
                translated_at=translation.translated_at,
                status=translation.publication.status if translation.publication else PublicationStatus.HELD,
                slug=translation.publication.slug if translation.publication else None,
                flags=translation_flags(settings, translation),
                risk=translation.quality_risk,
                quality_flags=sorted(
                    {
                        str(flag.get("name"))
                        for paragraph in (translation.quality or {}).get("paragraphs", [])
                        for flag in paragraph.get("flags", [])
                    }
                ),
            )
        )
    return items


def get_translation(session: Session, translation_id: int) -> Translation:
    translation = session.get(Translation, translation_id)
    if translation is None:
        raise ReviewError(f"Übersetzung {translation_id} gibt es nicht")
    if translation.status != TranslationStatus.DONE:
        raise ReviewError(
            f"Übersetzung {translation_id} ist nicht fertig (Status {translation.status}): nichts zu prüfen"
        )
    return translation


def latest_revision_number(session: Session, translation: Translation) -> int:
    """The newest revision number (1 once the machine output is recorded); editors' forms carry it."""
    ensure_initial_revision(session, translation)
    return int(
        session.scalar(
            select(func.max(TranslationRevision.number)).where(TranslationRevision.translation_id == translation.id)
        )
        or 0
    )


def revisions(session: Session, translation: Translation) -> list[TranslationRevision]:
    ensure_initial_revision(session, translation)
    return list(
        session.scalars(
            select(TranslationRevision)
            .where(TranslationRevision.translation_id == translation.id)
            .order_by(TranslationRevision.number)
        )
    )


def ensure_initial_revision(session: Session, translation: Translation) -> None:
    """Keep the machine output as revision 1 before the first edit, so it can always be compared."""
    exists = session.scalar(
        select(func.count())
        .select_from(TranslationRevision)
        .where(TranslationRevision.translation_id == translation.id)
    )
    if not exists:
        # Version 1 is what made the translation: a machine, or the stored human translations.
        note = "Aus gespeicherten Übersetzungen" if translation.engine == "memory" else "Maschinenübersetzung"
        revision = _add_revision(session, translation, author=f"engine:{translation.engine or 'unknown'}", note=note)
        # Recorded lazily (when an editor first opens it), but it is the translation's state of when
        # the machine made it: date it so, not to the moment of opening.
        revision.created_at = translation.translated_at or translation.created_at or revision.created_at
        session.flush()


def _add_revision(session: Session, translation: Translation, author: str, note: str | None) -> TranslationRevision:
    number = (
        session.scalar(
            select(func.max(TranslationRevision.number)).where(TranslationRevision.translation_id == translation.id)
        )
        or 0
    ) + 1
    revision = TranslationRevision(
        translation_id=translation.id,
        number=number,
        title=translation.title,
        paragraphs=list(translation.paragraphs),
        slug=translation.publication.slug if translation.publication else None,
        author=author,
        note=note,
    )
    session.add(revision)
    session.flush()
    return revision


def _touch_publication(session: Session, translation: Translation, settings: Settings) -> None:
    if translation.publication is not None:
        now = utcnow()
        translation.publication.updated_at = now
        if translation.publication.status == PublicationStatus.PUBLISHED:
            # Readers see the text change: "Aktualisiert am …" and dateModified.
            translation.publication.text_updated_at = now
            from presseschau.publish import search

            # Keep full-text search in step with the edited text (as far as the reuse mode shows it).
            reuse = article_reuse(settings, translation.article)
            shown = shown_paragraphs(paragraphs_from_json(translation.paragraphs), reuse, translation.report)
            body = " ".join(p.text for p in shown)
            search.index_document(
                session, translation.publication.id, translation.language, translation.title or "", body, reuse
            )


def is_live(translation: Translation) -> bool:
    """The translation is on the public site: edits wait in a draft until published."""
    return translation.publication is not None and translation.publication.status == PublicationStatus.PUBLISHED


def draft_text(translation: Translation) -> tuple[str, list[Paragraph]]:
    """The title and paragraphs an editor works on: the pending draft, else the translation's text."""
    draft = translation.draft
    if draft:
        return str(draft.get("title") or ""), paragraphs_from_json(draft.get("paragraphs"))
    return translation.title or "", paragraphs_from_json(translation.paragraphs)


def _cleaned_paragraph(index: int, new_html: str) -> str:
    # Editors type inline HTML; only the safe subset the site renders survives (no scripts,
    # no event handlers, no javascript: links), exactly as for text from the sources.
    cleaned = sanitize_inline_html(new_html)
    if not html_to_text(cleaned):
        raise ReviewError(f"Absatz {index + 1} wäre leer: ein Absatz kann nicht gelöscht werden", f"absatz-{index}")
    return cleaned


def _cleaned_title(title: str) -> str:
    # Titles are stored in the inline-HTML form of the content model: markup is dropped, but
    # text the editor typed escaped ("3 &lt; 5", "&lt;b&gt;") stays escaped, so it is shown
    # as typed (unescaping it here made "&lt;b&gt;x&lt;/b&gt;" a tag the page then dropped).
    title_text = html_to_text(sanitize_inline_html(title))
    if not title_text:
        raise ReviewError("Der Titel darf nicht leer sein", "titel")
    return html.escape(title_text, quote=False)


def save_draft(
    translation: Translation, author: str, title: str | None = None, paragraphs: dict[int, str] | None = None
) -> bool:
    """Keep an editor's changes to a published translation without changing the live page.

    The draft holds the whole title and text; "Änderung veröffentlichen" (`publish_draft`) makes it
    live. A draft equal to the live text is dropped. Returns whether a draft is now pending."""
    draft_title, current = draft_text(translation)
    for index, new_html in (paragraphs or {}).items():
        if not 0 <= index < len(current):
            raise ReviewError(f"Absatz {index + 1} gibt es nicht (die Übersetzung hat {len(current)})")
        current[index] = Paragraph(kind=current[index].kind, html=_cleaned_paragraph(index, new_html))
    if title is not None:
        draft_title = _cleaned_title(title)
    live = paragraphs_from_json(translation.paragraphs)
    if draft_title == (translation.title or "") and [p.html for p in current] == [p.html for p in live]:
        translation.draft = None
        return False
    translation.draft = {
        "title": draft_title,
        "paragraphs": paragraphs_to_json(current),
        "author": author,
        "saved_at": utcnow().isoformat(),
    }
    return True


def save_edit(
    settings: Settings,
    session: Session,
    translation: Translation,
    author: str,
    title: str | None = None,
    paragraphs: dict[int, str] | None = None,
    note: str | None = None,
) -> TranslationRevision | None:
    """Apply an editor's title and paragraph changes (sanitized); None when nothing changed."""
    ensure_initial_revision(session, translation)
    current = paragraphs_from_json(translation.paragraphs)
    changed_pairs: list[tuple[str, str]] = []
    # Pairs for the memory from what was translated: the reuse mode's part of the original.
    source_paragraphs = reusable_paragraphs(
        paragraphs_from_json(translation.article.paragraphs), article_reuse(settings, translation.article)
    )
    changed = False
    for index, new_html in (paragraphs or {}).items():
        if not 0 <= index < len(current):
            raise ReviewError(f"Absatz {index + 1} gibt es nicht (die Übersetzung hat {len(current)})")
        cleaned = _cleaned_paragraph(index, new_html)
        if cleaned != current[index].html:
            current[index] = Paragraph(kind=current[index].kind, html=cleaned)
            changed = True
            if index < len(source_paragraphs):
                changed_pairs.append((source_paragraphs[index].html, cleaned))
    if title is not None:
        cleaned_title = _cleaned_title(title)
        if cleaned_title != (translation.title or ""):
            translation.title = cleaned_title
            changed = True
            if translation.article.title:
                changed_pairs.append((translation.article.title, cleaned_title))
    if not changed:
        return None
    translation.paragraphs = paragraphs_to_json(current)
    translation.updated_at = utcnow()
    _touch_publication(session, translation, settings)
    revision = _add_revision(session, translation, author=author, note=note or "Bearbeitet")
    _remember_reviewed(settings, translation, changed_pairs)
    return revision


def _remember_reviewed(settings: Settings, translation: Translation, pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        return
    from presseschau.translate.memory import TranslationMemory

    session = object_session_of(translation)
    connection = session.connection()

    def joined_session() -> Session:
        # The memory commits and closes its own sessions; one joined to the caller's transaction
        # through a savepoint makes that commit a savepoint release, so the entries are written
        # atomically with the edit (a separate connection would wait on SQLite's write lock held
        # by this very transaction).
        return Session(bind=connection, join_transaction_mode="create_savepoint")

    memory = TranslationMemory(joined_session, settings.source_language, translation.language)
    memory.store(pairs, engine=translation.engine, model=translation.model, origin="reviewed")


def object_session_of(translation: Translation) -> Session:
    from sqlalchemy.orm import object_session

    session = object_session(translation)
    if session is None:
        raise ReviewError("translation is not attached to a session")
    return session


def _retranslation_engine(settings: Settings, translation: Translation, engine_name: str | None) -> str:
    """The editor's choice, else the engine that made this translation, else the article's own."""
    from presseschau.translate.translating import choose_engine

    source = translation.article.source
    name = choose_engine(settings, engine_name or translation.engine, source)
    if name == "memory" and not engine_name:
        # The memory engine only replays stored translations; a fresh one needs a real engine --
        # unless the editor chose the stored translations on purpose: then they are used.
        name = choose_engine(settings, source=source)
    return name


def _fresh_paragraph(settings: Settings, translation: Translation, source: Paragraph, index: int, name: str) -> str:
    """Paragraph `index` translated again with engine `name`, sanitized; `ReviewError` in German."""
    from presseschau.translate.engines import EngineError
    from presseschau.translate.translating import translate_paragraph

    article_source = translation.article.source
    try:
        fresh = translate_paragraph(
            settings,
            source,
            name,
            target_language=translation.language,
            glossary_additions=article_source.glossary if article_source else None,
        )
    except EngineError as error:
        raise ReviewError(
            f"Absatz {index + 1} konnte mit {name} nicht neu übersetzt werden ({error.german.rstrip('.')}). "
            "Der Absatz bleibt unverändert."
        ) from error
    if fresh is None:
        raise ReviewError(
            f"Die Neuübersetzung von Absatz {index + 1} mit {name} hat die Vollständigkeitsprüfung nicht "
            "bestanden (Teile des Originals fehlten in der Ausgabe). Der Absatz bleibt unverändert; "
            "bitte eine andere Engine wählen oder den Absatz von Hand bearbeiten."
        )
    new_html = sanitize_inline_html(fresh.html)
    if not html_to_text(new_html):
        raise ReviewError(f"Die Neuübersetzung von Absatz {index + 1} mit {name} war leer; nichts geändert.")
    return new_html


def _apply_retranslation(
    settings: Settings,
    session: Session,
    translation: Translation,
    changes: dict[int, str],
    author: str,
    note: str,
    into_draft: bool,
) -> TranslationRevision | None:
    from presseschau.publish.service import on_translation_done

    if into_draft:
        save_draft(translation, author, paragraphs=changes)
        return None
    ensure_initial_revision(session, translation)
    current = paragraphs_from_json(translation.paragraphs)
    for index, new_html in changes.items():
        current[index] = Paragraph(kind=current[index].kind, html=new_html)
    translation.paragraphs = paragraphs_to_json(current)
    translation.updated_at = utcnow()
    # A translation done again: published or held by the source's policy like every other one
    # (a published article stays published, one an editor took down stays down).
    on_translation_done(session, translation, settings)
    return _add_revision(session, translation, author=author, note=note)


def retranslate_paragraph(
    settings: Settings,
    session: Session,
    translation: Translation,
    index: int,
    author: str,
    engine_name: str | None = None,
    into_draft: bool = False,
) -> TranslationRevision | None:
    """Translate paragraph `index` again from the original (optionally with another engine).

    `into_draft`: the new paragraph goes into the pending draft (a published translation's live
    page is unchanged until the draft is published); returns None then."""
    # Only the part of the original its reuse mode shows: an excerpt's last paragraph is cut there too.
    source_paragraphs = reusable_paragraphs(
        paragraphs_from_json(translation.article.paragraphs), article_reuse(settings, translation.article)
    )
    current = paragraphs_from_json(translation.paragraphs)
    if not 0 <= index < min(len(source_paragraphs), len(current)):
        raise ReviewError(f"Absatz {index + 1} gibt es im Original oder in der Übersetzung nicht")
    name = _retranslation_engine(settings, translation, engine_name)
    new_html = _fresh_paragraph(settings, translation, source_paragraphs[index], index, name)
    note = f"Absatz {index + 1} neu übersetzt mit {name}"
    return _apply_retranslation(settings, session, translation, {index: new_html}, author, note, into_draft)


def retranslate_article(
    settings: Settings,
    session: Session,
    translation: Translation,
    author: str,
    engine_name: str | None = None,
    into_draft: bool = False,
) -> TranslationRevision | None:
    """Every paragraph translated again (the editor's *Neu übersetzen* for the whole article), as
    one revision; all or nothing: a paragraph that fails leaves the whole text unchanged."""
    # Only the part of the original its reuse mode shows: an excerpt's last paragraph is cut there too.
    source_paragraphs = reusable_paragraphs(
        paragraphs_from_json(translation.article.paragraphs), article_reuse(settings, translation.article)
    )
    count = min(len(source_paragraphs), len(paragraphs_from_json(translation.paragraphs)))
    name = _retranslation_engine(settings, translation, engine_name)
    changes = {i: _fresh_paragraph(settings, translation, source_paragraphs[i], i, name) for i in range(count)}
    note = f"Ganzer Text neu übersetzt mit {name}"
    return _apply_retranslation(settings, session, translation, changes, author, note, into_draft)


def approve(session: Session, settings: Settings, translation: Translation, author: str) -> Publication:
    """Mark as editorially reviewed and publish."""
    from presseschau.publish.service import publish

    ensure_initial_revision(session, translation)
    translation.reviewed = True
    before = translation.publication
    # publish() lets a never-published slug follow the title; a slug the editor chose (it left a
    # history entry behind) must survive the approval.
    chosen = before.slug if before is not None and before.slug_history else None
    publication = publish(session, settings, translation.article_id)
    if chosen is not None and publication.slug != chosen:
        publication.slug = chosen
        session.flush()
    _add_revision(session, translation, author=author, note="Freigegeben")
    return publication


def reject(session: Session, translation: Translation, author: str) -> None:
    """Take the translation off the site and out of the queue (archived; it can be approved later)."""
    from presseschau.publish import search

    ensure_initial_revision(session, translation)
    publication = translation.publication
    if publication is None:
        raise ReviewError(f"Übersetzung {translation.id} hat keine Veröffentlichung, die archiviert werden könnte")
    publication.status = PublicationStatus.ARCHIVED
    publication.updated_at = utcnow()
    translation.reviewed = False
    search.remove_document(session, publication.id)
    _add_revision(session, translation, author=author, note="Abgelehnt")


def change_slug(session: Session, translation: Translation, new_slug: str, author: str) -> None:
    from presseschau.publish.service import PublishError
    from presseschau.publish.service import change_slug as publish_change_slug

    if translation.publication is None:
        raise ReviewError(f"Übersetzung {translation.id} hat noch keine Veröffentlichung")
    if new_slug == translation.publication.slug:
        return
    # Revision 1 must hold the machine output (and its slug) before anything changes.
    ensure_initial_revision(session, translation)
    try:
        publish_change_slug(session, translation.publication, new_slug)
    except PublishError as error:  # SlugError among them: each with its German text
        raise ReviewError(error.german) from error
    _add_revision(session, translation, author=author, note=f"Slug geändert: {new_slug}")


def word_diff(old: str, new: str) -> str:
    """HTML showing word-level changes between two texts (`<del>` / `<ins>`); inputs are escaped.

    Words are compared without the spaces between them: as tokens of their own, spaces would
    "match" between any two words and break one rewritten sentence into alternating fragments."""
    old_words, new_words = old.split(), new.split()
    pieces: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            pieces.append(html.escape(" ".join(old_words[a1:a2])))
            continue
        change = ""
        if a2 > a1:
            change += f"<del>{html.escape(' '.join(old_words[a1:a2]))}</del>"
        if b2 > b1:
            change += f"<ins>{html.escape(' '.join(new_words[b1:b2]))}</ins>"
        pieces.append(change)
    return " ".join(pieces)


@dataclass(frozen=True)
class ParagraphDiff:
    index: int
    changed: bool
    html: str


def diff_revisions(old: TranslationRevision, new: TranslationRevision) -> tuple[ParagraphDiff, list[ParagraphDiff]]:
    """Title diff and per-paragraph diffs (as safe HTML) between two revisions."""
    old_paragraphs = paragraphs_from_json(old.paragraphs)
    new_paragraphs = paragraphs_from_json(new.paragraphs)
    title = ParagraphDiff(-1, (old.title or "") != (new.title or ""), word_diff(old.title or "", new.title or ""))
    diffs = []
    for index in range(max(len(old_paragraphs), len(new_paragraphs))):
        a = old_paragraphs[index] if index < len(old_paragraphs) else None
        b = new_paragraphs[index] if index < len(new_paragraphs) else None
        # In the editor's marker form ("[Link: Text → https://…]"): a changed link target, emphasis
        # or line break shows as a change, readably, also when the words changed too.
        a_text, b_text = (html_to_markers(a.html) if a else ""), (html_to_markers(b.html) if b else "")
        diffs.append(ParagraphDiff(index, a_text != b_text, word_diff(a_text, b_text)))
    return title, diffs
