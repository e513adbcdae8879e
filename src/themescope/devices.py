"""Where models run, and on how many CPU threads.

:func:`resolve_device` is the one resolution of ``auto``, ``cpu``, ``cuda`` and ``mps``
for every stage. :func:`usable_cores` counts the cores this process may run on
(affinity and a cgroup quota, as in a container or a cluster job); :func:`free_cpus`
those of them not busy with other work; :func:`torch_threads` bounds torch's CPU
threads for one call and gives the caller's setting back. :func:`limit_openmp_spinning`
makes waiting OpenMP threads sleep soon rather than spin. torch is imported inside
the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
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
        n_threads: Threads to use; 0 or less: torch's own count, at most :func:`usable_cores`.

    Example:
        >>> with torch_threads(1):  # doctest: +SKIP
        ...     model(batch)

    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads if n_threads > 0 else min(previous, usable_cores()))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota.

    A container or a cluster job often sees every core of the host but may use a few;
    threads beyond its quota only take turns, and torch and OpenMP size their pools from
    the host's cores.
    """
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    quota = _cgroup_cpu_quota()
    return max(1, min(n or 1, math.ceil(quota) if quota is not None else n or 1))


def _cgroup_cpu_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs' worth of time the cgroup allows (quota / period), or None when unlimited."""
    try:
        v2 = (root / "cpu.max").read_text().split()  # "max 100000" or "200000 100000"
        return None if v2[0] == "max" else int(v2[0]) / int(v2[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def free_cpus() -> int:
    """Return the usable cores not already busy (at least one), from the 1-minute load average.

    OpenMP and torch threads spin at barriers: on an oversubscribed machine two
    threads ran many times slower than one (faiss on 1,000,000 points: 42.7 s
    against 4.4 s; MiniLM: 23 against 130 phrases/s), so themescope never asks
    for more threads than there are idle CPUs.
    """
    n_cpus = usable_cores()
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available on every platform
        busy = 0.0
    return max(1, min(n_cpus, int(n_cpus - busy + 0.5)))


OPENMP_SPIN_COUNT = 1000
"""Busy-wait iterations of a waiting OpenMP thread (GNU libgomp's own value when it has more
threads than cores) before it sleeps. Training beside one CPU-bound process on 2 cores
(8 epochs of the 4-minute video, median of 2-3 runs; issue 14):

=====================  =======  ===============
spin count             quiet    beside 1 busy
=====================  =======  ===============
300,000 (default)      4.3 s    14.3 s
100,000                4.5 s    46.5 s
5,000                  4.2 s    15.7 s
1,000                  4.4 s    10.9 s
0 (OMP_WAIT_POLICY     6.0 s    10.1 s
=PASSIVE)
=====================  =======  ===============
"""


def limit_openmp_spinning() -> None:
    """Make waiting OpenMP threads sleep soon rather than spin, unless the user chose a policy.

    A waiting thread spins for a while at every barrier before it sleeps. On a busy
    machine the spinning threads take the cores the working ones need, and every
    parallel region waits for its slowest thread: training slowed 3-18x beside other
    work. A short spin (:data:`OPENMP_SPIN_COUNT`) keeps the quiet machine's speed and
    most of the busy one's; no spin at all costs a quiet machine 40 %. The setting is
    read when the OpenMP runtime loads (with torch or scikit-learn), so it must be made
    before either is imported; :mod:`themescope` makes it when it is imported. An
    ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` already in the environment is kept.
    """
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", str(OPENMP_SPIN_COUNT))
