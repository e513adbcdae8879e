"""``themescope summarize``: ingest → train → themes → report in one command, resumable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from themescope._cli._app import app, print_summary
from themescope._cli._options import (
    CONFIG_FILE_HELP,
    NO_STABILITY_HELP,
    SET_HELP,
    given,
    merged_config,
    option,
    section_flags,
    stability_flags,
)
from themescope.media.config import IngestConfig
from themescope.model.config import TrainConfig
from themescope.themes.config import ThemesConfig


@app.command("summarize")
def summarize_command(
    ctx: typer.Context,
    video: Path = typer.Argument(..., help="The video file."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Run directory to write (resumed if it exists)."
    ),
    subtitles: Path | None = typer.Option(
        None,
        "--subtitles",
        "-s",
        help="Subtitles / transcript (SRT, VTT, ASS, YouTube JSON/CSV, text).",
    ),
    config_file: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_FILE_HELP),
    every_s: float | None = option(IngestConfig, "every_s"),
    lang: str | None = option(IngestConfig, "lang"),
    align: str | None = option(IngestConfig, "align"),
    subtitle_encoding: str | None = option(IngestConfig, "subtitle_encoding"),
    asr_model: str | None = option(IngestConfig, "asr_model"),
    ocr: str | None = option(IngestConfig, "ocr"),
    preset: str | None = typer.Option(
        None, "--preset", help="CRVAE preset: fast or paper (default: fast)."
    ),
    epochs: int | None = option(TrainConfig, "epochs"),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of training and clustering (default: each stage's own)."
    ),
    device: str | None = typer.Option(
        None, "--device", help="auto, cpu, cuda or mps (default: auto)."
    ),
    word_vectors: str | None = option(TrainConfig, "word_vectors"),
    k: int | None = option(ThemesConfig, "k"),
    k_range: str | None = option(ThemesConfig, "k_range"),
    captioner: str | None = option(ThemesConfig, "captioner"),
    captioner_model: str | None = option(ThemesConfig, "captioner_model"),
    tagger: str | None = option(ThemesConfig, "tagger"),
    llm_url: str | None = option(ThemesConfig, "llm_url"),
    llm_model: str | None = option(ThemesConfig, "llm_model"),
    tag_language: str | None = option(ThemesConfig, "tag_language"),
    embedder: str | None = option(ThemesConfig, "embedder"),
    gloss_language: str | None = option(ThemesConfig, "gloss_language"),
    translator: str | None = option(ThemesConfig, "translator"),
    stability: int | None = option(ThemesConfig, "stability"),
    no_stability: bool = typer.Option(False, "--no-stability", help=NO_STABILITY_HELP),
    stability_refit_model: bool | None = option(ThemesConfig, "stability_refit_model"),
    settings: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    force: bool = typer.Option(
        False, "--force", help="Redo every stage; accept an --out holding other files."
    ),
) -> None:
    """Summarize VIDEO into explained themes and RUN/report.html, resuming what is already done."""
    from themescope.pipeline import Summarizer

    flags: dict[str, Any] = {
        "ingest": section_flags(IngestConfig, ctx.params),
        # A section names the preset its values start from as `preset` (the setting is
        # preset_name, the name recorded), so that flag is given by hand.
        "train": given(preset=preset) | section_flags(TrainConfig, ctx.params),
        "themes": section_flags(ThemesConfig, ctx.params)
        | stability_flags(stability, no_stability),
        **given(device=device),
    }
    summarizer = Summarizer.from_config(merged_config(config_file, settings, flags))
    result = summarizer.run(video, subtitles, out=out, force=force)
    print_summary(result, _theme_lines(result))


def _theme_lines(result: Any) -> Iterator[str]:
    yield f"k: {result.k_reason}"
    for theme in result.themes:
        phrases = ", ".join(theme.phrases[:5]) or "(no phrases: no text in this theme)"
        yield f"  theme {theme.id}  {theme.share:5.1%} of the time  {phrases}"
