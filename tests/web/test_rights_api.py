"""Rights through the JSON API and the CLI: a source's reuse settings, validated alike; the
decision per article; widening a source queues a fuller translation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app as cli_app
from presseschau.editorial.tokens import create_token
from presseschau.store.models import Source, Translation
from presseschau.web.app import create_app
from tests.publish.factories import make_article, make_source

API = "/api/v1"


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def _headers(context: AppContext) -> dict[str, str]:
    with context.database.session() as session:
        _, secret = create_token(session, "ops", "admin", "write")
    return {"Authorization": f"Bearer {secret}"}


def test_reuse_settings_through_the_api(client: TestClient, context: AppContext) -> None:
    headers = _headers(context)
    created = client.post(
        f"{API}/sources",
        headers=headers,
        json={"url": "https://paper.example/rss", "reuse": "excerpt", "excerpt_words": 90},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["reuse"], body["excerpt_words"], body["reuse_permission"], body["bilingual"]) == (
        "excerpt",
        90,
        None,
        None,
    )
    source_id = body["id"]
    changed = client.patch(
        f"{API}/sources/{source_id}", headers=headers, json={"reuse": None, "reuse_permission": "Vertrag 2026-11"}
    )
    assert changed.status_code == 200 and changed.json()["reuse"] is None
    assert changed.json()["reuse_permission"] == "Vertrag 2026-11"
    for wrong, reason in (({"reuse": "all"}, "unknown reuse mode 'all'"), ({"excerpt_words": 5}, "outside 20..2000")):
        refused = client.patch(f"{API}/sources/{source_id}", headers=headers, json=wrong)
        assert refused.status_code == 422 and reason in refused.text


def test_widening_a_source_queues_a_fuller_translation(context: AppContext) -> None:
    with context.database.session() as session:
        source = make_source(session, "Narrow")
        source.reuse = "headline"
        made = make_article(session, context.settings, source=source)
        translation = session.get_one(Translation, made.translation_id)
        translation.report = {"reuse": {"mode": "headline", "excerpt_words": 150}}
        source_id = source.id
    runner = CliRunner()
    data = str(context.settings.data_dir)
    result = runner.invoke(cli_app, ["--data", data, "sources", "set", str(source_id), "--reuse", "full"])
    assert result.exit_code == 0, result.output
    assert "reuse full" in result.output and "1 article(s) queued for a fuller translation" in result.output
    with context.database.session() as session:
        assert session.get_one(Translation, made.translation_id).status == "queued"
        assert session.scalars(select(Source.reuse)).one() == "full"
    refused = runner.invoke(cli_app, ["--data", data, "sources", "set", str(source_id), "--reuse", "most"])
    assert refused.exit_code != 0 and "unknown reuse mode 'most'" in refused.output
    shown = runner.invoke(cli_app, ["--data", data, "articles", "show", str(made.article_id)])
    assert "Licence:   not checked" in shown.output and "Reuse:     full" in shown.output
    listed = runner.invoke(cli_app, ["--data", data, "status"])
    assert listed.exit_code == 0 and "full" in listed.output


def test_a_hostile_permission_note_is_inert_and_stays_internal(client: TestClient, context: AppContext) -> None:
    from lxml import html as lxml_html

    from presseschau.editorial.users import add_user

    note = '<script>alert(1)</script>"><img src=x onerror=alert(2)> \u202egnp.exe \x07 J. Doe'
    with context.database.session() as session:
        source = make_source(session, "Erlaubt")
        made = make_article(session, context.settings, source=source)
        source_id = source.id
        add_user(session, "anna", "korrekt pferd batterie", role="admin")
    headers = _headers(context)
    changed = client.patch(
        f"{API}/sources/{source_id}", headers=headers, json={"reuse": "excerpt", "reuse_permission": note}
    )
    assert changed.status_code == 200
    stored = changed.json()["reuse_permission"]
    assert "\u202e" not in stored and "\x07" not in stored and "<script>" in stored  # plain text, kept
    page = client.get(f"/{made.slug}/").text
    assert "J. Doe" not in page and "Erlaubnis des Mediums liegt vor" in page
    login = client.get("/admin/anmelden").text
    token = login.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"name": "anna", "passwort": "korrekt pferd batterie", "csrf_token": token}
    client.post("/admin/anmelden", data=form)
    tree = lxml_html.fromstring(client.get(f"/admin/quellen/{source_id}").text)
    assert not tree.xpath("//img | //*[@onerror] | //script")
    assert tree.xpath(f"//input[@id='q{source_id}-erlaubnis']/@value") == [stored]
