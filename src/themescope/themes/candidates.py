"""Candidate phrases of a theme: noun-phrase-like n-grams and Chinese compounds.

No part-of-speech model for English installs with pip together with its data
(spaCy's and NLTK's models are downloads), so English uses a documented chunker:

English
    The theme's frames are joined into passages first (consecutive frames carry
    consecutive pieces of one transcript, so a phrase split over two frames is
    found whole), then cut at sentence and clause punctuation. Candidates are the
    1–``max_words``-grams of lower-cased word tokens inside a clause that neither
    start nor end with a stop word or function word (scikit-learn's list plus
    spoken fillers, :data:`~themescope.themes.text.STOP_WORDS_EN`), hold no stop
    word inside except "of" ("department of health"), do not start with a
    number, and end neither in an adverb, time word or predicative adjective
    ("line today") nor in a word very common in general English (Zipf ≥
    :data:`COMMON_LAST_ZIPF`: "booster shots help"). Plurals fold into one
    candidate ("booster shot", "booster shots"), shown in its commonest form.

Chinese
    jieba with part-of-speech (jieba.posseg). Particles, conjunctions, adverbs,
    pronouns, numerals, measure words, time and direction words, punctuation and
    the stop words break a run. A word stands alone as a candidate when it is a
    noun (n, nz, ns, nt, nw), a verb used as a noun (vn), an abbreviation (j),
    or, for verbs, adjectives and idioms, when it is rare in general Chinese
    (Zipf below ``rare_zipf``: 接种 yes, 出现 or 是不是 no). Adjacent words of a
    run merge into compounds of up to ``max_words_zh`` words (加强 + 针 = 加强针).

A multi-word candidate must occur at least ``min_count`` times in the run (a
unit that recurs, not an accident of adjacency). People's names
(:mod:`themescope.themes.people`) are never candidates: they break runs and are
counted per theme instead.

Example:
    >>> cands = extract(["Booster shots are here. Get booster shots now."], "en", set())
    >>> cands.counts[("booster", "shot")], cands.surface(("booster", "shot"))
    (2, 'booster shots')
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from themescope.media.language import contains_han, is_chinese, join_texts
from themescope.themes.background import zipf
from themescope.themes.base import ThemeMaterial
from themescope.themes.text import (
    BOUNDARY,
    STOP_WORDS_EN,
    STOP_WORDS_ZH,
    fold_token,
    normalize,
    posseg_zh,
    tokenize_en,
)

ON_SCREEN_MENTIONS = 2
"""How many mentions an on-screen headline counts as: it is written for the story,
so a multi-word headline phrase counts as recurring."""

Key = tuple[str, ...]
"""A candidate: its tokens (English ones plural-folded)."""

COMMON_LAST_ZIPF = 5.6
"""An English phrase of several words does not end in a word this common in general
English: such a word is mostly a verb or adverb after the noun ("booster shots help")."""

_INSIDE_EN = frozenset({"of"})
# Adverbs, time words and predicative adjectives end no noun phrase ("line today").
_NOT_LAST_EN = frozenset(
    """
    today tonight tomorrow yesterday now here there also still even ever very much many
    again ago away later soon already good great bad new old big little small high low
    long short same different whole able sure certain possible important available
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_NOUN_FLAGS_ZH = frozenset({"n", "nz", "ns", "nt", "nw", "vn", "an", "j", "ng", "eng"})
_TRUE_NOUN_FLAGS_ZH = frozenset({"n", "nz", "ns", "nt", "nw", "ng", "j"})
# Verbs, adjectives, adverbs and set phrases: a compound may hold them inside,
# but starts or ends with one only when it is rare (加强针 ends in a noun,
# 接种疫苗 starts with a rare verb; 加快建设 and 建设迈出重大 are no phrases),
# except that a common verb may lead a noun or a one-character head (加强 + 针).
_PREDICATE_FLAGS_ZH = frozenset({"v", "vd", "vg", "a", "ad", "ag", "i", "l", "z", "b"})
# First letters of jieba's flags for particles (u), conjunctions (c), adverbs (d),
# pronouns (r), numerals (m), measure words (q), modal particles (y),
# interjections (e), onomatopoeia (o), punctuation (x, w), direction (f), time (t).
_FUNCTION_FLAGS_ZH = frozenset("ucdrmqyeoxwft")
_NUMERALS_ZH = frozenset("〇零一二两三四五六七八九十百千万亿几多半整每第")


