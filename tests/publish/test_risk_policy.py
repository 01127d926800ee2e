"""`auto-unless-risky`: publish at once unless the quality estimate reaches the source's threshold."""

from __future__ import annotations

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.publish.service import on_translation_done
from presseschau.store.models import Article, Translation
from presseschau.translate.quality import assess_document
from tests.publish.factories import ENGLISH_BODY, GERMAN_BODY, make_article, make_source


def _assessed(context: AppContext, body_de: list[str], threshold: float | None = None) -> Translation:
    with context.database.session() as session:
        source = make_source(session, policy="auto-unless-risky")
        source.risk_threshold = threshold
        made = make_article(session, context.settings, body_de=body_de, source=source, publish=False)
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        article = session.get(Article, made.article_id)
        assert article is not None
        assessment = assess_document(
            [p.text for p in paragraphs_from_json(article.paragraphs)],
            [p.text for p in paragraphs_from_json(translation.paragraphs)],
            "en",
            "de",
        )
        translation.quality, translation.quality_risk = assessment.to_json(), assessment.quality.risk
        on_translation_done(session, translation, context.settings)
        session.flush()
        session.expunge_all()
        return translation


def test_a_clean_translation_is_published_at_once(context: AppContext) -> None:
    translation = _assessed(context, GERMAN_BODY)
    assert translation.publication is not None and translation.publication.status == "published"
    assert translation.quality is not None and translation.quality["held"] is None


def test_a_risky_translation_is_held_with_the_reason(context: AppContext) -> None:
    faulty = [*GERMAN_BODY[:2], ENGLISH_BODY[2], GERMAN_BODY[3]]  # one paragraph left in English
    translation = _assessed(context, faulty)
    assert translation.publication is not None and translation.publication.status == "held"
    assert translation.quality is not None
    assert "Absatz 3: untranslated" in translation.quality["held"]


def test_the_source_threshold_decides(context: AppContext) -> None:
    # A name left out with nothing in its place (Lukaschenko → der Präsident): a weak signal, below the
    # default threshold of 0.5 (a name replaced by another is a flag of its own).
    changed = [GERMAN_BODY[0], GERMAN_BODY[1].replace("Lukaschenko", "der Präsident"), *GERMAN_BODY[2:]]
    lenient = _assessed(context, changed)
    strict = _assessed(context, changed, threshold=0.05)
    assert lenient.quality_risk is not None and 0.05 <= lenient.quality_risk < 0.5
    assert lenient.publication is not None and lenient.publication.status == "published"
    assert strict.publication is not None and strict.publication.status == "held"
    assert strict.quality is not None and strict.quality["held"].startswith("Risiko")
