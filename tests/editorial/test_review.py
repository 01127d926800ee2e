"""Review actions: queue, edits as revisions, memory, re-translation, approve/reject, slugs, diffs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from presseschau.app import AppContext
from presseschau.config import Settings
from presseschau.content import Paragraph, paragraphs_from_json
from presseschau.editorial import review
from presseschau.publish import queries
from presseschau.store.models import Publication, SearchDocument, SlugHistory, Translation, TranslationRevision
from presseschau.translate import engines
from presseschau.translate.engines import registry
from presseschau.translate.memory import TranslationMemory
from tests.publish.factories import ENGLISH_BODY, GERMAN_BODY, Published, make_article, make_source

TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"


def _held(context: AppContext, **kwargs: Any) -> Published:
    """make_article under a review policy; `kwargs` go to make_article."""
    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        return make_article(session, context.settings, source=source, **kwargs)


def _translation(session: Session, made: Published) -> Translation:
    translation = session.get(Translation, made.translation_id)
    assert translation is not None
    return translation


def test_queue_lists_held_unreviewed_newest_first_with_facts(context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        old = make_article(session, context.settings, source=source, title_de="Alter Artikel")
        new = make_article(session, context.settings, source=source, title_de="Neuer <em>Artikel</em>")
        # Published automatically (auto policy) and an already reviewed held one: not waiting.
        published = make_article(session, context.settings, source=make_source(session, "Auto"))
        make_article(session, context.settings, source=source, reviewed=True)
        _translation(session, old).translated_at = datetime.now(UTC) - timedelta(hours=2)
        _translation(session, new).report = {
            "glossary_not_enforced": [{"term": "Kyiv"}],
            "coverage_retries": [{}, {}],
            "failed_segments": [],
            "numbers_missing": [{"numbers": ["42"]}],
            "split_sentences": 0,
            "complete": True,
        }
    with context.database.session() as session:
        items = review.review_queue(session, context.settings)
        assert [item.translation_id for item in items] == [new.translation_id, old.translation_id]
        first = items[0]
        assert first.title == "Neuer Artikel"  # markup stripped for the list
        assert first.source_name == "The Guardian"
        assert first.engine == "ct2"
        assert first.paragraphs == 4 and first.words == sum(len(p.split()) for p in GERMAN_BODY)
        assert first.status == "held" and first.slug == new.slug
        assert first.flags == [
            "Glossar nicht durchgesetzt (1)",
            "Vollständigkeitsprüfung wiederholt (2)",
            "Zahlen fehlen (1)",
        ]
        assert items[1].flags == []
        everything = review.review_queue(session, context.settings, include_published=True)
        assert published.translation_id in [item.translation_id for item in everything]


def test_report_flags_ignore_booleans_and_name_a_fallback_engine(context: AppContext) -> None:
    assert review.report_flags({"complete": True, "split_sentences": True}) == []
    assert review.report_flags({"fallback_engine": "memory", "split_sentences": 3}) == [
        "Lange Sätze geteilt (3)",
        "Ersatz-Engine memory",
    ]
    context.settings.fallback_engine = "memory"
    made = _held(context, engine="memory")
    with context.database.session() as session:
        assert review.translation_flags(context.settings, _translation(session, made)) == ["Ersatz-Engine memory"]
        [item] = review.review_queue(session, context.settings)
        assert item.flags == ["Ersatz-Engine memory"]


def test_save_edit_records_revisions_sanitizes_and_feeds_the_memory(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        revision = review.save_edit(
            context.settings,
            session,
            translation,
            "anna",
            title="Ein <b>besserer</b> Titel",
            paragraphs={
                1: 'Belarus <script>alert("x")</script>war '
                '<a href="javascript:alert(1)" onclick="x()">Aufmarschgebiet</a>.'
            },
        )
        assert revision is not None and revision.number == 2 and revision.author == "anna"
        assert translation.title == "Ein besserer Titel"
        stored = paragraphs_from_json(translation.paragraphs)[1].html
        assert "<script" not in stored and "javascript:" not in stored and "onclick" not in stored
        assert stored.startswith("Belarus ") and "Aufmarschgebiet" in stored
        # Nothing changed: no revision.
        assert review.save_edit(context.settings, session, translation, "anna", paragraphs={1: stored}) is None
    with context.database.session() as session:
        translation = _translation(session, made)
        history = review.revisions(session, translation)
        assert [(r.number, r.author, r.note) for r in history] == [
            (1, "engine:ct2", "Maschinenübersetzung"),
            (2, "anna", "Bearbeitet"),
        ]
        assert history[0].title == "Was wäre, wenn die USA Belarus nicht aufgegeben hätten"
        assert paragraphs_from_json(history[1].paragraphs)[1].html == stored
        assert history[1].created_at.tzinfo is not None
    # Reviewed memory entries: found for the original paragraph, and machine output never replaces them.
    memory = TranslationMemory(context.database, "en", "de")
    assert memory.lookup([ENGLISH_BODY[1]]) == {ENGLISH_BODY[1]: stored}
    memory.store([(ENGLISH_BODY[1], "Maschinentext")], engine="ct2", origin="machine")
    assert memory.lookup([ENGLISH_BODY[1]]) == {ENGLISH_BODY[1]: stored}
    assert {e.source: e.origin for e in memory.entries()}["What if the US hadn't abandoned Belarus?"] == "reviewed"


def test_bad_edits_are_refused(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        with pytest.raises(review.ReviewError, match="Absatz 9 gibt es nicht"):
            review.save_edit(context.settings, session, translation, "anna", paragraphs={8: "Text"})
        with pytest.raises(review.ReviewError, match="wäre leer"):
            review.save_edit(context.settings, session, translation, "anna", paragraphs={0: "<script>x</script>"})
        with pytest.raises(review.ReviewError, match="Titel"):
            review.save_edit(context.settings, session, translation, "anna", title="  <i></i> ")
    with context.database.session() as session, pytest.raises(review.ReviewError, match="gibt es nicht"):
        review.get_translation(session, 999)


def test_edit_of_a_published_article_updates_search_and_page_version(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session))
        before = session.get(Publication, made.publication_id)
        assert before is not None and before.status == "published"
        stamp = before.updated_at
    with context.database.session() as session:
        review.save_edit(
            context.settings, session, _translation(session, made), "anna", paragraphs={0: "Ganz neuer Text hier."}
        )
    with context.database.session() as session:
        document = session.get(SearchDocument, made.publication_id)
        assert document is not None and "Ganz neuer Text hier." in document.body
        publication = session.get(Publication, made.publication_id)
        assert publication is not None and publication.updated_at > stamp


def test_retranslate_paragraph_with_the_tiny_model(context: AppContext) -> None:
    context.settings.model = str(TINY_MODEL)
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        before = paragraphs_from_json(translation.paragraphs)
        outcomes: dict[int, str] = {}
        for index in range(len(before)):
            try:
                revision = review.retranslate_paragraph(context.settings, session, translation, index, "anna", "ct2")
            except review.ReviewError as error:
                # Random weights: some output fails the coverage check; the editor is told clearly.
                assert "Vollständigkeitsprüfung" in str(error) and "bleibt unverändert" in str(error)
                outcomes[index] = "refused"
                assert paragraphs_from_json(translation.paragraphs)[index] == before[index]
                continue
            outcomes[index] = "ok"
            assert revision is not None and revision.note == f"Absatz {index + 1} neu übersetzt mit ct2"
            after = paragraphs_from_json(translation.paragraphs)
            assert after[index] != before[index] and after[index].kind == before[index].kind
        assert "ok" in outcomes.values(), outcomes
        with pytest.raises(review.ReviewError, match="Absatz 11"):
            review.retranslate_paragraph(context.settings, session, translation, 10, "anna", "ct2")


def test_retranslate_reports_an_engine_that_cannot_run(context: AppContext) -> None:
    context.settings.model = str(TINY_MODEL.parent / "does-not-exist")
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        with pytest.raises(review.ReviewError, match="konnte mit ct2 nicht neu übersetzt werden"):
            review.retranslate_paragraph(context.settings, session, translation, 0, "anna", "ct2")
        with pytest.raises(review.ReviewError, match="konnte mit nope nicht"):
            review.retranslate_paragraph(context.settings, session, translation, 0, "anna", "nope")
        assert session.scalars(select(TranslationRevision)).all() == []


def test_retranslate_never_downloads_a_model(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from presseschau.translate.models.catalog import ModelStore

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("a web request must not start a model download")

    monkeypatch.setattr(ModelStore, "pull", no_download)
    made = _held(context)  # no model installed, none configured
    with context.database.session() as session:
        translation = _translation(session, made)
        refused = r"opus-mt-en-de ist nicht installiert.*\). Der Absatz bleibt unverändert\.$"  # German for the editor
        with pytest.raises(review.ReviewError, match=refused):
            review.retranslate_paragraph(context.settings, session, translation, 0, "anna", "ct2")


def test_approve_publishes_as_reviewed_and_reject_archives(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        publication = review.approve(session, context.settings, translation, "anna")
        assert publication.status == "published" and translation.reviewed
    with context.database.session() as session:
        found = queries.find_slug(session, "de", made.slug or "")
        assert found is not None and found[1] == "published"
        assert review.review_queue(session, context.settings, include_published=True) == []
        translation = _translation(session, made)
        review.reject(session, translation, "bert")
    with context.database.session() as session:
        translation = _translation(session, made)
        assert translation.publication is not None and translation.publication.status == "archived"
        assert not translation.reviewed
        assert session.get(SearchDocument, translation.publication.id) is None
        assert [r.note for r in review.revisions(session, translation)] == [
            "Maschinenübersetzung",
            "Freigegeben",
            "Abgelehnt",
        ]
        assert review.review_queue(session, context.settings, include_published=True) == []


def test_slug_change_survives_approval_and_old_slug_redirects(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        review.change_slug(session, translation, "belarus-analyse", "anna")
        review.change_slug(session, translation, "belarus-analyse", "anna")  # no-op, no second revision
        with pytest.raises(review.ReviewError, match="kein sauberer Slug"):
            review.change_slug(session, translation, "Nicht Gut", "anna")
        with pytest.raises(review.ReviewError, match="für eine Seite der Website reserviert"):
            review.change_slug(session, translation, "archiv", "anna")
        # A title edit before approval must not move the editor's slug.
        review.save_edit(context.settings, session, translation, "anna", title="Ganz anderer Titel")
        publication = review.approve(session, context.settings, translation, "anna")
        assert publication.slug == "belarus-analyse"
    with context.database.session() as session:
        assert queries.redirect_target(session, "de", made.slug or "") == "belarus-analyse"
        assert session.scalars(select(SlugHistory.slug)).all() == [made.slug]
        notes = [r.note for r in review.revisions(session, _translation(session, made))]
        assert notes == ["Maschinenübersetzung", "Slug geändert: belarus-analyse", "Bearbeitet", "Freigegeben"]


def test_title_follows_into_slug_of_a_never_published_article_without_editor_slug(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        review.save_edit(context.settings, session, translation, "anna", title="Lukaschenko und der Westen")
        publication = review.approve(session, context.settings, translation, "anna")
        assert publication.slug == "lukaschenko-und-der-westen"


def test_word_diff_escapes_and_marks_changes() -> None:
    assert review.word_diff("Die Katze schläft", "Die Katze <b>wacht</b>") == (
        "Die Katze <del>schläft</del><ins>&lt;b&gt;wacht&lt;/b&gt;</ins>"
    )
    assert review.word_diff("gleich", "gleich") == "gleich"
    # A rewritten passage is one change, not words alternating with the spaces between them.
    assert review.word_diff("Als Alexander Lukaschenko anbot, kam Kritik", "Erster Absatz, kam Kritik") == (
        "<del>Als Alexander Lukaschenko anbot,</del><ins>Erster Absatz,</ins> kam Kritik"
    )


def test_diff_between_revisions(context: AppContext) -> None:
    made = _held(context)
    with context.database.session() as session:
        translation = _translation(session, made)
        review.save_edit(context.settings, session, translation, "anna", paragraphs={2: "Ein Streit über Käse."})
        history = review.revisions(session, translation)
        title, paragraphs = review.diff_revisions(history[0], history[1])
        assert not title.changed
        assert [d.index for d in paragraphs if d.changed] == [2]
        assert "<ins>Käse.</ins>" in paragraphs[2].html and "<del>" in paragraphs[2].html


def test_diff_shows_a_change_of_markup_alone(context: AppContext) -> None:
    linked = 'Ein <a href="https://example.org/bericht">Bericht</a> erschien.'
    made = _held(context, body_de=[Paragraph("p", linked)], body_en=["A report appeared."])
    with context.database.session() as session:
        translation = _translation(session, made)
        review.save_edit(context.settings, session, translation, "anna", paragraphs={0: "Ein Bericht erschien."})
        history = review.revisions(session, translation)
        _, paragraphs = review.diff_revisions(history[0], history[1])
        assert paragraphs[0].changed
        assert "<del>" in paragraphs[0].html and "example.org/bericht" in paragraphs[0].html


def test_revision_one_is_created_once(context: AppContext) -> None:
    made = _held(context, body_de=[Paragraph("p", "Eins."), Paragraph("p", "Zwei.")], body_en=["One.", "Two."])
    with context.database.session() as session:
        translation = _translation(session, made)
        review.ensure_initial_revision(session, translation)
        review.ensure_initial_revision(session, translation)
        assert review.latest_revision_number(session, translation) == 1


class _TruncatingEngine:
    """Drops all but the first word: output the translator's coverage check must refuse."""

    name: str = "kurz"
    model: str | None = None
    max_input_tokens: int = 400

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def translate_batch(self, segments: Sequence[str], source_language: str, target_language: str) -> list[str]:
        return [segment.split()[0] for segment in segments]

    def translate_retry(self, segment: str, source_language: str, target_language: str) -> str:
        return segment.split()[0]

    def is_ready(self) -> tuple[bool, str]:
        return True, "ok"


