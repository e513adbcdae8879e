"""Screenshots of report and comparison pages in headless Chromium, for reading them by eye.

Opens each HTML page given (Debian's chromium and chromedriver, as the browser tests
do), widens the window to the page's height (at most ``--max-height`` pixels) and
saves a PNG named after the page's folder under ``--out``.

Usage::

    python benchmarks/screenshot_pages.py bench-out/real-cais/run/report.html ... \
        [--out bench-out/screens]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH_PX = 1400


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("bench-out/screens"))
    parser.add_argument("--max-height", type=int, default=6000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for argument in (
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--window-size={WIDTH_PX},1000",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        try:
            for page in args.pages:
                browser.get(page.resolve().as_uri())
                WebDriverWait(browser, 30).until(
                    lambda d: d.execute_script("return document.readyState") == "complete"
                )
                height = browser.execute_script("return document.documentElement.scrollHeight")
                wanted = min(int(height), args.max_height)
                browser.set_window_size(WIDTH_PX, wanted)
                # The window's height includes the browser's frame; grow it by that much.
                inner = browser.execute_script("return window.innerHeight")
                browser.set_window_size(WIDTH_PX, 2 * wanted - int(inner))
                target = args.out / f"{page.parent.parent.name}-{page.parent.name}-{page.stem}.png"
                browser.save_screenshot(str(target))
                print(f"{target} (page height {height} px)")
        finally:
            browser.quit()


if __name__ == "__main__":
    sys.exit(main())
