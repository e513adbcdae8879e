"""End to end in a real browser: generated English and Chinese videos → summarize → compare → pages.

Unlike test_report_browser.py (hand-built runs that exercise every corner of the
page), these pages come from the real pipeline, with markup injected into the
subtitles the way a hostile or sloppy subtitle file would carry it.

The same two runs give the generator's two-language check (the English and the
Chinese video have the same themes, so the comparison must pair them theme for
theme); that test needs no browser and runs without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from browser_fixtures import (
    assert_injection_inert,
    assert_offline_and_clean,
    nonzero,
    open_page,
    screenshot,
)
from helpers import PIPELINE_CONFIG
from report_fixtures import IMG_PAYLOAD, SCRIPT_PAYLOAD
from themescope import Summarizer
from themescope.documents import read_compare, read_themes
from themescope.report import render_compare
from themescope.synthetic import SyntheticVideo, read_truth
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
    summarizer = Summarizer.from_config(PIPELINE_CONFIG)
    runs = {}
    for name, video in (("en", synthetic_video_en), ("zh", synthetic_video_zh)):
        subtitles = _with_payloads(video.subtitles_path, root / f"{name}.srt")
        runs[name] = summarizer.run(video.video_path, subtitles, out=root / name)
    comparison = compare_runs(runs["en"].run.path, runs["zh"].run.path, root / "compare")
    return {
        "report": runs["en"].report_path,
        "report_zh": runs["zh"].report_path,
        "compare": render_compare(comparison.path.parent),
        "compare_json": comparison.path,
        "runs": runs,
        "videos": {"en": synthetic_video_en, "zh": synthetic_video_zh},
    }


def _true_theme(run: Path, video: SyntheticVideo) -> dict[int, tuple[int, float]]:
    """Each theme of a run → (the true theme most of its frames show, their share)."""
    import pyarrow.parquet as pq

    frames = pq.read_table(run / "frames.parquet", columns=["time_s", "theme"]).to_pydict()
    truth = read_truth(video.truth_path)
    seconds = np.minimum(np.asarray(frames["time_s"]).astype(int), len(truth) - 1)
    found = np.asarray(frames["theme"])
    out = {}
    for theme in np.unique(found).tolist():
        counts = np.bincount(truth[seconds][found == theme])
        out[theme] = (int(counts.argmax()), float(counts.max() / counts.sum()))
    return out


def test_generated_english_and_chinese_runs_pair_theme_for_theme(pages: dict[str, Any]) -> None:
    runs, videos = pages["runs"], pages["videos"]
    true_en = _true_theme(runs["en"].run.path, videos["en"])
    true_zh = _true_theme(runs["zh"].run.path, videos["zh"])
    truth_en = {theme: truth for theme, (truth, _) in true_en.items()}
    truth_zh = {theme: truth for theme, (truth, _) in true_zh.items()}
    document = read_compare(pages["compare_json"])
    # every pair is of the same story (a story split in two themes pairs one of them)
    matched = {(m.a, m.b) for m in document.matching}
    assert len(matched) == min(len(truth_en), len(truth_zh))
    assert all(truth_en[a] == truth_zh[b] for a, b in matched)
    # the words alone rank a theme of the same story first, both ways
    text = np.array(document.matrices.text, dtype=float)
    assert all(truth_zh[int(np.argmax(row))] == truth_en[i] for i, row in enumerate(text))
    assert all(truth_en[int(np.argmax(text[:, j]))] == truth_zh[j] for j in range(text.shape[1]))
    # A matched pair of clean themes is shared. The small training of these tests can
    # leave a theme a mix of two stories: its pair is matched right but may score below
    # the threshold.
    shared = {(m.a, m.b) for m in document.matching if m.shared}
    assert shared <= matched
    clean = {(a, b) for a, b in matched if true_en[a][1] >= 0.9 and true_zh[b][1] >= 0.9}
    assert clean <= shared


def test_real_report_renders_shows_evidence_and_runs_no_injected_markup(
    driver: Any,
    pages: dict[str, Any],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    result = pages["runs"]["en"]
    open_page(driver, pages["report"])
    cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
    assert len(cards) == result.k and all(nonzero(card) for card in cards)
    segments = driver.find_elements(By.CSS_SELECTOR, "#timeline rect.seg")
    assert len(segments) == 40
    points = driver.find_elements(By.CSS_SELECTOR, "#map circle.pt")
    assert len(points) == 40 and nonzero(driver.find_element(By.ID, "map"))
    first = result.themes[0]
    assert driver.find_element(By.CSS_SELECTOR, "#theme-0 .label").text.strip() == first.label

    button = driver.find_element(By.CSS_SELECTOR, "#theme-0 .phrase-btn")
    evidence = driver.find_element(By.ID, button.get_attribute("aria-controls"))
    button.click()
    WebDriverWait(driver, 10).until(ec.visibility_of(evidence))
    assert first.phrases[0].split()[0].lower() in evidence.text.lower()
    assert evidence.find_elements(By.CSS_SELECTOR, "figure img")

    assert_injection_inert(driver)
    assert_offline_and_clean(driver)
    screenshot(driver, "e2e-report.png")


def test_real_chinese_report_and_comparison_render(
    driver: Any,
    pages: dict[str, Any],
) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, pages["report_zh"])
    cards = driver.find_elements(By.CSS_SELECTOR, "article.theme-card")
    assert len(cards) == pages["runs"]["zh"].k
    # every Chinese phrase the dictionary knows carries its English gloss, in the file and page
    document = read_themes(pages["runs"]["zh"].themes_path)
    glossed = [p for theme in document.themes for p in theme.phrases if p.gloss]
    assert len(glossed) >= len(document.themes) and all(p.gloss.isascii() for p in glossed)
    shown = [g.text for g in driver.find_elements(By.CSS_SELECTOR, ".phrase-text .gloss")]
    assert f"({glossed[0].gloss})" in shown
    assert_injection_inert(driver)
    assert_offline_and_clean(driver)

    open_page(driver, pages["compare"])
    rows = driver.find_elements(By.CSS_SELECTOR, "#side-a .theme-row")
    assert len(rows) == pages["runs"]["en"].k
    assert driver.find_elements(By.CSS_SELECTOR, "table.heat")
    # the default embedder is multilingual: English and Chinese phrases are compared by meaning
    assert "multilingual" in driver.find_element(By.ID, "comparable").text
    # What each side says that the other does not, and what both say, with the English
    # gloss of every Chinese phrase beside it, as compare.json has them.
    comparison = read_compare(pages["compare_json"])
    section = driver.find_element(By.ID, "shared-own")
    differences = section.find_elements(By.CSS_SELECTOR, ".phr.only .diff")
    pairs = section.find_elements(By.CSS_SELECTOR, ".phr.both .same")
    assert differences and pairs and all(nonzero(item) for item in differences + pairs)
    written = [
        (d.text, d.gloss)
        for side in (comparison.per_run.a, comparison.per_run.b)
        for item in side.shared + side.own
        for d in item.difference_phrases
    ]
    assert [d.text for d in differences] == [
        f"{text} ({gloss})" if gloss else text for text, gloss in written
    ]
    chinese = [(text, gloss) for text, gloss in written if not text.isascii()]
    assert chinese and all(gloss and gloss.isascii() for _, gloss in chinese)
    both = [p for item in comparison.per_run.b.shared for p in item.said_by_both]
    assert both and all(p.gloss for p in both)
    shown_pairs = {p.text for p in pairs}
    for p in both:
        assert f"{p.text} ({p.gloss}) = {p.other}" in shown_pairs
    glosses = section.find_elements(By.CSS_SELECTOR, ".gloss")
    assert glosses and all(nonzero(g) for g in glosses)
    assert_injection_inert(driver)
    assert_offline_and_clean(driver)
    screenshot(driver, "e2e-compare.png")
