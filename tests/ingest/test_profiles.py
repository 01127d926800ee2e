"""Outlet profiles (country, kind of outlet): validated the same way from the CLI, the API, OPML and
the admin form, with an error that names the value and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.ingest import profiles
from presseschau.ingest.errors import InvalidInput
from presseschau.ingest.opml import OpmlError, import_opml
from presseschau.ingest.sources import create_source, update_source
from presseschau.store.models import Source
from presseschau.web.app import create_app
from tests.web.test_api import token


def test_validation_and_german_names() -> None:
    assert profiles.check_country(" gb ") == "GB" and profiles.check_country("") is None
    assert profiles.check_outlet_kind("Think_Tank") == "think-tank" and profiles.check_outlet_kind(None) is None
    for bad in ("XX", "GBR", "EU", "<b>", "g\u202eb"):
        with pytest.raises(profiles.ProfileError, match="ISO 3166-1 alpha-2"):
            profiles.check_country(bad)
    with pytest.raises(profiles.ProfileError, match="expected one of newspaper, magazine"):
        profiles.check_outlet_kind("tabloid")
    assert profiles.profile_text("GB", "newspaper") == "Vereinigtes Königreich, Zeitung"
    assert profiles.profile_text(None, "agency") == "Nachrichtenagentur"
    assert profiles.profile_text(None, None) == ""
    assert profiles.language_name("en") == "Englisch"


def test_service_refuses_and_clears(context: AppContext) -> None:
    source = create_source(
        context.database, context.settings, "https://a.example/feed", country="de", outlet_kind="blog"
    )
    assert (source.country, source.outlet_kind) == ("DE", "blog")
    with pytest.raises(InvalidInput, match=r"source .*unknown country 'Atlantis'"):
        update_source(context.database, source.id, country="Atlantis")
    cleared = update_source(context.database, source.id, country="", outlet_kind="")
    assert (cleared.country, cleared.outlet_kind) == (None, None)


def test_opml_with_an_unknown_kind_adds_nothing(context: AppContext) -> None:
    document = (
        b'<?xml version="1.0"?><opml version="2.0" xmlns:presseschau="urn:presseschau:opml:1"><body>'
        b'<outline type="rss" text="A" xmlUrl="https://a.example/feed" presseschau:country="FR"/>'
        b'<outline type="rss" text="B" xmlUrl="https://b.example/feed" presseschau:outlet-kind="tabloid"/>'
        b"</body></opml>"
    )
    with pytest.raises(OpmlError, match=r"line 1 .*b\.example.*unknown kind of outlet 'tabloid'"):
        import_opml(context.database, context.settings, document, "feeds.opml")
    with context.database.session() as session:
        assert session.scalars(select(Source)).all() == []


def test_cli_add_edit_show(data_dir: Path) -> None:
    cli = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = cli.invoke(app, ["--data", str(data_dir), *args])
        return result.exit_code, result.output

    assert run("init")[0] == 0
    code, out = run("sources", "add", "https://a.example/feed", "--country", "us", "--outlet-kind", "broadcaster")
    assert code == 0, out
    code, out = run("sources", "edit", "1", "--country", "ZZ")
    assert code == 1 and "unknown country 'ZZ'" in out
    code, out = run("sources", "edit", "1", "--outlet-kind", "agency", "--lang", "en-GB")
    assert code == 0, out
    code, out = run("sources", "show", "1")
    assert "Outlet:    country US, kind agency" in out and "language en-gb" in out


def test_api_sets_and_refuses(context: AppContext) -> None:
    with TestClient(create_app(context)) as client:
        admin = token(context, "ops", role="admin", scope="write")
        made = client.post("/api/v1/sources", json={"url": "https://a.example/feed", "country": "ie"}, headers=admin)
        assert made.status_code == 201 and made.json()["country"] == "IE" and made.json()["outlet_kind"] is None
        source_id = made.json()["id"]
        bad = client.patch(f"/api/v1/sources/{source_id}", json={"outlet_kind": "<script>"}, headers=admin)
        assert bad.status_code in (400, 422) and "unknown kind of outlet" in bad.text
        ok = client.patch(f"/api/v1/sources/{source_id}", json={"outlet_kind": "magazine"}, headers=admin)
        assert ok.status_code == 200 and ok.json()["outlet_kind"] == "magazine"
