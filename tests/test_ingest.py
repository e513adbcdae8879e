"""The ingest stage through its CLI: the run directory it writes, and every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from helpers import run_cli
from test_frames import _audio_only, _write_indexed
from themescope.manifest import OcrRecord
from themescope.media import ingest as ingest_module
from themescope.media import ocr as ocr_module
from themescope.media.config import IngestConfig
from themescope.media.ocr import OnScreenTextReader
from themescope.rundir import RunDirectory
from themescope.synthetic import SyntheticVideo, generate_news_video


def _one_error_line(err: str) -> str:
    """The one error line (log lines may precede it; a traceback may not)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("themescope: ")]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), err
    assert lines[0].startswith("themescope: error: ")
    return lines[0].removeprefix("themescope: error: ")


def _frames(run: Path) -> dict[str, list]:
    return pq.read_table(run / "frames.parquet").to_pydict()


def _record(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())["stages"]["ingest"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12 s video at 10 fps with its index drawn in every frame."""
    folder = tmp_path_factory.mktemp("clip")
    return _write_indexed(folder / "clip.mp4", np.arange(120) / 10.0, faststart=True)


def test_ingest_writes_the_run_directory_contract(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    args = ["ingest", str(synthetic_video_en.video_path), "--subtitles"]
    args += [str(synthetic_video_en.subtitles_path), "--out", str(run)]
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and "ingested 40 frames" in out
    frames = _frames(run)
    assert frames["frame_id"] == list(range(40))
    assert frames["requested_s"] == [2.0 * i for i in range(40)]
    assert np.allclose(frames["time_s"], frames["requested_s"], atol=0.1)
    assert all((run / image).is_file() for image in frames["image"])
    assert set(frames["lang"]) == {"en"}
    assert sum(1 for text in frames["text"] if text) >= 38
    cues = pq.read_table(run / "cues.parquet").to_pydict()
    assert list(cues) == ["cue_id", "start_s", "end_s", "text", "text_raw"]
    # window alignment hands every word of the transcript to exactly one frame
    assert " ".join(frames["text"]).split() == " ".join(cues["text"]).split()
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["inputs"]["video"]["size"] == synthetic_video_en.video_path.stat().st_size
    assert len(manifest["inputs"]["video"]["sha256"]) == 64
    assert manifest["config"]["ingest"]["every_s"] == 2.0
    record = manifest["stages"]["ingest"]
    assert record["done"] is True and record["seconds"] > 0
    assert record["text_source"] == "srt" and record["lang"] == "en"
    assert not any(p.name.startswith(".staging") for p in run.iterdir())


def test_rerun_is_a_no_op_that_says_so_and_force_redoes_it(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert run_cli(capsys, "ingest", str(clip), "--out", str(run))[0] == 0
    finished = _record(run)["finished"]
    code, out, _ = run_cli(capsys, "ingest", str(clip), "--out", str(run))
    assert code == 0 and out.startswith("already ingested 6 frames")
    assert _record(run)["finished"] == finished
    code, out, _ = run_cli(capsys, "ingest", str(clip), "--out", str(run), "--force")
    assert code == 0 and out.startswith("ingested 6 frames")


def test_changed_settings_redo_the_stage(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run_cli(capsys, "ingest", str(clip), "--out", str(run))
    code, out, _ = run_cli(capsys, "ingest", str(clip), "--out", str(run), "--every", "3")
    assert code == 0 and out.startswith("ingested 4 frames")
    assert _frames(run)["requested_s"] == [0.0, 3.0, 6.0, 9.0]


def test_without_text_the_run_is_image_only_and_says_so(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    code, out, _ = run_cli(capsys, "ingest", str(clip), "--out", str(run))
    assert code == 0 and "text: none" in out
    assert set(_frames(run)["text"]) == {""}
    assert any("image-only" in w for w in _record(run)["warnings"])
    assert _record(run)["lang"] == "und"


def test_a_failing_stage_leaves_the_previous_complete_state(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run_cli(capsys, "ingest", str(clip), "--out", str(run))
    before = (run / "frames.parquet").read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest_module, "_write_tables", broken)
    code, _, err = run_cli(capsys, "ingest", str(clip), "--out", str(run), "--every", "3")
    assert code == 1 and "internal error: RuntimeError: disk on fire" in err
    assert (run / "frames.parquet").read_bytes() == before
    assert _record(run)["every_s"] == 2.0
    assert len(list((run / "frames").iterdir())) == 6
    assert not any(p.name.startswith(".staging") for p in run.iterdir())


def test_a_failure_on_a_new_run_leaves_nothing_that_looks_complete(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(ingest_module, "_write_tables", broken)
    run = tmp_path / "run"
    assert run_cli(capsys, "ingest", str(clip), "--out", str(run))[0] == 1
    assert not (run / "manifest.json").exists()
    assert not (run / "frames.parquet").exists() and not (run / "frames").exists()


def _truncated(clip: Path, path: Path) -> Path:
    data = clip.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d, clip: d / "missing.mp4", r"^video not found: .*missing\.mp4$"),
        (
            lambda d, clip: (d / "folder").mkdir() or d / "folder",
            r"^video path is a directory, not a file: .*folder$",
        ),
        (
            lambda d, clip: (d / "notes.mp4").write_text("hello\n") and d / "notes.mp4",
            r"^cannot read .*notes\.mp4 as a video",
        ),
        (
            lambda d, clip: _audio_only(d / "audio.m4a"),
            r"^no video stream in .*audio\.m4a \(it holds 1 audio stream\(s\)\)$",
        ),
        (
            lambda d, clip: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4",
            r"^video file is empty \(0 bytes\): .*empty\.mp4$",
        ),
    ],
    ids=["missing", "directory", "text-file", "audio-only", "zero-length"],
)
def test_bad_video_is_one_line_exit_2_and_no_run(
    make, message: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    video = make(tmp_path, clip)
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "ingest", str(video), "--out", str(run))
    assert code == 2
    assert pytest.importorskip("re").match(message, _one_error_line(err))
    assert not (run / "manifest.json").exists()


def test_truncated_video_keeps_what_decodes_and_records_where_it_stopped(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = _truncated(clip, tmp_path / "cut.mp4")
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "ingest", str(video), "--out", str(run))
    assert code == 0
    record = _record(run)
    assert 0 < record["n_frames"] < 6
    assert record["stopped_at_s"] is not None and record["stopped_at_s"] < 12
    assert any("stopped decoding at" in w for w in record["warnings"])
    assert "stopped decoding at" in err


@pytest.mark.parametrize(
    "every,message",
    [
        ("0", "--every (ingest.every_s) must be a number > 0. Got 0 instead."),
        ("-2", "--every (ingest.every_s) must be a number > 0. Got -2 instead."),
        ("60", "--every 60 s is longer than the video (12.0 s); choose a shorter interval"),
    ],
)
def test_every_out_of_range_is_refused(
    every: str, message: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "ingest", str(clip), "--every", every, "--out", str(tmp_path / "r")
    )
    assert code == 2 and _one_error_line(err) == message


def test_out_holding_other_files_is_refused_unless_forced(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.docx").write_text("precious")
    code, _, err = run_cli(capsys, "ingest", str(clip), "--out", str(out))
    assert code == 2
    assert _one_error_line(err) == (
        f"{out} already holds other files (chapter1.docx) and is not a themescope run; "
        "choose another --out or pass --force"
    )
    assert run_cli(capsys, "ingest", str(clip), "--out", str(out), "--force")[0] == 0
    assert (out / "chapter1.docx").read_text() == "precious"


def _srt(*cues: tuple[float, float, str]) -> str:
    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "\n".join(
        f"{i + 1}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues)
    )


def _ingest_subtitles(
    clip: Path, subtitles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, Path]:
    run = tmp_path / "run"
    args = ["ingest", str(clip), "--subtitles", str(subtitles), "--out", str(run), *extra]
    code, _, err = run_cli(capsys, *args)
    return code, err, run


def _ingest_written(
    clip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes,
    *extra: str,
) -> Path:
    """Write ``content`` to the subtitle file ``name``, ingest ``clip`` with it; return the run.

    The ingest (with the ``extra`` options) must succeed.
    """
    subtitles = tmp_path / name
    if isinstance(content, bytes):
        subtitles.write_bytes(content)
    else:
        subtitles.write_text(content)
    code, err, run = _ingest_subtitles(clip, subtitles, tmp_path, capsys, *extra)
    assert code == 0, err
    return run


def test_empty_subtitles_continue_image_only(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _ingest_written(clip, tmp_path, capsys, "empty.srt", "")
    assert set(_frames(run)["text"]) == {""}
    assert any("image" in w for w in _record(run)["warnings"])


def test_malformed_subtitles_are_one_line_exit_2(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    subtitles = tmp_path / "broken.srt"
    subtitles.write_bytes(b"1\nthis is not a timing line\n\x00\x01\x02 garbage\n")
    code, err, run = _ingest_subtitles(clip, subtitles, tmp_path, capsys)
    assert code == 2 and "broken.srt" in _one_error_line(err)
    assert not (run / "manifest.json").exists()


def test_missing_subtitle_file_is_one_line_exit_2(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, _ = _ingest_subtitles(clip, tmp_path / "nope.srt", tmp_path, capsys)
    assert (
        code == 2
        and _one_error_line(err) == f"subtitle file {tmp_path / 'nope.srt'} does not exist"
    )


def test_overlapping_unordered_and_overlong_cues_are_repaired(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = _srt(
        (6.0, 8.0, "third cue"),
        (0.0, 3.0, "first cue"),
        (2.0, 5.0, "second cue overlaps"),
        (10.0, 30.0, "runs past the end"),
        (40.0, 42.0, "starts after the end"),
    )
    run = _ingest_written(clip, tmp_path, capsys, "messy.srt", messy)
    cues = pq.read_table(run / "cues.parquet").to_pydict()
    assert cues["text"] == ["first cue", "second cue overlaps", "third cue", "runs past the end"]
    assert cues["end_s"][-1] == pytest.approx(12.0, abs=0.2)
    assert any("past" in w or "after" in w for w in _record(run)["warnings"])


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "utf-8-sig", "big5"])
def test_subtitle_encodings_are_detected_and_no_bom_leaks(
    encoding: str, clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "疫苗接種" if encoding == "big5" else "疫苗接种"
    lines = [(0.0, 4.0, f"{text}工作正在全国展开"), (4.0, 8.0, "专家表示效果良好")]
    if encoding == "big5":
        lines = [(0.0, 4.0, f"{text}工作正在全國展開"), (4.0, 8.0, "專家表示效果良好")]
    run = _ingest_written(
        clip, tmp_path, capsys, f"zh-{encoding}.srt", _srt(*lines).encode(encoding)
    )
    cues = pq.read_table(run / "cues.parquet").to_pydict()
    assert cues["text"] == [lines[0][2], lines[1][2]]
    assert not cues["text"][0].startswith("\ufeff")
    assert _record(run)["lang"] == "zh"
    assert "".join(_frames(run)["text"]) == lines[0][2] + lines[1][2]


def test_subtitle_encoding_flag_overrides_detection(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = _srt((0.0, 3.0, "déjà vu à Zürich")).encode("latin-1")
    run = _ingest_written(
        clip, tmp_path, capsys, "latin1.srt", latin1, "--subtitle-encoding", "latin-1"
    )
    assert pq.read_table(run / "cues.parquet").to_pydict()["text"] == ["déjà vu à Zürich"]
    assert _record(run)["encoding"] == "iso8859-1"  # the codec's canonical name


def test_plain_text_transcript_is_spread_over_the_video(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _ingest_written(
        clip, tmp_path, capsys, "transcript.txt", "one two\nthree four\nfive six\n"
    )
    cues = pq.read_table(run / "cues.parquet").to_pydict()
    assert cues["start_s"] == pytest.approx([0.0, 4.0, 8.0], abs=0.01)
    assert _record(run)["text_source"] == "plain-text"


def test_nearest_alignment_pairs_each_cue_with_its_closest_frame(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two = _srt((2.9, 3.5, "alpha"), (7.0, 7.5, "beta"))
    run = _ingest_written(clip, tmp_path, capsys, "two.srt", two, "--align", "nearest")
    texts = _frames(run)["text"]
    assert texts[1] == "alpha" and texts[3] == "beta"  # frames at 2 s and 6 s are closest


def test_run_directory_lock_refuses_a_second_writer(clip: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    run = RunDirectory(tmp_path / "run")
    with run.lock():
        done = subprocess.run(
            [sys.executable, "-m", "themescope", "ingest", str(clip), "--out", str(run.path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2
    assert "is in use by another themescope process" in done.stderr


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> SyntheticVideo:
    """30 s of generated news: stories of 6–10 s, each under its own headline, one bug."""
    pytest.importorskip("rapidocr")
    out = tmp_path_factory.mktemp("news")
    return generate_news_video(
        out,
        lang="en",
        seed=4,
        duration_s=30.0,
        n_themes=3,
        width=320,
        height=180,
        fps=5,
        segment_s=(6, 10),
        preset="ultrafast",
    )


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def test_ingest_reads_headlines_and_records_the_channel_bug_as_boilerplate(
    news: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    args = ["ingest", str(news.video_path), "--subtitles", str(news.subtitles_path)]
    assert run_cli(capsys, *args, "--out", str(run))[0] == 0
    frames = _frames(run)
    assert len(frames["ocr_text"]) == len(frames["time_s"]) == 15
    for time_s, text, lines in zip(
        frames["time_s"], frames["ocr_text"], frames["ocr_lines"], strict=True
    ):
        headline = next(h for start, end, h in news.headlines if start <= time_s < end)
        assert _squash(text) == _squash(headline), time_s
        # The bug stays among the frame's lines, out of its text.
        assert _squash(news.channel_bug) in [_squash(line["text"]) for line in lines]
    record = _record(run)
    assert set(record["ocr"]) == set(OcrRecord.__struct_fields__)
    bugs = record["ocr"]["boilerplate"]
    assert [_squash(b["text"]) for b in bugs] == [_squash(news.channel_bug)]
    assert bugs[0]["n_frames"] == 15 and record["ocr"]["n_frames_with_text"] == 15
    assert record["ocr"]["seconds"] > 0 and not record["warnings"]
    # Nothing on a generated video is an ad or a line that is no words.
    assert record["n_frames_promo"] == 0 and record["ocr"]["n_lines_noise"] == {}
    assert json.loads((run / "manifest.json").read_text())["config"]["ingest"]["ocr"] == "auto"


def test_ocr_off_reads_nothing_and_a_changed_reader_reruns_ingest(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rapidocr")
    run = tmp_path / "run"
    assert run_cli(capsys, "ingest", str(clip), "--out", str(run), "--ocr", "off")[0] == 0
    assert "ocr_text" not in _frames(run) and "ocr_lines" not in _frames(run)
    assert _record(run)["ocr"] is None
    assert not any("on-screen" in w for w in _record(run)["warnings"])
    first = ingest_module.ingest(clip, run, config=IngestConfig(ocr="auto"))
    assert first.status == "ran" and "ocr_text" in _frames(run)
    same = ingest_module.ingest(clip, run, config=IngestConfig(ocr="auto"))
    assert same.skipped
    other = OnScreenTextReader(min_confidence=0.9)
    assert ingest_module.ingest(clip, run, ocr_reader=other).status == "ran"


def test_ocr_auto_without_rapidocr_goes_on_and_says_so(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr_module, "ocr_available", lambda: False)
    run = tmp_path / "run"
    assert run_cli(capsys, "ingest", str(clip), "--out", str(run))[0] == 0
    assert "ocr_text" not in _frames(run) and _record(run)["ocr"] is None
    assert (
        "on-screen text not read: rapidocr is not installed (pip install rapidocr==3.10.0)"
        in _record(run)["warnings"]
    )


def test_an_unknown_ocr_mode_is_one_line_exit_2(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "ingest", str(clip), "--out", str(run), "--ocr", "on")
    assert code == 2
    assert _one_error_line(err) == "--ocr (ingest.ocr) must be one of auto, off. Got 'on' instead."
    assert not run.exists()


def test_a_corrupt_ocr_model_is_refused_before_any_frame_is_sampled(
    clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("rapidocr")
    models = tmp_path / "models"
    models.mkdir()
    for name, _ in ocr_module.MODEL_FILES.values():
        (models / name).symlink_to(ocr_module.bundled_model_dir() / name)
    det = models / ocr_module.MODEL_FILES["det"][0]
    det.unlink()
    det.write_bytes(b"truncated download")
    monkeypatch.setattr(ocr_module, "bundled_model_dir", lambda: models)

    def no_sampling(*args: object) -> None:
        raise AssertionError("frames were sampled before the OCR models were checked")

    monkeypatch.setattr(ingest_module, "_sample_frames", no_sampling)
    run = tmp_path / "run"
    code, _, err = run_cli(capsys, "ingest", str(clip), "--out", str(run))
    assert code == 2
    assert _one_error_line(err) == (
        f"OCR model file {det} is corrupt (checksum mismatch); "
        "reinstall the rapidocr package: pip install --force-reinstall rapidocr==3.10.0"
    )
    assert not run.exists()
