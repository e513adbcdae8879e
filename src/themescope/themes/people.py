"""People's names in a transcript: who speaks or is quoted, kept apart from what it is about.

A theme's subject is what is said, not who says it: presenters, reporters and
experts are recorded as the theme's ``people`` and their names never become
candidate phrases. Every word of a name is dropped from the run's candidates,
so a place or a concept taken for a name costs the run its subject: where the
evidence is thin, a word stays a phrase. Found by:

Chinese
    jieba's part-of-speech tags for person names on a word of 2–4 characters
    whose first character is a common surname, and, since jieba also tags
    places, plants and organisations as names (金山, 石斛, 卫健委), only where
    the context says it is a person: a full name from jieba's dictionary
    (``nrfg``: 习近平, 李强), or a name (``nr``, ``nrt``) right after a role
    (记者, 专家, 总统: "专家王华庆") or right before a role or a verb of speech
    (介绍, 表示: "王华庆介绍"). A name found so anywhere in the run counts everywhere.

English: introducers, in any case
    A name is looked for where a sentence leaves a slot for one, with patterns
    matched case-insensitively, so that broadcast captions written ALL IN
    CAPITALS are read as well as mixed-case text.

    *Strong* slots hold a name whatever its words: after a title ("Dr. Dana
    Smith", "reporter Dana Smith", "Premier Li Qiang"), "my / his / her name
    is ...", and thanks closed by punctuation ("thank you, Paul."). One to
    three words that are neither stop words nor terms of address ("thanks,
    guys") are taken.

    *Weak* slots often hold something else ("I'm glad", "this is breaking
    news", "with scattered flurries"): "I'm / I am / this is ...", a network's
    possessive ("CBS's ...", "Global News' ..."), "... reports / reporting",
    "..., Global News" (a sign-off), "... is in for ..." (a presenter standing
    in), "here / joined / talking with ...", and the vocative after an
    answering interjection ("yeah, Glenn, ..."). In mixed-case text their words
    must be capitalised, and the last one not written in lower case elsewhere in
    the run ("This is Breaking News"). In upper-case text, where case tells nothing, the
    last word of a name in any slot must not be written in lower case elsewhere in the run
    ("GOVERNMENT MINISTER POLICY" beside "the policy"), and a name is read as two words,
    a given name and a surname ("I'M CURIOUS" is no
    name, "I'M GLENN HEALY" is; a vocative closed by commas needs one word),
    none of them an inflected English word (an English word plus -ly, -ed or
    -ing: "honestly", "thrilled", "looking"), a place head or modifier, and
    one of them rare in general English (Zipf below :data:`RARE_ZIPF`): "I'M
    DANA SMITH" is a name, "I'M PRETTY SURE" is not. "This is ..." introduces
    things as often as people ("THIS IS HOCKEY NIGHT"), so there the surname
    itself must be rare.

English, mixed case only: capitalised sequences
    A sequence of capitalised words (not English compounds such as
    "British-made") is cut into parts after titles (dropped), after the head
    words of places and organisations (:data:`NAME_HEADS`) and after
    possessives: "the State Council Zhang Guoqing" gives "State Council" and
    "Zhang Guoqing". A part of two or three words whose last word, the
    surname, is rare in general English is a name, unless it opens the
    sequence after "the", "in", "at", ... (which introduce places and
    organisations) or after a capitalised function word inside a sentence
    (title case: "Resistance Against Japanese Aggression"), or the run itself
    writes one of its words in lower case: a person's name is capitalised
    wherever it occurs, so "Ecological Civilization" in a text that also says
    "ecological civilization construction" is a title-cased term, not a
    person. A sequence opening a sentence loses its first word (capitalised by
    position only).

Places and organisations, any case and any route
    A name never ends in the head word of a place, organisation, event or
    document (:data:`NAME_HEADS`: "Zhejiang Province", "Gaza Strip", "York
    Region", "Juno Week") nor starts with a compass or place modifier
    ("Northern", "Inner", "New"): such a "name" is dropped.

Roles
    The word that introduces a name gives its role: "主持人劳春燕" is 劳春燕, 主持人;
    "reporter Dana Smith" a reporter; "CBS's Jane Doe reports" a CBS reporter.

Name straps (on-screen text)
    A broadcast names who speaks in a strap: a name, then a position or
    affiliation, on one line ("陈霞 湖北省武汉市汉阳区龙阳街社区卫生服务中心",
    "JANE DOE, CBS NEWS") or on two stacked lines, in the lower third of the frame
    (the caller passes those lines where their places are known; see
    :func:`themescope.themes.describe.lower_third_texts`). A line is a strap's name only
    when the whole of it is a name: Chinese, 2-4 characters starting with a surname
    that jieba tags as a person; English, two or three capitalised words, the
    last rare in general English, none written in lower case elsewhere in the
    run, no place ("aegis", "David Thank" are no names: one word, a common word).
    A strap with only a name gives a person without a role.

Transcripts written ALL IN CAPITALS carry no case information, so only the
introducers find names there; a name never introduced stays a candidate
phrase, and its rarity in general language may then rank it.

Example:
    >>> sorted(find_names(["Dr. Dana Smith says boosters help."], "en"))
    ['dana smith']
    >>> sorted(find_names(["THANK YOU, PAUL. HIS NAME IS RANDY LENNOX."], "en"))
    ['paul', 'randy lennox']
    >>> find_people(["主持人劳春燕"], "zh").roles
    {'劳春燕': '主持人'}
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from themescope.media.background import zipf
from themescope.themes.text import BOUNDARY, STOP_WORDS_EN, STOP_WORDS_ZH, normalize, posseg_zh

RARE_ZIPF = 4.5
"""Below this Zipf frequency a word is rare enough in general English to be a surname."""
INFLECTED_STEM_ZIPF = 3.0
"""A word ending in -ly, -ed or -ing whose stem is this common is an inflected English word."""

NAME_HEADS = frozenset(
    """
    province provinces prefecture county counties district region regions township village
    villages city town state country island islands peninsula coast gulf strip sea ocean river
    delta valley basin plain plains plateau desert mountain mountains mount forest garden
    gardens square avenue road highway expressway railway railroad bridge tunnel canal dam
    port harbour harbor airport station terminal corridor zone area base falls springs beach
    mausoleum palace museum tower centre center stadium arena hospital school college
    university academy institute library ministry department bureau office agency
    administration authority commission committee council congress parliament assembly senate
    party government army navy forces police company corporation group bank fund association
    federation union league club network media news channel week festival games cup
    championship olympics award awards prize conference summit forum expo exhibition war act
    regulation regulations guidelines plan strategy initiative programme program project
    campaign
    """.split()  # noqa: SIM905 - a word list reads best as words
)
"""Head words of places, organisations, events and documents: a name never ends in one.

