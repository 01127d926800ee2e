from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.publish import service
from presseschau.publish.search import search
from presseschau.store.models import Publication, SlugHistory, Translation
from tests.publish.factories import make_article, make_source

TITLE = "Mitten in der Wahlentrüstung kämpft Senegal darum, nicht dem „Putschgürtel“ zu erliegen"
SLUG = "mitten-in-der-wahlentruestung-kaempft-senegal-darum-nicht-dem-putschguertel-zu-erliegen"


def _publication(context: AppContext, publication_id: int | None) -> Publication:
    assert publication_id is not None
    with context.database.session() as session:
        publication = session.get(Publication, publication_id)
        assert publication is not None
        return publication


def test_auto_policy_publishes_with_slug_from_german_title(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, title_de=TITLE, source=make_source(session, policy="auto"))
    publication = _publication(context, made.publication_id)
    assert publication.slug == SLUG
    assert publication.status == "published"
    assert publication.published_at is not None
    assert publication.first_published_at == publication.published_at
    with context.database.session() as session:
        assert [hit.publication_id for hit in search(session, "Senegal", "de")] == [publication.id]


def test_long_titles_that_collide_after_the_length_cap_get_distinct_slugs(context: AppContext) -> None:
    """Suffixed candidates of a capped slug are shortened, so they must still be found as taken."""
    long_title = "P " * 60  # slug "p-p-...-p" fills the 100-character cap, so "-2" must shorten it
    slugs = []
    for n in range(4):
        with context.database.session() as session:
            made = make_article(session, context.settings, title_de=f"{long_title} Teil {n}")
        slugs.append(_publication(context, made.publication_id).slug)
    assert len(set(slugs)) == 4
    assert all(len(slug) <= 100 for slug in slugs)
    assert slugs[1].endswith("-2") and slugs[2].endswith("-3")


def test_review_policy_holds(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session, policy="review"))
    publication = _publication(context, made.publication_id)
    assert publication.status == "held"
    assert publication.published_at is None
    with context.database.session() as session:
        assert search(session, "Kiew", "de") == []


def test_articles_without_source_use_the_default_policy(data_dir: object) -> None:
    context = AppContext.for_data_dir(str(data_dir), default_publish_policy="review")
    try:
        with context.database.session() as session:
            made = make_article(session, context.settings, source=None)
        assert _publication(context, made.publication_id).status == "held"
    finally:
        context.close()


def test_on_translation_done_is_idempotent_and_keeps_a_published_slug(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, title_de=TITLE)
    first = _publication(context, made.publication_id)
    with context.database.session() as session:
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        again = service.on_translation_done(session, translation, context.settings)
        assert again is not None and again.id == first.id
        assert again.text_updated_at is None  # the same text again is no update for readers
        # A re-translation with a new title keeps the published URL and the publication date.
        translation.title = "Ein ganz anderer Titel"
        again = service.on_translation_done(session, translation, context.settings)
        assert again is not None
        assert again.text_updated_at is not None  # "Aktualisiert am …" on the page
        assert again.slug == SLUG
        assert again.published_at == first.published_at
        assert again.first_published_at == first.first_published_at
        assert session.scalars(select(Publication)).all() == [again]


def test_not_done_translations_cannot_be_published(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, status="in_progress", publish=False)
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        assert service.on_translation_done(session, translation, context.settings) is None
        with pytest.raises(service.TranslationNotReady, match="'in_progress'"):
            service.publish(session, context.settings, made.article_id)
        with pytest.raises(service.ArticleNotFound):
            service.publish(session, context.settings, 9999)
        assert session.scalars(select(Publication)).all() == []


def test_colliding_titles_get_suffixes(context: AppContext) -> None:
    with context.database.session() as session:
        slugs = [make_article(session, context.settings, title_de="Kiew").slug for _ in range(3)]
    assert slugs == ["kiew", "kiew-2", "kiew-3"]


def test_publish_unpublish_and_publish_all(context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, policy="review")
        held = [make_article(session, context.settings, source=source, title_de=f"Titel {i}") for i in range(3)]
        service.unpublish(session, context.settings, held[0].article_id)
    with context.database.session() as session:
        # --all publishes the held ones, not what an editor took off the site.
        assert service.publish_all(session, context.settings) == 2
        assert service.publish_all(session, context.settings) == 0
    assert _publication(context, held[0].publication_id).status == "unpublished"
    assert _publication(context, held[1].publication_id).status == "published"
    with context.database.session() as session:
        # A new translation of an unpublished article does not bring it back by itself.
        translation = session.get(Translation, held[0].translation_id)
        assert translation is not None
        service.on_translation_done(session, translation, context.settings)
    assert _publication(context, held[0].publication_id).status == "unpublished"
    with context.database.session() as session:
        publication = service.publish(session, context.settings, held[0].article_id)
        assert publication.status == "published"
        assert publication.slug == "titel-0"
    with context.database.session() as session:
        service.unpublish(session, context.settings, held[1].article_id)
        assert {hit.publication_id for hit in search(session, "Titel", "de")} == {
            held[0].publication_id,
            held[2].publication_id,
        }


