"""End to end in a real browser: generated English and Chinese videos → summarize → compare → pages.

Unlike test_report_browser.py (hand-built runs that exercise every corner of the
page), these pages come from the real pipeline, with markup injected into the
subtitles the way a hostile or sloppy subtitle file would carry it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from report_fixtures import IMG_PAYLOAD, SCRIPT_PAYLOAD
from test_pipeline import CONFIG
from test_report_browser import (  # noqa: F401 - driver is a fixture
    _assert_injection_inert,
    _assert_offline_and_clean,
    _nonzero,
    _open,
    _screenshot,
    driver,
)
from themescope import Summarizer
from themescope.documents import read_themes
from themescope.report import render_compare
from themescope.synthetic import SyntheticVideo
from themescope.themes.compare import compare_runs

pytestmark = pytest.mark.browser


def _with_payloads(subtitles: Path, out: Path) -> Path:
    """Append markup to every fifth cue of an SRT file."""
    blocks = subtitles.read_text(encoding="utf-8").strip().split("\n\n")
    for i in range(0, len(blocks), 5):
        blocks[i] += f" {SCRIPT_PAYLOAD} {IMG_PAYLOAD}"
    out.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def pages(
    synthetic_video_en: SyntheticVideo,
    synthetic_video_zh: SyntheticVideo,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("e2e")
    summarizer = Summarizer.from_config(CONFIG)
    runs = {}
    for name, video in (("en", synthetic_video_en), ("zh", synthetic_video_zh)):
        subtitles = _with_payloads(video.subtitles_path, root / f"{name}.srt")
        runs[name] = summarizer.run(video.video_path, subtitles, out=root / name)
    comparison = compare_runs(runs["en"].run.path, runs["zh"].run.path, root / "compare")
    return {
        "report": runs["en"].report_path,
        "report_zh": runs["zh"].report_path,
        "compare": render_compare(comparison.path.parent),
        "runs": runs,
    }


def test_real_report_renders_shows_evidence_and_runs_no_injected_markup(
    driver: Any,  # noqa: F811 - the fixture imported above
    pages: dict[str, Any],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    result = pages["runs"]["en"]
    _open(driver, pages["report"])
    cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
    assert len(cards) == result.k and all(_nonzero(card) for card in cards)
    segments = driver.find_elements(By.CSS_SELECTOR, "#timeline rect.seg")
    assert len(segments) == 40
    points = driver.find_elements(By.CSS_SELECTOR, "#map circle.pt")
    assert len(points) == 40 and _nonzero(driver.find_element(By.ID, "map"))
    first = result.themes[0]
    assert driver.find_element(By.CSS_SELECTOR, "#theme-0 .label").text.strip() == first.label

    button = driver.find_element(By.CSS_SELECTOR, "#theme-0 .phrase-btn")
    evidence = driver.find_element(By.ID, button.get_attribute("aria-controls"))
    button.click()
    WebDriverWait(driver, 10).until(ec.visibility_of(evidence))
    assert first.phrases[0].split()[0].lower() in evidence.text.lower()
    assert evidence.find_elements(By.CSS_SELECTOR, "figure img")

    _assert_injection_inert(driver)
    _assert_offline_and_clean(driver)
    _screenshot(driver, "e2e-report.png")


def test_real_chinese_report_and_comparison_render(
    driver: Any,  # noqa: F811 - the fixture imported above
    pages: dict[str, Any],
) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, pages["report_zh"])
    cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
    assert len(cards) == pages["runs"]["zh"].k
    # every Chinese phrase the dictionary knows carries its English gloss, in the file and page
    document = read_themes(pages["runs"]["zh"].themes_path)
    glossed = [p for theme in document.themes for p in theme.phrases if p.gloss]
    assert len(glossed) >= len(document.themes) and all(p.gloss.isascii() for p in glossed)
    shown = [g.text for g in driver.find_elements(By.CSS_SELECTOR, ".phrase-text .gloss")]
    assert f"({glossed[0].gloss})" in shown
    _assert_injection_inert(driver)
    _assert_offline_and_clean(driver)

    _open(driver, pages["compare"])
    rows = driver.find_elements(By.CSS_SELECTOR, "#side-a .theme-row")
    assert len(rows) == pages["runs"]["en"].k
    assert driver.find_elements(By.CSS_SELECTOR, "table.heat")
    # the default embedder is multilingual: English and Chinese phrases are compared by meaning
    assert "multilingual" in driver.find_element(By.ID, "comparable").text
    _assert_injection_inert(driver)
    _assert_offline_and_clean(driver)
    _screenshot(driver, "e2e-compare.png")
