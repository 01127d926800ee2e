"""The JSON API under /api/v1/ (OpenAPI docs at /api/v1/docs, schema at /api/v1/openapi.json).

Read articles, translations and publications (paginated, filtered by source, status and date);
create, update, pause, resume and remove sources; trigger a fetch; re-translate or release an
article. Every request carries `Authorization: Bearer <token>` (`presseschau tokens add`); there are
no cookies, so there is no CSRF surface. Read tokens may only read; write tokens may change what
their role allows (`editor`: articles; `admin`: also sources). Requests are rate-limited per token
(`api_rate_limit_per_minute`, per server process), and failed authentications per client address.
Every write goes through the same service functions and validation as the CLI and the admin area.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, cast

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from presseschau import __version__
from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.editorial.tokens import TokenIdentity, authenticate_token
from presseschau.ingest.errors import IngestError, SourceExists, SourceNotFound
from presseschau.ingest.filters import FilterError, build_filters, filters_from_json
from presseschau.ingest.sources import (
    RIGHTS_FIELDS,
    ArticleNotFound,
    create_source,
    refilter_source,
    release_article,
    retranslate_article,
    retranslate_for_reuse,
    update_source,
)
from presseschau.publish.service import reindex_source
from presseschau.store.db import Database
from presseschau.store.models import Article, Publication, Source, Translation
from presseschau.store.rights import ReuseDecision, article_reuse, reusable_paragraphs, shown_paragraphs
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.offline import add_offline_docs
from presseschau.web.params import MAX_PAGE, OptionalRowId, RowId
from presseschau.web.strict_json import StrictJsonMiddleware

PREFIX = "/api/v1"
MAX_PER_PAGE = 100
Item = TypeVar("Item")


# Schemas ------------------------------------------------------------------------------------------


class Filters(BaseModel):
    include: list[str] = Field(default_factory=list, description="Rules: words, a phrase or /regex/; field prefix.")
    exclude: list[str] = Field(default_factory=list)
    min_words: int = 0
    target_language: Literal["skip", "publish"] = "skip"


class SourceOut(BaseModel):
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
    tags: list[str]
    glossary: dict[str, str]
    filters: Filters
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


class SourceCreate(BaseModel):
    url: str
    name: str | None = None
    language: str = "en"
    kind: str = "auto"
    poll_interval_s: int | None = None
    publish_policy: str | None = None
    risk_threshold: float | None = None
    engine: str | None = None
    enabled: bool = True
    tags: list[str] | None = None
    glossary: dict[str, str] | None = None
    filters: Filters | None = None
    country: str | None = None
    outlet_kind: str | None = None
    reuse: str | None = None
    excerpt_words: int | None = None
    reuse_permission: str | None = None
    bilingual: bool | None = None


class SourceUpdate(BaseModel):
    """Only the fields sent are changed."""

    name: str | None = None
    language: str | None = None
    kind: str | None = None
    poll_interval_s: int | None = None
    publish_policy: str | None = None
    # null clears it (the site default applies).
    risk_threshold: float | None = None
    engine: str | None = None
    enabled: bool | None = None
    tags: list[str] | None = None
    glossary: dict[str, str] | None = None
    filters: Filters | None = None
    # null or "" clears the profile field.
    country: str | None = None
    outlet_kind: str | None = None
    reuse: str | None = None
    excerpt_words: int | None = None
    reuse_permission: str | None = None
    bilingual: bool | None = None


class ParagraphOut(BaseModel):
    kind: str
    html: str


class ArticleOut(BaseModel):
    id: int
    source_id: int | None
    url: str
    canonical_url: str
    outlet: str | None
    title: str | None
    authors: list[str]
    published_at: datetime | None
    language: str | None
    revision: int
    status: str = Field(description="ok | filtered | not_english | failed | no_article | pending")
    error: str | None
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


# Rate limiting ------------------------------------------------------------------------------------


class RateLimiter:
    """A token bucket per key: `per_minute` requests, refilled evenly (in-process)."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a request may go ahead (and counts it); else seconds until one may."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, moment)
                return (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0, moment)
            return 0.0


# Conversion ---------------------------------------------------------------------------------------


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


def _paragraphs(stored: list[Any], decision: ReuseDecision) -> list[ParagraphOut]:
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


def _filters_value(filters: Filters | None) -> Any:
    if filters is None:
        return None
    return build_filters(filters.include, filters.exclude, filters.min_words, filters.target_language)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# Dependencies -------------------------------------------------------------------------------------

BEARER = HTTPBearer(auto_error=False, description="An API token from `presseschau tokens add NAME`.")


