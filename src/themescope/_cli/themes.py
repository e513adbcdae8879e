"""``themescope themes``: cluster a trained run into explained themes."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from themescope._cli._app import app
from themescope._cli._options import (
    NO_STABILITY_HELP,
    given,
    option,
    section_flags,
    stability_flags,
)
from themescope.documents import read_themes
from themescope.themes.config import ThemesConfig


@app.command("themes")
def themes_command(
    ctx: typer.Context,
    run: Path = typer.Argument(..., help="Run directory with finished ingest and train stages."),
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
    seed: int | None = option(ThemesConfig, "seed"),
    force: bool = typer.Option(False, "--force", help="Redo the stage even when it is up to date."),
) -> None:
    """Cluster the frames of RUN into themes, each described by phrases with evidence."""
    from themescope.themes.stage import build_themes

    config = ThemesConfig.from_dict(
        section_flags(ThemesConfig, ctx.params)
        | given(
            captioner=captioner.strip().lower() if captioner else None,
            tagger=tagger.strip().lower() if tagger else None,
        )
        | stability_flags(stability, no_stability)
    )
    result = build_themes(run, config, force=force)
    console = Console()
    document = read_themes(Path(run) / "themes.json")
    verb = "already up to date:" if result.skipped else "found"
    console.print(f"{verb} k={document.k} themes ({document.k_selection.method}) in {run}")
    console.print(document.k_selection.reason, style="dim")
    table = Table(show_header=True, header_style="bold")
    for column in ("theme", "share", "frames", "phrases"):
        table.add_column(column)
    for theme in document.themes:
        phrases = ", ".join(
            p.text + ("" if p.supported else " (?)") for p in theme.phrases[:5]
        ) or (theme.phrases_note or "")
        table.add_row(str(theme.id), f"{theme.share:.0%}", str(theme.n_frames), phrases)
    console.print(table)
    for warning in document.warnings:
        console.print(f"warning: {warning}", style="yellow")
    console.print(f"→ {Path(run) / 'themes.json'}")