Words that are also common surnames (Hall, Hill, Park, Lake, Law, Day, Temple,
Court, Bay, Street) are left out; the capitalised-sequence rule rejects them by
their frequency in general English, and a title before them ("Dr. Hall") still
makes a name."""

_PLACE_MODIFIERS = frozenset(
    """
    north south east west northern southern eastern western northeast northwest southeast
    southwest central upper lower inner outer greater new
    """.split()  # noqa: SIM905 - a word list reads best as words
)
# Terms of address fill a vocative slot as names do ("thanks, guys"), and courtesies
# follow a name in one ("THANK YOU, DAVID THANK YOU" named "david thank").
_ADDRESS = frozenset(
    """
    sir madam maam ma'am guys folks everyone everybody friends friend team buddy pal dude
    man bud kids ladies gentlemen gents doc boss
    thank thanks please welcome
    """.split()  # noqa: SIM905 - a word list reads best as words
)

_ABBREVIATED = r"dr|prof|sen|gov|rep|mr|mrs|ms|gen|sgt|det|lt|col|capt"
_TITLES = (
    r"doctor|professor|senator|governor|mayor|representative|secretary|judge|president|"
    r"premier|chancellor|minister|ambassador|envoy|comrade|chairman|chairwoman|spokesperson|"
    r"spokesman|spokeswoman|aide|director-general|secretary-general|reporter|correspondent|"
    r"anchor|meteorologist|commissioner|villager|officer|sergeant|detective|coach|" + _ABBREVIATED
)
# A capitalised sequence is also cut after these, which are titles only when capitalised.
_SEQUENCE_TITLES = re.compile(rf"(?:{_TITLES}|general|vice|deputy|director|chief)", re.I)
_ABBREVIATION_ROLES = {
    "dr": "doctor",
    "prof": "professor",
    "sen": "senator",
    "gov": "governor",
    "rep": "representative",
    "gen": "general",
    "sgt": "sergeant",
    "det": "detective",
    "lt": "lieutenant",
    "col": "colonel",
    "capt": "captain",
    "mr": "",
    "mrs": "",
    "ms": "",
}
"""The role an abbreviated title gives ("Dr." a doctor); a form of address gives none."""
BROADCASTERS = frozenset(
    "cbs nbc abc cnn fox cnbc msnbc pbs bbc ctv cbc npr tsn cgtn cctv global citynews cp24".split()  # noqa: SIM905
)
"""Networks that name themselves in speech and on screen; no rule tells "CTV" from an
acronym a story is about, so they are listed."""
BROADCASTERS_ZH = frozenset(
    {
        *("央视", "央视新闻", "中央电视台", "中央广播电视总台", "总台", "本台", "本台消息"),
        *("新闻联播", "焦点访谈", "东方时空", "朝闻天下", "新闻30分"),  # its programmes
        *("系列报道", "专题报道", "系列评论"),  # and its words for their segments
    }
)
"""Chinese state TV's names for itself, its news programmes and their segments, as jieba
cuts them: the station naming itself ("新闻联播推出系列报道"), never what a story is about."""
_NETWORKS = "|".join(sorted(BROADCASTERS))
_WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*"
_NAME = rf"(?P<name>{_WORD}(?:[ \t]+{_WORD}){{0,2}})"
_END = r"(?=\s*(?:[.,!?;:]|$))"


@dataclass(frozen=True)
class _Slot:
    """A place in a sentence that introduces a name (see the module docstring)."""

    pattern: re.Pattern[str]
    strong: bool
    before: bool = False
    """The name comes before the introducer ("Dana Smith reports")."""
    min_words_caps: int = 2
    """Words a weak slot's name needs in upper-case text."""
    rare_surname: bool = False
    """In upper-case text the last word must be rare: the slot holds things as often as people."""
    role: str | None = None
    """The role the slot gives: a word, or "{title}" / "{network}" for the word it matched."""


