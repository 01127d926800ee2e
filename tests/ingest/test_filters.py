"""Per-source filters: rule syntax, a catastrophic regular expression, holding, releasing, refiltering."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from presseschau.app import AppContext
from presseschau.cli import app
from presseschau.editorial.articles import release_article, retranslate_article
from presseschau.ingest.errors import InvalidInput
from presseschau.ingest.extract import extract_article
from presseschau.ingest.filters import FilterError, build_filters, parse_rule, screen
from presseschau.ingest.polling import fetch_sources
from presseschau.ingest.sources import add_source, create_source, refilter_source, update_source
from presseschau.ingest.storing import store_extracted
from presseschau.publish.formatting import translation_notice
from presseschau.publish.service import publisher
from presseschau.store.models import Article, Publication, Source, Translation
from presseschau.translate.source_checks import SOURCE_CHECKS

from .conftest import NewsSite, fixture_text

HARBOUR_TITLE = "Harbour town votes to rebuild its flooded sea wall"
# Backtracks exponentially on a run of a's that does not end the text: the time limit must stop it.
CATASTROPHIC = "/(a|aa)+$/"


def values(title: str = "", body: str = "", author: str = "", url: str = "") -> dict[str, str]:
    return {"title": title, "body": body, "author": author, "url": url}


def test_words_and_phrases_match_whole_words_case_insensitively() -> None:
    rule = parse_rule("Ukraine")
    assert rule.search(values(title="War in UKRAINE")) == "title"
    assert rule.search(values(body="Ukrainian grain")) is None
    phrase = parse_rule("climate  change")
    assert phrase.search(values(body="on climate\nchange today")) == "body"
    assert phrase.search(values(body="climate-change")) is None
    # The default fields are title and body; a prefix picks one field.
    assert parse_rule("Sport").search(values(author="Sport Desk")) is None
    assert parse_rule("author:sport desk").search(values(author="The Sport Desk")) == "author"
    assert parse_rule("url:/\\/sport\\//").search(values(url="https://x.example/sport/1")) == "url"
    assert parse_rule("/ukr.ine/").search(values(title="UKRAINE")) == "title"
    # An unknown prefix is part of the phrase, not a field.
    assert parse_rule("Note: this").search(values(title="Note: this matters")) == "title"


def test_unusable_rules_are_refused_with_their_text() -> None:
    with pytest.raises(FilterError, match=r"'/\(unclosed/': invalid regular expression"):
        parse_rule("/(unclosed/")
    with pytest.raises(FilterError, match="matches every text"):
        parse_rule("title:/.*/")
    with pytest.raises(FilterError, match="nothing to match after title:"):
        parse_rule("title:")
    with pytest.raises(FilterError, match="expected skip or publish"):
        build_filters(target_language="translate")
    with pytest.raises(FilterError, match="minimum length -1"):
        build_filters(min_words=-1)


def test_a_catastrophic_regular_expression_is_stopped_and_holds_the_article() -> None:
    filters = build_filters(exclude=[f"url:{CATASTROPHIC}"])
    hostile = values(title="Harmless", url="https://x.example/" + "a" * 64 + "!")
    reason = screen(filters, hostile)
    assert reason is not None and CATASTROPHIC in reason and "ran out of time" in reason
    # The same rule on a text it handles quickly simply does not match.
    assert screen(filters, values(title="Harmless", url="https://x.example/b")) is None


def test_all_rules_of_an_article_share_one_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """100 backtracking rules each stopped at its own limit took 30 s per article: the rules of one
    article share FILTER_BUDGET_S; each search gets at most what is left, none once it is spent."""
    from presseschau.ingest import filters as filters_module

    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])  # the clock the filters read
    given: list[float] = []

    class SlowPattern:
        def search(self, value: str, timeout: float) -> None:
            given.append(timeout)
            clock[0] += timeout  # each search runs until its limit, as a backtracking one does
            raise TimeoutError

    rules = build_filters(include=[f"/(.*a){{3}}z{n}/" for n in range(100)])
    slow = filters_module.SourceFilters(
        tuple(filters_module.Rule(rule.text, rule.fields, SlowPattern()) for rule in rules.include)  # type: ignore[arg-type]  # a stand-in for regex.Pattern
    )
    reason = screen(slow, values(title="a" * 400, body="a" * 400))
    assert reason is not None and "ran out of time" in reason
    assert sum(given) <= filters_module.FILTER_BUDGET_S + 1e-9
    assert all(timeout <= filters_module.REGEX_TIMEOUT_S for timeout in given)
    with pytest.raises(FilterError, match="at most 100 filter rules"):
        build_filters(include=[f"rule{n}" for n in range(101)])


def test_rules_that_are_not_text_are_refused_with_a_clear_error() -> None:
    with pytest.raises(FilterError, match="include rule 5: expected text"):
        build_filters(include=[5])  # type: ignore[list-item]  # the wrong type is the test
    with pytest.raises(FilterError, match="exclude rules: expected a list"):
        build_filters(exclude="Sport")
    with pytest.raises(FilterError, match="whole number"):
        build_filters(min_words="5")  # type: ignore[arg-type]  # the wrong type is the test


def test_exclude_include_and_minimum_length_reasons() -> None:
    filters = build_filters(include=["Ukraine", "Russia"], exclude=["title:Sport"], min_words=5)
    assert screen(filters, values(title="Sport: Ukraine wins", body="a b c d e f")) == (
        "exclude rule 'title:Sport' matched the title"
    )
    assert screen(filters, values(title="Weather", body="a b c d e f")) == (
        "no include rule matched ('Ukraine', 'Russia')"
    )
    assert screen(filters, values(title="Russia", body="too short")) == "2 words, fewer than the minimum of 5"
    assert screen(filters, values(title="Russia", body="long enough for the rule")) is None


def _states(context: AppContext) -> dict[str, tuple[str, str | None, str | None]]:
    with context.database.session() as session:
        result = {}
        for article in session.scalars(select(Article)):
            translation = session.scalars(select(Translation).where(Translation.article_id == article.id)).first()
            key = (article.title or article.url).split()[0]
            result[key] = (article.fetch_status, article.filter_reason, translation.status if translation else None)
        return result


def test_a_filtered_article_is_stored_not_queued_and_released_by_hand(
    news_site: NewsSite, ingest_context: AppContext
) -> None:
    source = add_source(
        ingest_context.database,
        ingest_context.settings,
        news_site.url("/rss.xml"),
        filters=build_filters(exclude=["title:sea wall"]),
    )
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert (report.articles_new, report.filtered) == (1, 1)
    states = _states(ingest_context)
    assert states["Harbour"] == ("filtered", "exclude rule 'title:sea wall' matched the title", None)
    assert states["Cider"][0::2] == ("ok", "queued")

    # The next poll changes nothing: a held article is stored content, not a failure to retry.
    again = fetch_sources(ingest_context.database, ingest_context.settings)
    assert (again.articles_new, again.filtered, again.failures) == (0, 0, [])

    with ingest_context.database.session() as session:
        harbour = session.scalars(select(Article).where(Article.title == HARBOUR_TITLE)).one()
    release_article(ingest_context.database, ingest_context.settings, harbour.id, "anna")
    assert _states(ingest_context)["Harbour"] == ("ok", "exclude rule 'title:sea wall' matched the title", "queued")
    with pytest.raises(InvalidInput, match="is not held by a filter"):
        release_article(ingest_context.database, ingest_context.settings, harbour.id, "anna")
    # Released means released: a refilter leaves it alone.
    assert refilter_source(ingest_context.database, ingest_context.settings, source.id).held == 0


def test_rule_changes_touch_nothing_stored_until_refilter(news_site: NewsSite, ingest_context: AppContext) -> None:
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/rss.xml"))
    fetch_sources(ingest_context.database, ingest_context.settings)
    assert {state[0] for state in _states(ingest_context).values()} == {"ok"}

    update_source(ingest_context.database, source.id, filters=build_filters(include=["apple"]))
    assert {state[0] for state in _states(ingest_context).values()} == {"ok"}

    report = refilter_source(ingest_context.database, ingest_context.settings, source.id)
    assert (report.held, report.released) == (1, 0)
    states = _states(ingest_context)
    assert states["Harbour"] == ("filtered", "no include rule matched ('apple')", None)  # queued work withdrawn
    assert states["Cider"][0::2] == ("ok", "queued")

    update_source(ingest_context.database, source.id, filters=build_filters(include=["apple", "sea wall"]))
    report = refilter_source(ingest_context.database, ingest_context.settings, source.id)
    assert (report.held, report.released) == (0, 1)
    assert _states(ingest_context)["Harbour"] == ("ok", None, "queued")


def test_every_entry_point_validates_the_same_way(ingest_context: AppContext) -> None:
    with pytest.raises(InvalidInput, match="poll interval 30 s"):
        create_source(ingest_context.database, ingest_context.settings, "https://a.example/feed", poll_interval_s=30)
    source = create_source(ingest_context.database, ingest_context.settings, "https://a.example/feed")
    with pytest.raises(InvalidInput, match="unknown engine 'babelfish'"):
        update_source(ingest_context.database, source.id, engine="babelfish", checks=SOURCE_CHECKS)
    with pytest.raises(InvalidInput, match="'url' cannot be changed"):
        update_source(ingest_context.database, source.id, url="https://b.example/")
    with pytest.raises(InvalidInput, match="no commas"):
        update_source(ingest_context.database, source.id, tags=["a,b"])
    assert update_source(ingest_context.database, source.id, tags=[" News / Europe ", "News/Europe"]).tags == [
        "News/Europe"
    ]


def test_already_in_the_target_language_is_published_as_original(context: AppContext) -> None:
    extracted = extract_article(fixture_text("article-german.html"), "https://anzeiger.example/a")
    assert extracted.language == "de"
    with context.database.session() as session:
        source = Source(url="https://anzeiger.example/feed", name="Anzeiger", publish_policy="auto")
        source.filters = build_filters(target_language="publish").to_json()
        session.add(source)
        session.flush()
        assert store_extracted(session, context.settings, extracted, source, publisher(context.settings)) == "new"
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        translation = session.scalars(select(Translation)).one()
        publication = session.scalars(select(Publication)).one()
        assert article.fetch_status == "ok"
        assert (translation.engine, translation.status, translation.title) == ("original", "done", article.title)
        assert translation.paragraphs == article.paragraphs
        assert publication.status == "published"
        label = translation_notice(translation.engine, translation.model, translation.reviewed)
        assert label == "Originaltext auf Deutsch, nicht übersetzt"
    with pytest.raises(InvalidInput, match="published as original text"):
        retranslate_article(context.database, context.settings, article.id)
    from fastapi.testclient import TestClient

    from presseschau.web.app import create_app

    with TestClient(create_app(context)) as client:
        page = client.get(f"/{publication.slug}/")
    assert page.status_code == 200
    assert "Originaltext auf Deutsch, nicht übersetzt" in page.text
    assert "maschinell übersetzt" not in page.text.lower() and "übersetzt mit" not in page.text
    assert '"translator"' not in page.text


def test_skip_keeps_an_article_in_the_target_language_untranslated(context: AppContext) -> None:
    extracted = extract_article(fixture_text("article-german.html"), "https://anzeiger.example/a")
    with context.database.session() as session:
        source = Source(url="https://anzeiger.example/feed", name="Anzeiger")
        session.add(source)
        session.flush()
        assert store_extracted(session, context.settings, extracted, source) == "not_english"
        assert session.scalars(select(Translation)).first() is None


def test_filters_from_the_cli(news_site: NewsSite, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("PRESSESCHAU_POLITENESS_DELAY_S", "0")
    cli = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = cli.invoke(app, ["--data", str(data_dir), *args])
        return result.exit_code, result.output

    code, out = run("sources", "add", news_site.url("/rss.xml"), "--include", "/(unclosed/")
    assert code == 2 and "invalid regular expression" in out
    code, out = run("sources", "add", news_site.url("/rss.xml"), "--include", "apple", "--exclude", "url:/sport/")
    assert code == 0, out
    code, out = run("fetch")
    assert code == 0 and "1 held back by source filters" in out
    code, out = run("articles", "list", "--filtered")
    assert code == 0 and "filtered" in out and "no include rule matched ('apple')" in out
    code, out = run("sources", "edit", "1", "--include", "apple", "--include", "sea wall", "--min-words", "10")
    assert code == 0 and "include apple, sea wall; exclude url:/sport/; at least 10 words" in out
    code, out = run("sources", "show", "1")
    assert code == 0 and "Include:   apple, sea wall" in out and "Min words: 10" in out
    code, out = run("sources", "refilter", "1")
    assert code == 0 and "0 held back, 1 queued for translation" in out
    code, out = run("articles", "list", "--filtered")
    assert code == 0 and "No articles held back by filters." in out
    code, out = run("sources", "edit", "1", "--clear-filters", "--pause")
    assert code == 0 and "filters: none" in out
    code, out = run("articles", "release", "1")
    assert code == 1 and "is not held by a filter" in out


def test_run_once_translates_what_passes_and_holds_the_rest(news_site: NewsSite, ingest_context: AppContext) -> None:
    from presseschau.pipeline.service import PipelineService, RunOptions

    tiny_model = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"
    add_source(
        ingest_context.database,
        ingest_context.settings,
        news_site.url("/rss.xml"),
        filters=build_filters(exclude=["title:sea wall"]),
    )
    options = RunOptions(serve=False, once=True, engine="ct2", model=str(tiny_model), build=False)
    PipelineService(ingest_context, options).run_once()
    states = _states(ingest_context)
    assert states["Harbour"] == ("filtered", "exclude rule 'title:sea wall' matched the title", None)
    assert states["Cider"][0::2] == ("ok", "done")
    with ingest_context.database.session() as session:
        assert [p.status for p in session.scalars(select(Publication))] == ["published"]


@pytest.mark.parametrize("entry_point", ["cli", "run", "api"])
def test_an_original_text_article_is_published_from_every_entry_point(
    news_site: NewsSite, ingest_context: AppContext, data_dir: Path, monkeypatch: pytest.MonkeyPatch, entry_point: str
) -> None:
    # Ingest sits below publishing: each entry point hands it the publisher (`on_done`).
    source = add_source(
        ingest_context.database,
        ingest_context.settings,
        news_site.url("/news/german"),
        kind="page",
        filters=build_filters(target_language="publish"),
    )
    if entry_point == "cli":
        monkeypatch.setenv("PRESSESCHAU_ALLOW_PRIVATE_ADDRESSES", "true")
        monkeypatch.setenv("PRESSESCHAU_POLITENESS_DELAY_S", "0")
        result = CliRunner().invoke(app, ["--data", str(data_dir), "fetch"])
        assert result.exit_code == 0, result.output
    elif entry_point == "run":
        from presseschau.pipeline.service import PipelineService, RunOptions

        assert PipelineService(ingest_context, RunOptions(serve=False, build=False)).fetch_step() == 1
    else:
        from fastapi.testclient import TestClient

        from presseschau.editorial.tokens import create_token
        from presseschau.web.app import create_app

        with ingest_context.database.session() as session:
            _, secret = create_token(session, "feeder", "admin", "write")
        with TestClient(create_app(ingest_context)) as client:
            response = client.post(f"/api/v1/sources/{source.id}/fetch", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.text
    with ingest_context.database.session() as session:
        translation = session.scalars(select(Translation)).one()
        assert (translation.engine, translation.status) == ("original", "done")
        assert translation.publication is not None and translation.publication.status == "published"
