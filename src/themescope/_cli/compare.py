"""``themescope compare``: runs analysed jointly, what they share and where they differ."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from themescope._cli._app import app
from themescope._cli._options import (
    CONFIG_FILE_HELP,
    SET_HELP,
    given,
    merged_config,
    option,
    section_flags,
)
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.model.config import TrainConfig
from themescope.themes.compare.config import CompareConfig
from themescope.themes.config import ThemesConfig


@app.command("compare")
def compare_command(
    ctx: typer.Context,
    runs: Annotated[
        list[Path], typer.Argument(help="Two or more run directories (with a finished ingest).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the comparison into.")],
    config_file: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_FILE_HELP),
    settings: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    min_share: float | None = option(CompareConfig, "min_share"),
    meaning_weight: float | None = option(CompareConfig, "meaning_weight"),
    align_neighbours: int | None = option(CompareConfig, "align_neighbours"),
    epochs: int | None = option(TrainConfig, "epochs", defaults=STUDY_DEFAULTS),
    k: int | None = option(ThemesConfig, "k", defaults=STUDY_DEFAULTS),
    k_range: str | None = option(ThemesConfig, "k_range", defaults=STUDY_DEFAULTS),
    embedder: str | None = option(ThemesConfig, "embedder", defaults=STUDY_DEFAULTS),
    gloss_language: str | None = option(ThemesConfig, "gloss_language", defaults=STUDY_DEFAULTS),
    translator: str | None = option(ThemesConfig, "translator", defaults=STUDY_DEFAULTS),
    seed: int | None = option(ThemesConfig, "seed"),
    device: str | None = typer.Option(
        None, "--device", help="auto, cpu, cuda or mps (default: auto)."
    ),
    force: Annotated[
        bool,
        typer.Option("--force", help="Redo every stage; accept an --out holding other files."),
    ] = False,
) -> None:
    """Analyse RUNS jointly: each joint theme's share per run, what each says, what both say."""
    from rich.console import Console

    from themescope.corpus.compare import ComparisonResult, comparison_stages
    from themescope.pipeline import check_sections
    from themescope.rundir import Pipeline, RunDirectory

    flags: dict[str, Any] = {
        "compare": section_flags(CompareConfig, ctx.params),
        "train": section_flags(TrainConfig, ctx.params),
        "themes": section_flags(ThemesConfig, ctx.params),
        **given(device=device),
    }
    values = merged_config(config_file, settings, flags)
    check_sections(values, ("compare", "train", "themes"))
    themes = dict(values.get("themes", {}))
    if "k" not in themes:  # a fixed k excludes a k range, the study's default one too
        themes = {**STUDY_DEFAULTS["themes"], **themes}
    stages = comparison_stages(
        runs,
        CompareConfig.from_dict(dict(values.get("compare", {}))),
        themes=ThemesConfig.from_dict(themes),
        train=TrainConfig.from_dict({**STUDY_DEFAULTS["train"], **dict(values.get("train", {}))}),
        device=str(values.get("device", "auto")),
    )
    folder = RunDirectory(out, kind="comparison")
    result = ComparisonResult.read(folder, Pipeline(stages).run(folder, force=force))
    document = result.document
    console = Console(soft_wrap=True)
    done = ", ".join(f"{stage} {status}" for stage, status in result.stages.items())
    console.print(f"{len(document.themes)} joint themes ({done})", markup=False)
    for theme in document.themes:
        shares = "  ".join(f"{name} {share:5.1%}" for name, share in theme.shares.items())
        gloss = f" ({theme.label_gloss})" if theme.label_gloss else ""
        mark = "shared" if theme.shared else "own"
        console.print(
            f"  theme {theme.id}  {theme.label}{gloss}  |  {shares}  |  {mark}, "
            f"{len(theme.said_by_both)} said by both",
            markup=False,
            highlight=False,
        )
    n_shared = sum(theme.shared for theme in document.themes)
    console.print(f"{n_shared} shared → {result.path}", markup=False, highlight=False)
    console.print(f"report: {folder / 'compare.html'}", markup=False, highlight=False)
