"""OPML import and export: categories as tags, duplicates, malformed files, the round trip, the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.ingest.filters import build_filters
from presseschau.ingest.opml import OpmlError, export_opml, import_opml
from presseschau.ingest.sources import create_source
from presseschau.store.models import Source
from presseschau.translate.source_checks import SOURCE_CHECKS

FEEDLY_STYLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="Europe">
        <outline type="rss" text="Euro Daily" xmlUrl="https://euro.example/rss" htmlUrl="https://euro.example/"/>
        <outline type="rss" text="Euro Daily again" xmlUrl="https://EURO.example/rss"/>
      </outline>
      <outline type="rss" title="Wire" xmlUrl="https://wire.example/atom.xml" category="/Agencies,Breaking"/>
    </outline>
    <outline type="rss" text="Loose" xmlUrl="https://loose.example/feed.json"/>
    <outline type="link" text="Just a link" url="https://example.org/"/>
  </body>
</opml>
"""


def sources(context: AppContext) -> list[Source]:
    with context.database.session() as session:
        return list(session.scalars(select(Source).order_by(Source.id)))


def settings_of(source: Source) -> dict[str, Any]:
    return {
        "url": source.url,
        "name": source.name,
        "language": source.language,
        "kind": source.kind,
        "enabled": source.enabled,
        "poll_interval_s": source.poll_interval_s,
        "publish_policy": source.publish_policy,
        "engine": source.engine,
        "glossary": source.glossary,
        "tags": source.tags,
        "filters": source.filters,
        "country": source.country,
        "outlet_kind": source.outlet_kind,
    }


@pytest.fixture
def other_context(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext.for_data_dir(tmp_path / "empty-data")
    yield context
    context.close()


def test_nested_outlines_become_tags_and_duplicates_are_reported(context: AppContext) -> None:
    create_source(context.database, context.settings, "https://loose.example/feed.json", name="Registered before")
    report = import_opml(context.database, context.settings, FEEDLY_STYLE, "subscriptions.opml")
    assert [(name, url) for _, name, url in report.added] == [
        ("Euro Daily", "https://euro.example/rss"),
        ("Wire", "https://wire.example/atom.xml"),
    ]
    assert report.duplicates == [
        ("https://EURO.example/rss", "listed twice in the file (lines 7 and 8)"),
        ("https://loose.example/feed.json", "already registered as source 1 (Registered before)"),
    ]
    by_name = {source.name: source for source in sources(context)}
    assert by_name["Euro Daily"].tags == ["News/Europe"]
    assert by_name["Wire"].tags == ["News", "Agencies", "Breaking"]
    assert by_name["Registered before"].tags is None
    # Defaults for what a foreign file does not say.
    assert (by_name["Wire"].poll_interval_s, by_name["Wire"].publish_policy) == (
        context.settings.default_poll_interval_s,
        context.settings.default_publish_policy,
    )


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "the file is empty"),
        (b"<opml><body><outline text='x'", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML document (the root element is <rss>"),
        (b"<opml version='2.0'><head/></opml>", "an OPML document without <body>"),
        (b"<opml version='2.0'><body><outline text='Folder'/></body></opml>", "no feed outlines"),
        (
            b"<opml version='2.0'><body>\n<outline xmlUrl='https://ok.example/rss'/>\n"
            b"<outline xmlUrl='ftp://files.example/feed'/></body></opml>",
            "line 3 (ftp://files.example/feed): scheme 'ftp' not allowed",
        ),
        (
            b"<opml version='2.0' xmlns:p='urn:presseschau:opml:1'><body>"
            b"<outline xmlUrl='https://ok.example/rss' p:interval='often'/></body></opml>",
            "line 1 (https://ok.example/rss): invalid literal for int()",
        ),
        (
            b"<opml version='2.0' xmlns:p='urn:presseschau:opml:1'><body>"
            b"<outline xmlUrl='https://ok.example/rss' p:filters='{\"include\": [\"/(a/\"]}'/></body></opml>",
            "invalid regular expression",
        ),
    ],
)
def test_a_malformed_file_gives_one_error_and_adds_nothing(context: AppContext, document: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match="bad.opml: .*" + re.escape(message)):
        import_opml(context.database, context.settings, document, "bad.opml")
    assert sources(context) == []


def test_external_entities_are_refused_not_resolved(context: AppContext, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    document = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<opml version="2.0"><body><outline text="&x;" xmlUrl="https://ok.example/rss"/></body></opml>'
    ).encode()
    with pytest.raises(OpmlError, match=r"entity\.opml: not well-formed XML .*external entity") as caught:
        import_opml(context.database, context.settings, document, "entity.opml")
    assert "TOP-SECRET" not in str(caught.value)
    assert sources(context) == []