def test_retranslation_failing_the_coverage_check_is_explained(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def factory(settings: Settings, model: str | None) -> tuple[tuple[str, ...], Callable[[], engines.Engine]]:
        return ("kurz-test",), _TruncatingEngine

    spec = engines.EngineSpec("kurz", "test engine", factory, lambda settings: (True, "ok"))
    monkeypatch.setitem(registry._REGISTRY, "kurz", spec)
    made = _held(context)
    try:
        with context.database.session() as session:
            translation = _translation(session, made)
            before = list(translation.paragraphs)
            with pytest.raises(review.ReviewError) as failure:
                review.retranslate_paragraph(context.settings, session, translation, 1, "anna", "kurz")
            assert str(failure.value).startswith(
                "Die Neuübersetzung von Absatz 2 mit kurz hat die Vollständigkeitsprüfung nicht bestanden"
            )
            assert "bleibt unverändert" in str(failure.value) and "andere Engine" in str(failure.value)
            assert translation.paragraphs == before
    finally:
        engines.clear_engine_cache()


def test_machine_revision_is_dated_to_the_translation_not_to_the_first_opening(context: AppContext) -> None:
    made = _held(context)
    translated = datetime(2024, 2, 13, 8, 0, tzinfo=UTC)
    with context.database.session() as session:
        _translation(session, made).translated_at = translated
    with context.database.session() as session:
        translation = _translation(session, made)
        review.ensure_initial_revision(session, translation)  # the editor opens it, much later
        (first,) = review.revisions(session, translation)
        assert first.created_at == translated


def test_a_published_text_change_is_shown_as_updated(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session))
    assert made.publication_id is not None
    with context.database.session() as session:
        publication = session.get(Publication, made.publication_id)
        assert publication is not None and publication.text_updated_at is None
        view = queries.article_view(session, context.settings, made.publication_id)
        assert view is not None and view.text_updated_at is None
    with context.database.session() as session:
        review.save_edit(
            context.settings, session, _translation(session, made), "anna", paragraphs={0: "Ganz neuer Text hier."}
        )
    with context.database.session() as session:
        view = queries.article_view(session, context.settings, made.publication_id)
        assert view is not None and view.text_updated_at is not None
        assert view.text_updated_at >= view.summary.published_at


