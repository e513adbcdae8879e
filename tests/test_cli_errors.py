"""What the command line says, and with which exit status, when something goes wrong."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import pytest
import typer.main

from helpers import cli_error, run_cli
from themescope._cli._app import app
from themescope.errors import describe_os_error
from themescope.synthetic import SyntheticVideo


def _flat(text: str) -> str:
    # Help is wrapped to the terminal: compare texts with every space and line break removed.
    return "".join(text.split())


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_cli(capsys, "sumarize")
    assert code == 2
    assert err.splitlines()[-1] == "Error: No such command 'sumarize'. Did you mean 'summarize'?"
    assert "internal error" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nosuch",), "Error: No such command 'nosuch'."),
        (("summarize", "--bogus-flag", "x"), "Error: No such option: --bogus-flag"),
        (
            ("summarize", "v.mp4", "--ou", "x"),
            "Error: No such option: --ou (Possible options: --ocr, --out)",
        ),
        (("summarize",), "Error: Missing argument 'video'."),
        (
            ("summarize", "v.mp4", "--out", "x", "--every"),
            "Error: Option '--every' requires an argument.",
        ),
    ],
)
def test_usage_mistakes_exit_2_with_clicks_message(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 2
    assert err.splitlines()[-1] == message
    assert "internal error" not in err


def test_a_bare_themescope_prints_the_help_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # click's no_args_is_help: the help goes to stderr as a usage error would.
    code, out, err = run_cli(capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("Usage: themescope [OPTIONS] COMMAND [ARGS]...")
    assert "summarize" in err and "internal error" not in err


def test_version_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.startswith("themescope ")


def test_help_keeps_bracketed_text(capsys: pytest.CaptureFixture[str]) -> None:
    # rich markup took "[ingest]" for a tag and printed "TOML or YAML file with , , sections."
    code, out, _ = run_cli(capsys, "summarize", "--help")
    assert code == 0
    assert "[ingest]" in out and "[themes]" in out and "[required]" in out
    code, out, _ = run_cli(capsys, "demo-data", "--help")
    assert code == 0
    assert "[default: en]" in out and "[default: 4.0]" in out


@pytest.mark.parametrize("name", sorted(typer.main.get_group(app).commands))
def test_every_option_help_is_printed_as_written(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    command = typer.main.get_group(app).commands[name]
    code, out, _ = run_cli(capsys, name, "--help")
    assert code == 0
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            assert _flat(text) in _flat(out), f"{name} {param.name}: {text!r} lost from --help"


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("summarize", "Usage: themescope summarize [OPTIONS] VIDEO"),
        ("compare", "Usage: themescope compare [OPTIONS] RUNS"),
        ("corpus", "Usage: themescope corpus [OPTIONS] CORPUS"),
    ],
)
def test_usage_lines_name_arguments_in_capitals(
    capsys: pytest.CaptureFixture[str], name: str, usage: str
) -> None:
    # typer wrote "{video}", which reads as a placeholder the program forgot to fill.
    code, out, _ = run_cli(capsys, name, "--help")
    assert code == 0
    assert out.splitlines()[0] == usage


@pytest.mark.parametrize("name", sorted(typer.main.get_group(app).commands))
def test_no_usage_line_shows_braces(capsys: pytest.CaptureFixture[str], name: str) -> None:
    _, out, _ = run_cli(capsys, name, "--help")
    assert "{" not in out.splitlines()[0]


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return str(value)


def test_corpus_help_shows_the_defaults_a_study_uses(capsys: pytest.CaptureFixture[str]) -> None:
    # The help showed a single run's defaults (k in 3-5, MiniLM word vectors) where a study
    # runs with k in 4-12 and the multilingual word space.
    from themescope.corpus.study import Study

    study = Study.from_config({})
    used = {
        declaration.flag: getattr(config, name)
        for config in (study.ingest, study.train, study.themes)
        for name, declaration in type(config).declarations().items()
        if declaration.flag
    }
    command = typer.main.get_group(app).commands["corpus"]
    checked = {}
    for param in command.params:
        flag, text = param.opts[0], getattr(param, "help", None) or ""
        # Every option that shows a default (--seed, shared by two sections, shows none).
        if flag in used and "(default:" in text:
            checked[flag] = used[flag]
            assert text.endswith(f"(default: {_shown(used[flag])})"), flag
    assert checked["--k-range"] == (4, 12) and checked["--word-vectors"] == "multilingual"
    code, out, _ = run_cli(capsys, "corpus", "--help")
    assert code == 0
    assert "(default:4-12)" in _flat(out) and "(default:multilingual)" in _flat(out)


def _fake_video(tmp_path: Path) -> Path:
    video = tmp_path / "news.mp4"
    video.write_bytes(b"\0" * 16)
    return video


@pytest.mark.parametrize(
    ("number", "strerror", "reason"),
    [
        (errno.EROFS, "Read-only file system", "cannot write {path}: read-only file system"),
        (errno.ENOSPC, "No space left on device", "cannot write {path}: disk full"),
        (errno.EDQUOT, "Disk quota exceeded", "cannot write {path}: disk quota exceeded"),
        (errno.EACCES, "Permission denied", "cannot access {path}: permission denied"),
        (errno.EIO, "Input/output error", "cannot access {path}: input/output error"),
    ],
)
def test_an_os_error_while_working_is_one_line_naming_the_path_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    number: int,
    strerror: str,
    reason: str,
) -> None:
    target = tmp_path / "run" / "frames.parquet"

    def fail(path: object) -> None:
        raise OSError(number, strerror, str(target))

    monkeypatch.setattr("themescope.media.frames.probe.probe_video", fail)
    assert cli_error(
        capsys, "ingest", str(_fake_video(tmp_path)), "--out", str(tmp_path / "run")
    ) == reason.format(path=target)


def test_an_out_below_a_regular_file_is_one_line_and_exit_2(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A parent that is a file fails even for root, who ignores permission bits.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    out = blocker / "run"
    assert str(out) in cli_error(
        capsys, "ingest", str(synthetic_video_en.video_path), "--out", str(out)
    )


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a/f/run"),
            "cannot access /a/f/run: a part of the path is a file, not a folder",
        ),
        (OSError(errno.ENOSPC, "No space left on device"), "cannot write: disk full"),
        (
            OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"),
            "cannot access /a or /b: invalid cross-device link",
        ),
        (
            OSError(errno.ENAMETOOLONG, "File name too long", "/a/x"),
            "cannot access /a/x: file name too long",
        ),
        (OSError("no errno at all"), "no errno at all"),
    ],
)
def test_describe_os_error(error: OSError, message: str) -> None:
    assert describe_os_error(error) == message


def test_ctrl_c_exits_130_and_says_a_rerun_resumes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupt(path: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("themescope.media.frames.probe.probe_video", interrupt)
    code, _, err = run_cli(
        capsys, "ingest", str(_fake_video(tmp_path)), "--out", str(tmp_path / "run")
    )
    assert code == 130
    assert err.splitlines() == [
        "themescope: interrupted; run the same command again to resume where it stopped"
    ]


def test_every_below_the_frame_interval_is_refused_by_ingest(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = str(synthetic_video_en.video_path)
    assert cli_error(
        capsys, "ingest", video, "--every", "0.05", "--out", str(tmp_path / "run")
    ) == (
        "--every 0.05 s is shorter than the video's frame interval "
        "(0.1 s at 10 fps) and would repeat frames; choose --every 0.1 or more"
    )
    assert not (tmp_path / "run").exists()


_SEED_RANGE = "must be an int in [0, 4294967295]"

# numpy and scikit-learn take seeds in [0, 2**32 - 1]; a larger one failed in K-means
# after ingest and training.
_SEEDS_OUT_OF_RANGE = [
    (
        ("summarize", "v.mp4", "--seed", "4294967296"),
        f"--seed (train.seed) {_SEED_RANGE}. Got 4294967296 instead.",
    ),
    (
        ("summarize", "v.mp4", "--seed", "99999999999999999999999"),
        f"--seed (train.seed) {_SEED_RANGE}. Got 99999999999999999999999 instead.",
    ),
    (
        ("summarize", "v.mp4", "--set", "themes.seed=4294967296"),
        f"--seed (themes.seed) {_SEED_RANGE}. Got 4294967296 instead.",
    ),
    (
        ("corpus", "corpus.csv", "--seed", "99999999999999999999"),
        f"--seed (train.seed) {_SEED_RANGE}. Got 99999999999999999999 instead.",
    ),
    (
        ("compare", "a", "b", "--seed", "-1"),
        f"--seed (themes.seed) {_SEED_RANGE}. Got -1 instead.",
    ),
    (("demo-data", "--seed", "-1"), f"seed {_SEED_RANGE}. Got -1 instead."),
    (
        ("demo-data", "--corpus", "--seed", "4294967296"),
        f"seed {_SEED_RANGE}. Got 4294967296 instead.",
    ),
]

_STABILITY_ZERO = (
    "--stability (themes.stability) must be an int in [1, 1000] (refits with other seeds); "
    "--no-stability switches stability off. Got 0 instead."
)
# Issue 17: zero refits would give an empty figure; the message says how to switch it off.
_STABILITY_ZERO_CASES = [
    (("corpus", "corpus.csv", "--stability", "0"), _STABILITY_ZERO),
    (("summarize", "v.mp4", "--stability", "0"), _STABILITY_ZERO),
    (("summarize", "v.mp4", "--set", "themes.stability=0"), _STABILITY_ZERO),
    (
        ("corpus", "corpus.csv", "--stability", "2", "--no-stability"),
        "give --stability or --no-stability, not both (--stability 2)",
    ),
]


@pytest.mark.parametrize(("args", "message"), [*_SEEDS_OUT_OF_RANGE, *_STABILITY_ZERO_CASES])
def test_a_setting_out_of_range_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out"
    assert cli_error(capsys, *args, "--out", str(out)) == message
    assert not out.exists()


def test_a_seed_out_of_range_in_a_config_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[train]\nseed = 99999999999999999999999\n", encoding="utf-8")
    assert (
        cli_error(
            capsys, "summarize", "v.mp4", "--config", str(config), "--out", str(tmp_path / "run")
        )
        == f"--seed (train.seed) {_SEED_RANGE}. Got 99999999999999999999999 instead."
    )


def test_demo_data_refuses_a_frame_larger_than_4k(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 100000x100000 ended in a MemoryError (exit 1) while the first frame was drawn.
    out = tmp_path / "demo"
    assert (
        cli_error(capsys, "demo-data", "--width", "100000", "--height", "100000", "--out", str(out))
        == "width and height must be even, >= 16 and at most 3840x2160; got 100000x100000"
    )
    assert not out.exists()


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_every_that_is_not_finite_is_refused_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    assert cli_error(capsys, "summarize", "v.mp4", "--every", value, "--out", str(tmp_path)) == (
        f"--every (ingest.every_s) must be a finite number > 0. Got {value} instead."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("train", "run", "--latent-dim", "200000"),
            "--latent-dim (train.latent_dim) must be an int in [1, 4096]. Got 200000 instead.",
        ),
        (
            ("summarize", "v.mp4", "--out", "run", "--set", "train.conv_channels=[16, 100000]"),
            "train.conv_channels must be a non-empty list of positive ints in [1, 1024]. "
            "Got [16, 100000] instead.",
        ),
        (
            ("summarize", "v.mp4", "--out", "run", "--k-range", "3-100000"),
            "--k-range (themes.k_range) must satisfy 1 <= low <= high <= 1000. "
            "Got (3, 100000) instead.",
        ),
    ],
)
def test_a_size_beyond_its_bound_is_refused(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert cli_error(capsys, *args) == message


def _unanswered_url() -> tuple[str, socket.socket]:
    # A port bound but not listening: connections to it are refused at once.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    return f"http://127.0.0.1:{probe.getsockname()[1]}", probe


@pytest.mark.parametrize("case", ["word-vectors", "captioner-model", "embedder", "llm-url"])
def test_summarize_checks_models_and_servers_before_the_first_stage(
    synthetic_video_en: SyntheticVideo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    # Each was refused only after ingest and training (or, for the URL, not at all).
    probe = None
    if case == "word-vectors":
        vectors = tmp_path / "vectors.bin"
        vectors.write_bytes(b"\x8f\x02binary")
        args = ["--word-vectors", str(vectors)]
        message = (
            f"{vectors} is not UTF-8 text (invalid start byte at byte 0); word-vector files "
            "must be GloVe/word2vec text files"
        )
    elif case == "captioner-model":
        args = ["--captioner", "blip", "--captioner-model", str(tmp_path / "garbage")]
        message = f"BLIP captioning model path {tmp_path / 'garbage'} does not exist"
    elif case == "embedder":
        folder = tmp_path / "embedder"
        folder.mkdir()
        (folder / "config.json").write_text("{}", encoding="utf-8")
        (folder / "model.safetensors").write_bytes(b"garbage")
        args = ["--embedder", str(folder)]
        message = (
            f"phrase embedder {folder / 'config.json'} names no model_type; it is not a "
            "transformers model's config"
        )
    else:
        url, probe = _unanswered_url()
        args = ["--tagger", "llm", "--llm-url", url, "--llm-model", "m"]
        message = (
            f"--llm-url {url}: no server answers (GET {url}/v1/models: Connection refused); "
            "start the server, or check the address and port"
        )
    out = tmp_path / "run"
    video = str(synthetic_video_en.video_path)
    try:
        refused = cli_error(capsys, "summarize", video, "--ocr", "off", "--out", str(out), *args)
    finally:
        if probe is not None:
            probe.close()
    assert refused == message
    assert not out.exists()


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    "command",
    [
        ["summarize", "{video}", "--out", "{study}"],
        ["summarize", "{video}", "--out", "{study}", "--force"],
        ["ingest", "{video}", "--out", "{study}", "--force"],
        ["train", "{study}", "--force"],
        ["themes", "{study}", "--force"],
    ],
    ids=lambda command: " ".join(command),
)
def test_a_single_video_command_refuses_a_study_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """Issue 14, part 5, item 1: they wrote a single run's files over the study's."""
    from study_fixtures import build_study

    study = build_study(tmp_path)
    before = _tree(study)
    video = _fake_video(tmp_path)
    args = [part.format(video=video, study=study) for part in command]
    assert cli_error(capsys, *args) == (
        f"{study} is a study folder (made by `themescope corpus`), not a "
        "single video's run; write the run to another --out, redo the study with "
        f"`themescope corpus CORPUS --out {study}`, or rebuild its report with "
        f"`themescope report {study}`"
    )
    assert _tree(study) == before


def test_the_python_api_refuses_a_study_too_and_report_renders_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from study_fixtures import build_study
    from themescope import Summarizer
    from themescope.errors import RunDirectoryError
    from themescope.media.ingest import ingest
    from themescope.model.train import train
    from themescope.report import render_report
    from themescope.themes.stage import build_themes

    study = build_study(tmp_path)
    before = _tree(study)
    video = _fake_video(tmp_path)
    for call in (
        lambda: Summarizer().run(video, out=study),
        lambda: ingest(video, study),
        lambda: train(study, force=True),
        lambda: build_themes(study, force=True),
        lambda: render_report(study, force=True),
    ):
        with pytest.raises(RunDirectoryError, match=r"is a study folder \(made by `themescope"):
            call()
    assert _tree(study) == before
    code, _, _ = run_cli(capsys, "report", str(study), "--force")
    assert code == 0 and "group" in (study / "report.html").read_text(encoding="utf-8").lower()


def test_a_refused_ingest_leaves_nothing_behind(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, part 5, item 10: an unknown encoding left r/x with its lock files."""
    out = tmp_path / "r" / "x"
    assert (
        cli_error(
            capsys,
            "ingest",
            str(synthetic_video_en.video_path),
            "--subtitles",
            str(synthetic_video_en.subtitles_path),
            "--subtitle-encoding",
            "klingon",
            "--out",
            str(out),
        )
        == "unknown subtitle encoding 'klingon'"
    )
    assert list(tmp_path.iterdir()) == [], "the refused command created folders"


