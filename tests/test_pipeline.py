"""The whole pipeline on generated videos: true themes recovered, resumable, locked, and its CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import adjusted_rand_score

from helpers import PIPELINE_CONFIG, SMALL_TRAIN, cli_error, run_cli
from themescope import Result, Summarizer
from themescope._cli import main
from themescope.documents import read_themes
from themescope.errors import ConfigError
from themescope.pipeline import load_config
from themescope.rundir import RunDirectory
from themescope.synthetic import SyntheticVideo, read_truth
from themescope.themes.config import ThemesConfig


def _write_toml_config(path: Path, *theme_lines: str) -> Path:
    """Write PIPELINE_CONFIG as a TOML file, with extra lines in its [themes] section."""
    lines = ['device = "cpu"', "[train]"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in SMALL_TRAIN.items()]
    lines += ["[themes]", "k_range = [3, 5]", "n_bootstrap = 4", *theme_lines]
    path.write_text("\n".join(lines) + "\n")
    return path


def _summarize_args(video: SyntheticVideo, out: Path, *theme_lines: str) -> list[str]:
    """The command line of summarize on ``video`` with PIPELINE_CONFIG in a config file.

    The file, ``config.toml`` beside ``out``, has ``theme_lines`` in its [themes] section.
    """
    config = _write_toml_config(out.parent / "config.toml", *theme_lines)
    return [
        "summarize",
        str(video.video_path),
        "--subtitles",
        str(video.subtitles_path),
        "--out",
        str(out),
        "--config",
        str(config),
    ]


def _summarize(
    video: SyntheticVideo, out: Path, config: dict[str, Any] = PIPELINE_CONFIG
) -> Result:
    return Summarizer.from_config(config).run(video.video_path, video.subtitles_path, out=out)


@pytest.fixture(scope="module")
def english_run(
    synthetic_video_en: SyntheticVideo, tmp_path_factory: pytest.TempPathFactory
) -> Result:
    return _summarize(synthetic_video_en, tmp_path_factory.mktemp("pipeline") / "run")


@pytest.fixture
def run_copy(english_run: Result, tmp_path: Path) -> Path:
    """A copy of the module's English run, as ``tmp_path / "run"``, for a test to change."""
    # Copying keeps the test independent of the module's run, which other tests read.
    out = tmp_path / "run"
    subprocess.run(["cp", "-r", str(english_run.run.path), str(out)], check=True)
    return out


def _frame_truth(run: RunDirectory, video: SyntheticVideo) -> tuple[np.ndarray, np.ndarray]:
    frames = pq.read_table(run / "frames.parquet").to_pydict()
    truth = read_truth(video.truth_path)
    seconds = np.minimum(np.asarray(frames["time_s"]).astype(int), len(truth) - 1)
    return np.asarray(frames["theme"]), truth[seconds]


def test_summarize_recovers_the_true_themes(
    english_run: Result, synthetic_video_en: SyntheticVideo
) -> None:
    found, true = _frame_truth(english_run.run, synthetic_video_en)
    assert adjusted_rand_score(true, found) >= 0.8
    assert english_run.k == synthetic_video_en.n_themes
    assert english_run.stages == dict.fromkeys(("ingest", "train", "themes", "report"), "ran")
    assert english_run.report_path.is_file()


def test_the_true_themes_come_back_with_other_seeds(english_run: Result) -> None:
    document = read_themes(english_run.run / "themes.json")
    stability = document.stability
    assert stability is not None and stability.n_refits == ThemesConfig().stability
    assert stability.mean_ari >= 0.9 and stability.unstable == []
    for theme in document.themes:
        assert theme.stability is not None and theme.stability.recurrence >= 0.8, theme.id


def test_each_theme_is_described_by_its_own_vocabulary(
    english_run: Result, synthetic_video_en: SyntheticVideo
) -> None:
    found, true = _frame_truth(english_run.run, synthetic_video_en)
    for theme in english_run.themes:
        majority = int(np.bincount(true[found == theme.id]).argmax())
        vocabulary = {w.lower() for w in synthetic_video_en.theme_words[majority]}
        # A theme with little text (the shortest here has 28 words) gets fewer phrases
        # rather than words common in general English.
        assert 5 <= len(theme.phrases) <= 10
        top = theme.phrases[:5]
        on_topic = [p for p in top if set(p.lower().split()) & vocabulary]
        assert len(on_topic) >= 4, (theme.id, majority, top)
        assert set(theme.phrases[0].lower().split()) & vocabulary


