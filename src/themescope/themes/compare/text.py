"""The text and caption methods of a comparison: whether text is comparable, and how alike.

:func:`_text_basis` decides from the runs' languages, the embedder (multilingual or
not, :mod:`themescope.themes.phrase_match`) and their taggers whether text is compared
and on what basis; :func:`_frame_text_matrix` scores two themes by the words of their frames,
:func:`phrase_text_matrix` by their phrases alone and :func:`_caption_matrix` by
their BLIP captions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from themescope._limits import clip_middle
from themescope.themes.base import PhraseEmbedder
from themescope.themes.compare.matching import _cosine_matrix
from themescope.themes.compare.runs import RunThemes
from themescope.themes.phrase_match import EmbeddedPhrases, _centred, phrase_similarity

MAX_TEXTS_PER_THEME = 64
"""Captions or frame texts embedded per theme (spread over the theme): bounds the time."""


def phrase_text_matrix(
    a: Sequence[EmbeddedPhrases | None], b: Sequence[EmbeddedPhrases | None]
) -> np.ndarray:
    """Theme-to-theme text similarity from phrases alone: how much of each is said by the other.

    For every phrase, its best counterpart on the other side
    (:func:`phrase_similarity`); the score-weighted mean of these, averaged over
    both directions. Used where frames carry no text, and with LLM tags.

    Args:
        a: Run A's themes (:func:`embed_phrases`); None for a theme left out.
        b: Run B's themes.

    Returns:
        Array of shape (len(a), len(b)); NaN where a theme was left out.

    """
    matrix = np.full((len(a), len(b)), np.nan)
    for i, mine in enumerate(a):
        for j, other in enumerate(b):
            if mine is None or other is None:
                continue
            similarity = phrase_similarity(mine, other)
            forward = _weighted_mean(similarity.max(axis=1), mine.scores)
            backward = _weighted_mean(similarity.max(axis=0), other.scores)
            matrix[i, j] = (forward + backward) / 2
    return matrix


def _weighted_mean(values: np.ndarray, scores: np.ndarray) -> float:
    weights = np.clip(scores, 0.0, None)
    if weights.sum() <= 0:
        weights = np.ones(len(values))
    return float((weights * values).sum() / weights.sum())


def _frame_text_matrix(a: RunThemes, b: RunThemes, embedder: PhraseEmbedder) -> np.ndarray:
    """Theme-to-theme text similarity from what is said and shown in the themes' frames.

    Each frame's words (transcript and on-screen lines, up to
    :data:`MAX_TEXTS_PER_THEME` different ones per theme, spread over it) are
    embedded whole, each run's vectors centred on their run's mean (which takes
    away the language and what the whole video is about), and a theme is the mean
    of its unit vectors. Whole passages carry the meaning that a theme's ten
    phrases do not (they are few, and much of them is what every theme of the
    broadcast says): on 10 minutes of a Xinwen Lianbo broadcast and its English
    translation over the same segments, every true pair scored at least 0.36 above
    every false pair in its row and column, where the mean of the phrase vectors
    ranked the true partner first for 1 theme of 4 (margin -0.01) and
    :func:`phrase_text_matrix` for 3 of 4 (margin -0.08); on generated English and
    Chinese videos of the same themes, +0.58 against +0.06
    (benchmarks/bench_compare_xinwen.py).
    """
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        assert run.texts is not None
        per_theme = [_theme_texts(run.texts, theme.frames) for theme in run.themes]
        unique = list(dict.fromkeys(t for texts in per_theme for t in texts))
        if not unique:
            means[key] = [None] * len(per_theme)
            continue
        vectors = _centred(unique, embedder)
        means[key] = [
            np.stack([vectors[t] for t in texts]).mean(axis=0) if texts else None
            for texts in per_theme
        ]
    return _cosine_matrix(means["a"], means["b"])


def _caption_matrix(a: RunThemes, b: RunThemes, embedder: PhraseEmbedder) -> np.ndarray:
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        assert run.captions is not None
        for theme in run.themes:
            captions = _theme_texts(run.captions, theme.frames)
            if not captions:
                means[key].append(None)
                continue
            means[key].append(np.asarray(embedder.embed(captions), dtype=np.float64).mean(axis=0))
    return _cosine_matrix(means["a"], means["b"])


def _theme_texts(values: Sequence[str], frames: Sequence[int]) -> list[str]:
    """The different non-empty texts of a theme's frames, at most MAX_TEXTS_PER_THEME, in order."""
    texts = list(dict.fromkeys(clip_middle(values[f].strip()) for f in frames if values[f].strip()))
    if len(texts) > MAX_TEXTS_PER_THEME:
        step = len(texts) / MAX_TEXTS_PER_THEME
        texts = [texts[int(i * step)] for i in range(MAX_TEXTS_PER_THEME)]
    return texts


def _text_basis(
    a: RunThemes,
    b: RunThemes,
    same_language: bool,
    is_multi: bool,
    multi_reason: str,
    embedder_name: str,
) -> tuple[str | None, str]:
    if same_language:
        return (
            "phrases",
            f"both runs are in the same language ({a.lang!r}); their words are compared",
        )
    if is_multi:
        return (
            "phrases",
            f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) but the embedder is "
            f"multilingual ({multi_reason})",
        )
    tag_a, tag_b = a.backends.tagger, b.backends.tagger
    lang_a = tag_a.language
    if tag_a.name == "llm" and tag_b.name == "llm" and lang_a and lang_a == tag_b.language:
        return (
            "llm-tags",
            f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) but both were tagged by an "
            f"LLM in {lang_a!r}; only themes tagged by the LLM (not its fallback) are compared",
        )
    return None, (
        f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) and the embedder "
        f"{embedder_name} is monolingual, so phrase similarities across languages would be "
        "meaningless; pass a multilingual --embedder (with --multilingual if its name does not "
        "say so) or tag both runs with `--tagger llm --tag-language en`"
    )


def _embedder_identity(embedder: PhraseEmbedder) -> tuple[str, str | None]:
    from themescope.embedding import embedder_info

    info = embedder_info(embedder)
    return str(info["name"]), info["path"]