def _slot(
    pattern: str,
    strong: bool,
    *,
    before: bool = False,
    min_words_caps: int = 2,
    rare_surname: bool = False,
    role: str | None = None,
) -> _Slot:
    return _Slot(re.compile(pattern, re.I), strong, before, min_words_caps, rare_surname, role)


_SLOTS = (
    # Only an abbreviation takes a full stop: "the governor. Lawmakers" is no name.
    _slot(
        rf"\b(?:(?P<title>{_ABBREVIATED})\.|(?P<title2>{_TITLES})\b)[ \t]+{_NAME}",
        True,
        role="{title}",
    ),
    _slot(rf"\b(?:my|his|her|their|your)\s+name(?:\s+is|['’]s)\s+{_NAME}", True),
    _slot(
        rf"\b(?:thank\s+you|thanks)(?:\s+(?:so|very)\s+much)?\s*,?\s+{_NAME}{_END}",
        True,
    ),
    _slot(rf"\b(?:i['’]m|i\s+am)\s+{_NAME}", False),
    _slot(rf"\bthis\s+is\s+{_NAME}", False, rare_surname=True),
    _slot(rf"\b(?P<network>{_NETWORKS})(?:\s+news)?['’]s?\s+{_NAME}", False, role="{network}"),
    _slot(rf"\b{_NAME},?\s+report(?:s|ing)\b", False, before=True, role="reporter"),
    _slot(
        rf"\b{_NAME},\s+(?P<network>{_NETWORKS})(?:\s+news)?{_END}",
        False,
        before=True,
        role="{network}",
    ),
    _slot(
        rf"\b{_NAME}\s+(?:is|are)\s+(?:filling\s+)?in\s+for\b",
        False,
        before=True,
        role="presenter",
    ),
    _slot(
        r"\b(?:here|joined|joining\s+(?:us|me)|joins\s+(?:us|me)|sat\s+down|spoke|speaking|"
        rf"talked|talking|chatted|chatting)\s+with\s+{_NAME}",
        False,
    ),
    _slot(
        rf"\b(?:yeah|yes|well|okay|ok|right|no)\s*,\s*(?P<name>{_WORD})\s*,",
        False,
        min_words_caps=1,
    ),
)
_PLACE_WORDS = frozenset(["the", "in", "at", "from", "to", "of", "for", "across", "near", "into"])
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")
_PUNCTUATION = ',;:.!?"“”()[]'
_POSSESSIVE = re.compile(r"['’]s$", re.I)

