"""The default, offline tagger: phrases taken from each theme's own words.

For every theme, candidate phrases (English 1–3-grams without stop words,
Chinese jieba words and two-word phrases; see :mod:`themescope.themes.text`)
are drawn from its transcript text and captions and ranked by

    relevance = 0.6 · c-TF-IDF' + 0.4 · centrality'

where c-TF-IDF is the class-based TF-IDF of BERTopic (the phrase's frequency
in this theme, L1-normalised, times ``log(1 + A / f)`` with A the average
number of phrase occurrences per theme and f the phrase's frequency in all
themes: high for phrases specific to this theme) and centrality is the cosine
between the phrase's embedding and the mean embedding of the theme's texts; each
is divided by its maximum in the theme. Near-duplicates (cosine above
``duplicate_cosine``, or one phrase containing the other, as whole words with
plurals folded) keep only the best,
and maximal marginal relevance picks the final, diverse phrases.

Example:
    >>> tagger = ExtractiveTagger(load_embedder(None), seed=0)  # doctest: +SKIP
    >>> tagger.tag(materials)[0].phrases[0].text  # doctest: +SKIP
    'vaccination site'
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from themescope.media.language import phrase_language
from themescope.themes.base import Phrase, PhraseEmbedder, Tagger, ThemeMaterial, ThemePhrases
from themescope.themes.text import candidate_phrases, phrase_key

logger = logging.getLogger("themescope")

CTFIDF_WEIGHT = 0.6
"""Weight of specificity (c-TF-IDF) in the relevance; centrality gets the rest."""


class ExtractiveTagger(Tagger):
    """Ranks each theme's own n-grams by specificity and centrality, then diversifies them.

    Args:
        embedder: Phrase embedder for centrality, merging and MMR; None loads the
            bundled all-MiniLM-L6-v2 on first use.
        seed: Seed of the sample of texts used for a large theme's centroid.
        max_candidates: Candidates (best by c-TF-IDF) embedded per theme.
        duplicate_cosine: Cosine above which two phrases are near-duplicates.
        mmr_lambda: Relevance/diversity trade-off of MMR (1 = relevance only).
        max_centroid_texts: Texts embedded per theme for its centroid.

    Example:
        >>> tagger = ExtractiveTagger(seed=0)  # doctest: +SKIP
        >>> [p.text for p in tagger.tag([material_a, material_b])[0].phrases][:3]  # doctest: +SKIP
        ['vaccination site', 'nurse', 'first dose']
    """

    name = "extractive"

    def __init__(
        self,
        embedder: PhraseEmbedder | None = None,
        *,
        seed: int = 0,
        max_candidates: int = 50,
        duplicate_cosine: float = 0.85,
        mmr_lambda: float = 0.7,
        max_centroid_texts: int = 64,
    ) -> None:
        self.embedder = embedder
        self.seed = seed
        self.max_candidates = max_candidates
        self.duplicate_cosine = duplicate_cosine
        self.mmr_lambda = mmr_lambda
        self.max_centroid_texts = max_centroid_texts

    def _embedder(self) -> PhraseEmbedder:
        if self.embedder is None:
            from themescope.themes.embedders import load_embedder

            self.embedder = load_embedder(None)
        return self.embedder

    def tag(self, themes: Sequence[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        """Return up to ``n_phrases`` phrases per theme, best first (fewer when text is scarce)."""
        counts = [self._candidate_counts(material) for material in themes]
        scores = _ctfidf(counts)
        out = []
        for material, theme_counts, theme_scores in zip(themes, counts, scores, strict=True):
            phrases = (
                self._rank(material, theme_counts, theme_scores, n_phrases) if theme_counts else []
            )
            out.append(ThemePhrases(phrases=phrases, backend="extractive"))
        return out

    def _candidate_counts(self, material: ThemeMaterial) -> Counter[str]:
        lang = phrase_language(list(material.texts) + list(material.captions), material.lang)
        docs = Counter(d for d in list(material.texts) + list(material.captions) if d.strip())
        counts: Counter[str] = Counter()
        # Consecutive frames often share one cue: tokenize each distinct text once.
        for doc, times in docs.items():
            for phrase in candidate_phrases(doc, lang):
                counts[phrase] += times
        return counts

    def _rank(
        self,
        material: ThemeMaterial,
        counts: Counter[str],
        ctfidf: dict[str, float],
        n_phrases: int,
    ) -> list[Phrase]:
        pool = sorted(ctfidf, key=lambda p: (-ctfidf[p], p))[: self.max_candidates]
        embedder = self._embedder()
        vectors = embedder.embed(pool)
        centroid = self._centroid(material, embedder)
        centrality = (
            np.clip(vectors @ centroid, 0.0, None) if centroid is not None else np.zeros(len(pool))
        )
        spec = np.array([ctfidf[p] for p in pool])
        spec = spec / spec.max() if spec.max() > 0 else spec
        cent = centrality / centrality.max() if centrality.max() > 0 else centrality
        relevance = CTFIDF_WEIGHT * spec + (1 - CTFIDF_WEIGHT) * cent
        order = np.argsort(-relevance, kind="stable")
        lang = phrase_language(list(material.texts) + list(material.captions), material.lang)
        keys = [phrase_key(p, lang) for p in pool]
        kept: list[int] = []
        for i in order:
            if any(keys[i] in keys[j] or keys[j] in keys[i] for j in kept):
                continue
            if kept and float((vectors[kept] @ vectors[i]).max()) > self.duplicate_cosine:
                continue
            kept.append(int(i))
        chosen = _mmr(vectors, relevance, kept, n_phrases, self.mmr_lambda)
        return [Phrase(text=pool[i], score=round(float(relevance[i]), 4)) for i in chosen]

    def _centroid(self, material: ThemeMaterial, embedder: PhraseEmbedder) -> np.ndarray | None:
        docs = list(
            dict.fromkeys(
                d.strip() for d in list(material.texts) + list(material.captions) if d.strip()
            )
        )
        if not docs:
            return None
        if len(docs) > self.max_centroid_texts:
            rng = np.random.default_rng(self.seed + material.theme_id)
            docs = [
                docs[i]
                for i in sorted(rng.choice(len(docs), self.max_centroid_texts, replace=False))
            ]
        mean = embedder.embed(docs).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None


def _ctfidf(counts: list[Counter[str]]) -> list[dict[str, float]]:
    """Class-based TF-IDF of every phrase in every theme (BERTopic's formula)."""
    totals = [sum(c.values()) for c in counts]
    filled = [t for t in totals if t > 0]
    if not filled:
        return [{} for _ in counts]
    average = sum(filled) / len(filled)
    overall: Counter[str] = Counter()
    for c in counts:
        overall.update(c)
    out = []
    for c, total in zip(counts, totals, strict=True):
        out.append({p: (n / total) * math.log(1 + average / overall[p]) for p, n in c.items()})
    return out


def _mmr(
    vectors: np.ndarray, relevance: np.ndarray, pool: list[int], n: int, lam: float
) -> list[int]:
    """Maximal marginal relevance: pick ``n`` of ``pool``, trading relevance against redundancy."""
    chosen: list[int] = []
    remaining = list(pool)
    while remaining and len(chosen) < n:
        if chosen:
            redundancy = (vectors[remaining] @ vectors[chosen].T).max(axis=1)
        else:
            redundancy = np.zeros(len(remaining))
        values = lam * relevance[remaining] - (1 - lam) * redundancy
        best = int(np.argmax(values))
        chosen.append(remaining.pop(best))
    return chosen
