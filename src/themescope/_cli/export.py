"""``themescope export``: a study's or run's tidy tables as CSV and Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("export")
def export_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="A finished study (`themescope corpus --out`) or run (`themescope summarize "
            "--out`) folder."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Folder to write the tables into (earlier ones replaced)."
        ),
    ],
) -> None:
    """Write PATH's tidy tables (video_themes, themes, frames, group_time) for pandas and R."""
    from themescope.tables import export

    result = export(path, out=out)
    console = Console()
    for name in result.tables:
        kinds = "parquet" if name == "frames" else "csv, parquet"
        console.print(f"{name}: {result.n_rows[name]} rows ({kinds})")
    console.print(f"tables: {result.out}")
