"""The ``themescope`` command line: a thin layer over the Python API.

Each command lives in its own module and only parses options, calls the API
and prints a summary. :func:`main` turns what went wrong into an exit status:

- 2, bad input: a usage mistake (click's own message, with its "Did you mean"),
  a :class:`~themescope.errors.ThemescopeError`, or an :class:`OSError` while
  working (read-only file system, disk full, permission denied), each one line on
  stderr naming the path and the reason;
- 130, interrupted (Ctrl-C): one line saying that rerunning resumes;
- 1, anything else: a bug, reported as an internal error.

"""

import logging
import sys
import traceback

import typer.main

from themescope._cli import codebook as _codebook  # noqa: F401 - registers the command
from themescope._cli import compare as _compare  # noqa: F401 - registers the command
from themescope._cli import corpus as _corpus  # noqa: F401 - registers the command
from themescope._cli import demo_data as _demo_data  # noqa: F401 - registers the command
from themescope._cli import export as _export  # noqa: F401 - registers the command
from themescope._cli import ingest as _ingest  # noqa: F401 - registers the command
from themescope._cli import report as _report  # noqa: F401 - registers the command
from themescope._cli import summarize as _summarize  # noqa: F401 - registers the command
from themescope._cli import themes as _themes  # noqa: F401 - registers the command
from themescope._cli import train as _train  # noqa: F401 - registers the command
from themescope._cli._app import app, verbose_enabled
from themescope.errors import ThemescopeError, describe_os_error

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130

INTERRUPTED_MESSAGE = "interrupted; run the same command again to resume where it stopped"


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with 0, 1 (internal error), 2 (bad input) or 130 (interrupted)."""
    try:
        # Standalone mode lets click report usage mistakes itself (exit 2). The command is
        # called directly rather than through ``app(...)``, which would also replace
        # sys.excepthook for the whole process.
        typer.main.get_command(app).main(args=argv, prog_name="themescope", standalone_mode=True)
    except SystemExit as exc:
        if _interrupted(exc):
            _fail(INTERRUPTED_MESSAGE, EXIT_INTERRUPTED)
        raise
    except KeyboardInterrupt:
        _fail(INTERRUPTED_MESSAGE, EXIT_INTERRUPTED)
    except ThemescopeError as exc:
        _fail(f"error: {exc}", EXIT_BAD_INPUT)
    except OSError as exc:
        logging.getLogger("themescope").debug("OS error", exc_info=True)
        _fail(f"error: {describe_os_error(exc)}", EXIT_BAD_INPUT)
    except Exception as exc:
        if verbose_enabled():
            traceback.print_exc()
        logging.getLogger("themescope").debug("internal error", exc_info=True)
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)",
            EXIT_INTERNAL,
        )


def _interrupted(exc: SystemExit) -> bool:
    # typer turns Ctrl-C into ``raise Exit(130) from KeyboardInterrupt`` and, in standalone
    # mode, that into sys.exit(130) while handling the Exit: the KeyboardInterrupt is the
    # cause of the SystemExit's context (typer/core.py, _main).
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _fail(message: str, status: int) -> None:
    print(f"themescope: {message}", file=sys.stderr)
    sys.exit(status)
