"""Corpus mode end to end on a tiny generated two-group corpus: outputs, resume, failures, CLI."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from test_model_support import tiny_config
from themescope._cli import main
from themescope.corpus.config import StudyConfig
from themescope.corpus.study import Study
from themescope.errors import ConfigError, RunLockedError
from themescope.media.config import IngestConfig
from themescope.model.config import MULTILINGUAL
from themescope.study_documents import (
    STUDY_THEMES_SCHEMA_VERSION,
    read_study_themes,
    read_study_videos,
)
from themescope.synthetic import SyntheticCorpus, generate_corpus
from themescope.themes.config import ThemesConfig

TINY_VIDEO = {"width": 160, "height": 90, "fps": 5, "segment_s": (4, 8), "preset": "ultrafast"}


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCorpus:
    """Two groups (A English, B Chinese) of two 24 s videos each."""
    out = tmp_path_factory.mktemp("corpus")
    return generate_corpus(out, n_per_group=2, duration_s=24.0, seed=3, **TINY_VIDEO)  # type: ignore[arg-type]


TINY_THEMES = ThemesConfig(k_range=(2, 4), n_bootstrap=0)


def tiny_study(*, themes: ThemesConfig = TINY_THEMES, **options: object) -> Study:
    return Study(
        ingest=IngestConfig(ocr="off"),
        train=tiny_config(word_vectors=MULTILINGUAL),
        themes=themes,
        n_bootstrap=200,
        n_permutations=200,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def done_study(tiny_corpus: SyntheticCorpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("study") / "study"
    tiny_study(workers=2).run(tiny_corpus.manifest_path, out=out)
    return out


def test_a_study_writes_one_table_one_model_and_themes_with_group_shares(
    done_study: Path, tiny_corpus: SyntheticCorpus
) -> None:
    for name in (
        "manifest.json",
        "videos.json",
        "frames.parquet",
        "latents.npy",
        "themes.json",
        "report.html",
    ):
        assert (done_study / name).is_file(), name
    videos = read_study_videos(done_study / "videos.json").videos
    assert [v.status for v in videos] == ["done"] * 4
    assert [v.group for v in videos] == ["A", "A", "B", "B"]
    assert {v.lang for v in videos} == {"en", "zh"}
    assert all((done_study / "videos" / v.id / "manifest.json").is_file() for v in videos)

    frames = pq.read_table(done_study / "frames.parquet").to_pydict()
    for column in ("frame_id", "video", "group", "time_s", "seconds", "theme", "text", "ocr_text"):
        assert column in frames, column
    n = len(frames["frame_id"])
    assert frames["frame_id"] == list(range(n))
    assert np.load(done_study / "latents.npy").shape[0] == n
    # every frame's image is a file of its video's run directory
    assert all((done_study / image).is_file() for image in frames["image"])
    # 24 s per video: the frames of a video stand for its whole length
    seconds_by_video: dict[str, float] = {}
    for video, seconds in zip(frames["video"], frames["seconds"], strict=True):
        seconds_by_video[video] = seconds_by_video.get(video, 0.0) + seconds
    assert all(abs(total - 24.0) < 2.1 for total in seconds_by_video.values())

    document = read_study_themes(done_study / "themes.json")
    assert [g.name for g in document.groups] == ["A", "B"]
    assert [g.n_videos for g in document.groups] == [2, 2]
    for group in ("A", "B"):
        assert sum(t.group_shares[group].share for t in document.themes) == pytest.approx(1, 1e-3)
    assert document.group_test is not None and 0 < document.group_test.p_value <= 1
    assert "permutation" in document.group_test.method
    # two videos per group: few assignments, which the study says
    assert any("assignments" in w for w in document.warnings)
    assert [v.id for v in document.videos] == [v.id for v in videos]
    for timeline in document.videos:
        assert sum(timeline.shares) == pytest.approx(1, abs=1e-3)
        assert timeline.spans[0][0] == 0.0
    assert all(t.n_videos >= 1 for t in document.themes)
    # A speaks English and B Chinese: their group phrases were matched across the languages,
    # and what both say is in no group's "says more"
    assert document.phrase_matching is not None
    for theme in document.themes:
        said = {(g, p.text) for pair in theme.said_by_both for g, p in pair.phrases.items()}
        assert all(len(pair.phrases) == 2 for pair in theme.said_by_both)
        assert not said & {(g, p.text) for g, ps in theme.group_phrases.items() for p in ps}
    # a theme's frames are rows of the study's table and its examples come from them
    for theme in document.themes:
        assert all(frames["theme"][i] == theme.id for i in theme.frames)
        assert set(theme.representative_frames) <= set(theme.frames)
    # the study's one clustering refitted with the default number of other seeds
    stability = document.stability
    assert stability is not None and stability.n_refits == ThemesConfig().stability
    assert stability.unstable == [t.id for t in document.themes if t.stability.unstable]  # type: ignore[union-attr]


def test_dated_videos_give_shares_over_time_and_covariates_their_effects(
    done_study: Path, tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    document = read_study_themes(done_study / "themes.json")
    # The generator dates each group's two videos a week apart: eight daily bins.
    assert document.over_time is not None and document.over_time.unit == "day"
    assert document.over_time.bins[0] == "2024-01-01" and len(document.over_time.bins) == 8
    for group in ("A", "B"):
        for start in ("2024-01-01", "2024-01-08"):
            points = [p for p in document.over_time.shares if (p.group, p.start) == (group, start)]
            assert [p.theme for p in points] == list(range(document.k))
            assert sum(p.share for p in points) == pytest.approx(1, abs=1e-3)
    assert document.effects is None and not (done_study / "effects.csv").exists()

    # Asking for a covariate reruns only the themes and the report.
    study = tmp_path / "study"
    shutil.copytree(done_study, study)
    result = tiny_study(workers=2, study=StudyConfig(covariates="date")).run(
        tiny_corpus.manifest_path, out=study
    )
    assert result.stages == {
        "ingest": "skipped",
        "train": "skipped",
        "themes": "ran",
        "report": "ran",
    }
    effects = read_study_themes(study / "themes.json").effects
    assert effects is not None and effects.n_videos == 4
    assert result.effects == [
        e.sentence
        for e in sorted(effects.effects, key=lambda e: -abs(e.estimate))
        if e.significant and e.sentence
    ]
    assert [(c.name, c.kind) for c in effects.covariates] == [("date", "date")]
    with (study / "effects.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["theme"], r["term"]) for r in rows] == [
        (str(t), term) for t in range(document.k) for term in ("group=B", "date")
    ]
    assert {r["unit"] for r in rows if r["term"] == "date"} == {"day"}
    # Four videos for two terms and a mean: the study says how little that is.
    assert any("covariate effects rest on 4 videos" in w for w in result.warnings)
    html = (study / "report.html").read_text(encoding="utf-8")
    assert 'id="effects"' in html and 'id="over-time"' in html

    # Without covariates again, the effects go: nothing stale looks current.
    tiny_study(workers=2).run(tiny_corpus.manifest_path, out=study)
    assert not (study / "effects.csv").exists()
    assert read_study_themes(study / "themes.json").effects is None


def test_stability_that_retrains_the_model_reruns_only_the_themes_and_the_report(
    done_study: Path, tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    study = tmp_path / "study"
    shutil.copytree(done_study, study)
    latents = np.load(study / "latents.npy")
    result = tiny_study(
        workers=2, themes=TINY_THEMES.replace(stability_refit_model=True, stability=3)
    ).run(tiny_corpus.manifest_path, out=study)
    assert result.stages == {
        "ingest": "skipped",
        "train": "skipped",
        "themes": "ran",
        "report": "ran",
    }
    document = read_study_themes(study / "themes.json")
    assert document.stability is not None and document.stability.refit == "model"
    assert document.stability.n_refits == 3
    assert all(t.stability is not None for t in document.themes)
    assert np.array_equal(np.load(study / "latents.npy"), latents)
    html = (study / "report.html").read_text(encoding="utf-8")
    assert "The model was retrained and the frames encoded and clustered again 3 times" in html
    assert "Only the clustering was refitted" not in html


def test_a_rerun_skips_every_stage_and_every_video(
    done_study: Path, tiny_corpus: SyntheticCorpus
) -> None:
    before = {p: p.stat().st_mtime_ns for p in (done_study / "videos").glob("*/frames.parquet")}
    result = tiny_study(workers=2).run(tiny_corpus.manifest_path, out=done_study)
    assert set(result.stages.values()) == {"skipped"}
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_a_video_that_fails_is_reported_and_the_others_go_on(
    tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    folder = tmp_path / "corpus"
    shutil.copytree(tiny_corpus.manifest_path.parent, folder)
    broken = folder / "B" / "news_02.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000)  # not a decodable video
    out = tmp_path / "study"
    result = tiny_study(workers=2).run(folder / "corpus.csv", out=out)
    assert [video for video, _ in result.failed] == ["b__news_02"]
    assert result.failed[0][1] and "\n" not in result.failed[0][1]
    assert any("b__news_02" in w and "failed" in w for w in result.warnings)
    frames = pq.read_table(out / "frames.parquet", columns=["video"]).to_pydict()
    assert sorted(set(frames["video"])) == ["a__news_01", "a__news_02", "b__news_01"]
    # a group with one video left: its shares have no interval, and the study says so
    document = read_study_themes(out / "themes.json")
    assert all(t.group_shares["B"].low is None for t in document.themes)
    assert any("one video" in w for w in document.warnings)

    # mended, the rerun ingests only that video and redoes the study
    shutil.copy(tiny_corpus.manifest_path.parent / "B" / "news_02.mp4", broken)
    done_frames = out / "videos" / "a__news_01" / "frames.parquet"
    before = done_frames.stat().st_mtime_ns
    result = tiny_study(workers=2).run(folder / "corpus.csv", out=out)
    assert result.failed == [] and result.stages["ingest"] == "ran"
    assert done_frames.stat().st_mtime_ns == before


def test_a_study_killed_during_ingest_resumes_without_redoing_done_videos(
    done_study: Path, tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    out = tmp_path / "study"
    shutil.copytree(done_study, out)
    # what a kill during the first ingest leaves: finished videos, a manifest without records
    for name in ("videos.json", "frames.parquet", "latents.npy", "themes.json", "report.html"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "model", ignore_errors=True)
    shutil.rmtree(out / "videos" / "b__news_02")
    (out / "manifest.json").write_text("{}", encoding="utf-8")
    kept = out / "videos" / "a__news_01" / "frames.parquet"
    before = kept.stat().st_mtime_ns
    result = tiny_study(workers=2).run(tiny_corpus.manifest_path, out=out)
    assert result.stages["ingest"] == "ran" and result.failed == []
    assert kept.stat().st_mtime_ns == before
    np.testing.assert_array_equal(np.load(out / "latents.npy"), np.load(done_study / "latents.npy"))


def test_a_study_in_use_is_refused(done_study: Path, tiny_corpus: SyntheticCorpus) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom themescope.rundir import RunDirectory\n"
            "with RunDirectory(sys.argv[1], study=True).lock():\n"
            "    print('held', flush=True)\n"
            "    time.sleep(30)\n",
            str(done_study),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLockedError, match="in use by another themescope process"):
            tiny_study(workers=1).run(tiny_corpus.manifest_path, out=done_study)
    finally:
        holder.kill()
        holder.wait()


def test_bad_settings_are_refused_before_any_work(
    tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    out = tmp_path / "study"
    with pytest.raises(ConfigError, match="--ray-address needs --executor ray"):
        Study(ray_address="localhost:1")
    with pytest.raises(ConfigError) as info:
        Study(executor="dask")
    assert str(info.value) == (
        "--executor (study.executor) must be one of local, ray. Got 'dask' instead."
    )
    with pytest.raises(ConfigError) as info:
        Study(workers=0)
    assert (
        str(info.value) == "--workers (study.workers) must be an int in [1, 4096]. Got 0 instead."
    )
    with pytest.raises(ConfigError) as info:
        Study(n_permutations=10)
    assert str(info.value) == (
        "study.n_permutations must be an int in [100, 1000000]. Got 10 instead."
    )
    missing = tmp_path / "corpus.csv"
    rows = list(csv.reader(tiny_corpus.manifest_path.open(encoding="utf-8")))
    rows[1][0] = "A/nowhere.mp4"
    with missing.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ConfigError, match=r"nowhere\.mp4"):
        tiny_study().run(missing, out=out)
    assert not out.exists()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def test_cli_reports_bad_input_in_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = _cli(capsys, "corpus", str(tmp_path / "none.csv"), "--out", str(tmp_path / "s"))
    assert status == 2 and len(err.strip().splitlines()) == 1 and "none.csv" in err
    status, err = _cli(
        capsys,
        "corpus",
        str(tmp_path / "none.csv"),
        "--out",
        str(tmp_path / "s"),
        "--ray-address",
        "x",
    )
    assert status == 2 and "--ray-address needs --executor ray" in err


def test_the_report_command_rebuilds_a_studys_page(
    done_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "study"
    shutil.copytree(done_study, study)
    (study / "report.html").unlink()
    status, _ = _cli(capsys, "report", str(study), "--force")
    assert status == 0
    assert "group" in (study / "report.html").read_text(encoding="utf-8").lower()


def test_a_single_videos_run_directory_is_not_taken_for_a_study(
    tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    from themescope.errors import RunDirectoryError
    from themescope.media.ingest import ingest

    video = tiny_corpus.videos[0].video
    run = tmp_path / "run"
    ingest(video.video_path, run, subtitles=video.subtitles_path, config=IngestConfig(ocr="off"))
    before = (run / "manifest.json").read_bytes()
    with pytest.raises(RunDirectoryError, match="not a study"):
        tiny_study().run(tiny_corpus.manifest_path, out=run)
    assert (run / "manifest.json").read_bytes() == before


def test_a_study_from_a_newer_themescope_is_refused_in_one_line(
    done_study: Path, tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    from themescope.errors import DocumentError

    study = tmp_path / "study"
    shutil.copytree(done_study, study)
    path = study / "themes.json"
    written = f'"schema_version": {STUDY_THEMES_SCHEMA_VERSION}'
    assert written in path.read_text("utf-8")
    path.write_text(path.read_text("utf-8").replace(written, '"schema_version": 9', 1))
    with pytest.raises(DocumentError, match=r"schema_version 9.*upgrade themescope"):
        tiny_study().run(tiny_corpus.manifest_path, out=study)


def test_the_ray_executor_gives_the_local_executors_study(
    done_study: Path, tiny_corpus: SyntheticCorpus, tmp_path: Path
) -> None:
    ray = pytest.importorskip("ray")
    out = tmp_path / "study"
    try:
        result = tiny_study(executor="ray", workers=2).run(tiny_corpus.manifest_path, out=out)
    finally:
        assert not ray.is_initialized()  # the study's executor shut its own Ray down
    assert result.failed == []
    columns = ["video", "time_s", "text", "theme"]
    assert (
        pq.read_table(out / "frames.parquet", columns=columns).to_pydict()
        == pq.read_table(done_study / "frames.parquet", columns=columns).to_pydict()
    )
    np.testing.assert_array_equal(np.load(out / "latents.npy"), np.load(done_study / "latents.npy"))
    local, remote = (read_study_themes(d / "themes.json") for d in (done_study, out))
    assert [t.label for t in remote.themes] == [t.label for t in local.themes]
    assert [t.group_shares for t in remote.themes] == [t.group_shares for t in local.themes]


def test_a_study_refuses_parts_of_the_wrong_kind_when_built() -> None:
    with pytest.raises(ConfigError) as info:
        Study(themes={"k": 3})
    assert str(info.value) == (
        "Study's themes must be a ThemesConfig or None. Got a dict instead; make one with "
        "ThemesConfig.from_dict({...})"
    )