def test_rerun_with_the_same_settings_skips_every_stage(
    english_run: Result, synthetic_video_en: SyntheticVideo
) -> None:
    again = _summarize(synthetic_video_en, english_run.run.path)
    assert again.stages == dict.fromkeys(("ingest", "train", "themes", "report"), "skipped")
    assert [t.frames for t in again.themes] == [t.frames for t in english_run.themes]


def test_a_changed_setting_reruns_that_stage_and_the_ones_after_it(
    synthetic_video_en: SyntheticVideo, run_copy: Path
) -> None:
    out = run_copy
    changed = {**PIPELINE_CONFIG, "themes": {**PIPELINE_CONFIG["themes"], "k": 3}}
    result = _summarize(synthetic_video_en, out, changed)
    assert result.stages == {
        "ingest": "skipped",
        "train": "skipped",
        "themes": "ran",
        "report": "ran",
    }
    assert result.k == 3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["themes"]["k"] == 3


def test_a_stage_whose_files_were_deleted_or_damaged_is_not_up_to_date(
    synthetic_video_en: SyntheticVideo, run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, part 5, item 9: themes and report said "up to date" from the manifest alone."""
    out = run_copy

    (out / "latents.npy").unlink()
    assert cli_error(capsys, "-q", "themes", str(out)) == (
        f"{out / 'latents.npy'} is missing, so the train stage of {out} "
        "is not complete; run `themescope train` again"
    )
    result = _summarize(synthetic_video_en, out)
    assert result.stages == {
        "ingest": "skipped",
        "train": "ran",
        "themes": "ran",
        "report": "ran",
    }
    (out / "themes.json").write_text("{", encoding="utf-8")
    assert cli_error(capsys, "-q", "report", str(out)) == (
        f"{out / 'themes.json'} is unreadable (input data was truncated); "
        "rerun `themescope themes --force` to rewrite it"
    )
    (out / "themes.json").unlink()
    assert cli_error(capsys, "-q", "report", str(out)) == (
        f"{out / 'themes.json'} is missing, so the themes stage of {out} "
        "is not complete; run `themescope themes` again"
    )
    assert _summarize(synthetic_video_en, out).stages == {
        "ingest": "skipped",
        "train": "skipped",
        "themes": "ran",
        "report": "ran",
    }


def test_bad_settings_are_refused_before_any_stage_reruns(
    synthetic_video_en: SyntheticVideo, run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 8, finding 1: a changed --every with --device cuda must not leave a mixed run."""
    out = run_copy
    before = (out / "manifest.json").read_text()
    args = _summarize_args(synthetic_video_en, out)
    assert cli_error(capsys, *args, "--every", "3", "--device", "cuda") == (
        f"--device cuda was asked for, but this torch "
        f"({__import__('torch').__version__}) sees no CUDA GPU"
    )
    assert (out / "manifest.json").read_text() == before
    for name in ("latents.npy", "model", "themes.json", "report.html"):
        assert (out / name).exists(), name


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--embedder", "/no/such/embedder"], "/no/such/embedder"),
        (["--word-vectors", "/no/such/vectors.txt"], "word-vector file /no/such/vectors.txt does"),
        (["--tagger", "llm", "--llm-url", "ftp://x", "--llm-model", "m"], "--llm-url must start"),
        (["--tagger", "llm"], "--tagger llm needs --llm-model"),
    ],
)
def test_settings_of_later_stages_are_checked_before_ingest(
    synthetic_video_en: SyntheticVideo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    message: str,
) -> None:
    out = tmp_path / "run"
    args = _summarize_args(synthetic_video_en, out)
    assert message in cli_error(capsys, *args, *flags)
    assert not out.exists(), "nothing may be written before the settings are checked"


def test_a_components_parameters_are_part_of_its_stage_fingerprint(
    synthetic_video_en: SyntheticVideo, run_copy: Path
) -> None:
    """Issue 8, finding 4: a tagger with other parameters is not the default tagger."""
    from themescope.embedding import load_embedder
    from themescope.themes.extractive import ExtractiveTagger

    out = run_copy
    embedder = load_embedder(None)
    summarizer = Summarizer.from_config(PIPELINE_CONFIG)
    summarizer.tagger = ExtractiveTagger(embedder, mmr_lambda=0.3)
    result = summarizer.run(
        synthetic_video_en.video_path, synthetic_video_en.subtitles_path, out=out
    )
    assert result.stages["themes"] == "ran" and result.stages["train"] == "skipped"


