"""The Quellen page that scales (issue 23 item 9): a sortable, searchable, paged table; a page per
source; „Jetzt abrufen“; a preview before adding; bulk actions on the queue and held articles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.ingest.sources import create_source
from presseschau.store.models import Article, Publication, Source
from presseschau.web.app import create_app
from tests.ingest.conftest import NewsSite, news_site, threaded_server  # noqa: F401 -- shared fixtures
from tests.publish.factories import make_article, make_source
from tests.web.test_admin_sources import PASSWORD, _article, login


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        add_user(session, "erik", PASSWORD, role="editor")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def _names(page: str) -> list[str]:
    tree = lxml_html.fromstring(page)
    return [cell.text_content().strip() for cell in tree.xpath("//table[@id='quellen']/tbody/tr/td[1]/a")]


def _add_sources(context: AppContext, count: int) -> list[int]:
    ids = []
    for number in range(count):
        source = create_source(
            context.database, context.settings, f"https://outlet{number:02d}.example/rss", name=f"Outlet {number:02d}"
        )
        ids.append(source.id)
    return ids


def test_the_table_pages_sorts_and_searches_on_the_server(context: AppContext, client: TestClient) -> None:
    ids = _add_sources(context, 60)
    with context.database.session() as session:
        failing = session.get(Source, ids[7])
        assert failing is not None
        failing.consecutive_failures, failing.last_status = 3, "timeout"
    for title in ("One", "Two"):
        _article(context, ids[42], f"Story {title}")
    login(client)

    first = client.get("/admin/quellen")
    assert first.status_code == 200
    assert _names(first.text)[:2] == ["Outlet 00", "Outlet 01"] and len(_names(first.text)) == 50
    tree = lxml_html.fromstring(first.text)
    assert tree.get_element_by_id("quellen-anzahl").text_content() == "60 Quellen, Seite 1 von 2"
    # No source's form on the list: each has its own page.
    assert not tree.xpath("//form[starts-with(@action, '/admin/quellen/')]")
    assert tree.xpath("//table[@id='quellen']//th[@aria-sort='ascending']//a")[0].text_content().startswith("Name")
    next_link = tree.xpath("//nav[@class='admin-pages']//a[@rel='next']/@href")
    assert next_link == ["/admin/quellen?sortierung=name&seite=2"]
    assert _names(client.get(next_link[0]).text) == [f"Outlet {n}" for n in range(50, 60)]

    by_articles = client.get("/admin/quellen?sortierung=artikel&richtung=ab").text
    assert _names(by_articles)[0] == "Outlet 42"
    row = lxml_html.fromstring(by_articles).get_element_by_id(f"quelle-{ids[42]}")
    assert [cell.text_content().strip() for cell in row.xpath("td")][5] == "2"
    assert _names(client.get("/admin/quellen?sortierung=fehler&richtung=ab").text)[0] == "Outlet 07"
    failing_row = lxml_html.fromstring(client.get("/admin/quellen?suche=outlet07").text)
    assert [c.text_content().strip() for c in failing_row.xpath("//tbody/tr/td")][3:] == [
        "–",
        "Zeitüberschreitung",
        "0",
        "3",
    ]

    # Search in names and addresses; LIKE wildcards typed are plain characters.
    assert _names(client.get("/admin/quellen?suche=OUTLET 1").text) == [f"Outlet 1{n}" for n in range(10)]
    assert _names(client.get("/admin/quellen?suche=outlet05.example").text) == ["Outlet 05"]
    assert "Keine Quelle passt zu „%“." in client.get("/admin/quellen?suche=%25").text
    # Odd parameters fall back to the defaults instead of failing.
    odd = client.get("/admin/quellen?sortierung=drop&seite=-3&richtung=x")
    assert odd.status_code == 200 and _names(odd.text)[0] == "Outlet 00"


def test_each_source_has_its_page_with_its_form(context: AppContext, client: TestClient) -> None:
    (source_id,) = _add_sources(context, 1)
    login(client)
    listing = lxml_html.fromstring(client.get("/admin/quellen").text)
    assert listing.xpath(f"//tr[@id='quelle-{source_id}']//a/@href") == [f"/admin/quellen/{source_id}"]
    page = lxml_html.fromstring(client.get(f"/admin/quellen/{source_id}").text)
    assert page.xpath("//h1")[0].text_content() == "Outlet 00"
    assert page.get_element_by_id(f"q{source_id}-name").get("value") == "Outlet 00"
    assert page.xpath(f"//form[@action='/admin/quellen/{source_id}/abrufen']//button")[0].text_content() == (
        "Jetzt abrufen"
    )
    assert client.get("/admin/quellen/999").status_code == 404


def test_fetch_now_runs_the_clis_fetch_for_one_source(
    context: AppContext,
    client: TestClient,
    news_site: NewsSite,  # noqa: F811
) -> None:
    source = create_source(context.database, context.settings, news_site.url("/rss.xml"), name="Courier")
    other = create_source(context.database, context.settings, news_site.url("/atom.xml"), name="Other")
    token = login(client)
    assert client.post(f"/admin/quellen/{source.id}/abrufen", data={}).status_code == 403  # CSRF
    fetched = client.post(f"/admin/quellen/{source.id}/abrufen", data={"csrf_token": token})
    assert fetched.status_code == 200
    notice = lxml_html.fromstring(fetched.text).xpath("//p[@class='admin-notice']")[0].text_content()
    assert notice.startswith("Abgerufen: 2 Einträge gesehen; Artikel: 2 neu, 0 geändert")
    with context.database.session() as session:
        stored = session.scalars(select(Article.source_id).where(Article.fetch_status == "ok")).all()
        assert stored == [source.id, source.id]  # only this source was polled
        assert session.get_one(Source, other.id).last_polled_at is None
    again = client.post(f"/admin/quellen/{source.id}/abrufen", data={"csrf_token": token})
    assert "der Feed ist seit dem letzten Abruf unverändert" in again.text
    assert client.post("/admin/quellen/999/abrufen", data={"csrf_token": token}).status_code == 404


def test_a_preview_shows_the_newest_items_and_stores_nothing(
    context: AppContext,
    client: TestClient,
    news_site: NewsSite,  # noqa: F811
) -> None:
    token = login(client)
    typed = {"csrf_token": token, "url": news_site.url("/rss.xml"), "name": "Küstenkurier", "intervall": "20"}
    shown = client.post("/admin/quellen/vorschau", data=typed)
    assert shown.status_code == 200
    tree = lxml_html.fromstring(shown.text)
    preview = tree.get_element_by_id("vorschau")
    assert "Feed „The Coastal Courier – News“" in preview.text_content()
    assert [item.text_content().split("\n")[0].split(" (")[0] for item in preview.xpath(".//li")] == [
        "Harbour town votes to rebuild its flooded sea wall",
        "Cider makers race to save heritage apple varieties",
    ]
    # What was typed stays in the form, ready to add; nothing was stored.
    assert tree.get_element_by_id("neu-name").get("value") == "Küstenkurier"
    assert tree.get_element_by_id("neu-intervall").get("value") == "20"
    with context.database.session() as session:
        assert session.scalars(select(Source)).all() == [] and session.scalars(select(Article)).all() == []

    page = client.post("/admin/quellen/vorschau", data={**typed, "url": news_site.url("/sections")})
    assert "Die Adresse ist eine Seite, kein Feed" in page.text
    broken = client.post("/admin/quellen/vorschau", data={**typed, "url": news_site.url("/broken.xml")})
    assert broken.status_code == 400
    field = lxml_html.fromstring(broken.text).get_element_by_id("neu-url")
    assert field.get("aria-invalid") == "true" and field.get("value") == news_site.url("/broken.xml")
    assert "Keine Vorschau" in lxml_html.fromstring(broken.text).get_element_by_id("neu-url-fehler").text_content()


def test_a_preview_obeys_the_address_rules_of_adding(
    data_dir: Path,
    news_site: NewsSite,  # noqa: F811
) -> None:
    # The production setting: no private or loopback addresses, so the loopback site is refused
    # before anything is fetched.
    strict = AppContext.for_data_dir(data_dir, politeness_delay_s=0.0)
    try:
        with strict.database.session() as session:
            add_user(session, "anna", PASSWORD, role="admin")
        with TestClient(create_app(strict), follow_redirects=False) as client:
            token = login(client)
            for url in (news_site.url("/rss.xml"), "file:///etc/passwd", "http://169.254.169.254/latest/"):
                refused = client.post("/admin/quellen/vorschau", data={"csrf_token": token, "url": url})
                assert refused.status_code == 400, url
                message = lxml_html.fromstring(refused.text).get_element_by_id("neu-url-fehler").text_content()
                assert message.startswith("Keine Vorschau"), url
                added = client.post(
                    "/admin/quellen", data={"csrf_token": token, "url": url, "intervall": "15", "regel": "auto"}
                )
                assert added.status_code == 400, url  # the same rule refuses adding it
        assert news_site.requests_to("/rss.xml") == []
    finally:
        strict.close()


def test_bulk_release_and_reject_in_the_queue(context: AppContext, client: TestClient) -> None:
    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        held = [make_article(session, context.settings, source=source, title_de=f"Held {n}") for n in range(3)]
    token = login(client, "erik")
    queue = lxml_html.fromstring(client.get("/admin/warteschlange").text)
    assert len(queue.xpath("//form[@id='auswahl']//input[@name='auswahl']")) == 3
    first, second, third = (item.translation_id for item in held)
    unconfirmed = client.post(
        "/admin/warteschlange/auswahl",
        data={"csrf_token": token, "auswahl": [str(first), str(second)], "aktion": "freigeben"},
    )
    assert unconfirmed.status_code == 400 and "mit dem Häkchen" in unconfirmed.text
    # What was ticked stays ticked.
    ticked = lxml_html.fromstring(unconfirmed.text).xpath("//input[@name='auswahl'][@checked]/@value")
    assert sorted(ticked) == sorted([str(first), str(second)])
    released = client.post(
        "/admin/warteschlange/auswahl",
        data={"csrf_token": token, "auswahl": [str(first), str(second)], "aktion": "freigeben", "bestaetigt": "ja"},
    )
    assert released.status_code == 200 and "2 Artikel freigegeben und veröffentlicht." in released.text
    rejected = client.post(
        "/admin/warteschlange/auswahl",
        data={"csrf_token": token, "auswahl": [str(third), "999"], "aktion": "ablehnen", "bestaetigt": "ja"},
    )
    assert "1 Artikel abgelehnt und archiviert." in rejected.text and "Übersetzung 999 gibt es nicht" in rejected.text
    with context.database.session() as session:
        states = {p.translation_id: p.status for p in session.scalars(select(Publication))}
    assert states == {first: "published", second: "published", third: "archived"}


def test_bulk_release_and_reject_of_held_articles(context: AppContext, client: TestClient) -> None:
    source = create_source(context.database, context.settings, "https://paper.example/rss")
    chosen = [_article(context, source.id, f"Sport {n}", status="filtered") for n in range(3)]
    token = login(client, "erik")
    listing = lxml_html.fromstring(client.get("/admin/gefiltert").text)
    assert len(listing.xpath("//input[@name='auswahl'][@form='auswahl']")) == 3
    form = {"csrf_token": token, "auswahl": [str(chosen[0]), str(chosen[2])], "aktion": "freigeben"}
    assert client.post("/admin/gefiltert/auswahl", data=form).status_code == 400
    released = client.post("/admin/gefiltert/auswahl", data={**form, "bestaetigt": "ja"})
    assert released.status_code == 200 and "2 Artikel freigegeben; sie werden übersetzt." in released.text
    rejected = client.post(
        "/admin/gefiltert/auswahl",
        data={**form, "auswahl": [str(chosen[1]), str(chosen[2])], "aktion": "ablehnen", "bestaetigt": "ja"},
    )
    assert "1 Artikel abgelehnt; sie werden nie übersetzt." in rejected.text
    assert f"Artikel {chosen[2]}: wird von keinem Filter zurückgehalten (Status ok)" in rejected.text
    with context.database.session() as session:
        statuses = [session.get_one(Article, article_id).fetch_status for article_id in chosen]
    assert statuses == ["ok", "rejected", "ok"]
    assert "Kein Artikel zurückgehalten." in client.get("/admin/gefiltert").text


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_overview_query_agrees_on_both_databases(request: pytest.FixtureRequest, backend: str) -> None:
    from presseschau.reporting import SourceRow, source_overview

    ctx: AppContext = request.getfixturevalue("context" if backend == "sqlite" else "postgres_context")
    ids = [
        create_source(ctx.database, ctx.settings, f"https://{name.lower()}.example/rss", name=name).id
        for name in ("beta", "Alpha", "delta_x", "Gamma")
    ]
    with ctx.database.session() as session:
        polled = session.get(Source, ids[2])
        assert polled is not None
        polled.last_polled_at, polled.last_status = datetime(2026, 11, 5, 8, 0, tzinfo=UTC), "ok"

    def names(rows: list[SourceRow]) -> list[str]:
        return [row.source.name for row in rows]

    with ctx.database.session() as session:
        rows, total = source_overview(session)
        assert (names(rows), total) == (["Alpha", "beta", "delta_x", "Gamma"], 4)  # case-insensitive
        rows, total = source_overview(session, search="A_", limit=10)
        assert (names(rows), total) == (["delta_x"], 1)  # "_" is a character, not a wildcard (Alpha, Gamma)
        for descending in (False, True):  # never polled: last, whichever the direction
            rows, _ = source_overview(session, sort="last_polled", descending=descending)
            assert names(rows)[0] == "delta_x"
        rows, total = source_overview(session, sort="name", descending=True, offset=1, limit=2)
        assert (names(rows), total) == (["delta_x", "beta"], 4)