def test_change_slug_records_history_and_refuses_taken_or_bad_slugs(context: AppContext) -> None:
    with context.database.session() as session:
        one = make_article(session, context.settings, title_de="Erster Artikel")
        two = make_article(session, context.settings, title_de="Zweiter Artikel")
    with context.database.session() as session:
        publication = session.get(Publication, one.publication_id)
        assert publication is not None
        service.change_slug(session, publication, "neuer-name")
        assert publication.slug == "neuer-name"
        history = session.scalars(select(SlugHistory.slug)).all()
        assert history == ["erster-artikel"]
        with pytest.raises(service.SlugError, match="already used"):
            service.change_slug(session, publication, "zweiter-artikel")
        with pytest.raises(service.SlugError, match="not a clean slug"):
            service.change_slug(session, publication, "Mit Leerzeichen")
        for page_of_the_site in ("archiv", "suche", "admin", "static", "quelle"):
            with pytest.raises(service.SlugError, match="reserved"):
                service.change_slug(session, publication, page_of_the_site)
        assert publication.slug == "neuer-name"
        other = session.get(Publication, two.publication_id)
        assert other is not None
        with pytest.raises(service.SlugError, match="already used"):
            service.change_slug(session, other, "erster-artikel")  # retired slugs stay reserved
        # Going back to the old slug is allowed and removes it from the history.
        service.change_slug(session, publication, "erster-artikel")
        assert sorted(session.scalars(select(SlugHistory.slug)).all()) == ["neuer-name"]
    with context.database.session() as session:
        # A new article with the retired slug's title gets a suffix.
        assert make_article(session, context.settings, title_de="Neuer Name").slug == "neuer-name-2"
        # So does one whose title is the name of a page of the site.
        assert make_article(session, context.settings, title_de="Admin").slug == "admin-2"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[AppContext]:
    overrides = {"database_url": request.getfixturevalue("postgres_url")} if request.param == "postgresql" else {}
    ctx = AppContext.for_data_dir(data_dir, **overrides)
    yield ctx
    ctx.close()


def test_a_slug_taken_by_a_concurrent_publisher_is_skipped(
    any_store: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = any_store.settings
    with any_store.database.session() as session:
        first = make_article(session, settings, title_de="Gleicher Titel")
    assert first.slug == "gleicher-titel"

    # Another worker committed "gleicher-titel" after this one looked: the first check sees nothing.
    real_taken = service._taken_slugs
    stale = {"calls": 0}

    def taken_once_stale(session: Session, language: str, base: str, own_id: int | None) -> set[str]:
        stale["calls"] += 1
        return set() if stale["calls"] == 1 else real_taken(session, language, base, own_id)

    monkeypatch.setattr(service, "_taken_slugs", taken_once_stale)
    with any_store.database.session() as session:
        second = make_article(session, settings, title_de="Gleicher Titel")
    assert stale["calls"] == 2  # the collision was caught and the slug chosen again
    assert second.slug == "gleicher-titel-2"
    with any_store.database.session() as session:
        publications = session.scalars(select(Publication).order_by(Publication.id)).all()
        assert [(p.slug, p.status) for p in publications] == [
            ("gleicher-titel", "published"),
            ("gleicher-titel-2", "published"),
        ]
        assert all(p.translation.publication is p for p in publications)


def test_a_new_publication_is_the_translations_without_a_query_for_it(context: AppContext) -> None:
    """`_create_publication` sets the relationship from the row it wrote: the translation knows its
    publication at once (no SELECT of it), and the next publishing finds the same row."""
    with context.database.session() as session:
        made = make_article(session, context.settings, publish=False)
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        assert translation.publication is None
        selects: list[str] = []

        def count_selects(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "publications.translation_id" in statement:
                selects.append(statement)

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", count_selects)
        try:
            publication = service._create_publication(session, translation)
        finally:
            event.remove(engine, "before_cursor_execute", count_selects)
        assert translation.publication is publication
        assert selects == []  # not read back
        assert service._get_or_create_publication(session, translation) is publication
    with context.database.session() as session:
        stored = session.get(Translation, made.translation_id)
        assert stored is not None and stored.publication is not None
        assert stored.publication.id == publication.id
        assert session.scalars(select(Publication)).all() == [stored.publication]
