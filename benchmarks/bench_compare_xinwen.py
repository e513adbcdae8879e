"""Benchmark: does ``themescope compare`` pair a Chinese and an English run of the same stories
by their text, and does it find what each side says that the other does not?

Real text: one Xinwen Lianbo transcript (``<date>.zh.srt``) and its English translation
(``<date>.en.srt``, the same timings), cut to the first ``--minutes`` as in
``bench_real_xinwen.py``, over generated videos of the same segments:

- video A (the generator's looks) under both transcripts: the pictures match, as in
  ``bench_real_xinwen.py``;
- video B: the same seed, so the same segments, with every story drawn in another
  story's look (``looks=(1, 2, 3, 0)``): under the English transcript, only the text
  can tell which themes are the same; the pictures point at the wrong partner.

All runs use ``--ocr off``: the generated headlines are English words of the generator's
themes, the same in every video, and would pair the themes by themselves. The frames of
every run sit at the same times, so the true pair of a Chinese theme is the English theme
holding most of its frames (Hungarian assignment on the overlap).

Printed, for the comparison on video A and on video B:

- how many themes come out shared, and how many of those are the true pairs;
- the text similarity matrix alone, now (frame text) beside the baseline of the same runs
  (the score-weighted mean of each theme's phrase vectors, which compare used before) and
  the phrases-only matrix compare falls back to without frame text:
  for each, how many rows rank the true partner first, whether the one-to-one matching
  on text alone finds the true pairs, and the margin: the smallest difference between a
  true pair's score and the best false pair's score in its row or column;
- each shared theme's difference phrases (with glosses) and what both sides say.

Before that, the threshold of "the other side says this too": over aligned windows of
``--window`` cues of two transcripts, a Chinese window's phrases against the phrases of
its own English translation (they mostly have a counterpart there) and against those of
an English window far away (they mostly do not). For the baseline rule (raw cosine,
from 0.85) and the new one (phrases centred per run, Chinese also through its gloss):
the share of phrases found in the translation (TPR) and in the far window (FPR) at
thresholds, and the threshold with the best TPR - FPR (Youden's J).

And the generator's two-language check: an English (seed 0) and a Chinese (seed 1)
generated video with the same themes, summarized and compared; a theme's true partner
is the one with the same true theme (truth.csv); the true pairs must match.

Usage::

    python benchmarks/bench_compare_xinwen.py [--date 20250809] [--minutes 10] [--epochs 10]
        [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_real_xinwen import cut_srt, frame_agreement, summarize

LOOKS_B = (1, 2, 3, 0)
"""The look of each story in video B: story k is drawn as story k + 1 is in video A."""
RUN_OPTIONS = ("--ocr", "off")
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
    from themescope.themes.compare import SAME_MEANING_SIMILARITY, embed_phrases
    from themescope.themes.compare import phrase_similarity as similarity
    from themescope.themes.gloss import make_glosser

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


def overlap_pairs(run_a: Path, run_b: Path) -> dict[int, int]:
    """Theme of A → theme of B holding most of its frames (the runs sample the same times)."""
    import pyarrow.parquet as pq
    from scipy.optimize import linear_sum_assignment

    a = pq.read_table(run_a / "frames.parquet", columns=["theme"])["theme"].to_pylist()
    b = pq.read_table(run_b / "frames.parquet", columns=["theme"])["theme"].to_pylist()
    counts = np.zeros((max(a) + 1, max(b) + 1))
    for i, j in zip(a, b, strict=True):
        counts[i, j] += 1
    rows, cols = linear_sum_assignment(-counts)
    return dict(zip(rows.tolist(), cols.tolist(), strict=True))


def truth_pairs(run_a: Path, truth_a: Path, run_b: Path, truth_b: Path) -> dict[int, int]:
    """Theme of A → theme of B whose frames are mostly of the same true theme."""
    import pyarrow.parquet as pq

    from themescope.synthetic import read_truth

    def majority(run: Path, truth_path: Path) -> dict[int, int]:
        frames = pq.read_table(run / "frames.parquet", columns=["time_s", "theme"]).to_pydict()
        truth = read_truth(truth_path)
        seconds = np.minimum(np.asarray(frames["time_s"]).astype(int), len(truth) - 1)
        found = np.asarray(frames["theme"])
        return {
            int(k): int(np.bincount(truth[seconds][found == k]).argmax()) for k in np.unique(found)
        }

    a, b = majority(run_a, truth_a), majority(run_b, truth_b)
    by_truth = {t: k for k, t in b.items()}
    return {k: by_truth[t] for k, t in a.items() if t in by_truth}


def baseline_text_matrix(run_a: Path, run_b: Path) -> np.ndarray:
    """The text matrix compare computed before: cosine of score-weighted mean phrase vectors."""
    from themescope.documents import read_themes
    from themescope.embedding import load_embedder

    embedder = load_embedder(None)

    def means(run: Path) -> np.ndarray:
        rows = []
        for theme in read_themes(run / "themes.json").themes:
            texts = [p.text for p in theme.phrases]
            weights = np.clip([p.score for p in theme.phrases], 0.0, None)
            vectors = np.asarray(embedder.embed(texts), np.float64)
            mean = (weights[:, None] * vectors).sum(axis=0) / weights.sum()
            rows.append(mean / np.linalg.norm(mean))
        return np.stack(rows)

    return means(run_a) @ means(run_b).T


def phrase_matrix(run_a: Path, run_b: Path) -> np.ndarray:
    """The phrases-only text matrix compare falls back to for runs whose frames carry no text."""
    from themescope.documents import read_themes
    from themescope.embedding import load_embedder
    from themescope.themes.compare import embed_phrases, phrase_text_matrix
    from themescope.themes.gloss import make_glosser

    embedder, glosser = load_embedder(None), make_glosser("en")
    assert glosser is not None

    def themes(run: Path) -> list[Any]:
        groups = []
        for theme in read_themes(run / "themes.json").themes:
            texts = [p.text for p in theme.phrases]
            scores = np.array([p.score for p in theme.phrases])
            groups.append(
                (texts, scores, [p.gloss or glosser.gloss(p.text) for p in theme.phrases])
            )
        return embed_phrases(groups, embedder)

    return phrase_text_matrix(themes(run_a), themes(run_b))


def separation(matrix: np.ndarray, pairs: dict[int, int]) -> dict[str, Any]:
    """How well a theme-to-theme matrix tells the true pairs from the false ones."""
    from scipy.optimize import linear_sum_assignment

    m = np.where(np.isnan(matrix), -2.0, matrix)
    margins = []
    for i, j in pairs.items():
        row = [m[i, x] for x in range(m.shape[1]) if x != j]
        column = [m[x, j] for x in range(m.shape[0]) if x != i]
        margins.append(m[i, j] - max(row + column, default=-2.0))
    rows, cols = linear_sum_assignment(-m)
    true = [m[i, j] for i, j in pairs.items()]
    false = [m[i, j] for i in range(m.shape[0]) for j in range(m.shape[1]) if pairs.get(i) != j]
    return {
        "rows_first": sum(int(np.argmax(m[i])) == j for i, j in pairs.items()),
        "matched": sum(
            pairs.get(i) == j for i, j in zip(rows.tolist(), cols.tolist(), strict=True)
        ),
        "margin": min(margins),
        "gap": min(true) - max(false, default=-2.0),
        "n": len(pairs),
    }


def compare(run_a: Path, run_b: Path, out: Path) -> tuple[dict[str, Any], float]:
    """Run ``themescope compare RUN_A RUN_B``; return compare.json and its wall time."""
    command = ["themescope", "-q", "compare", str(run_a), str(run_b), "--out", str(out)]
    started = time.perf_counter()
    subprocess.run([*command, "--force"], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return json.loads((out / "compare.json").read_text(encoding="utf-8")), elapsed


def _glossed(text: str, gloss: str | None) -> str:
    return f"{text} ({gloss})" if gloss else text


def report(title: str, run_a: Path, run_b: Path, out: Path, pairs: dict[int, int]) -> None:
    """Compare two runs and print the shared themes, both text matrices and the differences."""
    document, elapsed = compare(run_a, run_b, out)
    methods = {m["name"]: m for m in document["methods"]}
    print(f"\n== {title}: compare {elapsed:.1f} s; text basis {methods['text']['basis']}")
    print(f"true pairs (A theme: B theme): {pairs}")
    n_shared = sum(bool(m["shared"]) for m in document["matching"])
    n_true = sum(bool(m["shared"]) and pairs.get(m["a"]) == m["b"] for m in document["matching"])
    print(f"shared: {n_shared}, of which true pairs: {n_true} of {len(pairs)}")
    print(f"{'A':>3}{'B':>4}{'shared':>8}{'combined':>10}{'text':>7}{'visual':>8}  true?")
    for m in document["matching"]:
        s = m["scores"]
        cells = [f"{s[x]:.2f}" if s.get(x) is not None else "-" for x in ("text", "visual")]
        row = f"{m['a']:>3}{m['b']:>4}{m['shared']!s:>8}{m['score']:>10.2f}"
        print(row + f"{cells[0]:>7}{cells[1]:>8}  {pairs.get(m['a']) == m['b']}")
    now = np.asarray(document["matrices"]["text"], dtype=float)
    before = baseline_text_matrix(run_a, run_b)
    print("text matrix, rows A, columns B:  baseline (phrase-vector mean)  |  now")
    for old_row, new_row in zip(before, now, strict=True):
        print("  " + " ".join(f"{v:5.2f}" for v in old_row) + "   |  ", end="")
        print(" ".join(f"{v:5.2f}" for v in new_row))
    print(f"{'':<10}{'rows first':>11}{'matching':>10}{'margin':>8}{'gap':>7}")
    phrases = phrase_matrix(run_a, run_b)
    for name, matrix in (("baseline", before), ("phrases", phrases), ("now", now)):
        s = separation(matrix, pairs)
        print(
            f"{name:<10}{s['rows_first']:>8}/{s['n']}{s['matched']:>8}/{s['n']}"
            f"{s['margin']:>+8.2f}{s['gap']:>+7.2f}"
        )
    matching = document.get("phrase_matching") or {}
    print(
        f"phrases say the same from {matching.get('same_meaning_from')}: {matching.get('method')}"
    )
    for key in ("a", "b"):
        for item in document["per_run"][key]["shared"][:2]:
            label = _glossed(item["label"], item.get("label_gloss"))
            print(f"  {key.upper()} {item['theme']} {label!r} ↔ {item['with']}:")
            says = " · ".join(
                f"{_glossed(d['text'], d.get('gloss'))} [{d['similarity_to_other']:.2f}]"
                for d in item["difference_phrases"]
            )
            print(f"    only here: {says or '-'}")
            both = " · ".join(
                f"{_glossed(p['text'], p.get('gloss'))} = "
                f"{_glossed(p['other'], p.get('other_gloss'))} [{p['similarity']:.2f}]"
                for p in item.get("said_by_both", [])
            )
            print(f"    both say: {both or '-'}")
        for item in document["per_run"][key]["own"][:2]:
            says = " · ".join(
                _glossed(d["text"], d.get("gloss")) for d in item["difference_phrases"]
            )
            print(f"  {key.upper()} own {item['theme']} {item['label']!r}: {says or '-'}")


# -- main ----------------------------------------------------------------------------------------


def _run(video: Path, srt: Path, run: Path, args: argparse.Namespace) -> float:
    if args.reuse and (run / "themes.json").is_file():
        return 0.0
    return summarize(video, srt, run, args.epochs, RUN_OPTIONS)


def main() -> None:
    from themescope.synthetic import generate_news_video

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/xinwen-lianbo-zh-en"))
    parser.add_argument("--date", default="20250809")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    # Training dominates on a busy 2-core machine; the themes follow the looks after a
    # few epochs, which is all the comparison needs.
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--window", type=int, default=6, help="cues per aligned window")
    parser.add_argument("--windows", type=int, default=80, help="windows per broadcast")
    parser.add_argument("--reuse", action="store_true", help="reuse finished runs")
    args = parser.parse_args()
    duration_s = round(args.minutes * 60)
    print(f"machine: {os.cpu_count()} CPU cores; load {os.getloadavg()[0]:.2f} (1 min) at start")

    dates = sorted({p.name.split(".")[0] for p in args.data.glob("*.zh.srt")})
    phrase_threshold(args.data, dates[:2], args.window, args.windows)

    folder = args.out / f"compare-xinwen-{args.date}-{duration_s}s"
    folder.mkdir(parents=True, exist_ok=True)
    videos = {"a": folder / "video-a.mp4", "b": folder / "video-b.mp4"}
    for key, looks in (("a", None), ("b", LOOKS_B)):
        if not videos[key].is_file():
            generate_news_video(
                folder, lang="en", duration_s=duration_s, seed=0, name=f"video-{key}", looks=looks
            )
    srts = {lang: folder / f"{args.date}.{lang}.srt" for lang in ("zh", "en")}
    for lang, srt in srts.items():
        n = cut_srt(args.data / f"{args.date}.{lang}.srt", srt, duration_s)
        print(f"{lang}: {n} cues in the first {duration_s} s")
    runs = {
        "zh": (videos["a"], srts["zh"], folder / "run-zh"),
        "en": (videos["a"], srts["en"], folder / "run-en"),
        "en-b": (videos["b"], srts["en"], folder / "run-en-b"),
    }
    for name, (video, srt, run) in runs.items():
        print(f"summarize {name}: {_run(video, srt, run, args):.1f} s")
    zh, en, en_b = (runs[x][2] for x in ("zh", "en", "en-b"))
    print(
        f"ARI of the frame themes: zh vs en {frame_agreement({'zh': zh, 'en': en}):.2f}, ", end=""
    )
    print(f"zh vs en-b {frame_agreement({'zh': zh, 'en': en_b}):.2f}")
    report(
        "same video (pictures match)", zh, en, folder / "compare-same-video", overlap_pairs(zh, en)
    )
    report(
        "video B under the English text (pictures point at the wrong partner)",
        zh,
        en_b,
        folder / "compare-other-video",
        overlap_pairs(zh, en_b),
    )

    generated = folder / "generated"
    made = {}
    for lang, seed in (("en", 0), ("zh", 1)):
        made[lang] = generated / f"news_{lang}.mp4"
        if not made[lang].is_file():
            generate_news_video(generated, lang=lang, duration_s=120, seed=seed)
        wall = _run(made[lang], made[lang].with_suffix(".srt"), generated / f"run-{lang}", args)
        print(f"summarize generated {lang}: {wall:.1f} s")
    run_en, run_zh = generated / "run-en", generated / "run-zh"
    pairs = truth_pairs(
        run_en, made["en"].with_suffix(".truth.csv"), run_zh, made["zh"].with_suffix(".truth.csv")
    )
    report(
        "generated English vs Chinese video, same themes",
        run_en,
        run_zh,
        generated / "compare",
        pairs,
    )


if __name__ == "__main__":
    sys.exit(main())
