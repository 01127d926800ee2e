"""Articles queued for translation, for the queue's and the Celery tasks' tests."""

from __future__ import annotations

from presseschau.app import AppContext
from presseschau.store.models import Article
from presseschau.store.queue import enqueue_translation


def queued_articles(context: AppContext, count: int = 1) -> list[int]:
    """`count` bare articles, each with a queued German translation; their ids."""
    ids = []
    with context.database.session() as session:
        for i in range(count):
            article = Article(url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}", revision=1)
            session.add(article)
            session.flush()
            enqueue_translation(session, article, "de")
            ids.append(article.id)
    return ids
