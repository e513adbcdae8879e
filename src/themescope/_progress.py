"""Progress bars for long steps, shown only when the CLI asks for them.

The library never prints on its own: :func:`enable` is called by the CLI, and
notebooks may call it too. Bars go to stderr so that stdout stays parseable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

_state = {"enabled": False}


def enable(on: bool = True) -> None:
    """Turn progress bars on or off for this process."""
    _state["enabled"] = on


def new_progress() -> Progress:
    """Return a rich Progress writing to stderr; disabled unless :func:`enable` was called."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
        disable=not _state["enabled"],
    )


def track(items: Iterable[T], description: str, total: float | None = None) -> Iterator[T]:
    """Yield ``items`` while advancing a progress bar named ``description``."""
    with new_progress() as progress:
        task = progress.add_task(description, total=total, status="")
        for item in items:
            yield item
            progress.advance(task)
