"""Benchmark: the CRVAE's text path with MiniLM token embeddings against multilingual words.

Generates a 4-minute English and a 4-minute Chinese news-like video (cached under
``bench-out/``), ingests them, and trains the ``fast`` preset on each with

* ``minilm``: the bundled MiniLM WordPiece tokens and input embeddings (the English default),
* ``multilingual``: jieba / lower-cased words, each embedded once by multilingual-e5-small
  (``word_vectors="multilingual"``),
* ``multilingual-wordpiece`` (with ``--wordpiece``): MiniLM's WordPiece tokens embedded by
  multilingual-e5-small, to check the choice of words over pieces.

Prints the unknown-word rate, PSNR, text cosine and the stage time of each, and how
often a Chinese theme word's nearest English word (across the two runs' tables) is its
translation: whether the two languages share one space. The train stage reads its
source from ``embeddings_for``; this script leaves the config at its default and
patches ``embeddings_for`` in the text module, so each variant runs whatever the run's
language would pick (``word_vectors="auto"`` gives Chinese the multilingual table).

Usage::

    python benchmarks/bench_word_vectors.py [--out bench-out] [--threads 2] [--wordpiece]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

DURATION_S = 240.0
N_TRANSLATED = 16
"""The generator's theme word lists are word-for-word translations up to here."""


def prepare(out: Path, lang: str) -> Path:
    """Generate and ingest the 4-minute video in ``lang`` once; return its run directory."""
    from themescope.media.ingest import ingest
    from themescope.rundir import RunDirectory
    from themescope.synthetic import generate_news_video

    run_dir = out / f"run-4min-{lang}-words"
    if RunDirectory(run_dir).record("ingest") is not None:
        return run_dir
    folder = out / f"video-4min-{lang}"
    video = folder / f"news_{lang}.mp4"
    if not video.is_file():
        generate_news_video(
            folder, lang=lang, duration_s=DURATION_S, n_themes=4, seed=0, width=960, height=540
        )
    ingest(video, run_dir, subtitles=video.with_suffix(".srt"))
    return run_dir


class WordPieceE5:
    """MiniLM's WordPiece tokens with vectors from the multilingual word table (a control)."""

    name = "multilingual-wordpiece"

    def __init__(self) -> None:
        from themescope.model.text import MiniLMTokenEmbeddings, PhraseEmbedderWords

        self.pieces = MiniLMTokenEmbeddings()
        self.words = PhraseEmbedderWords()
        self.dim = 384

    def tokenize(self, text: str, lang: str) -> list[str]:
        return self.pieces.tokenize(text, lang)

    def vectors(self, tokens: Any) -> tuple[np.ndarray, np.ndarray]:
        return self.words.vectors([t.removeprefix("##") for t in tokens])

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


def source(variant: str) -> Any:
    """The token embedding source of a variant."""
    from themescope.model.text import MiniLMTokenEmbeddings, PhraseEmbedderWords

    return {
        "minilm": MiniLMTokenEmbeddings,
        "multilingual": PhraseEmbedderWords,
        "multilingual-wordpiece": WordPieceE5,
    }[variant]()


def train_variant(run_dir: Path, work: Path, variant: str, threads: int) -> dict:
    """Train the fast preset on a copy of the run with the variant's text source."""
    import msgspec

    import themescope.model.text as text_module
    from themescope.model.config import TrainConfig
    from themescope.model.train import train

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(run_dir, work, ignore=shutil.ignore_patterns(".lock", ".staging-*"))
    config = dataclasses.replace(TrainConfig.preset("fast"), n_threads=threads)
    original = text_module.embeddings_for
    text_module.embeddings_for = lambda _: source(variant)  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        record = msgspec.to_builtins(train(work, config, force=True, device="cpu").record)
        record["wall_s"] = time.perf_counter() - started
    finally:
        text_module.embeddings_for = original  # type: ignore[assignment]
    return record


def shared_space(variant: str) -> float:
    """Share of Chinese theme words whose nearest English theme word is their translation."""
    from themescope.synthetic import _WORDS_EN, _WORDS_ZH

    en = [w for theme in _WORDS_EN for w in theme.split()[:N_TRANSLATED]]
    zh = [w for theme in _WORDS_ZH for w in theme.split()[:N_TRANSLATED]]
    emb = source(variant)

    def word_vectors(words: list[str], lang: str) -> np.ndarray:
        rows = []
        for word in words:
            tokens = emb.tokenize(word, lang)
            table, _ = emb.vectors(tokens)
            rows.append(table.mean(axis=0))  # a word cut into pieces: their mean
        matrix = np.stack(rows)
        return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)

    nearest = (word_vectors(zh, "zh") @ word_vectors(en, "en").T).argmax(axis=1)
    return float((nearest == np.arange(len(zh))).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench-out"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--wordpiece", action="store_true", help="also train the WordPiece control")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    variants = ["minilm", "multilingual"] + (["multilingual-wordpiece"] if args.wordpiece else [])
    print(f"load average at the start: {os.getloadavg()}")
    rows = []
    for lang in ("en", "zh"):
        run_dir = prepare(args.out, lang)
        for variant in variants:
            work = args.out / f"train-4min-{lang}-{variant}"
            record = train_variant(run_dir, work, variant, args.threads)
            rows.append((lang, variant, record))
            print(f"[{lang}] {variant}: done in {record['wall_s']:.0f} s", flush=True)
    print(f"\nload average at the end: {os.getloadavg()}")
    print(
        f"{'video':8} {'text source':24} {'unknown':>8} {'PSNR dB':>8} {'text cos':>8} "
        f"{'epochs':>6} {'stage s':>8}"
    )
    for lang, variant, record in rows:
        print(
            f"4min-{lang:3} {variant:24} {record['unknown_word_rate']:8.1%} "
            f"{record['psnr_db']:8.2f} {record['text_cosine']:8.3f} {record['epochs']:6} "
            f"{record['wall_s']:8.1f}"
        )
    print("\nChinese theme word -> nearest English theme word is its translation (64 words):")
    for variant in variants:
        print(f"  {variant:24} {shared_space(variant):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
