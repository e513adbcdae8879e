"""``themescope demo-data``: write synthetic news videos with known themes, one or a corpus."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from themescope._cli._app import app
from themescope.errors import ConfigError


@app.command("demo-data")
def demo_data_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="Subtitle language: en or zh. [default: en]")
    ] = None,
    minutes: Annotated[
        float, typer.Option("--minutes", help="Length of the video (of each video) in minutes.")
    ] = 4.0,
    themes: Annotated[
        int | None, typer.Option("--themes", help="Number of distinct themes (1-6). [default: 4]")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    width: Annotated[int, typer.Option("--width", help="Frame width in pixels (even).")] = 640,
    height: Annotated[int, typer.Option("--height", help="Frame height in pixels (even).")] = 360,
    fps: Annotated[int, typer.Option("--fps", help="Frames per second.")] = 10,
    keyframe_every_s: Annotated[
        float, typer.Option("--keyframe-every-s", help="Seconds between keyframes.")
    ] = 2.0,
    corpus: Annotated[
        bool,
        typer.Option(
            "--corpus",
            help="Write a corpus of two groups instead of one video: A (English, economy "
            "50%, health 30%) and B (Chinese, economy 5%, health 30%), with corpus.csv "
            "and each group's true theme shares (truth_shares.csv).",
        ),
    ] = False,
    per_group: Annotated[
        int | None,
        typer.Option("--per-group", help="Videos per group of --corpus. [default: 6]"),
    ] = None,
) -> None:
    """Write an H.264 MP4, SRT subtitles and the true theme of every second (truth CSV)."""
    from themescope.synthetic import generate_corpus, generate_news_video

    video_kwargs: dict[str, Any] = {
        "width": width,
        "height": height,
        "fps": fps,
        "keyframe_every_s": keyframe_every_s,
    }
    if corpus:
        # Each group has its own language and six themes; silently ignoring these would
        # write something other than what was asked for.
        if lang is not None or themes is not None:
            raise ConfigError(
                "--lang and --themes do not apply to --corpus: each group has its language "
                "and its mixture of six themes"
            )
        written = generate_corpus(
            out,
            n_per_group=6 if per_group is None else per_group,
            duration_s=minutes * 60.0,
            seed=seed,
            **video_kwargs,
        )
        groups = ", ".join(f"{g.name} ({g.lang})" for g in written.groups)
        Console().print(
            f"wrote {len(written.videos)} videos of {minutes * 60.0:.0f} s in groups {groups}: "
            f"{written.manifest_path}, {written.shares_path}"
        )
        _print_next("corpus", written.manifest_path, "--out", out / "study")
        return
    if per_group is not None:
        raise ConfigError("--per-group applies only with --corpus")
    video = generate_news_video(
        out,
        lang="en" if lang is None else lang,
        duration_s=minutes * 60.0,
        n_themes=4 if themes is None else themes,
        seed=seed,
        **video_kwargs,
    )
    Console().print(
        f"wrote {video.duration_s:.0f} s video with {video.n_themes} themes ({video.lang}): "
        f"{video.video_path}, {video.subtitles_path}, {video.truth_path}"
    )
    _print_next(
        "summarize", video.video_path, "--subtitles", video.subtitles_path, "--out", out / "run"
    )


def _print_next(*args: object) -> None:
    """Print the command that uses what was written, ready to paste (never wrapped)."""
    command = shlex.join(["themescope", *map(str, args)])
    Console(soft_wrap=True).print(f"next: {command}", markup=False, highlight=False)
