"""The bundled demo articles, imported, translated from their human German versions and published:
the set a new user sees after `presseschau demo`, for tests of what readers see."""

from __future__ import annotations

from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.pipeline.demo import attach_sample_sources, load_samples, memory_pairs
from presseschau.store.models import Article, Publication, Translation


def load_demo_site(context: AppContext) -> dict[str, str]:
    """Publish the demo set in `context`; returns {sample URL: published slug}."""
    from presseschau.ingest.importing import import_inputs
    from presseschau.publish.service import publisher
    from presseschau.translate.memory import TranslationMemory
    from presseschau.translate.queue import translate_queued

    settings = context.settings
    samples = load_samples()
    memory = TranslationMemory(context.database, settings.source_language, settings.target_language)
    memory.import_pairs(memory_pairs(samples), origin="import")
    for sample in samples:
        import_inputs(context.database, context.settings, [str(sample.english)], original_url=sample.url)
    attach_sample_sources(context)
    # Published each by its source's policy, as by every entry point.
    translate_queued(context.database, context.settings, engine_name="memory", on_done=publisher(settings))
    with context.database.session() as session:
        rows = session.execute(
            select(Article.canonical_url, Publication.slug)
            .join(Translation, Translation.article_id == Article.id)
            .join(Publication, Publication.translation_id == Translation.id)
            .where(Publication.status == "published")
        ).all()
    slugs = {str(url): str(slug) for url, slug in rows}
    assert len(slugs) == len(samples), f"only {len(slugs)} of {len(samples)} demo articles were published"
    return slugs
