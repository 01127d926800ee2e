"""The two steps that join a stage to publishing: fetch and publish, translate and publish.

Ingest and translate sit below publishing, so they take what happens to a finished translation
as a value (`on_done`). These two functions are the only places that hand them the publish
stage's `publisher`; every entry point (the CLI, `run`, the Celery workers, the JSON API, the
demo) calls one of them instead of wiring the callback itself.

This module imports only the stages below the web layer (`tests/test_layers.py` ranks it there),
so the web API may call it although the rest of `presseschau.pipeline` serves the web app.
"""

from __future__ import annotations

import httpx

from presseschau.config import Settings
from presseschau.ingest.polling import FetchReport, fetch_sources
from presseschau.progress import Progress
from presseschau.publish.service import publisher
from presseschau.store.db import Database
from presseschau.translate.queue import TranslateRunReport, translate_queued


def fetch_and_publish(
    database: Database,
    settings: Settings,
    source_id: int | None = None,
    due_only: bool = False,
    progress: Progress | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> FetchReport:
    """Poll sources (`fetch_sources`); an article published as its original text is published
    (or held) by its source's policy in the transaction that stores it."""
    return fetch_sources(
        database,
        settings,
        source_id=source_id,
        due_only=due_only,
        progress=progress,
        transport=transport,
        on_done=publisher(settings),
    )


def translate_and_publish(
    database: Database,
    settings: Settings,
    limit: int | None = None,
    engine_name: str | None = None,
    model: str | None = None,
    owner: str | None = None,
    progress: Progress | None = None,
) -> TranslateRunReport:
    """Translate queued articles (`translate_queued`); each finished one is published (or held)
    by its source's policy in the transaction that marks it done."""
    return translate_queued(
        database,
        settings,
        limit=limit,
        engine_name=engine_name,
        model=model,
        owner=owner,
        progress=progress,
        on_done=publisher(settings),
    )
