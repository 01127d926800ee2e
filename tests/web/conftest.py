"""Fixtures of the browser tests: a live server for the test's app context and a headless Chromium.

Starting Chromium costs seconds, so one browser serves all the browser tests of a pytest process
(one per xdist worker), reset before each test (tests/web/browser.py: reset_browser)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

from presseschau.app import AppContext
from tests.web.browser import CHROMEDRIVER, CHROMIUM, chromium, live_server, reset_browser

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver


@pytest.fixture
def server(context: AppContext) -> Iterator[str]:
    """The base URL of the test's app (its `context`), served by uvicorn on a free port."""
    with live_server(context) as base_url:
        yield base_url


class _SharedChromium:
    """One Chromium for the session, started when a test first asks for it; a new one after a
    test left it unusable (crashed, hung dialog)."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self._driver: WebDriver | None = None

    def get(self) -> WebDriver:
        from selenium.common.exceptions import WebDriverException

        if self._driver is not None:
            try:
                reset_browser(self._driver)
                return self._driver
            except WebDriverException:
                self.close()
        self._driver = self._stack.enter_context(chromium())
        return self._driver

    def close(self) -> None:
        self._driver = None
        self._stack.close()


@pytest.fixture(scope="session")
def _shared_chromium() -> Iterator[_SharedChromium]:
    shared = _SharedChromium()
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
def browser(_shared_chromium: _SharedChromium) -> WebDriver:
    """Headless Chromium (a Selenium WebDriver), blank and reset for this test."""
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are required in CI")
        pytest.skip("chromium/chromedriver not installed")
    return _shared_chromium.get()
