"""``themescope report``: (re)build a run's self-contained ``report.html``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("report")
def report_command(
    run: Annotated[
        Path,
        typer.Argument(help="The run directory (after `themescope themes`), or a study directory."),
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even when the report is current.")
    ] = False,
) -> None:
    """Write RUN/report.html: themes, phrases with evidence, timeline, map and training plots."""
    from themescope.corpus.codebook import apply_if_present
    from themescope.report import render_report, render_study_report
    from themescope.rundir import RunDirectory

    # The researcher's codebook, edited since, is applied first: the page shows its labels.
    apply_if_present(run)
    render = render_study_report if RunDirectory(run).is_study() else render_report
    render(run, force=force)
    path = Path(run) / "report.html"
    size_mb = path.stat().st_size / 1e6
    Console().print(f"report: {path} ({size_mb:.1f} MB, opens offline in any browser)")
