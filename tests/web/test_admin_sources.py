"""The admin's Quellen page at scale: OPML upload and download, filter fields, refilter, filtered articles."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_to_json
from presseschau.editorial.users import add_user
from presseschau.ingest.filters import build_filters
from presseschau.ingest.sources import create_source
from presseschau.store.models import Article, Source, Translation
from presseschau.store.queue import enqueue_translation
from presseschau.web.app import create_app

PASSWORD = "korrekt pferd batterie"
OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><body>
  <outline text="Europa"><outline text="Paper" xmlUrl="https://paper.example/rss"/></outline>
  <outline text="Wire" xmlUrl="https://wire.example/atom"/>
</body></opml>"""


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        add_user(session, "erik", PASSWORD, role="editor")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


def csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def login(client: TestClient, name: str = "anna") -> str:
    page = client.get("/admin/anmelden")
    response = client.post("/admin/anmelden", data={"name": name, "passwort": PASSWORD, "csrf_token": csrf(page.text)})
    assert response.status_code == 303
    return csrf(client.get("/admin/").text)


def stored_sources(context: AppContext) -> list[Source]:
    with context.database.session() as session:
        return list(session.scalars(select(Source).order_by(Source.id)))


def test_opml_upload_and_download(context: AppContext, client: TestClient) -> None:
    token = login(client)
    missing_token = client.post("/admin/opml", files={"datei": ("subs.opml", OPML, "text/x-opml")})
    assert missing_token.status_code == 403 and stored_sources(context) == []

    bad = client.post("/admin/opml", data={"csrf_token": token}, files={"datei": ("bad.opml", b"<html/>", "text/html")})
    assert bad.status_code == 400
    assert "OPML-Import: bad.opml: kein OPML-Dokument" in bad.text and "nichts wurde hinzugefügt" in bad.text
    assert stored_sources(context) == []

    added = client.post("/admin/opml", data={"csrf_token": token}, files={"datei": ("subs.opml", OPML, "text/x-opml")})
    assert added.status_code == 200 and "OPML-Import: 2 Quelle(n) hinzugefügt." in added.text
    assert [(s.name, s.tags) for s in stored_sources(context)] == [("Paper", ["Europa"]), ("Wire", None)]
    again = client.post("/admin/opml", data={"csrf_token": token}, files={"datei": ("subs.opml", OPML, "text/x-opml")})
    assert "0 Quelle(n) hinzugefügt, 2 schon vorhanden oder doppelt" in again.text
    assert len(stored_sources(context)) == 2

    download = client.get("/admin/opml")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/x-opml")
    assert "attachment" in download.headers["content-disposition"]
    assert download.headers["cache-control"] == "no-store"
    assert download.content.count(b"xmlUrl=") == 2 and b'<outline text="Europa">' in download.content


def test_filter_fields_go_through_the_shared_validation(context: AppContext, client: TestClient) -> None:
    token = login(client)
    form = {"csrf_token": token, "url": "https://paper.example/rss", "intervall": "15", "regel": "auto"}
    refused = client.post("/admin/quellen", data={**form, "einschliessen": "Ukraine\n/(a/"})
    assert refused.status_code == 400 and "Filter: Filterregel „/(a/“: ungültiger regulärer Ausdruck" in refused.text
    assert stored_sources(context) == []

    added = client.post(
        "/admin/quellen",
        data={
            **form,
            "einschliessen": "Ukraine\r\ntitle:/\\bKyiv\\b/",
            "ausschliessen": "url:/sport/",
            "mindestwoerter": "120",
            "zielsprache": "publish",
            "schlagworte": "Nachrichten/Europa, Täglich",
        },
    )
    assert added.status_code == 303
    (source,) = stored_sources(context)
    assert source.filters == {
        "include": ["Ukraine", "title:/\\bKyiv\\b/"],
        "exclude": ["url:/sport/"],
        "min_words": 120,
        "target_language": "publish",
    }
    assert source.tags == ["Nachrichten/Europa", "Täglich"]
    page = lxml_html.fromstring(client.get(f"/admin/quellen/{source.id}").text)
    assert page.get_element_by_id(f"q{source.id}-einschliessen").text_content() == "Ukraine\ntitle:/\\bKyiv\\b/"
    assert page.get_element_by_id(f"q{source.id}-mindestwoerter").get("value") == "120"
    assert page.get_element_by_id(f"q{source.id}-schlagworte").get("value") == "Nachrichten/Europa, Täglich"

    # The edit form replaces the rules; an empty field removes them.
    edited = client.post(
        f"/admin/quellen/{source.id}", data={**form, "aktiv": "1", "ausschliessen": "Sport", "mindestwoerter": "x"}
    )
    assert edited.status_code == 400 and "Mindestlänge" in edited.text
    edited = client.post(f"/admin/quellen/{source.id}", data={**form, "aktiv": "1", "ausschliessen": "Sport"})
    assert edited.status_code == 303
    (source,) = stored_sources(context)
    assert source.filters == {"exclude": ["Sport"]} and source.tags is None


def _article(context: AppContext, source_id: int, title: str, status: str = "ok") -> int:
    with context.database.session() as session:
        article = Article(
            url=f"https://paper.example/{title.lower().replace(' ', '-')}",
            canonical_url=f"https://paper.example/{title.lower().replace(' ', '-')}",
            title=title,
            paragraphs=paragraphs_to_json([Paragraph.from_text("Some words about the matter at hand.")]),
            source_id=source_id,
            fetch_status=status,
            revision=1,
            language="en",
        )
        session.add(article)
        session.flush()
        if status == "ok":
            enqueue_translation(session, article, context.settings.target_language)
        return article.id


