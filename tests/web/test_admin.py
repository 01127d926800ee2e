"""The admin area over HTTP: authentication, CSRF, throttling, review actions, sources, caching."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.content import Paragraph, paragraphs_from_json
from presseschau.editorial.security import secret_key_file
from presseschau.editorial.users import MAX_FAILED_LOGINS, add_user, set_password
from presseschau.store.models import Publication, Source, Translation
from presseschau.web import public as web_app
from presseschau.web.admin import SESSION_COOKIE
from presseschau.web.app import create_app
from tests.publish.factories import GERMAN_BODY, Published, make_article, make_source

PASSWORD = "korrekt pferd batterie"
TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"


@pytest.fixture
def client(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        add_user(session, "erik", PASSWORD, role="editor")
    with TestClient(create_app(context), follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def held(context: AppContext) -> Published:
    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        return make_article(session, context.settings, source=source)


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client: TestClient, name: str = "anna", password: str = PASSWORD) -> TestClient:
    page = client.get("/admin/anmelden")
    response = client.post("/admin/anmelden", data={"name": name, "passwort": password, "csrf_token": _csrf(page.text)})
    assert response.status_code == 303, response.text
    return client


def _editor_form(client: TestClient, translation_id: int) -> tuple[dict[str, str], lxml_html.HtmlElement]:
    page = client.get(f"/admin/uebersetzung/{translation_id}")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.text)
    form = doc.get_element_by_id("editor")
    values = {field.get("name"): field.value or "" for field in form.xpath(".//input|.//textarea") if field.get("name")}
    return values, doc


# Authentication and security ----------------------------------------------------------------------


def _flatten(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        # Newer FastAPI keeps an included router as one entry wrapping the original router.
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flatten(included.routes)
        else:
            yield route


def _admin_routes(client: TestClient) -> list[tuple[str, str]]:
    routes: list[tuple[str, str]] = []
    assert isinstance(client.app, FastAPI)
    for route in _flatten(client.app.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/admin"):
            path = route.path.replace("{translation_id}", "1").replace("{source_id}", "1").replace("{user_id}", "1")
            routes.extend((method, path) for method in sorted(route.methods or ()))
    return routes


def test_every_admin_route_rejects_anonymous_requests(client: TestClient, held: Published) -> None:
    routes = _admin_routes(client)
    assert len(routes) >= 16
    for method, path in routes:
        if path == "/admin/anmelden":
            continue
        response = client.request(method, path, data={"titel": "Gehackt", "csrf_token": "x"})
        assert response.headers["cache-control"] == "no-store", path
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/admin/anmelden?weiter=%2Fadmin"), path
        else:
            assert response.status_code == 403, (method, path)
        assert "Gehackt" not in response.text and "Belarus" not in response.text
    # A forged or tampered session cookie is no session.
    client.cookies.set(SESSION_COOKIE, "eyJ1IjoxfQ.AAAA", path="/admin")
    assert client.get("/admin/").status_code == 303


def test_login_cookie_flags_and_logout(context: AppContext, client: TestClient) -> None:
    page = client.get("/admin/anmelden?weiter=/admin/warteschlange")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    response = client.post(
        "/admin/anmelden",
        data={"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text), "weiter": "/admin/warteschlange"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/warteschlange"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http in tests
    assert client.get("/admin/").status_code == 200
    # The signing key was created on first use, readable by its owner only.
    assert secret_key_file(context.settings).stat().st_mode & 0o777 == 0o600

    stolen = client.cookies.get(SESSION_COOKIE)
    logout = client.post("/admin/abmelden", data={"csrf_token": _csrf(client.get("/admin/").text)})
    assert logout.status_code == 303
    assert client.get("/admin/").status_code == 303
    # A copy of the cookie taken before the sign-out is dead too (on every server process).
    client.cookies.set(SESSION_COOKIE, stolen or "", path="/admin")
    assert client.get("/admin/").status_code == 303
    client.cookies.clear()
    assert login(client).get("/admin/").status_code == 200  # a new sign-in works


def test_secure_cookie_on_https(client: TestClient) -> None:
    secure = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    page = secure.get("/admin/anmelden")
    assert "Secure" in page.headers["set-cookie"]
    response = secure.post(
        "/admin/anmelden", data={"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_open_redirects_are_refused(client: TestClient) -> None:
    page = client.get("/admin/anmelden")
    response = client.post(
        "/admin/anmelden",
        data={"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text), "weiter": "//evil.example/"},
    )
    assert response.headers["location"] == "/admin/"


def test_forms_without_valid_csrf_token_are_refused(context: AppContext, client: TestClient, held: Published) -> None:
    # Login form too: its token is bound to the pre-session cookie.
    client.get("/admin/anmelden")
    assert client.post("/admin/anmelden", data={"name": "anna", "passwort": PASSWORD}).status_code == 403
    assert (
        client.post("/admin/anmelden", data={"name": "anna", "passwort": PASSWORD, "csrf_token": "falsch"}).status_code
        == 403
    )
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    good_token = values["csrf_token"]
    values["absatz-0"] = "Von einem Angreifer geändert."
    for token in (None, "", "falsch", good_token[:-2]):
        data = dict(values)
        if token is None:
            del data["csrf_token"]
        else:
            data["csrf_token"] = token
        response = client.post(f"/admin/uebersetzung/{held.translation_id}", data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    for path in ("freigeben", "ablehnen"):
        assert client.post(f"/admin/uebersetzung/{held.translation_id}/{path}", data={}).status_code == 403
    assert client.post("/admin/quellen", data={"url": "https://x.example/feed"}).status_code == 403

    # A token from another user's session does not fit this session.
    other = TestClient(client.app, follow_redirects=False)
    login(other, "erik")
    foreign = _csrf(other.get("/admin/").text)
    assert foreign != good_token
    assert (
        client.post(f"/admin/uebersetzung/{held.translation_id}", data={**values, "csrf_token": foreign}).status_code
        == 403
    )

    with context.database.session() as session:
        translation = session.get(Translation, held.translation_id)
        assert translation is not None
        assert paragraphs_from_json(translation.paragraphs)[0].text != "Von einem Angreifer geändert."
        assert translation.publication is not None and translation.publication.status == "held"
    # With the right token the same form goes through.
    assert client.post(f"/admin/uebersetzung/{held.translation_id}", data=values).status_code == 303


def test_login_is_throttled_per_account(client: TestClient) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        page = client.get("/admin/anmelden")
        response = client.post(
            "/admin/anmelden", data={"name": "erik", "passwort": "falsches passwort", "csrf_token": _csrf(page.text)}
        )
        assert response.status_code == 401 and "Name oder Passwort ist falsch" in response.text
    page = client.get("/admin/anmelden")
    response = client.post(
        "/admin/anmelden", data={"name": "erik", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
    )
    assert response.status_code == 401 and "vorübergehend gesperrt" in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def _login_message(client: TestClient, name: str, password: str) -> tuple[int, str]:
    page = client.get("/admin/anmelden")
    response = client.post("/admin/anmelden", data={"name": name, "passwort": password, "csrf_token": _csrf(page.text)})
    message = lxml_html.fromstring(response.text).xpath("string(//*[@role='alert'])")
    return response.status_code, " ".join(message.split())


def test_a_locked_account_answers_like_an_unknown_name(client: TestClient) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        _login_message(client, "erik", "falsches passwort")
    locked = _login_message(client, "erik", PASSWORD)
    unknown = _login_message(client, "niemand", PASSWORD)
    assert locked == unknown and locked[1], (locked, unknown)


def test_login_is_throttled_per_address(client: TestClient) -> None:
    # Guessing across many names never locks one account, but the address gets throttled.
    for n in range(10):
        page = client.get("/admin/anmelden")
        response = client.post(
            "/admin/anmelden", data={"name": f"gast{n}", "passwort": "irgendwas123", "csrf_token": _csrf(page.text)}
        )
        assert response.status_code == 401
    page = client.get("/admin/anmelden")
    response = client.post(
        "/admin/anmelden", data={"name": "anna", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
    )
    assert response.status_code == 429 and "Zu viele fehlgeschlagene Anmeldungen" in response.text
    assert int(response.headers["retry-after"]) > 0


def test_password_change_ends_sessions(context: AppContext, client: TestClient) -> None:
    login(client, "erik")
    assert client.get("/admin/").status_code == 200
    with context.database.session() as session:
        set_password(session, "erik", "ein ganz neues passwort")
    assert client.get("/admin/").status_code == 303


def test_editors_cannot_manage_sources_or_users(client: TestClient) -> None:
    login(client, "erik")
    page = client.get("/admin/")
    assert page.status_code == 200 and "/admin/quellen" not in page.text
    token = _csrf(page.text)
    assert client.get("/admin/quellen").status_code == 403
    assert client.get("/admin/benutzer").status_code == 403
    response = client.post(
        "/admin/quellen",
        data={"csrf_token": token, "url": "https://x.example/feed", "intervall": "15", "regel": "auto"},
    )
    assert response.status_code == 403
    assert client.get("/admin/warteschlange").status_code == 200


def test_admin_pages_are_not_cached_publicly(client: TestClient, held: Published) -> None:
    login(client)
    assert isinstance(client.app, FastAPI)
    cache = client.app.state.page_cache
    for path in ("/admin/", "/admin/warteschlange", f"/admin/uebersetzung/{held.translation_id}", "/admin/quellen"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "no-store" and "etag" not in response.headers
    assert not any("admin" in str(key) for key in cache._pages)
    assert client.get("/admin/uebersetzung/abc").headers["cache-control"] == "no-store"


# Review workflow ---------------------------------------------------------------------------------------


def test_stored_xss_in_an_edited_paragraph_is_neutralized(
    context: AppContext, client: TestClient, held: Published
) -> None:
    login(client, "erik")
    values, _ = _editor_form(client, held.translation_id)
    # Raw HTML typed into the box is text (shown escaped); markers make markup, sanitized like
    # text from the sources. A javascript: link is refused with the reason, never dropped silently.
    values["absatz-0"] = (
        'Harmlos <script>alert("xss")</script><img src=x onerror="alert(1)">'
        "[Link: Link → javascript:alert(2)] [fett: fett]"
    )
    values["titel"] = 'Titel <script>alert("t")</script>'
    refused = client.post(f"/admin/uebersetzung/{held.translation_id}/freigeben", data=values)
    assert refused.status_code == 400
    assert "die Link-Adresse „javascript:alert(2)“ ist nicht erlaubt" in html.unescape(refused.text)
    values["absatz-0"] = values["absatz-0"].replace("[Link: Link → javascript:alert(2)]", "Link")
    response = client.post(f"/admin/uebersetzung/{held.translation_id}/freigeben", data=values)
    assert response.status_code == 303 and response.headers["location"] == "/admin/warteschlange?ok=freigegeben"
    with context.database.session() as session:
        publication = session.get(Publication, held.publication_id)
        assert publication is not None and publication.status == "published"
        slug = publication.slug
    page = client.get(f"/{slug}/")
    assert page.status_code == 200
    body = page.text
    doc = lxml_html.fromstring(body)
    # No script but the JSON-LD, no event handler, no javascript: link anywhere in the page.
    assert [s.get("type") for s in doc.iter("script")] == ["application/ld+json"]
    assert not doc.xpath("//img") and not doc.xpath("//@*[starts-with(name(), 'on')]")
    assert "javascript:" not in body and "<script>alert" not in body
    first = doc.xpath("//div[@class='article-body']/p")[0]
    assert first.text_content().startswith('Harmlos <script>alert("xss")</script>')  # as text
    assert first.xpath(".//strong/text()") == ["fett"] and not first.xpath(".//a/@href")
    assert "redaktionell geprüft" in body and "Aus dem Englischen · maschinell übersetzt" in body
    # The editor page shows the stored text escaped, inside the textarea.
    editor = client.get(f"/admin/uebersetzung/{held.translation_id}").text
    assert "<script>alert" not in editor


def test_save_conflict_keeps_the_editors_input(context: AppContext, client: TestClient, held: Published) -> None:
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    first = dict(values, **{"absatz-1": "Erste Fassung."})
    assert client.post(f"/admin/uebersetzung/{held.translation_id}", data=first).status_code == 303
    stale = dict(values, **{"absatz-1": "Zweite Fassung aus altem Formular."})
    response = client.post(f"/admin/uebersetzung/{held.translation_id}", data=stale)
    assert response.status_code == 409 and "inzwischen geändert" in response.text
    assert "Zweite Fassung aus altem Formular." in response.text
    with context.database.session() as session:
        translation = session.get(Translation, held.translation_id)
        assert translation is not None and paragraphs_from_json(translation.paragraphs)[1].text == "Erste Fassung."
    # Saving the re-rendered form (with its new version) takes the editor's text.
    doc = lxml_html.fromstring(response.text)
    resubmit = {f.get("name"): f.value or "" for f in doc.get_element_by_id("editor").xpath(".//input|.//textarea")}
    assert client.post(f"/admin/uebersetzung/{held.translation_id}", data=resubmit).status_code == 303
    unchanged = client.post(
        f"/admin/uebersetzung/{held.translation_id}", data=_editor_form(client, held.translation_id)[0]
    )
    assert unchanged.headers["location"].endswith("?ok=unveraendert")


def test_retranslation_failure_is_shown_to_the_editor(context: AppContext, client: TestClient, held: Published) -> None:
    context.settings.model = str(TINY_MODEL.parent / "missing-model")
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    values["absatz-0"] = "Gespeichert trotz Fehler?"
    response = client.post(
        f"/admin/uebersetzung/{held.translation_id}/neu-uebersetzen", data={**values, "absatz": "2", "engine": "ct2"}
    )
    assert response.status_code == 400
    message = lxml_html.fromstring(response.text).xpath("//p[@class='admin-error']")[0].text_content()
    assert "Absatz 2 konnte mit ct2 nicht neu übersetzt werden" in message
    # One transaction: the failed re-translation saved nothing, the typed text is still in the form.
    assert "Gespeichert trotz Fehler?" in response.text
    with context.database.session() as session:
        translation = session.get(Translation, held.translation_id)
        assert translation is not None and paragraphs_from_json(translation.paragraphs)[0].text != values["absatz-0"]
    bad_engine = client.post(
        f"/admin/uebersetzung/{held.translation_id}/neu-uebersetzen", data={**values, "absatz": "2", "engine": "x"}
    )
    assert bad_engine.status_code == 400 and "Unbekannter Übersetzungsdienst" in bad_engine.text


def test_a_missing_model_is_explained_to_the_editor_in_german(
    context: AppContext, client: TestClient, held: Published
) -> None:
    context.settings.model = None
    context.settings.model_auto_pull = False
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    response = client.post(
        f"/admin/uebersetzung/{held.translation_id}/neu-uebersetzen", data={**values, "absatz": "2", "engine": "ct2"}
    )
    assert response.status_code == 400
    message = lxml_html.fromstring(response.text).xpath("//p[@class='admin-error']")[0].text_content()
    assert "Absatz 2 konnte mit ct2 nicht neu übersetzt werden (Kein Übersetzungsmodell für en→de" in message
    # No command-line advice for an editor: that is the CLI's English text.
    assert "--engine" not in message and "presseschau models" not in message and "`" not in message


def test_the_version_diff_names_the_machine_in_german(context: AppContext, client: TestClient, held: Published) -> None:
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    values["absatz-2"] = "Ein Streit über Käse."
    assert client.post(f"/admin/uebersetzung/{held.translation_id}", data=values).status_code == 303
    diff = client.get(f"/admin/uebersetzung/{held.translation_id}/versionen?von=1&zu=2").text
    heading = lxml_html.fromstring(diff).xpath("//h2[starts-with(., 'Version 1')]/following-sibling::p[1]")[0]
    assert heading.text_content().startswith("Übersetzungsdienst: ") and "engine:" not in diff


def test_slug_change_reject_and_versions(context: AppContext, client: TestClient, held: Published) -> None:
    login(client)
    values, _ = _editor_form(client, held.translation_id)
    token = values["csrf_token"]
    bad = client.post(f"/admin/uebersetzung/{held.translation_id}/slug", data={"csrf_token": token, "slug": "A B"})
    assert bad.status_code == 400
    response = client.post(
        f"/admin/uebersetzung/{held.translation_id}/slug", data={"csrf_token": token, "slug": "neue-adresse"}
    )
    assert response.status_code == 303
    values["absatz-2"] = "Ein Streit über Käse."
    client.post(f"/admin/uebersetzung/{held.translation_id}", data={**values, "version": "2"})
    versions = client.get(f"/admin/uebersetzung/{held.translation_id}/versionen")
    assert versions.status_code == 200
    assert "<ins>Käse.</ins>" in versions.text
    slug_diff = client.get(f"/admin/uebersetzung/{held.translation_id}/versionen?von=1&zu=2").text
    assert "<ins>neue-adresse</ins>" in slug_diff
    assert client.get(f"/admin/uebersetzung/{held.translation_id}/versionen?von=1&zu=9").status_code == 404
    assert (
        client.post(f"/admin/uebersetzung/{held.translation_id}/ablehnen", data={"csrf_token": token}).status_code
        == 400  # not confirmed: nothing happens
    )
    assert (
        client.post(
            f"/admin/uebersetzung/{held.translation_id}/ablehnen", data={"csrf_token": token, "bestaetigt": "ja"}
        ).status_code
        == 303
    )
    with context.database.session() as session:
        publication = session.get(Publication, held.publication_id)
        assert publication is not None and publication.status == "archived" and publication.slug == "neue-adresse"
    queue = client.get("/admin/warteschlange")
    assert f'data-translation="{held.translation_id}"' not in queue.text
    assert client.get("/admin/uebersetzung/999").status_code == 404


def test_queue_and_dashboard_counts(context: AppContext, client: TestClient, held: Published) -> None:
    with context.database.session() as session:
        make_article(session, context.settings, source=make_source(session, "Auto"))
        failing = make_source(session, "Kaputte Quelle")
        failing.consecutive_failures, failing.last_error = 3, "https://x.example/feed: HTTP 500"
        failing.last_status = "http_status"
        translation = session.get(Translation, held.translation_id)
        assert translation is not None
        translation.report = {"glossary_not_enforced": [{"term": "Kyiv"}]}
    login(client)
    queue = lxml_html.fromstring(client.get("/admin/warteschlange").text)
    rows = queue.xpath("//tr[@data-translation]")
    assert [r.get("data-translation") for r in rows] == [str(held.translation_id)]
    cells = [c.text_content().strip() for c in rows[0].xpath("td[not(input)]")]  # past the tick box
    assert cells[1] == "The Guardian" and cells[2] == "OPUS-MT (CTranslate2)" and "Wörter" in cells[3]
    assert "Glossar nicht durchgesetzt (1)" in cells[6]
    assert (
        len(lxml_html.fromstring(client.get("/admin/warteschlange?alle=1").text).xpath("//tr[@data-translation]")) == 2
    )
    dashboard = lxml_html.fromstring(client.get("/admin/").text)
    assert dashboard.get_element_by_id("anzahl-warteschlange").text_content() == "1"
    assert dashboard.xpath("//td[@data-status='published']")[0].text_content() == "1"
    assert dashboard.get_element_by_id("anzahl-quellenfehler").text_content() == "1"
    assert "HTTP-Fehler (technische Angabe: https://x.example/feed: HTTP 500)" in dashboard.text_content()


# Sources and users -------------------------------------------------------------------------------------


def test_sources_admin(context: AppContext, client: TestClient) -> None:
    login(client)
    token = _csrf(client.get("/admin/quellen").text)
    added = client.post(
        "/admin/quellen",
        data={
            "csrf_token": token,
            "url": "https://news.example/feed.xml",
            "name": "News",
            "intervall": "30",
            "regel": "review",
            "engine": "memory",
        },
    )
    assert added.status_code == 303
    with context.database.session() as session:
        source = session.scalars(select(Source)).one()
        assert (source.name, source.poll_interval_s, source.publish_policy, source.engine, source.enabled) == (
            "News",
            1800,
            "review",
            "memory",
            True,
        )
        source_id = source.id
    listing = client.get(f"/admin/quellen/{source_id}").text
    # German labels, not the stored words ("auto", "ok").
    assert "Art noch nicht erkannt" in listing and "(noch nie)" in listing and "· auto ·" not in listing
    # Engines under German labels and their display names ("Engine", "memory" were shown before).
    form = lxml_html.fromstring(listing)
    assert form.xpath(f"//label[@for='q{source_id}-engine']")[0].text_content() == "Übersetzungsdienst"
    chosen = form.xpath(f"//select[@id='q{source_id}-engine']/option[@selected]")[0]
    assert (chosen.get("value"), chosen.text_content()) == ("memory", "gespeicherte Übersetzungen")
    duplicate = client.post(
        "/admin/quellen",
        data={"csrf_token": token, "url": "https://news.example/feed.xml", "intervall": "30", "regel": "auto"},
    )
    assert duplicate.status_code == 400 and "Quelle nicht hinzugefügt" in duplicate.text
    too_fast = client.post(
        f"/admin/quellen/{source_id}", data={"csrf_token": token, "intervall": "0", "regel": "auto", "aktiv": "1"}
    )
    assert too_fast.status_code == 400 and "Abrufintervall" in too_fast.text
    # Pause (checkbox off), new interval, policy and default engine.
    paused = client.post(f"/admin/quellen/{source_id}", data={"csrf_token": token, "intervall": "60", "regel": "auto"})
    assert paused.status_code == 303
    with context.database.session() as session:
        updated = session.get(Source, source_id)
        assert updated is not None
        assert (updated.enabled, updated.poll_interval_s, updated.publish_policy, updated.engine) == (
            False,
            3600,
            "auto",
            None,
        )
        updated.consecutive_failures, updated.last_error = 2, "https://news.example/feed.xml: timed out"
        updated.last_status = "timeout"
    page = client.get(f"/admin/quellen/{source_id}").text
    # What went wrong in German, the network's own words as the technical detail.
    failure = (
        "Abruffehler (2× in Folge): Zeitüberschreitung (technische Angabe: https://news.example/feed.xml: timed out)"
    )
    assert "(pausiert)" in page and failure in page
    # One click only asks, saying how many articles stay; the source is still there.
    asked = client.post(f"/admin/quellen/{source_id}/entfernen", data={"csrf_token": token})
    assert asked.status_code == 200
    question = lxml_html.fromstring(asked.text)
    assert question.xpath("//h1")[0].text_content() == "Quelle „News“ entfernen?"
    assert question.xpath("//p[@id='bleiben']")[0].text_content().startswith("Ihre 0 Artikel bleiben erhalten")
    assert question.xpath("//input[@name='bestaetigt']/@value") == ["1"]
    with context.database.session() as session:
        assert session.get(Source, source_id) is not None
    confirmed = {"csrf_token": token, "bestaetigt": "1"}
    assert client.post(f"/admin/quellen/{source_id}/entfernen", data=confirmed).status_code == 303
    assert client.post("/admin/quellen/999/entfernen", data=confirmed).status_code == 404
    with context.database.session() as session:
        assert session.scalars(select(Source)).all() == []


def test_users_list_for_admins(client: TestClient) -> None:
    login(client)
    page = lxml_html.fromstring(client.get("/admin/benutzer").text)
    assert [row.xpath("td")[0].text_content() for row in page.xpath("//tbody/tr")] == ["anna", "erik"]
    assert "argon2" not in client.get("/admin/benutzer").text


def test_source_glossary_additions(context: AppContext, client: TestClient) -> None:
    login(client)
    token = _csrf(client.get("/admin/quellen").text)
    form = {"csrf_token": token, "url": "https://kyiv.example/feed.xml", "intervall": "15", "regel": "auto"}
    assert client.post("/admin/quellen", data={**form, "glossar": "Kyiv = Kiew\nZelensky"}).status_code == 303
    with context.database.session() as session:
        source = session.scalars(select(Source)).one()
        assert source.glossary == {"Kyiv": "Kiew", "Zelensky": "Zelensky"}
        source_id = source.id
    page = lxml_html.fromstring(client.get(f"/admin/quellen/{source_id}").text)
    assert page.get_element_by_id(f"q{source_id}-glossar").text_content() == "Kyiv = Kiew\nZelensky"
    bad = client.post(
        f"/admin/quellen/{source_id}", data={**form, "aktiv": "1", "glossar": "Kyiv = Kiew\nKyiv = Kyjiw"}
    )
    assert bad.status_code == 400 and "Glossar-Ergänzungen: Zeile 2" in bad.text
    assert client.post(f"/admin/quellen/{source_id}", data={**form, "aktiv": "1", "glossar": ""}).status_code == 303
    with context.database.session() as session:
        cleared = session.get(Source, source_id)
        assert cleared is not None and cleared.glossary is None and cleared.enabled


def test_editor_links_the_original_only_by_a_web_address(
    context: AppContext, client: TestClient, held: Published
) -> None:
    from presseschau.store.models import Article

    login(client)
    with context.database.session() as session:
        article = session.get(Article, held.article_id)
        assert article is not None
        article.canonical_url = "file:///home/editor/saved-page.html"  # an imported file without --url
    editor = client.get(f"/admin/uebersetzung/{held.translation_id}").text
    assert 'href="file:' not in editor and "What if the US" in editor


@pytest.mark.parametrize(
    "path",
    [
        "/admin/uebersetzung/9223372036854775808",
        "/admin/uebersetzung/9223372036854775808/versionen",
        "/admin/uebersetzung/abc",
        "/admin/gibt-es-nicht",
    ],
)
def test_admin_ids_out_of_range_or_malformed_are_404(client: TestClient, path: str) -> None:
    login(client)
    response = client.get(path)
    assert response.status_code == 404
    assert "detail" not in response.text
    assert response.headers["cache-control"] == "no-store"


def test_malformed_admin_ids_are_404_for_anonymous_visitors_too(client: TestClient) -> None:
    # FastAPI runs a route's dependencies (here the sign-in guard) before it validates the path;
    # the admin route class checks the path first, so a malformed URL is 404, not the login page.
    for path in ("/admin/uebersetzung/abc", "/admin/uebersetzung/9223372036854775808/versionen"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["cache-control"] == "no-store"
    assert client.get("/admin/uebersetzung/1").headers["location"].startswith("/admin/anmelden")


def test_admin_post_with_an_id_out_of_range_is_404(client: TestClient) -> None:
    login(client)
    page = client.get("/admin/quellen")
    response = client.post("/admin/quellen/9223372036854775808/entfernen", data={"csrf_token": _csrf(page.text)})
    assert response.status_code == 404


def test_a_published_article_changes_only_when_the_change_is_published(context: AppContext, client: TestClient) -> None:
    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session, "Foreign Policy"))
    login(client, "erik")
    live_before = client.get(f"/{made.slug}/").text
    values, doc = _editor_form(client, made.translation_id)
    assert doc.get_element_by_id("veroeffentlichen").text_content() == "Änderung veröffentlichen"
    assert doc.get_element_by_id("speichern").text_content() == "Entwurf speichern"
    original = values["absatz-0"]
    draft_text = "Ein Entwurf, den noch niemand draußen lesen soll."
    saved = client.post(
        f"/admin/uebersetzung/{made.translation_id}", data={**values, "absatz-0": draft_text, "aktion": "entwurf"}
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?ok=entwurf")
    # The live page is unchanged; the editor shows the draft, marked as such.
    live = client.get(f"/{made.slug}/").text
    assert draft_text not in live and "Aktualisiert am" not in live
    values, doc = _editor_form(client, made.translation_id)
    assert values["absatz-0"] == draft_text
    assert "noch nicht veröffentlicht" in doc.get_element_by_id("entwurf-hinweis").text_content()
    with context.database.session() as session:
        translation = session.get(Translation, made.translation_id)
        assert translation is not None and translation.draft is not None
        assert paragraphs_from_json(translation.paragraphs)[0].html == original
    # Pressing Enter (no button) also only saves the draft.
    again = client.post(f"/admin/uebersetzung/{made.translation_id}", data=values)
    assert again.headers["location"].endswith("?ok=entwurf")
    assert draft_text not in client.get(f"/{made.slug}/").text
    published = client.post(f"/admin/uebersetzung/{made.translation_id}", data={**values, "aktion": "veroeffentlichen"})
    assert published.status_code == 303 and published.headers["location"].endswith("?ok=veroeffentlicht")
    live = client.get(f"/{made.slug}/").text
    assert draft_text in live and "Aktualisiert am" in live and live != live_before
    with context.database.session() as session:
        translation = session.get(Translation, made.translation_id)
        assert translation is not None and translation.draft is None


def test_retranslating_a_paragraph_of_a_published_article_goes_into_the_draft(
    context: AppContext, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from presseschau.editorial import review

    with context.database.session() as session:
        made = make_article(session, context.settings, source=make_source(session, "Foreign Policy"))
    login(client, "erik")
    values, _ = _editor_form(client, made.translation_id)

    def fake_retranslate(*args: Any, into_draft: bool = False, **kwargs: Any) -> None:
        assert into_draft  # a live article's new paragraph must wait in the draft
        translation = args[2]
        review.save_draft(translation, "erik", paragraphs={args[3]: "Neu übersetzter Absatz."})

    monkeypatch.setattr(review, "retranslate_paragraph", fake_retranslate)
    response = client.post(f"/admin/uebersetzung/{made.translation_id}/neu-uebersetzen", data={**values, "absatz": "2"})
    assert response.status_code == 303
    assert "Neu übersetzter Absatz." not in client.get(f"/{made.slug}/").text
    values, _ = _editor_form(client, made.translation_id)
    assert values["absatz-1"] == "Neu übersetzter Absatz."


def test_admins_manage_users_in_the_admin(context: AppContext, client: TestClient) -> None:
    from fastapi.testclient import TestClient as Client

    login(client)
    token = _csrf(client.get("/admin/benutzer").text)
    # Add: the same rules as the CLI (password length, unique name), said in German.
    short = client.post(
        "/admin/benutzer", data={"csrf_token": token, "name": "lena", "passwort": "kurz", "passwort2": "kurz"}
    )
    assert short.status_code == 400 and "mindestens 10 Zeichen" in short.text
    new = {"csrf_token": token, "name": "lena", "rolle": "editor", "passwort": PASSWORD, "passwort2": PASSWORD}
    assert client.post("/admin/benutzer", data=new).headers["location"] == "/admin/benutzer?ok=benutzer-angelegt"
    twice = client.post("/admin/benutzer", data=new)
    assert twice.status_code == 400 and "gibt es schon" in twice.text
    # Without the CSRF token nothing happens.
    assert client.post("/admin/benutzer", data={**new, "csrf_token": "x", "name": "mia"}).status_code == 403
    with context.database.session() as session:
        from presseschau.store.models import User

        ids = {user.name: user.id for user in session.scalars(select(User))}
    assert set(ids) == {"anna", "erik", "lena"}

    # Erik signs in; disabling him ends his session and refuses new sign-ins.
    with Client(create_app(context), follow_redirects=False) as other:
        login(other, "erik")
        assert other.get("/admin/warteschlange").status_code == 200
        disabled = client.post(
            f"/admin/benutzer/{ids['erik']}/sperren", data={"csrf_token": token, "aktion": "sperren"}
        )
        assert disabled.headers["location"].endswith("ok=benutzer-gesperrt")
        assert other.get("/admin/warteschlange").status_code == 303  # back to the login form
        page = other.get("/admin/anmelden")
        refused = other.post(
            "/admin/anmelden", data={"name": "erik", "passwort": PASSWORD, "csrf_token": _csrf(page.text)}
        )
        assert refused.status_code != 303
    client.post(f"/admin/benutzer/{ids['erik']}/sperren", data={"csrf_token": token, "aktion": "entsperren"})
    # Reset: a new password works, the old one no longer.
    new_password = "ganz neues passwort 7"
    reset = client.post(
        f"/admin/benutzer/{ids['erik']}/passwort",
        data={"csrf_token": token, "passwort": new_password, "passwort2": new_password},
    )
    assert reset.headers["location"].endswith("ok=passwort-gesetzt")
    with Client(create_app(context), follow_redirects=False) as other:
        login(other, "erik", new_password)
    # The last admin can be neither disabled nor removed; an editor can be removed (confirmed).
    last = client.post(f"/admin/benutzer/{ids['anna']}/sperren", data={"csrf_token": token, "aktion": "sperren"})
    assert last.status_code == 400 and "letzte Administrator" in last.text
    last = client.post(f"/admin/benutzer/{ids['anna']}/entfernen", data={"csrf_token": token, "bestaetigt": "1"})
    assert last.status_code == 400 and "letzte Administrator" in last.text
    unconfirmed = client.post(f"/admin/benutzer/{ids['lena']}/entfernen", data={"csrf_token": token})
    assert unconfirmed.status_code == 400
    removed = client.post(f"/admin/benutzer/{ids['lena']}/entfernen", data={"csrf_token": token, "bestaetigt": "1"})
    assert removed.headers["location"].endswith("ok=benutzer-entfernt")
    page = lxml_html.fromstring(client.get("/admin/benutzer").text)
    assert [row.get("data-user") for row in page.xpath("//tbody/tr")] == ["anna", "erik"]


def test_editors_cannot_manage_users(client: TestClient) -> None:
    login(client, "erik")
    token = _csrf(client.get("/admin/").text)
    data = {"csrf_token": token, "name": "mia", "rolle": "admin", "passwort": PASSWORD, "passwort2": PASSWORD}
    assert client.post("/admin/benutzer", data=data).status_code == 403
    assert client.post("/admin/benutzer/1/entfernen", data={"csrf_token": token, "bestaetigt": "1"}).status_code == 403


def test_editor_shows_markers_not_html_and_keeps_links(context: AppContext, client: TestClient) -> None:
    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        made = make_article(
            session,
            context.settings,
            source=source,
            body_de=[
                Paragraph(
                    "p",
                    'Mehr dazu <a href="https://example.org/x">in der Analyse</a> von <em>Lukaschenkos</em> Politik.',
                )
            ],
            body_en=["More in the analysis of Lukashenko's politics."],
        )
    login(client, "erik")
    values, _ = _editor_form(client, made.translation_id)
    assert (
        values["absatz-0"]
        == "Mehr dazu [Link: in der Analyse → https://example.org/x] von [kursiv: Lukaschenkos] Politik."
    )
    assert "&lt;a href" not in client.get(f"/admin/uebersetzung/{made.translation_id}").text
    # Sent back untouched: nothing changed (no revision).
    unchanged = client.post(f"/admin/uebersetzung/{made.translation_id}", data=values)
    assert unchanged.headers["location"].endswith("?ok=unveraendert")
    values["absatz-0"] = values["absatz-0"].replace("Mehr dazu", "Mehr")
    assert (
        client.post(f"/admin/uebersetzung/{made.translation_id}", data=values)
        .headers["location"]
        .endswith("?ok=gespeichert")
    )
    with context.database.session() as session:
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        assert paragraphs_from_json(translation.paragraphs)[0].html == (
            'Mehr <a href="https://example.org/x" rel="noopener nofollow">in der Analyse</a> von '
            "<em>Lukaschenkos</em> Politik."
        )
    values, _ = _editor_form(client, made.translation_id)
    values["absatz-0"] = "Kaputt [fett: offen"
    broken = client.post(f"/admin/uebersetzung/{made.translation_id}", data=values)
    assert broken.status_code == 400 and "Absatz 1: eine Marke" in broken.text


def test_the_press_review_day_shows_titles_and_outlets_as_text(context: AppContext, client: TestClient) -> None:
    # Titles and outlets are stored as inline HTML ("AT&amp;T"): the editor sees the text ("AT&T"),
    # as in the review queue and on the public page, never entities or characters XML forbids.
    with context.database.session() as session:
        make_article(
            session,
            context.settings,
            title_de="AT&amp;T &lt;b&gt;kauft&lt;/b&gt;\x0b Nokia",
            outlet="Barnes &amp; Noble\x01 Review",
            published_at=datetime(2026, 11, 9, 9, tzinfo=UTC),
        )
    login(client)
    page = client.get("/admin/presseschau/2026-11-09")
    assert page.status_code == 200
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", page.text)
    item = lxml_html.fromstring(page.text).xpath("//ul[@class='admin-story-articles']/li")[0]
    assert "Barnes & Noble Review: AT&T <b>kauft</b> Nokia" in " ".join(item.text_content().split())
    field = lxml_html.fromstring(page.text).xpath("//input[@name='ueberschrift']")[0]
    assert field.get("placeholder") == "AT&T <b>kauft</b> Nokia"


def test_editors_reach_filtered_articles_and_confirm_withdrawal(context: AppContext, client: TestClient) -> None:
    from tests.stories.story_data import QUAKE, publish_event

    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)
    login(client, "erik")
    home = client.get("/admin/")
    assert 'href="/admin/gefiltert"' in home.text
    token = _csrf(home.text)
    unconfirmed = client.post(
        "/admin/presseschau/2026-11-09/freigeben", data={"csrf_token": token, "aktion": "zurueckziehen"}
    )
    assert unconfirmed.status_code == 400 and "Ja, zurückziehen" in unconfirmed.text
    confirmed = client.post(
        "/admin/presseschau/2026-11-09/freigeben",
        data={"csrf_token": token, "aktion": "zurueckziehen", "bestaetigt": "ja"},
    )
    assert confirmed.status_code == 303


def test_whole_article_retranslation_with_the_chosen_engine(context: AppContext, client: TestClient) -> None:
    from presseschau.translate.memory import TranslationMemory

    with context.database.session() as session:
        source = make_source(session, "The Guardian", policy="review")
        old_german = [f"Eine ältere, schlechtere Fassung von Absatz {n}." for n in range(len(GERMAN_BODY))]
        held = make_article(session, context.settings, source=source, engine="firefox", body_de=old_german)
        article = session.get_one(Translation, held.translation_id).article
        originals = paragraphs_from_json(article.paragraphs)
    TranslationMemory(context.database, "en", "de").import_pairs(
        [(p.html, german) for p, german in zip(originals, GERMAN_BODY, strict=True)], origin="reviewed"
    )
    login(client, "erik")
    page = client.get(f"/admin/uebersetzung/{held.translation_id}")
    assert 'id="alles-neu-uebersetzen"' in page.text
    response = client.post(
        f"/admin/uebersetzung/{held.translation_id}/alles-neu-uebersetzen",
        data={"csrf_token": _csrf(page.text), "engine": "memory"},
    )
    assert response.status_code == 303, response.text
    with context.database.session() as session:
        translation = session.get_one(Translation, held.translation_id)
        texts = [p.html for p in paragraphs_from_json(translation.paragraphs)]
    assert texts == GERMAN_BODY  # every paragraph, from the chosen stored translations
