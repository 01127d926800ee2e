"""Corrections end to end: a reader reports a paragraph (no account, CSRF-safe, rate limited), the
report reaches the editors, a published correction shows on the article, the corrections page
and its feed; hostile text stays inert everywhere. Also the admin's rights form and the
side-by-side page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.store.models import CorrectionReport, Publication, Source
from presseschau.web import public as web_app
from presseschau.web.app import create_app
from tests.hostile import MARKUP_TEXTS
from tests.publish.factories import Published, make_article, make_source

PASSWORD = "korrekt pferd batterie"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> \u202egnp.exe\u202c [b]fett[/b] \x07 Ende"
LIVE = "//script[not(@type='application/ld+json')] | //img | //*[@onerror] | //*[@onload]"


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def published(context: AppContext) -> Published:
    with context.database.session() as session:
        return make_article(session, context.settings, source=make_source(session, "The Guardian"))


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient) -> None:
    page = client.get("/admin/anmelden")
    data = {"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
    assert client.post("/admin/anmelden", data=data).status_code == 303


def report(client: TestClient, publication_id: int, index: int, message: str) -> tuple[int, str]:
    form = client.get(f"/korrektur/{publication_id}/{index}/")
    assert form.status_code == 200
    sent = client.post(
        f"/korrektur/{publication_id}/{index}/", data={"message": message, "csrf_token": _csrf(form.text)}
    )
    return sent.status_code, sent.text


def test_each_paragraph_links_to_its_report_form(client: TestClient, published: Published) -> None:
    page = lxml_html.fromstring(client.get(f"/{published.slug}/").text)
    links = page.xpath("//div[contains(@class,'article-body')]//p[@class='report-link']/a/@href")
    assert links == [f"/korrektur/{published.publication_id}/{n}/" for n in range(4)]
    assert client.get(f"/korrektur/{published.publication_id}/9/").status_code == 404


def test_a_report_reaches_the_editor_and_a_correction_goes_public(
    context: AppContext, client: TestClient, published: Published
) -> None:
    assert published.publication_id is not None
    status, text = report(client, published.publication_id, 1, HOSTILE)
    assert status == 200 and "Danke" in text
    with context.database.session() as session:
        stored = session.scalars(select(CorrectionReport)).one()
        assert stored.paragraph_index == 1 and "Lukaschenko" in stored.paragraph_text
        assert "\u202e" not in stored.message and "\x07" not in stored.message  # bidi and controls gone
        assert "<script>alert(1)</script>" in stored.message  # kept as the reader's plain text

    login(client)
    dashboard = lxml_html.fromstring(client.get("/admin/").text)
    assert dashboard.xpath("string(//a[@id='anzahl-meldungen'])") == "1"
    admin_page = client.get("/admin/korrekturen")
    tree = lxml_html.fromstring(admin_page.text)
    assert not tree.xpath(LIVE)
    assert "<script>alert(1)</script>" in tree.xpath("string(//p[@class='admin-report-message'])")
    note = "Absatz 2: „Aufmarschgebiet“ statt „Bereitstellungsraum“ <b>fett</b>"
    report_id = stored.id
    done = client.post(
        f"/admin/korrekturen/{report_id}",
        data={"csrf_token": _csrf(admin_page.text), "notiz": note, "aktion": "erledigt"},
    )
    assert done.status_code == 303
    with context.database.session() as session:
        publication = session.get_one(Publication, published.publication_id)
        assert publication.text_updated_at is not None  # dateModified follows
        assert session.get_one(CorrectionReport, report_id).status == "done"

    article = client.get(f"/{published.slug}/").text
    assert "Korrigiert am" in article and "Aufmarschgebiet" in article
    assert "<b>fett</b>" not in article  # the note is text
    assert '"dateModified"' in article
    page = client.get("/korrekturen/").text
    assert "Aufmarschgebiet" in page and f"/{published.slug}/" in page
    feed = etree.fromstring(client.get("/korrekturen/feed.xml").content)
    assert "Aufmarschgebiet" in feed.xpath("string(//item/description)")


def test_reports_without_the_form_token_are_refused(
    context: AppContext, client: TestClient, published: Published
) -> None:
    path = f"/korrektur/{published.publication_id}/0/"
    assert client.post(path, data={"message": "Fehler"}).status_code == 403
    client.get(path)  # the cookie alone (as a cross-site post would send it, were it not SameSite) is not enough
    assert client.post(path, data={"message": "Fehler", "csrf_token": "gefälscht"}).status_code == 403
    form = client.get(path)
    assert "samesite=strict" in form.headers["set-cookie"].lower()
    with context.database.session() as session:
        assert session.scalars(select(CorrectionReport)).all() == []


def test_reports_are_rate_limited_per_address(context: AppContext, client: TestClient, published: Published) -> None:
    assert published.publication_id is not None
    limit = context.settings.correction_reports_per_hour
    for n in range(limit):
        assert report(client, published.publication_id, 0, f"Meldung {n}")[0] == 200
    status, text = report(client, published.publication_id, 0, "eine zu viel")
    assert status == 429 and "Zu viele Meldungen" in text


def test_empty_and_overlong_reports_are_refused(client: TestClient, published: Published) -> None:
    assert published.publication_id is not None
    assert report(client, published.publication_id, 0, "  \u202e ")[0] == 400
    status, text = report(client, published.publication_id, 0, "x" * 2001)
    assert status == 400 and "zu lang" in text


@pytest.mark.parametrize("text", MARKUP_TEXTS)
def test_hostile_report_texts_are_inert_in_the_admin(
    context: AppContext, client: TestClient, published: Published, text: str
) -> None:
    assert published.publication_id is not None
    assert report(client, published.publication_id, 0, text)[0] == 200
    login(client)
    tree = lxml_html.fromstring(client.get("/admin/korrekturen").text)
    assert not tree.xpath(LIVE)


def test_the_side_by_side_page(client: TestClient, published: Published) -> None:
    page = client.get(f"/{published.slug}/zweisprachig/")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.text)
    rows = tree.xpath("//div[@class='side-by-side-row']")
    assert len(rows) == 4 and rows[0].xpath("./div[@lang='en']") and rows[0].xpath("./div[@lang='de']")
    assert client.get("/gibt-es-nicht/zweisprachig/").status_code == 404


def test_bilingual_reading_can_be_switched_off_per_source(
    context: AppContext, client: TestClient, published: Published
) -> None:
    login(client)
    with context.database.session() as session:
        source_id = session.scalars(select(Source.id)).one()
    page = client.get("/admin/quellen")
    data = {"csrf_token": _csrf(page.text), "umfang": "", "auszug_woerter": "", "erlaubnis": "", "zweisprachig": "0"}
    assert client.post(f"/admin/quellen/{source_id}/rechte", data=data).status_code == 303
    article = client.get(f"/{published.slug}/").text
    assert 'lang="en"' not in article.split('class="article-body')[1].split("</div>")[0]
    assert client.get(f"/{published.slug}/zweisprachig/").status_code == 404
    data.update(umfang="excerpt", auszug_woerter="20", zweisprachig="")
    assert client.post(f"/admin/quellen/{source_id}/rechte", data=data).status_code == 303
    assert "Nutzungsumfang: excerpt (20 words)" in client.get(f"/admin/quellen/{source_id}").text
    article = client.get(f"/{published.slug}/").text
    assert "Weiterlesen im Original" in article and "Moskau" not in article
    data.update(umfang="everything")
    refused = client.post(f"/admin/quellen/{source_id}/rechte", data=data)
    assert refused.status_code == 400 and "unbekannter Nutzungsumfang „everything“" in refused.text
