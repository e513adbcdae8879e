"""How common a word or phrase is in general language: wordfreq's Zipf scale, offline.

wordfreq (Apache-2.0) ships its frequency lists for English, Chinese and some
forty other languages inside its wheel, so nothing is downloaded. Frequencies
are on the Zipf scale: ``log10`` of occurrences per billion words, about 7 for
"the", 6 for "new", 3.5 for "booster", 0 for a word the list does not know.

A phrase of several words is rarer than its rarest word: its background is
``min(zipf(word)) - (n_words - 1)``, one Zipf unit (a factor of ten) per extra
word — the factor wordfreq itself applies to each word break it infers when it
splits a Chinese string, which is what :func:`zipf` does for Chinese compounds.
Words the list does not know count as :data:`FLOOR_ZIPF` (as rare as the rarest
words it lists), so that a misspelling does not score as infinitely rare.

Example:
    >>> zipf("new", "en") > 6 > zipf("booster shots", "en")
    True
"""

from __future__ import annotations

import functools
import logging

FLOOR_ZIPF = 1.0
"""Zipf frequency given to words wordfreq does not list."""


@functools.cache
def _languages() -> frozenset[str]:
    import wordfreq

    return frozenset(wordfreq.available_languages())


def has_background(lang: str) -> bool:
    """Whether wordfreq has a frequency list for ``lang`` (a code such as "en" or "zh-Hans")."""
    return _base(lang) in _languages()


def _base(lang: str) -> str:
    base = lang.lower().split("-")[0]
    return "zh" if base in {"cmn", "zho", "chi"} else base


@functools.lru_cache(maxsize=65536)
def zipf(phrase: str, lang: str) -> float:
    """Return the Zipf frequency of ``phrase`` in general ``lang`` (see the module docstring).

    Raises nothing for an unsupported language: it returns :data:`FLOOR_ZIPF`
    (every phrase is then as rare as can be, so the background does not rank).
    """
    if not has_background(lang):
        return FLOOR_ZIPF
    import wordfreq

    base = _base(lang)
    if base == "zh":
        _load_chinese()
        return max(float(wordfreq.zipf_frequency(phrase, base)), FLOOR_ZIPF)
    words = phrase.split()
    if not words:
        return FLOOR_ZIPF
    rarest = min(max(float(wordfreq.zipf_frequency(w, base)), FLOOR_ZIPF) for w in words)
    return max(rarest - (len(words) - 1), FLOOR_ZIPF)


@functools.cache
def _load_chinese() -> None:
    import jieba
    import wordfreq

    # wordfreq builds its own jieba dictionary on its first Chinese lookup, and jieba
    # announces that on its logger: raise that logger for this one lookup only, as
    # media.language does for our own jieba, rather than for the whole process.
    level = jieba.default_logger.level
    jieba.default_logger.setLevel(logging.WARNING)
    try:
        wordfreq.zipf_frequency("疫苗", "zh")
    finally:
        jieba.default_logger.setLevel(level)
