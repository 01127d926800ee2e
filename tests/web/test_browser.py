"""Drives the real site in headless Chromium: home → article → prev/next → search, plus screenshots."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from presseschau.app import AppContext
from presseschau.content import paragraphs_from_json
from presseschau.store.models import Translation
from presseschau.web.app import create_app
from tests.publish.factories import Published, make_site

pytestmark = pytest.mark.browser

ARTIFACTS = Path(os.environ.get("PRESSESCHAU_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(context: AppContext) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture
def browser() -> Iterator[object]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI")
        pytest.skip("chromium/chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="presseschau-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
        "--lang=de-DE",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _navigate(driver: object, action: Callable[[], object]) -> None:
    """Run a click or submit that loads a new page, and wait until that page has loaded.

    Selenium's click returns once the event is dispatched; a form POST answered by a redirect
    may still be in flight, so reading current_url at once races the browser.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")  # type: ignore[attr-defined]
    action()

    def replaced(_: object) -> bool:
        try:
            old_page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # Under load Chromium may answer for a node of the discarded document with an
            # inspector error instead of "stale element": the same fact, in other words.
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    wait = WebDriverWait(driver, 20)
    wait.until(replaced)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _screenshot(driver: object, name: str, width: int) -> Path:
    # Full-page: size the window to the document so the whole article is in the picture.
    driver.set_window_size(width, 900)  # type: ignore[attr-defined]
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.set_window_size(width, min(int(height) + 100, 8000))  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "screenshots" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))  # type: ignore[attr-defined]
    return path


def test_reader_journey(context: AppContext, server: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with context.database.session() as session:
        site: list[Published] = make_site(session, context.settings, 5)
    newest = site[-1]

    driver.get(server + "/")  # type: ignore[attr-defined]
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"  # type: ignore[attr-defined]
    first = driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")[0]  # type: ignore[attr-defined]
    assert first.get_attribute("href") == f"{server}/{newest.slug}/"
    _navigate(driver, first.click)

    assert driver.current_url == f"{server}/{newest.slug}/"  # type: ignore[attr-defined]
    with context.database.session() as session:
        translation = session.get(Translation, newest.translation_id)
        assert translation is not None
        title = translation.title
        stored = paragraphs_from_json(translation.paragraphs)
        original_url = translation.article.canonical_url
    assert driver.find_element(By.TAG_NAME, "h1").text == title  # type: ignore[attr-defined]
    dateline = driver.find_element(By.CSS_SELECTOR, ".dateline").text  # type: ignore[attr-defined]
    assert dateline.startswith("Veröffentlicht am ") and " 20" in dateline
    # One element per stored paragraph (each followed by its <details> with the original and the report link).
    blocks = driver.find_elements(By.CSS_SELECTOR, ".article-body > *:not(ul):not(details), .article-body > ul > li")  # type: ignore[attr-defined]
    assert len(blocks) == len(stored)
    original = driver.find_element(By.CSS_SELECTOR, ".original-link a")  # type: ignore[attr-defined]
    assert original.get_attribute("href") == original_url
    assert original.text.startswith("Zum Originalartikel")  # the one link to the original

    desktop = _screenshot(driver, "article-desktop.png", 1280)
    mobile = _screenshot(driver, "article-mobile.png", 390)
    assert desktop.stat().st_size > 10_000 and mobile.stat().st_size > 10_000
    # On a phone the page must not scroll sideways.
    overflow = driver.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    driver.set_window_size(1280, 900)  # type: ignore[attr-defined]

    # The newest article has only a previous one; follow it and come back via "next".
    assert not driver.find_elements(By.CSS_SELECTOR, ".prev-next a.next")  # type: ignore[attr-defined]
    previous = driver.find_element(By.CSS_SELECTOR, ".prev-next a.prev")  # type: ignore[attr-defined]
    assert "Die Krim" not in previous.text and previous.text.split("\n")[-1] in {
        "Warum Belarus für Europa wichtig bleibt"
    }
    _navigate(driver, previous.click)
    assert driver.current_url == f"{server}/{site[-2].slug}/"  # type: ignore[attr-defined]
    _navigate(driver, driver.find_element(By.CSS_SELECTOR, ".prev-next a.next").click)  # type: ignore[attr-defined]
    assert driver.current_url == f"{server}/{newest.slug}/"  # type: ignore[attr-defined]

    # Search through the header form (no JavaScript involved) for a word from the body.
    box = driver.find_element(By.ID, "suchfeld")  # type: ignore[attr-defined]
    box.send_keys("Milchprodukten")
    _navigate(driver, box.submit)
    assert "/suche?q=Milchprodukten" in driver.current_url  # type: ignore[attr-defined]
    assert driver.find_element(By.CSS_SELECTOR, ".result-count").text == "5 Treffer für „Milchprodukten“"  # type: ignore[attr-defined]
    results = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")]  # type: ignore[attr-defined]
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
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", made
    httpd.shutdown()
    httpd.server_close()


def test_static_site_search(static_server: tuple[str, list[Published]], browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, made = static_server
    driver = browser
    driver.get(base + "/")  # type: ignore[attr-defined]
    _navigate(driver, driver.find_elements(By.CSS_SELECTOR, ".article-list h2 a")[0].click)  # type: ignore[attr-defined]
    assert driver.current_url == f"{base}/{made[-1].slug}/"  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "suchfeld")  # type: ignore[attr-defined]
    box.send_keys("Senegal")
    _navigate(driver, box.submit)
    assert driver.current_url == f"{base}/suche/?q=Senegal"  # type: ignore[attr-defined]
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ergebnisse .result-count"))
    results = driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .article-list h2 a")  # type: ignore[attr-defined]
    assert [a.get_attribute("href") for a in results] == [f"{base}/{made[1].slug}/"]
    # Pagefind's chunked index answered (not the one-file fallback), its snippet marked the word.
    marks = driver.find_elements(By.CSS_SELECTOR, "#ergebnisse .snippet mark")  # type: ignore[attr-defined]
    assert marks and marks[0].text == "Senegal"
    loaded = driver.execute_script(  # type: ignore[attr-defined]
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any("/pagefind/" in url for url in loaded) and not any("index.json" in url for url in loaded)
