"""The ``themescope`` command line: a thin layer over the Python API.

Each command lives in its own module and only parses options, calls the API
and prints a summary. :func:`main` turns errors into exit statuses: a
:class:`~themescope.errors.ThemescopeError` (bad input) is one line on stderr
and status 2, anything else is an internal error with status 1.
"""

from __future__ import annotations

import logging
import sys
import traceback

import click

from themescope._cli import compare as _compare  # noqa: F401 - registers the command
from themescope._cli import demo_data as _demo_data  # noqa: F401 - registers the command
from themescope._cli import ingest as _ingest  # noqa: F401 - registers the command
from themescope._cli import report as _report  # noqa: F401 - registers the command
from themescope._cli import summarize as _summarize  # noqa: F401 - registers the command
from themescope._cli import themes as _themes  # noqa: F401 - registers the command
from themescope._cli import train as _train  # noqa: F401 - registers the command
from themescope._cli._app import app, verbose_enabled
from themescope.errors import ThemescopeError

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with 0, 1 (internal error), 2 (bad input) or 130 (interrupted)."""
    try:
        result = app(args=argv, prog_name="themescope", standalone_mode=False)
    except ThemescopeError as exc:
        _fail(f"error: {exc}", EXIT_BAD_INPUT)
    except click.exceptions.Abort:
        _fail("interrupted", EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if verbose_enabled():
            traceback.print_exc()
        logging.getLogger("themescope").debug("internal error", exc_info=True)
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)",
            EXIT_INTERNAL,
        )
    sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, status: int) -> None:
    print(f"themescope: {message}", file=sys.stderr)
    sys.exit(status)
