"""Benchmark on real broadcast TV: do the themes follow the programme type better than pixels?

Joins the 11 CAIS clips (``../shared/data/cais-tv-en``: weather, sports, talk show) into
one ~3.9-minute broadcast with the programme types interleaved (re-encoded with PyAV to
720×480 at 15 fps; the verbatim ``*_0.vtt`` captions shifted and joined into one SRT),
writes the truth (programme type and clip of every second), runs
``themescope summarize`` with the default settings, and prints:

- NMI and ARI of the themes against the programme type, beside K-means on raw pixels
  (16×9 RGB thumbnails of the same frames, PCA to 20 dimensions, the same k, seed 0), on
  all frames (the run's black or blank frames, theme -1, count as one group of their own)
  and on the frames that are not black (pixels clustered on those frames only, too);
- how much of the transcript falls on black frames (words that are in no theme);
- each theme's label, top five phrases, people and on-screen text, the run's common
  phrases, and the total time.

The real material is for local measurement only; nothing of it goes into the repository.

Usage::

    python benchmarks/bench_real_cais.py [--data ../shared/data/cais-tv-en] [--out bench-out]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from _subtitles import read_cues, srt_time

# Weather, sports and talk show interleaved so that no two neighbours share a clip.
ORDER = (
    "v13_weather",
    "v1_sports",
    "v16_weather",
    "v10_social",
    "v17_weather",
    "v3_sports",
    "v18_weather",
    "v11_social",
    "v19_weather",
    "v12_social",
    "v20_weather",
)
WIDTH, HEIGHT, FPS = 720, 480, 15
THUMB = (16, 9)
PCA_DIMS = 20
SEED = 0
DARK = 0.06
"""Mean RGB (0..1) of a thumbnail below which a frame counts as black."""


def read_vtt(path: Path) -> list[tuple[float, float, str]]:
    """The (start_s, end_s, text) cues of a WebVTT file (tags and settings dropped)."""
    cues: list[tuple[float, float, str]] = []
    for start, end, lines in read_cues(path):
        text = " ".join(re.sub(r"<[^>]+>", "", x).strip() for x in lines)
        if text.strip():
            cues.append((start, end, text.strip()))
    return cues


def join_broadcast(data: Path, folder: Path) -> tuple[Path, Path, Path]:
    """Write broadcast.mp4, broadcast.srt and broadcast.truth.csv under ``folder`` once."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    video, srt, truth = (folder / f"broadcast.{ext}" for ext in ("mp4", "srt", "truth.csv"))
    if video.is_file() and srt.is_file() and truth.is_file():
        return video, srt, truth
    cues: list[tuple[float, float, str]] = []
    seconds: list[tuple[int, str, str]] = []
    offset_frames = 0
    partial = folder / ".broadcast.partial.mp4"
    with av.open(str(partial), mode="w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.options = {"preset": "veryfast", "crf": "23"}
        for clip in ORDER:
            start_s = offset_frames / FPS
            n_out = 0
            with av.open(str(data / f"{clip}.mp4")) as source:
                vstream = source.streams.video[0]
                duration_s = float(vstream.duration * vstream.time_base)
                held = None
                for frame in source.decode(vstream):
                    t = float(frame.pts * vstream.time_base)
                    # Emit every output tick that this decoded frame is the latest for.
                    while held is not None and n_out / FPS < t:
                        out.mux(stream.encode(_out_frame(held, offset_frames + n_out)))
                        n_out += 1
                    held = frame
                while held is not None and n_out / FPS < duration_s:
                    out.mux(stream.encode(_out_frame(held, offset_frames + n_out)))
                    n_out += 1
            offset_frames += n_out
            kind = clip.split("_")[1]
            for second in range(int(np.ceil(start_s)), int(np.ceil(offset_frames / FPS))):
                seconds.append((second, kind, clip))
            for cue_start, cue_end, text in read_vtt(data / f"{clip}_0.vtt"):
                end = min(cue_end, n_out / FPS)
                if cue_start < end:
                    cues.append((start_s + cue_start, start_s + end, text))
        out.mux(stream.encode(None))
    os.replace(partial, video)
    srt.write_text(
        "\n".join(
            f"{i}\n{srt_time(a)} --> {srt_time(b)}\n{text}\n"
            for i, (a, b, text) in enumerate(cues, 1)
        ),
        encoding="utf-8",
    )
    with truth.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["second", "programme", "clip"])
        writer.writerows(seconds)
    return video, srt, truth