def test_retranslation_into_the_draft_leaves_the_live_text(context: AppContext) -> None:
    context.settings.model = str(TINY_MODEL)
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session))
    with context.database.session() as session:
        translation = _translation(session, made)
        live = paragraphs_from_json(translation.paragraphs)
        changed = None
        for index in range(len(live)):
            try:
                assert (
                    review.retranslate_paragraph(context.settings, session, translation, index, "anna", "ct2", True)
                    is None
                )
            except review.ReviewError:
                continue  # random weights: some output fails the coverage check
            changed = index
            break
        assert changed is not None
        assert paragraphs_from_json(translation.paragraphs) == live  # the page is unchanged
        title, draft = review.draft_text(translation)
        assert draft[changed] != live[changed] and title == translation.title
        assert translation.draft is not None and translation.draft["author"] == "anna"


def test_an_edited_title_with_escaped_markup_keeps_its_text(context: AppContext) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings)  # published at once (policy auto)
    typed = "Vergleich: 3 &lt; 5 und &lt;b&gt;fett&lt;/b&gt; &amp; mehr"
    with context.database.session() as session:
        translation = _translation(session, made)
        review.save_edit(context.settings, session, translation, "anna", title=typed)
        assert translation.title == typed  # what was typed; escaped again on output
        assert translation.publication is not None
        view = queries.article_view(session, context.settings, translation.publication.id)
        assert view is not None and view.summary.title == "Vergleich: 3 < 5 und <b>fett</b> & mehr"
        # Unchanged on a second save of the same form.
        assert review.save_edit(context.settings, session, translation, "anna", title=typed) is None


