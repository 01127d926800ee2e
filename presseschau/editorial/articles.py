"""An editor's decisions about whole articles before translation: translate one its source's
filters held back (`release_article`), confirm the hold for good (`reject_article`), or queue a
fresh machine translation of one (`retranslate_article`; the paragraph-level re-translation of a reviewed text is
`presseschau.editorial.review.retranslate_article`).

Used by the CLI (`articles release|retranslate`), the admin's filtered list and the API.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from presseschau.config import Settings
from presseschau.errors import ArticleNotFound
from presseschau.ingest.errors import InvalidInput
from presseschau.messages import text
from presseschau.store.db import Database
from presseschau.store.models import ORIGINAL_ENGINE, Article, FetchStatus, Translation, TranslationStatus
from presseschau.store.queue import enqueue_translation

log = logging.getLogger(__name__)


def release_article(database: Database, settings: Settings, article_id: int, by: str) -> Article:
    """Translate a filtered article after all (an editor's decision; it is never filtered again)."""
    with database.session() as session:
        article = _held_article(session, article_id)
        article.fetch_status = FetchStatus.OK
        article.filter_released_by = by[:100]
        enqueue_translation(session, article, settings.target_language)
        log.info("article %s released by %s (held for: %s)", article_id, by, article.filter_reason)
        return article


def reject_article(database: Database, article_id: int, by: str) -> Article:
    """Confirm a filter's hold for good (an editor's decision): the article is kept, never
    translated, and leaves the list of held articles; refiltering and later revisions keep it so."""
    with database.session() as session:
        article = _held_article(session, article_id)
        article.fetch_status = FetchStatus.REJECTED
        log.info("article %s rejected by %s (held for: %s)", article_id, by, article.filter_reason)
        return article


def _held_article(session: Session, article_id: int) -> Article:
    """The article a filter holds, for an editor to decide on; `ArticleNotFound` or `InvalidInput`."""
    article = session.get(Article, article_id)
    if article is None:
        raise ArticleNotFound(article_id)
    if article.fetch_status != FetchStatus.FILTERED:
        subject = text("article", article_id=article_id)
        raise InvalidInput(subject, text("article_not_held", status=article.fetch_status))
    return article


def retranslate_article(database: Database, settings: Settings, article_id: int) -> Translation:
    """Queue a fresh machine translation of an article's current revision (its publication stays
    as it is until the new translation is done)."""
    subject = text("article", article_id=article_id)
    language = settings.target_language
    with database.session() as session:
        article = session.get(Article, article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        if article.fetch_status != FetchStatus.OK:
            raise InvalidInput(subject, text("article_not_translatable", status=article.fetch_status))
        translation = enqueue_translation(session, article, language)
        if translation.engine == ORIGINAL_ENGINE:
            raise InvalidInput(subject, text("article_is_original"))
        if translation.status == TranslationStatus.IN_PROGRESS:
            raise InvalidInput(subject, text("article_in_translation"))
        translation.status, translation.attempts = TranslationStatus.QUEUED, 0
        translation.next_attempt_at, translation.error = None, None
        return translation
