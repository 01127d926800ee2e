"""The database schema. Every change here needs an Alembic migration (tests compare the two).

Paragraphs are stored as JSON lists of `{"kind": ..., "html": ...}` objects (see
`presseschau.store.paragraphs`): `kind` is `p`, `h2`..`h6`, `li`, `blockquote` or `pre`; `html`
is a sanitized inline-HTML fragment (text with `<a href>`, `<em>`, `<strong>`, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; presseschau stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Status columns hold these values as plain strings (a StrEnum member equals its value).


class FetchStatus(StrEnum):
    """`Article.fetch_status`: what fetching and extracting the article came to."""

    OK = "ok"
    FAILED = "failed"
    NO_ARTICLE = "no_article"  # the page was fetched but holds no article
    NOT_ENGLISH = "not_english"  # not in its source's language: kept, never translated
    FILTERED = "filtered"  # held back by its source's filters
    # Held back by a filter and rejected by an editor: kept, never translated, off the editors' list
    # of held articles, and later revisions stay rejected.
    REJECTED = "rejected"
    PENDING = "pending"


class TranslationStatus(StrEnum):
    """`Translation.status`: the translate stage's work item state."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"  # leased by a worker
    DONE = "done"
    FAILED = "failed"


class PublicationStatus(StrEnum):
    """`Publication.status`: whether readers see the translation."""

    PUBLISHED = "published"
    HELD = "held"  # waits for review
    UNPUBLISHED = "unpublished"  # taken down by an editor
    ARCHIVED = "archived"  # rejected by an editor


class SourceStatus(StrEnum):
    """`Source.last_status`: how the last poll went -- one of these, or its error's kind (`IngestError.kind`)."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"


# Article.fetch_status values of a row that holds content, and of a placeholder for a failed item.
CONTENT_STATUSES = (FetchStatus.OK, FetchStatus.NOT_ENGLISH, FetchStatus.FILTERED, FetchStatus.REJECTED)
PLACEHOLDER_STATUSES = (FetchStatus.FAILED, FetchStatus.NO_ARTICLE, FetchStatus.PENDING)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Source(Base):
    """Something presseschau watches: a feed, a sitemap, or a single page."""

    __tablename__ = "sources"
    # IDs are public (/quelle/N/, its feed): never reused. SQLite otherwise hands the largest rowid
    # of a removed source to the next one; PostgreSQL's sequences never reuse.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # feed | sitemap | page | file; detected on the first fetch when added as "auto".
    kind: Mapped[str] = mapped_column(String(20), default="auto")
    language: Mapped[str] = mapped_column(String(16), default="en")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_interval_s: Mapped[int] = mapped_column(Integer, default=900)
    # auto | review | auto-unless-risky (publish unless the quality estimate says risky).
    publish_policy: Mapped[str] = mapped_column(String(32), default="auto")
    # `auto-unless-risky` holds an article whose risk reaches this (None: settings.quality_risk_threshold).
    risk_threshold: Mapped[float | None] = mapped_column(Float, default=None)
    engine: Mapped[str | None] = mapped_column(String(64), default=None)
    # Glossary additions for this source's articles, {source term: target term}, merged over the
    # configured glossary (a source's own term wins); set by editors in the admin area.
    glossary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Labels such as an OPML category ("News/Europe"), for grouping and the OPML round trip.
    tags: Mapped[list[Any] | None] = mapped_column(default=None)
    # What is screened out before translation (`presseschau.ingest.filters.SourceFilters.to_json`).
    filters: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # The outlet's profile, shown in the Presseschau: ISO 3166-1 alpha-2 country ("GB") and what
    # kind of outlet it is (`presseschau.ingest.profiles.OUTLET_KINDS`); None: not set.
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    outlet_kind: Mapped[str | None] = mapped_column(String(20), default=None)
    # Rights (presseschau.store.rights): how much of its articles the site may show -- full |
    # excerpt | quote | headline, None: the site's `default_reuse` -- the excerpt's length in
    # words, and the operator's note of a permission (who, when) that lifts licence caps.
    reuse: Mapped[str | None] = mapped_column(String(16), default=None)
    excerpt_words: Mapped[int | None] = mapped_column(Integer, default=None)
    reuse_permission: Mapped[str | None] = mapped_column(Text, default=None)
    # Readers may open the English original per paragraph and side by side (None: the site's setting).
    bilingual: Mapped[bool | None] = mapped_column(Boolean, default=None)

    # Conditional GET state.
    etag: Mapped[str | None] = mapped_column(String(512), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(128), default=None)

    # Polling state and failure bookkeeping (exponential backoff).
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    next_poll_at: Mapped[datetime | None] = mapped_column(default=None)
    last_status: Mapped[str | None] = mapped_column(String(32), default=None)  # a SourceStatus or an error kind
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    articles: Mapped[list[Article]] = relationship(back_populates="source")


class RemovedSource(Base):
    """The ID of a removed source: its public pages answer 410 Gone, not 404 (or another outlet)."""

    __tablename__ = "removed_sources"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(300))
    removed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """An original (English) article, its current revision's content, and its fetch state."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("sources.id", ondelete="SET NULL"), default=None, index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    outlet: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    authors: Mapped[list[Any]] = mapped_column(default=list)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    image_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # The source gave a day without a time (stored as midnight UTC): show and emit the date only.
    published_date_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where published_at came from: meta:article:published_time, json-ld, time-element, feed, url, ...
    published_at_source: Mapped[str | None] = mapped_column(String(40), default=None)
    # opinion | analysis (the original's genre, from its section, schema type or URL), else None.
    genre: Mapped[str | None] = mapped_column(String(20), default=None)
    # The licence the page declares (`presseschau.store.rights.LICENCES` id, "unknown"), where it
    # was found (link-rel, json-ld, meta:dc.rights, a-rel, cc-link, badge-image) and the URL named.
    licence: Mapped[str | None] = mapped_column(String(40), default=None)
    licence_found: Mapped[str | None] = mapped_column(String(40), default=None)
    licence_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    paragraphs: Mapped[list[Any]] = mapped_column(default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)

    # A FetchStatus.
    fetch_status: Mapped[str] = mapped_column(String(20), default=FetchStatus.PENDING, index=True)
    fetch_error: Mapped[str | None] = mapped_column(Text, default=None)
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The source filter rule that held this article back (`filtered`), kept after a release.
    filter_reason: Mapped[str | None] = mapped_column(Text, default=None)
    # The same reason as a catalogued message (`presseschau.messages`: {"code", "params"}), which the
    # German admin renders; None for articles held before it was kept.
    filter_note: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Who released a filtered article by hand; such an article is never filtered again.
    filter_released_by: Mapped[str | None] = mapped_column(String(100), default=None)

    discovered_at: Mapped[datetime] = mapped_column(default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(default=None)

    source: Mapped[Source | None] = relationship(back_populates="articles")
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleRevision.revision"
    )
    translations: Mapped[list[Translation]] = relationship(back_populates="article", cascade="all, delete-orphan")


