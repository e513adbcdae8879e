"""End to end in a real browser: generated English and Chinese videos → summarize → compare → pages.

Unlike test_report_browser.py (hand-built runs that exercise every corner of the
page), these pages come from the real pipeline, with markup injected into the
subtitles the way a hostile or sloppy subtitle file would carry it.

The same two runs give the generator's two-language check (the English and the
Chinese video have the same stories, so the joint comparison must put each story's
frames of both videos in one shared theme); that test needs no browser and runs
without one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from browser_fixtures import (
    assert_page_safe,
    nonzero,
    open_page,
    screenshot,
)
from helpers import PIPELINE_CONFIG, SMALL_TRAIN
from report_fixtures import IMG_PAYLOAD, SCRIPT_PAYLOAD
from themescope import Summarizer
from themescope.compare_document import JointCompareDocument, read_compare
from themescope.corpus.compare import compare_runs
from themescope.documents import read_themes
from themescope.model.config import MULTILINGUAL, TrainConfig
from themescope.report import render_compare
from themescope.synthetic import SyntheticVideo, read_truth
from themescope.themes.config import ThemesConfig

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
    comparison = compare_runs(
        [runs["en"].run.path, runs["zh"].run.path],
        root / "compare",
        train=TrainConfig.from_dict({**SMALL_TRAIN, "word_vectors": MULTILINGUAL}),
        themes=ThemesConfig(k_range=(3, 5)),
        device="cpu",
    )
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


def test_generated_english_and_chinese_runs_share_their_stories(pages: dict[str, Any]) -> None:
    import pyarrow.parquet as pq

    document = read_compare(pages["compare_json"])
    assert isinstance(document, JointCompareDocument)
    folder = pages["compare_json"].parent
    frames = pq.read_table(folder / "frames.parquet").to_pydict()
    truth = {name: read_truth(video.truth_path) for name, video in pages["videos"].items()}
    story = np.array(
        [
            truth[video][min(int(time), len(truth[video]) - 1)]
            for video, time in zip(frames["video"], frames["time_s"], strict=True)
        ]
    )
    videos, themes = np.array(frames["video"]), np.array(frames["theme"])
    shared = [theme for theme in document.themes if theme.shared]
    # Both videos tell the same stories: most of the airtime is in shared themes, and a
    # shared theme's frames of either video are of one story.
    assert sum(theme.shares["en"] for theme in shared) >= 0.5
    for theme in shared:
        majority = {
            name: np.bincount(story[(videos == name) & (themes == theme.id)]).argmax()
            for name in ("en", "zh")
        }
        assert majority["en"] == majority["zh"], theme.label
    assert any(theme.said_by_both for theme in shared)


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

    assert_page_safe(driver)
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
    assert_page_safe(driver)

    open_page(driver, pages["compare"])
    comparison = read_compare(pages["compare_json"])
    assert isinstance(comparison, JointCompareDocument)
    # The page leads with what the reports share, each Chinese phrase glossed beside it.
    answer = driver.find_element(By.ID, "answer")
    shared = [theme for theme in comparison.themes if theme.shared]
    assert len(answer.find_elements(By.CSS_SELECTOR, ".theme-row.shared")) == len(shared)
    pairs = answer.find_elements(By.CSS_SELECTOR, ".phr.both .same")
    written = [pair for theme in shared for pair in theme.said_by_both]
    assert len(pairs) == len(written) and all(nonzero(item) for item in pairs)
    for shown, pair in zip(pairs, written, strict=True):
        chinese = pair.phrases["zh"]
        assert chinese.gloss and f"{chinese.text} ({chinese.gloss})" in shown.text
    glosses = driver.find_elements(By.CSS_SELECTOR, ".gloss")
    assert glosses and all(nonzero(g) for g in glosses)
    assert_page_safe(driver)
    screenshot(driver, "e2e-compare.png")
