"""The API's request and response schemas (Pydantic models).

The response schemas read stored rows by attribute (`model_validate(row)`); a field stored in another
form or under another name says so where it is declared."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

from presseschau.ingest.filters import filters_from_json

Item = TypeVar("Item")


def _strings(stored: Iterable[Any] | None) -> list[str]:
    return [str(item) for item in stored or ()]


def _string_map(stored: Mapping[Any, Any] | None) -> dict[str, str]:
    return {str(key): str(value) for key, value in (stored or {}).items()}


# A stored JSON list or map as the API shows it: empty for none (null), every item a string.
StoredStrings = Annotated[list[str], BeforeValidator(_strings)]
StoredStringMap = Annotated[dict[str, str], BeforeValidator(_string_map)]


class Filters(BaseModel):
    include: list[str] = Field(default_factory=list, description="Rules: words, a phrase or /regex/; field prefix.")
    exclude: list[str] = Field(default_factory=list)
    min_words: int = 0
    target_language: Literal["skip", "publish"] = "skip"


def _shown_filters(stored: Mapping[str, Any] | None) -> Filters:
    """A source's stored filters as the API shows them: the rules that still parse, by their text."""
    filters = filters_from_json(stored)
    return Filters(
        include=[rule.text for rule in filters.include],
        exclude=[rule.text for rule in filters.exclude],
        min_words=filters.min_words,
        target_language="publish" if filters.target_language == "publish" else "skip",
    )


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    name: str
    kind: str
    language: str
    enabled: bool
    poll_interval_s: int
    publish_policy: str
    risk_threshold: float | None = Field(
        None, description="auto-unless-risky holds articles at or above this risk (0–1); null: the site default"
    )
    engine: str | None
    tags: StoredStrings
    glossary: StoredStringMap
    filters: Annotated[Filters, BeforeValidator(_shown_filters)]
    country: str | None = Field(None, description="The outlet's country, ISO 3166-1 alpha-2.")
    outlet_kind: str | None = Field(None, description="newspaper, magazine, broadcaster, think-tank, blog, agency.")
    last_polled_at: datetime | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    next_poll_at: datetime | None
    created_at: datetime
    # Rights: None means the site's setting.
    reuse: str | None = Field(None, description="full | excerpt | quote | headline; null: the site default")
    excerpt_words: int | None = None
    reuse_permission: str | None = Field(None, description="Permission to reuse in full (lifts licence caps)")
    bilingual: bool | None = None


class SourceFields(BaseModel):
    # A source's settings a client may send; SourceCreate adds the URL and three defaults.
    name: str | None = None
    language: str | None = None
    kind: str | None = None
    poll_interval_s: int | None = None
    publish_policy: str | None = None
    # null clears it in an update (the site default applies).
    risk_threshold: float | None = None
    engine: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    glossary: dict[str, str] | None = None
    filters: Filters | None = None
    # null or "" clears the profile field in an update.
    country: str | None = None
    outlet_kind: str | None = None
    reuse: str | None = None
    excerpt_words: int | None = None
    reuse_permission: str | None = None
    bilingual: bool | None = None


class SourceUpdate(SourceFields):
    """Only the fields sent are changed."""


class SourceCreate(SourceFields):
    url: str
    # A new source's defaults; null is refused for these three.
    language: str = "en"
    kind: str = "auto"
    enabled: bool = True


class ParagraphOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    html: str


class ArticleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source_id: int | None
    url: str
    canonical_url: str
    outlet: str | None
    title: str | None
    authors: StoredStrings
    published_at: datetime | None
    language: str | None
    revision: int
    # Stored as the article's fetch_status and fetch_error.
    status: str = Field(
        validation_alias=AliasChoices("fetch_status", "status"),
        description="ok | filtered | not_english | failed | no_article | pending",
    )
    error: str | None = Field(validation_alias=AliasChoices("fetch_error", "error"))
    filter_reason: str | None
    filter_released_by: str | None
    discovered_at: datetime
    fetched_at: datetime | None


class ReuseOut(BaseModel):
    """What the site may show of an article (presseschau.store.rights), and why."""

    mode: str = Field(description="full | excerpt | quote | headline")
    reason: str
    licence: str = Field(description="CC-BY-4.0, CC-BY-ND-4.0, ..., unknown")
    licence_found: str | None = Field(None, description="link-rel, json-ld, meta:dc.rights, a-rel, cc-link, ...")
    licence_url: str | None = None
    capped: bool
    excerpt_words: int


class ArticleDetail(ArticleOut):
    reuse: ReuseOut
    paragraphs: list[ParagraphOut] = Field(description="The original, as far as its reuse mode allows")


class TranslationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    article_id: int
    language: str
    status: str = Field(description="queued | in_progress | done | failed")
    engine: str | None
    model: str | None
    title: str | None
    reviewed: bool
    error: str | None
    translated_at: datetime | None
    updated_at: datetime
    quality_risk: float | None = Field(
        default=None, description="estimated risk in [0, 1] (presseschau.translate.quality); from 0.5 risky"
    )


class TranslationDetail(TranslationOut):
    reuse: ReuseOut
    paragraphs: list[ParagraphOut] = Field(description="As far as the article's reuse mode allows")
    quality: dict[str, Any] | None = Field(
        default=None,
        description="per paragraph: risk and flags (name, German explanation, words); `held`: why it waits",
    )


class PublicationOut(BaseModel):
    id: int
    translation_id: int
    article_id: int
    language: str
    slug: str
    url: str
    title: str | None
    status: str = Field(description="published | held | unpublished | archived")
    published_at: datetime | None
    first_published_at: datetime | None
    updated_at: datetime


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    page: int
    per_page: int
    total: int


class FetchResult(BaseModel):
    source_id: int
    articles_new: int
    articles_updated: int
    filtered: int
    failures: list[str]


class RefilterResult(BaseModel):
    held: int
    released: int
    unchanged: int
    kept_translated: int


class Problem(BaseModel):
    detail: str
