"""Benchmark of the executors' own cost: the local process pool against Ray on this machine.

Prints, for ``--workers`` workers (default 2):

- Ray's start: ``import ray`` and the start of a local Ray instance (``check()``);
- ``--tasks`` tasks (default 12) that each sleep ``--sleep-s`` (default 1 s), run twice on each
  executor (the first run includes starting the workers): wall time against the ideal
  ``ceil(tasks / workers) × sleep``, and the overhead per task;
- ``--small`` tasks (default 200) that do nothing: the executor's cost per task.

The loop reads only the executors' outcomes, so it is what a corpus study's ingest pays
on top of its work. The machine's load average is printed: on a shared machine other
processes' CPU use lengthens every figure.

Usage::

    python benchmarks/bench_executors.py [--workers 2] [--tasks 12] [--sleep-s 1] [--small 200]
"""

from __future__ import annotations

import argparse
import math
import os
import time

from themescope.corpus.executors import Executor, TaskFailure, load_executor


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def nothing(x: int) -> int:
    return x


def timed_map(executor: Executor, fn, items: list) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    outcomes = dict(executor.map(fn, items))
    elapsed = time.perf_counter() - started
    failed = [o for o in outcomes.values() if isinstance(o, TaskFailure)]
    assert len(outcomes) == len(items) and not failed, failed
    return elapsed


def run(executor: Executor, args: argparse.Namespace) -> None:
    ideal = math.ceil(args.tasks / args.workers) * args.sleep_s
    naps = [args.sleep_s] * args.tasks
    for attempt in ("first (cold workers)", "second (warm)"):
        wall = timed_map(executor, nap, naps)
        print(
            f"  {args.tasks} × {args.sleep_s:g} s sleep, {attempt}: {wall:6.2f} s "
            f"(ideal {ideal:.0f} s; overhead {wall - ideal:+.2f} s, "
            f"{(wall - ideal) / args.tasks * 1000:+.0f} ms per task)"
        )
    wall = timed_map(executor, nothing, list(range(args.small)))
    print(f"  {args.small} empty tasks: {wall:6.2f} s ({wall / args.small * 1000:.1f} ms per task)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=12)
    parser.add_argument("--sleep-s", type=float, default=1.0)
    parser.add_argument("--small", type=int, default=200)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"one after another: {args.tasks * args.sleep_s:.0f} s")

    print(f"local executor, {args.workers} worker processes")
    with load_executor("local", workers=args.workers) as executor:
        run(executor, args)

    started = time.perf_counter()
    import ray  # noqa: F401

    imported = time.perf_counter() - started
    print(f"ray executor, local Ray instance with {args.workers} CPUs")
    with load_executor("ray", workers=args.workers) as executor:
        started = time.perf_counter()
        executor.check()
        start = time.perf_counter() - started
        print(f"  import ray: {imported:.2f} s; start a local instance: {start:.2f} s")
        run(executor, args)
        started = time.perf_counter()
    print(f"  shut down: {time.perf_counter() - started:.2f} s")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
