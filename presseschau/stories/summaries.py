"""Machine summaries for the Presseschau: two German sentences per article, by the configured LLM.

Only when an LLM is configured (`llm_base_url`, `llm_model`) and `press_review_summaries` is on. Each
article of a story is summarised once (stored on its `StoryArticle` with the model's name); the review
shows the summary instead of the teaser, labelled as a machine summary. The call goes through the same
HTTP client as the LLM translation engine (timeouts, retries, circuit breaker, redacted key). Never inside
a publishing transaction: `presseschau stories summarize` and a worker of `presseschau run` call it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from presseschau.config import Settings
from presseschau.content import paragraphs_from_json, strip_xml_forbidden
from presseschau.store.models import Publication, PublicationStatus, StoryArticle, Translation
from presseschau.store.rights import article_reuse, shown_paragraphs
from presseschau.translate.engines.base import EngineError
from presseschau.translate.engines.http import HttpClient, HttpPolicy

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
ARTICLE_CHARS = 6000
PROMPT = (
    "Du fasst Nachrichtenartikel für eine deutsche Presseschau zusammen. Antworte mit genau zwei "
    "sachlichen deutschen Sätzen, ohne Einleitung, ohne Aufzählung, ohne Anführungszeichen um die Antwort. "
    "Gib nur wieder, was im Artikel steht."
)


def enabled(settings: Settings) -> bool:
    return bool(settings.press_review_summaries and settings.llm_base_url and settings.llm_model)


def make_client(settings: Settings) -> HttpClient:
    assert settings.llm_base_url
    key = settings.llm_api_key
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return HttpClient("llm-summary", settings.llm_base_url, HttpPolicy.from_settings(settings), headers, [key])


def clean(answer: str) -> str | None:
    """The model's answer as one line of plain text (None when empty or too long to be two sentences)."""
    text = " ".join(strip_xml_forbidden(answer).split()).strip("\"'„“”")
    if not text or len(text) > SUMMARY_MAX:
        return None
    return text


def _article_text(settings: Settings, translation: Translation) -> str:
    # No more of the text than the article's reuse mode shows (presseschau.store.rights).
    reuse = article_reuse(settings, translation.article)
    shown = shown_paragraphs(paragraphs_from_json(translation.paragraphs), reuse, translation.report)
    text = "\n".join(p.text for p in shown)
    return f"{translation.title or ''}\n\n{text}"[:ARTICLE_CHARS]


def summarize(client: HttpClient, settings: Settings, translation: Translation) -> str | None:
    body: dict[str, Any] = {
        "model": settings.llm_model,
        "temperature": settings.llm_temperature,
        "messages": [
            {"role": "system", "content": PROMPT},
            {"role": "user", "content": _article_text(settings, translation)},
        ],
    }
    answer = client.request("POST", "/chat/completions", json_body=body)
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return clean(content) if isinstance(content, str) else None


def summarize_pending(session: Session, settings: Settings, limit: int = 20, client: HttpClient | None = None) -> int:
    """Summarise up to `limit` published story articles that have no summary yet; returns how many."""
    if not enabled(settings):
        return 0
    members = session.scalars(
        select(StoryArticle)
        .join(Publication, Publication.translation_id == StoryArticle.translation_id)
        .where(Publication.status == PublicationStatus.PUBLISHED, StoryArticle.summary.is_(None))
        .options(selectinload(StoryArticle.translation))
        .order_by(StoryArticle.added_at.desc())
        .limit(limit)
    ).all()
    if not members:
        return 0
    own = client is None
    client = client or make_client(settings)
    done = 0
    try:
        for member in members:
            try:
                summary = summarize(client, settings, member.translation)
            except EngineError as error:
                log.warning("summary of translation %d failed: %s", member.translation_id, error)
                break  # the service is down or refuses: try again later
            # An unusable answer is stored as "" (no summary; the teaser is shown), so it is not asked again.
            member.summary = summary or ""
            member.summary_model = settings.llm_model
            done += summary is not None
        session.flush()
    finally:
        if own:
            client.close()
    return done