# The commonest Chinese surnames (over 85 % of the population); a name-tagged
# word starting otherwise is more often an organisation or a mis-tag.
_SURNAMES_ZH = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤习"
    # less common, but named on the news (主持人劳春燕, 发言人米锋)
    "劳米康海欧阳郎乔安"
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
_ADDRESS_ZH = frozenset(["同志", "先生", "女士"])
"""Forms of address among the roles: they introduce a name but say nothing of what the
person is (习近平同志 is "comrade", 习近平总书记 the General Secretary)."""


@dataclass
class People:
    """The people of a run's text, and what they are.

    Attributes:
        names: Names (lower-cased for English) with how often each was found.
        roles: The role of a name where a strap or an introduction gives one.
    """

    names: Counter[str] = field(default_factory=Counter)
    roles: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, role: str | None) -> None:
        """Count one mention of ``name``; the first role found is the name's role."""
        self.names[name] += 1
        if role and name not in self.roles:
            self.roles[name] = role


def find_people(texts: Iterable[str], lang: str, screens: Iterable[str] = ()) -> People:
    """Return the people named in ``texts`` and shown in name straps in ``screens``.

    Args:
        texts: Passages of one run (transcript text, captions, on-screen text).
        lang: "zh" (or another Chinese code) for jieba's name tags; anything
            else reads the text as English.
        screens: The on-screen text of each frame (its lower third where known),
            lines in reading order joined by newlines: name straps are read from them.
    """
    texts, screens = list(texts), list(screens)
    people = People()
    chinese = normalize(lang).split("-")[0] in {"zh", "cmn", "yue", "chi", "zho"}
    lower = frozenset() if chinese else _lower_case_words(texts)
    for text in texts:
        found = _names_zh(text) if chinese else _names_en(text, lower)
        for name, role in found:
            if chinese or not _place_like(name.split()):
                people.add(name, role)
    straps = {strap for screen in screens for strap in _straps(screen, chinese, lower)}
    for name, role in sorted(straps, key=lambda strap: strap[1] is None):
        people.add(name, role)
    return people


def find_names(texts: Iterable[str], lang: str) -> Counter[str]:
    """Return the people named in ``texts`` with how often each was found.

    Args:
        texts: Passages of one run (transcript text, captions, on-screen text).
        lang: "zh" (or another Chinese code) for jieba's name tags; anything
            else reads the text as English.

    Returns:
        Names, lower-cased for English, counted over ``texts``.
    """
    return find_people(texts, lang).names


def _straps(screen: str, chinese: bool, lower: frozenset[str]) -> list[tuple[str, str | None]]:
    """The name straps among one frame's on-screen lines: (name, role or None)."""
    lines = [line.strip() for line in screen.split("\n") if line.strip()]
    found: list[tuple[str, str | None]] = []
    for i, line in enumerate(lines):
        if chinese:
            first, _, rest = line.partition(" ")
        else:
            first, _, rest = line.partition(",")
        name = _strap_name(first.strip(), chinese, lower)
        if name is None:
            continue
        role = rest.strip() or None
        if role is None and i + 1 < len(lines):
            following = lines[i + 1]
            if _strap_name(following.partition(" " if chinese else ",")[0], chinese, lower) is None:
                role = following  # two stacked lines: the name above its role
        found.append((name, role))
    return found


