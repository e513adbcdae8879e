"""Benchmark on real bilingual news text: do the Chinese and English runs share every theme?

Cuts the first ``--minutes`` of one Xinwen Lianbo transcript
(``../shared/data/xinwen-lianbo-zh-en/<date>.zh.srt``) and its English translation
(``<date>.en.srt``, the same timings) over one generated 640×360 video of the same
duration (``themescope.synthetic``; its visual segments do not follow the stories,
so the two runs differ only in their text), runs ``themescope summarize`` on each,
then ``themescope compare RUN_ZH RUN_EN``, and prints k of each run, the joint
compare's themes (each run's share of airtime, shared or own, what both say) and each
run's labels and top phrases with glosses.

The Chinese and English runs of the same content must come out shared: all their
airtime in shared themes.

Usage::

    python benchmarks/bench_real_xinwen.py [--date 20250809] [--minutes 10] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from _subtitles import cut_srt
from bench_compare_joint import compare, describe


def summarize(
    video: Path, srt: Path, run: Path, epochs: int | None, extra: Sequence[str] = ()
) -> float:
    """Run ``themescope summarize`` (default settings unless ``epochs`` or ``extra`` options);
    return its wall time."""
    command = ["themescope", "-q", "summarize", str(video), "--subtitles", str(srt)]
    command += ["--out", str(run), "--force", *extra]
    if epochs is not None:
        command += ["--epochs", str(epochs)]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def frame_agreement(runs: dict[str, Path]) -> float:
    """ARI between the two runs' themes of the same frames (the video is shared)."""
    import pyarrow.parquet as pq
    from sklearn.metrics import adjusted_rand_score

    zh, en = (pq.read_table(runs[x] / "frames.parquet", columns=["theme"]) for x in ("zh", "en"))
    return float(adjusted_rand_score(zh["theme"].to_pylist(), en["theme"].to_pylist()))


def _phrase(p: dict) -> str:
    return f"{p['text']} ({p['gloss']})" if p.get("gloss") else p["text"]


def _label(theme: dict) -> str:
    gloss = theme.get("label_gloss")
    return theme["label"] + (f" ({gloss})" if gloss else "")


def main() -> None:
    from themescope.synthetic import generate_news_video

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/xinwen-lianbo-zh-en"))
    parser.add_argument("--date", default="20250809")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    # Training dominates on a busy 2-core machine; fewer epochs keep the check short.
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--reuse", action="store_true", help="reuse finished runs")
    args = parser.parse_args()
    duration_s = round(args.minutes * 60)

    print(f"machine: {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.2f} (1 min) at start")
    folder = args.out / f"real-xinwen-{args.date}-{duration_s}s"
    folder.mkdir(parents=True, exist_ok=True)
    video = folder / "video.mp4"
    if not video.is_file():
        generate_news_video(folder, lang="en", duration_s=duration_s, seed=0, name="video")
    srts = {}
    for lang in ("zh", "en"):
        srts[lang] = folder / f"{args.date}.{lang}.srt"
        n = cut_srt(args.data / f"{args.date}.{lang}.srt", srts[lang], duration_s)
        print(f"{lang}: {n} cues in the first {duration_s} s")

    runs = {lang: folder / f"run-{lang}" for lang in ("zh", "en")}
    walls = {
        lang: 0.0
        if args.reuse and (runs[lang] / "themes.json").is_file()
        # the generated pictures' on-screen words belong to no broadcast: not read
        else summarize(video, srts[lang], runs[lang], args.epochs, ["--ocr", "off"])
        for lang in ("zh", "en")
    }
    themes = {lang: json.loads((runs[lang] / "themes.json").read_text()) for lang in runs}
    print(f"\n{'run':<4}{'k':>3}{'summarize s':>13}")
    for lang in ("zh", "en"):
        print(f"{lang:<4}{themes[lang]['k']:>3}{walls[lang]:>13.1f}")
    print(f"ARI of the zh and en runs' frame themes: {frame_agreement(runs):.2f}")
    document, wall = compare([runs["zh"], runs["en"]], folder / "compare", [])
    describe(f"{args.date} zh vs its English", document, wall)
    for lang in ("zh", "en"):
        print(f"\n-- {lang} run")
        for theme in themes[lang]["themes"]:
            print(f"theme {theme['id']} ({theme['n_frames']} frames): {_label(theme)!r}")
            print("  " + " · ".join(_phrase(p) for p in theme["phrases"][:5]))
            if theme.get("people"):
                print("  people: " + ", ".join(theme["people"]))
        common = themes[lang].get("common", [])
        print("common: " + (" · ".join(_phrase(p) for p in common) or "-"))
        for warning in themes[lang].get("warnings", []):
            print(f"warning: {warning}")
    print(f"\nreports: {runs['zh'] / 'report.html'} {runs['en'] / 'report.html'}")
    print(f"compare: {folder / 'compare'}")


if __name__ == "__main__":
    sys.exit(main())
