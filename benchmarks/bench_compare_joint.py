"""Benchmark: does the joint ``themescope compare`` find what two reports share, and only that?

Each case ingests two runs (``themescope ingest``), compares them jointly
(``themescope compare RUN_A RUN_B``, timed: the compare time beyond the runs) and
prints the share of each run's airtime in shared themes, every joint theme with its
shares, label, what both say and what only one says (glossed), against the truth:

- ``generator``: the generated news video in English with stories 0-2 and in Chinese
  with stories 1-3 (``themescope.synthetic``): stories 1 and 2 must be shared (their
  frames of both runs mostly in one shared theme), 0 and 3 each side's own;
- ``xinwen``: Xinwen Lianbo of 2025-08-09 in Chinese against 2025-08-10 in English
  (``../shared/data/xinwen-lianbo-zh-en``, the first ``--minutes`` of each transcript
  over a generated video of one look, so the pictures carry nothing): stories
  that recur on both days must come out shared, the others each side's own (judged
  by eye from the phrases printed); and, as the control, 08-09 in Chinese against
  its own English translation: everything shared;
- ``cais``: CAIS clips (``../shared/data/cais-tv-en``), three joined per side: weather
  against other weather clips (shared) and against sports clips (not shared).

Usage::

    python benchmarks/bench_compare_joint.py [--cases generator,xinwen,cais] [--minutes 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np

from _subtitles import cut_srt


def ingest(video: Path, subtitles: Path, run: Path, extra: list[str]) -> None:
    """Ingest one run (skipped by themescope when current)."""
    command = ["themescope", "-q", "ingest", str(video), "--subtitles", str(subtitles)]
    subprocess.run([*command, "--out", str(run), *extra], check=True, stdout=subprocess.DEVNULL)


def compare(runs: list[Path], out: Path, extra: list[str]) -> tuple[dict, float]:
    """Compare ``runs`` jointly from scratch; return compare.json and the wall time."""
    started = time.perf_counter()
    command = ["themescope", "-q", "compare", *map(str, runs), "--out", str(out), "--force"]
    subprocess.run([*command, *extra], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    return json.loads((out / "compare.json").read_text(encoding="utf-8")), wall


def _glossed(phrase: dict) -> str:
    return f"{phrase['text']} ({phrase['gloss']})" if phrase.get("gloss") else phrase["text"]


def shared_airtime(document: dict) -> dict[str, float]:
    """Each run's share of its airtime in shared themes."""
    names = [run["name"] for run in document["runs"]]
    return {
        name: sum(t["shares"][name] for t in document["themes"] if t["shared"]) for name in names
    }


def describe(title: str, document: dict, wall: float) -> None:
    names = [run["name"] for run in document["runs"]]
    airtime = shared_airtime(document)
    print(f"\n== {title}: compare {wall:.1f} s; load {os.getloadavg()[0]:.2f}")
    print("airtime in shared themes: " + ", ".join(f"{n} {airtime[n]:.0%}" for n in names))
    for theme in document["themes"]:
        shares = " ".join(f"{n} {theme['shares'][n]:.0%}" for n in names)
        gloss = f" ({theme['label_gloss']})" if theme.get("label_gloss") else ""
        mark = "SHARED" if theme["shared"] else "own"
        print(f"  theme {theme['id']} [{mark}] {shares}: {theme['label']!r}{gloss}")
        for pair in theme["said_by_both"][:4]:
            sides = " = ".join(_glossed(p) for p in pair["phrases"].values())
            print(f"      both: {sides} ({pair['similarity']:.2f})")
        for name in names:
            said = ", ".join(_glossed(p) for p in theme["phrases"][name][:5])
            only = ", ".join(_glossed(p) for p in theme["only"][name][:4])
            print(f"      {name} says: {said or '-'} | only {name}: {only or '-'}")


