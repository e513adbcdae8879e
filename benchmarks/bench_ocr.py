"""Benchmark of on-screen text reading (OCR) beside ``themescope summarize`` on the same videos.

For each generated 960×540 video (4 and 13 minutes, cached under ``bench-out/``, with a
headline per story and a channel bug on screen) it times ``themescope summarize`` end to end
as a separate process (the baseline), then samples the frames as ingest does (every 2 s,
360 px high) and times :meth:`OnScreenTextReader.read` on them (model loading included),
printing OCR seconds (wall and CPU) as a share of the baseline, frames detected vs reused,
lines recognised vs reused, and the text against the generator's truth: stories whose
headline was read exactly in at least one frame, and frames whose text is exactly their
headline. Target on 2 CPU cores: OCR adds at most 25 % to summarize.

With ``--real DIR`` it also reads every ``*.mp4`` in DIR (e.g. ``../shared/data/cais-tv-en``)
and prints what it read, how long it took and the boilerplate it found.

Usage::

    python benchmarks/bench_ocr.py [--out bench-out] [--videos 4min,13min] [--real DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from _videos import news_video

TARGET_SHARE = 0.25


def frames_of(video: Path) -> tuple[list, list[float], float]:
    """Frames as ingest samples them (every 2 s, 360 px high), and the seconds it took."""
    from themescope.media.frames import PyAVFrameSource

    started = time.perf_counter()
    with PyAVFrameSource(video, every_s=2.0, height=360) as source:
        frames = list(source)
    return [f.image for f in frames], [f.time_s for f in frames], time.perf_counter() - started


def read(images: list, times: list[float]):  # type: ignore[no-untyped-def]
    """Read on-screen text with a fresh reader; return the result and its CPU seconds."""
    from themescope.media.ocr import OnScreenTextReader

    cpu = time.process_time()
    found = OnScreenTextReader().read(images, times)
    return found, time.process_time() - cpu


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def accuracy(found, truth_path: Path) -> tuple[int, int, float]:  # type: ignore[no-untyped-def]
    """(stories whose headline was read, stories, share of frames read exactly)."""
    from themescope.synthetic import read_headlines

    per_second = read_headlines(truth_path)
    story_of, story, previous = [], -1, None
    for headline in per_second:
        if headline != previous:
            story, previous = story + 1, headline
        story_of.append(story)
    read_ok: dict[int, bool] = {}
    exact = 0
    for frame in found.frames:
        second = min(int(frame.time_s), len(per_second) - 1)
        ok = squash(frame.text) == squash(per_second[second])
        read_ok[story_of[second]] = read_ok.get(story_of[second], False) or ok
        exact += ok
    return sum(read_ok.values()), story + 1, exact / max(1, len(found.frames))


def synthetic(out: Path, names: list[str]) -> None:
    print(
        f"{'video':<7}{'frames':>7}{'summarize s':>12}{'OCR s':>7}{'OCR cpu s':>10}"
        f"{'share':>7}{'target':>7}{'detected':>9}{'reused':>7}{'lines read':>11}"
        f"{'reused':>7}{'stories':>9}{'frames ok':>10}{'load':>6}"
    )
    for name in names:
        video, subtitles, truth = news_video(out, name)
        run = out / f"ocr-baseline-{name}"
        command = ["themescope", "-q", "summarize", str(video), "--subtitles", str(subtitles)]
        command += ["--out", str(run), "--force"]
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        baseline = time.perf_counter() - started
        images, times, _ = frames_of(video)
        found, cpu = read(images, times)
        read_ok, n_stories, frames_ok = accuracy(found, truth)
        share = found.seconds / baseline
        print(
            f"{name:<7}{len(images):>7}{baseline:>12.1f}{found.seconds:>7.1f}{cpu:>10.1f}"
            f"{share:>7.0%}{TARGET_SHARE:>7.0%}{found.n_frames_ocred:>9}{found.n_frames_reused:>7}"
            f"{found.n_lines_recognized:>11}{found.n_lines_reused:>7}"
            f"{f'{read_ok}/{n_stories}':>9}{frames_ok:>10.0%}{os.getloadavg()[0]:>6.1f}",
            flush=True,
        )
        print(f"  boilerplate: {[b.text for b in found.boilerplate]}")


def real(folder: Path) -> None:
    total_s = total_frames = 0.0
    for video in sorted(folder.glob("*.mp4")):
        images, times, _ = frames_of(video)
        found, cpu = read(images, times)
        total_s += found.seconds
        total_frames += len(images)
        print(
            f"{video.name}: {len(images)} frames in {found.seconds:.1f} s (cpu {cpu:.1f} s; "
            f"{found.n_frames_ocred} detected, {found.n_frames_reused} reused, "
            f"{found.n_lines_recognized} lines read, {found.n_lines_reused} reused; "
            f"load {os.getloadavg()[0]:.1f})"
        )
        print(f"  boilerplate: {[b.text for b in found.boilerplate]}")
        shown = []
        for frame in found.frames:
            if frame.text and frame.text not in shown:
                shown.append(frame.text)
        for text in shown[:4]:
            print(f"  {text!r}")
    if total_frames:
        print(f"real clips: {total_frames:.0f} frames in {total_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--videos", default="4min,13min")
    parser.add_argument("--real", type=Path, default=None)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} CPU cores; python {sys.version.split()[0]}")
    if args.videos:
        synthetic(args.out, args.videos.split(","))
    if args.real is not None:
        real(args.real)


if __name__ == "__main__":
    main()
