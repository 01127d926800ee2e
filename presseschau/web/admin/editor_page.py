"""The editor page of one translation: its paragraphs side by side with the original (as stored,
or as typed after a refusal), their quality flags and the versions (rendering only; the routes
are in `editor`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import Response
from sqlalchemy.orm import Session

from presseschau.content import paragraphs_from_json, sanitize_inline_html
from presseschau.editorial import review
from presseschau.editorial.markers import html_to_markers
from presseschau.store.models import PublicationStatus, Translation
from presseschau.web.admin.area import (
    AdminArea,
    Visitor,
)


def editor_rows(translation: Translation, submitted: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """English and German side by side; a published translation shows its draft where one is open."""
    _, german = review.draft_text(translation)
    english = paragraphs_from_json(translation.article.paragraphs)
    rows = []
    for index in range(max(len(german), len(english))):
        source = english[index] if index < len(english) else None
        target = german[index] if index < len(german) else None
        # Inline markup as readable markers ("[Link: Text → URL]"), not raw HTML.
        value = html_to_markers(target.html) if target else ""
        shown = target or source
        if submitted is not None and isinstance(submitted.get(f"absatz-{index}"), str):
            value = submitted[f"absatz-{index}"]  # keep what the editor typed when saving failed
        rows.append(
            {
                "index": index,
                "kind": shown.kind if shown else "p",
                # Source paragraphs are sanitized at ingest; sanitized again as they go to the page.
                "english": sanitize_inline_html(source.html) if source else "",
                "german": value,
                "editable": target is not None,
                "retranslatable": source is not None and target is not None,
                "quality": paragraph_quality(translation, index),
            }
        )
    return rows


def paragraph_quality(translation: Translation, index: int) -> dict[str, Any] | None:
    """The quality estimate of paragraph `index` (risk, flags with words), when it has flags."""
    paragraphs = (translation.quality or {}).get("paragraphs", [])
    if index >= len(paragraphs) or not isinstance(paragraphs[index], dict) or not paragraphs[index].get("flags"):
        return None
    return dict(paragraphs[index])


def editor_page(
    area: AdminArea,
    session: Session,
    visitor: Visitor,
    translation: Translation,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    submitted: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    """The editor; after a refusal `submitted` (the form) fills it again and `errors` holds the
    message by the name of the field it is about."""
    from presseschau.translate.engines import engine_names

    history = review.revisions(session, translation)
    title, _ = review.draft_text(translation)
    if submitted is not None and isinstance(submitted.get("titel"), str):
        title = submitted["titel"]
    publication = translation.publication
    return area.page(
        "editor.html",
        visitor,
        status=status,
        translation=translation,
        article=translation.article,
        publication=publication,
        title=title,
        rows=editor_rows(translation, submitted),
        version=review.latest_revision_number(session, translation),
        history=list(reversed(history)),
        flags=review.translation_flags(area.settings, translation),
        engines=engine_names(),
        public_url=(
            f"/{publication.slug}/" if publication and publication.status == PublicationStatus.PUBLISHED else None
        ),
        live=review.is_live(translation),
        draft=translation.draft,
        error=error,
        notice=notice,
        errors=errors or {},
        typed_slug=submitted.get("slug") if submitted is not None and isinstance(submitted.get("slug"), str) else None,
    )


def load_translation(session: Session, translation_id: int) -> Translation | None:
    try:
        return review.get_translation(session, translation_id)
    except review.ReviewError:
        return None