def generator_case(folder: Path, extra: list[str]) -> None:
    import pyarrow.parquet as pq

    from themescope.synthetic import generate_language_pair, read_truth

    runs, truths = [], {}
    videos = generate_language_pair(folder, duration_s=120, width=320, height=180)
    for lang, video in videos.items():
        run = folder / lang
        ingest(video.video_path, video.subtitles_path, run, ["--ocr", "off"])
        runs.append(run)
        truths[lang] = read_truth(video.truth_path)
    out = folder / "compare"
    document, wall = compare(runs, out, extra)
    describe("generator: en stories 0-2 vs zh stories 1-3", document, wall)
    frames = pq.read_table(out / "frames.parquet").to_pydict()
    videos, themes = np.array(frames["video"]), np.array(frames["theme"])
    story = np.array(
        [
            truths[v][min(int(t), len(truths[v]) - 1)]
            for v, t in zip(frames["video"], frames["time_s"], strict=True)
        ]
    )
    shared = {t["id"] for t in document["themes"] if t["shared"]}
    right = 0
    for s in range(4):
        expected = "shared" if s in (1, 2) else "own"
        mine = themes[(story == s) & (themes >= 0)]
        home = int(np.bincount(mine).argmax())
        found = "shared" if home in shared else "own"
        right += found == expected
        where = ", ".join(
            f"{v} {np.mean(themes[(story == s) & (videos == v)] == home):.0%}"
            for v in ("en", "zh")
            if np.any((story == s) & (videos == v))
        )
        print(f"  story {s}: mostly theme {home} ({where}): {found}, truth {expected}")
    print(f"generator: {right} of 4 stories right")


def xinwen_case(data: Path, folder: Path, minutes: float, extra: list[str]) -> None:
    from themescope.synthetic import generate_news_video

    duration = round(minutes * 60)
    runs = {}
    for seed, (date, lang) in enumerate(
        (("20250809", "zh"), ("20250810", "en"), ("20250809", "en"))
    ):
        name = f"{date}-{lang}"
        # One look throughout: the generator's looks recur in every video it makes and
        # would pair the runs' frames by their pictures alone.
        video = generate_news_video(
            folder / f"video-{seed}",
            lang="en",
            duration_s=duration,
            n_themes=1,
            seed=seed,
            name="video",
        )
        srt = folder / f"{name}.srt"
        cut_srt(data / f"{date}.{lang}.srt", srt, duration)
        runs[name] = folder / name
        ingest(video.video_path, srt, runs[name], ["--ocr", "off"])
    for title, pair in (
        ("xinwen: 08-09 zh vs 08-10 en (recurring stories shared)", ("20250809-zh", "20250810-en")),
        ("xinwen control: 08-09 zh vs its English (all shared)", ("20250809-zh", "20250809-en")),
    ):
        document, wall = compare([runs[n] for n in pair], folder / "-".join(pair), extra)
        describe(title, document, wall)


def cais_case(data: Path, folder: Path, extra: list[str]) -> None:
    import bench_real_cais

    # A clip is 15-30 s: each side joins several, as bench_real_cais.py joins the broadcast.
    sides = {
        "weather-a": ["v13_weather", "v16_weather", "v17_weather"],
        "weather-b": ["v18_weather", "v19_weather", "v20_weather"],
        "sports": ["v1_sports", "v3_sports"],
    }
    runs = {}
    for name, clips in sides.items():
        bench_real_cais.ORDER = clips
        video, srt, _ = bench_real_cais.join_broadcast(data, folder / f"{name}-video")
        runs[name] = folder / name
        ingest(video, srt, runs[name], [])
    for title, pair in (
        ("cais: weather vs weather (shared)", ("weather-a", "weather-b")),
        ("cais: weather vs sports (not shared)", ("weather-a", "sports")),
    ):
        document, wall = compare([runs[n] for n in pair], folder / "-".join(pair), extra)
        describe(title, document, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="generator,xinwen,cais")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--minutes", type=float, default=4.0, help="of each Xinwen transcript")
    parser.add_argument("--out", type=Path, default=Path("bench-out/compare-joint"))
    parser.add_argument("--epochs", type=int, default=None, help="of the joint training")
    args = parser.parse_args()
    extra = [] if args.epochs is None else ["--epochs", str(args.epochs)]
    print(f"machine: {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.2f} (1 min) at start")
    cases = set(args.cases.split(","))
    if "generator" in cases:
        generator_case(args.out / "generator", extra)
    if "xinwen" in cases:
        xinwen_case(args.data / "xinwen-lianbo-zh-en", args.out / "xinwen", args.minutes, extra)
    if "cais" in cases:
        cais_case(args.data / "cais-tv-en", args.out / "cais", extra)


if __name__ == "__main__":
    main()
