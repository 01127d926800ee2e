"""Translation work follows the reuse mode: the engine gets only what the site will show."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import html_to_text, paragraphs_from_json, paragraphs_to_json
from presseschau.store.models import Article, Source, Translation
from presseschau.store.queue import enqueue_translation
from presseschau.store.rights import word_count
from presseschau.translate.queue import translate_article

from .conftest import FakeEngine
from .fakes.article import TITLE, source_paragraph


def add(context: AppContext, reuse: str | None, licence: str | None = None, words: int | None = None) -> int:
    from presseschau.content import Paragraph

    with context.database.session() as session:
        source = Source(url=f"https://ex.org/feed-{reuse}-{licence}", name="Ex", reuse=reuse, excerpt_words=words)
        article = Article(
            url=f"https://ex.org/{reuse}-{licence}",
            canonical_url=f"https://ex.org/{reuse}-{licence}",
            title=TITLE,
            paragraphs=paragraphs_to_json([Paragraph("p", source_paragraph(n)) for n in range(1, 21)]),
            language="en",
            fetch_status="ok",
            licence=licence,
            source=source,
        )
        session.add_all([source, article])
        session.flush()
        enqueue_translation(session, article, "de")
        return article.id


def sent_outside(engine: FakeEngine, shown_text: str) -> list[str]:
    """Segments the engine got that are not part of the shown text or the title (link texts are
    sent on their own too, so they count as shown when their sentence is)."""
    allowed = f"{shown_text} {TITLE}"
    return [segment for call in engine.calls for segment in call if html_to_text(segment) not in allowed]


def translation(context: AppContext, article_id: int) -> Translation:
    with context.database.session() as session:
        row = session.scalars(select(Translation).where(Translation.article_id == article_id)).one()
        session.expunge(row)
        return row


@pytest.mark.parametrize(("reuse", "limit"), [("excerpt", 60), ("quote", 60), ("headline", 60)])
def test_narrow_modes_send_the_engine_no_more_than_is_shown(
    context: AppContext, registered_fake: FakeEngine, reuse: str, limit: int
) -> None:
    article_id = add(context, reuse, words=60)
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    row = translation(context, article_id)
    record = row.report["reuse"]
    assert record["mode"] == reuse
    assert record["words_translated"] <= limit < record["words_total"]
    # The engine saw the title and the shown part, nothing more.
    assert sent_outside(registered_fake, _shown_text(context, article_id)) == []
    assert 0 < sum(len(segment) for call in registered_fake.calls for segment in call) < 600
    assert word_count(paragraphs_from_json(row.paragraphs)) <= limit + 10  # German runs a little longer


def test_full_mode_translates_everything(context: AppContext, registered_fake: FakeEngine) -> None:
    article_id = add(context, None)
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    record = translation(context, article_id).report["reuse"]
    assert record["mode"] == "full" and record["words_translated"] == record["words_total"]
    assert record["paragraphs_translated"] == 20


def test_a_no_derivatives_licence_caps_translation_work(context: AppContext, registered_fake: FakeEngine) -> None:
    article_id = add(context, "full", licence="CC-BY-ND-4.0")
    assert translate_article(context.database, context.settings, article_id, engine_name="fake").complete
    record = translation(context, article_id).report["reuse"]
    assert record["mode"] == "quote" and record["capped"] is True
    assert sent_outside(registered_fake, _shown_text(context, article_id)) == []


def _shown_text(context: AppContext, article_id: int) -> str:
    from presseschau.store.rights import article_reuse, reusable_paragraphs

    with context.database.session() as session:
        article = session.get_one(Article, article_id)
        shown = reusable_paragraphs(paragraphs_from_json(article.paragraphs), article_reuse(context.settings, article))
        return " ".join(p.text for p in shown)


def _page(licence_markup: str) -> str:
    body = "".join(
        f"<p>Paragraph {n}: the council met on Tuesday to discuss the harbour plan. Members argued for hours "
        f"about costs, tides and the fishermen who depend on the old quay number {n}.</p>"
        for n in range(1, 9)
    )
    return (
        f"<!doctype html><html lang='en'><head><title>Harbour plan</title>{licence_markup}</head><body>"
        f"<article><h1>Harbour plan</h1>{body}</article><footer><p>© 2026 Harbour Post</p></footer></body></html>"
    )


ND_JSON_LD = (
    '<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",'
    '"headline":"Harbour plan","license":"https://creativecommons.org/licenses/by-nd/4.0/"}</script>'
)


@pytest.mark.parametrize(
    ("markup", "licence", "mode"),
    [
        ('<link rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">', "CC-BY-ND-4.0", "quote"),
        (ND_JSON_LD, "CC-BY-ND-4.0", "quote"),
        ('<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">', "CC-BY-4.0", "full"),
    ],
)
def test_an_imported_page_is_published_at_its_licence_level(
    context: AppContext, registered_fake: FakeEngine, tmp_path: Path, markup: str, licence: str, mode: str
) -> None:
    """Done-when of issue 20: import -> translate -> publish, through the real entry points."""
    from presseschau.ingest.importing import import_inputs
    from presseschau.publish.service import publisher
    from presseschau.publish.site import Site
    from presseschau.translate.queue import translate_queued

    page = tmp_path / "harbour.html"
    page.write_text(_page(markup), encoding="utf-8")
    import_inputs(context.database, context.settings, [str(page)], original_url="https://harbour.example/plan")
    translate_queued(context.database, context.settings, engine_name="fake", on_done=publisher(context.settings))
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        assert (article.licence, article.licence_found is not None) == (licence, True)
        translation = article.translations[0]
        assert translation.report["reuse"]["mode"] == mode
        assert translation.publication is not None and translation.publication.status == "published"
        html = Site(context.settings).article(session, translation.publication.id)
    assert html is not None
    assert "quay number 8" not in html if mode == "quote" else "quay number 8" in html.replace("Kai", "quay")
    assert f'href="https://creativecommons.org/licenses/{"by-nd" if "ND" in licence else "by"}/4.0/"' in html
    if mode == "quote":
        assert "begrenzt auf „Zitat“" in html