def _strap_name(text: str, chinese: bool, lower: frozenset[str]) -> str | None:
    """``text`` as a name if the whole of it is a person's name (see the module docstring)."""
    if chinese:
        words = posseg_zh(normalize(text))
        if (
            len(words) == 1
            and words[0][1] in _NAME_FLAGS_ZH | {"nrfg"}
            and 2 <= len(text) <= 4
            and text[0] in _SURNAMES_ZH
        ):
            return text
        return None
    parts = text.split()
    if not 2 <= len(parts) <= 3 or not all(
        _capitalised(w) or (w.isupper() and w.isalpha()) for w in parts
    ):
        return None
    folded = [w.lower() for w in parts]
    if (
        zipf(folded[-1], "en") >= RARE_ZIPF
        or any(w in lower or w in STOP_WORDS_EN or w in _ADDRESS for w in folded)
        or _place_like(folded)
    ):
        return None
    return " ".join(folded)


def _names_zh(text: str) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
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
                role = before if before in _ROLES_ZH else after if after in _ROLES_ZH else None
                found.append((word, None if role in _ADDRESS_ZH else role))
    return found


def _lower_case_words(texts: Sequence[str]) -> frozenset[str]:
    """The words the run writes in lower case: common words, never part of a name."""
    return frozenset(word for text in texts for word in re.findall(_WORD, text) if word.islower())


def _names_en(text: str, lower: frozenset[str]) -> list[tuple[str, str | None]]:
    mixed = any(c.islower() for c in text) and any(c.isupper() for c in text)
    found: list[tuple[str, str | None]] = []
    roles: dict[str, list[str]] = {}
    for slot in _SLOTS:
        for match in slot.pattern.finditer(text):
            words = _slot_words(match.group("name").split(), slot, mixed)
            # A name is capitalised wherever the run writes it: a surname the run also
            # writes in lower case is a common word, after a weak slot ("This is Breaking
            # News") and, where capitals tell nothing, after any slot ("GOVERNMENT MINISTER
            # POLICY" beside "the policy"). A strong slot in mixed case is a name anyway.
            common = bool(words) and words[-1] in lower and not (mixed and slot.strong)
            if words and not common:
                name = " ".join(words)
                found.append((name, None))
                role = _slot_role(slot, match)
                if role:
                    roles.setdefault(name, []).append(role)
    if mixed:
        found.extend((name, None) for name in _capitalised_names(text, lower))
    return [(name, _joined_role(roles.get(name, []))) for name, _ in found]


def _slot_role(slot: _Slot, match: re.Match[str]) -> str | None:
    if slot.role == "{network}":
        return match.group("network").upper()
    if slot.role == "{title}":
        title = (match.group("title") or match.group("title2") or "").lower()
        return _ABBREVIATION_ROLES.get(title, title) or None
    return slot.role


def _joined_role(roles: Sequence[str]) -> str | None:
    """One role from a name's introductions: "CBS" and "reporter" make "CBS reporter"."""
    unique = list(dict.fromkeys(roles))
    networks = [r for r in unique if r.isupper()]
    others = [r for r in unique if not r.isupper()]
    if networks and others:
        return f"{networks[0]} {others[0]}"
    return unique[0] if unique else None


def _slot_words(words: Sequence[str], slot: _Slot, mixed: bool) -> list[str]:
    """The name in a slot's words: those that may be a name, read away from the introducer."""
    kept: list[str] = []
    for word in reversed(words) if slot.before else words:
        possessive = bool(_POSSESSIVE.search(word))
        if possessive and slot.before and kept:
            break  # "CBS's Jan Crawford reports": the possessive is not the name's
        bare = _POSSESSIVE.sub("", word)
        if not _may_be_name(bare, slot, mixed):
            break
        kept.append(bare.lower())
        if possessive:
            break  # nothing of a name follows its possessive
    if slot.before:
        kept.reverse()
    while kept and _SEQUENCE_TITLES.fullmatch(kept[0]):
        del kept[0]  # "thank you, Dr. Smith"
    if mixed:
        return kept
    # Upper case: read as a given name and a surname ("MIKE ARSENAULT REPORTS").
    kept = kept[-2:] if slot.before else kept[:2]
    if slot.strong:
        return kept
    # Common words ("I'M PRETTY SURE") are no name; a common surname ("DANA SMITH") is.
    rare = [zipf(word, "en") < RARE_ZIPF for word in kept]
    enough = len(kept) >= slot.min_words_caps
    return kept if enough and (rare[-1] if slot.rare_surname else any(rare)) else []


