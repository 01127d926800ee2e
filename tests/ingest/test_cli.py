"""The ingest commands through the real CLI (typer's CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.store.models import Article, Publication, Source, Translation
from tests.hostile import RICH_MARKUP_TEXTS

from .conftest import TESTDATA, NewsSite


@pytest.fixture
def cli(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # The loopback test server is a private address; the CLI reads settings from the environment.
    monkeypatch.setenv("PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("PRESSESCHAU_POLITENESS_DELAY_S", "0")
    monkeypatch.setenv("PRESSESCHAU_HTTP_TIMEOUT_S", "0.5")
    return CliRunner()


def run(cli: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = cli.invoke(app, ["--data", str(data_dir), *args])
    return result.exit_code, result.output


def test_sources_add_list_fetch_remove(cli: CliRunner, data_dir: Path, news_site: NewsSite) -> None:
    code, out = run(
        cli, data_dir, "sources", "add", news_site.url("/rss.xml"), "--name", "Courier", "--interval", "600"
    )
    assert code == 0 and "Added source 1: Courier" in out
    code, out = run(cli, data_dir, "sources", "add", news_site.url("/rss.xml"))
    assert code == 1 and "already registered as source 1" in out
    code, out = run(cli, data_dir, "sources", "add", "gopher://old.example/")
    assert code == 1 and "only http and https" in out

    code, out = run(cli, data_dir, "fetch")
    assert code == 0, out
    assert "Polled 1 source(s)" in out and "2 new" in out

    code, out = run(cli, data_dir, "sources", "list")
    assert code == 0 and "Courier" in out and "feed" in out and "ok" in out
    assert " 2 " in out  # article count

    code, out = run(cli, data_dir, "articles", "list")
    assert code == 0 and "Harbour town votes" in out and "translation queued" in out

    code, out = run(cli, data_dir, "sources", "remove", "1")
    assert code == 0 and "articles are kept" in out
    code, out = run(cli, data_dir, "sources", "remove", "1")
    assert code == 1 and "no such source" in out


def test_fetch_fails_only_when_nothing_worked(cli: CliRunner, data_dir: Path, news_site: NewsSite) -> None:
    run(cli, data_dir, "sources", "add", news_site.url("/broken.xml"))
    code, out = run(cli, data_dir, "fetch")
    assert code == 1 and "HTTP 500" in out and "1 failure(s)" in out
    run(cli, data_dir, "sources", "add", news_site.url("/feed.json"))
    code, out = run(cli, data_dir, "fetch")
    assert code == 0 and "1 failure(s)" in out
    code, out = run(cli, data_dir, "sources", "list")
    assert "http_status" in out and "2: " in out  # two failures in a row, with the error


def test_fetch_without_sources(cli: CliRunner, data_dir: Path) -> None:
    code, out = run(cli, data_dir, "fetch")
    assert code == 0 and "no enabled sources" in out


def test_import_show_and_export(cli: CliRunner, data_dir: Path, tmp_path: Path) -> None:
    page = str(TESTDATA / "article-harbour.html")
    code, out = run(cli, data_dir, "import", page, "--url", "https://courier.example/news/harbour")
    assert code == 0 and "1 new" in out and "Article ids: 1" in out
    code, out = run(cli, data_dir, "import", page, "--url", "https://courier.example/news/harbour")
    assert code == 0 and "1 unchanged" in out
    code, out = run(
        cli, data_dir, "import", page, str(TESTDATA / "article-orchard.html"), "--url", "https://x.example/"
    )
    assert code == 1 and "exactly one input" in out

    code, out = run(cli, data_dir, "articles", "show", "1")
    assert code == 0
    assert "Title:     Harbour town votes to rebuild its flooded sea wall" in out
    assert "[h2] Why the old wall failed" in out and "[li] mortar erosion behind the facing stones;" in out
    assert "Translation (de, queued" in out
    # Where the original's date came from is said (a time from the page's metadata here).
    assert "Published: 2024-03-14T09:30:00+00:00 (from meta:article:published_time)" in out

    # Pretend the later stages ran, so the export carries the translation and publication.
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        translation = session.scalars(select(Translation)).one()
        translation.status, translation.engine, translation.model = "done", "memory", "test"
        translation.title = "Hafenstadt stimmt für Neubau ihrer überfluteten Ufermauer"
        translation.paragraphs = [{"kind": "p", "html": "Die Stadträte in Kellsby stimmten am Mittwoch ab."}]
        session.add(
            Publication(translation=translation, language="de", slug="hafenstadt-ufermauer", status="published")
        )
    context.close()

    output = tmp_path / "articles.jsonl"
    code, out = run(cli, data_dir, "articles", "export", "--format", "jsonl", "--output", str(output))
    assert code == 0, out
    (record,) = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert record["id"] == 1 and record["outlet"] == "The Coastal Courier"
    assert record["canonical_url"] == "https://courier.example/news/2024/03/harbour-sea-wall-vote"
    assert record["published_at"] == "2024-03-14T09:30:00+00:00"
    assert (record["published_date_only"], record["published_at_source"]) == (False, "meta:article:published_time")
    assert record["authors"] == ["Miriam Okafor"] and record["language"] == "en"
    assert record["paragraphs"][2] == "Why the old wall failed"
    assert record["paragraphs_html"][2] == {"kind": "h2", "html": "Why the old wall failed"}
    assert record["translation"]["title"].startswith("Hafenstadt") and record["translation"]["engine"] == "memory"
    assert (record["slug"], record["status"]) == ("hafenstadt-ufermauer", "published")

    code, out = run(cli, data_dir, "articles", "export")
    assert code == 0 and json.loads(out.splitlines()[0])["id"] == 1
    code, out = run(cli, data_dir, "articles", "export", "--format", "csv")
    assert code == 1 and "only jsonl" in out


def test_articles_list_failed(cli: CliRunner, data_dir: Path, news_site: NewsSite) -> None:
    run(cli, data_dir, "import", str(TESTDATA / "article-orchard.html"), "--url", "https://ledger.example/a")
    code, out = run(cli, data_dir, "import", news_site.url("/sections"))
    assert code == 1 and "no article text found" in out
    code, out = run(cli, data_dir, "articles", "list", "--failed")
    assert code == 0 and "no_article" in out and "Cider makers" not in out
    code, out = run(cli, data_dir, "articles", "show", "99")
    assert code == 1 and "no such article" in out


def test_sources_add_with_engine(cli: CliRunner, data_dir: Path, news_site: NewsSite) -> None:
    code, out = run(cli, data_dir, "sources", "add", news_site.url("/rss.xml"), "--engine", "no-such-engine")
    assert code == 2 and "unknown engine 'no-such-engine'" in out and "memory" in out
    code, out = run(cli, data_dir, "sources", "add", news_site.url("/rss.xml"), "--engine", "memory")
    assert code == 0, out
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        assert [source.engine for source in session.scalars(select(Source))] == ["memory"]
    context.close()


def test_articles_show_has_the_translation_report_and_usage(cli: CliRunner, data_dir: Path) -> None:
    from tests.publish.factories import make_article

    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        made = make_article(session, context.settings, engine="deepl", model=None)
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        translation.report = {
            "engine": "deepl",
            "segments_total": 12,
            "engine_segments": 12,
            "engine_calls": 2,
            "numbers_missing": [{"paragraph": 1, "numbers": ["42"], "segment": "…"}],
            "usage": {"deepl": {"requests": 2, "characters": 1834}},
        }
    context.close()
    code, out = run(cli, data_dir, "articles", "show", str(made.article_id))
    assert code == 0, out
    assert "Report: 12 segments" in out and "1 segments lost numbers" in out
    assert "Usage deepl: requests 2, characters 1834" in out


@pytest.mark.parametrize(
    "args",
    [
        ["--data", "{data}", "sources", "list"],
        ["sources", "list", "--data", "{data}"],
        ["sources", "--data", "{data}", "list"],
        ["sources", "list", "--data={data}"],
    ],
)
def test_data_option_before_or_after_the_command(cli: CliRunner, tmp_path: Path, args: list[str]) -> None:
    data_dir = tmp_path / "elsewhere"
    result = cli.invoke(app, [arg.format(data=data_dir) for arg in args])
    assert result.exit_code == 0, result.output
    # The database was created in the directory given, wherever --data stood.
    assert (data_dir / "presseschau.sqlite3").is_file()


def test_hoist_global_options_leaves_arguments_after_double_dash() -> None:
    from presseschau.cli import hoist_global_options

    assert hoist_global_options(["demo", "--data", "d", "--port", "1"]) == ["--data", "d", "demo", "--port", "1"]
    assert hoist_global_options(["articles", "show", "--", "--data"]) == ["articles", "show", "--", "--data"]


def test_console_markup_from_outside_is_printed_as_text(
    cli: CliRunner, data_dir: Path, news_site: NewsSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # whole cells, so the texts can be found in the tables
    # Names, titles, links and error reasons from feeds are text: Rich must not read them as markup.
    items = "".join(
        f"<item><title>{escape(title)}</title><link>{escape(news_site.url(path))}</link></item>"
        for title, path in ((RICH_MARKUP_TEXTS[0], "/gone?q=[/x]"), (RICH_MARKUP_TEXTS[3], "/gone2?q=[/x]"))
    )
    feed = f"<rss version='2.0'><channel><title>{escape(RICH_MARKUP_TEXTS[0])}</title>{items}</channel></rss>"
    news_site.serve("/rich.xml", feed, content_type="application/rss+xml")
    news_site.serve("/rich2.xml", feed.replace("gone", "also-gone"), content_type="application/rss+xml")
    assert run(cli, data_dir, "sources", "add", news_site.url("/rich.xml"), "--name", "[/bold]")[0] == 0
    assert run(cli, data_dir, "sources", "add", news_site.url("/rich2.xml"), "--name", RICH_MARKUP_TEXTS[4])[0] == 0
    code, out = run(cli, data_dir, "fetch")
    assert code == 0 and f"{RICH_MARKUP_TEXTS[4]}: 2 entries" in out, out  # the progress note, as text
    # A failed article as a feed may leave it: title, outlet, link and reason all look like markup.
    context = AppContext.for_data_dir(data_dir)
    with context.database.session() as session:
        session.add(
            Article(
                url="https://x.example/a[/x]",
                canonical_url="https://x.example/a[/x]",
                title=RICH_MARKUP_TEXTS[0],
                outlet=RICH_MARKUP_TEXTS[2],
                fetch_status="failed",
                fetch_error="HTTP 500 at https://x.example/a[/x]",
                source_id=1,
            )
        )
    context.close()
    expected = {
        ("sources", "list"): ["[/bold]", RICH_MARKUP_TEXTS[4]],
        ("articles", "list"): [RICH_MARKUP_TEXTS[0], RICH_MARKUP_TEXTS[2], "a[/x]"],
        ("articles", "list", "--failed"): [RICH_MARKUP_TEXTS[0], "a[/x]"],
        ("status",): ["[/bold]", "a[/x]"],
    }
    for args, texts in expected.items():
        result = cli.invoke(app, ["--data", str(data_dir), *args])
        assert result.exit_code == 0, (args, result.output, result.exception)
        for text in texts:
            assert text in result.output, (args, text, result.output)