def test_retranslate_uses_the_chosen_memory_engine(context: AppContext) -> None:
    from presseschau.translate.memory import TranslationMemory

    made = _held(context, engine="firefox")
    with context.database.session() as session:
        translation = _translation(session, made)
        source = paragraphs_from_json(translation.article.paragraphs)[0]
    memory = TranslationMemory(context.database, "en", "de")
    memory.import_pairs([(source.html, "Aus dem Speicher: der erste Absatz.")], origin="reviewed")
    with context.database.session() as session:
        translation = _translation(session, made)
        # Chosen explicitly ("gespeicherte Übersetzungen"): used, not replaced by the default engine.
        revision = review.retranslate_paragraph(context.settings, session, translation, 0, "anna", "memory")
        assert revision is not None and revision.note == "Absatz 1 neu übersetzt mit memory"
        assert paragraphs_from_json(translation.paragraphs)[0].html == "Aus dem Speicher: der erste Absatz."


def test_the_first_version_from_the_memory_is_not_called_machine_translation(context: AppContext) -> None:
    made = _held(context, engine="memory", model=None)
    with context.database.session() as session:
        translation = _translation(session, made)
        review.ensure_initial_revision(session, translation)
    with context.database.session() as session:
        first = session.scalars(select(TranslationRevision).order_by(TranslationRevision.id)).first()
        assert first is not None and first.note == "Aus gespeicherten Übersetzungen"


def test_version_diff_shows_a_changed_link_target() -> None:
    def revision(html: str) -> TranslationRevision:
        return TranslationRevision(title="T", paragraphs=[{"kind": "p", "html": html}])

    old = revision('Mehr <a href="https://alt.example/x">in der Analyse</a> und <em>neu</em> geschrieben.')
    new = revision('Mehr <a href="https://neu.example/y">in der Analyse</a> und <em>neu</em> formuliert.')
    _, diffs = review.diff_revisions(old, new)
    assert diffs[0].changed
    assert "<del>https://alt.example/x]</del>" in diffs[0].html and "<ins>https://neu.example/y]</ins>" in diffs[0].html
    assert "<del>geschrieben.</del><ins>formuliert.</ins>" in diffs[0].html
