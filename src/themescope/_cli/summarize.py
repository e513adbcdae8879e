"""``themescope summarize``: ingest → train → themes → report in one command, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from themescope._cli._app import app
from themescope._cli._options import CONFIG_FILE_HELP, SET_HELP, given, merged_config, option
from themescope.media.config import IngestConfig
from themescope.model.config import TrainConfig
from themescope.themes.config import ThemesConfig


@app.command("summarize")
def summarize_command(
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
    every: float | None = option(IngestConfig, "every_s"),
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
    settings: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    force: bool = typer.Option(
        False, "--force", help="Redo every stage; accept an --out holding other files."
    ),
) -> None:
    """Summarize VIDEO into explained themes and RUN/report.html, resuming what is already done."""
    from themescope.pipeline import Summarizer

    flags: dict[str, Any] = {
        "ingest": given(
            every_s=every,
            lang=lang,
            align=align,
            subtitle_encoding=subtitle_encoding,
            asr_model=asr_model,
            ocr=ocr,
        ),
        "train": given(preset=preset, epochs=epochs, seed=seed, word_vectors=word_vectors),
        "themes": given(
            k=k,
            k_range=k_range,
            captioner=captioner,
            captioner_model=captioner_model,
            tagger=tagger,
            llm_url=llm_url,
            llm_model=llm_model,
            tag_language=tag_language,
            embedder=embedder,
            gloss_language=gloss_language,
            seed=seed,
        ),
        **given(device=device),
    }
    summarizer = Summarizer.from_config(merged_config(config_file, settings, flags))
    result = summarizer.run(video, subtitles, out=out, force=force)
    _print_summary(result)


def _print_summary(result: Any) -> None:
    # soft_wrap: paths and phrases stay on one line, whatever the terminal's width.
    console = Console(soft_wrap=True)
    done = ", ".join(f"{stage} {status}" for stage, status in result.stages.items())
    console.print(f"[bold]{result.k} themes[/bold] ({done})")
    console.print(f"k: {result.k_reason}", markup=False, highlight=False)
    for theme in result.themes:
        phrases = ", ".join(theme.phrases[:5]) or "(no phrases: no text in this theme)"
        console.print(
            f"  theme {theme.id}  {theme.share:5.1%} of the time  {phrases}",
            markup=False,
            highlight=False,
        )
    if result.warnings:
        console.print(f"{len(result.warnings)} warning(s) recorded in the manifest and the report")
    console.print(f"report: {result.report_path}", markup=False, highlight=False)
