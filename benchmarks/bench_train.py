"""Benchmark of the train stage: the ``paper`` preset against the ``fast`` default.

Generates news-like synthetic videos of 4 minutes (≈120 frames, the size of the
paper's US video) and 13 minutes (≈380 frames, its Chinese one), ingests them (both
cached under ``bench-out/``), then for each video trains:

* ``paper`` for a few epochs and extrapolates its time to the full 500 epochs,
* ``fast`` to its stopping point,

and prints seconds per epoch, total seconds, image PSNR (from μ, at 120×200) and text
cosine side by side, with the ratio of the totals. Targets on 2 CPU cores: ``fast`` under
30 s (4 min) and 75 s (13 min), PSNR >= 22 dB, at most 1/100 of paper's time.

Usage::

    python benchmarks/bench_train.py [--out bench-out] [--paper-epochs 2] [--threads 2]
        [--videos 4min,13min] [--device cpu] [--skip-paper] [--ablations image-only,...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

from _videos import news_video

TARGET_S = {"4min": 30.0, "13min": 75.0}
TARGET_PSNR_DB = 22.0


def prepare(out: Path, name: str) -> Path:
    """Generate and ingest one video once; return its ingested run directory (cached)."""
    from themescope.media.ingest import ingest
    from themescope.rundir import RunDirectory

    run_dir = out / f"run-{name}"
    if RunDirectory(run_dir).record("ingest") is not None:
        return run_dir
    video, subtitles, _ = news_video(out, name)
    ingest(video, run_dir, subtitles=subtitles)
    return run_dir


def train_copy(source: Path, work: Path, config: object, device: str) -> dict:
    """Train on a private copy of the ingested run (the cached run stays ingest-only)."""
    import msgspec

    from themescope.model.train import train

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work, ignore=shutil.ignore_patterns(".lock", ".staging-*"))
    result = train(work, config, force=True, device=device)  # type: ignore[arg-type]
    return msgspec.to_builtins(result.record)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--paper-epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--videos", default="4min,13min")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-paper", action="store_true", help="only train the fast preset")
    parser.add_argument(
        "--ablations",
        default="",
        help="also train these ablations with the fast sizes, e.g. image-only,text-only,pure-cvae",
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)

    import torch

    from themescope.model.config import TrainConfig

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} (timings are only comparable on a quiet machine)"
    )
    rows = []
    for name in args.videos.split(","):
        started = time.perf_counter()
        run_dir = prepare(args.out, name)
        print(f"[{name}] data ready in {time.perf_counter() - started:.1f} s: {run_dir}")
        fast = dataclasses.replace(TrainConfig.preset("fast"), n_threads=args.threads)
        fast_record = train_copy(run_dir, args.out / f"train-{name}-fast", fast, args.device)
        print(f"[{name}] fast: {json.dumps(_summary(fast_record))}")
        paper_record = None
        if not args.skip_paper:
            paper = dataclasses.replace(
                TrainConfig.preset("paper"), epochs=args.paper_epochs, n_threads=args.threads
            )
            paper_record = train_copy(run_dir, args.out / f"train-{name}-paper", paper, args.device)
            print(
                f"[{name}] paper ({args.paper_epochs} epochs): {json.dumps(_summary(paper_record))}"
            )
        rows.append((name, fast_record, paper_record))
        for ablation in filter(None, args.ablations.split(",")):
            variant = dataclasses.replace(fast, ablation=ablation)
            work = args.out / f"train-{name}-{ablation}"
            record = train_copy(run_dir, work, variant, args.device)
            print(f"[{name}] fast {ablation}: {json.dumps(_summary(record))}")

    print()
    print(
        f"{'video':6} {'frames':>6} | {'paper s/ep':>10} {'paper 500ep s':>13} {'paper PSNR':>10} "
        f"| {'fast s/ep':>9} {'fast ep':>7} {'fast s':>7} {'stage s':>7} {'fast PSNR':>9} "
        f"{'fast cos':>8} "
        f"| {'ratio':>7} {'targets':>8}"
    )
    all_ok = True
    for name, fast_record, paper_record in rows:
        fast_s = float(fast_record["train_seconds"])
        paper_epoch_s = float(paper_record["seconds_per_epoch"]) if paper_record else float("nan")
        paper_total = paper_epoch_s * 500
        ratio = paper_total / fast_s if paper_record else float("nan")
        ok = (
            fast_s < TARGET_S[name]
            and (fast_record["psnr_db"] or 0) >= TARGET_PSNR_DB
            and (not paper_record or ratio >= 100)
        )
        all_ok &= ok
        paper_psnr = f"{paper_record['psnr_db']:.2f}" if paper_record else "-"
        print(
            f"{name:6} {fast_record['n_frames']:>6} | {paper_epoch_s:>10.2f} {paper_total:>13.0f} "
            f"{paper_psnr:>10} | {fast_record['seconds_per_epoch']:>9.3f} "
            f"{fast_record['epochs']:>7} {fast_s:>7.1f} {fast_record['seconds']:>7.1f} "
            f"{fast_record['psnr_db']:>9.2f} "
            f"{_cos(fast_record):>8} | {ratio:>6.0f}x {'met' if ok else 'MISSED':>8}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(
        "\n(paper PSNR is after only the epochs run; its total is s/epoch × 500; 'fast s' is "
        "training alone, 'stage s' includes loading frames and writing outputs. "
        f"Targets: fast < {TARGET_S} s, PSNR >= {TARGET_PSNR_DB} dB, ratio >= 100.)"
    )
    return 0 if all_ok else 1


def _summary(record: dict) -> dict:
    keys = (
        "n_frames",
        "epochs",
        "stop_reason",
        "train_seconds",
        "seconds",
        "seconds_per_epoch",
        "psnr_db",
        "text_cosine",
        "unknown_word_rate",
        "n_params",
    )
    return {k: record.get(k) for k in keys}


def _cos(record: dict) -> str:
    value = record.get("text_cosine")
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    sys.exit(main())
