"""The demo site in headless Chromium as readers see it: contrast of focus states (light and dark),
the article head, print, phone width; screenshots under test-artifacts/screenshots/demo-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from presseschau.web import public as web_app
from tests.demo_site import load_demo_site
from tests.web.browser import navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser

# WCAG 2.x contrast of the computed colours; "rgb(a, b, c)" strings from getComputedStyle.
CONTRAST_SCRIPT = """
const el = arguments[0];
function rgb(value) { return value.match(/[\\d.]+/g).slice(0, 3).map(Number); }
function lum(c) {
  const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const style = getComputedStyle(el);
const a = lum(rgb(style.color)), b = lum(rgb(style.backgroundColor));
return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
"""


@pytest.fixture
def demo(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setattr(web_app, "VERSION_TTL_S", -1.0)
    yield load_demo_site(context)


def _color_scheme(driver: WebDriver, scheme: str) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]}
    )


def _focused_skip_link_contrast(driver: WebDriver) -> float:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    # A real key press, as a keyboard user makes it: focus-visible styles apply.
    ActionChains(driver).send_keys(Keys.TAB).perform()
    focused = driver.switch_to.active_element
    assert focused.get_attribute("class") == "skip" and focused.text == "Zum Inhalt springen"
    assert focused.location["x"] >= 0  # shown on focus, not left off-screen
    return float(driver.execute_script(CONTRAST_SCRIPT, focused))


def test_focused_skip_links_are_readable_on_site_and_admin(
    context: AppContext,
    demo: dict[str, str],
    server: str,
    browser: WebDriver,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with context.database.session() as session:
        add_user(session, "anna", "korrekt pferd batterie", role="admin")
    driver.get(server + "/admin/anmelden")
    driver.find_element(By.ID, "name").send_keys("anna")
    password = driver.find_element(By.ID, "passwort")
    password.send_keys("korrekt pferd batterie")
    navigate(driver, password.submit)
    for scheme in ("light", "dark"):
        _color_scheme(driver, scheme)
        for path in ["/", f"/{next(iter(demo.values()))}/", "/admin/", "/admin/quellen"]:
            driver.get(server + path)
            ratio = _focused_skip_link_contrast(driver)
            # WCAG AA for normal text; the dark-red-on-near-black skip link was 1.6:1.
            assert ratio >= 4.5, (scheme, path, round(ratio, 2))
            target = driver.find_element(By.ID, "inhalt")
            assert target.tag_name == "main"


def test_demo_article_as_readers_see_it(demo: dict[str, str], server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    _color_scheme(driver, "light")
    bank = next(slug for url, slug in demo.items() if "bank-of-england-holds-rates" in url)
    # Two other outlets' reports of the same vote are in the demo set: the only related articles allowed.
    same_vote = {f"{server}/{slug}/" for url, slug in demo.items() if "bank-of-england" in url and slug != bank}
    driver.get(f"{server}/{bank}/")
    byline = driver.find_element(By.CSS_SELECTOR, ".byline").text
    # The original says 12:40 UTC: 13:40 in Berlin, not "01:00" from the URL's date.
    assert byline.endswith("Original vom 5. November 2026, 13:40 Uhr"), byline
    disclosure = driver.find_element(By.CSS_SELECTOR, ".disclosure").text
    assert disclosure == "Aus dem Englischen · aus gespeicherten Übersetzungen"
    related = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='verwandt'] a")
    assert {a.get_attribute("href") for a in related} <= same_vote
    icon = driver.find_element(By.CSS_SELECTOR, "link[rel=icon]").get_attribute("href")
    assert icon is not None and "/static/favicon.svg" in icon
    for width in (1280, 390):
        for scheme in ("light", "dark"):
            _color_scheme(driver, scheme)
            assert screenshot(driver, f"demo-article-{width}-{scheme}.png", width).stat().st_size > 10_000
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, width
    # On paper the link to the original prints its address.
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    after = driver.execute_script(
        "return getComputedStyle(document.querySelector('.original-link a'), '::after').content"
    )
    assert "https://www.continentalreview.example/economy/2026/11/05/bank-of-england" in after
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    opinion = next(slug for url, slug in demo.items() if "/opinion/" in url)
    driver.get(f"{server}/{opinion}/")
    assert driver.find_element(By.CSS_SELECTOR, ".kicker").text.lower() == "kommentar"

    driver.get(server + "/")
    metas = [m.text for m in driver.find_elements(By.CSS_SELECTOR, ".article-list .meta")]
    assert len(metas) == len(demo)
    assert all(re.match(r"(Kommentar · |Analyse · )?Original vom \d{1,2}\. \w+ 2026, \d\d:\d\d Uhr", m) for m in metas)
    for width in (1280, 390):
        screenshot(driver, f"demo-home-{width}.png", width)
    driver.get(server + "/archiv/abc/")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Seite nicht gefunden"
