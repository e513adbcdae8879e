"""The report and the comparison page in a real browser (Debian's headless Chromium).

Needs the Debian packages chromium, chromium-driver and fonts-noto-cjk (scripts/test.sh
installs them as root). Without Chromium the tests skip, except in CI (the CI
environment variable set), where a missing browser is a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_fixtures import (
    TIMEOUT_S,
    assert_page_safe,
    cjk_glyphs,
    image_loaded,
    nonzero,
    open_page,
    screenshot,
)
from report_fixtures import (
    CHINESE_PHRASE,
    CHINESE_TEXT,
    IMG_PAYLOAD,
    SCRIPT_PAYLOAD,
    build_run,
)
from themescope.report import render_report

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("browser-runs")
    run_a = build_run(root, name="us-report")
    # The compare page is checked in Chromium on a real joint comparison (test_e2e_browser).
    return {"report": render_report(run_a).run / "report.html"}


def test_report_renders_interacts_and_stays_offline(driver: Any, pages: dict[str, Path]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(driver, pages["report"])
    wait = WebDriverWait(driver, TIMEOUT_S)

    cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
    assert len(cards) == 3 and all(nonzero(card) for card in cards)
    # The injected label is visible literally, as text.
    label = driver.find_element(By.CSS_SELECTOR, "#theme-0 .label")
    assert label.text.strip() == SCRIPT_PAYLOAD
    # What the whole video is about, and each theme's people, are visible text too.
    about = driver.find_element(By.ID, "common")
    assert nonzero(about) and about.text.startswith("What the whole video is about: ")
    assert "<script>alert(1)</script>" in about.text
    people = driver.find_element(By.CSS_SELECTOR, "#theme-1 .people")
    assert nonzero(people) and people.text == "People: Dana Kessler, 王华庆"
    representative = driver.find_elements(By.CSS_SELECTOR, "#theme-0 .frames img")
    assert representative and all(image_loaded(driver, img) for img in representative)

    timeline = driver.find_element(By.ID, "timeline")
    assert nonzero(timeline) and timeline.size["width"] > 500
    segments = driver.find_elements(By.CSS_SELECTOR, "#timeline rect.seg")
    assert len(segments) == 18 and all(s.size["width"] > 0 for s in segments)
    points = driver.find_elements(By.CSS_SELECTOR, "#map circle.pt")
    assert len(points) == 18 and nonzero(driver.find_element(By.ID, "map"))

    # Clicking a phrase shows its evidence: the frame thumbnail and the quote, as text.
    button = driver.find_element(By.CSS_SELECTOR, "#theme-0 .phrase-btn")
    evidence = driver.find_element(By.ID, button.get_attribute("aria-controls"))
    assert not evidence.is_displayed()
    button.click()
    wait.until(ec.visibility_of(evidence))
    assert button.get_attribute("aria-expanded") == "true"
    thumbs = evidence.find_elements(By.CSS_SELECTOR, "figure img")
    assert thumbs and all(image_loaded(driver, img) for img in thumbs)
    assert f"breaking {SCRIPT_PAYLOAD}" in evidence.text
    assert IMG_PAYLOAD in evidence.text  # the caption payload, shown literally
    button.click()
    wait.until(ec.invisibility_of_element(evidence))

    # Hovering a phrase previews its evidence in the tooltip.
    tooltip = driver.find_element(By.ID, "tooltip")
    other = driver.find_element(By.CSS_SELECTOR, "#theme-1 .phrase-btn")
    ActionChains(driver).move_to_element(other).perform()
    wait.until(ec.visibility_of(tooltip))
    assert "studio anchor" in tooltip.text and "support 50%" in tooltip.text
    previews = tooltip.find_elements(By.TAG_NAME, "img")
    assert len(previews) == 3 and all(image_loaded(driver, img) for img in previews)
    ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "h1")).perform()
    wait.until(ec.invisibility_of_element(tooltip))

    # Hovering a map point shows its tooltip with the frame and its (literal) text.
    point = driver.find_element(By.CSS_SELECTOR, '#map circle.pt[data-frame="2"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", point)
    ActionChains(driver).move_to_element(point).perform()
    wait.until(ec.visibility_of(tooltip))
    assert IMG_PAYLOAD in tooltip.text and "0:04" in tooltip.text
    tip_image = tooltip.find_element(By.TAG_NAME, "img")
    assert image_loaded(driver, tip_image)

    # Clicking the timeline pins the segment's words and marks its transcript row.
    segment = driver.find_element(By.CSS_SELECTOR, '#timeline rect.seg[data-frame="3"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", segment)
    ActionChains(driver).move_to_element(segment).click().perform()
    info = driver.find_element(By.ID, "timeline-info")
    wait.until(lambda d: CHINESE_TEXT in info.text)
    row = driver.find_element(By.CSS_SELECTOR, "table.transcript tr.highlight")
    assert row.is_displayed() and CHINESE_TEXT in row.text
    assert len(driver.find_elements(By.CSS_SELECTOR, "table.transcript tr.highlight")) == 1

    # Chinese is drawn with a CJK font (no empty boxes).
    # every Chinese character is drawn by the CJK font (the English gloss beside it may not be)
    phrase = "#theme-0 ol.phrases li:nth-child(2) .phrase-text"
    assert cjk_glyphs(driver, phrase) >= len(CHINESE_PHRASE)

    # Charts of the k choice and the training loss are drawn.
    charts = driver.find_elements(By.CSS_SELECTOR, "#k-section svg.chart, #training svg.chart")
    assert len(charts) >= 5 and all(nonzero(chart) for chart in charts)

    assert_page_safe(driver)
    ActionChains(driver).move_by_offset(0, 0).perform()
    screenshot(driver, "report.png")
