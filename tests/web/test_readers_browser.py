"""The archive calendar, press review day navigation and search as readers use them in headless
Chromium at 1280 and 390 px; screenshots under test-artifacts/screenshots/readers-*."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.web import public as web_app
from tests.publish.factories import make_article, make_source
from tests.stories.story_data import QUAKE, STARSHIP, publish_event
from tests.web.browser import attribute, navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser
WIDTHS = (1280, 390)


@pytest.fixture
def readers_site(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    with context.database.session() as session:
        publish_event(session, context.settings, QUAKE)  # 9 November
        publish_event(session, context.settings, [(*r[:5], r[5] - timedelta(days=4)) for r in STARSHIP])  # 5 November
        ferry = make_source(session, "Island Courier")
        for title, body, day in [
            ("Insel abgeschnitten", "Die Insel ist ohne ihre einzige Autofähre; Vorräte werden knapp.", 3),
            ("Pendler fahren wieder", "Die Pendler fahren wieder, sie fahren mit dem Bus.", 2),
        ]:
            make_article(
                session,
                context.settings,
                title_de=title,
                body_de=[body],
                source=ferry,
                published_at=datetime(2026, 11, day, 9, 0, tzinfo=UTC),
            )
    yield


def _fits(driver: WebDriver) -> bool:
    return bool(driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("width", WIDTHS)
def test_archive_calendar_to_day_and_its_neighbours(
    readers_site: None,
    server: str,
    browser: WebDriver,
    width: int,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(width, 900)
    driver.get(server + "/archiv/")
    navigate(driver, driver.find_element(By.LINK_TEXT, "November").click)
    assert driver.current_url.endswith("/archiv/2026/11/")
    heads = [th.get_attribute("title") for th in driver.find_elements(By.CSS_SELECTOR, ".calendar th abbr")]
    assert heads[0] == "Montag" and heads[6] == "Sonntag"
    assert _fits(driver), "the calendar is wider than the screen"
    screenshot(driver, f"readers-archive-month-{width}.png", width)
    driver.set_window_size(width, 900)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, ".calendar a[href$='/05/']").click)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Donnerstag, 5. November 2026"
    assert attribute(driver.find_element(By.CSS_SELECTOR, "a.review-link"), "href").endswith("/presseschau/2026/11/05/")
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "a[rel='prev']").click)
    assert driver.find_element(By.TAG_NAME, "h1").text == "Dienstag, 3. November 2026"
    assert _fits(driver)
    screenshot(driver, f"readers-archive-day-{width}.png", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_press_review_day_navigation(
    readers_site: None,
    server: str,
    browser: WebDriver,
    width: int,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(width, 900)
    driver.get(server + "/presseschau/2026/11/05/")

    def earlier_days() -> list[str]:
        links = driver.find_elements(By.CSS_SELECTOR, ".review-days a")
        return [attribute(a, "href").split("/presseschau/")[1] for a in links]

    assert earlier_days() and all(day < "2026/11/05/" for day in earlier_days())  # only days before it
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "a[rel='next']").click)
    assert driver.current_url.endswith("/presseschau/2026/11/09/")
    assert earlier_days()[0] == "2026/11/05/" and all(day < "2026/11/09/" for day in earlier_days())
    assert driver.find_elements(By.CSS_SELECTOR, "a[rel='next']") == []
    metas = [p.text for p in driver.find_elements(By.CSS_SELECTOR, ".review-story .meta")]
    assert metas and all("1 Medien" not in m and "1 Geschichten" not in m for m in metas)
    assert _fits(driver)
    screenshot(driver, f"readers-press-review-{width}.png", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_search_ranks_the_word_first_with_a_marked_snippet_and_filters(
    readers_site: None,
    server: str,
    browser: WebDriver,
    width: int,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.set_window_size(width, 900)
    driver.get(server + "/suche?q=F%C3%A4hre")
    titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".search-results h2 a")]
    assert titles[0] == "Insel abgeschnitten" and "Pendler fahren wieder" in titles
    mark = driver.find_elements(By.CSS_SELECTOR, ".search-results .snippet mark")[0]
    assert mark.text == "Autofähre" and mark.is_displayed()
    # The filters fold out; sorting by date puts the newest original first.
    driver.find_element(By.CSS_SELECTOR, ".search-filters summary").click()
    Select(driver.find_element(By.ID, "sortierung")).select_by_value("datum")
    Select(driver.find_element(By.ID, "quelle")).select_by_visible_text("Island Courier")
    navigate(driver, driver.find_element(By.CSS_SELECTOR, ".search-form button").click)
    assert "sortierung=datum" in driver.current_url
    titles = [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".search-results h2 a")]
    assert titles == ["Insel abgeschnitten", "Pendler fahren wieder"]
    assert _fits(driver)
    screenshot(driver, f"readers-search-{width}.png", width)
