"""Die Presseschau des Tages in headless Chromium, on the demo set: the latest review, a day with
stories from several outlets (headings, links to the German article and the original, feeds), and
an editor's work in the admin area (headline, split, merge, withdraw, release)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.web import public as web_app
from tests.demo_site import load_demo_site
from tests.web.browser import attribute, navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

pytestmark = pytest.mark.browser
PASSWORD = "korrekt pferd batterie"


@pytest.fixture
def demo(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    yield load_demo_site(context)


def _submit(driver: WebDriver, button: WebElement, notice: str) -> None:
    """Click a form's button and wait for the page it redirects to, by its notice (no staleness checks:
    under load Chromium sometimes answers those with an inspector error)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def shown(d: WebDriver) -> bool:
        try:
            return any(notice in e.text for e in d.find_elements(By.CSS_SELECTOR, ".admin-notice"))
        except StaleElementReferenceException:
            return False
        except WebDriverException as error:
            # A notice of the page being replaced: Chromium may call it a node of another document
            # instead of stale (the same fact, as in test_browser._navigate); read again next poll.
            if "does not belong to the document" in str(error):
                return False
            raise

    button.click()
    WebDriverWait(driver, 30).until(shown)


def _stories(driver: WebDriver) -> list[WebElement]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "li.review-story")


def test_reader_opens_the_presseschau_and_a_day(demo: dict[str, str], server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(server + "/")
    nav_link = driver.find_element(By.CSS_SELECTOR, ".site-nav a[href='/presseschau/']")
    assert nav_link.text.lower() == "presseschau"  # shown in capitals by the stylesheet
    navigate(driver, nav_link.click)
    assert driver.current_url == server + "/presseschau/"
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("Die Presseschau des Tages") and "24. November 2026" in heading
    # The ferry aground off Inchmorra and Lukashenko's Minsk offer, two outlets each; Copenhagen's charge.
    reports = [len(s.find_elements(By.CSS_SELECTOR, "li.review-entry")) for s in _stories(driver)]
    assert reports == [2, 2, 1]
    feeds = {
        a.get_attribute("class"): a.get_attribute("href")
        for a in driver.find_elements(By.CSS_SELECTOR, ".review-feeds a")
    }
    assert feeds == {
        "feed-rss": server + "/presseschau/feed.xml",
        "feed-atom": server + "/presseschau/atom.xml",
        "feed-json": server + "/presseschau/feed.json",
    }
    # An earlier day: the Bank of England vote, reported by three outlets.
    navigate(driver, driver.find_element(By.LINK_TEXT, "5. November 2026").click)
    assert driver.current_url == server + "/presseschau/2026/11/05/"
    story = _stories(driver)[0]
    assert "Bank of England" in story.find_element(By.TAG_NAME, "h2").text
    entries = story.find_elements(By.CSS_SELECTOR, "li.review-entry")
    outlets = sorted(e.find_element(By.CSS_SELECTOR, "strong.outlet").text for e in entries)
    assert outlets == ["Continental Review", "The Harbour Ledger", "The Northern Dispatch"]
    originals = [e.find_element(By.CSS_SELECTOR, "a.review-original").get_attribute("href") for e in entries]
    assert set(originals) <= set(demo) and len(set(originals)) == 3
    german = entries[0].find_element(By.CSS_SELECTOR, "a.review-german")
    target = attribute(german, "href")
    assert target.removeprefix(server).strip("/") in demo.values()
    screenshot(driver, "presseschau-day-desktop.png", 1280)
    screenshot(driver, "presseschau-day-mobile.png", 390)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    driver.set_window_size(1280, 900)
    german = _stories(driver)[0].find_element(By.CSS_SELECTOR, "a.review-german")
    navigate(driver, german.click)
    assert driver.current_url == target
    assert driver.find_element(By.CSS_SELECTOR, ".original-link a").get_attribute("href") in demo


def test_editor_edits_and_releases_a_day(
    context: AppContext,
    demo: dict[str, str],
    server: str,
    browser: WebDriver,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    with context.database.session() as session:
        add_user(session, "erik", PASSWORD, role="editor")
    driver.get(server + "/admin/anmelden")
    driver.find_element(By.ID, "name").send_keys("erik")
    password = driver.find_element(By.ID, "passwort")
    password.send_keys(PASSWORD)
    navigate(driver, password.submit)
    assert driver.find_element(By.CSS_SELECTOR, "nav a[href='/admin/presseschau']")
    driver.get(server + "/admin/presseschau")
    day_link = driver.find_element(By.LINK_TEXT, "05.11.2026")
    driver.get(attribute(day_link, "href"))
    assert driver.current_url == server + "/admin/presseschau/2026-11-05"

    def story_form() -> WebElement:
        return driver.find_elements(By.CSS_SELECTOR, "li.admin-story")[0]

    # A headline of the editor's own.
    field = story_form().find_element(By.NAME, "ueberschrift")
    field.clear()
    field.send_keys("Zinsen: Die Bank of England wartet ab")
    button = story_form().find_element(By.CSS_SELECTOR, "button[value='ueberschrift']")
    _submit(driver, button, "Überschrift gespeichert.")

    # Split one report off, then merge it back.
    boxes = story_form().find_elements(By.NAME, "artikel")
    boxes[-1].click()
    _submit(driver, story_form().find_element(By.CSS_SELECTOR, "button[value='trennen']"), "eigene Geschichte")
    assert len(driver.find_elements(By.CSS_SELECTOR, "li.admin-story")) == 2
    driver.get(server + "/presseschau/2026/11/05/")
    assert len(_stories(driver)) == 2
    assert _stories(driver)[0].find_element(By.TAG_NAME, "h2").text == "Zinsen: Die Bank of England wartet ab"
    driver.get(server + "/admin/presseschau/2026-11-05")
    Select(story_form().find_element(By.NAME, "mit")).select_by_index(0)
    merge = story_form().find_element(By.CSS_SELECTOR, "button[value='zusammenfuehren']")
    _submit(driver, merge, "Geschichten zusammengeführt.")
    assert len(driver.find_elements(By.CSS_SELECTOR, "li.admin-story")) == 1

    # Withdraw (confirmed with the tick box) and release again.
    driver.find_element(By.CSS_SELECTOR, "input[name='bestaetigt']").click()
    _submit(driver, driver.find_element(By.CSS_SELECTOR, "button[value='zurueckziehen']"), "zurückgezogen")
    driver.get(server + "/presseschau/2026/11/05/")
    assert "Seite nicht gefunden" in driver.page_source or "404" in driver.title
    driver.get(server + "/admin/presseschau/2026-11-05/vorschau")
    assert "Vorschau" in driver.find_element(By.CSS_SELECTOR, ".review-preview").text
    driver.get(server + "/admin/presseschau/2026-11-05")
    _submit(driver, driver.find_element(By.CSS_SELECTOR, "button[value='freigeben']"), "freigegeben")
    driver.get(server + "/presseschau/2026/11/05/")
    entries = driver.find_elements(By.CSS_SELECTOR, "li.review-entry")
    assert len(entries) == 3
