"""Benchmark of training on a busy machine: quiet, and beside one and two CPU-bound processes.

A researcher's laptop is never idle. Training's parallel regions wait at a barrier for
their slowest thread, so a thread that loses its core to another process holds up the
others: training slowed 10–18× with other work running (issue 14). This trains the
4-minute generated video (``fast`` preset, the ``summarize`` default, a fixed number of
epochs so every run does the same work) in a fresh process, once quiet and once beside
each number of ``while True: pass`` processes, and prints the train stage's seconds and
their ratio to the quiet run. Target: at most 2.5× the quiet time beside one process.

``--baseline SRC`` runs the same measurements with another checkout's ``src`` folder
(for example ``git worktree add /tmp/before <commit>`` and ``--baseline /tmp/before/src``)
and prints both side by side, measured in the same run on the same machine.

Usage::

    python benchmarks/bench_train_load.py [--out bench-out] [--busy 0,1,2] [--epochs 12]
        [--repeats 1] [--baseline /tmp/before/src]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_train import prepare

TARGET_RATIO_ONE_BUSY = 2.5
# The environment as this script found it: importing themescope (to prepare the video) sets
# GOMP_SPINCOUNT, which must not leak into the baseline's training processes.
START_ENV = dict(os.environ)
TRAIN_SCRIPT = """
import json, sys, time
from themescope.model.config import TrainConfig
from themescope.model.train import train
config = TrainConfig.preset("fast").replace(epochs=int(sys.argv[2]), early_stopping=False)
result = train(sys.argv[1], config, force=True, device="cpu")
print(json.dumps({"train_s": result.record.train_seconds, "epochs": result.record.epochs}))
"""


def train_once(source: Path, work: Path, src: Path, epochs: int, busy: int) -> dict:
    """Train a private copy of ``source`` with the code in ``src`` beside ``busy`` spinners."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".lock", ".staging-*"))
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        time.sleep(0.5 if busy else 0.0)  # let the spinners take their cores
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", TRAIN_SCRIPT, str(work), str(epochs)],
            env={**START_ENV, "PYTHONPATH": str(src)},
            capture_output=True,
            text=True,
            check=False,
        )
        wall_s = time.perf_counter() - started
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    if done.returncode != 0:
        raise SystemExit(f"training with {src} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "wall_s": wall_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--busy", default="0,1,2", help="numbers of CPU-bound processes beside")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=1, help="runs per cell (median shown)")
    parser.add_argument("--baseline", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    busy_levels = [int(b) for b in args.busy.split(",")]
    if 0 not in busy_levels:
        busy_levels.insert(0, 0)
    here = Path(__file__).resolve().parents[1] / "src"
    versions = {"now": here}
    if args.baseline:
        versions = {"baseline": args.baseline.resolve(), **versions}
    args.out.mkdir(parents=True, exist_ok=True)
    source = prepare(args.out, "4min")
    print(
        f"machine: {os.cpu_count()} CPUs, usable {len(os.sched_getaffinity(0))}, "
        f"load before {os.getloadavg()[0]:.1f}; {args.epochs} epochs of the fast preset"
    )
    seconds: dict[tuple[str, int], float] = {}
    for busy in busy_levels:
        for name, src in versions.items():
            runs = [
                train_once(source, args.out / "train-load-work", src, args.epochs, busy)
                for _ in range(args.repeats)
            ]
            seconds[name, busy] = statistics.median(r["train_s"] for r in runs)
            each = ", ".join(f"{r['train_s']:.1f}" for r in runs)
            print(
                f"  {name:8s} beside {busy}: train {seconds[name, busy]:6.1f} s (runs: {each})",
                flush=True,
            )
    print()
    header = "".join(f"{name + ' s':>14s}{name + ' ×quiet':>16s}" for name in versions)
    print(f"{'beside':>8s}{header}")
    for busy in busy_levels:
        row = "".join(
            f"{seconds[name, busy]:14.1f}{seconds[name, busy] / seconds[name, 0]:16.2f}"
            for name in versions
        )
        print(f"{busy:8d}{row}")
    if 1 in busy_levels:
        ratio = seconds["now", 1] / seconds["now", 0]
        verdict = "met" if ratio <= TARGET_RATIO_ONE_BUSY else "NOT met"
        print(f"target ≤ {TARGET_RATIO_ONE_BUSY}× beside one process: {ratio:.2f}× ({verdict})")


if __name__ == "__main__":
    main()
