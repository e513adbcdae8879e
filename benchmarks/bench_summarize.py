"""Benchmark of the whole product: ``themescope summarize`` end to end with the default backends.

Generates news-like 960×540 synthetic videos of 4 and 13 minutes (cached under
``bench-out/``), then runs ``themescope summarize VIDEO --subtitles SRT --out RUN --force``
as a separate process (start-up included) and prints the wall time of the whole
command beside its CPU time (user + system, all threads) and the 1-minute load average
when it started, the seconds of each stage from the run's manifest, and the themes it
found against the generator's truth (adjusted Rand index). On a shared machine the wall
time follows the load; the CPU time much less so.

Targets on 2 CPU cores: 4 minutes in under 45 s, 13 minutes in under 120 s.

Usage::

    python benchmarks/bench_summarize.py [--out bench-out] [--videos 4min,13min] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _videos import news_video
from themescope.documents import read_themes

TARGET_S = {"4min": 45.0, "13min": 120.0}
STAGES = ("ingest", "train", "themes", "report")


def agreement(run: Path, truth_path: Path) -> float:
    """Adjusted Rand index of the found themes against the generator's truth."""
    import numpy as np
    import pyarrow.parquet as pq
    from sklearn.metrics import adjusted_rand_score

    from themescope.synthetic import read_truth

    frames = pq.read_table(run / "frames.parquet", columns=["time_s", "theme"]).to_pydict()
    truth = read_truth(truth_path)
    seconds = np.minimum(np.asarray(frames["time_s"]).astype(int), len(truth) - 1)
    return float(adjusted_rand_score(truth[seconds], frames["theme"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--videos", default="4min,13min")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    print(f"machine: {os.cpu_count()} CPU cores; python {sys.version.split()[0]}")
    header = f"{'video':<7}{'frames':>7}{'total s':>9}{'target':>8}{'cpu s':>8}{'load':>6}"
    header += "".join(f"{stage + ' s':>10}" for stage in STAGES)
    header += f"{'k':>3}{'ARI':>7}{'PSNR dB':>9}"
    print(header)
    for name in args.videos.split(","):
        video, subtitles, truth = news_video(args.out, name)
        run = args.out / f"summarize-run-{name}"
        command = ["themescope", "-q", "summarize", str(video), "--subtitles", str(subtitles)]
        command += ["--out", str(run), "--force"]
        walls, cpus, loads = [], [], []
        for _ in range(args.repeat):
            loads.append(os.getloadavg()[0])
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        manifest = json.loads((run / "manifest.json").read_text())
        stages = manifest["stages"]
        themes = read_themes(run / "themes.json")
        row = f"{name:<7}{stages['ingest']['n_frames']:>7}{statistics.median(walls):>9.1f}"
        row += f"{TARGET_S[name]:>8.0f}{statistics.median(cpus):>8.1f}{max(loads):>6.1f}"
        row += "".join(f"{stages[stage]['seconds']:>10.1f}" for stage in STAGES)
        row += f"{themes.k:>3}{agreement(run, truth):>7.2f}{stages['train']['psnr_db']:>9.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