@dataclass
class ThemeCandidates:
    """The candidate phrases found in one theme's text.

    Attributes:
        counts: Occurrences of each candidate.
        surfaces: How each candidate was written, with counts (for display).
        n_tokens: Word tokens read (stop words included): the theme's text length.
        people: Mentions of each person's name in the theme.
    """

    counts: Counter[Key] = field(default_factory=Counter)
    surfaces: dict[Key, Counter[str]] = field(default_factory=dict)
    n_tokens: int = 0
    people: Counter[str] = field(default_factory=Counter)

    def surface(self, key: Key) -> str:
        """The commonest written form of ``key``."""
        forms = self.surfaces.get(key)
        return forms.most_common(1)[0][0] if forms else " ".join(key)

    def add(self, key: Key, surface: str, times: int = 1) -> None:
        """Count ``times`` occurrences of ``key`` written as ``surface``."""
        self.counts[key] += times
        self.surfaces.setdefault(key, Counter())[surface] += times


def theme_passages(material: ThemeMaterial) -> list[str]:
    """Return the theme's text as passages: runs of consecutive frames joined, captions apart.

    Consecutive frames (ids one apart) hold consecutive pieces of the transcript,
    or the same cue repeated (the ``nearest`` alignment); joining them, repeats
    dropped, restores the sentences. Each distinct caption of a run of frames
    counts once, each on-screen text :data:`ON_SCREEN_MENTIONS` times.
    """
    passages: list[str] = []
    parts: list[str] = []
    previous_id: int | None = None
    previous_text = ""
    previous_caption = ""
    captions: list[str] = []
    for frame_id, text, caption in zip(
        material.frame_ids, material.texts, material.captions, strict=True
    ):
        contiguous = previous_id is not None and frame_id == previous_id + 1
        if not contiguous:
            passages.append(join_texts(parts))
            parts, previous_text, previous_caption = [], "", ""
        text, caption = text.strip(), caption.strip()
        if text and text != previous_text:
            parts.append(text)
        if caption and caption != previous_caption:
            captions.append(caption)
        previous_id, previous_text, previous_caption = frame_id, text, caption
    passages.append(join_texts(parts))
    on_screen = [text for text, _ in material.on_screen for _ in range(ON_SCREEN_MENTIONS)]
    return [p for p in passages + captions + on_screen if p.strip()]


def extract(
    passages: Iterable[str],
    lang: str,
    names: set[str],
    *,
    max_words: int = 4,
    max_words_zh: int = 3,
    rare_zipf: float = 4.5,
) -> ThemeCandidates:
    """Return the candidates of one theme's passages (see the module docstring).

    Args:
        passages: The theme's passages (:func:`theme_passages`).
        lang: The run's language; passages holding Chinese characters are read as Chinese.
        names: People's names found in the run (lower-cased), never candidates.
        max_words: Longest English candidate, in words.
        max_words_zh: Longest Chinese compound, in jieba words.
        rare_zipf: Zipf frequency below which a Chinese verb, adjective or idiom
            is specific enough to stand alone.
    """
    out = ThemeCandidates()
    name_tokens = {w for name in names for w in name.split()}
    for passage in passages:
        text = normalize(passage)
        if is_chinese(lang) or contains_han(text):
            _extract_zh(text, out, names, max_words_zh, rare_zipf)
        else:
            _extract_en(text, out, name_tokens, max_words)
        for name in names:
            n_mentions = _mentions(text, name)
            if n_mentions:
                out.people[name] += n_mentions
    return out


def _mentions(text: str, name: str) -> int:
    if contains_han(name):
        return text.count(name)
    full = len(re.findall(rf"\b{re.escape(name)}\b", text))
    last = name.split()[-1]
    alone = len(re.findall(rf"\b{re.escape(last)}\b", text)) - full if " " in name else 0
    return full + alone


def _extract_en(text: str, out: ThemeCandidates, name_tokens: set[str], max_words: int) -> None:
    for clause in BOUNDARY.split(text):
        tokens = tokenize_en(clause)
        out.n_tokens += len(tokens)
        for i, first in enumerate(tokens):
            if not _edge_en(first, name_tokens) or first[0].isdigit():
                continue
            for n in range(1, max_words + 1):
                if i + n > len(tokens):
                    break
                gram = tokens[i : i + n]
                last = gram[-1]
                if n > 1 and not (last in _INSIDE_EN or _edge_en(last, name_tokens)):
                    break  # a stop word or a name inside ends every longer gram too
                if _edge_en(last, name_tokens) and (n == 1 or _ends_np(last)):
                    out.add(tuple(fold_token(t) for t in gram), " ".join(gram))


def _ends_np(token: str) -> bool:
    return token not in _NOT_LAST_EN and zipf(token, "en") < COMMON_LAST_ZIPF


def _edge_en(token: str, name_tokens: set[str]) -> bool:
    return token not in STOP_WORDS_EN and token not in name_tokens and len(token) >= 2


