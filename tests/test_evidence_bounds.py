"""Huge cues stay out of themes.json and the report: quotes and shown text are bounded."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from report_fixtures import build_run
from themescope._cli import main
from themescope._limits import MAX_SHOWN_TEXT_CHARS, clip_text
from themescope.report import render_report
from themescope.synthetic import SyntheticVideo
from themescope.themes.base import Phrase, ThemeMaterial
from themescope.themes.evidence import MAX_QUOTE_CHARS, MAX_QUOTES, attach_evidence, excerpt

TWO_MB = 2_000_000
# Long enough that 30 frames of it, unbounded, would make a page far over TWO_MB.
LONG = 200_000


def _filler(n_chars: int, seed: int = 0) -> str:
    rng = random.Random(seed)
    words = ("rain", "storm", "market", "stocks", "election", "vote", "football", "goal")
    return " ".join(rng.choice(words) for _ in range(n_chars // 4))[:n_chars]


def test_a_short_text_is_quoted_whole() -> None:
    assert excerpt("nurses give the vaccine", "vaccine") == "nurses give the vaccine"


def test_a_long_text_is_cut_around_the_phrase_at_word_boundaries() -> None:
    text = f"{_filler(5000)} the new vaccine clinic opens {_filler(5000, seed=1)}"
    quote = excerpt(text, "Vaccine Clinic")
    assert len(quote) <= MAX_QUOTE_CHARS
    assert quote.startswith("…") and quote.endswith("…")
    assert "the new vaccine clinic opens" in quote
    words = set(text.split())
    assert set(quote.strip("…").split()) <= words  # no word cut in half


def test_a_long_text_without_the_phrase_keeps_its_start() -> None:
    text = _filler(5000)
    quote = excerpt(text, "semantic match")
    assert len(quote) <= MAX_QUOTE_CHARS
    assert text.startswith(quote.removesuffix("…")) and quote.endswith("…")


def test_chinese_without_spaces_is_cut_anywhere() -> None:
    text = "天气" * 400 + "疫苗接种" + "新闻" * 400
    quote = excerpt(text, "疫苗接种")
    assert len(quote) == MAX_QUOTE_CHARS
    assert "疫苗接种" in quote and quote.startswith("…") and quote.endswith("…")


def test_evidence_of_a_huge_cue_is_bounded() -> None:
    huge = f"{_filler(LONG)} vaccine clinic {_filler(LONG, seed=1)}"
    texts = [huge, *(f"{huge[: LONG // 4]} vaccine {i}" for i in range(9))]
    material = ThemeMaterial(0, list(range(10)), texts, [huge] * 10, "en")
    (phrase,) = attach_evidence([Phrase("vaccine", 1.0)], material)
    assert phrase.evidence.support == 1.0
    assert 0 < len(phrase.evidence.quotes) <= MAX_QUOTES
    assert 0 < len(phrase.evidence.captions) <= MAX_QUOTES
    for quote in [*phrase.evidence.quotes, *phrase.evidence.captions]:
        assert len(quote) <= MAX_QUOTE_CHARS and "vaccine" in quote


def test_clip_text_marks_the_cut() -> None:
    assert clip_text("short") == "short"
    clipped = clip_text("x" * (MAX_SHOWN_TEXT_CHARS + 1))
    assert len(clipped) == MAX_SHOWN_TEXT_CHARS and clipped.endswith("…")


def test_the_report_of_frames_with_huge_text_stays_small(tmp_path: Path) -> None:
    run = build_run(tmp_path, n_frames=30)
    huge = _filler(LONG)
    for name, columns in (("frames.parquet", ("text", "caption")), ("cues.parquet", ("text",))):
        table = pq.read_table(run / name)
        for column in columns:
            index = table.schema.get_field_index(column)
            table = table.set_column(index, column, [[huge] * table.num_rows])
        pq.write_table(table, run / name)
    render_report(run, force=True)
    assert (run / "report.html").stat().st_size < TWO_MB


@pytest.mark.slow
def test_a_run_with_a_2mb_cue_writes_small_documents(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subtitles = tmp_path / "huge.srt"
    huge = f"{_filler(TWO_MB)} vaccine clinic"
    subtitles.write_text(
        synthetic_video_en.subtitles_path.read_text(encoding="utf-8")
        + f"\n9999\n00:00:00,500 --> 00:01:19,000\n{huge}\n",
        encoding="utf-8",
    )
    config = tmp_path / "small.toml"
    config.write_text(
        'device = "cpu"\n[train]\nimage_height = 48\nimage_width = 80\n'
        "conv_channels = [8, 16, 16]\nrnn_hidden = 16\ndense_units = 64\nlatent_dim = 16\n"
        "max_tokens = 16\nbatch_size = 8\nn_threads = 1\n[themes]\nk = 3\nn_bootstrap = 2\n"
    )
    out = tmp_path / "run"
    video = str(synthetic_video_en.video_path)
    args = ["-q", "summarize", video, "-s", str(subtitles), "--out", str(out), "-c", str(config)]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--epochs", "2"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    assert (out / "themes.json").stat().st_size < TWO_MB
    assert (out / "report.html").stat().st_size < TWO_MB
    themes = json.loads((out / "themes.json").read_text(encoding="utf-8"))
    # the filler is said in every theme, so its words are the run's common phrases
    phrases = [p for theme in themes["themes"] for p in theme["phrases"]] + themes["common"]
    quotes = [quote for phrase in phrases for quote in phrase["evidence"]["quotes"]]
    assert quotes and max(len(quote) for quote in quotes) <= MAX_QUOTE_CHARS


def test_on_screen_text_is_evidence_of_its_own_kind() -> None:
    from themescope.themes.base import Phrase, ThemeMaterial
    from themescope.themes.evidence import attach_evidence

    material = ThemeMaterial(
        0,
        [4, 5, 6],
        ["the forecast calls for rain", "", "crops and rivers"],
        ["", "", ""],
        "en",
        screen_texts=["", "SNOW FOREST CROPS\nLIVE", ""],
    )
    snow, crops = attach_evidence([Phrase("snow", 1.0), Phrase("crops", 0.5)], material)
    assert snow.supported and snow.evidence.frame_ids == [5]
    assert snow.evidence.on_screen == ["SNOW FOREST CROPS"] and snow.evidence.quotes == []
    assert crops.evidence.frame_ids == [5, 6]
    assert crops.evidence.quotes == ["crops and rivers"]
    assert crops.evidence.on_screen == ["SNOW FOREST CROPS"]
