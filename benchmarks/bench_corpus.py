"""Benchmark of corpus mode: a 2-group study of generated videos with a known difference.

Generates (once, cached under ``--out``) the generator's default two-group corpus:
group A (English) spends 50 % of its airtime on the economy and 30 % on health,
group B (Chinese) 5 % and 30 %; ``--per-group`` videos of ``--minutes`` each at
960×540. Then, each as a separate ``themescope corpus`` process:

1. ingest speed: the ingest stage alone, one video after another (``--workers 1``),
   with the local executor on every core, and with Ray (``--executor ray``), each
   from scratch, side by side, with the speed-up and Ray's overhead;
2. the whole study end to end with the local executor: wall time, the seconds of
   each stage, peak memory (max RSS of the process tree), and the results against
   the generator's truth: adjusted Rand index of the themes, each group's share of
   each true theme within ±5 points, and whether the difference test flags the
   economy theme and not the health theme;
3. the same study with Ray: identical frames, latents and themes?
4. the stability refits (issue 17): the whole study again with ``--no-stability``
   (only themes and report rerun), the themes stage's seconds with and without, and
   the refits alone timed on the study's own features for several N, each against
   the study's end-to-end time (target: the default N adds at most 20 %);
5. ``--scale N``: peak memory of a study of N× the videos (each video's ingested run
   directory copied, so only train, themes and report run), against the first.

Targets on 2 cores (issue 10): 12 four-minute videos end to end in under 5 minutes;
local ingest at least 1.5× faster than one after another; Ray within 15 % of local;
peak memory not growing with the frames beyond the latents and the table.

Usage::

    python benchmarks/bench_corpus.py [--out bench-out] [--per-group 6] [--minutes 4]
        [--skip ingest,ray,stability,scale] [--scale 4]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _videos import two_group_corpus

STAGES = ("ingest", "train", "themes", "report")
TARGET_TOTAL_S = 300.0


def corpus(out: Path, per_group: int, minutes: float) -> Path:
    """Generate the two-group corpus once; return its corpus.csv."""
    return two_group_corpus(out / f"corpus-{per_group}x{minutes:g}min", per_group, minutes)


# Runs the CLI in a process that reports its own peak memory (training and themes run in
# it) and its children's (the ingest workers) when it exits.
_MEASURED = """
import resource, runpy, sys
sys.argv = ["themescope", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("themescope", run_name="__main__")
except SystemExit as exc:
    code = exc.code
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"PEAK-RSS-KB {own} {workers}", file=sys.stderr)
sys.exit(code)
"""


def themescope(*args: str) -> tuple[float, int, int]:
    """Run ``themescope ARGS`` in its own process; return (wall s, its peak MB, workers' MB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"themescope {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    line = next(x for x in done.stderr.splitlines() if x.startswith("PEAK-RSS-KB"))
    own, workers = (int(v) // 1024 for v in line.split()[1:])
    return wall, own, workers


def stage_seconds(study: Path) -> dict[str, float]:
    from themescope.rundir import RunDirectory

    manifest = RunDirectory(study).read_manifest()
    return {s: (r.seconds if (r := manifest.record(s)) else float("nan")) for s in STAGES}


def truth_of_frames(
    study: Path, manifest: Path
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Each frame's true theme, found theme, video and group."""
    import pyarrow.parquet as pq

    from themescope.corpus.spec import read_corpus
    from themescope.synthetic import read_truth

    spec = read_corpus(manifest)
    truths = {v.id: read_truth(v.video.with_suffix(".truth.csv")) for v in spec.videos}
    frames = pq.read_table(study / "frames.parquet").to_pydict()
    true = np.array(
        [
            truths[v][min(int(t), len(truths[v]) - 1)]
            for v, t in zip(frames["video"], frames["time_s"], strict=True)
        ]
    )
    return true, np.asarray(frames["theme"]), list(frames["video"]), list(frames["group"])


def quality(study: Path, manifest: Path) -> None:
    """Print ARI, each group's share of each true theme against the truth, the test's verdicts."""
    from sklearn.metrics import adjusted_rand_score

    from themescope.study_documents import read_study_themes
    from themescope.synthetic import THEME_TOPICS, read_group_shares

    true, found, _, _ = truth_of_frames(study, manifest)
    document = read_study_themes(study / "themes.json")
    print(f"k = {document.k} ({document.k_selection.reason.split(':')[0]})")
    print(
        f"ARI of the themes against the truth: {adjusted_rand_score(true, found):.3f} "
        "(target ≥ 0.8)"
    )
    truth_shares = read_group_shares(manifest.parent / "truth_shares.csv")
    # Each found theme stands for the true theme most of its frames show.
    topic_of = {
        theme.id: int(np.bincount(true[found == theme.id]).argmax()) for theme in document.themes
    }
    print(
        f"{'true theme':<15}{'group':>6}{'truth':>8}{'found':>8}{'interval':>16}{'|err|':>7}  test"
    )
    worst = 0.0
    for topic, name in enumerate(THEME_TOPICS):
        mine = [t for t in document.themes if topic_of[t.id] == topic]
        p_values = [t.group_p_value for t in mine if t.group_p_value is not None]
        verdict = ("differs" if p_values and min(p_values) < 0.05 else "same") + (
            f" (p = {min(p_values):.3f})" if p_values else ""
        )
        for group, shares in truth_shares.items():
            share = sum(t.group_shares[group].share for t in mine)
            low = sum((t.group_shares[group].low or 0.0) for t in mine)
            high = sum((t.group_shares[group].high or 0.0) for t in mine)
            error = abs(share - shares[topic])
            worst = max(worst, error)
            print(
                f"{name:<15}{group:>6}{shares[topic]:>8.1%}{share:>8.1%}"
                f"{f'{low:.1%}–{high:.1%}':>16}{error * 100:>6.1f}  {verdict}"
            )
    print(f"largest share error: {worst * 100:.1f} points (target ≤ 5)")
    if document.group_test is not None:
        print(
            f"overall: p = {document.group_test.p_value:.4f} ({document.group_test.method[:60]}...)"
        )


def digest(study: Path) -> str:
    """A hash of what the study found: frames (text, OCR, theme), latents, themes' phrases."""
    import pyarrow.parquet as pq

    from themescope.study_documents import read_study_themes

    frames = pq.read_table(study / "frames.parquet").to_pydict()
    h = hashlib.sha256()
    for column in ("video", "time_s", "text", "ocr_text", "theme"):
        h.update(repr(frames[column]).encode())
    h.update(np.load(study / "latents.npy").tobytes())
    for theme in read_study_themes(study / "themes.json").themes:
        h.update(repr((theme.label, [p.text for p in theme.phrases], theme.group_shares)).encode())
    return h.hexdigest()[:16]


def scaled_manifest(study: Path, manifest: Path, times: int, out: Path) -> Path:
    """A corpus of ``times`` copies of every video, with their ingested run folders copied."""
    from themescope.corpus.spec import read_corpus
    from themescope.manifest import Manifest
    from themescope.rundir import RunDirectory

    spec = read_corpus(manifest)
    target = out / f"scaled-{times}x"
    shutil.rmtree(target, ignore_errors=True)
    (target / "videos").mkdir(parents=True)
    rows = []
    for copy in range(times):
        for video in spec.videos:
            name = f"{video.video.stem}-{copy}"
            folder = out / f"scaled-media/{video.group}"
            folder.mkdir(parents=True, exist_ok=True)
            for source, suffix in ((video.video, ".mp4"), (video.subtitles, ".srt")):
                link = folder / f"{name}{suffix}"
                if source is not None and not link.exists():
                    os.link(source, link)
            rows.append([f"{video.group}/{name}.mp4", f"{video.group}/{name}.srt", video.group])
    scaled = out / "scaled-media/corpus.csv"
    with scaled.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "subtitles", "group"])
        writer.writerows(rows)
    for video in read_corpus(scaled).videos:
        original = video.id.rsplit("-", 1)[0]
        shutil.copytree(study / "videos" / original, target / "videos" / video.id)
    # A study directory is one with a manifest: the copied videos are its first stage's cache.
    RunDirectory(target).write_manifest(Manifest())
    return scaled


def stability_cost(study: Path, manifest: Path, wall_s: float, themes_s: float) -> None:
    """Print what the stability refits add to the study (made with the default N)."""
    import pyarrow.parquet as pq

    from themescope.corpus.study import STUDY_DEFAULTS
    from themescope.themes import timeline
    from themescope.themes.cluster import scale_features, seed_stability
    from themescope.themes.config import ThemesConfig

    config = ThemesConfig(**STUDY_DEFAULTS["themes"])
    off_wall, _, _ = themescope("corpus", str(manifest), "--out", str(study), "--no-stability")
    off_themes_s = stage_seconds(study)["themes"]
    print(
        f"\nstability (default N = {config.stability}): themes stage {themes_s:.1f} s with, "
        f"{off_themes_s:.1f} s without ({themes_s - off_themes_s:+.1f} s, "
        f"{(themes_s - off_themes_s) / (wall_s - themes_s + off_themes_s):+.1%} of the study); "
        f"rerun of themes and report without: {off_wall:.1f} s; load {os.getloadavg()}"
    )
    # The refits alone, on the features the study clustered (the stage's noise is seconds).
    frames = pq.read_table(study / "frames.parquet", columns=["video", "theme"])
    labels = frames.column("theme").to_numpy()
    content = labels >= 0
    videos = [str(v) for v in frames.column("video").to_pylist()]
    latents = np.load(study / "latents.npy")
    smoothed = timeline.smooth_within(latents, videos, config.smooth_frames, include=content)
    features = scale_features(smoothed[content])
    for n_refits in (5, 10, 20):
        started = time.perf_counter()
        result = seed_stability(
            features, labels[content], seed=config.seed, n_refits=n_refits, n_init=config.n_init
        )
        refits_s = time.perf_counter() - started
        print(
            f"  N = {n_refits:>2}: refits {refits_s:5.1f} s = {refits_s / wall_s:.1%} of the "
            f"study's {wall_s:.0f} s ({len(features)} frames, k = {labels.max() + 1}); mean ARI "
            f"{result.ari.mean():.3f}, unstable themes {result.unstable()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--per-group", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--skip", default="", help="comma-separated: ingest, ray, stability, scale")
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"machine: {cores} CPU cores; python {sys.version.split()[0]}; load {os.getloadavg()}")
    manifest = corpus(args.out, args.per_group, args.minutes)
    n_videos = 2 * args.per_group
    video_minutes = n_videos * args.minutes

    if "ingest" not in skip:
        print(f"\ningest of {n_videos} videos ({video_minutes:g} video-minutes), from scratch:")
        runs = [("one after another", ["--workers", "1"]), ("local executor", [])]
        if "ray" not in skip:
            runs.append(("ray executor", ["--executor", "ray"]))
        times = {}
        for name, extra in runs:
            study = args.out / f"ingest-{name.split()[0]}"
            shutil.rmtree(study, ignore_errors=True)
            themescope(
                "corpus",
                str(manifest),
                "--out",
                str(study),
                "--set",
                "train.epochs=1",
                "--set",
                "themes.k=4",
                *extra,
            )
            times[name] = stage_seconds(study)["ingest"]
            core_minutes = times[name] / 60 * (cores or 1)
            print(
                f"  {name:<20}{times[name]:>7.1f} s   "
                f"{video_minutes / core_minutes:.2f} video-minutes per core-minute"
            )
        base = times["one after another"]
        print(
            f"  local speed-up over one after another: {base / times['local executor']:.2f}× "
            "(target ≥ 1.5×)"
        )
        if "ray executor" in times:
            overhead = times["ray executor"] / times["local executor"] - 1
            print(f"  ray against local: {overhead:+.1%} (target within 15 %)")

    study = args.out / "study-local"
    shutil.rmtree(study, ignore_errors=True)
    wall, rss, worker_rss = themescope("corpus", str(manifest), "--out", str(study))
    seconds = stage_seconds(study)
    print(
        f"\nwhole study, local executor: {wall:.1f} s end to end (target < {TARGET_TOTAL_S:.0f} s)"
    )
    print(
        "  "
        + "  ".join(f"{s} {seconds[s]:.1f} s" for s in STAGES)
        + f"   peak RSS {rss} MB (ingest workers {worker_rss} MB)"
    )
    from themescope.rundir import RunDirectory

    train = RunDirectory(study).record("train")
    print(
        f"  training: {getattr(train, 'n_frames_trained', 0)} of {getattr(train, 'n_frames', 0)} "
        f"frames, {getattr(train, 'epochs', 0)} epochs, PSNR {getattr(train, 'psnr_db', None)} dB, "
        f"{getattr(train, 'n_frames', 0) / max(getattr(train, 'train_seconds', 1), 1e-9):.1f} "
        "frames per second of training"
    )
    quality(study, manifest)

    if "stability" not in skip:
        stability_cost(study, manifest, wall, seconds["themes"])

    if "ray" not in skip:
        ray_study = args.out / "study-ray"
        shutil.rmtree(ray_study, ignore_errors=True)
        ray_wall, _, _ = themescope(
            "corpus", str(manifest), "--out", str(ray_study), "--executor", "ray"
        )
        same = digest(study) == digest(ray_study)
        print(f"\nray executor end to end: {ray_wall:.1f} s; identical to local: {same}")

    if "scale" not in skip:
        scaled = scaled_manifest(study, manifest, args.scale, args.out)
        big = args.out / f"scaled-{args.scale}x"
        big_wall, big_rss, _ = themescope("corpus", str(scaled), "--out", str(big))
        n_small = RunDirectory(study).record("train")
        n_big = RunDirectory(big).record("train")
        print(
            f"\npeak memory: {n_videos} videos ({getattr(n_small, 'n_frames', 0)} frames) "
            f"{rss} MB; "
            f"{args.scale * n_videos} videos ({getattr(n_big, 'n_frames', 0)} frames, ingest "
            f"copied) {big_rss} MB; {big_wall:.0f} s"
        )


if __name__ == "__main__":
    main()