class ApiLimits:
    """The rate limits of one API app: requests per token, failed authentications per address."""

    def __init__(self, per_minute: int) -> None:
        self.per_token = RateLimiter(per_minute)
        self.per_address = RateLimiter(per_minute)


def api_limits(request: Request) -> ApiLimits:
    return cast(ApiLimits, request.app.state.api_limits)


def _too_many(wait: float) -> HTTPException:
    return HTTPException(429, "rate limit reached; try again later", headers={"Retry-After": str(int(wait) + 1)})


def identity(
    request: Request,
    database: Db,
    limits: Annotated[ApiLimits, Depends(api_limits)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> TokenIdentity:
    """The token of the request (any role); 401 without a valid one, 429 past the rate limits."""
    address = request.client.host if request.client else "unknown"
    found = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        with database.session() as session:
            found = authenticate_token(session, credentials.credentials)
    if found is None:
        wait = limits.per_address.take(address)
        if wait > 0:
            raise _too_many(wait)
        raise HTTPException(
            401, "missing, unknown or revoked API token", headers={"WWW-Authenticate": 'Bearer realm="api"'}
        )
    wait = limits.per_token.take(f"token:{found.id}")
    if wait > 0:
        raise _too_many(wait)
    return found


Reader = Annotated[TokenIdentity, Depends(identity)]


def _writer(who: TokenIdentity, role: str) -> TokenIdentity:
    if not who.can_write:
        raise HTTPException(403, f"token {who.name!r} is read-only")
    if role == "admin" and not who.is_admin:
        raise HTTPException(403, f"token {who.name!r} has role {who.role}; changing sources needs admin")
    return who


def editor_token(who: Reader) -> TokenIdentity:
    """A write token (role editor or admin)."""
    return _writer(who, "editor")


def admin_token(who: Reader) -> TokenIdentity:
    """A write token of role admin."""
    return _writer(who, "admin")


EditorToken = Annotated[TokenIdentity, Depends(editor_token)]
AdminToken = Annotated[TokenIdentity, Depends(admin_token)]


@contextmanager
def service_errors() -> Iterator[None]:
    """The service functions' errors as HTTP answers: 404 unknown, 409 duplicate, 422 invalid."""
    try:
        yield
    except (SourceNotFound, ArticleNotFound) as error:
        raise HTTPException(404, str(error)) from None
    except SourceExists as error:
        raise HTTPException(409, str(error)) from None
    except (IngestError, FilterError) as error:
        raise HTTPException(422, str(error)) from None


def paginate(session: Session, query: Select[Any], page: int, per_page: int, order: Any) -> tuple[list[Any], int]:
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = list(session.scalars(query.order_by(order).offset((page - 1) * per_page).limit(per_page)))
    return rows, total


def dated(column: Any, since: datetime | None, until: datetime | None) -> list[ColumnElement[bool]]:
    conditions = []
    if since is not None:
        conditions.append(column >= _utc(since))
    if until is not None:
        conditions.append(column < _utc(until))
    return conditions


PAGE_NUMBER = Query(1, ge=1, le=MAX_PAGE)
PER_PAGE = Query(20, ge=1, le=MAX_PER_PAGE)
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
    422: {"model": Problem},
    429: {"model": Problem},
}
router = APIRouter(responses=ERRORS)


# Articles -----------------------------------------------------------------------------------------


@router.get("/articles", response_model=Page[ArticleOut], tags=["articles"])
def list_articles(
    _: Reader,
    database: Db,
    source_id: OptionalRowId = None,
    status: str | None = Query(None, description="ok, filtered, not_english, failed, no_article, pending"),
    since: datetime | None = Query(None, description="Published (or found) at or after this time."),
    until: datetime | None = Query(None, description="Published (or found) before this time."),
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[ArticleOut]:
    when = func.coalesce(Article.published_at, Article.discovered_at)
    query = select(Article).where(*dated(when, since, until))
    if source_id is not None:
        query = query.where(Article.source_id == source_id)
    if status is not None:
        query = query.where(Article.fetch_status == status)
    with database.session() as session:
        rows, total = paginate(session, query, page, per_page, Article.id.desc())
        return Page[ArticleOut](items=[article_out(a) for a in rows], page=page, per_page=per_page, total=total)


def load_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise HTTPException(404, f"article {article_id}: no such article")
    return article


@router.get("/articles/{article_id}", response_model=ArticleDetail, tags=["articles"])
def get_article(article_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> ArticleDetail:
    with database.session() as session:
        article = load_article(session, article_id)
        decision = article_reuse(settings, article)
        return ArticleDetail(
            **article_out(article).model_dump(),
            reuse=reuse_out(article, decision),
            paragraphs=_paragraphs(article.paragraphs, decision),
        )


@router.post("/articles/{article_id}/retranslate", response_model=TranslationOut, status_code=202, tags=["articles"])
def retranslate(article_id: RowId, _: EditorToken, context: Context) -> TranslationOut:
    """Queue a fresh machine translation; the translate worker (`run`, `translate`) does it."""
    with service_errors():
        translation = retranslate_article(context.database, context.settings, article_id)
    with context.database.session() as session:
        stored = session.get(Translation, translation.id)
        assert stored is not None
        return translation_out(stored)


@router.post("/articles/{article_id}/release", response_model=ArticleOut, tags=["articles"])
def release(article_id: RowId, who: EditorToken, context: Context) -> ArticleOut:
    """Translate an article its source's filters held back."""
    with context.database.session() as session:
        load_article(session, article_id)
    with service_errors():
        release_article(context.database, context.settings, article_id, f"token:{who.name}")
    with context.database.session() as session:
        return article_out(load_article(session, article_id))


# Translations and publications --------------------------------------------------------------------


@router.get("/translations", response_model=Page[TranslationOut], tags=["translations"])
def list_translations(
    _: Reader,
    database: Db,
    settings: CurrentSettings,
    source_id: OptionalRowId = None,
    status: str | None = Query(None, description="queued, in_progress, done, failed"),
    since: datetime | None = Query(None, description="Changed at or after this time."),
    until: datetime | None = Query(None, description="Changed before this time."),
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[TranslationOut]:
    query = select(Translation).where(
        Translation.language == settings.target_language, *dated(Translation.updated_at, since, until)
    )
    if source_id is not None:
        query = query.join(Article, Article.id == Translation.article_id).where(Article.source_id == source_id)
    if status is not None:
        query = query.where(Translation.status == status)
    with database.session() as session:
        rows, total = paginate(session, query, page, per_page, Translation.id.desc())
        return Page[TranslationOut](items=[translation_out(t) for t in rows], page=page, per_page=per_page, total=total)


@router.get("/translations/{translation_id}", response_model=TranslationDetail, tags=["translations"])
def get_translation(translation_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> TranslationDetail:
    with database.session() as session:
        translation = session.get(Translation, translation_id)
        if translation is None:
            raise HTTPException(404, f"translation {translation_id}: no such translation")
        decision = article_reuse(settings, translation.article)
        return TranslationDetail(
            **translation_out(translation).model_dump(),
            reuse=reuse_out(translation.article, decision),
            paragraphs=[
                ParagraphOut(kind=p.kind, html=p.html)
                for p in shown_paragraphs(paragraphs_from_json(translation.paragraphs), decision, translation.report)
            ],
            quality=translation.quality,
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


@router.get("/publications", response_model=Page[PublicationOut], tags=["publications"])
def list_publications(
    _: Reader,
    database: Db,
    settings: CurrentSettings,
    source_id: OptionalRowId = None,
    status: str | None = Query(None, description="published, held, unpublished, archived"),
    since: datetime | None = Query(None, description="Published at or after this time."),
    until: datetime | None = Query(None, description="Published before this time."),
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[PublicationOut]:
    query = select(Publication).where(
        Publication.language == settings.target_language, *dated(Publication.published_at, since, until)
    )
    if source_id is not None:
        query = (
            query.join(Translation, Translation.id == Publication.translation_id)
            .join(Article, Article.id == Translation.article_id)
            .where(Article.source_id == source_id)
        )
    if status is not None:
        query = query.where(Publication.status == status)
    with database.session() as session:
        rows, total = paginate(session, query, page, per_page, Publication.id.desc())
        items = [publication_out(p, settings.base_url) for p in rows]
        return Page[PublicationOut](items=items, page=page, per_page=per_page, total=total)


@router.get("/publications/{publication_id}", response_model=PublicationOut, tags=["publications"])
def get_publication(publication_id: RowId, _: Reader, database: Db, settings: CurrentSettings) -> PublicationOut:
    with database.session() as session:
        publication = session.get(Publication, publication_id)
        if publication is None:
            raise HTTPException(404, f"publication {publication_id}: no such publication")
        return publication_out(publication, settings.base_url)


# Sources ------------------------------------------------------------------------------------------


def stored_source(database: Database, source_id: int) -> SourceOut:
    with database.session() as session:
        source = session.get(Source, source_id)
        if source is None:
            raise HTTPException(404, f"source {source_id}: no such source")
        return source_out(source)


@router.get("/sources", response_model=Page[SourceOut], tags=["sources"])
def list_sources(
    _: Reader,
    database: Db,
    tag: str | None = None,
    enabled: bool | None = None,
    page: int = PAGE_NUMBER,
    per_page: int = PER_PAGE,
) -> Page[SourceOut]:
    with database.session() as session:
        query = select(Source)
        if enabled is not None:
            query = query.where(Source.enabled.is_(enabled))
        if tag is None:
            rows, total = paginate(session, query, page, per_page, Source.id)
        else:  # tags are a JSON list: filtered here, the same on every database
            matching = [s for s in session.scalars(query.order_by(Source.id)) if tag in (s.tags or ())]
            rows, total = matching[(page - 1) * per_page : page * per_page], len(matching)
        return Page[SourceOut](items=[source_out(s) for s in rows], page=page, per_page=per_page, total=total)


@router.get("/sources/{source_id}", response_model=SourceOut, tags=["sources"])
def get_source(source_id: RowId, _: Reader, database: Db) -> SourceOut:
    return stored_source(database, source_id)


@router.post("/sources", response_model=SourceOut, status_code=201, tags=["sources"])
def add_source(body: SourceCreate, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        fields = body.model_dump(exclude={"url", "filters"}, exclude_none=True)
        source = create_source(
            context.database, context.settings, body.url, filters=_filters_value(body.filters), **fields
        )
    return stored_source(context.database, source.id)


@router.patch("/sources/{source_id}", response_model=SourceOut, tags=["sources"])
def change_source(source_id: RowId, body: SourceUpdate, _: AdminToken, context: Context) -> SourceOut:
    """Only the fields sent are changed; stored articles are not refiltered."""
    changes = {name: getattr(body, name) for name in body.model_fields_set if name != "filters"}
    with service_errors():
        if "filters" in body.model_fields_set:
            changes["filters"] = _filters_value(body.filters)
        update_source(context.database, source_id, **changes)
        if RIGHTS_FIELDS & set(changes):
            retranslate_for_reuse(context.database, context.settings, source_id)
            with context.database.session() as session:
                reindex_source(session, context.settings, source_id)
    return stored_source(context.database, source_id)


@router.post("/sources/{source_id}/pause", response_model=SourceOut, tags=["sources"])
def pause_source(source_id: RowId, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        update_source(context.database, source_id, enabled=False)
    return stored_source(context.database, source_id)


@router.post("/sources/{source_id}/resume", response_model=SourceOut, tags=["sources"])
def resume_source(source_id: RowId, _: AdminToken, context: Context) -> SourceOut:
    with service_errors():
        update_source(context.database, source_id, enabled=True)
    return stored_source(context.database, source_id)


@router.delete("/sources/{source_id}", status_code=204, tags=["sources"])
def delete_source(source_id: RowId, _: AdminToken, context: Context) -> Response:
    """Remove a source; its articles are kept."""
    from presseschau.ingest.sources import remove_source

    with service_errors():
        remove_source(context.database, source_id)
    return Response(status_code=204)


@router.post("/sources/{source_id}/refilter", response_model=RefilterResult, tags=["sources"])
def refilter(source_id: RowId, _: AdminToken, context: Context) -> RefilterResult:
    """Apply the source's current filters to its stored articles that are not translated yet."""
    with service_errors():
        report = refilter_source(context.database, context.settings, source_id)
    return RefilterResult(**vars(report))


@router.post("/sources/{source_id}/fetch", response_model=FetchResult, tags=["sources"])
def fetch_source(source_id: RowId, _: AdminToken, context: Context) -> FetchResult:
    """Poll the source now (as `presseschau fetch --source ID`) and answer with what came in."""
    from presseschau.ingest.polling import fetch_sources
    from presseschau.publish.service import publisher

    with service_errors():
        report = fetch_sources(
            context.database, context.settings, source_id=source_id, on_done=publisher(context.settings)
        )
    return FetchResult(
        source_id=source_id,
        articles_new=report.articles_new,
        articles_updated=report.articles_updated,
        filtered=report.filtered,
        failures=[f"{what}: {why}" for what, why in report.failures],
    )


# The application ----------------------------------------------------------------------------------


async def no_store(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers.setdefault("Cache-Control", "no-store")  # answers depend on the token
    return response


def api_app(context: AppContext) -> FastAPI:
    """The API as an application of its own, mounted at /api/v1 by `presseschau.web.app.create_app`."""
    app = FastAPI(
        title=f"{context.settings.site_title} API",
        version=__version__,
        description=__doc__,
        docs_url=None,  # served from local files by add_offline_docs, not from a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.context = context
    app.state.api_limits = ApiLimits(context.settings.api_rate_limit_per_minute)
    app.middleware("http")(no_store)
    app.add_middleware(StrictJsonMiddleware)
    app.include_router(router)
    add_offline_docs(app)
    return app
