"""The generated news-like benchmark videos, shared by the benchmarks and cached in one place."""

from __future__ import annotations

import time
from pathlib import Path

VIDEOS = {
    "4min": {"lang": "en", "duration_s": 240.0},
    "13min": {"lang": "zh", "duration_s": 780.0},
}
"""The sizes of the paper's US (≈120 frames) and Chinese (≈380 frames) videos."""


def news_video(out: Path, name: str) -> tuple[Path, Path, Path]:
    """Generate the 960×540 video ``name`` once under ``out``; return (video, subtitles, truth)."""
    from themescope.synthetic import generate_news_video

    spec = VIDEOS[name]
    folder = out / f"video-{name}"
    video = folder / f"news_{spec['lang']}.mp4"
    if not video.is_file():
        generate_news_video(
            folder,
            lang=str(spec["lang"]),
            duration_s=float(spec["duration_s"]),
            n_themes=4,
            seed=0,
            width=960,
            height=540,
            fps=10,
        )
    return video, video.with_suffix(".srt"), video.with_suffix(".truth.csv")


def two_group_corpus(folder: Path, per_group: int, minutes: float) -> Path:
    """Generate the two-group 960×540 corpus in ``folder`` once; return its corpus.csv."""
    from themescope.synthetic import generate_corpus

    manifest = folder / "corpus.csv"
    if not manifest.is_file():
        started = time.perf_counter()
        generate_corpus(
            folder, n_per_group=per_group, duration_s=60.0 * minutes, width=960, height=540, fps=10
        )
        print(f"generated {2 * per_group} videos in {time.perf_counter() - started:.0f} s")
    return manifest
