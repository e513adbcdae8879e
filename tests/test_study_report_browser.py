"""The study report in a real browser (Debian's headless Chromium; see test_report_browser.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_fixtures import (
    assert_offline_and_clean,
    assert_page_safe,
    cjk_glyphs,
    image_loaded,
    nonzero,
    open_page,
    screenshot,
)
from study_fixtures import CHINESE_LABEL, GROUP_PHRASE_ZH, StudySpec, build_study
from themescope.report.study_page import render_study_report
from themescope.study_documents import StudyThemesDocument, read_study_themes

pytestmark = pytest.mark.browser


def _open_study_report(
    driver: Any, folder: Path, spec: StudySpec | None = None
) -> StudyThemesDocument:
    """Build a study in ``folder``, render its report and open it; return its themes."""
    study = build_study(folder, spec)
    render_study_report(study)
    open_page(driver, study / "report.html")
    return read_study_themes(study / "themes.json")


def test_study_report_draws_the_heat_map_timelines_and_chinese(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    added = {"us-3": 0.45, "cn-3": 0.0}
    document = _open_study_report(driver, tmp_path, StudySpec(added=added))

    table = driver.find_element(By.ID, "share-table")
    assert nonzero(table) and table.size["width"] > 400
    cells = driver.find_elements(By.CSS_SELECTOR, "#share-table td.cell")
    assert len(cells) == document.k * len(document.groups)
    assert all(nonzero(cell) for cell in cells)
    backgrounds = {cell.value_of_css_property("background-color") for cell in cells}
    assert "rgba(0, 0, 0, 0)" not in backgrounds and len(backgrounds) > 3
    legend = driver.find_element(By.CSS_SELECTOR, "#heat-legend .gradient")
    assert nonzero(legend) and legend.size["width"] > 100

    timelines = driver.find_elements(By.CSS_SELECTOR, "svg.video-timeline")
    assert len(timelines) == len(document.videos)
    assert all(nonzero(t) and t.size["width"] > 300 for t in timelines)
    segments = driver.find_elements(By.CSS_SELECTOR, "svg.video-timeline rect.seg")
    assert len(segments) == sum(len(v.spans) for v in document.videos)
    assert all(s.size["width"] > 0 for s in segments)
    mixes = driver.find_elements(By.CSS_SELECTOR, "svg.mix-bar")
    assert len(mixes) == len(document.groups) and all(nonzero(m) for m in mixes)

    # The videos added to the fitted study: a small table, each marked beside its timeline.
    rows = driver.find_elements(By.CSS_SELECTOR, "#added-table tbody tr")
    assert [row.get_attribute("data-video") for row in rows] == list(added)
    assert all(nonzero(row) for row in rows)
    assert [row.find_element(By.CSS_SELECTOR, ".novel-share").text for row in rows] == [
        "45.0%",
        "0.0%",
    ]
    badges = driver.find_elements(By.CSS_SELECTOR, '#videos a.badge[href="#added"]')
    assert len(badges) == len(added) and all(nonzero(badge) for badge in badges)

    frames = driver.find_elements(By.CSS_SELECTOR, "#theme-0 .group-col img")
    assert frames and all(image_loaded(driver, img) for img in frames)

    # Chinese is drawn with a CJK font: a theme label and a group's distinctive phrase.
    assert cjk_glyphs(driver, "#theme-1 h3.label") >= len(CHINESE_LABEL)
    assert cjk_glyphs(driver, '#theme-1 .group-col[data-group="CN"] .phrase-text') >= len(
        GROUP_PHRASE_ZH
    )

    assert_page_safe(driver)
    screenshot(driver, "study-report.png")


def test_study_report_draws_shares_over_time_and_the_effects(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    document = _open_study_report(driver, tmp_path)

    charts = driver.find_elements(By.CSS_SELECTOR, "#over-time figure.over-time-chart svg")
    assert len(charts) == document.k
    assert all(nonzero(chart) and chart.size["width"] > 300 for chart in charts)
    # Each group's line and each band has an area on screen: they sit inside the plot.
    lines = driver.find_elements(By.CSS_SELECTOR, "#over-time polyline")
    assert lines and all(line.size["width"] > 50 for line in lines)
    bands = driver.find_elements(By.CSS_SELECTOR, "#over-time polygon.band")
    assert len(bands) == document.k and all(nonzero(band) for band in bands)
    # Two charts side by side on a wide page (small multiples, not a column of one).
    assert charts[0].location["y"] == charts[1].location["y"]

    sentences = driver.find_elements(By.CSS_SELECTOR, "#effects .effect-sentences li")
    assert len(sentences) == 2 and all(nonzero(s) for s in sentences)
    table = driver.find_element(By.ID, "effects-table")
    assert nonzero(table)
    assert cjk_glyphs(driver, "#effects .effect-sentences li") >= len(CHINESE_LABEL)
    assert_offline_and_clean(driver)
    screenshot(driver, "study-report-over-time.png")
