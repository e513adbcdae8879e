"""Benchmark: `themescope ingest` as a whole process against ffmpeg sampling one frame every 2 s.

Generates (once, cached in bench-out/) 3-minute 1920x1080 30 fps H.264 videos with a
keyframe every 2 s and every 10 s, then times, on the same file in the same run:

- ``themescope ingest VIDEO --out RUN --force --ocr off`` as a subprocess (start-up
  included; ffmpeg reads no on-screen text either);
- ``ffmpeg -i VIDEO -vf fps=1/2,scale=400:-2 out/%05d.jpg`` with the ffmpeg binary of
  imageio-ffmpeg (it decodes every frame);
- the frame sampler alone, in this process (PyAVFrameSource, every 2 s, 360 px high).

Each is run ``--repeats`` times (default 3) and the median is printed, with the ratio
ffmpeg / themescope (above 1 means themescope is faster), and the load average before
and after: wall times only compare on an otherwise idle machine, CPU times hold better.

Usage (imageio-ffmpeg comes with ``pip install -e ".[bench]"``):
    python benchmarks/bench_ingest.py [--out bench-out] [--repeats 3] [--minutes 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _median_time(run, repeats: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall-clock and CPU seconds of ``repeats`` calls of ``run``."""
    walls, cpus = [], []
    for _ in range(repeats):
        cpu0, start = _cpu_s(), time.perf_counter()
        run()
        walls.append(time.perf_counter() - start)
        cpus.append(_cpu_s() - cpu0)
    return statistics.median(walls), statistics.median(cpus)


def make_videos(out: Path, minutes: float) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT / "src"))
    from themescope.synthetic import generate_news_video

    videos = {}
    for keyframe_every_s in (2, 10):
        name = f"bench_{int(minutes * 60)}s_1080p30_kf{keyframe_every_s}s"
        path = out / f"{name}.mp4"
        if not path.exists():
            print(f"generating {path.name} (once; cached) ...", flush=True)
            start = time.perf_counter()
            generate_news_video(
                out,
                lang="en",
                duration_s=minutes * 60,
                n_themes=4,
                seed=0,
                width=1920,
                height=1080,
                fps=30,
                keyframe_every_s=keyframe_every_s,
                # About 3 Mbit/s with B-frames and CABAC, like broadcast news; heavier
                # noise makes x264 spend minutes on grain no real video has.
                noise=2,
                preset="superfast",
                name=name,
            )
            print(f"  {time.perf_counter() - start:.1f} s", flush=True)
        videos[f"keyframe every {keyframe_every_s} s"] = path
    return videos


def time_ffmpeg(video: Path, out: Path, repeats: int) -> tuple[float, float]:
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    frames_dir = out / "ffmpeg_frames"

    def run() -> None:
        shutil.rmtree(frames_dir, ignore_errors=True)
        frames_dir.mkdir(parents=True)
        subprocess.run(
            [
                exe,
                "-v",
                "error",
                "-y",
                "-i",
                str(video),
                "-vf",
                "fps=1/2,scale=400:-2",
                str(frames_dir / "%05d.jpg"),
            ],
            check=True,
        )

    return _median_time(run, repeats)


def time_ingest(video: Path, out: Path, repeats: int) -> tuple[float, float] | None:
    cmd = [sys.executable, "-c", "from themescope._cli import main; main()"]
    probe = subprocess.run([*cmd, "ingest", "--help"], env=_env(), capture_output=True)
    if probe.returncode != 0:
        print("  (themescope ingest is not available yet; skipped)", flush=True)
        return None
    run_dir = out / "ingest_run"

    def run() -> None:
        subprocess.run(
            [
                *cmd,
                "--quiet",
                "ingest",
                str(video),
                "--out",
                str(run_dir),
                "--force",
                "--ocr",
                "off",
            ],
            env=_env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    return _median_time(run, repeats)


def time_sampler(video: Path, repeats: int) -> tuple[tuple[float, float], int]:
    sys.path.insert(0, str(ROOT / "src"))
    from themescope.media.frames import PyAVFrameSource

    n_frames = 0

    def run() -> None:
        nonlocal n_frames
        with PyAVFrameSource(video, every_s=2.0, height=360) as source:
            n_frames = sum(1 for _ in source)

    return _median_time(run, repeats), n_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--no-ingest", action="store_true", help="Skip the ingest subprocess.")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    videos = make_videos(args.out, args.minutes)
    print(f"cpu cores: {os.cpu_count()}; median of {args.repeats} runs each", flush=True)
    load_before = os.getloadavg()
    rows = []
    for label, video in videos.items():
        print(f"timing {video.name} ...", flush=True)
        ffmpeg_t = time_ffmpeg(video, args.out, args.repeats)
        ingest_t = None if args.no_ingest else time_ingest(video, args.out, args.repeats)
        sampler_t, n_frames = time_sampler(video, args.repeats)
        rows.append((label, n_frames, ffmpeg_t, ingest_t, sampler_t))

    header = (
        f"{f'{args.minutes:g} min 1080p30 H.264':<22} {'frames':>6} | {'ffmpeg':>13} | "
        f"{'ingest':>13} {'ratio':>11} | {'sampler':>13} {'ratio':>11}"
    )
    load_after = os.getloadavg()
    print()
    before, after = (" ".join(f"{x:.1f}" for x in load) for load in (load_before, load_after))
    print(f"load average (1, 5, 15 min) before: {before}; after: {after}")
    print("seconds as wall/CPU; ratio = ffmpeg / themescope as wall, CPU (above 1: faster)")
    print(header)
    print("-" * len(header))

    def pair(t: tuple[float, float] | None) -> str:
        return f"{t[0]:6.2f}/{t[1]:6.2f}" if t else f"{'-':>13}"

    def ratio(a: tuple[float, float], b: tuple[float, float] | None) -> str:
        return f"{a[0] / b[0]:4.1f}x,{a[1] / b[1]:4.1f}x" if b else f"{'-':>11}"

    for label, n_frames, ffmpeg_t, ingest_t, sampler_t in rows:
        print(
            f"{label:<22} {n_frames:>6} | {pair(ffmpeg_t)} | {pair(ingest_t)} "
            f"{ratio(ffmpeg_t, ingest_t)} | {pair(sampler_t)} {ratio(ffmpeg_t, sampler_t)}"
        )


if __name__ == "__main__":
    main()
