from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from lxml import html as lxml_html

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.publish import service
from presseschau.store.models import Publication, Source, Translation
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.publish.factories import Published, make_article, make_site, make_source
from tests.publish.validation import (
    assert_valid_html,
    assert_valid_json_feed,
    assert_valid_rss_or_atom,
    assert_valid_sitemap,
)


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    # Every request sees the newest data: the site version is re-read each time.
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with TestClient(create_app(context)) as test_client:
        yield test_client


@pytest.fixture
def site(context: AppContext) -> list[Published]:
    with context.database.session() as session:
        return make_site(session, context.settings, 5)


def _doc(text: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(text)


def test_home_lists_newest_articles_with_pagination(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    context.settings.page_size = 2
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_valid_html(response.content)
    doc = _doc(response.text)
    assert doc.get("lang") == "de"
    titles = doc.xpath("//ol[contains(@class, 'article-list')]//h2/a")
    assert [a.get("href") for a in titles] == [f"/{site[4].slug}/", f"/{site[3].slug}/"]
    teaser = doc.xpath("//p[@class='teaser-text']")[0].text_content()
    assert teaser.startswith("Russlands Invasion der Ukraine")
    assert doc.xpath("//time/@datetime")[0].startswith("20")
    assert doc.xpath("//a[@rel='next']/@href") == ["/?seite=2"]
    page3 = _doc(client.get("/?seite=3").text)
    assert [a.get("href") for a in page3.xpath("//ol//h2/a")] == [f"/{site[0].slug}/"]
    assert client.get("/?seite=4").status_code == 404
    assert client.get("/?seite=abc").status_code == 404


def test_article_page(context: AppContext, client: TestClient, site: list[Published]) -> None:
    target = site[2]
    response = client.get(f"/{target.slug}/")
    assert response.status_code == 200
    assert_valid_html(response.content)
    doc = _doc(response.text)
    canonical = f"http://127.0.0.1:8000/{target.slug}/"
    assert doc.xpath("//link[@rel='canonical']/@href") == [canonical]
    assert doc.xpath("//h1")[0].text_content() == "Ukraine-, Israel- und Taiwan-Hilfe geht nun an ein gespaltenes Haus"
    dateline = doc.xpath("//p[@class='dateline']")[0].text_content()
    # Times with "Uhr"; nothing changed since publication, so no "Aktualisiert".
    assert re.fullmatch(r"Veröffentlicht am \d{1,2}\. \w+ \d{4}, \d{2}:\d{2} Uhr", dateline)
    # The head names the original's date (12. Februar 2024, 09:00 UTC) and the outlet once, linked.
    byline = doc.xpath("//p[@class='byline']")[0]
    assert (
        byline.text_content() == "Von Jane Doe und John Roe · Foreign Policy · Original vom 12. Februar 2024, 10:00 Uhr"
    )
    assert byline.xpath(".//a/@href") == ["/quelle/1/"]
    assert byline.xpath(".//time/@datetime") == ["2024-02-12T10:00:00+01:00"]
    # Said at the top: a translation, by which machine, and reviewed (machine origin still named).
    disclosure = doc.xpath("//p[@class='disclosure']")[0].text_content()
    assert disclosure == "Aus dem Englischen · maschinell übersetzt (OPUS-MT (CTranslate2)) · redaktionell geprüft"
    assert "kicker" not in response.text  # no genre; the outlet is not repeated as a kicker
    with context.database.session() as session:
        translation = session.get(Translation, target.translation_id)
        assert translation is not None
        stored = paragraphs_from_json(translation.paragraphs)
    blocks = doc.xpath("//div[@class='article-body']/*[self::p or self::h2 or self::blockquote]")
    items = doc.xpath("//div[@class='article-body']/ul/li")
    assert len(blocks) + len(items) == len(stored)  # one element per stored paragraph, nothing merged
    assert doc.xpath("//div[@class='article-body']//em/text()") == ["Milchprodukte"]

    attribution = doc.xpath("//aside[@class='attribution']")[0]
    text = attribution.text_content()
    assert "Original English title 2" in text
    assert "Foreign Policy" in text and "Jane Doe und John Roe" in text
    assert "Erschienen am" in text
    assert "Maschinell übersetzt mit OPUS-MT (CTranslate2), redaktionell geprüft" in text  # article 2 is reviewed
    # One link to the original, not two.
    links = attribution.xpath(".//a")
    assert len(links) == 1
    assert links[0].get("href").startswith("https://news.example/articles/")
    assert links[0].text_content() == "Zum Originalartikel bei Foreign Policy"
    assert "Published On" not in response.text

    prev_link = doc.xpath("//nav[@class='prev-next']/a[@rel='prev']")[0]
    next_link = doc.xpath("//nav[@class='prev-next']/a[@rel='next']")[0]
    assert prev_link.get("href") == f"/{site[1].slug}/"
    assert prev_link.xpath(".//span[@class='t']")[0].text_content().startswith("Mitten in der Wahlentrüstung")
    assert next_link.get("href") == f"/{site[3].slug}/"

    ld = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert ld["@type"] == "NewsArticle" and ld["inLanguage"] == "de"
    assert ld["isBasedOn"]["url"].startswith("https://news.example/articles/")
    assert ld["translator"] == {"@type": "Organization", "name": "OPUS-MT (CTranslate2)"}
    assert ld["editor"]["name"] == context.settings.site_title  # reviewed
    assert ld["datePublished"][:4].isdigit() and "T" in ld["datePublished"]
    assert ld["dateModified"] == ld["datePublished"]  # the text never changed
    assert ld["isBasedOn"]["datePublished"] == "2024-02-12T10:00:00+01:00"
    assert "image" not in ld
    meta = {m.get("property") or m.get("name"): m.get("content") for m in doc.xpath("//meta")}
    assert meta["og:url"] == canonical and meta["og:type"] == "article" and meta["og:locale"] == "de_DE"
    assert meta["twitter:card"] == "summary" and meta["og:title"] == meta["twitter:title"]
    assert "Jane Doe" in doc.xpath("//p[@class='byline']")[0].text_content()


def test_notice_names_engine_or_memory(client: TestClient, site: list[Published]) -> None:
    machine = _doc(client.get(f"/{site[0].slug}/").text)
    assert machine.xpath("//p[@class='disclosure']")[0].text_content() == (
        "Aus dem Englischen · maschinell übersetzt (OPUS-MT (CTranslate2))"
    )
    assert "Maschinell übersetzt mit OPUS-MT (CTranslate2)" in machine.xpath("//aside")[0].text_content()
    memory = client.get(f"/{site[1].slug}/").text
    # Readers are not told about a "Übersetzungsspeicher" (jargon).
    assert "Übersetzungsspeicher" not in memory
    assert _doc(memory).xpath("//p[@class='disclosure']")[0].text_content() == (
        "Aus dem Englischen · aus gespeicherten Übersetzungen"
    )


def test_related_and_source_links(client: TestClient, site: list[Published]) -> None:
    doc = _doc(client.get(f"/{site[0].slug}/").text)
    related = doc.xpath("//section[@aria-labelledby='verwandt']//a/@href")
    assert f"/{site[3].slug}/" in related  # both titles are about Belarus
    assert doc.xpath("//a[starts-with(@href, '/quelle/1/')]")


def test_titles_sharing_only_a_verb_are_not_related() -> None:
    from presseschau.publish.queries import rank_related, title_terms

    gambia = title_terms("Abschied von den Murmeln: Bei Gambias Wahl steht mehr auf dem Prüfstand als die Wahlurnen")
    storm = title_terms("Sturmflut an der Nordsee: Hamburg steht vor der höchsten Flut seit 1976")
    assert not set(gambia) & set(storm)
    assert "wahl" in gambia and "hamburg" in storm
    # Shared telling words still relate two articles.
    postings = {stem: [1, 2] for stem in set(gambia) & set(title_terms("Gambias Wahl ohne Murmeln"))}
    assert rank_related(1, postings, total=10) == [2]


def test_etag_304_and_cache_invalidation(context: AppContext, client: TestClient, site: list[Published]) -> None:
    url = f"/{site[0].slug}/"
    first = client.get(url)
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    with context.database.session() as session:
        translation = session.get(Translation, site[0].translation_id)
        assert translation is not None
        translation.title = "Neuer deutscher Titel"
        service.on_translation_done(session, translation, context.settings)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Neuer deutscher Titel" in changed.text
    assert changed.headers["etag"] != etag


def test_head_answers_like_get_without_a_body(client: TestClient, site: list[Published]) -> None:
    paths = ["/", f"/{site[0].slug}/", "/feed.xml", "/sitemap.xml", "/static/style.css", "/healthz", "/kein-artikel/"]
    for path in paths:
        plain = {"Accept-Encoding": "identity"}  # lengths compared uncompressed
        get, head = client.get(path, headers=plain), client.head(path, headers=plain)
        assert head.status_code == get.status_code, path
        assert head.content == b"", path
        assert head.headers["content-length"] == str(len(get.content)), path
        assert head.headers["content-type"] == get.headers["content-type"], path
    etag = client.get(f"/{site[0].slug}/").headers["etag"]
    assert client.head(f"/{site[0].slug}/", headers={"If-None-Match": etag}).status_code == 304
    assert client.head("/admin/abmelden").status_code == 405  # a POST-only route stays POST-only
    assert client.get(f"/{site[0].slug}/", headers={"If-None-Match": "*"}).status_code == 304
    # /metrics labels HEAD requests by the route they matched, like GETs.
    metrics = client.get("/metrics").text
    assert 'presseschau_http_requests_total{method="HEAD",route="/{slug}/",status="200"}' in metrics
    assert 'method="HEAD",route="unmatched"' not in metrics


def test_page_cache_serves_repeat_requests(client: TestClient, site: list[Published]) -> None:
    assert isinstance(client.app, FastAPI)
    cache = client.app.state.page_cache
    url = f"/{site[0].slug}/"
    client.get(url)
    hits = cache.hits
    assert client.get(url).status_code == 200
    assert cache.hits >= hits + 2  # the slug lookup and the page itself


def test_slug_change_redirects_permanently(context: AppContext, client: TestClient, site: list[Published]) -> None:
    with context.database.session() as session:
        publication = session.get(Publication, site[0].publication_id)
        assert publication is not None
        service.change_slug(session, publication, "neuer-slug")
    response = client.get(f"/{site[0].slug}/", follow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == "/neuer-slug/"
    assert client.get("/neuer-slug/").status_code == 200
    assert client.get("/neuer-slug", follow_redirects=False).headers["location"] == "/neuer-slug/"


def test_unpublished_and_unknown_articles_are_404(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    with context.database.session() as session:
        service.unpublish(session, context.settings, site[0].article_id)
    response = client.get(f"/{site[0].slug}/")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.text
    assert client.get("/gibt-es-nicht/").status_code == 404
    assert client.get("/Nicht_Erlaubt/").status_code == 404


def test_source_archive_and_search_pages(context: AppContext, client: TestClient, site: list[Published]) -> None:
    source = client.get("/quelle/1/")
    assert source.status_code == 200
    assert_valid_html(source.content)
    assert len(_doc(source.text).xpath("//ol[@class='article-list']/li")) == 3
    assert client.get("/quelle/99/").status_code == 404

    archive = _doc(client.get("/archiv/").text)
    months = archive.xpath("//ul[@class='month-list']//a/@href")
    assert len(months) == 1
    month = client.get(months[0])
    assert month.status_code == 200 and len(_doc(month.text).xpath("//ol/li")) == 5
    assert client.get("/archiv/1999/01/").status_code == 404
    assert client.get("/archiv/2024/13/").status_code == 404
    assert client.get("/archiv/9999/12/").status_code == 404  # ended in the year 10000: a 500

    found = client.get("/suche", params={"q": "Senegal"})
    assert_valid_html(found.content)
    doc = _doc(found.text)
    assert doc.xpath("//p[@class='result-count']")[0].text_content() == "1 Treffer für „Senegal“"
    assert doc.xpath("//ol//h2/a/@href") == [f"/{site[1].slug}/"]
    # German stemming: the plural finds the singular in the body ("Diplomat" in every article).
    assert "5 Treffer" in client.get("/suche", params={"q": "Diplomaten"}).text
    assert "0 Treffer" in client.get("/suche", params={"q": "Quantenphysik"}).text
    assert client.get("/suche", params={"q": '" OR NEAR('}).status_code == 200


def test_feeds_validate(client: TestClient, site: list[Published]) -> None:
    rss = client.get("/feed.xml")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    assert len(assert_valid_rss_or_atom(rss.content, "rss20").entries) == 5
    assert len(assert_valid_rss_or_atom(client.get("/atom.xml").content, "atom10").entries) == 5
    feed = assert_valid_json_feed(client.get("/feed.json").content)
    assert feed["language"] == "de"
    per_source = client.get("/quelle/2/atom.xml")
    assert len(assert_valid_rss_or_atom(per_source.content, "atom10").entries) == 2
    assert_valid_json_feed(client.get("/quelle/2/feed.json").content)
    assert client.get("/quelle/99/feed.xml").status_code == 404


def test_sitemaps_and_robots(client: TestClient, site: list[Published]) -> None:
    assert_valid_sitemap(client.get("/sitemap.xml").content)
    news = client.get("/news-sitemap.xml")
    assert_valid_sitemap(news.content)
    assert news.text.count("<news:news>") == 5
    robots = client.get("/robots.txt").text
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in robots
    assert client.get("/sitemap-7.xml").status_code == 404


def test_news_sitemap_window_moves_with_the_clock(
    client: TestClient, site: list[Published], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time as time_module
    from datetime import UTC, datetime, timedelta

    from presseschau.publish import queries

    assert client.get("/news-sitemap.xml").text.count("<news:news>") == 5
    # Three days later, with nothing published since: the cached sitemap must not be served.
    later = datetime.now(UTC) + timedelta(days=3)
    real_since = queries.published_since
    monkeypatch.setattr(time_module, "time", lambda: later.timestamp())
    monkeypatch.setattr(
        queries,
        "published_since",
        lambda session, language, since, limit: real_since(session, language, since + timedelta(days=3), limit),
    )
    assert client.get("/news-sitemap.xml").text.count("<news:news>") == 0


def test_renamed_source_shows_at_once(context: AppContext, client: TestClient, site: list[Published]) -> None:
    old_name = client.get("/quelle/1/").text
    with context.database.session() as session:
        source = session.get(Source, 1)
        assert source is not None and source.name not in ("Umbenannte Zeitung",)
        source.name = "Umbenannte Zeitung"
    assert "Umbenannte Zeitung" not in old_name
    assert "Umbenannte Zeitung" in client.get("/quelle/1/").text
    assert "Umbenannte Zeitung" in client.get("/quelle/1/feed.xml").text


def test_static_assets_are_cached_forever(client: TestClient) -> None:
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    home = client.get("/").text
    assert re.search(r'href="/static/style\.css\?v=[0-9a-f]{10}"', home)
    assert client.get("/static/nope.css").status_code == 404


def test_healthz_and_metrics(context: AppContext, client: TestClient, site: list[Published]) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "database": True,
        "counts": {"articles": 5, "translations_done": 5, "published": 5},
    }
    client.get("/")
    metrics = client.get("/metrics").text
    assert 'presseschau_publications{status="published"} 5.0' in metrics
    assert 'presseschau_translations{status="done"} 5.0' in metrics
    assert 'presseschau_http_requests_total{method="GET",route="/",status="200"}' in metrics
    assert "presseschau_http_request_duration_seconds_bucket" in metrics


def test_healthz_reports_a_broken_database(tmp_path: Path) -> None:
    ctx = AppContext.for_data_dir(tmp_path / "data")
    try:
        test_client = TestClient(create_app(ctx))
        assert test_client.get("/healthz").status_code == 200
        ctx.database.engine.dispose()
        (tmp_path / "data" / "presseschau.sqlite3").unlink()
        (tmp_path / "data" / "presseschau.sqlite3").mkdir()  # the file is gone: no database can open
        response = test_client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] is False
    finally:
        ctx.close()


XSS_PARAGRAPHS = [
    {"kind": "p", "html": 'Harmlos <script>alert("x")</script> und <img src=x onerror="alert(1)"> weiter.'},
    {
        "kind": "p",
        "html": '<a href="javascript:alert(1)">Klick</a> <a href="JaVaScRiPt:alert(2)" onclick="x()">mehr</a>',
    },
    {"kind": "blockquote", "html": '<svg onload="alert(3)"><iframe src="javascript:alert(4)"></iframe>Zitat'},
]


def test_hostile_source_content_is_neutralised(context: AppContext, client: TestClient) -> None:
    with context.database.session() as session:
        source = make_source(session, name='<script>alert("quelle")</script>')
        source_row = session.get(Source, source.id)
        assert source_row is not None
        source_row.url = "javascript:alert('source')"
        made = make_article(
            session,
            context.settings,
            title_de='Titel <script>alert("t")</script>',
            source=source,
            outlet='<img src=x onerror="alert(5)">',
            authors=['<b onmouseover="alert(6)">Evil</b>'],
        )
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        translation.paragraphs = XSS_PARAGRAPHS
        translation.article.canonical_url = "javascript:alert('original')"
        translation.article.paragraphs = XSS_PARAGRAPHS
        service.on_translation_done(session, translation, context.settings)
    pages = [
        client.get(f"/{made.slug}/"),
        client.get("/"),
        client.get(f"/quelle/{source.id}/"),
        client.get("/suche", params={"q": "Harmlos"}),
        client.get("/feed.xml"),
        client.get("/atom.xml"),
        client.get("/feed.json"),
    ]
    for response in pages:
        assert response.status_code == 200, response.url
        lowered = response.text.lower()
        if response.headers["content-type"].startswith("text/html"):
            assert_valid_html(response.content)
            doc = _doc(response.text)
            scripts = doc.xpath("//script")
            assert all(s.get("type") == "application/ld+json" for s in scripts)
            assert not doc.xpath("//*[@*[starts-with(name(), 'on')]]")
            assert not doc.xpath("//iframe | //svg | //img")
            assert not [h for h in doc.xpath("//@href | //@src | //@cite") if "javascript" in h.lower()]
            assert "<script>" not in lowered
        assert "javascript:" not in lowered, response.url
        assert "onerror=" not in lowered and "onload=" not in lowered
    # Markup is dropped from metadata and cleaned in the body; the text itself survives.
    article = _doc(pages[0].text)
    assert article.xpath("//h1")[0].text_content() == "Titel"
    assert "Harmlos" in article.xpath("//div[@class='article-body']")[0].text_content()
    german_links = "//div[@class='article-body']//a[not(@href)][not(ancestor::*[@lang='en'])]/text()"
    assert article.xpath(german_links) == ["Klick", "mehr"]
    # The English original beside each paragraph (bilingual reading) is cleaned alike.
    assert article.xpath("//div[@class='article-body']//*[@lang='en']//a[not(@href)]/text()") == ["Klick", "mehr"]


@pytest.mark.postgres
def test_site_on_postgresql(postgres_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    ctx = AppContext.for_data_dir(data_dir, database_url=postgres_url)
    try:
        with ctx.database.session() as session:
            made = make_site(session, ctx.settings, 5)
        test_client = TestClient(create_app(ctx))
        page = _doc(test_client.get(f"/{made[0].slug}/").text)
        related = page.xpath("//section[@aria-labelledby='verwandt']//a/@href")
        assert f"/{made[3].slug}/" in related  # both titles are about Belarus (German stemming in PostgreSQL)
        found = _doc(test_client.get("/suche", params={"q": "Senegal"}).text)
        assert found.xpath("//ol//h2/a/@href") == [f"/{made[1].slug}/"]
        assert test_client.get("/healthz").json()["counts"]["published"] == 5
    finally:
        ctx.close()


@pytest.mark.parametrize(
    "path",
    [
        "/archiv/2026/",
        "/archiv/abc/",
        "/archiv/2026/11/extra/",
        "/seite/2/",
        "/quelle/abc/",
        "/quelle/-1/",
        "/quelle/9223372036854775808/",
        "/quelle/9223372036854775808/feed.xml",
        "/quelle/abc/atom.xml",
        "/sitemap-abc.xml",
        "/sitemap-99999999999999999999.xml",
        "/a/b/c",
    ],
)
def test_unknown_or_malformed_urls_get_the_german_404_page(
    client: TestClient, site: list[Published], path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    doc = _doc(response.text)
    assert doc.get("lang") == "de"
    assert doc.xpath("//h1")[0].text_content() == "Seite nicht gefunden"
    assert "detail" not in response.text and "Input should be" not in response.text


def test_pages_css_and_feeds_are_gzipped_for_clients_that_accept_it(client: TestClient, site: list[Published]) -> None:
    sizes = {}
    for path in ["/", f"/{site[0].slug}/", "/static/style.css", "/feed.xml", "/atom.xml", "/feed.json"]:
        raw = client.get(path, headers={"Accept-Encoding": "identity"})
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in raw.headers, path
        assert packed.headers["content-encoding"] == "gzip", path
        assert packed.content == raw.content, path  # the client got the same document back
        sizes[path] = (len(raw.content), int(packed.headers["content-length"]))
    plain_feed, gzipped_feed = sizes["/feed.xml"]
    assert gzipped_feed < plain_feed / 2, sizes


def test_a_date_only_original_is_shown_and_emitted_without_a_time(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    from datetime import UTC, datetime

    from presseschau.store.models import Article

    with context.database.session() as session:
        article = session.get(Article, site[0].article_id)
        assert article is not None
        article.published_at, article.published_date_only = datetime(2024, 2, 10, tzinfo=UTC), True
        publication = session.get(Publication, site[0].publication_id)
        assert publication is not None
        publication.updated_at = datetime.now(UTC)  # a new site version for the page cache
    doc = _doc(client.get(f"/{site[0].slug}/").text)
    byline = doc.xpath("//p[@class='byline']")[0].text_content()
    assert byline.endswith("Original vom 10. Februar 2024")  # not "01:00"
    assert doc.xpath("//p[@class='byline']//time/@datetime") == ["2024-02-10"]
    attribution = doc.xpath("//aside[@class='attribution']")[0].text_content()
    assert "10. Februar 2024" in attribution and "01:00" not in attribution
    ld = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert ld["isBasedOn"]["datePublished"] == "2024-02-10"
    home = _doc(client.get("/").text)
    assert (
        "Original vom 10. Februar 2024"
        in home.xpath(f"//a[@href='/{site[0].slug}/']/ancestor::article")[0].text_content()
    )
    feed = assert_valid_json_feed(client.get("/feed.json").content)
    own = next(item for item in feed["items"] if item["url"].endswith(f"/{site[0].slug}/"))
    assert "10. Februar 2024." in own["content_html"] and "01:00" not in own["content_html"]


def test_lists_show_and_sort_by_the_original_date(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    from datetime import UTC, datetime

    from presseschau.store.models import Article

    # Published here in the order 0..4; the oldest publication is the newest original.
    with context.database.session() as session:
        article = session.get(Article, site[0].article_id)
        assert article is not None
        article.published_at = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
        publication = session.get(Publication, site[0].publication_id)
        assert publication is not None
        publication.updated_at = datetime.now(UTC)
    doc = _doc(client.get("/").text)
    hrefs = doc.xpath("//ol[contains(@class, 'article-list')]//h2/a/@href")
    assert hrefs[0] == f"/{site[0].slug}/"
    assert hrefs[1:] == [f"/{p.slug}/" for p in reversed(site[1:])]
    metas = [m.text_content() for m in doc.xpath("//ol[contains(@class, 'article-list')]//p[@class='meta']")]
    assert metas[0].startswith("Original vom 1. März 2024, 09:00 Uhr")
    # Previous/next follow the same order.
    first = _doc(client.get(f"/{site[0].slug}/").text)
    assert first.xpath("//a[@rel='prev']/@href") == [f"/{site[4].slug}/"]
    assert not first.xpath("//nav[@class='prev-next']/a[@rel='next']")


def test_an_updated_text_says_so_and_sets_date_modified(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    from datetime import UTC, datetime

    with context.database.session() as session:
        publication = session.get(Publication, site[0].publication_id)
        assert publication is not None
        publication.text_updated_at = publication.updated_at = datetime(2024, 3, 2, 15, 5, tzinfo=UTC)
    doc = _doc(client.get(f"/{site[0].slug}/").text)
    dateline = doc.xpath("//p[@class='dateline']")[0].text_content()
    assert dateline.endswith(" · Aktualisiert am 2. März 2024, 16:05 Uhr")
    ld = json.loads(doc.xpath("//script[@type='application/ld+json']")[0].text)
    assert ld["dateModified"] == "2024-03-02T16:05:00+01:00"


def test_no_og_image_for_a_picture_the_page_does_not_show(
    context: AppContext, client: TestClient, site: list[Published]
) -> None:
    from datetime import UTC, datetime

    from presseschau.store.models import Article

    with context.database.session() as session:
        article = session.get(Article, site[0].article_id)
        assert article is not None
        article.image_url = "https://news.example/images/photo.jpg"
        publication = session.get(Publication, site[0].publication_id)
        assert publication is not None
        publication.updated_at = datetime.now(UTC)
    page = client.get(f"/{site[0].slug}/").text
    # The outlet's photo is not on the page (its rights lie with the outlet): not announced either.
    assert "photo.jpg" not in page
    meta = {m.get("property") or m.get("name"): m.get("content") for m in _doc(page).xpath("//meta")}
    assert "og:image" not in meta and "twitter:image" not in meta and meta["twitter:card"] == "summary"
