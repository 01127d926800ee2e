"""Publishing: which translations are on the site, under which slug.

Called by the translate and ingest stages (`on_translation_done`, inside their transaction, as
the `publisher` that every entry point hands them: CLI, `run`, Celery workers, API), after an
editor's re-translation, and by editors through the CLI (`publish`, `unpublish`,
`change_slug`). A published slug never changes by itself; an editor's change keeps the old
slug in `SlugHistory`, which the site redirects (301).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from presseschau.config import Settings
from presseschau.content import paragraphs_from_json
from presseschau.errors import ArticleNotFound as ArticleNotFound  # raised here, shared by every stage
from presseschau.messages import CataloguedError, text
from presseschau.publish import search
from presseschau.publish.slugs import DEFAULT_MAX_LENGTH, RESERVED_SLUGS, is_valid_slug, slugify, unique_slug
from presseschau.store.models import (
    Article,
    Publication,
    PublicationStatus,
    SearchDocument,
    SlugHistory,
    Translation,
    TranslationStatus,
    utcnow,
)
from presseschau.store.queue import TranslationDone
from presseschau.store.rights import ReuseDecision, article_reuse, shown_paragraphs
from presseschau.stories.service import group_quietly


class PublishError(CataloguedError):
    """Publishing was refused; the catalogued message says why (English for the CLI, German for the editor)."""


class TranslationNotReady(PublishError):
    """The article has no finished ("done") translation in the target language."""


class SlugError(PublishError):
    """An editor's slug is malformed, reserved by the site or already used by another article."""


PUBLISH_POLICIES = ("auto", "review", "auto-unless-risky")


def effective_policy(article: Article, settings: Settings) -> str:
    """`auto`, `review` or `auto-unless-risky`: the article's source policy, else the configured default."""
    policy = article.source.publish_policy if article.source is not None else None
    return policy if policy in PUBLISH_POLICIES else settings.default_publish_policy


def risk_hold_reason(translation: Translation, settings: Settings) -> str | None:
    """Why `auto-unless-risky` holds this translation (None: it may go out): its estimated risk
    reached the source's threshold (else `quality_risk_threshold`), with the flags concerned."""
    source = translation.article.source
    threshold = source.risk_threshold if source is not None and source.risk_threshold is not None else None
    threshold = settings.quality_risk_threshold if threshold is None else threshold
    risk = translation.quality_risk
    if risk is None or risk < threshold:
        return None
    flagged = []
    for index, paragraph in enumerate((translation.quality or {}).get("paragraphs", []), start=1):
        names = [flag.get("name", "") for flag in paragraph.get("flags", [])]
        if names and paragraph.get("risk", 0.0) >= threshold:
            flagged.append(f"Absatz {index}: {', '.join(names)}")
    return f"Risiko {risk:.2f} ≥ {threshold:.2f}" + (f" ({'; '.join(flagged)})" if flagged else "")


def _publishes_at_once(translation: Translation, settings: Settings) -> bool:
    policy = effective_policy(translation.article, settings)
    if policy == "auto-unless-risky":
        reason = risk_hold_reason(translation, settings)
        if translation.quality is not None:
            translation.quality = {**translation.quality, "held": reason}
        return reason is None
    return policy == "auto"


def _taken_slugs(session: Session, language: str, base: str, own_id: int | None) -> set[str]:
    # Candidates are `base` and `base-N`, where a long base is shortened to make room for the
    # suffix: they all share the base's first MAX_LENGTH - 8 characters (room for "-9999999"), so a
    # range on the (language, slug) index over that prefix finds them all without scanning (slugs
    # are ASCII, so "\x7f" sorts after every continuation).
    base = base[: DEFAULT_MAX_LENGTH - 8]
    upper = base + "\x7f"
    current = session.scalars(
        select(Publication.slug).where(
            Publication.language == language,
            Publication.slug >= base,
            Publication.slug < upper,
            Publication.id != (own_id or -1),
        )
    )
    # Retired slugs stay reserved: they redirect to their article forever.
    retired = session.scalars(
        select(SlugHistory.slug).where(
            SlugHistory.language == language, SlugHistory.slug >= base, SlugHistory.slug < upper
        )
    )
    return set(current) | set(retired)


def _new_slug(
    session: Session, translation: Translation, own_id: int | None, also_taken: frozenset[str] = frozenset()
) -> str:
    base = slugify(translation.title or translation.article.title or f"artikel-{translation.article_id}")
    return unique_slug(base, _taken_slugs(session, translation.language, base, own_id) | also_taken)


# A concurrent publisher (another worker) may commit the slug we chose between our check and our
# insert; the unique index refuses the second one. Each retry skips the slugs that collided.
SLUG_ATTEMPTS = 20


def _body_text(translation: Translation, reuse: ReuseDecision) -> str:
    """The searchable German text: as far as the article's reuse mode shows it."""
    shown = shown_paragraphs(paragraphs_from_json(translation.paragraphs), reuse, translation.report)
    return "\n".join(p.text for p in shown)


