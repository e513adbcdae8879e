"""Helpers of the tests that open pages in a real browser (Debian's headless Chromium).

Needs the Debian packages chromium, chromium-driver and fonts-noto-cjk (scripts/test.sh
installs them as root). Without Chromium the tests skip, except in CI (the CI
environment variable set), where a missing browser is a failure. The ``driver`` fixture
(conftest.py) is a :func:`chromium`.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TIMEOUT_S = 10


def require_browser() -> None:
    """Skip the test where Chromium is missing (fail it in CI)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if not missing:
        return
    reason = (
        f"{', '.join(missing)} not installed; install the Debian packages "
        "chromium chromium-driver fonts-noto-cjk (scripts/test.sh does this as root)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def chromium(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium that logs its requests and console (the ``driver`` fixture)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--hide-scrollbars",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    browser.set_page_load_timeout(30)
    try:
        yield browser
    finally:
        browser.quit()


def open_page(driver: Any, path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")  # drop what the browser did before our page
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, TIMEOUT_S).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def assert_offline_and_clean(driver: Any) -> None:
    """Every request was for the file itself or a data: URI; the console has no error.

    Requests of Chromium's own pages (``chrome://`` and ``chrome-untrusted://`` documents
    such as the new-tab page it may still be loading at start-up) are not the report's and
    are left out.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            params = message["params"]
            browser_own = ("chrome://", "chrome-untrusted://")
            if not str(params.get("documentURL", "")).startswith(browser_own):
                urls.append(params["request"]["url"])
    assert any(url.startswith("file://") for url in urls), "performance log saw no request"
    offending = [url for url in urls if not url.startswith(("file://", "data:"))]
    assert not offending, f"the page made network requests: {offending}"
    # Chromium reports its own file:// frame checks as security errors on some versions; they
    # are not the page's scripts failing.
    severe = [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and entry.get("source") != "security"
    ]
    assert not severe, f"console errors: {severe}"


def assert_page_safe(driver: Any) -> None:
    """The markup injected into the test data ran nothing, and the page stayed offline and clean."""
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert_offline_and_clean(driver)


def nonzero(element: Any) -> bool:
    size = element.size
    return bool(size["width"] > 0 and size["height"] > 0 and element.is_displayed())


def image_loaded(driver: Any, image: Any) -> bool:
    return bool(
        driver.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", image
        )
    )


def cjk_glyphs(driver: Any, selector: str) -> int:
    """How many glyphs of ``selector``'s text Chromium drew with a CJK font (DevTools protocol).

    At least the number of Chinese characters there means none of them is an empty box.
    """
    driver.execute_cdp_cmd("DOM.enable", {})
    driver.execute_cdp_cmd("CSS.enable", {})
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})
    assert node["nodeId"], f"no element {selector}"
    fonts = driver.execute_cdp_cmd("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    return sum(
        f["glyphCount"]
        for f in fonts["fonts"]
        if "CJK" in f["familyName"] or "Han" in f["familyName"]
    )


def screenshot(driver: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(int(height) + 40, 8000))
    driver.execute_script("window.scrollTo(0, 0)")
    assert driver.save_screenshot(str(ARTIFACTS / name))
