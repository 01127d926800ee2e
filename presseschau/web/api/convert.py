"""Stored rows as the API's response schemas."""

from __future__ import annotations

from typing import Any

from presseschau.content import paragraphs_from_json
from presseschau.ingest.filters import build_filters, filters_from_json
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
    filters = filters_from_json(source.filters)
    return SourceOut(
        id=source.id,
        url=source.url,
        name=source.name,
        kind=source.kind,
        language=source.language,
        enabled=source.enabled,
        poll_interval_s=source.poll_interval_s,
        publish_policy=source.publish_policy,
        risk_threshold=source.risk_threshold,
        engine=source.engine,
        tags=[str(tag) for tag in source.tags or ()],
        glossary={str(k): str(v) for k, v in (source.glossary or {}).items()},
        filters=Filters(
            include=[rule.text for rule in filters.include],
            exclude=[rule.text for rule in filters.exclude],
            min_words=filters.min_words,
            target_language="publish" if filters.target_language == "publish" else "skip",
        ),
        country=source.country,
        outlet_kind=source.outlet_kind,
        last_polled_at=source.last_polled_at,
        last_status=source.last_status,
        last_error=source.last_error,
        consecutive_failures=source.consecutive_failures,
        next_poll_at=source.next_poll_at,
        created_at=source.created_at,
        reuse=source.reuse,
        excerpt_words=source.excerpt_words,
        reuse_permission=source.reuse_permission,
        bilingual=source.bilingual,
    )


def article_out(article: Article) -> ArticleOut:
    return ArticleOut(
        id=article.id,
        source_id=article.source_id,
        url=article.url,
        canonical_url=article.canonical_url,
        outlet=article.outlet,
        title=article.title,
        authors=[str(a) for a in article.authors or ()],
        published_at=article.published_at,
        language=article.language,
        revision=article.revision,
        status=article.fetch_status,
        error=article.fetch_error,
        filter_reason=article.filter_reason,
        filter_released_by=article.filter_released_by,
        discovered_at=article.discovered_at,
        fetched_at=article.fetched_at,
    )


def paragraphs_out(stored: list[Any], decision: ReuseDecision) -> list[ParagraphOut]:
    """Stored paragraphs cut to the reuse mode: the API carries no more than the site shows."""
    return [ParagraphOut(kind=p.kind, html=p.html) for p in reusable_paragraphs(paragraphs_from_json(stored), decision)]


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
    return TranslationOut(
        id=translation.id,
        article_id=translation.article_id,
        language=translation.language,
        status=translation.status,
        engine=translation.engine,
        model=translation.model,
        title=translation.title,
        reviewed=translation.reviewed,
        error=translation.error,
        translated_at=translation.translated_at,
        updated_at=translation.updated_at,
        quality_risk=translation.quality_risk,
    )


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
