"""A study's report under a codebook, in a real browser (headless Chromium).

The researcher's label heads its theme card, the automatic one is shown under it, and
the method says which codebook the figures follow and what airtime was set aside.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser_fixtures import assert_page_safe, nonzero, open_page
from study_fixtures import CHINESE_GLOSS, CHINESE_LABEL, build_study
from themescope.corpus.codebook import codebook
from themescope.rundir import RunDirectory

pytestmark = pytest.mark.browser


def test_the_study_report_shows_the_researchers_labels_beside_the_automatic_ones(
    driver: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    study = build_study(tmp_path)
    run = RunDirectory(study, kind="study")
    manifest = run.read_manifest()
    # As the themes stage records them: the statistics a codebook's are computed with.
    manifest.config["themes"].update(
        seed=0,
        statistics={"n_bootstrap": 50, "n_permutations": 50, "level": 0.95, "covariates": []},
    )
    run.write_manifest(manifest)
    (study / "codebook.toml").write_text(
        '[[themes]]\nid = 1\nlabel = "Exchange <b>rate</b>"\nnote = "RMB only"\n'
        "[[themes]]\nid = 2\ndrop = true\n",
        encoding="utf-8",
    )
    codebook(study, apply=True)
    open_page(driver, study / "report.html")

    card = driver.find_element(By.ID, "theme-1")
    heading = card.find_element(By.CSS_SELECTOR, "h3.label")
    assert nonzero(heading) and heading.text == "Exchange <b>rate</b>"
    line = card.find_element(By.CSS_SELECTOR, "p.codebook")
    assert nonzero(line)
    assert line.text == f"automatic label: {CHINESE_LABEL} ({CHINESE_GLOSS}) · note: RMB only"
    assert driver.find_elements(By.ID, "theme-2") == []
    method = driver.find_element(By.ID, "method").text
    assert "theme 2 dropped:" in method and "set aside, like black frames" in method
    assert_page_safe(driver)