def test_train_on_a_file_says_it_is_not_a_run_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli_error(capsys, "train", str(afile)) == (
        f"{afile} is a file, not a run directory; give the folder that "
        "`themescope ingest` or `themescope summarize` wrote"
    )


def test_compare_refuses_to_replace_a_newer_compare_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cmp"
    out.mkdir()
    newer = '{"schema_version": 99, "from": "a newer themescope"}'
    (out / "compare.json").write_text(newer)
    assert cli_error(
        capsys, "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)
    ) == (
        f"{out / 'compare.json'} has schema_version 99; this themescope "
        "reads 3; upgrade themescope, choose another --out, or pass --force to replace it"
    )
    assert (out / "compare.json").read_text() == newer


def _dated_corpus(tmp_path: Path, dates: tuple[str, str, str]) -> Path:
    """A corpus manifest of three videos (a few bytes each: nothing is decoded before the
    checks) with a date and an outlet_type column."""
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        (tmp_path / name).write_bytes(b"not a video")
    manifest = tmp_path / "corpus.csv"
    manifest.write_text(
        "video,group,date,outlet_type,host\n"
        f"a.mp4,US,{dates[0]},state,ann\n"
        f"b.mp4,US,{dates[1]},commercial,bob\n"
        f"c.mp4,CN,{dates[2]},state,cai\n",
        encoding="utf-8",
    )
    return manifest


