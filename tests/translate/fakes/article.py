"""A 20-paragraph article with links, queued for translation, and checks of its translation."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_from_json, paragraphs_to_json
from presseschau.store.models import Article, Source, Translation
from presseschau.store.queue import enqueue_translation

from .server import fake_german

PARAGRAPH_COUNT = 20
TITLE = "The market rose in the capital"


def source_paragraph(number: int) -> str:
    # Every paragraph is unique (its number twice) so alignment can be checked exactly.
    return (
        f"Report {number} said the market rose sharply in the "
        f'<a href="https://ex.org/{number}">capital city</a> today. '
        f"The troops moved toward the city {number} and prices fell."
    )


def expected_paragraph_text(number: int) -> str:
    return (
        fake_german(f"Report {number} said the market rose sharply in the capital city today.")
        + " "
        + fake_german(f"The troops moved toward the city {number} and prices fell.")
    )


def add_article(context: AppContext, engine: str | None = None, number: int = 1) -> int:
    with context.database.session() as session:
        source = Source(url=f"https://ex.org/feed{number}", name="Ex", engine=engine)
        session.add(source)
        article = Article(
            url=f"https://ex.org/a{number}",
            canonical_url=f"https://ex.org/a{number}",
            title=TITLE,
            paragraphs=paragraphs_to_json([Paragraph("p", source_paragraph(i)) for i in range(1, PARAGRAPH_COUNT + 1)]),
            language="en",
            fetch_status="ok",
            source=source,
        )
        session.add(article)
        session.flush()
        enqueue_translation(session, article, "de")
        return article.id


def translation_of(context: AppContext, article_id: int) -> Translation:
    with context.database.session() as session:
        translation = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        session.expunge(translation)
        return translation


def assert_complete_and_aligned(translation: Translation) -> None:
    assert translation.status == "done", translation.error
    assert translation.report.get("complete") is True
    paragraphs = paragraphs_from_json(translation.paragraphs)
    assert len(paragraphs) == PARAGRAPH_COUNT
    for number, paragraph in enumerate(paragraphs, 1):
        text = re.sub(r"\s+", " ", paragraph.text).replace("\u00a0", " ")
        assert text == expected_paragraph_text(number), (number, text)
        # The link survives, on its translated text, in its own paragraph.
        assert f'<a href="https://ex.org/{number}">' in paragraph.html
        assert f'<a href="https://ex.org/{number}">{fake_german("capital city")}</a> heute.' in paragraph.html, (
            paragraph.html
        )
    assert translation.title == fake_german(TITLE)


def assert_not_published(translation: Translation) -> dict[str, Any]:
    """An unfinished translation: re-queued or failed, never done, so never published."""
    assert translation.status in ("queued", "failed"), translation.status
    assert translation.error
    return dict(translation.report or {})
