"""Black and blank frames: found at ingest, in no theme, set apart in themes.json and the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from themescope import Summarizer
from themescope.documents import read_themes
from themescope.errors import ConfigError, ThemescopeError
from themescope.manifest import IngestRecord, ThemesRecord, TrainRecord
from themescope.media.blank import is_blank
from themescope.media.config import IngestConfig
from themescope.media.ingest import ingest
from themescope.report.render import BLANK_LABEL, build_report_html
from themescope.rundir import RunDirectory
from themescope.synthetic import SyntheticVideo, generate_news_video, read_truth
from themescope.themes.config import ThemesConfig
from themescope.themes.stage import build_themes

BLACK_S = 6
TINY_TRAIN = {
    "image_height": 32,
    "image_width": 48,
    "conv_channels": [4, 8, 8],
    "rnn_hidden": 8,
    "dense_units": 32,
    "latent_dim": 8,
    "max_tokens": 12,
    "batch_size": 8,
    "epochs": 8,
    "checkpoint_every": 4,
    "n_threads": 1,
}


@pytest.fixture(scope="module")
def black_opening(tmp_path_factory: pytest.TempPathFactory) -> SyntheticVideo:
    """A 30 s, two-theme video whose first six seconds are black, as broadcast clips open."""
    return generate_news_video(
        tmp_path_factory.mktemp("black_opening"),
        duration_s=30,
        n_themes=2,
        width=160,
        height=96,
        fps=5,
        segment_s=(8, 12),
        preset="ultrafast",
        black_opening_s=BLACK_S,
    )


def _frame(rgb: tuple[int, int, int], h: int = 90, w: int = 160) -> np.ndarray:
    return np.full((h, w, 3), rgb, np.uint8)


def test_black_and_flat_frames_are_blank_and_pictures_are_not() -> None:
    rng = np.random.default_rng(0)
    assert is_blank(_frame((0, 0, 0)))
    assert is_blank(_frame((12, 14, 10)))  # video black, decoded a little above 0
    assert is_blank(_frame((0, 40, 200)))  # a flat blue slate
    noisy = np.clip(_frame((128, 128, 128)).astype(int) + rng.integers(-3, 4, (90, 160, 3)), 0, 255)
    assert is_blank(noisy.astype(np.uint8))  # flat grey with JPEG-like noise
    bug = _frame((0, 0, 0))
    bug[4:12, 140:156] = 255  # a channel bug on black is still black
    assert is_blank(bug)
    assert is_blank(np.zeros((1, 160, 3), np.uint8))  # a one-pixel-high video
    night = _frame((5, 5, 20))
    night[30:60, 20:140:8] = (250, 230, 120)  # lit windows: a dark picture, not a black one
    assert not is_blank(night)
    assert not is_blank(rng.integers(0, 256, (90, 160, 3), dtype=np.uint8))


def test_the_generator_writes_a_black_opening_without_words() -> None:
    with pytest.raises(ConfigError, match="black_opening_s must be between 0 and 9"):
        generate_news_video("unused", duration_s=10, black_opening_s=10)


def test_ingest_marks_black_frames_counts_and_warns(black_opening, tmp_path: Path) -> None:
    truth = read_truth(black_opening.truth_path)
    assert (truth[:BLACK_S] == -1).all() and (truth[BLACK_S:] >= 0).all()
    config = IngestConfig(ocr="off")
    result = ingest(
        black_opening.video_path, tmp_path / "run", subtitles=black_opening.subtitles_path,
        config=config,
    )  # fmt: skip
    frames = pq.read_table(tmp_path / "run" / "frames.parquet").to_pydict()
    assert frames["blank"] == [t < BLACK_S for t in frames["time_s"]]
    assert result.record.n_frames_blank == BLACK_S // 2 == 3
    manifest = RunDirectory(tmp_path / "run").read_manifest()
    assert (
        "3 of 15 frames are black or blank (0–6 s): they form no theme and their time counts "
        "in no theme's share"
    ) in manifest.warnings()
    # Black frames with nothing said are no ads: nothing on a generated video is one.
    assert result.record.n_frames_promo == 0 and not any(frames["promo"])


def test_summarize_keeps_black_frames_out_of_every_theme(black_opening, tmp_path: Path) -> None:
    config = {
        "ingest": {"ocr": "off"},
        "train": TINY_TRAIN,
        "themes": {"k": 2, "n_bootstrap": 0, "embedder": "minilm"},
        "device": "cpu",
    }
    result = Summarizer.from_config(config).run(
        black_opening.video_path, black_opening.subtitles_path, out=tmp_path / "run"
    )
    run = tmp_path / "run"
    frames = pq.read_table(run / "frames.parquet").to_pydict()
    document = read_themes(run / "themes.json")
    blank = document.blank
    assert blank is not None and blank.frames == [0, 1, 2] and blank.n_frames == 3
    assert blank.spans == [(frames["time_s"][0], frames["time_s"][3])]
    # Every frame is in one theme or blank, never both; frames.parquet says the same.
    themed = [f for theme in document.themes for f in theme.frames]
    assert sorted(themed + blank.frames) == list(range(len(frames["frame_id"])))
    assert [frames["theme"][f] for f in blank.frames] == [-1, -1, -1]
    for theme in document.themes:
        assert all(frames["theme"][f] == theme.id for f in theme.frames)
    # Shares are of the whole video's time: the themes' and the blank frames' add up to 1.
    assert sum(t.share for t in document.themes) + blank.share == pytest.approx(1.0, abs=1e-3)
    assert blank.share == pytest.approx(BLACK_S / 30, abs=1e-3)
    assert len(document.projection.points) == len(frames["frame_id"])
    assert document.k == 2
    # The model learns the 12 frames that show something and encodes all 15.
    train_record = RunDirectory(run).read_manifest().record("train", TrainRecord)
    assert train_record is not None and train_record.n_frames_learned == 12
    assert np.load(run / "latents.npy").shape[0] == 15
    html = result.report_path.read_text(encoding="utf-8")
    assert html.count(BLANK_LABEL) >= 2  # the timeline's and the map's legends
    assert "3 black or blank frames (0:06, 20% of the video" in html
    assert "15 (one every 2 s); 3 black or blank, in no theme" in html


def _write_run(
    path: Path, blank: list[bool] | None, columns: dict[str, list] | None = None
) -> None:
    """A run with ingest and train done: two clear groups, and black frames alike."""
    rng = np.random.default_rng(0)
    n = 24
    group = np.repeat([0, 1], n // 2)
    latents = rng.normal(scale=0.3, size=(n, 8)) + np.where(group[:, None] == 0, 3.0, -3.0)
    if blank is not None:
        latents[np.asarray(blank)] = 10.0  # what black frames look like: one point
    words = ["vaccine booster clinic nurse.", "senator vote bill congress."]
    table = {
        "frame_id": pa.array(np.arange(n), pa.int64()),
        "requested_s": pa.array(np.arange(n) * 2.0),
        "time_s": pa.array(np.arange(n) * 2.0),
        "image": [f"frames/{i:06d}.jpg" for i in range(n)],
        "text": [words[g] for g in group],
        "lang": ["en"] * n,
    }
    if blank is not None:
        table["blank"] = pa.array(blank, pa.bool_())
    table |= columns or {}
    run = RunDirectory(path)
    with run.stage("ingest", stage_fingerprint="ing", config={}) as st:
        pq.write_table(pa.table(table), st.path("frames.parquet"))
        st.record = IngestRecord(
            n_frames=n,
            every_s=2.0,
            lang="en",
        )
    with run.stage("train", stage_fingerprint="tr", config={}) as st:
        np.save(st.path("latents.npy"), latents.astype(np.float32))


def test_black_frames_form_no_theme_even_where_they_would_be_one(tmp_path: Path, embedder) -> None:
    blank = [i < 4 or 12 <= i < 14 for i in range(24)]
    _write_run(tmp_path / "run", blank)
    build_themes(tmp_path / "run", ThemesConfig(k_range=(2, 3), n_bootstrap=0), embedder=embedder)
    data = json.loads((tmp_path / "run" / "themes.json").read_text(encoding="utf-8"))
    assert data["k"] == 2
    assert data["blank"]["frames"] == [0, 1, 2, 3, 12, 13]
    assert data["blank"]["spans"] == [[0.0, 8.0], [24.0, 28.0]]
    assert sorted(len(t["frames"]) for t in data["themes"]) == [8, 10]
    manifest = RunDirectory(tmp_path / "run").read_manifest()
    themes_record = manifest.record("themes", ThemesRecord)
    assert themes_record is not None and themes_record.n_frames_blank == 6
    html, _ = build_report_html(tmp_path / "run")
    assert "6 black or blank frames" in html and BLANK_LABEL in html


def test_a_run_ingested_before_blank_detection_clusters_every_frame(
    tmp_path: Path, embedder
) -> None:
    _write_run(tmp_path / "run", None)
    build_themes(tmp_path / "run", ThemesConfig(k=2, n_bootstrap=0), embedder=embedder)
    document = read_themes(tmp_path / "run" / "themes.json")
    assert document.blank is None
    assert sum(t.n_frames for t in document.themes) == 24
    html, _ = build_report_html(tmp_path / "run")
    assert BLANK_LABEL not in html


def test_a_run_of_black_frames_only_says_so(tmp_path: Path, embedder) -> None:
    _write_run(tmp_path / "run", [True] * 24)
    with pytest.raises(ThemescopeError, match=r"all 24 frames of .* are black or blank"):
        build_themes(tmp_path / "run", ThemesConfig(k=2), embedder=embedder)


@pytest.mark.parametrize("promo", [False, True])
def test_the_on_screen_text_of_an_ad_describes_no_theme(
    tmp_path: Path, embedder, promo: bool
) -> None:
    ad = [i in (5, 6, 17, 18) for i in range(24)]
    columns = {
        "ocr_text": ["MATTRESS SALE" if is_ad else "" for is_ad in ad],
        "promo": [is_ad and promo for is_ad in ad],
    }
    _write_run(tmp_path / "run", [False] * 24, columns)
    build_themes(tmp_path / "run", ThemesConfig(k=2, n_bootstrap=0), embedder=embedder)
    document = read_themes(tmp_path / "run" / "themes.json")
    said = [p.text for t in document.themes for p in t.phrases] + [p.text for p in document.common]
    said += [t.label for t in document.themes]
    assert any("mattress" in text.lower() for text in said) is not promo, said
