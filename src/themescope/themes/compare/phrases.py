"""Phrases compared by meaning across languages, and the difference phrases they give.

Each run's phrases, with their English glosses, are embedded and centred on the
run's mean (:func:`embed_phrases`); :func:`phrase_similarity` tells how alike two
phrases are, and from :data:`SAME_MEANING_SIMILARITY` they say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from themescope.themes.base import PhraseEmbedder

SAME_MEANING_SIMILARITY = 0.3
"""Two phrases this alike (:func:`phrase_similarity`) say the same thing: not a difference.

Measured with multilingual-e5-small on two Xinwen Lianbo broadcasts cut into windows
of 6 aligned cues (benchmarks/bench_compare_xinwen.py): a Chinese window's phrases
reach 0.3 with a phrase of their own window's English translation for 82 % of
phrases, and with a phrase of a far window for 12 % (both counts include real
paraphrases the translation left out and names the whole broadcast repeats); 0.29
maximises the difference of the two. The former rule (raw cosine from 0.85) found
a counterpart for none: every Chinese phrase was a "difference". For another
embedder the threshold is not measured."""
PHRASE_MATCHING = (
    "cosine of the phrase embeddings, each run's phrases centred on their mean; the larger "
    "of that and the same cosine of their English forms (a non-English phrase's gloss)"
)


@dataclass
class EmbeddedPhrases:
    """One theme's phrases in the space their meanings are compared in (see :func:`embed_phrases`).

    Attributes:
        texts: The phrases, best first.
        scores: Their scores, shape (n,).
        glosses: Their English glosses (None for English phrases).
        native: The phrases' vectors, centred within their run, unit rows, shape (n, dim).
        english: The vectors of their English form (the gloss, else the phrase),
            centred within their run, unit rows, shape (n, dim).

    """

    texts: list[str]
    scores: np.ndarray
    glosses: list[str | None]
    native: np.ndarray
    english: np.ndarray


PhraseGroup = tuple[list[str], np.ndarray, list[str | None]]
"""A theme's phrases, their scores and their glosses."""


def embed_phrases(
    groups: Sequence[PhraseGroup | None], embedder: PhraseEmbedder
) -> list[EmbeddedPhrases | None]:
    """Embed one run's groups of phrases (and their glosses), centred on the run's mean phrase.

    Centring each run on its own removes what all its phrases share: the language
    (e5 keeps a Chinese and an English phrase apart by a direction common to each
    language) and the video's overall subject. On aligned Xinwen Lianbo windows,
    how well "the translation holds a phrase like this one" is told from "it does
    not" (Youden's J) rose from 0.54 (raw cosine) to 0.66 with centring, and to
    0.70 with the gloss as well (benchmarks/bench_compare_xinwen.py).

    Args:
        groups: Per theme its phrases, their scores and their English glosses (None
            for a phrase without one); None for a theme left out.
        embedder: The phrase embedder.

    Returns:
        One :class:`EmbeddedPhrases` per group (None where the group is None).

    """
    native_texts = list(dict.fromkeys(t for item in groups if item for t in item[0]))
    english_texts = list(
        dict.fromkeys(
            g or t for item in groups if item for t, g in zip(item[0], item[2], strict=True)
        )
    )
    if not native_texts:
        return [None] * len(groups)
    native = _centred(native_texts, embedder)
    english = native if english_texts == native_texts else _centred(english_texts, embedder)
    out: list[EmbeddedPhrases | None] = []
    for item in groups:
        if item is None:
            out.append(None)
            continue
        texts, scores, gloss = item
        out.append(
            EmbeddedPhrases(
                texts=texts,
                scores=np.asarray(scores, dtype=np.float64),
                glosses=gloss,
                native=np.stack([native[t] for t in texts]),
                english=np.stack([english[g or t] for t, g in zip(texts, gloss, strict=True)]),
            )
        )
    return out


def _centred(texts: list[str], embedder: PhraseEmbedder) -> dict[str, np.ndarray]:
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    if len(texts) > 1:  # a run with one phrase has nothing to centre on
        vectors = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.where(norms > 1e-6, vectors / np.maximum(norms, 1e-12), 0.0)
    return dict(zip(texts, vectors, strict=True))


def phrase_similarity(mine: EmbeddedPhrases, other: EmbeddedPhrases) -> np.ndarray:
    """Return how alike in meaning each phrase of ``mine`` is to each of ``other``.

    The larger of two cosines: of the phrases themselves, and of their English
    forms (a Chinese phrase's gloss), so "加强针" meets "booster shot" through
    "booster shot" too; shape (len(mine.texts), len(other.texts)).
    """
    return np.maximum(mine.native @ other.native.T, mine.english @ other.english.T)
