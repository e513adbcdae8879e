"""What the command line says, and with which exit status, when something goes wrong."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import typer.main

from themescope._cli import describe_os_error, main
from themescope._cli._app import app
from themescope.synthetic import SyntheticVideo


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def _flat(text: str) -> str:
    # Help is wrapped to the terminal: compare texts with every space and line break removed.
    return "".join(text.split())


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = _run(capsys, "sumarize")
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
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert err.splitlines()[-1] == message
    assert "internal error" not in err


def test_a_bare_themescope_prints_the_help_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # click's no_args_is_help: the help goes to stderr as a usage error would.
    code, out, err = _run(capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("Usage: themescope [OPTIONS] COMMAND [ARGS]...")
    assert "summarize" in err and "internal error" not in err


def test_version_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0
    assert out.startswith("themescope ")


def test_help_keeps_bracketed_text(capsys: pytest.CaptureFixture[str]) -> None:
    # rich markup took "[ingest]" for a tag and printed "TOML or YAML file with , , sections."
    code, out, _ = _run(capsys, "summarize", "--help")
    assert code == 0
    assert "[ingest]" in out and "[themes]" in out and "[required]" in out
    code, out, _ = _run(capsys, "demo-data", "--help")
    assert code == 0
    assert "[default: en]" in out and "[default: 4.0]" in out


@pytest.mark.parametrize("name", sorted(typer.main.get_group(app).commands))
def test_every_option_help_is_printed_as_written(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    command = typer.main.get_group(app).commands[name]
    code, out, _ = _run(capsys, name, "--help")
    assert code == 0
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            assert _flat(text) in _flat(out), f"{name} {param.name}: {text!r} lost from --help"


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("summarize", "Usage: themescope summarize [OPTIONS] VIDEO"),
        ("compare", "Usage: themescope compare [OPTIONS] RUN_A RUN_B"),
        ("corpus", "Usage: themescope corpus [OPTIONS] CORPUS"),
    ],
)
def test_usage_lines_name_arguments_in_capitals(
    capsys: pytest.CaptureFixture[str], name: str, usage: str
) -> None:
    # typer wrote "{video}", which reads as a placeholder the program forgot to fill.
    code, out, _ = _run(capsys, name, "--help")
    assert code == 0
    assert out.splitlines()[0] == usage


@pytest.mark.parametrize("name", sorted(typer.main.get_group(app).commands))
def test_no_usage_line_shows_braces(capsys: pytest.CaptureFixture[str], name: str) -> None:
    _, out, _ = _run(capsys, name, "--help")
    assert "{" not in out.splitlines()[0]


def _shown(value: object) -> str:
    if value is None:
        return "none"
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
    code, out, _ = _run(capsys, "corpus", "--help")
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

    monkeypatch.setattr("themescope.media.frames.probe_video", fail)
    code, _, err = _run(
        capsys, "ingest", str(_fake_video(tmp_path)), "--out", str(tmp_path / "run")
    )
    assert code == 2
    assert err.splitlines() == [f"themescope: error: {reason.format(path=target)}"]


def test_an_out_below_a_regular_file_is_one_line_and_exit_2(
    synthetic_video_en: SyntheticVideo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A parent that is a file fails even for root, who ignores permission bits.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder\n")
    out = blocker / "run"
    code, _, err = _run(capsys, "ingest", str(synthetic_video_en.video_path), "--out", str(out))
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("themescope: error: ") and str(out) in line


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            NotADirectoryError(errno.ENOTDIR, "Not a directory", "/a/f/run"),
            "cannot access /a/f/run: not a directory",
        ),
        (OSError(errno.ENOSPC, "No space left on device"), "cannot write: disk full"),
        (
            OSError(errno.EXDEV, "Invalid cross-device link", "/a", None, "/b"),
            "cannot access /a or /b: invalid cross-device link",
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

    monkeypatch.setattr("themescope.media.frames.probe_video", interrupt)
    code, _, err = _run(
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
    code, _, err = _run(capsys, "ingest", video, "--every", "0.05", "--out", str(tmp_path / "run"))
    assert code == 2
    assert err.splitlines() == [
        "themescope: error: --every 0.05 s is shorter than the video's frame interval "
        "(0.1 s at 10 fps) and would repeat frames; choose --every 0.1 or more"
    ]
    assert not (tmp_path / "run").exists()
