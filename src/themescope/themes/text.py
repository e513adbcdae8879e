"""Tokenizing for phrases: stop words, clause boundaries and phrase matching.

English is lower-cased and split into word tokens; Chinese is cut with jieba
(optionally with part-of-speech flags), punctuation dropped. Candidate phrases
are built from these tokens in :mod:`themescope.themes.candidates`. The same
tokenizing decides whether a phrase occurs in a frame's text (token level for
English, substring for Chinese), so the evidence of a phrase agrees with where
it was found.

Example:
    >>> tokenize("The new vaccine is safe.", "en")
    ['the', 'new', 'vaccine', 'is', 'safe']
"""

from __future__ import annotations

import functools
import re
import unicodedata

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from themescope.media.language import is_chinese, jieba_tagged, jieba_words

# Spoken-transcript fillers, thanks, the days a broadcast speaks from ("today's") and very
# common verbs carry no theme: automatic transcripts are full of them and they would
# otherwise top every theme ("mm-hmm", "today's" were phrases of Xinwen Lianbo's opening).
_SPOKEN_EN = frozenset(
    """
    uh um ah oh okay ok yeah yes yep hey hi gonna wanna gotta just like really actually
    basically literally right well know think thing things lot lots going got get gets
    getting say says said saying want wants let lets make makes made come comes came look
    looks looking way need needs kind sort maybe sure ll ve re don didn doesn isn aren wasn
    weren won wouldn couldn shouldn can't don't it's that's i'm you're we're they're there's
    let's i've we've mm hmm mm-hmm uh-huh mhm er erm huh thank thanks today today's tonight
    tonight's tomorrow yesterday
    """.split()  # noqa: SIM905 - a word list reads best as words
)

# scikit-learn's list (from the Glasgow list) holds content words that matter
# in news ("bill", "fire", "system"); they must stay candidates.
_CONTENT_IN_SKLEARN = frozenset(
    """
    bill fire computer system interest mill cry thick thin detail describe find found show
    call full empty front back top bottom side fill move part name amount
    """.split()  # noqa: SIM905 - a word list reads best as words
)

STOP_WORDS_EN: frozenset[str] = (frozenset(ENGLISH_STOP_WORDS) - _CONTENT_IN_SKLEARN) | _SPOKEN_EN
"""English stop words: scikit-learn's list without its content words, plus spoken fillers."""

STOP_WORDS_ZH: frozenset[str] = frozenset(
    """
    的 了 是 在 我 有 和 就 不 人 都 一 一个 上 也 很 到 说 要 去 你 会
    着 没有 看 好 自己 这 那 他 她 它 们 我们 你们 他们 她们 它们 这个 那个
    这些 那些 这里 那里 这样 那样 什么 怎么 怎么样 为什么 因为 所以 但是 但
    而且 而 如果 就是 还是 可以 已经 还 又 把 被 让 对 从 向 与 及 等 之
    以 为 于 其 中 个 吗 呢 吧 啊 呀 嘛 哦 嗯 呃 哈 啦 并 或 或者 以及
    也是 只是 只 才 再 更 最 比 跟 给 里 得 地 过 来 下 没 能 应该 需要
    一些 一下 一样 一种 一直 这么 那么 多 大 小 些 每 各 该 此 即 则 却 啦
    哎 诶 然后 现在 今天 时候 非常 特别 大家 进行 通过 其中 其他 以后 之后
    之前 目前 当然 按照 根据 关于 对于 随着 作为 由于 为了 除了 以来 同时 可能 一定
    暨
    """.split()  # noqa: SIM905 - a word list reads best as words
)
"""Chinese stop words: function words and fillers common in speech (and 暨, "and",
which jieba's dictionary lists as an organisation)."""

_WORD_EN = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*(?:-[a-z0-9]+)*")
# Sentence and clause boundaries: phrases never cross them.
BOUNDARY = re.compile(r"[.!?;:,\n\r\t\"“”()\[\]{}。！？；：，、…（）《》「」『』【】]+")


def normalize(text: str) -> str:
    """Return ``text`` NFKC-normalised and lower-cased (full-width forms folded)."""
    return unicodedata.normalize("NFKC", text).lower()


def fold_token(token: str) -> str:
    """Return an English token with plural and possessive folded ("vaccines" -> "vaccine")."""
    # A light plural/possessive fold so that "vaccines" supports "vaccine";
    # anything heavier (stemming) would merge unrelated words.
    token = token.replace("’", "'")
    if token.endswith("'s"):
        token = token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
        token = token[:-1]
    return token


def tokenize_en(text: str) -> list[str]:
    """Return the lower-cased word tokens of English text (stop words kept)."""
    return _WORD_EN.findall(normalize(text))


def tokenize_zh(text: str) -> list[str]:
    """Return the jieba words of Chinese text, punctuation and spaces dropped."""
    words = jieba_words(normalize(text))
    return [
        w for w in (w.strip() for w in words) if w and not BOUNDARY.fullmatch(w) and _is_word(w)
    ]


def _is_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


@functools.lru_cache(maxsize=65536)
def posseg_zh(text: str) -> tuple[tuple[str, str], ...]:
    """Return the jieba words of Chinese text with their part-of-speech flags.

    Flags follow jieba's (ICTCLAS) set: "n" noun, "nr" person, "ns" place, "nt"
    organisation, "v" verb, "vn" verb used as a noun, "u" particle, "x" punctuation, ...
    Cached: names and candidates are read from the same clauses, and tagging is
    the slow part (jieba's HMM runs in Python).
    """
    return tuple((word, flag) for word, flag in jieba_tagged(normalize(text)) if word.strip())


def tokenize(text: str, lang: str) -> list[str]:
    """Return the tokens of ``text`` in language ``lang`` (stop words kept)."""
    return tokenize_zh(text) if is_chinese(lang) else tokenize_en(text)


def match_key(text: str, lang: str) -> str:
    """Return the form of ``text`` that :func:`contains_phrase` searches in.

    Computing it once per frame makes matching many phrases against many frames
    a plain substring test.
    """
    if is_chinese(lang):
        return normalize(text)
    return " " + " ".join(fold_token(t) for t in tokenize_en(text)) + " "


def phrase_key(phrase: str, lang: str) -> str:
    """Return the form of ``phrase`` to look for in a :func:`match_key`."""
    if is_chinese(lang):
        return normalize(phrase).strip()
    tokens = [fold_token(t) for t in tokenize_en(phrase)]
    return " " + " ".join(tokens) + " " if tokens else ""


def contains_phrase(text: str, phrase: str, lang: str) -> bool:
    """Whether ``phrase`` occurs in ``text``: whole tokens for English, substring for Chinese.

    Matching is case-insensitive and folds plurals ("vaccines" contains "vaccine").
    """
    key = phrase_key(phrase, lang)
    return bool(key.strip()) and key in match_key(text, lang)
