"""People's names in a transcript: who speaks or is quoted, kept apart from what it is about.

A theme's subject is what is said, not who says it: presenters, reporters and
experts are recorded as the theme's ``people`` and their names never become
candidate phrases. Found by:

Chinese
    jieba's part-of-speech tags for person names on a word of 2–4 characters
    whose first character is a common surname, and, since jieba also tags
    places, plants and organisations as names (金山, 石斛, 卫健委), only where
    the context says it is a person: a full name from jieba's dictionary
    (``nrfg``: 习近平, 李强), or a name (``nr``, ``nrt``) right after a role
    (记者, 专家, 总统: "专家王华庆") or right before a role or a verb of speech
    (介绍, 表示: "王华庆介绍"). A name found so anywhere in the run counts everywhere.

English, any case
    Name introducers: a title ("Dr. Dana Smith", "reporter Dana Smith"), a
    network's possessive ("CBS's Dana Smith"), "I'm Dana", "my name is Dana",
    "Dana Smith reports". After a title any one or two words that are not stop
    words are taken; after the weaker introducers ("I'm", "... reports") a word
    must also be rare in general English (Zipf below :data:`RARE_ZIPF`, so "I'm
    glad" is not a name) or capitalised in mixed-case text.

English, mixed case only
    Two or three capitalised words inside a sentence (not its first word, not after
    "the", "in", "at", ... which introduce places and organisations) whose last
    word, the surname, is rare in general English: "Dana Bash" is a person, "New
    York" ("york" is common) and "Los Angeles" are not.

Transcripts written ALL IN CAPITALS (broadcast closed captions are) carry no
case information, so only the introducers find names there; a name never
introduced stays a candidate phrase, and its rarity in general language may
then rank it.

Example:
    >>> sorted(find_names(["Dr. Dana Smith says boosters help."], "en"))
    ['dana smith']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from themescope.themes.background import zipf
from themescope.themes.text import BOUNDARY, STOP_WORDS_EN, STOP_WORDS_ZH, normalize, posseg_zh

RARE_ZIPF = 4.5
"""Below this Zipf frequency a word is rare enough in general English to be a surname."""

_ABBREVIATED = r"dr|prof|sen|gov|rep|mr|mrs|ms|gen|sgt|det|lt|col|capt"
_TITLES = (
    r"doctor|professor|senator|governor|mayor|representative|secretary|judge|president|"
    r"reporter|correspondent|anchor|meteorologist|commissioner|chancellor|minister|"
    r"officer|sergeant|detective|coach|" + _ABBREVIATED
)
_NETWORKS = r"cbs|nbc|abc|cnn|fox|cnbc|msnbc|pbs|bbc|ctv|cbc|npr|tsn|cgtn|cctv|global"
_NAME_WORD = r"[A-Za-z][A-Za-z'’\-]+"
# (pattern, strong): after a strong introducer any non-stop word is a name.
_INTRODUCERS = (
    # Only an abbreviation takes a full stop: "the governor. Lawmakers" is no name.
    (
        re.compile(
            rf"\b(?:(?:{_ABBREVIATED})\.|{_TITLES})[ \t]+({_NAME_WORD}(?:[ \t]+{_NAME_WORD})?)",
            re.I,
        ),
        True,
    ),
    (re.compile(rf"\b(?:{_NETWORKS})['’]s\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)", re.I), True),
    (
        re.compile(rf"\b(?:i['’]m|i am|my name is)\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)", re.I),
        False,
    ),
    (re.compile(rf"\b({_NAME_WORD}\s+{_NAME_WORD}),?\s+report(?:s|ing)\b", re.I), False),
)
_TITLE_WORD = re.compile(rf"(?:{_TITLES})", re.I)
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)\b")
_PLACE_WORDS = frozenset(["the", "in", "at", "from", "to", "of", "for", "across", "near", "into"])
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")

# The commonest Chinese surnames (over 85 % of the population); a name-tagged
# word starting otherwise is more often an organisation or a mis-tag.
_SURNAMES_ZH = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤习"
)
_NAME_FLAGS_ZH = frozenset({"nr", "nrt"})
_ROLES_ZH = frozenset(
    """
    记者 主持人 专家 教授 院士 医生 护士 主任 书记 总书记 主席 总理 副总理 部长 局长 市长
    省长 县长 村长 委员 代表 董事长 总经理 经理 总统 首相 外长 发言人 大使 队长 教练 老师
    校长 研究员 工程师 村民 居民 市民 负责人 工作人员 志愿者 同志 先生 女士 博士
    """.split()  # noqa: SIM905 - a word list reads best as words
)
_SPEECH_ZH = frozenset("说 表示 介绍 指出 强调 认为 告诉 称 说道 提到 解释 回忆".split())  # noqa: SIM905


def find_names(texts: Iterable[str], lang: str) -> Counter[str]:
    """Return the people named in ``texts`` with how often each was found.

    Args:
        texts: Passages of one run (transcript text, captions, on-screen text).
        lang: "zh" (or another Chinese code) for jieba's name tags; anything
            else reads the text as English.

    Returns:
        Names, lower-cased for English, counted over ``texts``.
    """
    names: Counter[str] = Counter()
    chinese = normalize(lang).split("-")[0] in {"zh", "cmn", "yue", "chi", "zho"}
    for text in texts:
        names.update(_names_zh(text) if chinese else _names_en(text))
    return names


def _names_zh(text: str) -> list[str]:
    found: list[str] = []
    for clause in BOUNDARY.split(normalize(text)):
        words = posseg_zh(clause)
        for i, (word, flag) in enumerate(words):
            if not (2 <= len(word) <= 4 and word[0] in _SURNAMES_ZH):
                continue
            before = words[i - 1][0] if i > 0 else ""
            after = words[i + 1][0] if i + 1 < len(words) else ""
            if flag == "nrfg" or (
                flag in _NAME_FLAGS_ZH
                and (before in _ROLES_ZH or after in _ROLES_ZH or after in _SPEECH_ZH)
            ):
                found.append(word)
    return found


def _names_en(text: str) -> list[str]:
    text = normalize(text) if text.isupper() else text
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    found: list[str] = []
    for pattern, strong in _INTRODUCERS:
        for match in pattern.finditer(text):
            words = _name_words(match.group(1).split(), strong, mixed)
            if words:
                found.append(" ".join(words).lower())
    if mixed:
        found.extend(_capitalised_names(text))
    return found


def _name_words(words: Sequence[str], strong: bool, mixed: bool) -> list[str]:
    kept: list[str] = []
    for word in words:
        lower = word.lower().strip("'’")
        if lower in STOP_WORDS_EN or lower in STOP_WORDS_ZH:
            break
        if mixed and not word[0].isupper():
            break
        if not strong and not (mixed or zipf(lower, "en") < RARE_ZIPF):
            break
        kept.append(lower)
    return kept


def _capitalised_names(text: str) -> list[str]:
    found: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run and _TITLE_WORD.fullmatch(run[0]):
            del run[0]
        if 2 <= len(run) <= 3 and zipf(run[-1].lower(), "en") < RARE_ZIPF:
            found.append(" ".join(run).lower())
        run.clear()

    tokens = text.split()
    for i, token in enumerate(tokens):
        clean = token.strip(',;:.!?"“”()')
        sentence_start = i == 0 or bool(_SENTENCE_END.search(tokens[i - 1]))
        after_place_word = i > 0 and tokens[i - 1].lower() in _PLACE_WORDS
        if (
            _CAPITALISED.fullmatch(clean)
            and not sentence_start
            and clean.lower() not in STOP_WORDS_EN
            and (run or not after_place_word)
        ):
            run.append(clean)
            if token.endswith(clean):
                continue
        flush()
    flush()
    return found