def test_refilter_then_release_by_an_editor(context: AppContext, client: TestClient) -> None:
    source = create_source(context.database, context.settings, "https://paper.example/rss")
    sport = _article(context, source.id, "Sport results tonight")
    _article(context, source.id, "Ukraine talks resume")
    with context.database.session() as session:
        session.get_one(Source, source.id).filters = build_filters(exclude=["title:sport"]).to_json()

    token = login(client)
    refiltered = client.post(f"/admin/quellen/{source.id}/neu-filtern", data={"csrf_token": token})
    assert refiltered.status_code == 200
    assert f"Quelle {source.id} neu gefiltert: 1 zurückgehalten, 0 zur Übersetzung freigegeben" in refiltered.text
    client.post("/admin/abmelden", data={"csrf_token": token})

    token = login(client, "erik")  # editors decide about held articles
    assert client.get("/admin/opml").status_code == 403
    listing = lxml_html.fromstring(client.get("/admin/gefiltert").text)
    row = listing.get_element_by_id(f"artikel-{sport}")
    assert "Sport results tonight" in row.text_content()
    assert "Ausschlussregel „title:sport“ traf den Titel" in row.text_content()  # German, not the stored English
    assert len(listing.xpath("//tbody/tr")) == 1

    released = client.post("/admin/gefiltert/freigeben", data={"csrf_token": token, "artikel": str(sport)})
    assert released.status_code == 303 and released.headers["location"] == "/admin/gefiltert?ok=1"
    with context.database.session() as session:
        article = session.get(Article, sport)
        assert article is not None and (article.fetch_status, article.filter_released_by) == ("ok", "erik")
        translation = session.scalars(select(Translation).where(Translation.article_id == sport)).one()
        assert translation.status == "queued"
    assert "Kein Artikel zurückgehalten." in client.get("/admin/gefiltert?ok=1").text
    again = client.post("/admin/gefiltert/freigeben", data={"csrf_token": token, "artikel": str(sport)})
    assert again.status_code == 400 and f"Artikel {sport}: wird von keinem Filter zurückgehalten" in again.text
    assert client.post("/admin/gefiltert/freigeben", data={"csrf_token": token, "artikel": "999"}).status_code == 404


def test_a_refused_source_form_keeps_what_was_typed(context: AppContext, client: TestClient) -> None:
    token = login(client)
    typed = {
        "csrf_token": token,
        "url": "ftp://feeds.example/news.xml",
        "name": "Meine <Quelle>",
        "intervall": "45",
        "regel": "review",
        "glossar": "Kyiv = Kiew\nFoggy Bottom",
        "ausschliessen": "title:Sport",
        "schlagworte": "Europa, Wirtschaft",
    }
    refused = client.post("/admin/quellen", data=typed)
    assert refused.status_code == 400
    doc = lxml_html.fromstring(refused.text)
    assert doc.get_element_by_id("neu-url").get("value") == "ftp://feeds.example/news.xml"
    assert doc.get_element_by_id("neu-name").get("value") == "Meine <Quelle>"
    assert doc.get_element_by_id("neu-intervall").get("value") == "45"
    assert doc.xpath("//select[@id='neu-regel']/option[@selected]/@value") == ["review"]
    assert doc.get_element_by_id("neu-glossar").text == "Kyiv = Kiew\nFoggy Bottom"
    assert doc.get_element_by_id("neu-ausschliessen").text == "title:Sport"
    assert doc.get_element_by_id("neu-schlagworte").get("value") == "Europa, Wirtschaft"

    # Editing: the new glossary lines and the other typed values survive an error too.
    source = create_source(context.database, context.settings, "https://feeds.example/ok.xml", name="Gut")
    edit = {**typed, "url": "", "name": "Neuer Name", "intervall": "0", "glossar": "Kyiv = Kiew\nNeu = Neu"}
    refused = client.post(f"/admin/quellen/{source.id}", data=edit)
    assert refused.status_code == 400
    doc = lxml_html.fromstring(refused.text)
    assert doc.get_element_by_id(f"q{source.id}-name").get("value") == "Neuer Name"
    assert doc.get_element_by_id(f"q{source.id}-glossar").text == "Kyiv = Kiew\nNeu = Neu"
    assert doc.get_element_by_id(f"q{source.id}-intervall").get("value") == "0"


def _admin_error(page: str) -> str:
    return " ".join(element.text_content() for element in lxml_html.fromstring(page).xpath("//*[@class='admin-error']"))


def test_refusals_of_sources_and_opml_are_german(context: AppContext, client: TestClient) -> None:
    token = login(client)
    form = {"csrf_token": token, "intervall": "15", "regel": "auto"}
    no_scheme = client.post("/admin/quellen", data={**form, "url": "example.org/feed"})
    # The refusal stands next to the address field (the banner above asks to check it).
    error = no_scheme.text
    assert no_scheme.status_code == 400 and "die Adresse beginnt nicht mit http:// oder https://" in error
    assert "scheme" not in error and "not allowed" not in error

    source = create_source(context.database, context.settings, "https://paper.example/rss", name="Paper")
    twice = client.post("/admin/quellen", data={**form, "url": "https://paper.example/rss"})
    error = twice.text
    assert twice.status_code == 400 and f"ist schon als Quelle {source.id} („Paper“) eingetragen" in error
    assert "already registered" not in error

    broken = client.post(
        "/admin/opml", data={"csrf_token": token}, files={"datei": ("broken.opml", b"<opml><body>", "text/x-opml")}
    )
    error = _admin_error(broken.text)
    assert broken.status_code == 400 and "broken.opml: kein wohlgeformtes XML" in error
    assert "well-formed" not in error