def _out_frame(frame, index: int):  # type: ignore[no-untyped-def]
    import av

    rgb = frame.to_ndarray(format="rgb24", width=WIDTH, height=HEIGHT)
    out = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    out.pts = index
    out.time_base = Fraction(1, FPS)
    return out


def read_truth(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Programme type and clip of every second."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return np.array([r["programme"] for r in rows]), np.array([r["clip"] for r in rows])


def thumbnails(video: Path, times_s: np.ndarray) -> np.ndarray:
    """16×9 RGB thumbnails (flattened, 0..1) of the frames nearest ``times_s``."""
    import av

    wanted = list(times_s)
    rows: list[np.ndarray] = []
    with av.open(str(video)) as source:
        vstream = source.streams.video[0]
        for frame in source.decode(vstream):
            t = float(frame.pts * vstream.time_base)
            while wanted and t + 0.5 / FPS >= wanted[0]:
                small = frame.to_ndarray(format="rgb24", width=THUMB[0], height=THUMB[1])
                rows.append(small.reshape(-1) / 255.0)
                wanted.pop(0)
    while wanted:  # times past the last frame take the last one
        rows.append(rows[-1])
        wanted.pop(0)
    return np.stack(rows)


def pixel_kmeans(features: np.ndarray, k: int) -> np.ndarray:
    """K-means (seed 0) on the thumbnails reduced by PCA to 20 dimensions."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    reduced = PCA(n_components=min(PCA_DIMS, *features.shape), random_state=SEED).fit_transform(
        features
    )
    return KMeans(n_clusters=k, n_init=10, random_state=SEED).fit_predict(reduced)


def _phrase(p: dict) -> str:
    return f"{p['text']} ({p['gloss']})" if p.get("gloss") else p["text"]


def _on_screen(theme: dict, frames: dict, limit: int = 4) -> list[str]:
    quotes = [q for p in theme["phrases"] for q in p["evidence"].get("on_screen", [])]
    if not quotes and "ocr_text" in frames:
        counts: dict[str, int] = {}
        for fid in theme["frames"]:
            text = (frames["ocr_text"][fid] or "").strip()
            if text:
                counts[text] = counts.get(text, 0) + 1
        quotes = sorted(counts, key=counts.__getitem__, reverse=True)
    return list(dict.fromkeys(quotes))[:limit]


def main() -> None:
    import pyarrow.parquet as pq
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/cais-tv-en"))
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--reuse", action="store_true", help="reuse a finished run")
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.2f} (1 min) at start")
    started = time.perf_counter()
    video, srt, truth_path = join_broadcast(args.data, args.out / "real-cais")
    join_s = time.perf_counter() - started
    programme, clip = read_truth(truth_path)
    print(f"broadcast: {video} ({len(programme)} s, {len(ORDER)} clips), joined in {join_s:.1f} s")

    run = args.out / "real-cais" / "run"
    command = ["themescope", "-q", "summarize", str(video), "--subtitles", str(srt)]
    command += ["--out", str(run), "--force"]
    started = time.perf_counter()
    if not (args.reuse and (run / "themes.json").is_file()):
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summarize_s = time.perf_counter() - started
    load = os.getloadavg()[0]

    manifest = json.loads((run / "manifest.json").read_text())
    themes = json.loads((run / "themes.json").read_text())
    columns = pq.read_schema(run / "frames.parquet").names
    frames = pq.read_table(run / "frames.parquet").to_pydict()
    times = np.asarray(frames["time_s"], dtype=float)
    found = np.asarray(frames["theme"])
    seconds = np.minimum(times.astype(int), len(programme) - 1)
    k = int(themes["k"])
    thumbs = thumbnails(video, times)
    pixels = pixel_kmeans(thumbs, k)
    # The clips open and end on black (captions go on): those frames show no programme.
    shown = thumbs.mean(axis=1) >= DARK
    pixels_shown = np.full(len(shown), -1)
    pixels_shown[shown] = pixel_kmeans(thumbs[shown], k)

    print(
        f"\n{'clustering':<40}{'k':>3}{'frames':>10}"
        f"{'NMI type':>10}{'ARI type':>10}{'NMI clip':>10}"
    )
    rows = [
        ("all", "themescope themes (blank = -1)", found),
        ("all", "K-means raw pixels (16x9, PCA20)", pixels),
        ("not black", "themescope themes", found),
        ("not black", "K-means raw pixels, all frames", pixels),
        ("not black", "K-means raw pixels, not-black frames", pixels_shown),
    ]
    for subset, name, labels in rows:
        mask = np.ones_like(shown) if subset == "all" else shown
        kind, clips, found_k = programme[seconds][mask], clip[seconds][mask], labels[mask]
        row = f"{name:<40}{k:>3}{subset:>10}"
        row += f"{normalized_mutual_info_score(kind, found_k):>10.2f}"
        row += f"{adjusted_rand_score(kind, found_k):>10.2f}"
        row += f"{normalized_mutual_info_score(clips, found_k):>10.2f}"
        print(row)
    blank = themes.get("blank")
    print(
        f"black frames (mean RGB < {DARK}): {int((~shown).sum())} of {len(shown)}; "
        f"the run's blank frames: {blank['n_frames'] if blank else 'not detected (older run)'}"
    )
    texts = [t or "" for t in frames["text"]]
    n_words = sum(len(t.split()) for t in texts)
    on_black = sum(len(t.split()) for t, s in zip(texts, shown, strict=True) if not s)
    print(f"transcript words on black frames (in no theme): {on_black} of {n_words}")
    print("baseline in issue 9: themes NMI 0.30, raw pixels 0.36")

    print(f"\n{'theme':<6}{'frames':>7}  programme mix; black frames")
    groups = [(str(t["id"]), t["frames"]) for t in themes["themes"]]
    if blank:
        groups.append(("blank", blank["frames"]))
    for name, ids_list in groups:
        ids = np.asarray(ids_list, dtype=int)
        kinds, counts = np.unique(programme[seconds[ids]], return_counts=True)
        order = np.argsort(-counts)
        mix = ", ".join(f"{kinds[i]} {counts[i]}" for i in order)
        n_black = int((~shown[ids]).sum())
        print(f"{name:<6}{len(ids):>7}  {mix}; black {n_black}")

    for theme in themes["themes"]:
        label = theme["label"] + (f" ({theme['label_gloss']})" if theme.get("label_gloss") else "")
        print(f"\ntheme {theme['id']}: {label!r}")
        print("  phrases:   " + " · ".join(_phrase(p) for p in theme["phrases"][:5]))
        print("  people:    " + (", ".join(theme.get("people", [])) or "-"))
        screen = _on_screen(theme, frames)
        print("  on screen: " + (" | ".join(" / ".join(q.split("\n")) for q in screen) or "-"))
    print("\ncommon:    " + (" · ".join(_phrase(p) for p in themes.get("common", [])) or "-"))
    print("ocr in frames.parquet: " + ("yes" if "ocr_text" in columns else "no (no ocr_text)"))
    for warning in themes.get("warnings", []):
        print(f"warning:   {warning}")
    stages = " ".join(f"{s} {v['seconds']:.1f}" for s, v in manifest["stages"].items())
    print(f"\nsummarize total {summarize_s:.1f} s (stages s: {stages}); load {load:.2f}")
    print(f"report: {run / 'report.html'}")


if __name__ == "__main__":
    sys.exit(main())