def _mark_published(session: Session, publication: Publication, now: datetime, settings: Settings) -> None:
    if publication.status != PublicationStatus.PUBLISHED:
        publication.status = PublicationStatus.PUBLISHED
        publication.published_at = now
        publication.first_published_at = publication.first_published_at or now
    publication.updated_at = now
    session.flush()
    translation = publication.translation
    reuse = article_reuse(settings, translation.article)
    search.index_document(
        session, publication.id, publication.language, translation.title or "", _body_text(translation, reuse), reuse
    )


def _require_done(translation: Translation | None, article_id: int) -> Translation:
    if translation is None:
        raise TranslationNotReady(text("translation_missing", article_id=article_id))
    if translation.status != TranslationStatus.DONE:
        raise TranslationNotReady(
            text("translation_not_done", article_id=translation.article_id, status=translation.status)
        )
    return translation


def _get_or_create_publication(session: Session, translation: Translation) -> Publication:
    publication = translation.publication
    if publication is None:
        return _create_publication(session, translation)
    if publication.first_published_at is None and publication.status != PublicationStatus.PUBLISHED:
        # Never public yet, so the slug can still follow a changed title.
        collided: set[str] = set()
        for _ in range(SLUG_ATTEMPTS):
            slug = _new_slug(session, translation, publication.id, frozenset(collided))
            if slug == publication.slug:
                break
            try:
                with session.begin_nested():
                    publication.slug = slug
                    session.flush()
                break
            except IntegrityError:
                collided.add(slug)
        else:
            raise PublishError(text("no_free_slug", article_id=translation.article_id, attempts=SLUG_ATTEMPTS))
    return publication


def _create_publication(session: Session, translation: Translation) -> Publication:
    """A new held publication with a free slug, safe against concurrent publishers."""
    collided: set[str] = set()
    for _ in range(SLUG_ATTEMPTS):
        slug = _new_slug(session, translation, None, frozenset(collided))
        try:
            with session.begin_nested():
                publication = Publication(
                    translation_id=translation.id,
                    language=translation.language,
                    slug=slug,
                    status=PublicationStatus.HELD,
                )
                session.add(publication)
                session.flush()
        except IntegrityError:
            existing = session.scalars(select(Publication).where(Publication.translation_id == translation.id)).first()
            if existing is not None:  # another worker published this very translation: use its row
                session.refresh(translation, ["publication"])
                return existing
            collided.add(slug)
            continue
        # The row just written is the translation's publication: known without reading it back (a
        # refresh of the relationship was a query per publication).
        set_committed_value(translation, "publication", publication)
        return publication
    raise PublishError(text("no_free_slug", article_id=translation.article_id, attempts=SLUG_ATTEMPTS))


def on_translation_done(session: Session, translation: Translation, settings: Settings) -> Publication | None:
    """Create or update the publication of a finished translation; returns it (None if not `done`).

    Published when the source's policy is `auto`, or `auto-unless-risky` and the quality estimate is
    below the threshold (held for review otherwise, the reason in `translation.quality["held"]`). An article an editor
    unpublished stays unpublished; a published one stays published with its slug. Idempotent.
    """
    if translation.status != TranslationStatus.DONE:
        return None
    now = utcnow()
    publication = _get_or_create_publication(session, translation)
    shown = _indexed_text(session, publication) if publication.status == PublicationStatus.PUBLISHED else None
    if publication.status == PublicationStatus.PUBLISHED or (
        publication.status == PublicationStatus.HELD and _publishes_at_once(translation, settings)
    ):
        _mark_published(session, publication, now, settings)
        if shown is not None and _indexed_text(session, publication) != shown:
            # Translated again (a revised original) while on the site, and the text differs:
            # readers see "Aktualisiert am". A mere re-run of the same translation is no update.
            publication.text_updated_at = now
    else:
        publication.updated_at = now
        search.remove_document(session, publication.id)
    session.flush()
    if publication.status == PublicationStatus.PUBLISHED:
        group_quietly(session, settings)  # into a story with other outlets' reports of the same event
    return publication


def publisher(settings: Settings) -> TranslationDone:
    """`on_translation_done` for `settings`, as the translate and ingest stages take it (`on_done`):
    they sit below publishing, so every entry point (CLI, `run`, workers, API) hands it to them."""

    def publish_when_done(session: Session, translation: Translation) -> Publication | None:
        return on_translation_done(session, translation, settings)

    return publish_when_done


def _indexed_text(session: Session, publication: Publication) -> tuple[str, str] | None:
    """The title and text readers currently find for `publication` (its search entry)."""
    document = session.get(SearchDocument, publication.id)
    return (document.title, document.body) if document is not None else None


