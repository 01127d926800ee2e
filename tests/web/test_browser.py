"""Drives the real site in headless Chromium: home → article → prev/next → search, plus screenshots."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.store.models import Translation
from tests.publish.factories import Published, make_site
from tests.web.browser import QuietFiles, navigate, screenshot

# The helpers live in tests/web/browser.py, the fixtures in tests/web/conftest.py; these names stay
# importable from here for modules written against the old layout
# ("from tests.web.test_browser import _navigate, _screenshot, browser, server").
from tests.web.browser import navigate as _navigate
from tests.web.browser import screenshot as _screenshot
from tests.web.conftest import browser, server

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.browser
__all__ = ["_navigate", "_screenshot", "browser", "server"]


def test_reader_journey(context: AppContext, server: str, browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with context.database.session() as session:
        site: list[Published] = make_site(session, context.settings, 5)
    newest = site[-1]

    driver.get(server + "/")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    first = driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")[0]
    assert first.get_attribute("href") == f"{server}/{newest.slug}/"
    navigate(driver, first.click)

    assert driver.current_url == f"{server}/{newest.slug}/"
    with context.database.session() as session:
        translation = session.get(Translation, newest.translation_id)
        assert translation is not None
        title = translation.title
        stored = paragraphs_from_json(translation.paragraphs)
        original_url = translation.article.canonical_url
    assert driver.find_element(By.TAG_NAME, "h1").text == title
    dateline = driver.find_element(By.CSS_SELECTOR, ".dateline").text
    assert dateline.startswith("Veröffentlicht am ") and " 20" in dateline
    # One element per stored paragraph (each followed by its <details> with the original and the report link).
    blocks = driver.find_elements(By.CSS_SELECTOR, ".article-body > *:not(ul):not(details), .article-body > ul > li")
    assert len(blocks) == len(stored)
    original = driver.find_element(By.CSS_SELECTOR, ".original-link a")
    assert original.get_attribute("href") == original_url
    assert original.text.startswith("Zum Originalartikel")  # the one link to the original

    desktop = screenshot(driver, "article-desktop.png", 1280)
    mobile = screenshot(driver, "article-mobile.png", 390)
    assert desktop.stat().st_size > 10_000 and mobile.stat().st_size > 10_000
    # On a phone the page must not scroll sideways.
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    driver.set_window_size(1280, 900)

    # The newest article has only a previous one; follow it and come back via "next".
    assert not driver.find_elements(By.CSS_SELECTOR, ".prev-next a.next")
    previous = driver.find_element(By.CSS_SELECTOR, ".prev-next a.prev")
    assert "Die Krim" not in previous.text and previous.text.split("\n")[-1] in {
        "Warum Belarus für Europa wichtig bleibt"
    }
    navigate(driver, previous.click)
    assert driver.current_url == f"{server}/{site[-2].slug}/"
    navigate(driver, driver.find_element(By.CSS_SELECTOR, ".prev-next a.next").click)
    assert driver.current_url == f"{server}/{newest.slug}/"

    # Search through the header form (no JavaScript involved) for a word from the body.
    box = driver.find_element(By.ID, "suchfeld")
    box.send_keys("Milchprodukten")
    navigate(driver, box.submit)
    assert "/suche?q=Milchprodukten" in driver.current_url
    assert driver.find_element(By.CSS_SELECTOR, ".result-count").text == "5 Treffer für „Milchprodukten“"
    results = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")]
    assert f"{server}/{newest.slug}/" in results


@pytest.fixture
def static_server(context: AppContext, tmp_path: Path) -> Iterator[tuple[str, list[Published]]]:
    """The static build, served by Python's own file server (pretty URLs via index.html)."""
    import functools
    import http.server

    from presseschau.publish.static import build_site

    with context.database.session() as session:
        made = make_site(session, context.settings, 5)
    out = tmp_path / "site"
    build_site(context.database, context.settings, out)
    handler = functools.partial(QuietFiles, directory=str(out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", made
    httpd.shutdown()
    httpd.server_close()


def test_static_site_search(static_server: tuple[str, list[Published]], browser: WebDriver) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, made = static_server
    driver = browser
    driver.get(base + "/")
    navigate(driver, driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")[0].click)
    assert driver.current_url == f"{base}/{made[-1].slug}/"
    box = driver.find_element(By.ID, "suchfeld")
    box.send_keys("Senegal")
    navigate(driver, box.submit)
    assert driver.current_url == f"{base}/suche/?q=Senegal"
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ergebnisse .result-count"))
    results = driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .article-list h2 a")
    assert [a.get_attribute("href") for a in results] == [f"{base}/{made[1].slug}/"]
    # Pagefind's chunked index answered (not the one-file fallback), its snippet marked the word.
    marks = driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .snippet mark")
    assert marks and marks[0].text == "Senegal"
    loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/pagefind/" in url for url in loaded) and not any("index.json" in url for url in loaded)