def _extract_zh(
    text: str, out: ThemeCandidates, names: set[str], max_words: int, rare_zipf: float
) -> None:
    for clause in BOUNDARY.split(text):
        run: list[_Word] = []
        for word, flag in [*posseg_zh(clause), ("", "x")]:
            if word and _is_token(word):
                out.n_tokens += 1
            if word and word not in names and _content_zh(word, flag):
                run.append(_word_zh(word, flag, rare_zipf))
                continue
            if run and _suffix_zh(word, flag):
                run.append(
                    _Word(word, alone=False, opens=False, closes=True, head=True, preposition=True)
                )
                continue
            _compounds(run, out, max_words)
            run = []


def _is_token(word: str) -> bool:
    return any(ch.isalnum() for ch in word)


def _suffix_zh(word: str, flag: str) -> bool:
    # jieba tags the noun suffix 点 of 接种点 (a vaccination site) as a numeral.
    return (
        len(word) == 1
        and flag in {"m", "q"}
        and word not in _NUMERALS_ZH
        and word not in STOP_WORDS_ZH
    )


def _content_zh(word: str, flag: str) -> bool:
    if word in STOP_WORDS_ZH or word in STOP_WORDS_EN or not _is_token(word):
        return False
    if flag[0] in _FUNCTION_FLAGS_ZH:
        return False
    # Multi-character prepositions (按照, 关于) are grammar; a one-character "p"
    # is often jieba mis-tagging a noun such as 针 in 加强针.
    return not (flag.startswith("p") and len(word) > 1)


@dataclass(frozen=True)
class _Word:
    text: str
    alone: bool  # may stand alone as a candidate
    opens: bool  # may start a compound
    closes: bool  # may end a compound
    head: bool  # a noun (or one character) that a common verb may lead: 加强 + 针
    preposition: bool  # leads nothing (至 in 至成都铁路)


def _word_zh(word: str, flag: str, rare_zipf: float) -> _Word:
    rare = zipf(word, "zh") < rare_zipf
    predicate = flag in _PREDICATE_FLAGS_ZH and not rare
    return _Word(
        text=word,
        alone=len(word) >= 2 and (flag in _NOUN_FLAGS_ZH or rare),
        opens=not predicate and not flag.startswith("p"),
        closes=not predicate,
        head=flag in _TRUE_NOUN_FLAGS_ZH or (len(word) == 1 and not predicate),
        preposition=flag.startswith("p"),
    )


def _compounds(run: Sequence[_Word], out: ThemeCandidates, max_words: int) -> None:
    words = [w.text for w in run]
    for i, word in enumerate(run):
        if word.alone:
            out.add((word.text,), word.text)
        if not word.opens and word.preposition:
            continue
        for n in range(2, max_words + 1):
            if i + n > len(run):
                break
            last = run[i + n - 1]
            if last.closes and (word.opens or last.head):
                gram = words[i : i + n]
                out.add(tuple(gram), _join_zh(gram))


def _join_zh(words: Sequence[str]) -> str:
    out = words[0]
    for word in words[1:]:
        # Two Latin words inside Chinese text keep their space.
        out += f" {word}" if out[-1].isascii() and word[0].isascii() else word
    return out


def keep_recurring(themes: Sequence[ThemeCandidates], min_count: int) -> None:
    """Drop, in place, multi-word candidates seen fewer than ``min_count`` times in the run."""
    total: Counter[Key] = Counter()
    for theme in themes:
        total.update(theme.counts)
    for theme in themes:
        for key in [k for k in theme.counts if len(k) > 1 and total[k] < min_count]:
            del theme.counts[key]


def nested_counts(counts: Counter[Key]) -> dict[Key, float]:
    """C-value: a candidate's count, less what it owes to the longer candidates holding it.

    ``c(a) = log2(1 + n_words) · (f(a) − mean f(b) over candidates b holding a)``
    (Frantzi, Ananiadou & Mima 2000, with ``log2(1 + n)`` so single words count),
    where only holders said in most of a's occurrences (``f(b) > f(a) / 2``) count:
    when "booster" occurs mostly inside "booster shots", the phrase scores and its
    part keeps only what it is said on its own; a longer phrase that holds a
    part only now and then ("booster shots help") takes nothing from it and,
    being rarer, ranks below it. Never negative.
    """
    holders: dict[Key, list[int]] = {}
    for key, count in counts.items():
        for n in range(1, len(key)):
            for i in range(len(key) - n + 1):
                sub = key[i : i + n]
                if sub in counts and count * 2 > counts[sub]:
                    holders.setdefault(sub, []).append(count)
    out: dict[Key, float] = {}
    for key, count in counts.items():
        owed = holders.get(key)
        base = count - (sum(owed) / len(owed) if owed else 0.0)
        out[key] = max(base, 0.0) * math.log2(1 + len(key))
    return out
