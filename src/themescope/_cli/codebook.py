"""``themescope codebook``: the researcher's labels, merges and drops of the themes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("codebook")
def codebook_command(
    folder: Annotated[
        Path,
        typer.Argument(help="A finished study (`themescope corpus --out`) or run folder."),
    ],
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Apply the edited codebook.toml: themes.json, statistics, report."
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write codebook.toml anew over an edited one.")
    ] = False,
) -> None:
    """Write FOLDER/codebook.toml (one entry per theme to edit), or apply it with --apply."""
    from themescope.corpus.codebook import codebook

    path, statuses = codebook(folder, apply=apply, force=force)
    console = Console()
    if not apply:
        console.print(f"codebook: {path} (edit it, then `themescope codebook {folder} --apply`)")
        return
    for name, status in statuses.items():
        console.print(f"{name}: {status}")
    console.print(f"report: {Path(folder) / 'report.html'}")
