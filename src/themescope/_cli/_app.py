"""The typer application and the options every command shares."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import typer
import typer.core

from themescope import __version__, _progress


class _Command(typer.core.TyperCommand):
    """A command whose usage line names its arguments as its docstring does: VIDEO, RUN."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        # typer writes a required argument as "{video}", which reads as a template
        # placeholder left unfilled.
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument" and param.name:
                name = param.name.upper()
                pieces.append(name if param.required else f"[{name}]")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class _App(typer.Typer):
    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", _Command)
        return super().command(*args, **kwargs)


app = _App(
    name="themescope",
    help="Explained, comparable themes of videos from their frames and the words spoken in them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help texts carry literal brackets ("[ingest] section", "[default: 2.0]") that rich
    # markup would swallow as tags; click's plain formatter prints them as written.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"themescope {__version__}")
        raise typer.Exit()


@app.callback()
def _configure(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Log debug messages and tracebacks."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Only log warnings and errors; no progress bars."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Configure logging and progress output for the command that follows."""
    from rich.console import Console
    from rich.logging import RichHandler

    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    # Logs go to stderr so that stdout holds only the command's result.
    handler = RichHandler(
        console=Console(stderr=True),
        show_path=False,
        show_time=False,
        markup=False,
        rich_tracebacks=False,
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("themescope")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    _progress.enable(not quiet)
    _VERBOSE["on"] = verbose


_VERBOSE = {"on": False}


def verbose_enabled() -> bool:
    """Whether --verbose was given (then internal errors show their traceback)."""
    return _VERBOSE["on"]


def print_summary(result: Any, lines: Iterable[str]) -> None:
    """Print what a run or a study made: k and each stage's status, ``lines``, the report.

    Args:
        result: A :class:`~themescope.pipeline.Result` or a
            :class:`~themescope.corpus.study.StudyResult` (``k``, ``stages``, ``warnings``
            and ``report_path`` are read).
        lines: What the command says of each theme, printed as they are (no rich markup).
    """
    from rich.console import Console

    # soft_wrap: paths and phrases stay on one line, whatever the terminal's width.
    console = Console(soft_wrap=True)
    done = ", ".join(f"{stage} {status}" for stage, status in result.stages.items())
    console.print(f"[bold]{result.k} themes[/bold] ({done})")
    for line in lines:
        console.print(line, markup=False, highlight=False)
    if result.warnings:
        console.print(f"{len(result.warnings)} warning(s) recorded in the manifest and the report")
    console.print(f"report: {result.report_path}", markup=False, highlight=False)
