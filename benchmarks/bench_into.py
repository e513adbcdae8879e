"""Benchmark: new videos into a fitted study against ingesting them (issue 17 part 2).

Generates (once, cached under ``--out``) a two-group corpus of ``--fit`` videos and
``--new`` more (``--minutes`` each, 960×540), fits a study on the first (not timed
against anything: training is what ``--into`` saves), then times, on the same machine
one after the other:

1. ingesting the new videos alone, as the study's ingest does (the same settings and
   executor, into a scratch folder);
2. ``Study.add(new, into=STUDY)``: the same ingest into a copy of the fitted study,
   encoding with its model, assigning to its themes and measuring the groups again over
   every video;

in ``--rounds`` rounds, each of the two first in turn. The fit is kept (``into-fitted-N``)
and reused while current.

Target (the issue: 12 four-minute videos into a 12-video study): the add costs no more
than the ingest plus 15 %. The load average is printed before and after: on a shared
machine wall times compare only under the same load.

Usage::

    python benchmarks/bench_into.py [--out bench-out] [--fit 6] [--new 3] [--minutes 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from _videos import two_group_corpus

TARGET_RATIO = 1.15


def corpora(out: Path, n_fit: int, n_new: int, minutes: float) -> tuple[Path, Path]:
    """Generate the corpus once; return the fit's and the new videos' manifests."""
    per_group = (n_fit + n_new + 1) // 2
    folder = out / f"into-{per_group}x{minutes:g}min"
    manifest = two_group_corpus(folder, per_group, minutes)
    with open(manifest, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # Alternate the groups so both are in the fit and among the new videos.
    rows.sort(key=lambda row: (row["video"].split("/")[-1], row["group"]))
    fit, new = folder / "fit.csv", folder / "new.csv"
    for path, part in ((fit, rows[:n_fit]), (new, rows[n_fit : n_fit + n_new])):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(part)
    return fit, new


def main() -> None:
    """Fit, then time the ingest of the new videos against adding them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--fit", type=int, default=6)
    parser.add_argument("--new", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--epochs", type=int, default=None, help="Training epochs of the fit.")
    parser.add_argument("--rounds", type=int, default=2, help="Timings of each, in turns first.")
    args = parser.parse_args()

    from themescope.corpus import Study
    from themescope.corpus.executors import load_executor
    from themescope.corpus.ingest import ingest_rows
    from themescope.corpus.spec import read_corpus
    from themescope.rundir import RunDirectory

    fit, new = corpora(args.out, args.fit, args.new, args.minutes)
    fitted = args.out / f"into-fitted-{args.fit}"
    options = {"train": {"epochs": args.epochs}} if args.epochs else {}
    study = Study.from_config(options)
    started = time.perf_counter()
    status = study.run(fit, out=fitted).stages  # skipped when the fit is current
    print(f"fit of {args.fit} videos: {status} in {time.perf_counter() - started:.0f} s")

    def ingest_alone() -> float:
        scratch = RunDirectory(args.out / "into-ingest-only", study=True)
        shutil.rmtree(scratch.path, ignore_errors=True)
        scratch.create()
        executor = load_executor(
            study.study.executor, workers=study.study.workers, address=study.study.ray_address
        )
        started = time.perf_counter()
        try:
            ingest_rows(scratch, read_corpus(new).videos, study.ingest, executor, print)
        finally:
            executor.close()
        return time.perf_counter() - started

    def add() -> tuple[float, Any]:
        target = args.out / f"into-study-{args.fit}"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(fitted, target)
        started = time.perf_counter()
        study.add(new, into=target)
        return time.perf_counter() - started, RunDirectory(target, study=True).read_manifest()

    print(f"cores {os.cpu_count()}")
    ratios = []
    # Each round times both, in turns first, so that neither gains the other's page cache
    # or loses to a change of load.
    for round_ in range(args.rounds):
        load = os.getloadavg()[0]
        if round_ % 2 == 0:
            ingest_s = ingest_alone()
            add_s, manifest = add()
        else:
            add_s, manifest = add()
            ingest_s = ingest_alone()
        ratios.append(add_s / ingest_s)
        timings = manifest.record("assign").timings  # type: ignore[union-attr]
        print(
            f"round {round_ + 1} ({'ingest' if round_ % 2 == 0 else '--into'} first; load "
            f"{load:.2f} before, {os.getloadavg()[0]:.2f} after): ingest alone {ingest_s:.1f} s, "
            f"--into {add_s:.1f} s, ratio {ratios[-1]:.2f}; --into's "
            + ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
        )
    ratio = float(np.median(ratios))
    print(
        f"{args.new} new {args.minutes:g}-minute videos into a {args.fit}-video study: median "
        f"ratio {ratio:.2f} over {len(ratios)} rounds (target at most {TARGET_RATIO:.2f}: "
        f"{'met' if ratio <= TARGET_RATIO else 'missed'})"
    )


if __name__ == "__main__":
    main()
