"""Where models run: one resolution of ``auto``, ``cpu``, ``cuda`` and ``mps`` for every stage.

:func:`torch_threads` bounds torch's CPU threads for one call and gives the caller's
setting back. torch is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from themescope.errors import ConfigError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str) -> torch.device:
    """Return the torch device for ``auto``, ``cpu``, ``cuda`` or ``mps``.

    ``auto`` takes CUDA when available, then Apple's MPS, else the CPU.

    Raises:
        ConfigError: The name is unknown or that device is not available.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    import torch

    if device not in DEVICES:
        raise ConfigError(f"--device must be one of {', '.join(DEVICES)}. Got {device!r} instead.")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"--device cuda was asked for, but this torch ({torch.__version__}) sees no CUDA GPU"
        )
    if device == "mps" and not has_mps:
        raise ConfigError("--device mps was asked for, but MPS is not available here")
    return torch.device(device)


@contextlib.contextmanager
def torch_threads(n_threads: int) -> Iterator[None]:
    """Run the ``with`` block on ``n_threads`` torch CPU threads, then restore the previous count.

    Args:
        n_threads: Threads to use; 0 or less leaves torch's setting alone.

    Example:
        >>> with torch_threads(1):  # doctest: +SKIP
        ...     model(batch)

    """
    import torch

    previous = torch.get_num_threads()
    if n_threads > 0:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
