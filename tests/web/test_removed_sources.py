"""Source IDs are public (/quelle/N/ and its feeds): never reused, and a removed source's pages
answer 410 Gone (issue 22, item 14)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from presseschau.app import AppContext
from presseschau.ingest.sources import create_source, remove_source
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_source


def test_a_removed_sources_id_is_never_given_to_the_next_one(context: AppContext) -> None:
    first = create_source(context.database, context.settings, "https://one.example/feed.xml", name="One")
    newest = create_source(context.database, context.settings, "https://two.example/feed.xml", name="Two")
    remove_source(context.database, newest.id)
    third = create_source(context.database, context.settings, "https://three.example/feed.xml", name="Three")
    assert third.id > newest.id > first.id


def test_a_removed_sources_pages_and_feeds_answer_410(context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, "Removed Times")
        make_article(session, context.settings, source=source)
        source_id = source.id
    with TestClient(create_app(context), follow_redirects=False) as client:
        assert client.get(f"/quelle/{source_id}/").status_code == 200
        remove_source(context.database, source_id)
        page = client.get(f"/quelle/{source_id}/")
        assert page.status_code == 410 and "Quelle entfernt" in page.text
        assert client.get(f"/quelle/{source_id}/feed.xml").status_code == 410
        assert client.get(f"/quelle/{source_id + 1000}/").status_code == 404
