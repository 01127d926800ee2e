"""Editors and admins in headless Chromium: markers instead of HTML, drafts of published articles,
confirmed source removal, account management. Screenshots under test-artifacts/screenshots/admin-*."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.content import Paragraph
from presseschau.editorial.users import add_user
from presseschau.publish.formatting import local_datetime
from presseschau.store.models import Source, Translation
from presseschau.web import public as web_app
from tests.publish.factories import make_article, make_source
from tests.web.browser import navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser

PASSWORD = "redaktion geheim 2024"
LINKED = 'Mehr dazu <a href="https://example.org/analyse">in der Analyse</a> von <em>Lukaschenkos</em> Politik.'


def _public(url: str) -> str:
    # Outside the browser, whose cache would keep the page for its max-age.
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode("utf-8"))


def _login(driver: WebDriver, base: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/admin/anmelden")
    driver.find_element(By.ID, "name").send_keys("anna")
    password = driver.find_element(By.ID, "passwort")
    password.send_keys(PASSWORD)
    navigate(driver, password.submit)


def test_published_article_edited_as_draft_then_published(
    context: AppContext,
    server: str,
    browser: WebDriver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from selenium.webdriver.common.by import By

    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    translated = datetime(2024, 2, 13, 7, 5, tzinfo=UTC)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        made = make_article(session, context.settings, source=make_source(session), body_de=[Paragraph("p", LINKED)])
        translation = session.get(Translation, made.translation_id)
        assert translation is not None
        translation.translated_at = translated
    driver = browser
    _login(driver, server)
    driver.get(f"{server}/admin/uebersetzung/{made.translation_id}")
    field = driver.find_element(By.ID, "feld-0")
    # Readable markers, not <a href="…">.
    markers = "Mehr dazu [Link: in der Analyse → https://example.org/analyse] von [kursiv: Lukaschenkos] Politik."
    assert field.get_attribute("value") == markers
    labels = driver.find_element(By.CSS_SELECTOR, ".admin-facts").text
    assert "Übersetzungsdienst" in labels and "OPUS-MT (CTranslate2)" in labels and "Engine" not in labels
    # The machine version is dated to the translation, not to this first opening.
    history = driver.find_elements(By.CSS_SELECTOR, ".admin-history li")
    stamp = local_datetime(translated, context.settings.timezone).strftime("%d.%m.%Y %H:%M")
    assert history[-1].text.startswith(f"Maschinenübersetzung – Übersetzungsdienst: OPUS-MT (CTranslate2), {stamp}")
    screenshot(driver, "admin-editor-markers-1280.png", 1280)
    screenshot(driver, "admin-editor-markers-390.png", 390)
    driver.set_window_size(1280, 900)

    field = driver.find_element(By.ID, "feld-0")
    field.clear()
    field.send_keys(markers.replace("Mehr dazu", "Ausführlich"))
    navigate(driver, driver.find_element(By.ID, "speichern").click)
    notice = driver.find_element(By.CSS_SELECTOR, ".admin-notice[role=status]").text
    assert notice.startswith("Entwurf gespeichert")
    page = _public(f"{server}/{made.slug}/")
    assert "Ausführlich" not in page and "Aktualisiert am" not in page  # the live page is unchanged

    navigate(driver, driver.find_element(By.ID, "veroeffentlichen").click)
    page = _public(f"{server}/{made.slug}/")
    assert "Ausführlich" in page and "Aktualisiert am" in page
    driver.get(f"{server}/{made.slug}/")
    first = driver.find_element(By.CSS_SELECTOR, ".article-body p")
    link = first.find_element(By.TAG_NAME, "a")
    assert link.get_attribute("href") == "https://example.org/analyse" and link.text == "in der Analyse"
    assert first.find_element(By.TAG_NAME, "em").text == "Lukaschenkos"


def test_admin_confirms_source_removal_and_manages_accounts(
    context: AppContext,
    server: str,
    browser: WebDriver,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        source = make_source(session, "Northern Dispatch")
        make_article(session, context.settings, source=source)
        source_id = source.id
    driver = browser
    _login(driver, server)

    driver.get(f"{server}/admin/quellen/{source_id}")  # the source's own page
    card = driver.find_element(By.ID, f"quelle-{source_id}")
    navigate(driver, card.find_element(By.CSS_SELECTOR, "button.admin-danger").click)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Quelle „Northern Dispatch“ entfernen?"
    assert driver.find_element(By.ID, "bleiben").text.startswith("Ihr 1 Artikel bleibt erhalten")
    with context.database.session() as session:
        assert session.get(Source, source_id) is not None  # one click removed nothing
    navigate(driver, driver.find_element(By.ID, "entfernen-bestaetigen").click)
    # The POST answers with a redirect: wait for the page it leads to, or a late arrival of that
    # page could replace the next one under the test's hands (seen once on a loaded machine).
    WebDriverWait(driver, 20).until(lambda d: "ok=quelle-entfernt" in d.current_url)
    with context.database.session() as session:
        assert session.get(Source, source_id) is None

    driver.get(f"{server}/admin/benutzer")
    driver.find_element(By.ID, "neu-name").send_keys("lena")
    driver.find_element(By.ID, "neu-passwort").send_keys(PASSWORD)
    driver.find_element(By.ID, "neu-passwort2").send_keys(PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "#benutzer-anlegen button").click)
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "Benutzer angelegt."
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-user='lena']")
    navigate(driver, row.find_element(By.CSS_SELECTOR, "button[value='sperren']").click)
    row = driver.find_element(By.CSS_SELECTOR, "tr[data-user='lena']")
    assert "gesperrt" in row.text
    # The last admin stays: disabling anna is refused with the reason.
    anna = driver.find_element(By.CSS_SELECTOR, "tr[data-user='anna']")
    navigate(driver, anna.find_element(By.CSS_SELECTOR, "button[value='sperren']").click)
    error = driver.find_element(By.CSS_SELECTOR, ".admin-error").text
    assert "letzte Administrator" in error
    screenshot(driver, "admin-users-1280.png", 1280)
    screenshot(driver, "admin-users-390.png", 390)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0  # on a phone the table scrolls in its box, not the page
