"""Language of a transcript from its characters, and script-aware text joining.

themescope only needs to know which tokenizer and word vectors a run uses, so the
language is read from the writing system rather than from a statistical model:
CJK ideographs mean Chinese, kana Japanese, hangul Korean, Latin letters English.
A Chinese news transcript quotes English acronyms ("COVID-19", "WHO") and an
English one may quote a Chinese name, so mixed text goes to the script with more
*words*, counting :data:`HAN_CHARS_PER_WORD` ideographs as one word (a Latin word
is a run of letters).

Example:
    >>> detect_language(["大家好，欢迎收看新闻联播。"])
    'zh'
    >>> detect_language(["Good evening and welcome."])
    'en'
    >>> detect_language([""])
    'und'

"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Any

#: Average length of a Chinese word in characters (jieba segmentation of news text
#: gives about 1.5); used to weigh ideographs against Latin words in mixed text.
HAN_CHARS_PER_WORD = 1.5

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_KANA = r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = r"\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
# CJK punctuation and full-width forms: they sit between ideographs without spaces.
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uff65"

_HAN_RE = re.compile(f"[{_HAN}]")
_KANA_RE = re.compile(f"[{_KANA}]")
_HANGUL_RE = re.compile(f"[{_HANGUL}]")
_LATIN_WORD_RE = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_CJK_RE = re.compile(f"[{_HAN}{_KANA}{_HANGUL}{_CJK_PUNCT}]")


def is_chinese(lang: str) -> bool:
    """Whether ``lang`` (a code such as "zh", "zh-Hans", "cmn") is Chinese."""
    return lang.lower().split("-")[0] in {"zh", "cmn", "yue", "chi", "zho"}


def is_han(char: str) -> bool:
    """Return True when ``char`` is a CJK ideograph (Chinese character, Japanese kanji)."""
    return bool(_HAN_RE.fullmatch(char))


def contains_han(text: str) -> bool:
    """Return True when ``text`` holds at least one CJK ideograph."""
    return _HAN_RE.search(text) is not None


def count_cjk(text: str) -> int:
    """Return how many characters of ``text`` are CJK script or CJK punctuation."""
    return len(_CJK_RE.findall(text))


def is_cjk(char: str) -> bool:
    """Return True when ``char`` is written without spaces around it (CJK script or punctuation)."""
    return bool(_CJK_RE.fullmatch(char))


def contains_cjk(text: str) -> bool:
    """Return True when ``text`` holds at least one CJK character."""
    return _CJK_RE.search(text) is not None


def jieba_words(text: str) -> list[str]:
    """Return jieba's cut of ``text``: its words, spaces and punctuation, in order.

    Example:
        >>> jieba_words("疫苗接种")
        ['疫苗', '接种']

    """
    words: list[str] = _jieba().lcut(text)
    return words


def jieba_tagged(text: str) -> list[tuple[str, str]]:
    """Return jieba's cut of ``text`` with each word's part-of-speech flag, in order.

    Flags follow jieba's (ICTCLAS) set: "n" noun, "nr" person, "ns" place, "nt"
    organisation, "v" verb, "vn" verb used as a noun, "u" particle, "x"
    punctuation, ...

    Example:
        >>> jieba_tagged("接种疫苗")
        [('接种', 'v'), ('疫苗', 'n')]

    """
    _jieba()
    import jieba.posseg

    return [(pair.word, pair.flag) for pair in jieba.posseg.lcut(text)]


def dictionary_flag(word: str) -> str | None:
    """Return the part-of-speech flag jieba's dictionary gives ``word``, None when it lacks it.

    Example:
        >>> dictionary_flag("疫苗")
        'n'

    """
    _jieba()
    import jieba.posseg

    flag: str | None = jieba.posseg.dt.word_tag_tab.get(word)
    return flag


@functools.cache
def _jieba() -> Any:
    import jieba

    # jieba announces loading its dictionary on its own stderr logger. Load it once
    # here with that logger raised, rather than silencing jieba for the whole process.
    level = jieba.default_logger.level
    jieba.default_logger.setLevel(logging.WARNING)
    try:
        jieba.initialize()
    finally:
        jieba.default_logger.setLevel(level)
    return jieba


def join_texts(parts: Iterable[str]) -> str:
    """Join text fragments with a space, except between two CJK characters.

    English fragments are joined with " " and Chinese ones with "", so that the
    joined text reads as the transcript did. Empty fragments are ignored.

    Example:
        >>> join_texts(["hello", "world"])
        'hello world'
        >>> join_texts(["大家好", "欢迎"])
        '大家好欢迎'

    """
    out = ""
    for part in parts:
        part = part.strip()
        if not part:
            continue
        if out and not (is_cjk(out[-1]) and is_cjk(part[0])):
            out += " "
        out += part
    return out


def detect_language(texts: Iterable[str]) -> str:
    """Return the language of ``texts`` from the characters they are written in.

    Args:
        texts: Cue or frame texts (markup already stripped).

    Returns:
        "zh" for Chinese (simplified or traditional), "ja" when kana make up a
        tenth or more of the CJK characters, "ko" for hangul, "en" for Latin
        script, and "und" when there are no letters at all (empty transcript,
        digits, punctuation, or another script).

    Example:
        >>> detect_language(["COVID-19疫苗接种正在全国展开"])
        'zh'

    """
    n_han = n_kana = n_hangul = n_latin_words = 0
    for text in texts:
        n_han += len(_HAN_RE.findall(text))
        n_kana += len(_KANA_RE.findall(text))
        n_hangul += len(_HANGUL_RE.findall(text))
        n_latin_words += len(_LATIN_WORD_RE.findall(text))
    n_cjk = n_han + n_kana + n_hangul
    if n_cjk == 0 and n_latin_words == 0:
        return "und"
    cjk_words = n_han / HAN_CHARS_PER_WORD + n_kana / HAN_CHARS_PER_WORD + n_hangul
    if cjk_words < n_latin_words:
        return "en"
    if n_hangul > n_han + n_kana:
        return "ko"
    # Japanese text is mostly kanji, but any real Japanese sentence has kana in it.
    if n_kana >= 0.1 * (n_han + n_kana):
        return "ja"
    return "zh"


def phrase_language(texts: Iterable[str], declared: str) -> str:
    """Return the language to cut and match phrases of ``texts`` in: "zh" or ``declared``.

    Ingest records what the transcript is written in, but a run may have been told
    another language, or none ("und"); what is tokenized must follow what the text
    is. Texts written in ideographs (Chinese, or Japanese, which jieba cuts far better
    than a split at spaces) give "zh"; anything else keeps ``declared``.

    Example:
        >>> phrase_language(["新冠疫苗", "接种"], "und")
        'zh'

    """
    if is_chinese(declared):
        return declared
    return "zh" if detect_language(texts) in ("zh", "ja") else declared