def done_translations(settings: Settings, *conditions: ColumnElement[bool]) -> Select[Translation]:
    """Finished translations into the target language with their publication (outer joined, so
    `Publication.id.is_(None)` finds those without one), narrowed by `conditions`."""
    return (
        select(Translation)
        .outerjoin(Publication, Publication.translation_id == Translation.id)
        .where(Translation.language == settings.target_language, Translation.status == TranslationStatus.DONE)
        .where(*conditions)
    )


def publish_orphaned(session: Session, settings: Settings) -> int:
    """Give every finished translation without a publication one, by its source's policy.

    A repair for data an older `presseschau translate` left behind (it finished translations
    without publishing or holding them, so they were on neither the site nor the review queue).
    Called at the start of `run` and `translate`; returns how many were repaired.
    """
    orphaned = session.scalars(
        done_translations(settings, Publication.id.is_(None)).order_by(Translation.translated_at, Translation.id)
    ).all()
    for translation in orphaned:
        on_translation_done(session, translation, settings)
    return len(orphaned)


def _translation_for(session: Session, settings: Settings, article_id: int) -> Translation | None:
    if session.get(Article, article_id) is None:
        raise ArticleNotFound(article_id)
    return session.scalars(
        select(Translation).where(
            Translation.article_id == article_id, Translation.language == settings.target_language
        )
    ).one_or_none()


def publish(session: Session, settings: Settings, article_id: int) -> Publication:
    """Publish article `article_id` now (also when held or unpublished before)."""
    translation = _require_done(_translation_for(session, settings, article_id), article_id)
    publication = _get_or_create_publication(session, translation)
    _mark_published(session, publication, utcnow(), settings)
    group_quietly(session, settings)
    return publication


def publish_all(session: Session, settings: Settings) -> int:
    """Publish every held article and every finished translation without a publication; returns the count.

    Articles an editor unpublished are left alone.
    """
    held = session.scalars(
        done_translations(settings, Publication.id.is_(None) | (Publication.status == PublicationStatus.HELD)).order_by(
            Translation.translated_at, Translation.id
        )
    ).all()
    now = utcnow()
    for translation in held:
        _mark_published(session, _get_or_create_publication(session, translation), now, settings)
    if held:
        group_quietly(session, settings, everything=True)  # all of them, however many batches they make
    return len(held)


def unpublish(session: Session, settings: Settings, article_id: int) -> Publication:
    """Take article `article_id` off the site (its slug stays reserved for it)."""
    translation = _translation_for(session, settings, article_id)
    if translation is None or translation.publication is None:
        raise PublishError(text("not_published", article_id=article_id))
    publication = translation.publication
    publication.status = PublicationStatus.UNPUBLISHED
    publication.updated_at = utcnow()
    search.remove_document(session, publication.id)
    session.flush()
    return publication


def change_slug(session: Session, publication: Publication, new_slug: str) -> Publication:
    """Give `publication` the editor's `new_slug`; the old slug will redirect (301) to it."""
    if not is_valid_slug(new_slug):
        raise SlugError(text("slug_unclean", slug=new_slug))
    if new_slug == publication.slug:
        return publication
    if new_slug in RESERVED_SLUGS:
        # /archiv/, /admin/ ... would shadow the article (and its old slug would redirect there).
        raise SlugError(text("slug_reserved", slug=new_slug))
    other = session.scalars(
        select(Publication.id).where(
            Publication.language == publication.language, Publication.slug == new_slug, Publication.id != publication.id
        )
    ).first()
    retired = session.scalars(
        select(SlugHistory).where(SlugHistory.language == publication.language, SlugHistory.slug == new_slug)
    ).one_or_none()
    if other is not None or (retired is not None and retired.publication_id != publication.id):
        raise SlugError(text("slug_taken", slug=new_slug))
    if retired is not None:
        # Going back to an earlier slug: it is current again, no longer a redirect.
        session.delete(retired)
        session.flush()
    session.add(SlugHistory(publication_id=publication.id, language=publication.language, slug=publication.slug))
    publication.slug = new_slug
    publication.updated_at = utcnow()
    session.flush()
    return publication


def publication_for_article(session: Session, settings: Settings, article_id: int) -> Publication:
    translation = _translation_for(session, settings, article_id)
    if translation is None or translation.publication is None:
        raise PublishError(text("no_publication", article_id=article_id))
    return translation.publication


def reindex_source(session: Session, settings: Settings, source_id: int) -> int:
    """Index a source's published articles again (after its reuse settings changed, the search
    must hold no more than the new mode shows); returns how many."""
    publications = session.scalars(
        select(Publication)
        .join(Translation, Translation.id == Publication.translation_id)
        .join(Article, Article.id == Translation.article_id)
        .where(Article.source_id == source_id, Publication.status == PublicationStatus.PUBLISHED)
    ).all()
    for publication in publications:
        translation = publication.translation
        reuse = article_reuse(settings, translation.article)
        body = _body_text(translation, reuse)
        search.index_document(session, publication.id, publication.language, translation.title or "", body, reuse)
    return len(publications)
