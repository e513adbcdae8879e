"""The difference phrases of a comparison, found by meaning across languages.

Each run's phrases, with their English glosses (:class:`_Glosses`), are embedded
and centred on the run's mean (:func:`~themescope.themes.phrase_match.embed_phrases`);
from :data:`~themescope.themes.phrase_match.SAME_MEANING_SIMILARITY` two phrases
say the same thing. :func:`_difference` splits a theme's phrases into those the other
side says too and those it does not.
"""

from __future__ import annotations

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
from themescope.themes.phrase_match import (
    SAME_MEANING_SIMILARITY,
    EmbeddedPhrases,
    PhraseGroup,
    embed_phrases,
    phrase_similarity,
)

N_DIFFERENCE_PHRASES = 5


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


def _theme_phrases(theme: ThemeRecord) -> tuple[list[str], np.ndarray]:
    texts, scores = [], []
    for phrase in theme.phrases:
        text = phrase.text.strip()
        if text:
            texts.append(text)
            scores.append(phrase.score)
    return texts, np.asarray(scores, dtype=np.float64)


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
