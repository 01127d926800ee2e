"""Machine-written story intros from an OpenAI-compatible endpoint (a local fake server): once per
story with several outlets, labelled on the page, in the feeds and the newsletter's text; a merge
asks again."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from lxml import html as lxml_html
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from presseschau.app import AppContext
from presseschau.stories import intros, service
from presseschau.web.app import create_app
from tests.stories.story_data import QUAKE, STARSHIP, publish_event

INTRO = "Ein Beben hat die Westtürkei erschüttert. <i>Die Berichte</i> unterscheiden sich bei den Opferzahlen."


def _answer(request: Request) -> Response:
    body: dict[str, Any] = json.loads(request.data)
    asked = body["messages"][1]["content"]
    assert "## Meridian Post:" in asked and "## Harbour Ledger:" in asked  # each outlet with its article
    return Response(json.dumps({"choices": [{"message": {"content": INTRO}}]}), content_type="application/json")


def test_intros_are_written_once_per_story_and_labelled(context: AppContext, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(_answer)
    with context.database.session() as session:
        assert intros.introduce_pending(session, context.settings) == 0  # no LLM configured
    context.settings = context.settings.model_copy(
        update={"llm_base_url": httpserver.url_for("/v1"), "llm_model": "tiny-chat", "engine_max_retries": 0}
    )
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
        publish_event(session, context.settings, STARSHIP[:1])  # one outlet: no intro
        assert intros.introduce_pending(session, context.settings) == 1
        assert intros.introduce_pending(session, context.settings) == 0  # once
    client = TestClient(create_app(context))
    page = lxml_html.fromstring(client.get("/presseschau/2026/11/09/").text)
    (shown,) = page.xpath("//p[contains(@class, 'machine-intro')]")
    assert shown.text_content().startswith("Maschinell verfasste Einleitung: Ein Beben")
    assert "<i>Die Berichte</i>" in shown.text_content() and not page.xpath("//p[contains(@class,'machine-intro')]//i")
    feed = client.get("/presseschau/feed.json").json()
    assert "Maschinell verfasste Einleitung:" in feed["items"][0]["content_html"]
    assert "&lt;i&gt;Die Berichte" in feed["items"][0]["content_html"]
    with context.database.session() as session:
        first, second = (
            item.story.id for item in service.review(session, context.settings, service.parse_day("2026-11-09"))
        )
        merged = service.merge(session, first, [second], "anna")
        assert merged.intro is None  # written afresh for the merged story
        assert intros.introduce_pending(session, context.settings) == 1
