"""``themescope demo-data``: write a synthetic news video with known themes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("demo-data")
def demo_data_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the files into.")],
    lang: Annotated[str, typer.Option("--lang", help="Subtitle language: en or zh.")] = "en",
    minutes: Annotated[
        float, typer.Option("--minutes", help="Length of the video in minutes.")
    ] = 4.0,
    themes: Annotated[int, typer.Option("--themes", help="Number of distinct themes (1-6).")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    width: Annotated[int, typer.Option("--width", help="Frame width in pixels (even).")] = 640,
    height: Annotated[int, typer.Option("--height", help="Frame height in pixels (even).")] = 360,
    fps: Annotated[int, typer.Option("--fps", help="Frames per second.")] = 10,
    keyframe_every_s: Annotated[
        float, typer.Option("--keyframe-every-s", help="Seconds between keyframes.")
    ] = 2.0,
) -> None:
    """Write an H.264 MP4, SRT subtitles and the true theme of every second (truth CSV)."""
    from themescope.synthetic import generate_news_video

    video = generate_news_video(
        out,
        lang=lang,
        duration_s=minutes * 60.0,
        n_themes=themes,
        seed=seed,
        width=width,
        height=height,
        fps=fps,
        keyframe_every_s=keyframe_every_s,
    )
    Console().print(
        f"wrote {video.duration_s:.0f} s video with {video.n_themes} themes ({video.lang}): "
        f"{video.video_path}, {video.subtitles_path}, {video.truth_path}"
    )
