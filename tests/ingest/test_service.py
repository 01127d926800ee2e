"""The ingest service end to end against the loopback news site: polling, failures, storage rules."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug import Request, Response

from presseschau.app import AppContext
from presseschau.ingest import polling, storing
from presseschau.ingest.errors import InvalidInput, InvalidURL, SourceExists, SourceNotFound
from presseschau.ingest.extract import MIN_ARTICLE_WORDS, ExtractedArticle, extract_article
from presseschau.ingest.importing import import_inputs
from presseschau.ingest.polling import FULL_CONTENT_MIN_WORDS, fetch_sources
from presseschau.ingest.sources import add_source, remove_source
from presseschau.ingest.storing import store_extracted
from presseschau.reporting import articles_per_source
from presseschau.store.models import Article, ArticleAlias, ArticleRevision, Source, Translation, utcnow
from tests.hostile import XML_FORBIDDEN_RE, hostile_jsonfeed, with_controls

from .conftest import ATOM_LAST_MODIFIED, FEED_ETAG, TESTDATA, NewsSite, fixture_text


def count(context: AppContext, model: type[object]) -> int:
    with context.database.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def articles_by_url(context: AppContext) -> dict[str, Article]:
    with context.database.session() as session:
        return {article.url: article for article in session.scalars(select(Article))}


def source_row(context: AppContext, source_id: int) -> Source:
    with context.database.session() as session:
        source = session.get(Source, source_id)
        assert source is not None
        return source


def translation_states(context: AppContext) -> dict[int, tuple[str, int]]:
    with context.database.session() as session:
        return {t.article_id: (t.status, t.source_revision) for t in session.scalars(select(Translation))}


# Polling feeds ------------------------------------------------------------------------------------


def test_all_feed_formats_fetched_twice_without_duplicates(news_site: NewsSite, ingest_context: AppContext) -> None:
    for path in ("/rss.xml", "/atom.xml", "/feed.json", "/sitemap-index.xml"):
        add_source(ingest_context.database, ingest_context.settings, news_site.url(path))

    first = fetch_sources(ingest_context.database, ingest_context.settings)
    assert first.failures == []
    assert (first.sources_polled, first.articles_new) == (4, 4)
    stored = articles_by_url(ingest_context)
    assert sorted(stored) == sorted(
        news_site.url(p) for p in ("/news/harbour", "/news/orchard", "/news/library", "/news/tram")
    )
    harbour = stored[news_site.url("/news/harbour")]
    assert harbour.canonical_url == news_site.url("/news/2024/03/harbour-sea-wall-vote")
    assert harbour.outlet == "The Coastal Courier" and harbour.authors == ["Miriam Okafor"]
    assert (harbour.fetch_status, harbour.revision, harbour.language) == ("ok", 1, "en")
    tram = stored[news_site.url("/news/tram")]
    assert tram.authors == ["Luis Moreno", "Priya Nair"]
    assert any(p["kind"] == "h2" for p in tram.paragraphs)
    assert news_site.requests_to("/news/tram") == []  # full content in the feed: no page fetch
    assert len(news_site.requests_to("/news/orchard")) == 1  # three sources list it, fetched once
    assert set(translation_states(ingest_context).values()) == {("queued", 1)}
    kinds = {source_row(ingest_context, sid).kind for sid in (1, 2, 3, 4)}
    assert kinds == {"feed", "sitemap"}

    second = fetch_sources(ingest_context.database, ingest_context.settings)
    assert second.failures == []
    assert (second.articles_new, second.not_modified) == (0, 2)
    assert count(ingest_context, Article) == 4 and count(ingest_context, Translation) == 4
    assert news_site.requests_to("/rss.xml")[-1].headers.get("If-None-Match") == FEED_ETAG
    assert news_site.requests_to("/atom.xml")[-1].headers.get("If-Modified-Since") == ATOM_LAST_MODIFIED
    assert "If-None-Match" not in news_site.requests_to("/rss.xml")[0].headers


def test_source_failures_back_off_and_reset_on_success(news_site: NewsSite, ingest_context: AppContext) -> None:
    healthy = {"now": False}

    def flaky(request: Request) -> Response:
        if not healthy["now"]:
            return Response("upstream down", status=500)
        return Response(fixture_text("rss.xml", news_site.base), content_type="application/rss+xml")

    news_site.serve_handler("/flaky.xml", flaky)
    source = add_source(
        ingest_context.database, ingest_context.settings, news_site.url("/flaky.xml"), poll_interval_s=900
    )

    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert report.all_failed and report.failures == [(news_site.url("/flaky.xml"), "HTTP 500 Internal Server Error")]
    row = source_row(ingest_context, source.id)
    assert (row.consecutive_failures, row.last_status) == (1, "http_status")
    assert row.last_error is not None and "HTTP 500" in row.last_error and "/flaky.xml" in row.last_error
    assert row.next_poll_at is not None
    assert timedelta(seconds=50) < row.next_poll_at - utcnow() < timedelta(seconds=70)

    # Not due yet: a due-only run leaves it alone; an explicit run backs off further.
    assert fetch_sources(ingest_context.database, ingest_context.settings, due_only=True).sources_polled == 0
    fetch_sources(ingest_context.database, ingest_context.settings, source_id=source.id)
    row = source_row(ingest_context, source.id)
    assert row.consecutive_failures == 2
    assert row.next_poll_at is not None
    assert timedelta(seconds=100) < row.next_poll_at - utcnow() < timedelta(seconds=140)

    healthy["now"] = True
    report = fetch_sources(ingest_context.database, ingest_context.settings, source_id=source.id)
    assert report.articles_new == 2 and not report.all_failed
    row = source_row(ingest_context, source.id)
    assert (row.consecutive_failures, row.last_error, row.last_status) == (0, None, "ok")
    assert row.last_success_at is not None and row.next_poll_at is not None
    assert timedelta(seconds=800) < row.next_poll_at - utcnow() < timedelta(seconds=1000)


def test_malformed_feed_is_a_source_failure(news_site: NewsSite, ingest_context: AppContext) -> None:
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/malformed.xml"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert len(report.failures) == 1 and "malformed rss feed" in report.failures[0][1]
    assert source_row(ingest_context, source.id).last_status == "malformed_feed"


def _mixed_feed(site: NewsSite, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{site.url(p)}</link></item>" for p in paths)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Mixed</title>{items}</channel></rss>'


def test_item_failures_are_recorded_and_retried(news_site: NewsSite, ingest_context: AppContext) -> None:
    attempts = {"flaky": 0}

    def flaky_article(request: Request) -> Response:
        attempts["flaky"] += 1
        if attempts["flaky"] == 1:
            return Response("busy", status=503)
        return Response(fixture_text("article-orchard.html"), content_type="text/html; charset=utf-8")

    news_site.serve_handler("/news/flaky", flaky_article)
    paths = ["/news/harbour", "/news/broken", "/news/slow", "/news/huge", "/news/binary", "/news/german",
             "/sections", "/private/memo", "/news/damaged", "/news/flaky"]  # fmt: skip
    news_site.serve("/mixed.xml", _mixed_feed(news_site, paths), "application/rss+xml")
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/mixed.xml"))

    report = fetch_sources(ingest_context.database, ingest_context.settings)
    reasons = dict(report.failures)
    assert set(reasons) == {news_site.url(p) for p in
                            ("/news/broken", "/news/slow", "/news/huge", "/news/binary", "/sections",
                             "/private/memo", "/news/flaky")}  # fmt: skip
    assert reasons[news_site.url("/news/broken")] == "HTTP 500 Internal Server Error"
    assert "0.5 s" in reasons[news_site.url("/news/slow")]
    assert "300000" in reasons[news_site.url("/news/huge")]
    assert "robots.txt" in reasons[news_site.url("/private/memo")]
    assert (report.articles_new, report.not_english) == (2, 1)

    rows = articles_by_url(ingest_context)
    status = {path: rows[news_site.url(path)].fetch_status for path in paths}
    assert status == {
        "/news/harbour": "ok",
        "/news/broken": "failed",
        "/news/slow": "failed",
        "/news/huge": "failed",
        "/news/binary": "failed",
        "/news/german": "not_english",
        "/sections": "no_article",
        "/private/memo": "failed",
        "/news/damaged": "ok",  # two bad bytes do not cost the article
        "/news/flaky": "failed",
    }
    binary_error = rows[news_site.url("/news/binary")].fetch_error
    assert binary_error is not None and binary_error.startswith("invalid_encoding")
    assert rows[news_site.url("/news/german")].language == "de"
    queued = set(translation_states(ingest_context))
    assert queued == {rows[news_site.url("/news/harbour")].id, rows[news_site.url("/news/damaged")].id}
    # Per-item failures do not make the source fail.
    assert source_row(ingest_context, source.id).consecutive_failures == 0
    flaky_id = rows[news_site.url("/news/flaky")].id

    second = fetch_sources(ingest_context.database, ingest_context.settings)
    assert second.articles_new == 1  # the flaky article now works...
    rows = articles_by_url(ingest_context)
    flaky = rows[news_site.url("/news/flaky")]
    assert (flaky.id, flaky.fetch_status, flaky.fetch_error) == (flaky_id, "ok", None)  # ...in the same row
    assert rows[news_site.url("/news/broken")].fetch_attempts == 2  # failed items are retried
    assert rows[news_site.url("/sections")].fetch_attempts == 1  # "no article" is not retried
    assert len(news_site.requests_to("/news/harbour")) == 1
    assert count(ingest_context, Article) == len(paths)


def test_failed_items_stop_being_retried(news_site: NewsSite, ingest_context: AppContext) -> None:
    news_site.serve("/one.xml", _mixed_feed(news_site, ["/news/broken"]), "application/rss+xml")
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/one.xml"))
    for _ in range(storing.MAX_ITEM_ATTEMPTS + 2):
        fetch_sources(ingest_context.database, ingest_context.settings)
    assert len(news_site.requests_to("/news/broken")) == storing.MAX_ITEM_ATTEMPTS
    assert articles_by_url(ingest_context)[news_site.url("/news/broken")].fetch_attempts == storing.MAX_ITEM_ATTEMPTS


def test_failed_items_wait_for_their_backoff_and_permanent_ones_are_not_retried(
    news_site: NewsSite, ingest_context: AppContext
) -> None:
    news_site.server.expect_request("/news/gone").respond_with_data("Gone", status=410)
    news_site.serve("/two.xml", _mixed_feed(news_site, ["/news/broken", "/news/gone", "/private/memo"]),
                    "application/rss+xml")  # fmt: skip
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/two.xml"))
    ingest_context.settings.item_retry_base_s = 600.0
    fetch_sources(ingest_context.database, ingest_context.settings)
    fetch_sources(ingest_context.database, ingest_context.settings)  # at once again: the 500 waits for its backoff
    assert len(news_site.requests_to("/news/broken")) == 1
    with ingest_context.database.session() as session:
        broken = session.scalars(select(Article).where(Article.url == news_site.url("/news/broken"))).one()
        broken.fetched_at = utcnow() - timedelta(seconds=601)
    fetch_sources(ingest_context.database, ingest_context.settings)
    assert len(news_site.requests_to("/news/broken")) == 2  # backoff over: retried
    # 410 Gone and a robots.txt refusal are final after the first try.
    ingest_context.settings.item_retry_base_s = 0.0
    fetch_sources(ingest_context.database, ingest_context.settings)
    assert len(news_site.requests_to("/news/gone")) == 1
    rows = articles_by_url(ingest_context)
    with ingest_context.database.session() as session:
        assert articles_per_source(session) == {}  # failed placeholders are no articles
    assert rows[news_site.url("/news/gone")].fetch_attempts == storing.MAX_ITEM_ATTEMPTS
    assert rows[news_site.url("/private/memo")].fetch_attempts == storing.MAX_ITEM_ATTEMPTS


def test_single_page_source(news_site: NewsSite, ingest_context: AppContext) -> None:
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/news/orchard"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert report.articles_new == 1
    assert source_row(ingest_context, source.id).kind == "page"
    assert fetch_sources(ingest_context.database, ingest_context.settings).articles_unchanged == 1


def test_conditional_state_is_saved_only_after_the_entries(
    news_site: NewsSite, ingest_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/rss.xml"))
    original = polling._record_source_success

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies after storing the entries

    monkeypatch.setattr(polling, "_record_source_success", crash)
    with pytest.raises(KeyboardInterrupt):
        fetch_sources(ingest_context.database, ingest_context.settings)
    assert count(ingest_context, Article) == 2 and count(ingest_context, Translation) == 2
    monkeypatch.setattr(polling, "_record_source_success", original)
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    # No ETag was saved, so the feed is read in full again; nothing is lost or duplicated.
    assert "If-None-Match" not in news_site.requests_to("/rss.xml")[-1].headers
    assert report.articles_new == 0 and count(ingest_context, Article) == 2


# Sources ------------------------------------------------------------------------------------------


def test_add_and_remove_sources(news_site: NewsSite, ingest_context: AppContext) -> None:
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/rss.xml"), name="Courier",
                        poll_interval_s=600, publish_policy="review")  # fmt: skip
    assert (source.name, source.poll_interval_s, source.publish_policy, source.kind) == (
        "Courier",
        600,
        "review",
        "auto",
    )
    with pytest.raises(SourceExists, match="already registered as source"):
        add_source(ingest_context.database, ingest_context.settings, news_site.url("/rss.xml#again"))
    with pytest.raises(InvalidURL):
        add_source(ingest_context.database, ingest_context.settings, "ftp://courier.example/feed")
    with pytest.raises(InvalidInput, match="publish policy"):
        add_source(
            ingest_context.database, ingest_context.settings, news_site.url("/atom.xml"), publish_policy="sometimes"
        )
    fetch_sources(ingest_context.database, ingest_context.settings)
    remove_source(ingest_context.database, source.id)
    assert count(ingest_context, Source) == 0
    assert count(ingest_context, Article) == 2
    assert {a.source_id for a in articles_by_url(ingest_context).values()} == {None}
    with pytest.raises(SourceNotFound):
        remove_source(ingest_context.database, source.id)


# Imports and storage rules -------------------------------------------------------------------------


def test_import_same_file_twice_stores_one_article(context: AppContext) -> None:
    path = str(TESTDATA / "article-harbour.html")
    first = import_inputs(
        context.database, context.settings, [path], original_url="https://courier.example/news/harbour"
    )
    second = import_inputs(
        context.database, context.settings, [path], original_url="https://courier.example/news/harbour"
    )
    assert (first.articles_new, second.articles_unchanged) == (1, 1)
    assert first.article_ids == second.article_ids
    assert count(context, Article) == 1 and count(context, Translation) == 1


def test_import_gzipped_file(context: AppContext, tmp_path: Path) -> None:
    import gzip

    target = tmp_path / "page.html.gz"
    target.write_bytes(gzip.compress((TESTDATA / "article-library.html").read_bytes()))
    report = import_inputs(context.database, context.settings, [str(target)])
    assert report.articles_new == 1
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        assert (
            article.url.startswith("file://")
            and article.title == "City library extends opening hours after record winter"
        )


def test_updated_article_becomes_revision_2_and_is_requeued(context: AppContext) -> None:
    url = "https://courier.example/news/harbour"
    import_inputs(context.database, context.settings, [str(TESTDATA / "article-harbour.html")], original_url=url)
    with context.database.session() as session:
        translation = session.scalars(select(Translation)).one()
        translation.status = "done"  # the translate stage finished revision 1

    report = import_inputs(
        context.database, context.settings, [str(TESTDATA / "article-harbour-updated.html")], original_url=url
    )
    assert report.articles_updated == 1
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        assert article.revision == 2
        assert any("ten votes to three" in p["html"] for p in article.paragraphs)
        revisions = session.scalars(select(ArticleRevision).order_by(ArticleRevision.revision)).all()
        assert [r.revision for r in revisions] == [1, 2]
        assert any("nine votes to four" in p["html"] for p in revisions[0].paragraphs)  # old text kept
        translation = session.scalars(select(Translation)).one()
        assert (translation.status, translation.source_revision) == ("queued", 2)


def test_same_content_under_another_url_is_a_duplicate(context: AppContext) -> None:
    path = str(TESTDATA / "article-orchard.html")
    import_inputs(context.database, context.settings, [path], original_url="https://ledger.example/2024/orchards")
    report = import_inputs(
        context.database, context.settings, [path], original_url="https://syndicate.example/orchards-copy"
    )
    assert report.articles_duplicate == 1 and count(context, Article) == 1


def test_non_english_page_is_kept_but_not_queued(context: AppContext) -> None:
    report = import_inputs(
        context.database,
        context.settings,
        [str(TESTDATA / "article-german.html")],
        original_url="https://anzeiger.example/a",
    )
    assert report.not_english == 1
    with context.database.session() as session:
        article = session.scalars(select(Article)).one()
        assert (article.fetch_status, article.language) == ("not_english", "de")
        assert article.fetch_error is not None and "de" in article.fetch_error
    assert count(context, Translation) == 0


def test_import_argument_errors(context: AppContext, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="exactly one input"):
        import_inputs(context.database, context.settings, ["a.html", "b.html"], original_url="https://x.example/")
    (tmp_path / "notes.txt").write_text("hello")
    report = import_inputs(
        context.database, context.settings, [str(tmp_path / "notes.txt"), str(tmp_path / "missing.html")]
    )
    assert report.all_failed
    assert "unsupported file type" in report.failures[0][1] and "no such file" in report.failures[1][1]
    fake_gz = tmp_path / "page.html.gz"
    fake_gz.write_text("<html><body><p>not compressed</p></body></html>")
    report = import_inputs(context.database, context.settings, [str(tmp_path), "ftp://example.org/a", str(fake_gz)])
    reasons = [reason for _, reason in report.failures]
    assert "is a directory" in reasons[0]
    assert "scheme 'ftp' not allowed" in reasons[1]
    assert "named .gz but not gzip-compressed" in reasons[2]


def test_a_broken_local_file_with_its_url_is_recorded_as_failed(context: AppContext, tmp_path: Path) -> None:
    truncated = tmp_path / "story.html.gz"
    truncated.write_bytes(gzip.compress(fixture_text("article-orchard.html").encode())[:200])
    binary = tmp_path / "binary.html"
    binary.write_bytes(bytes(range(256)) * 40)
    for path, url in ((truncated, "https://ledger.example/story"), (binary, "https://ledger.example/binary")):
        report = import_inputs(context.database, context.settings, [str(path)], original_url=url)
        assert report.all_failed, path
        row = articles_by_url(context)[url]
        assert row.fetch_status == "failed" and row.fetch_error, row.fetch_error


def test_import_url_failure_then_success_fills_the_same_row(news_site: NewsSite, ingest_context: AppContext) -> None:
    state = {"up": False}

    def page(request: Request) -> Response:
        if not state["up"]:
            return Response("", status=502)
        return Response(fixture_text("article-library.html"), content_type="text/html")

    news_site.serve_handler("/news/later", page)
    url = news_site.url("/news/later")
    assert import_inputs(ingest_context.database, ingest_context.settings, [url]).all_failed
    failed = articles_by_url(ingest_context)[url]
    assert (failed.fetch_status, failed.fetch_attempts) == ("failed", 1)
    state["up"] = True
    assert import_inputs(ingest_context.database, ingest_context.settings, [url]).articles_new == 1
    article = articles_by_url(ingest_context)[url]
    assert (article.id, article.fetch_status, article.fetch_attempts) == (failed.id, "ok", 2)
    assert count(ingest_context, Article) == 1


def test_article_and_queue_entry_are_one_transaction(context: AppContext) -> None:
    extracted = extract_article(fixture_text("article-orchard.html"), "https://ledger.example/orchards")
    with pytest.raises(RuntimeError), context.database.session() as session:
        assert store_extracted(session, context.settings, extracted, None) == "new"
        raise RuntimeError("killed before commit")
    assert count(context, Article) == 0 and count(context, Translation) == 0
    with context.database.session() as session:
        assert store_extracted(session, context.settings, extracted, None) == "new"
    assert count(context, Article) == 1 and count(context, Translation) == 1


def test_unexpected_error_in_one_item_does_not_stop_the_run(
    news_site: NewsSite, ingest_context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fragile(
        page: str, url: str, *, min_words: int = MIN_ARTICLE_WORDS, trust_canonical: bool = False
    ) -> ExtractedArticle:
        if url.endswith("/news/orchard"):
            raise ValueError("parser exploded")
        return extract_article(page, url, min_words=min_words, trust_canonical=trust_canonical)

    monkeypatch.setattr(polling, "extract_article", fragile)
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/rss.xml"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert report.articles_new == 1
    assert report.failures == [(news_site.url("/news/orchard"), "unexpected ValueError: parser exploded")]
    assert articles_by_url(ingest_context)[news_site.url("/news/orchard")].fetch_status == "failed"


def test_home_page_source_points_to_its_feeds(news_site: NewsSite, ingest_context: AppContext) -> None:
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/sections"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    (failure,) = report.failures
    assert "add one of them instead" in failure[1] and news_site.url("/rss.xml") in failure[1]
    assert source_row(ingest_context, source.id).consecutive_failures == 1


def test_non_html_article_page_is_a_clear_failure(news_site: NewsSite, ingest_context: AppContext) -> None:
    news_site.serve("/news/report.pdf", b"%PDF-1.7 binary", "application/pdf")
    report = import_inputs(ingest_context.database, ingest_context.settings, [news_site.url("/news/report.pdf")])
    assert report.failures == [(news_site.url("/news/report.pdf"), "not an HTML page (Content-Type application/pdf)")]


def test_retry_after_is_honoured_in_the_backoff(news_site: NewsSite, ingest_context: AppContext) -> None:
    news_site.server.expect_request("/busy.xml").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1800"}
    )
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/busy.xml"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert report.failures[0][1] == "HTTP 429 Too Many Requests (Retry-After 1800 s)"
    row = source_row(ingest_context, source.id)
    assert row.next_poll_at is not None and row.next_poll_at - utcnow() > timedelta(seconds=1700)


def test_an_article_found_under_a_second_url_is_not_fetched_again(
    news_site: NewsSite, ingest_context: AppContext
) -> None:
    def feed(*paths: str) -> str:
        items = "".join(f"<item><title>{p}</title><link>{news_site.url(p)}</link></item>" for p in paths)
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Mirror</title>{items}</channel></rss>'

    news_site.serve("/mirror/orchard", fixture_text("article-orchard.html"))  # the same story, syndicated
    feed_body = {"text": feed("/news/orchard", "/mirror/orchard")}
    news_site.serve_handler("/mirror.xml", lambda _: Response(feed_body["text"], content_type="application/rss+xml"))
    source = add_source(ingest_context.database, ingest_context.settings, news_site.url("/mirror.xml"))

    first = fetch_sources(ingest_context.database, ingest_context.settings, source_id=source.id)
    assert (first.articles_new, first.articles_duplicate) == (1, 1)
    feed_body["text"] = feed("/news/orchard", "/mirror/orchard", "/news/library")  # the feed changes
    second = fetch_sources(ingest_context.database, ingest_context.settings, source_id=source.id)
    assert second.articles_new == 1 and second.attempted == 2  # the feed and the new entry only
    assert len(news_site.requests_to("/mirror/orchard")) == 1
    assert len(news_site.requests_to("/news/orchard")) == 1
    with ingest_context.database.session() as session:
        aliases = session.scalars(select(ArticleAlias)).all()
        article = session.scalars(select(Article).where(Article.url == news_site.url("/news/orchard"))).one()
        assert [(alias.url, alias.article_id) for alias in aliases] == [(news_site.url("/mirror/orchard"), article.id)]


def test_characters_xml_forbids_are_dropped_at_ingest(news_site: NewsSite, ingest_context: AppContext) -> None:
    words = " ".join(f"word{n}" for n in range(FULL_CONTENT_MIN_WORDS + 10))
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Controls",
        "items": [
            {
                "id": "1",
                "url": news_site.url("/controls"),
                "title": with_controls("Breaking news about the harbour"),
                "authors": [{"name": with_controls("Ann Example")}],
                "content_html": f"<p>{with_controls('The harbour reopened today.')} {words}</p>",
                "date_published": "2024-02-13T10:00:00Z",
            }
        ],
    }
    news_site.serve("/controls.json", json.dumps(feed), content_type="application/feed+json")
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/controls.json"))
    assert fetch_sources(ingest_context.database, ingest_context.settings).failures == []
    (article,) = articles_by_url(ingest_context).values()
    assert article.title == "Breaking news about the harbour"
    assert article.authors == ["Ann Example"]
    stored = json.dumps(article.paragraphs, ensure_ascii=False) + json.dumps(article.authors) + (article.title or "")
    assert not XML_FORBIDDEN_RE.search(stored)
    assert "harbour reopened today." in article.paragraphs[0]["html"]  # (NUL is U+FFFD to an HTML parser)


def test_a_malformed_feed_item_is_skipped_with_its_reason_and_the_rest_is_stored(
    news_site: NewsSite, ingest_context: AppContext
) -> None:
    news_site.serve("/hostile.json", hostile_jsonfeed(news_site.base), content_type="application/feed+json")
    for n in (0, 2, 4):
        news_site.serve(f"/item/{n}", fixture_text("article-orchard.html").replace("Cider", f"Cider {n}"))
    add_source(ingest_context.database, ingest_context.settings, news_site.url("/hostile.json"))
    report = fetch_sources(ingest_context.database, ingest_context.settings)
    assert report.articles_new == 3
    reasons = dict(report.failures)
    assert len(reasons) == 2, report.failures
    assert "TypeError" in reasons[news_site.url("/item/1")]
    assert "no url" in reasons[news_site.url("/hostile.json") + " (item 4)"]
    placeholder = articles_by_url(ingest_context)[news_site.url("/item/1")]
    assert placeholder.fetch_status == "failed" and "authors" in (placeholder.fetch_error or "")
    # The next poll stores nothing twice and still does not fail the feed.
    assert fetch_sources(ingest_context.database, ingest_context.settings).sources_polled == 1
    assert count(ingest_context, Article) == 4
