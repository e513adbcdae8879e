"""Phrases compared by meaning across languages, and the difference phrases they give.

Each run's phrases, with their English glosses (:class:`_Glosses`), are embedded
and centred on the run's mean (:func:`embed_phrases`); :func:`phrase_similarity`
tells how alike two phrases are, and from :data:`SAME_MEANING_SIMILARITY` they say
the same thing. :func:`_difference` splits a theme's phrases into those the other
side says too and those it does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from themescope.documents import (
    DifferencePhrase,
    PhrasePair,
    ThemeRecord,
)
from themescope.themes.base import PhraseEmbedder
from themescope.themes.compare.runs import RunThemes
from themescope.themes.gloss import Glosser

N_DIFFERENCE_PHRASES = 5
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


class _Glosses:
    """English glosses of one run's phrases and labels: themes.json's, else the glosser's.

    Runs made before glosses, or with ``--gloss-language none``, have none in
    themes.json; the comparison glosses them itself, so that every non-English
    phrase it writes carries one. Without a glosser (glosses off) there are none.
    """

    def __init__(self, run: RunThemes, glosser: Glosser | None) -> None:
        self._glosser = glosser
        self._known: dict[str, str | None] = {}
        if glosser is None:
            return
        for theme in run.themes:
            if theme.label_gloss:
                self._known[theme.label] = theme.label_gloss
            for phrase in theme.phrases:
                if phrase.gloss:
                    self._known[phrase.text.strip()] = phrase.gloss

    def __call__(self, text: str) -> str | None:
        """Return the gloss of ``text``; None for English text, an unknown word, or glosses off."""
        if self._glosser is None:
            return None
        if text not in self._known:
            self._known[text] = self._glosser.gloss(text)
        return self._known[text]


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


def _theme_phrases(theme: ThemeRecord) -> tuple[list[str], np.ndarray]:
    texts, scores = [], []
    for phrase in theme.phrases:
        text = phrase.text.strip()
        if text:
            texts.append(text)
            scores.append(phrase.score)
    return texts, np.asarray(scores, dtype=np.float64)


PhraseGroup = tuple[list[str], np.ndarray, list[str | None]]
"""A theme's phrases, their scores and their glosses."""


@dataclass
class _RunPhrases:
    """One run's phrases in the space of their meanings: per theme, and those of every theme."""

    themes: list[EmbeddedPhrases | None]
    common: EmbeddedPhrases | None

    def said_beside(self, theme: int | None) -> list[EmbeddedPhrases]:
        """What the run says in ``theme`` (every theme: None), its common phrases included."""
        said = self.themes if theme is None else [self.themes[theme]]
        return [x for x in [*said, self.common] if x is not None]


def _phrase_spaces(
    run: RunThemes, embedder: PhraseEmbedder, glosses: _Glosses, *, llm_only: bool
) -> _RunPhrases:
    groups: list[PhraseGroup | None] = []
    for theme in run.themes:
        texts, scores = _theme_phrases(theme)
        if not texts or (llm_only and not theme.tagger.backend.startswith("llm")):
            groups.append(None)
        else:
            groups.append((texts, scores, [glosses(t) for t in texts]))
    common = [p.text.strip() for p in run.common if p.text.strip()]
    # what every theme says is said in the matched theme too (themes.json keeps it out of
    # the theme's own phrases); an LLM run's common phrases are not its tags
    groups.append(
        None
        if not common or llm_only
        else (
            common,
            np.array([p.score for p in run.common if p.text.strip()]),
            [glosses(t) for t in common],
        )
    )
    *themes, said_everywhere = embed_phrases(groups, embedder)
    return _RunPhrases(themes=themes, common=said_everywhere)


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


def _difference(
    theme: ThemeRecord,
    mine: EmbeddedPhrases | None,
    others: list[EmbeddedPhrases],
    gloss: _Glosses,
) -> tuple[Literal["text", "own-ranking"], list[DifferencePhrase], list[PhrasePair]]:
    """Split a theme's phrases into what the other side says too and what it does not.

    A phrase is said by the other side when one of the other side's phrases is at
    least :data:`SAME_MEANING_SIMILARITY` like it (:func:`phrase_similarity`); both
    lists keep the theme's own order (its best phrases first) and hold at most
    :data:`N_DIFFERENCE_PHRASES` each.
    """
    if mine is None or not others:
        texts, scores = _theme_phrases(theme)
        picks = [
            DifferencePhrase(text=t, score=round(float(s), 4), gloss=gloss(t))
            for t, s in list(zip(texts, scores, strict=True))[:N_DIFFERENCE_PHRASES]
        ]
        return "own-ranking", picks, []
    similarity = np.concatenate([phrase_similarity(mine, other) for other in others], axis=1)
    other_texts = [t for other in others for t in other.texts]
    other_glosses = [g for other in others for g in other.glosses]
    closest = similarity.argmax(axis=1)
    differences: list[DifferencePhrase] = []
    both: list[PhrasePair] = []
    for i, text in enumerate(mine.texts):
        j = int(closest[i])
        value = round(float(similarity[i, j]), 4)
        if value < SAME_MEANING_SIMILARITY:
            if len(differences) < N_DIFFERENCE_PHRASES:
                differences.append(
                    DifferencePhrase(
                        text=text,
                        score=round(float(mine.scores[i]), 4),
                        similarity_to_other=value,
                        gloss=mine.glosses[i],
                        closest=other_texts[j],
                        closest_gloss=other_glosses[j],
                    )
                )
        elif len(both) < N_DIFFERENCE_PHRASES:
            both.append(
                PhrasePair(
                    text=text,
                    gloss=mine.glosses[i],
                    other=other_texts[j],
                    other_gloss=other_glosses[j],
                    similarity=value,
                )
            )
    return "text", differences, both