def _may_be_name(word: str, slot: _Slot, mixed: bool) -> bool:
    lower = word.lower()
    if lower in STOP_WORDS_EN or lower in STOP_WORDS_ZH or lower in _ADDRESS:
        return False
    if mixed:
        return word[0].isupper()
    if slot.strong:
        return True
    return not inflected(lower) and lower not in NAME_HEADS and lower not in _PLACE_MODIFIERS


def inflected(word: str, suffixes: Sequence[str] = ("ly", "ed", "ing")) -> bool:
    """Whether ``word`` is an English word plus one of ``suffixes`` ("honestly", "worried")."""
    for suffix in suffixes:
        stem = word[: -len(suffix)]
        if not word.endswith(suffix) or len(stem) < 3:
            continue
        stems = {stem}
        if suffix != "ly":
            stems.add(stem + "e")  # "excited", "having"
        if stem.endswith("i"):
            stems.add(stem[:-1] + "y")  # "worried", "happily"
        if stem[-1] == stem[-2]:
            stems.add(stem[:-1])  # "stopped", "running"
        if any(zipf(s, "en") >= INFLECTED_STEM_ZIPF for s in stems):
            return True
    return False


def _place_like(words: Sequence[str]) -> bool:
    return bool(words) and (words[-1] in NAME_HEADS or words[0] in _PLACE_MODIFIERS)


def _capitalised(word: str) -> bool:
    """A capitalised word that may be part of a name ("Okonjo-Iweala", not "British-made")."""
    letters = [c for c in word if c.isalpha()]
    return (
        bool(letters)
        and word[0].isupper()
        and any(c.islower() for c in letters)
        and all(c.isalpha() or c in "'’-" for c in word)
        # A common English word after a hyphen makes an English compound: "Seven-year-old".
        and not any(
            part.islower() and zipf(part, "en") >= RARE_ZIPF for part in word.split("-")[1:]
        )
    )


def _introduces_place(tokens: Sequence[str], i: int) -> bool:
    """Whether ``tokens[i]`` says that the capitalised words after it are no person.

    "the", "in", "at", ... introduce places and organisations; a capitalised
    function word inside a sentence ("War of Resistance Against Japanese
    Aggression") shows a title-cased name of a thing.
    """
    word = tokens[i].strip(_PUNCTUATION)
    if word.lower() in _PLACE_WORDS:
        return True
    opens = i == 0 or bool(_SENTENCE_END.search(tokens[i - 1]))
    return word[:1].isupper() and word.lower() in STOP_WORDS_EN and not opens


def _capitalised_names(text: str, lower: frozenset[str]) -> list[str]:
    """Names among the capitalised sequences of mixed-case text (see the module docstring)."""
    found: list[str] = []
    part: list[str] = []
    first_part = True
    opens_sentence = after_place_word = False

    def flush() -> None:
        nonlocal first_part
        words = [w.lower() for w in part]
        if opens_sentence and first_part and words:
            del words[0]
        if (
            2 <= len(words) <= 3
            and not (first_part and after_place_word)
            and zipf(words[-1], "en") < RARE_ZIPF
            and not any(w in lower or w in STOP_WORDS_EN for w in words)
            and not _place_like(words)
        ):
            found.append(" ".join(words))
        part.clear()
        first_part = False

    tokens = text.split()
    in_sequence = False
    for i, token in enumerate(tokens):
        clean = token.strip(_PUNCTUATION)
        bare = _POSSESSIVE.sub("", clean)
        if _capitalised(clean) and bare.lower() not in STOP_WORDS_EN:
            if not in_sequence:
                in_sequence, first_part = True, True
                opens_sentence = i == 0 or bool(_SENTENCE_END.search(tokens[i - 1]))
                after_place_word = i > 0 and _introduces_place(tokens, i - 1)
            if _SEQUENCE_TITLES.fullmatch(bare):
                flush()  # the title ends a part and is no part of the name
            else:
                part.append(bare)
                if bare != clean or bare.lower() in NAME_HEADS:
                    flush()  # a possessive or a head word ends a part
            if token.endswith(clean):
                continue
        if in_sequence:
            flush()
            in_sequence = False
    flush()
    return found
