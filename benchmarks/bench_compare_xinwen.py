"""Benchmark: from what similarity do a Chinese and an English phrase say the same thing?

Over aligned windows of ``--window`` cues of two Xinwen Lianbo transcripts
(``<date>.zh.srt`` and its English translation ``<date>.en.srt``, the same timings),
a Chinese window's phrases against the phrases of its own English translation (they
mostly have a counterpart there) and against those of an English window far away
(they mostly do not). For the baseline rule (raw cosine, from 0.85) and the one
compare uses (phrases centred per run, Chinese also through its gloss): the share of
phrases found in the translation (TPR) and in the far window (FPR) at thresholds, and
the threshold with the best TPR - FPR (Youden's J): ``SAME_MEANING_SIMILARITY``.
The joint comparison's cases are in ``bench_compare_joint.py``.

Usage::

    python benchmarks/bench_compare_xinwen.py [--window 6] [--windows 80]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

BASELINE_SAME_PHRASE = 0.85
"""The threshold compare used before (raw cosine, no gloss)."""
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.85)


# -- the phrase threshold on aligned windows ------------------------------------------------


def read_cues(path: Path) -> list[str]:
    """The text of every cue of an SRT file, in order."""
    out = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig")):
        lines = block.strip().splitlines()
        if len(lines) >= 3:
            out.append(" ".join(lines[2:]).strip())
    return out


def phrase_threshold(data: Path, dates: list[str], window: int, n_windows: int) -> None:
    """Print TPR/FPR of "the other side says this too" for the baseline and the new rule."""
    from themescope.embedding import load_embedder
    from themescope.themes.candidates import extract
    from themescope.themes.gloss import make_glosser
    from themescope.themes.phrase_match import SAME_MEANING_SIMILARITY, embed_phrases
    from themescope.themes.phrase_match import phrase_similarity as similarity

    embedder, glosser = load_embedder(None), make_glosser("en")
    assert glosser is not None
    rng = np.random.default_rng(0)
    scores: dict[str, tuple[list[float], list[float]]] = {
        "baseline": ([], []),
        "centred": ([], []),
        "centred+gloss": ([], []),
    }
    for date in dates:
        zh, en = (read_cues(data / f"{date}.{lang}.srt") for lang in ("zh", "en"))
        assert len(zh) == len(en), f"{date}: the transcripts are not aligned"
        windows = []
        for start in range(0, min(len(zh), n_windows * window) - window + 1, window):
            cz = extract(zh[start : start + window], "zh", set())
            ce = extract(en[start : start + window], "en", set())
            windows.append(([cz.surface(k) for k in cz.counts], [ce.surface(k) for k in ce.counts]))
        windows = [w for w in windows if w[0] and w[1]]
        for i, (zh_phrases, en_phrases) in enumerate(windows):
            # A compared run holds a few themes of about ten phrases, centred together:
            # here window i, a far window j, and two more, on each side.
            far = int(rng.choice([j for j in range(len(windows)) if abs(j - i) > 10]))
            rest = [j for j in range(len(windows)) if j not in (i, far)]
            picks = [i, far, *rng.choice(rest, size=2, replace=False).tolist()]
            far_phrases = windows[far][1]
            # the baseline: the embedder's own vectors, cosine, no gloss
            z, e, f = (
                np.asarray(embedder.embed(x), np.float64)
                for x in (zh_phrases, en_phrases, far_phrases)
            )
            scores["baseline"][0].extend((z @ e.T).max(axis=1))
            scores["baseline"][1].extend((z @ f.T).max(axis=1))
            for name, gloss in (("centred", False), ("centred+gloss", True)):
                zh_side = embed_phrases(
                    [_group(windows[j][0], glosser if gloss else None) for j in picks], embedder
                )
                en_side = embed_phrases([_group(windows[j][1], None) for j in picks], embedder)
                mine, same, other = zh_side[0], en_side[0], en_side[1]
                assert mine and same and other
                scores[name][0].extend(similarity(mine, same).max(axis=1))
                scores[name][1].extend(similarity(mine, other).max(axis=1))
    n = len(scores["baseline"][0])
    print(f"\n== phrase threshold: {n} Chinese phrases of {len(dates)} broadcasts, windows of")
    print(f"   {window} cues; TPR: has a counterpart in its translation; FPR: in a far window")
    header = f"{'rule':<15}" + "".join(f"{t:>7}" for t in THRESHOLDS) + "   best J (threshold)"
    print(header)
    for name, (pos, neg) in scores.items():
        p, q = np.asarray(pos), np.asarray(neg)
        grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
        youden = [(float(np.mean(p >= t) - np.mean(q >= t)), float(t)) for t in grid]
        best_j, best_t = max(youden)
        tpr = "".join(f"{np.mean(p >= t):>7.2f}" for t in THRESHOLDS)
        fpr = "".join(f"{np.mean(q >= t):>7.2f}" for t in THRESHOLDS)
        print(f"{name + ' TPR':<15}{tpr}   {best_j:.2f} ({best_t:.2f})")
        print(f"{name + ' FPR':<15}{fpr}")
    p, q = (np.asarray(x) for x in scores["baseline"])
    print(
        f"baseline rule (raw cosine >= {BASELINE_SAME_PHRASE}): TPR "
        f"{np.mean(p >= BASELINE_SAME_PHRASE):.2f}, FPR {np.mean(q >= BASELINE_SAME_PHRASE):.2f}"
    )
    p, q = (np.asarray(x) for x in scores["centred+gloss"])
    print(
        f"new rule (centred + gloss >= {SAME_MEANING_SIMILARITY}): TPR "
        f"{np.mean(p >= SAME_MEANING_SIMILARITY):.2f}, "
        f"FPR {np.mean(q >= SAME_MEANING_SIMILARITY):.2f}"
    )


def _group(phrases: list[str], glosser: Any) -> tuple[list[str], np.ndarray, list[str | None]]:
    glosses = [glosser.gloss(p) if glosser is not None else None for p in phrases]
    return phrases, np.ones(len(phrases)), glosses


# -- theme pairs -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/xinwen-lianbo-zh-en"))
    parser.add_argument("--window", type=int, default=6, help="cues per aligned window")
    parser.add_argument("--windows", type=int, default=80, help="windows per broadcast")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.2f} (1 min) at start")
    dates = sorted({p.name.split(".")[0] for p in args.data.glob("*.zh.srt")})
    phrase_threshold(args.data, dates[:2], args.window, args.windows)


if __name__ == "__main__":
    sys.exit(main())
