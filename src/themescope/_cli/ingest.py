"""``themescope ingest``: video + words → aligned frame/text dataset in a run directory."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from themescope._cli._app import app
from themescope._cli._options import option, section_flags
from themescope.manifest import IngestRecord
from themescope.media.config import IngestConfig


@app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    video: Path = typer.Argument(..., help="The video file (any format FFmpeg reads)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write."),
    subtitles: Path | None = typer.Option(
        None,
        "--subtitles",
        "-s",
        help="Subtitles (SRT, WebVTT, ASS/SSA), a YouTube transcript (JSON, or CSV with "
        "text,start,duration) or plain text with one segment per line.",
    ),
    every_s: float | None = option(IngestConfig, "every_s"),
    lang: str | None = option(IngestConfig, "lang"),
    align: str | None = option(IngestConfig, "align"),
    subtitle_encoding: str | None = option(IngestConfig, "subtitle_encoding"),
    asr_model: str | None = option(IngestConfig, "asr_model"),
    ocr: str | None = option(IngestConfig, "ocr"),
    frame_height: int | None = option(IngestConfig, "frame_height"),
    embedded_subtitles: bool | None = option(IngestConfig, "embedded_subtitles"),
    force: bool = typer.Option(
        False, "--force", help="Redo the stage, and accept an --out that holds other files."
    ),
) -> None:
    """Sample frames from VIDEO, align them with its words, and write the run directory."""
    from themescope.media.ingest import ingest

    config = IngestConfig.from_dict(section_flags(IngestConfig, ctx.params))
    result = ingest(video, out, subtitles=subtitles, config=config, force=force)
    record = result.record
    assert isinstance(record, IngestRecord)
    verb = "already ingested" if result.skipped else "ingested"
    Console(soft_wrap=True).print(
        f"{verb} {record.n_frames} frames · text: {record.text_source} · "
        f"language: {record.lang} → {result.run.path}"
    )
