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

ROOT = Path(__file__).resolve().parents[1]
WIDTH_PX = 1400


def main() -> None:
    # The browser tests' Chromium, so a screenshot shows the page as the tests saw it.
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_fixtures import chromium, open_page

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("bench-out/screens"))
    parser.add_argument("--max-height", type=int, default=6000)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as profile, chromium(Path(profile)) as browser:
        for page in args.pages:
            open_page(browser, page)
            height = browser.execute_script("return document.documentElement.scrollHeight")
            wanted = min(int(height), args.max_height)
            browser.set_window_size(WIDTH_PX, wanted)
            # The window's height includes the browser's frame; grow it by that much.
            inner = browser.execute_script("return window.innerHeight")
            browser.set_window_size(WIDTH_PX, 2 * wanted - int(inner))
            target = args.out / f"{page.parent.parent.name}-{page.parent.name}-{page.stem}.png"
            browser.save_screenshot(str(target))
            print(f"{target} (page height {height} px)")


if __name__ == "__main__":
    sys.exit(main())
