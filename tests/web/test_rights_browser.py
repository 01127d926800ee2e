"""Bilingual reading and the correction form in headless Chromium: the English original per
paragraph opens without JavaScript (light and dark, 390 px), the side-by-side page stacks on a
phone, and a reader's report goes through the form. Screenshots under test-artifacts/screenshots/rights-*."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from presseschau.app import AppContext
from presseschau.store.models import CorrectionReport
from presseschau.web import public as web_app
from tests.demo_site import load_demo_site
from tests.web.browser import navigate, screenshot
from tests.web.test_reader_browser import CONTRAST_SCRIPT, _color_scheme

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    yield load_demo_site(context)


def _overflow(driver: WebDriver) -> int:
    return int(
        driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_bilingual_reading_light_dark_and_phone(demo: dict[str, str], server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    slug = next(slug for url, slug in demo.items() if "bank-of-england-holds-rates" in url)
    driver.set_window_size(390, 900)
    for scheme in ("light", "dark"):
        _color_scheme(driver, scheme)
        driver.get(f"{server}/{slug}/")
        extras = driver.find_elements(By.CSS_SELECTOR, ".article-body details.paragraph-extras")
        assert len(extras) >= 10
        first = extras[0]
        original = first.find_element(By.CSS_SELECTOR, ".original-text")
        assert original.get_attribute("lang") == "en" and not original.is_displayed()  # closed at first
        first.find_element(By.TAG_NAME, "summary").click()  # no script: the browser opens <details>
        assert original.is_displayed() and "Bank of England" in original.text
        ratio = float(driver.execute_script(CONTRAST_SCRIPT, original))
        assert ratio >= 4.5, (scheme, round(ratio, 2))
        assert _overflow(driver) <= 0, scheme
        assert screenshot(driver, f"rights-bilingual-390-{scheme}.png", 390).stat().st_size > 10_000

        driver.get(f"{server}/{slug}/zweisprachig/")
        row = driver.find_elements(By.CSS_SELECTOR, ".side-by-side-row")[1]
        german, english = row.find_element(By.CSS_SELECTOR, ".de"), row.find_element(By.CSS_SELECTOR, ".en")
        assert english.get_attribute("lang") == "en"
        # One column on a phone: the English below the German, not beside it.
        assert english.location["y"] > german.location["y"]
        assert _overflow(driver) <= 0, scheme
        ratio = float(driver.execute_script(CONTRAST_SCRIPT, english))
        assert ratio >= 4.5, (scheme, "side by side", round(ratio, 2))
        screenshot(driver, f"rights-side-by-side-390-{scheme}.png", 390)
    _color_scheme(driver, "light")
    driver.set_window_size(1280, 900)
    driver.get(f"{server}/{slug}/zweisprachig/")
    row = driver.find_elements(By.CSS_SELECTOR, ".side-by-side-row")[1]
    german, english = row.find_element(By.CSS_SELECTOR, ".de"), row.find_element(By.CSS_SELECTOR, ".en")
    assert english.location["x"] > german.location["x"] and english.location["y"] == german.location["y"]


def test_excerpt_and_capped_articles_offer_no_original_text(
    demo: dict[str, str], server: str, browser: WebDriver
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    gambia = next(slug for url, slug in demo.items() if "gambia" in url)
    driver.get(f"{server}/{gambia}/")
    assert not driver.find_elements(By.CSS_SELECTOR, ".article-body .original-text")
    reuse = driver.find_element(By.CSS_SELECTOR, ".attribution .reuse").text
    assert "CC BY-ND 4.0" in reuse and "Zitat" in reuse
    assert "Weiterlesen im Original" in driver.find_element(By.CSS_SELECTOR, ".read-on").text


def test_the_correction_form(context: AppContext, demo: dict[str, str], server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    slug = next(slug for url, slug in demo.items() if "marrowby-flood-barrier" in url)
    driver.set_window_size(390, 900)
    driver.get(f"{server}/{slug}/")
    extras = driver.find_elements(By.CSS_SELECTOR, ".article-body details.paragraph-extras")
    extras[2].find_element(By.TAG_NAME, "summary").click()
    link = extras[2].find_element(By.CSS_SELECTOR, ".report-link a")
    navigate(driver, link.click)
    assert "Absatz 3" in driver.find_element(By.TAG_NAME, "main").text
    hostile = "„Sperrwerk“ statt „Barriere“ <script>alert(1)</script>"
    driver.find_element(By.ID, "meldung").send_keys(hostile)
    assert _overflow(driver) <= 0
    screenshot(driver, "rights-report-form-390.png", 390)
    button = driver.find_element(By.CSS_SELECTOR, ".report-form button[type=submit]")
    navigate(driver, button.click)
    assert "Danke" in driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    alerts = driver.execute_script("return document.querySelectorAll('main script').length")
    assert alerts == 0
    with context.database.session() as session:
        report = session.scalars(select(CorrectionReport)).one()
        assert report.paragraph_index == 2 and report.message == hostile
