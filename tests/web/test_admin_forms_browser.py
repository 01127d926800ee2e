"""A refused source form in headless Chromium at 1280 and 390 px: what was typed comes back."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.editorial.users import add_user
from tests.web.browser import navigate, screenshot

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser
PASSWORD = "formulare behalten 2026"


@pytest.mark.parametrize("width", (1280, 390))
def test_a_refused_new_source_keeps_the_typed_fields(
    context: AppContext,
    server: str,
    browser: WebDriver,
    width: int,
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_window_size(width, 900)
    with context.database.session() as session:
        add_user(session, "anna", PASSWORD, role="admin")
    driver.get(server + "/admin/quellen")
    driver.find_element(By.ID, "name").send_keys("anna")
    driver.find_element(By.ID, "passwort").send_keys(PASSWORD)
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.admin-login button").click)
    fields = {
        "neu-url": "ftp://feeds.example/news.xml",  # a URL to the browser, refused by the server
        "neu-name": "Hafenzeitung",
        "neu-glossar": "Kyiv = Kiew",
        "neu-schlagworte": "Europa",
    }
    for field_id, value in fields.items():
        element = driver.find_element(By.ID, field_id)
        element.clear()
        element.send_keys(value)
    submit = driver.find_element(By.ID, "neu-hinzufuegen")  # not „Vorschau“
    navigate(driver, submit.click)
    assert "Quelle nicht hinzugefügt" in driver.find_element(By.CSS_SELECTOR, ".admin-error").text
    for field_id, value in fields.items():
        assert driver.find_element(By.ID, field_id).get_attribute("value") == value, field_id
    screenshot(driver, f"readers-admin-source-refused-{width}.png", width)
