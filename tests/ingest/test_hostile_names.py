"""Control characters, ESC sequences and bidi overrides in source names and URLs (issue 22, items 5,
9 and 13): the same outcome from every entry point that writes them (CLI, admin, API, OPML), and
every reader (sources list/show, OPML export, the admin download) takes what older versions stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.editorial.users import add_user
from presseschau.ingest.opml import OpmlError, export_opml, import_opml
from presseschau.store.models import Source, User
from presseschau.text import balance_bidi, clean_text, isolate_bidi, terminal_safe
from presseschau.web.app import create_app
from tests.web.test_admin_sources import PASSWORD, login
from tests.web.test_api import token

ESC_TITLE = "Times\x1b]0;gehackt\x07 Daily"
RLO = "Evil \u202eemiT"
NAMES = ("a\x00b", "ctl\x01name", ESC_TITLE, "C1\x9b2J name", RLO, "Zeile\nzwei\tTab")


def admin_client(context: AppContext) -> TestClient:
    with context.database.session() as session:
        if session.scalars(select(User).where(User.name == "anna")).first() is None:
            add_user(session, "anna", PASSWORD, role="admin")
    return TestClient(create_app(context), follow_redirects=False)


def stored_names(context: AppContext) -> list[str]:
    with context.database.session() as session:
        return [source.name for source in session.scalars(select(Source).order_by(Source.id))]


def assert_clean(name: str) -> None:
    assert all(ord(char) >= 0x20 and not 0x7F <= ord(char) <= 0x9F for char in name), repr(name)
    assert balance_bidi(name) == name, repr(name)


def test_clean_text_and_its_siblings() -> None:
    assert clean_text("a\x00b") == "ab"
    assert clean_text(ESC_TITLE) == "Times]0;gehackt Daily"
    assert clean_text("  Zeile\nzwei\tTab ") == "Zeile zwei Tab"
    assert clean_text(RLO) == RLO + "\u202c"  # closed, so nothing after the name is reversed
    assert clean_text("x\u202c\u2069y") == "xy"  # closers without an opener
    assert clean_text("\ud800name") == "name"
    assert isolate_bidi(RLO) == "\u2068" + RLO + "\u202c\u2069"
    assert isolate_bidi("plain") == "plain"
    assert terminal_safe(ESC_TITLE) == "Times\\x1b]0;gehackt\\x07 Daily"
    assert "\x1b" not in terminal_safe("\x1b[2J") and terminal_safe("a\nb") == "a\nb"


def test_every_entry_point_stores_clean_names(context: AppContext, data_dir: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    for n, name in enumerate(NAMES):
        result = cli.invoke(
            app, ["--data", str(data_dir), "sources", "add", f"https://cli{n}.example/feed", "--name", name]
        )
        assert result.exit_code == 0, result.output
    with admin_client(context) as client:
        writer = token(context, "admin", role="admin", scope="write")
        for n, name in enumerate(NAMES):
            answer = client.post(
                "/api/v1/sources", headers=writer, json={"url": f"https://api{n}.example/f", "name": name}
            )
            assert answer.status_code == 201, answer.text
            assert_clean(answer.json()["name"])
        csrf = login(client)
        for n, name in enumerate(NAMES):
            form = {"csrf_token": csrf, "url": f"https://admin{n}.example/rss", "name": name, "intervall": "15"}
            assert client.post("/admin/quellen", data={**form, "regel": "auto"}).status_code in (200, 303)
    outlines = "".join(
        f"<outline type='rss' text='{name.replace(chr(10), '&#10;')}' xmlUrl='https://opml{n}.example/rss'/>"
        for n, name in enumerate(["Evil \u202eemiT", "Tab\there"])
    )
    import_opml(context.database, context.settings, f"<opml version='2.0'><body>{outlines}</body></opml>".encode(), "x")
    names = stored_names(context)
    assert len(names) == 3 * len(NAMES) + 2
    for name in names:
        assert_clean(name)


def test_urls_with_control_characters_are_refused(context: AppContext, data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["--data", str(data_dir), "sources", "add", "https://x.example/\x1b[2Jfeed"])
    assert result.exit_code != 0 and "control character U+001B" in result.output
    assert "\x1b" not in result.output and "Traceback" not in result.output


@pytest.fixture
def dirty(context: AppContext) -> Iterator[AppContext]:
    """Names as older versions stored them (no cleaning at the write)."""
    with context.database.session() as session:
        for n, name in enumerate(NAMES):
            session.add(Source(url=f"https://old{n}.example/feed", name=name, kind="feed"))
    yield context


def test_what_older_versions_stored_is_read_and_printed_safely(dirty: AppContext, data_dir: Path) -> None:
    cli = CliRunner()
    listing = cli.invoke(app, ["--data", str(data_dir), "sources", "list"])
    assert listing.exit_code == 0, listing.output
    shown = cli.invoke(app, ["--data", str(data_dir), "sources", "show", "3"])
    assert shown.exit_code == 0, shown.output
    for output in (listing.stdout, shown.stdout):
        assert "\x1b" not in output and "\x07" not in output and "\x00" not in output and "\x9b" not in output
        assert "\u202e" not in output or output.count("\u202e") <= output.count("\u202c")
    exported = cli.invoke(app, ["--data", str(data_dir), "sources", "export"])
    assert exported.exit_code == 0 and exported.stdout_bytes.count(b"xmlUrl=") == len(NAMES)
    assert b"\x00" not in export_opml(dirty.database, dirty.settings)
    with admin_client(dirty) as client:
        login(client)
        assert client.get("/admin/opml").status_code == 200


@pytest.mark.parametrize(
    ("attribute", "value", "message"),
    [
        ("glossary", "[" * 100_000 + "]" * 100_000, "presseschau:glossary: JSON nested too deeply"),
        ("filters", "[" * 100_000 + "]" * 100_000, "presseschau:filters: JSON nested too deeply"),
        ("filters", '{"include": [5]}', "include rule 5: expected text"),
        ("filters", '{"min_words": 1e999}', "whole number"),
        ("glossary", '{"a": 5}', "glossary additions must map"),
    ],
)
def test_opml_settings_that_cannot_be_read_are_one_clear_error(
    context: AppContext, data_dir: Path, tmp_path: Path, attribute: str, value: str, message: str
) -> None:
    document = (
        "<opml version='2.0' xmlns:p='urn:presseschau:opml:1'><body>"
        f"<outline xmlUrl='https://ok.example/rss' p:{attribute}='{value}'/></body></opml>"
    ).encode()
    with pytest.raises(OpmlError, match=message):
        import_opml(context.database, context.settings, document, "bad.opml")
    path = tmp_path / "bad.opml"
    path.write_bytes(document)
    result = CliRunner().invoke(app, ["--data", str(data_dir), "sources", "import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output and message.split(":")[0] in result.output
    with admin_client(context) as client:
        csrf = login(client)
        answer = client.post(
            "/admin/opml", data={"csrf_token": csrf}, files={"datei": ("bad.opml", document, "text/x-opml")}
        )
        assert answer.status_code == 400
    assert stored_names(context) == []
