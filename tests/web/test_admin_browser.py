"""The review workflow in headless Chromium: log in, queue, edit, re-translate (tiny model), approve."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.store.models import Translation
from presseschau.web import public as web_app
from tests.publish.factories import make_article, make_source
from tests.web.browser import navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser

TINY_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "models" / "tiny-en-de"
PASSWORD = "redaktion geheim 2024"
EDITED = "Belarus diente als Aufmarschgebiet; Lukaschenko ließ die russischen Truppen ungehindert passieren."


@pytest.fixture(autouse=True)
def _tiny_model_and_fresh_pages(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    # Re-translation runs the tiny random-weight model through the real ct2 engine.
    context.settings.engine = "ct2"
    context.settings.model = str(TINY_MODEL)
    # The public page must show the approval at once, not after the site-version TTL.
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)


def test_review_journey(context: AppContext, server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="editor")
        made = make_article(session, context.settings, source=make_source(session, "The Guardian", policy="review"))
    # Held for review: not on the public site yet (asked outside the browser, whose cache would
    # keep the 404 for its max-age).
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{server}/{made.slug}/", timeout=10)
    assert missing.value.code == 404

    # Anonymous: the admin area sends us to the login form, which returns us afterwards.
    driver.get(server + "/admin/warteschlange")
    assert "/admin/anmelden" in driver.current_url
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys(PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)
    assert driver.current_url == server + "/admin/warteschlange"

    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-translation]")
    assert [row.get_attribute("data-translation") for row in rows] == [str(made.translation_id)]
    assert "The Guardian" in rows[0].text and "CTranslate2" in rows[0].text
    navigate(driver, rows[0].find_element(By.TAG_NAME, "a").click)
    assert driver.current_url == f"{server}/admin/uebersetzung/{made.translation_id}"
    english = driver.find_elements(By.CSS_SELECTOR, ".admin-side-by-side td[lang='en']")
    assert "Lukashenko let the troops pass" in english[1].text

    # Edit German paragraph 2 and save.
    field = driver.find_element(By.ID, "feld-1")
    field.clear()
    field.send_keys(EDITED)
    navigate(driver, driver.find_element(By.ID, "speichern").click)
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "Änderungen gespeichert."
    assert driver.find_element(By.ID, "feld-1").get_attribute("value") == EDITED

    # Re-translate paragraph 3 with the tiny model (engine chosen explicitly).
    before = driver.find_element(By.ID, "feld-2").get_attribute("value")
    Select(driver.find_element(By.ID, "engine")).select_by_value("ct2")
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "button[name='absatz'][value='3']").click)
    errors = driver.find_elements(By.CSS_SELECTOR, ".admin-error")
    assert not errors, errors[0].text if errors else ""
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "Absatz neu übersetzt."
    retranslated = driver.find_element(By.ID, "feld-2").get_attribute("value")
    assert retranslated and retranslated != before
    assert driver.find_element(By.ID, "feld-1").get_attribute("value") == EDITED
    screenshot(driver, "admin-editor.png", 1280)

    # Approve: back to the (now empty) queue.
    navigate(driver, driver.find_element(By.ID, "freigeben").click)
    assert driver.current_url.startswith(server + "/admin/warteschlange")
    assert "freigegeben" in driver.find_element(By.CSS_SELECTOR, ".admin-notice").text
    assert not driver.find_elements(By.CSS_SELECTOR, "tr[data-translation]")

    # The public page shows the edit and the reviewed notice.
    with context.database.session() as session:
        translation = session.get(Translation, made.translation_id)
        assert translation is not None and translation.publication is not None
        slug = translation.publication.slug
        assert translation.reviewed
    driver.get(f"{server}/{slug}/")
    body = driver.find_element(By.CSS_SELECTOR, ".article-body").text
    assert EDITED in body
    assert "redaktionell geprüft" in driver.find_element(By.TAG_NAME, "body").text

    # The revision history lists both changes with their author.
    driver.get(f"{server}/admin/uebersetzung/{made.translation_id}")
    history = [li.text for li in driver.find_elements(By.CSS_SELECTOR, ".admin-history li")]
    assert len(history) == 4
    assert history[0].startswith("Freigegeben – anna")
    assert history[1].startswith("Absatz 3 neu übersetzt mit ct2 – anna")
    assert history[2].startswith("Bearbeitet – anna")
    # German label with the engine's display name, not "engine:ct2".
    assert history[3].startswith("Maschinenübersetzung – Übersetzungsdienst: OPUS-MT (CTranslate2)")
    # And the diff of the edit shows the new words.
    navigate(driver, driver.find_elements(By.CSS_SELECTOR, ".admin-history li a")[2].click)
    inserted = " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, ".admin-diff ins"))
    assert "ungehindert" in inserted