@pytest.mark.parametrize(
    ("args", "dates", "message"),
    [
        (
            ["--covariates", "date,outlet"],
            ("2020-01-01", "2020-01-02", "2020-01-03"),
            "covariate 'outlet' is not a metadata column of corpus manifest {manifest} (its "
            "columns: date, outlet_type, host)",
        ),
        (
            ["--covariates", "host"],
            ("2020-01-01", "2020-01-02", "2020-01-03"),
            "covariate 'host' has 3 different values for 3 videos of corpus manifest "
            "{manifest}: as a category it gives every video a level of its own; leave it out "
            "or group its values",
        ),
        (
            ["--set", "study.covariates=date"],
            ("2020-01-01", "2020-01-01", "2020-01-01"),
            "covariate 'date' has one value ('2020-01-01') for all 3 videos of corpus manifest "
            "{manifest}: it cannot explain a difference between them; leave it out",
        ),
        (
            [],
            ("2020-01-01", "2020-01-02T10:00", ""),
            "corpus manifest {manifest} column 'date' has no date in row 4; give every video a "
            "date (2020-01-31) or remove the column",
        ),
        (
            [],
            ("2020-01-01", "2020-01-02T10:00", "2020-01-03T10:00"),
            "corpus manifest {manifest} column 'date' mixes dates and date-times: row 2 holds "
            "a date, the other rows a date-time; write them all one way",
        ),
    ],
    ids=["unknown-covariate", "a-category-per-video", "one-value", "missing-date", "mixed-dates"],
)
def test_bad_dates_and_covariates_are_refused_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    dates: tuple[str, str, str],
    message: str,
) -> None:
    manifest = _dated_corpus(tmp_path, dates)
    out = tmp_path / "study"
    refused = cli_error(capsys, "corpus", str(manifest), "--out", str(out), *args)
    assert refused == message.format(manifest=manifest)
    assert not out.exists()
