"""/api/v1/articles: list and read articles; re-translate or release one."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy.orm import Session

from presseschau import reporting
from presseschau.editorial.articles import release_article, retranslate_article
from presseschau.store.models import Article, Translation
from presseschau.store.rights import article_reuse
from presseschau.web.api.convert import article_out, paragraphs_out, reuse_out, translation_out
from presseschau.web.api.deps import ERRORS, PAGE_NUMBER, PER_PAGE, EditorToken, Reader, service_errors
from presseschau.web.api.schemas import ArticleDetail, ArticleOut, Page, TranslationOut
from presseschau.web.deps import Context, CurrentSettings, Db
from presseschau.web.params import OptionalRowId, RowId

router = APIRouter(responses=ERRORS)


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
    wanted = reporting.ListFilter(source_id, status, since, until, page, per_page)
    with database.session() as session:
        rows, total = reporting.article_page(session, wanted)
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
            paragraphs=paragraphs_out(article.paragraphs, decision),
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
