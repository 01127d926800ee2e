"""Helpers of the browser tests (headless Chromium through Selenium): where Chromium is, a live
server for an app context, navigation that waits for the next page, full-page screenshots.

The fixtures built on them (`server`, `browser`) are in tests/web/conftest.py."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from presseschau.app import AppContext
from presseschau.web.app import create_app

if TYPE_CHECKING:
    from selenium.webdriver import Chrome
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

ARTIFACTS = Path(os.environ.get("PRESSESCHAU_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
WINDOW_SIZE = (1280, 900)


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    """Python's file server for a built static site, without a log line on stderr per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(context: AppContext) -> Iterator[str]:
    """The app of `context` served by uvicorn on a free loopback port, in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uvicorn_server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=5)


@contextmanager
def chromium() -> Iterator[Chrome]:
    """A headless Chromium with a throw-away profile, quit afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM and CHROMEDRIVER, "chromium and chromedriver must be installed"
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
        "--window-size={},{}".format(*WINDOW_SIZE),
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


def reset_browser(driver: WebDriver) -> None:
    """Leave nothing of one test for the next on a browser the tests share: one blank tab, the
    default window size and media, no cookies and no cached pages.

    Cookies are per host, not per port, so a login would outlive its test's server; a later
    server may get a port used before, and a cached page of that port would be shown."""
    handles = driver.window_handles
    for handle in handles[1:]:
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(handles[0])
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": []})
    driver.set_window_size(*WINDOW_SIZE)


def navigate(driver: WebDriver, action: Callable[[], object]) -> None:
    """Run a click or submit that loads a new page, and wait until that page has loaded.

    Selenium's click returns once the event is dispatched; a form POST answered by a redirect
    may still be in flight, so reading current_url at once races the browser.
    """
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    old_page = driver.find_element(By.TAG_NAME, "html")
    action()

    def replaced(_: WebDriver) -> bool:
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


def screenshot(driver: WebDriver, name: str, width: int) -> Path:
    """A full-page screenshot at `width` under test-artifacts/screenshots/`name`."""
    # Full-page: size the window to the document so the whole article is in the picture.
    driver.set_window_size(width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(int(height) + 100, 8000))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "screenshots" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(path))
    return path


def attribute(element: WebElement, name: str) -> str:
    """The element's attribute or property `name`, which the test expects to be there."""
    value = element.get_attribute(name)
    assert value is not None, f"<{element.tag_name}> has no {name!r}"
    return value