def test_round_trip_into_an_empty_data_directory(context: AppContext, other_context: AppContext) -> None:
    create_source(
        context.database,
        context.settings,
        "https://paper.example/rss.xml",
        name='Paper <&> "Quotes"',
        poll_interval_s=600,
        publish_policy="review",
        engine="deepl",
        glossary={"Kyiv": "Kiew", "NATO": "NATO"},
        checks=SOURCE_CHECKS,
        tags=["News/Europe", "Daily"],
        country="gb",
        outlet_kind="think tank",
        filters=build_filters(
            include=["Ukraine", "title:/\\bKyiv\\b/"], exclude=["url:/sport/"], min_words=80, target_language="publish"
        ),
    )
    create_source(
        context.database,
        context.settings,
        "https://sitemap.example/news.xml",
        kind="sitemap",
        language="fr",
        enabled=False,
    )
    create_source(context.database, context.settings, "https://plain.example/feed", tags=["News/Europe"])
    exported = export_opml(context.database, context.settings)

    report = import_opml(other_context.database, other_context.settings, exported, "export.opml", checks=SOURCE_CHECKS)
    assert len(report.added) == 3 and report.duplicates == []
    # The same sources with the same settings (ids follow the file's folder order).
    imported = sorted((settings_of(s) for s in sources(other_context)), key=lambda row: row["url"])
    assert imported == sorted((settings_of(s) for s in sources(context)), key=lambda row: row["url"])
    assert (imported[0]["country"], imported[0]["outlet_kind"]) == ("GB", "think-tank")
    assert imported[0]["filters"] == {
        "include": ["Ukraine", "title:/\\bKyiv\\b/"],
        "exclude": ["url:/sport/"],
        "min_words": 80,
        "target_language": "publish",
    }
    # A second export is the same document (apart from its creation time).
    again = export_opml(other_context.database, other_context.settings).split(b"</head>")[1]
    assert again == exported.split(b"</head>")[1]


def test_cli_import_and_export(context: AppContext, data_dir: Path, tmp_path: Path) -> None:
    cli = CliRunner()
    opml = tmp_path / "subs.opml"
    opml.write_bytes(FEEDLY_STYLE)
    result = cli.invoke(app, ["--data", str(data_dir), "sources", "import", str(opml)])
    assert result.exit_code == 0, result.output
    assert "Added 3 source(s), 1 duplicate(s) not added." in result.output
    assert "= https://EURO.example/rss: listed twice in the file" in result.output

    bad = tmp_path / "bad.opml"
    bad.write_bytes(b"<html><body>not opml</body></html>")
    result = cli.invoke(app, ["--data", str(data_dir), "sources", "import", str(bad)])
    assert result.exit_code == 1
    assert "not an OPML document" in result.output and "(nothing was added)" in result.output

    target = tmp_path / "out.opml"
    result = cli.invoke(app, ["--data", str(data_dir), "sources", "export", "--output", str(target)])
    assert result.exit_code == 0
    assert target.read_bytes().count(b"xmlUrl=") == 3
    result = cli.invoke(app, ["--data", str(data_dir), "sources", "export"])
    assert result.exit_code == 0 and result.stdout_bytes.startswith(b"<?xml") and b"Euro Daily" in result.stdout_bytes


def test_a_private_address_is_refused_as_by_sources_add(other_context: AppContext) -> None:
    document = (
        b"<opml version='2.0'><body>\n<outline xmlUrl='https://ok.example/rss'/>\n"
        b"<outline text='Intranet' xmlUrl='http://127.0.0.1:8080/feed'/>\n</body></opml>"
    )
    with pytest.raises(OpmlError, match=r"line 3 \(http://127\.0\.0\.1:8080/feed\): host '127\.0\.0\.1' resolves to"):
        import_opml(other_context.database, other_context.settings, document, "intranet.opml")
    assert sources(other_context) == []


def test_an_entity_expansion_bomb_is_refused(context: AppContext) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    document = (
        f'<?xml version="1.0"?><!DOCTYPE opml [{entities}]>'
        '<opml version="2.0"><body><outline text="&a9;" xmlUrl="https://x.example/"/></body></opml>'
    ).encode()
    with pytest.raises(OpmlError, match=r"bomb\.opml: not well-formed XML"):
        import_opml(context.database, context.settings, document, "bomb.opml")
    assert sources(context) == []


def test_reuse_settings_travel_through_opml(context: AppContext, other_context: AppContext) -> None:
    create_source(
        context.database,
        context.settings,
        "https://wire.example/rss",
        reuse="excerpt",
        excerpt_words=80,
        reuse_permission='Mail von <b>Jo</b> "Doe", 2026-12-01',
        bilingual=False,
    )
    exported = export_opml(context.database, context.settings)
    assert b'presseschau:reuse="excerpt"' in exported
    import_opml(other_context.database, other_context.settings, exported, "export.opml")
    (source,) = sources(other_context)
    assert (source.reuse, source.excerpt_words, source.bilingual) == ("excerpt", 80, False)
    assert source.reuse_permission == 'Mail von <b>Jo</b> "Doe", 2026-12-01'  # plain text, kept as given


def test_an_unknown_reuse_mode_in_opml_is_refused_by_line(context: AppContext) -> None:
    document = (
        b'<opml version="2.0" xmlns:presseschau="urn:presseschau:opml:1"><body>'
        b'<outline text="A" xmlUrl="https://a.example/rss" presseschau:reuse="all"/></body></opml>'
    )
    with pytest.raises(OpmlError, match=r"line 1 .*unknown reuse mode 'all'"):
        import_opml(context.database, context.settings, document, "bad.opml")
    assert sources(context) == []
