"""``themescope compare``: shared and own themes of two runs, across languages too."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from themescope._cli._app import app
from themescope._cli._options import given, option, registered
from themescope.themes.compare.config import CompareConfig


@app.command("compare")
def compare_command(
    run_a: Annotated[Path, typer.Argument(help="First run directory (with themes).")],
    run_b: Annotated[Path, typer.Argument(help="Second run directory (with themes).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the comparison into.")],
    embedder: Annotated[
        str | None,
        typer.Option(
            "--embedder",
            help=f"Phrase embedder: one of {registered('embedder')} (default: "
            "multilingual-e5-small, which compares phrases across languages; minilm: English "
            "only), or a local sentence-transformers folder.",
        ),
    ] = None,
    multilingual: bool | None = option(CompareConfig, "multilingual"),
    threshold: float | None = option(CompareConfig, "threshold"),
    seed: int | None = option(CompareConfig, "seed"),
    gloss_language: str | None = option(CompareConfig, "gloss_language"),
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Redo the comparison, and write into an --out that holds other files or a "
            "newer themescope's compare.json.",
        ),
    ] = False,
) -> None:
    """Match the themes of RUN_A and RUN_B; write what they share and what is their own."""
    from themescope.report.compare_page import CompareReportStage
    from themescope.rundir import Pipeline, RunDirectory
    from themescope.themes.compare.stage import CompareStage, ComparisonResult

    config = CompareConfig.from_dict(
        given(
            threshold=threshold, multilingual=multilingual, seed=seed, gloss_language=gloss_language
        )
    )
    folder = RunDirectory(out, kind="comparison")
    stages = [CompareStage(run_a, run_b, config, embedder=embedder), CompareReportStage()]
    result = ComparisonResult.read(folder, Pipeline(stages).run(folder, force=force))
    document = result.document
    console = Console(soft_wrap=True)
    done = ", ".join(f"{stage} {status}" for stage, status in result.stages.items())
    console.print(f"comparison ({done})", markup=False)
    used = ", ".join(m.name for m in document.methods if m.used)
    languages = document.languages
    console.print(f"languages: {languages.a} vs {languages.b} · methods: {used}", markup=False)
    if not document.text_comparable:
        # The reason was logged as a warning; compare.json keeps it too.
        console.print("text: not compared (see text_comparable_reason in compare.json)")
    themes_a = document.runs.a.themes
    themes_b = document.runs.b.themes
    table = Table("A theme", "B theme", "score", "shared")
    for match in document.matching:
        table.add_row(
            f"{match.a}: {themes_a[match.a].label}",
            f"{match.b}: {themes_b[match.b].label}",
            f"{match.score:.2f}",
            "yes" if match.shared else "no",
        )
    console.print(table)
    n_own_a = len(document.per_run.a.own)
    n_own_b = len(document.per_run.b.own)
    n_shared = sum(1 for m in document.matching if m.shared)
    console.print(
        f"{n_shared} shared · {n_own_a} own to A · {n_own_b} own to B → {result.path}", markup=False
    )
    console.print(f"report: {folder / 'compare.html'}", markup=False, highlight=False)