class ArticleAlias(Base):
    """Another URL under which an article was found (syndication, a second feed, a mirror).

    Remembered so that a poll recognises the entry without fetching the page again."""

    __tablename__ = "article_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleRevision(Base):
    """An earlier or current content version of an article (kept when the source changes it)."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    paragraphs: Mapped[list[Any]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="revisions")


# `Translation.engine` of a "translation" that is the original text (an article already in the
# target language, published as is by its source's setting).
ORIGINAL_ENGINE = "original"


class Translation(Base):
    """An article in one target language; also the translate stage's work item (status + lease)."""

    __tablename__ = "translations"
    __table_args__ = (
        UniqueConstraint("article_id", "language"),
        Index("ix_translations_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    # The article revision this translation was made from (re-queued when the article changes).
    source_revision: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str | None] = mapped_column(String(64), default=None)
    model: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    paragraphs: Mapped[list[Any]] = mapped_column(default=list)
    # Warnings and facts about the run: glossary misses, split sentences, coverage retries, ...
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # An editor's unpublished changes to a published translation: {"title", "paragraphs", "author",
    # "saved_at"}; the live page keeps the translation's own text until they are published.
    draft: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    # A TranslationStatus.
    status: Mapped[str] = mapped_column(String(20), default=TranslationStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(200), default=None)
    lease_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    engine_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Reference-free quality estimate (`presseschau.translate.quality`): the article's risk in [0, 1]
    # and `DocumentQuality.to_json()` (per paragraph: risk, flags with explanation and words).
    quality_risk: Mapped[float | None] = mapped_column(Float, default=None, index=False)
    quality: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    translated_at: Mapped[datetime | None] = mapped_column(default=None)

    article: Mapped[Article] = relationship(back_populates="translations")
    publication: Mapped[Publication | None] = relationship(
        back_populates="translation", cascade="all, delete-orphan", uselist=False
    )


class Publication(Base):
    """A translation on the public site: its slug and state."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("language", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id", ondelete="CASCADE"), unique=True)
    language: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(200))
    # A PublicationStatus.
    status: Mapped[str] = mapped_column(String(20), default=PublicationStatus.HELD, index=True)
    published_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    first_published_at: Mapped[datetime | None] = mapped_column(default=None)
    # When readers last saw the text change after first publication (an editor's published change,
    # a re-translation of a revised original): "Aktualisiert am …" and dateModified. None: unchanged.
    text_updated_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    translation: Mapped[Translation] = relationship(back_populates="publication")
    slug_history: Mapped[list[SlugHistory]] = relationship(back_populates="publication", cascade="all, delete-orphan")


class SlugHistory(Base):
    """Slugs a publication had before; the site redirects them (301) to the current one."""

    __tablename__ = "slug_history"
    __table_args__ = (UniqueConstraint("language", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(16))
    slug: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    publication: Mapped[Publication] = relationship(back_populates="slug_history")


class SearchDocument(Base):
    """The German text of a published article, kept current by the publish stage for full-text search.

    The index itself lives outside this metadata (see `SEARCH_INDEX_OBJECTS`): on SQLite the FTS5
    table `search_fts` (stemmed German words, rowid = publication id), on PostgreSQL a GIN index
    on `to_tsvector('german', title || ' ' || body)`.
    """

    __tablename__ = "search_documents"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Search index objects created by raw SQL in the migrations: SQLAlchemy cannot describe an FTS5
# virtual table (and its shadow tables) or a GIN expression index, so schema comparison skips them.
SEARCH_INDEX_OBJECTS = ("search_fts", "ix_search_documents_tsv")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic `include_object` hook: leave the raw-SQL search index objects out of comparisons."""
    return not (name and name.startswith(SEARCH_INDEX_OBJECTS))


class MemoryEntry(Base):
    """Translation memory: one target per source segment and language pair (exact-match reuse)."""

    __tablename__ = "translation_memory"
    __table_args__ = (UniqueConstraint("source_language", "target_language", "source_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_language: Mapped[str] = mapped_column(String(16))
    target_language: Mapped[str] = mapped_column(String(16))
    # sha256 of the normalized source text: an index on the full text would be too large.
    source_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(String(64), default=None)
    model: Mapped[str | None] = mapped_column(String(300), default=None)
    # machine | import | reviewed -- reviewed entries win over machine ones.
    origin: Mapped[str] = mapped_column(String(16), default="machine")
    uses: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ServiceState(Base):
    """Small key/value facts about running services (last loop times, counters) for `status`."""

    __tablename__ = "service_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    """An editor or admin of the editorial area (passwords stored as argon2 hashes only)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    # editor | admin
    role: Mapped[str] = mapped_column(String(16), default="editor")
    # A disabled account cannot sign in, and its open sessions end (set by an admin).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bound into every session (with the password hash): disabling a user raises it, so their
    # sessions stay ended when the account is enabled again.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TranslationRevision(Base):
    """One saved state of a translation: the machine output (number 1) and every editor's change."""

    __tablename__ = "translation_revisions"
    __table_args__ = (UniqueConstraint("translation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    paragraphs: Mapped[list[Any]] = mapped_column(default=list)
    slug: Mapped[str | None] = mapped_column(String(200), default=None)
    # Who made it: a user name, or "engine:<name>" for the machine translation.
    author: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RevokedSession(Base):
    """A signed admin session ended by signing out, refused until it would have expired anyway.

    Sessions are stateless cookies; without this list a copied cookie would outlive the sign-out."""

    __tablename__ = "revoked_sessions"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(Base):
    """A bearer token for the JSON API (/api/v1/), created by an admin; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # editor | admin (as for users): what a write token may change.
    role: Mapped[str] = mapped_column(String(16), default="editor")
    # read | write
    scope: Mapped[str] = mapped_column(String(8), default="read")
    # sha256 hex of the whole token: tokens are 256-bit random, so a fast hash is enough and allows lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token's first characters, to recognise it in `tokens list` without storing it.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


# Stories and the Presseschau des Tages (presseschau.stories): articles about one event from several
# outlets, grouped after translation; editors merge, split, retitle and order them, and release the day's review.


class Story(Base):
    """One event as several outlets report it: a group of translations of one target language.

    `day` is the local (configured time zone) day of its first article, as `YYYY-MM-DD`: the
    Presseschau des Tages of that day lists it."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    day: Mapped[str] = mapped_column(String(10), index=True)
    # An editor's German headline; None: the best member's title.
    headline: Mapped[str | None] = mapped_column(Text, default=None)
    # An editor's place in the day's review (1 first); None: by coverage.
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    # Who last merged, split, retitled or moved it (None: only the grouping touched it).
    edited_by: Mapped[str | None] = mapped_column(String(100), default=None)
    # A short German introduction by the configured LLM (machine-written, labelled so) and its model.
    intro: Mapped[str | None] = mapped_column(Text, default=None)
    intro_model: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    members: Mapped[list[StoryArticle]] = relationship(
        back_populates="story", cascade="all, delete-orphan", order_by="StoryArticle.added_at"
    )


class StoryArticle(Base):
    """A translation's place in a story: each translation belongs to at most one story."""

    __tablename__ = "story_articles"

    translation_id: Mapped[int] = mapped_column(ForeignKey("translations.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    # The cosine similarity it joined with (None: it opened the story, or an editor placed it).
    similarity: Mapped[float | None] = mapped_column(Float, default=None)
    added_by: Mapped[str | None] = mapped_column(String(100), default=None)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A two-sentence German machine summary (presseschau.stories.summaries) and the model that wrote it.
    summary: Mapped[str | None] = mapped_column(Text, default=None)
    summary_model: Mapped[str | None] = mapped_column(String(300), default=None)
    # An editor's key passage (`presseschau.stories.passages`): "sentence" (the article's sentence
    # number `passage_sentence`, its text kept) or "editorial" (the editor's own words); None: the
    # machine's choice, made afresh from the story's articles.
    passage_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    passage_sentence: Mapped[int | None] = mapped_column(Integer, default=None)
    passage: Mapped[str | None] = mapped_column(Text, default=None)
    passage_by: Mapped[str | None] = mapped_column(String(100), default=None)
    # The number (`StoryRevision`) of the grouping run or editor's change that last placed it here;
    # None: placed before numbers were kept.
    revision: Mapped[int | None] = mapped_column(Integer, default=None, index=True)

    story: Mapped[Story] = relationship(back_populates="members")
    translation: Mapped[Translation] = relationship()


class StoryRevision(Base):
    """The stories' change counter (one row): every grouping run and every editor's move takes the
    next number and marks the members it places with it (`StoryArticle.revision`), so a process that
    keeps the stories' terms in memory (`presseschau.stories.service`) reads only what changed since
    it last looked. Taking a number locks the row to the end of the transaction, so the numbers are
    committed in the order they are taken."""

    __tablename__ = "story_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class StoryRedirect(Base):
    """A story merged into another: its permanent page redirects to the surviving story."""

    __tablename__ = "story_redirects"

    old_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@event.listens_for(Story, "before_insert")
def _never_reuse_story_ids(mapper: Any, connection: Connection, story: Story) -> None:
    """Story IDs are permanent addresses: SQLite (without AUTOINCREMENT) would give a new story the
    ID of a deleted highest one, whose page redirects to the story it was merged into. PostgreSQL's
    sequences never reuse IDs; SQLite has one writer at a time, so the maximum is safe to read here."""
    if story.id is not None or connection.dialect.name != "sqlite":
        return
    highest = connection.execute(select(func.max(Story.id)).union_all(select(func.max(StoryRedirect.old_id)))).scalars()
    # Several stories of one flush are all announced before the first is inserted: count on.
    last = max([value for value in highest if value is not None] + [connection.info.get("last_story_id", 0)])
    story.id = connection.info["last_story_id"] = last + 1


class PressReview(Base):
    """An editor's decision on one day's Presseschau: released (public) or withdrawn.

    Without a row the policy decides: `auto` makes it public at the configured hour."""

    __tablename__ = "press_reviews"
    __table_args__ = (UniqueConstraint("language", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    day: Mapped[str] = mapped_column(String(10))
    # released | withdrawn
    status: Mapped[str] = mapped_column(String(16), default="released")
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscriber(Base):
    """A reader's e-mail address for the Presseschau newsletter (double opt-in: `pending` until confirmed)."""

    __tablename__ = "newsletter_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # Random, in the confirmation and unsubscribe links.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # pending | active | unsubscribed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the last confirmation mail went out (a second one waits, so the form cannot flood an inbox).
    last_mail_at: Mapped[datetime | None] = mapped_column(default=None)


class NewsletterSend(Base):
    """A day's review sent as a newsletter (each day once)."""

    __tablename__ = "newsletter_sends"
    __table_args__ = (UniqueConstraint("language", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    day: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


# Corrections (issue 20): readers report translation errors per paragraph; editors fix the text
# and may publish a correction note, shown on the article, on /korrekturen/ and in its feed.


class CorrectionReport(Base):
    """A reader's report of a translation error in one paragraph of a published article."""

    __tablename__ = "correction_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    # The paragraph's index in the published text, and its German text when reported.
    paragraph_index: Mapped[int] = mapped_column(Integer)
    paragraph_text: Mapped[str] = mapped_column(Text, default="")
    # The reader's words, plain text (never rendered as markup).
    message: Mapped[str] = mapped_column(Text)
    # open | done | dismissed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    handled_by: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CorrectionNote(Base):
    """A public correction of a published article: "Korrigiert am …: …"."""

    __tablename__ = "correction_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