def test_cli_summarize_reads_a_config_file_and_flags_override_it(
    synthetic_video_en: SyntheticVideo, run_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = run_copy
    argv = [*_summarize_args(synthetic_video_en, out, "k = 5"), "--k", "3"]
    code, printed, _ = run_cli(capsys, *argv)
    assert code == 0
    assert "3 themes" in printed
    assert "ingest skipped, train skipped, themes ran, report ran" in printed
    assert f"report: {out / 'report.html'}" in printed
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["themes"]["k"] == 3


def test_a_config_file_with_an_unknown_section_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("trian:\n  epochs: 3\n")
    with pytest.raises(ConfigError, match="unknown config section"):
        Summarizer.from_config(load_config(config))


def test_bad_video_through_summarize_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    assert "notes.mp4" in cli_error(capsys, "summarize", str(fake), "--out", str(tmp_path / "run"))
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_summarize_with_zero_epochs_is_refused(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "summarize",
                str(synthetic_video_en.video_path),
                "--epochs",
                "0",
                "--out",
                str(tmp_path),
            ]
        )
    assert exit_info.value.code == 2
    assert "epochs" in capsys.readouterr().err


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "themescope", *args]


def test_a_second_process_on_the_same_run_refuses_cleanly(
    synthetic_video_en: SyntheticVideo, tmp_path: Path
) -> None:
    run = RunDirectory(tmp_path / "run")
    with run.lock():
        done = subprocess.run(
            _cli("summarize", str(synthetic_video_en.video_path), "--out", str(run.path)),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"themescope: error: {run.path} is in use by another themescope process "
        f"(pid {os.getpid()}); wait for it to finish"
    ]


def test_killed_training_resumes_to_the_same_result(
    synthetic_video_en: SyntheticVideo, english_run: Result, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    args = _cli(*_summarize_args(synthetic_video_en, out))
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint = out / ".train-checkpoint" / "state.json"
    deadline = time.monotonic() + 300
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "training finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert RunDirectory(out).record("train") is None
    subprocess.run(args, check=True, capture_output=True, timeout=300)
    resumed = np.load(out / "latents.npy")
    uninterrupted = np.load(english_run.run / "latents.npy")
    np.testing.assert_array_equal(resumed, uninterrupted)


def test_a_checkpoint_that_no_longer_fits_is_not_resumed(
    synthetic_video_en: SyntheticVideo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import logging

    from themescope.media.ingest import ingest

    # an in-process CLI test may have pointed the logger at its own handler only
    monkeypatch.setattr(logging.getLogger("themescope"), "propagate", True)
    from themescope.model.checkpoint import CHECKPOINT_DIR
    from themescope.model.config import TrainConfig
    from themescope.model.train import train

    out = tmp_path / "run"
    ingest(synthetic_video_en.video_path, out, subtitles=synthetic_video_en.subtitles_path)
    interrupted = TrainConfig.from_dict({**SMALL_TRAIN, "latent_dim": 8})

    def stop_after_two_epochs(stats: Any) -> bool:
        if stats.epoch >= 2:
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        train(out, interrupted, device="cpu", callback=stop_after_two_epochs)
    assert (out / CHECKPOINT_DIR).is_dir()
    result = _summarize(synthetic_video_en, out)
    assert result.stages["train"] == "ran"
    assert np.load(out / "latents.npy").shape == (40, SMALL_TRAIN["latent_dim"])
    # A set: after an in-process CLI test the record may reach caplog through two handlers.
    (warning,) = {r.getMessage() for r in caplog.records if "not resuming" in r.getMessage()}
    # summarize starts over by itself: no advice to delete the checkpoint or drop a flag.
    assert warning.startswith(f"not resuming: checkpoint in {out / CHECKPOINT_DIR} ")
    assert warning.endswith("); training from the start")
    assert "delete" not in warning and "--resume" not in warning


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"train": "fast"},
            "Summarizer's train must be a TrainConfig or None. Got 'fast' instead; make one "
            'with TrainConfig.preset("paper")',
        ),
        (
            {"ingest": {"every_s": 1.0}},
            "Summarizer's ingest must be an IngestConfig or None. Got a dict instead; make one "
            "with IngestConfig.from_dict({...})",
        ),
        (
            {"embedder": "not-an-embedder"},
            "Summarizer's embedder must be a PhraseEmbedder or None. Got 'not-an-embedder' "
            "instead; make one with load_embedder(NAME_OR_FOLDER)",
        ),
        (
            {"tagger": 3},
            "Summarizer's tagger must be a Tagger or None. Got an int instead; make one with "
            "ExtractiveTagger(embedder)",
        ),
    ],
)
def test_summarizer_refuses_arguments_of_the_wrong_kind_when_built(
    arguments: dict[str, Any], message: str
) -> None:
    # They raised AttributeError inside a stage, the embedder after 4 minutes of work.
    with pytest.raises(ConfigError) as info:
        Summarizer(**arguments)
    assert str(info.value) == message
