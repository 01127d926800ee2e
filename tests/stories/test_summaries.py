"""Machine summaries from an OpenAI-compatible endpoint (a local fake server), shown labelled in the review."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from lxml import html as lxml_html
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from presseschau.app import AppContext
from presseschau.store.models import StoryArticle
from presseschau.stories import summaries
from presseschau.web.app import create_app
from tests.stories.story_data import QUAKE, publish_event

SUMMARY = "In der Westtürkei hat ein Erdbeben Gebäude zerstört. <b>Retter</b> suchen nach Verschütteten."


def _answer(request: Request) -> Response:
    body: dict[str, Any] = json.loads(request.data)
    article = body["messages"][1]["content"]
    content = SUMMARY if "Erdbeben" in article or "Retter" in article else ""
    return Response(
        json.dumps({"choices": [{"message": {"content": f"„{content}“\n"}}]}), content_type="application/json"
    )


def test_summaries_are_written_once_and_shown_as_machine_summaries(context: AppContext, httpserver: HTTPServer) -> None:
    assert not summaries.enabled(context.settings)
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(_answer)
    context.settings = context.settings.model_copy(
        update={"llm_base_url": httpserver.url_for("/v1"), "llm_model": "tiny-chat", "engine_max_retries": 0}
    )
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        assert summaries.summarize_pending(session, context.settings) == 2
        assert summaries.summarize_pending(session, context.settings) == 0  # each article once
        stored = session.scalars(select(StoryArticle)).all()
        assert {m.summary for m in stored} == {SUMMARY} and {m.summary_model for m in stored} == {"tiny-chat"}
    page = TestClient(create_app(context)).get("/presseschau/2026/11/09/")
    tree = lxml_html.fromstring(page.text)
    shown = tree.xpath("//p[contains(@class, 'machine-summary')]")
    assert len(shown) == 2
    assert shown[0].text_content().startswith("Maschinelle Zusammenfassung: In der Westtürkei")
    assert not tree.xpath("//li[contains(@class, 'review-entry')]//b")  # the model's markup is text
    feed = TestClient(create_app(context)).get("/presseschau/feed.json").json()
    assert "Maschinelle Zusammenfassung: In der Westtürkei" in feed["items"][0]["content_html"]


def test_a_failing_or_empty_model_leaves_the_teaser(context: AppContext, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions").respond_with_json({"choices": [{"message": {"content": " "}}]})
    context.settings = context.settings.model_copy(
        update={"llm_base_url": httpserver.url_for("/v1"), "llm_model": "tiny-chat", "engine_max_retries": 0}
    )
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        assert summaries.summarize_pending(session, context.settings) == 0
        assert summaries.summarize_pending(session, context.settings) == 0  # not asked again
    page = TestClient(create_app(context)).get("/presseschau/2026/11/09/").text
    # The key passages are shown (or, with nothing distinct to quote, the teaser); no summary.
    assert "Maschinelle Zusammenfassung" not in page and ("teaser-text" in page or "key-passage" in page)
    assert summaries.clean("  „Zwei Sätze.\x01 Hier.“ ") == "Zwei Sätze. Hier."
    assert summaries.clean("x" * 700) is None
