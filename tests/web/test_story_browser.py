"""Key passages, outlet profiles and story pages in headless Chromium, on the demo set: a reader goes
from the day's review to a story's page and on to an article that links back; an editor replaces a
key passage by another sentence of the article."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.publish.formatting import nest_quotes
from presseschau.web import public as web_app
from tests.demo_site import load_demo_site
from tests.web.browser import navigate, screenshot
from tests.web.test_press_review_browser import PASSWORD, _submit

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    yield load_demo_site(context)


def test_reader_goes_from_the_review_to_a_story_and_an_article(
    demo: dict[str, str],
    server: str,
    browser: WebDriver,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(server + "/presseschau/2026/11/05/")
    story = driver.find_elements(By.CSS_SELECTOR, "li.review-story")[0]
    entries = story.find_elements(By.CSS_SELECTOR, "li.review-entry")
    quotes = [e.find_element(By.CSS_SELECTOR, "blockquote.key-passage").text for e in entries]
    assert len(set(quotes)) == 3 and all(q.startswith("„") and q.endswith("“") for q in quotes)
    profiles = [e.find_element(By.CSS_SELECTOR, ".outlet-profile").text for e in entries]
    assert "(Belgien, Magazin)" in profiles and "(Vereinigtes Königreich, Zeitung)" in profiles
    screenshot(driver, "presseschau-passages-desktop.png", 1280)
    screenshot(driver, "presseschau-passages-mobile.png", 390)
    driver.set_window_size(1280, 900)
    navigate(driver, story.find_element(By.CSS_SELECTOR, "h2.story-headline a").click)
    assert "/presseschau/geschichte/" in driver.current_url
    heading = driver.find_element(By.TAG_NAME, "h1").text
    assert "Bank of England" in heading
    page_quotes = [q.text for q in driver.find_elements(By.CSS_SELECTOR, "blockquote.key-passage")]
    assert sorted(page_quotes) == sorted(quotes)
    screenshot(driver, "presseschau-story-desktop.png", 1280)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    screenshot(driver, "presseschau-story-mobile.png", 390)
    assert overflow <= 0
    driver.set_window_size(1280, 900)
    story_url = driver.current_url
    german = driver.find_elements(By.CSS_SELECTOR, "a.review-german")[0]
    navigate(driver, german.click)
    link = driver.find_element(By.CSS_SELECTOR, "p.story-link a")
    assert link.text == "Diese Geschichte in 3 Medien" and link.get_attribute("href") == story_url
    related = driver.find_elements(By.CSS_SELECTOR, "section.related a")
    assert sum("Bank of England" in a.text or "Zins" in a.text for a in related[:2]) == 2


def test_editor_picks_another_sentence(
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
    driver.get(server + "/admin/presseschau/2026-11-05")
    driver.find_element(By.CSS_SELECTOR, "details.admin-passages summary").click()
    form = driver.find_elements(By.CSS_SELECTOR, "form.admin-passage-form")[0]
    choice = Select(form.find_element(By.NAME, "satz"))
    choice.select_by_index(len(choice.options) - 1)
    wanted = choice.first_selected_option.text.split(": ", 1)[1].removesuffix("...")
    _submit(driver, form.find_element(By.CSS_SELECTOR, "button[value='satz']"), "Kernaussage gespeichert.")
    driver.get(server + "/presseschau/2026/11/05/")
    quotes = [q.text for q in driver.find_elements(By.CSS_SELECTOR, "blockquote.key-passage")]
    # Inside the review's „…“ the sentence's own quotations are nested as ‚…‘.
    assert any(q.removeprefix("„").startswith(nest_quotes(wanted[:60])) for q in quotes), (wanted, quotes)
