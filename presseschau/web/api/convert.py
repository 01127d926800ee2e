"""Stored rows as the API's response schemas."""

from __future__ import annotations

from typing import Any

from presseschau.content import paragraphs_from_json
from presseschau.ingest.filters import build_filters
from presseschau.store.models import Article, Publication, Source, Translation
from presseschau.store.rights import ReuseDecision, reusable_paragraphs
from presseschau.web.api.schemas import (
    ArticleOut,
    Filters,
    ParagraphOut,
    PublicationOut,
    ReuseOut,
    SourceOut,
    TranslationOut,
)


def source_out(source: Source) -> SourceOut:
    return SourceOut.model_validate(source)


def article_out(article: Article) -> ArticleOut:
    return ArticleOut.model_validate(article)


def paragraphs_out(stored: list[Any], decision: ReuseDecision) -> list[ParagraphOut]:
    """Stored paragraphs cut to the reuse mode: the API carries no more than the site shows."""
    return [ParagraphOut.model_validate(p) for p in reusable_paragraphs(paragraphs_from_json(stored), decision)]


def reuse_out(article: Article, decision: ReuseDecision) -> ReuseOut:
    return ReuseOut(
        mode=decision.mode,
        reason=decision.reason,
        licence=decision.licence_id,
        licence_found=article.licence_found,
        licence_url=article.licence_url,
        capped=decision.capped,
        excerpt_words=decision.excerpt_words,
    )


def translation_out(translation: Translation) -> TranslationOut:
    return TranslationOut.model_validate(translation)


def publication_out(publication: Publication, base_url: str) -> PublicationOut:
    translation = publication.translation
    return PublicationOut(
        id=publication.id,
        translation_id=publication.translation_id,
        article_id=translation.article_id,
        language=publication.language,
        slug=publication.slug,
        url=base_url.rstrip("/") + f"/{publication.slug}/",
        title=translation.title,
        status=publication.status,
        published_at=publication.published_at,
        first_published_at=publication.first_published_at,
        updated_at=publication.updated_at,
    )


def filters_value(filters: Filters | None) -> Any:
    if filters is None:
        return None
    return build_filters(filters.include, filters.exclude, filters.min_words, filters.target_language)
