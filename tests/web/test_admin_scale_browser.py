"""Issue 23 items 5 and 9 in headless Chromium at 1280 and 390 px: the sources table (sort, search,
pages), a source's page with „Jetzt abrufen“ and a refused edit that keeps its work, the preview
before adding, and a bulk release in the review queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.ingest.sources import create_source
from presseschau.store.models import Article, Publication
from tests.ingest.conftest import NewsSite, news_site, threaded_server  # noqa: F401 -- shared fixtures
from tests.publish.factories import make_article, make_source
from tests.web.test_browser import _navigate, _screenshot, browser, server  # noqa: F401 -- shared fixtures

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser
PASSWORD = "quellen in grossen mengen"


# The elements past the right edge, outside the boxes that scroll on their own (wide tables).
OVERFLOWING = """return Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth && !e.closest('.admin-scroll'))
  .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className).join(', ')"""


def _no_sideways_scroll(driver: WebDriver, width: int) -> None:
    scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{scroll_width} px wide at {width} px: " + driver.execute_script(OVERFLOWING)


@pytest.mark.parametrize("width", (1280, 390))
def test_sources_at_scale_and_forms_that_keep_work(
    context: AppContext,
    server: str,  # noqa: F811 -- the shared fixture
    browser: WebDriver,  # noqa: F811
    news_site: NewsSite,  # noqa: F811
    width: int,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(width, 900)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        review_source = make_source(session, "Review Desk", policy="review")
        held = [make_article(session, context.settings, source=review_source, title_de=f"Held {n}") for n in range(2)]
    for number in range(54):
        create_source(
            context.database, context.settings, f"https://outlet{number:02d}.example/rss", name=f"Outlet {number:02d}"
        )
    courier = create_source(context.database, context.settings, news_site.url("/rss.xml"), name="Coastal Courier")

    driver.get(server + "/admin/quellen")
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys(PASSWORD)
    _navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)

    # The table: 50 rows a page, sorted by a click on a column, searched with the form.
    rows = driver.find_elements(By.CSS_SELECTOR, "#quellen tbody tr")
    assert len(rows) == 50
    assert driver.find_element(By.ID, "quellen-anzahl").text == "56 Quellen, Seite 1 von 2"
    _no_sideways_scroll(driver, width)
    _screenshot(driver, f"admin-quellen-tabelle-{width}.png", width)
    _navigate(driver, driver.find_element(By.LINK_TEXT, "nächste Seite →").click)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#quellen tbody tr")) == 6
    search = driver.find_element(By.ID, "quellen-suche")
    search.send_keys("courier")
    _navigate(driver, search.submit)
    names = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "#quellen tbody td:first-child a")]
    assert names == ["Coastal Courier"]

    # The source's page: „Jetzt abrufen“ polls it and says what came of it.
    _navigate(driver, driver.find_element(By.LINK_TEXT, "Coastal Courier").click)
    _navigate(driver, driver.find_element(By.ID, "jetzt-abrufen").click)
    notice = driver.find_element(By.CSS_SELECTOR, ".admin-notice").text
    assert notice.startswith("Abgerufen: 2 Einträge gesehen; Artikel: 2 neu")
    with context.database.session() as session:
        assert len(session.scalars(select(Article).where(Article.source_id == courier.id)).all()) == 2

    # A refused edit keeps every field as typed, the message at the glossary field.
    glossary = driver.find_element(By.ID, f"q{courier.id}-glossar")
    glossary.send_keys("Kyiv = Kiew\nKyiv = Kyjiw")
    name = driver.find_element(By.ID, f"q{courier.id}-name")
    name.clear()
    name.send_keys("Küstenkurier")
    _navigate(driver, driver.find_element(By.CSS_SELECTOR, f"#q{courier.id}-formular button[type='submit']").click)
    glossary = driver.find_element(By.ID, f"q{courier.id}-glossar")
    assert glossary.get_attribute("value") == "Kyiv = Kiew\nKyiv = Kyjiw"
    assert glossary.get_attribute("aria-invalid") == "true"
    message = driver.find_element(By.ID, glossary.get_attribute("aria-describedby"))
    assert message.is_displayed() and message.text.startswith("Glossar-Ergänzungen: Zeile 2")
    assert driver.find_element(By.ID, f"q{courier.id}-name").get_attribute("value") == "Küstenkurier"
    _no_sideways_scroll(driver, width)
    _screenshot(driver, f"admin-quelle-abgelehnt-{width}.png", width)

    # The preview before adding: the feed's newest items, nothing stored.
    driver.get(server + "/admin/quellen")
    driver.find_element(By.ID, "neu-url").send_keys(news_site.url("/atom.xml"))
    _navigate(driver, driver.find_element(By.ID, "neu-vorschau").click)
    preview = driver.find_element(By.ID, "vorschau")
    assert preview.text.startswith("Vorschau: Feed") and len(preview.find_elements(By.TAG_NAME, "li")) >= 1
    assert driver.find_element(By.ID, "neu-url").get_attribute("value") == news_site.url("/atom.xml")
    _screenshot(driver, f"admin-quelle-vorschau-{width}.png", width)

    # Bulk release in the review queue: tick, confirm once, release.
    driver.get(server + "/admin/warteschlange")
    for item in held:
        driver.find_element(By.ID, f"auswahl-{item.translation_id}").click()
    driver.find_element(By.ID, "auswahl-bestaetigt").click()
    _no_sideways_scroll(driver, width)
    _navigate(driver, driver.find_element(By.ID, "auswahl-freigeben").click)
    assert driver.find_element(By.CSS_SELECTOR, ".admin-notice").text == "2 Artikel freigegeben und veröffentlicht."
    with context.database.session() as session:
        statuses = {p.translation_id: p.status for p in session.scalars(select(Publication))}
    assert all(statuses[item.translation_id] == "published" for item in held)


@pytest.mark.parametrize("width", (1280, 390))
def test_refused_user_and_editor_forms_keep_work_in_the_browser(
    context: AppContext,
    server: str,  # noqa: F811 -- the shared fixture
    browser: WebDriver,  # noqa: F811
    width: int,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(width, 900)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
        made = make_article(session, context.settings, source=make_source(session, "Desk", policy="review"))
    driver.get(server + "/admin/benutzer")
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys("falsch")
    _navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)
    # A failed login keeps the name; the password field is empty and marked.
    assert driver.find_element(By.ID, "name").get_attribute("value") == "anna"
    password = driver.find_element(By.ID, "passwort")
    assert password.get_attribute("value") == "" and password.get_attribute("aria-invalid") == "true"
    password.send_keys(PASSWORD)
    _navigate(driver, password.submit)

    # A new user with passwords that differ: the name and role come back, the message at the field.
    driver.find_element(By.ID, "neu-name").send_keys("lena")
    driver.find_element(By.CSS_SELECTOR, "#neu-rolle option[value='admin']").click()
    driver.find_element(By.ID, "neu-passwort").send_keys("ein langes passwort 1")
    driver.find_element(By.ID, "neu-passwort2").send_keys("ein langes passwort 2")
    _navigate(driver, driver.find_element(By.CSS_SELECTOR, "#benutzer-anlegen button").click)
    assert driver.find_element(By.ID, "neu-name").get_attribute("value") == "lena"
    assert driver.find_element(By.CSS_SELECTOR, "#neu-rolle option[selected]").get_attribute("value") == "admin"
    repeated = driver.find_element(By.ID, "neu-passwort2")
    message = driver.find_element(By.ID, repeated.get_attribute("aria-describedby"))
    assert message.is_displayed() and message.text == "Die beiden Passwörter stimmen nicht überein."
    _no_sideways_scroll(driver, width)
    _screenshot(driver, f"admin-benutzer-abgelehnt-{width}.png", width)

    # The editor: a javascript: link is reported next to its paragraph, the typed text kept.
    driver.get(f"{server}/admin/uebersetzung/{made.translation_id}")
    paragraph = driver.find_element(By.ID, "feld-1")
    paragraph.clear()
    typed = "Siehe [Link: hier → javascript:alert(1)]."
    paragraph.send_keys(typed)
    _navigate(driver, driver.find_element(By.ID, "speichern").click)
    paragraph = driver.find_element(By.ID, "feld-1")
    assert paragraph.get_attribute("value") == typed and paragraph.get_attribute("aria-invalid") == "true"
    message = driver.find_element(By.ID, paragraph.get_attribute("aria-describedby"))
    assert message.is_displayed() and "nicht erlaubt" in message.text
    _screenshot(driver, f"admin-editor-link-abgelehnt-{width}.png", width)
