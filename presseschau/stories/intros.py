"""Machine-written story intros: two or three German sentences on top of a story with several outlets.

Only when an LLM is configured (`llm_base_url`, `llm_model`) and `press_review_summaries` is on: the same
switch, HTTP client and answer cleaning as the article summaries (`presseschau.stories.summaries`). The
intro is stored on the story with the model's name and shown labelled as machine-written; a merge
clears it (the story changed), so it is written afresh. Without an LLM the review shows the outlets'
key passages alone. Never inside a publishing transaction: `presseschau stories summarize` and a
worker of `presseschau run` call it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from presseschau.config import Settings
from presseschau.content import html_to_text, paragraphs_from_json, sanitize_inline_html
from presseschau.store.models import PublicationStatus, Story, StoryArticle, Translation
from presseschau.stories import summaries
from presseschau.translate.engines.base import EngineError
from presseschau.translate.engines.http import HttpClient

log = logging.getLogger(__name__)

# Each article's opening: enough for what happened and how each outlet tells it.
ARTICLE_CHARS = 1500
PROMPT = (
    "Du schreibst die Einleitung zu einer Geschichte in einer deutschen Presseschau. Mehrere Medien berichten "
    "über dasselbe Ereignis; du bekommst ihre Artikel. Antworte mit zwei oder drei sachlichen deutschen Sätzen: "
    "was geschehen ist und worin sich die Berichte unterscheiden. Keine Einleitung, keine Aufzählung, keine "
    "Anführungszeichen um die Antwort. Gib nur wieder, was in den Artikeln steht."
)


def _published(story: Story) -> list[Translation]:
    return [
        m.translation
        for m in story.members
        if m.translation.publication is not None and m.translation.publication.status == PublicationStatus.PUBLISHED
    ]


def story_text(members: list[Translation]) -> str:
    """What the model reads: each outlet's name, German title and opening."""
    parts = []
    for translation in members:
        outlet = html_to_text(sanitize_inline_html(translation.article.outlet or "")) or "Ein Medium"
        title = html_to_text(sanitize_inline_html(translation.title or ""))
        body = "\n".join(p.text for p in paragraphs_from_json(translation.paragraphs))[:ARTICLE_CHARS]
        parts.append(f"## {outlet}: {title}\n{body}")
    return "\n\n".join(parts)


def introduce(client: HttpClient, settings: Settings, members: list[Translation]) -> str | None:
    body: dict[str, Any] = {
        "model": settings.llm_model,
        "temperature": settings.llm_temperature,
        "messages": [{"role": "system", "content": PROMPT}, {"role": "user", "content": story_text(members)}],
    }
    answer = client.request("POST", "/chat/completions", json_body=body)
    try:
        content = answer["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return summaries.clean(content) if isinstance(content, str) else None


def introduce_pending(session: Session, settings: Settings, limit: int = 10, client: HttpClient | None = None) -> int:
    """Write intros for up to `limit` stories with two or more published articles and none yet."""
    if not summaries.enabled(settings):
        return 0
    candidates = session.scalars(
        select(Story)
        .where(Story.language == settings.target_language, Story.intro.is_(None))
        .options(
            selectinload(Story.members)
            .selectinload(StoryArticle.translation)
            .options(selectinload(Translation.article), selectinload(Translation.publication))
        )
        .order_by(Story.day.desc(), Story.id.desc())
        .limit(limit * 5)
    ).all()
    stories = [(story, members) for story in candidates if len(members := _published(story)) >= 2][:limit]
    if not stories:
        return 0
    own = client is None
    client = client or summaries.make_client(settings)
    done = 0
    try:
        for story, members in stories:
            try:
                intro = introduce(client, settings, members)
            except EngineError as error:
                log.warning("intro of story %d failed: %s", story.id, error)
                break  # the service is down or refuses: try again later
            # An unusable answer is stored as "" (no intro), so it is not asked again.
            story.intro, story.intro_model = intro or "", settings.llm_model
            done += intro is not None
        session.flush()
    finally:
        if own:
            client.close()
    return done
