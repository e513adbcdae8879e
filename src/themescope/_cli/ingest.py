"""``themescope ingest``: video + words → aligned frame/text dataset in a run directory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("ingest")
def ingest_command(
    video: Path = typer.Argument(..., help="The video file (any format FFmpeg reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write."),
    subtitles: Path | None = typer.Option(
        None,
        "--subtitles",
        "-s",
        help="Subtitles (SRT, WebVTT, ASS/SSA), a YouTube transcript (JSON, or CSV with "
        "text,start,duration) or plain text with one segment per line.",
    ),
    every: float = typer.Option(2.0, "--every", help="Seconds between sampled frames."),
    lang: str = typer.Option("auto", "--lang", help="Language of the text: auto, en or zh."),
    align: str = typer.Option(
        "window",
        "--align",
        help="Text-to-frame alignment: window (default) or nearest (the paper's).",
    ),
    subtitle_encoding: str | None = typer.Option(
        None, "--subtitle-encoding", help="Encoding of the subtitle file (detected when omitted)."
    ),
    asr_model: Path | None = typer.Option(
        None, "--asr-model", help="Local faster-whisper model folder for speech recognition."
    ),
    frame_height: int = typer.Option(
        360, "--frame-height", help="Height of stored frames in pixels."
    ),
    no_embedded: bool = typer.Option(
        False, "--no-embedded-subtitles", help="Ignore subtitle streams inside the video."
    ),
    force: bool = typer.Option(
        False, "--force", help="Redo the stage, and accept an --out that holds other files."
    ),
) -> None:
    """Sample frames from VIDEO, align them with its words, and write the run directory."""
    from themescope.media.ingest import IngestConfig, ingest

    config = IngestConfig(
        every_s=every,
        frame_height=frame_height,
        lang=lang,
        align=align,
        subtitle_encoding=subtitle_encoding,
        asr_model=str(asr_model) if asr_model is not None else None,
        embedded_subtitles=not no_embedded,
    )
    result = ingest(video, out, subtitles=subtitles, config=config, force=force)
    verb = "already ingested" if result.skipped else "ingested"
    Console(soft_wrap=True).print(
        f"{verb} {result.n_frames} frames · text: {result.text_source} · language: {result.lang} "
        f"→ {result.run.path}"
    )
