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
    jieba with part-of-speech (jieba.posseg); candidates are whole jieba words and
    compounds of them, never a piece of a word. Clause punctuation and a pause (a
    space between Chinese characters) end a run. Particles, conjunctions,
    adverbs, pronouns, numerals, measure words, time and direction words, a
    spoken date (八号), the station's or a programme's name (新闻联播), the stop
    words and a person (a name the people module found, or a full name from
    jieba's dictionary: 习近平, 李强) break a run too, and a name never joins a
    role (主持人 + 劳春燕). A set phrase (jieba's
    "l" and "i") is read by its parts: a noun at its end makes it a noun
    (货物贸易); a pronoun, numeral or preposition at its start, a particle, time
    or direction word at its end, or an adverb before a verb make it grammar
    (相对来说, 各具特色, 不断完善), which breaks a run; otherwise it is a
    predicate. A word stands alone as a candidate when it is a noun (n, nz, ns,
    nt, nw), a verb used as a noun (vn), an abbreviation (j), or, for verbs,
    adjectives and predicate set phrases, when it is rare in general Chinese
    (Zipf below ``rare_zipf``: 接种 yes, 出现 or 是不是 no). Adjacent words of a
    run merge into compounds of up to ``max_words_zh`` words (加强 + 针 = 加强针):
    a noun compound, or a verb with its whole object. A compound holding a verb
    ends only where the object ends (做好老年人 is cut from 做好老年人疫苗接种,
    建设迈出 from 建设迈出重大步伐), an institution's name only at its head
    (龙阳街社区卫生 is cut from 龙阳街社区卫生服务中心), and a preposition ends
    none (西宁至).

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

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from themescope.media.background import FLOOR_ZIPF, zipf
from themescope.media.language import contains_han, dictionary_flag, is_chinese, join_texts
from themescope.themes.base import ThemeMaterial
from themescope.themes.people import (
    _ROLES_ZH,
    _SURNAMES_ZH,
    BROADCASTERS,
    BROADCASTERS_ZH,
    inflected,
)
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

HEAD_ZIPF = 5.3
"""A noun that an adjective said once is quoted with is rarer than this in general English
(contact 5.0, player 5.2): commoner words after an adjective are mostly adverbs or verbs
(far 5.5, help 5.8)."""
_INSIDE_EN = frozenset({"of"})
_GLUED_CLOCK = re.compile(r"(?<=[^\W\d_])(?=\d{1,2}:\d{2}\b)")
"""A clock read onto the word before it: the bug "LIVE 12:17" is read "LIVE12:17"."""
# Adverbs, time words, predicative adjectives and the adjectives news puts before its nouns
# end no noun phrase ("line today", "digital rural" of "digital rural development").
_NOT_LAST_EN = frozenset(
    """
    today tonight tomorrow yesterday now here there also still even ever very much many
    again ago away later soon already good great bad new old big little small high low
    long short same different whole able sure certain possible important available
    rural urban digital economic political social national international local global public
    foreign domestic military financial environmental ecological agricultural industrial
    cultural historic historical strategic technological medical regional provincial federal
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
# A set phrase is grammar when it opens with a pronoun, numeral, preposition, time
# word, conjunction or particle (各具特色, 十分关心, 从今天起) or closes with a
# particle, conjunction, adverb, direction, preposition, time or modal word
# (相对来说, 今年以来, 远道而来).
_GRAMMAR_OPENS_ZH = frozenset("rmptcu")
_GRAMMAR_CLOSES_ZH = frozenset("ucdfpty")
_SET_PHRASE_FLAGS_ZH = frozenset({"l", "i"})
_VERB_FLAGS_ZH = frozenset({"v", "vd", "vg", "z"})
_NAME_FLAGS_ZH = frozenset({"nr", "nrt"})
_MODIFIER_FLAGS_ZH = frozenset({"a", "an", "b"})
_INSTITUTIONS_ZH = tuple(
    "中心 委 委员会 局 厅 部 院 医院 学院 大学 学校 研究所 公司 集团 协会 银行 办公室".split()  # noqa: SIM905
)
# A pause in speech recognition output: a space between Chinese characters.
_BOUNDARY_KEPT = re.compile(f"({BOUNDARY.pattern})")
_PAUSE_ZH = re.compile(r"(?<=[\u3400-\u9fff])\s+|\s+(?=[\u3400-\u9fff])")
_NUMERALS_ZH = frozenset("〇零一二两三四五六七八九十百千万亿几多半整每第")
_DATE_UNITS_ZH = frozenset("号日月年")


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
    for clause in BOUNDARY.split(_GLUED_CLOCK.sub(" ", text)):
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
                # a possessive opens the noun phrase it owns ("china's rural revitalization")
                possessive = last.endswith(("'s", "’s"))
                ends = _edge_en(last, name_tokens) and (n == 1 or _ends_np(last)) and not possessive
                if ends and (n == max_words or "of" in gram) and i + n < len(tokens):
                    # the noun phrase goes on past the longest candidate, or past the
                    # object of its "of": a cut ("directives of general" of "... of
                    # general secretary xi jinping")
                    ends = not _goes_on_en(tokens[i + n], name_tokens)
                if ends and not _furniture_en(gram):
                    out.add(tuple(fold_token(t) for t in gram), " ".join(gram))


_GREETINGS_EN = frozenset(
    ("good morning", "good afternoon", "good evening", "good night", "dear viewers")
)


def _furniture_en(gram: Sequence[str]) -> bool:
    """Whether ``gram`` is no topic: a reading off a graphic, a channel, or no noun phrase.

    A number after the first word makes a reading ("ssw 27-37 km", "sun 6 pm"); a
    broadcaster's name, with "news" or alone, is the station naming itself ("ctv",
    "global news"); a greeting opens or closes a programme, whatever its story ("good
    evening"); an adverb in -ly opens no noun phrase ("currently toronto"), and
    a participle alone is a verb's ("honoured"; -ing forms are often nouns: "flooding").
    """
    if any(t[0].isdigit() for t in gram[1:]):
        return True
    if all(t in BROADCASTERS or t == "news" for t in gram):
        return True
    if " ".join(gram) in _GREETINGS_EN:
        return True
    return inflected(gram[0], ("ly",)) or (len(gram) == 1 and inflected(gram[0], ("ed",)))


def _goes_on_en(token: str, name_tokens: set[str]) -> bool:
    """Whether ``token`` after a phrase carries its noun phrase on (a noun, not a verb)."""
    continues = _edge_en(token, name_tokens) or token in name_tokens
    return continues and _ends_np(token) and not inflected(token)


def _ends_np(token: str) -> bool:
    return token not in _NOT_LAST_EN and zipf(token, "en") < COMMON_LAST_ZIPF


def _edge_en(token: str, name_tokens: set[str]) -> bool:
    return token not in STOP_WORDS_EN and token not in name_tokens and len(token) >= 2


def _extract_zh(
    text: str, out: ThemeCandidates, names: set[str], max_words: int, rare_zipf: float
) -> None:
    parts = _BOUNDARY_KEPT.split(text)
    for clause, delimiter in zip(parts[::2], [*parts[1::2], ""], strict=True):
        stretches = _PAUSE_ZH.split(clause)
        for j, stretch in enumerate(stretches):
            listed = j == len(stretches) - 1 and delimiter.startswith("、")
            _extract_stretch(stretch, out, names, max_words, rare_zipf, listed)


def _extract_stretch(
    text: str,
    out: ThemeCandidates,
    names: set[str],
    max_words: int,
    rare_zipf: float,
    listed: bool,
) -> None:
    """Add the candidates of a stretch of text; ``listed``: an enumeration comma follows it."""
    tagged = [*posseg_zh(text), ("", "x")]
    run: list[_Word] = []
    for i, (word, flag) in enumerate(tagged):
        if word and _is_token(word):
            out.n_tokens += 1
        kind = _kind_zh(word, flag)
        if kind != "grammar" and word not in names and not _name_like(word, flag):
            if i and _name_and_role(tagged[i - 1], tagged[i]):
                _compounds(run, out, max_words)
                run = []
            run.append(_word_zh(word, flag, kind, rare_zipf))
            continue
        if run and _suffix_zh(word, flag):
            run.append(_Word(word, False, opens=False, closes=True, head=True, verb=False))
            continue
        # The object goes on after 之, which binds two nouns (感知生态 of 感知生态之变),
        # or an enumeration comma (把握数字化 of 把握数字化、网络化、智能化方向); before
        # 的 a verb and its object are mostly a whole relative clause (接种疫苗的人).
        _compounds(run, out, max_words, object_goes_on=word == "之" or (listed and not word))
        run = []


def _name_like(word: str, flag: str) -> bool:
    """Whether ``word`` reads as a person's name: one jieba knows (习近平), or one it guesses.

    jieba guesses a name (``nr`` for a word its dictionary lacks) for a surname and one or
    two characters: a person the people module found no role for, or speech recognition's
    misreading (朱桓 for 朱鹮, the crested ibis). Either way it is no phrase to quote;
    a name in its dictionary stays one (安吉, a county, is tagged ``nr`` too).
    """
    if flag == "nrfg":
        return True
    return (
        flag == "nr"
        and 2 <= len(word) <= 3
        and word[0] in _SURNAMES_ZH
        and dictionary_flag(word) is None
    )


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


def _name_and_role(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two adjacent words are a name and a role (主持人劳春燕, 卫健委专家).

    The roles are the people module's, which reads a name beside one as a person's.

    jieba tags organisations as names too (卫健委), so such a word stays a
    candidate on its own; only the pair is never one. Whether it is a person is
    for :func:`~themescope.themes.people.find_names`, whose names arrive in ``names``.
    """
    return (first[1] in _NAME_FLAGS_ZH and second[0] in _ROLES_ZH) or (
        first[0] in _ROLES_ZH and second[1] in _NAME_FLAGS_ZH
    )


def _kind_zh(word: str, flag: str) -> str:
    """``noun``, ``predicate``, ``preposition``, ``other`` or ``grammar`` (breaks a run)."""
    if word in STOP_WORDS_ZH or word in STOP_WORDS_EN or not _is_token(word):
        return "grammar"
    if word in BROADCASTERS_ZH:  # the station naming itself breaks a phrase like a pause
        return "grammar"
    if _is_date_zh(word):
        return "grammar"
    if flag in _SET_PHRASE_FLAGS_ZH:
        return _set_phrase_kind(word)
    if flag[0] in _FUNCTION_FLAGS_ZH or flag == "ad":
        return "grammar"
    if flag.startswith("p"):
        # Multi-character prepositions (按照, 关于) are grammar; a one-character "p"
        # is often jieba mis-tagging a noun such as 针 in 加强针.
        return "grammar" if len(word) > 1 else "preposition"
    if flag in _NOUN_FLAGS_ZH:
        return "noun"
    return "predicate" if flag in _PREDICATE_FLAGS_ZH else "other"


def _is_date_zh(word: str) -> bool:
    # jieba tags a spoken date as a noun in context (当地时间八号): a time word.
    number = word[:-1]
    return (
        bool(number)
        and word[-1] in _DATE_UNITS_ZH
        and all(ch in _NUMERALS_ZH or ch.isdigit() for ch in number)
    )


@functools.lru_cache(maxsize=8192)
def _set_phrase_kind(word: str) -> str:
    first = _longest_word(word[:i] for i in range(len(word) - 1, 0, -1))
    last = _longest_word(word[i:] for i in range(1, len(word)))
    opens, closes = dictionary_flag(first) or "x", dictionary_flag(last) or "x"
    if opens[0] in _GRAMMAR_OPENS_ZH or closes[0] in _GRAMMAR_CLOSES_ZH:
        return "grammar"
    if closes in _NOUN_FLAGS_ZH:
        return "noun"
    return "grammar" if opens[0] == "d" else "predicate"


def _longest_word(parts: Iterable[str]) -> str:
    """The first of ``parts`` (longest first) in jieba's dictionary, else the last."""
    part = ""
    for part in parts:
        if dictionary_flag(part) is not None:
            return part
    return part


@dataclass(frozen=True)
class _Word:
    text: str
    alone: bool  # may stand alone as a candidate
    opens: bool  # may start a compound
    closes: bool  # may end a compound
    head: bool  # a noun (or one character) that a common verb may lead: 加强 + 针
    verb: bool  # takes an object: a compound holding it ends where the object ends
    preposition: bool = False  # leads nothing, and ends a compound only before a verb
    object: bool = False  # a noun or adjective, which goes on the object of a verb before it
    institution: bool = False  # the head of an institution's name: 服务中心, 卫健委
    place: bool = False
    nominal_verb: bool = False  # a verb used as a noun (vn): it qualifies a noun after it


def _word_zh(word: str, flag: str, kind: str, rare_zipf: float) -> _Word:
    rare = zipf(word, "zh") < rare_zipf
    predicate = kind == "predicate" and not rare
    noun = kind == "noun"
    preposition = kind == "preposition"
    return _Word(
        text=word,
        alone=len(word) >= 2 and (noun or rare),
        opens=not predicate and not preposition,
        closes=not predicate,
        head=flag in _TRUE_NOUN_FLAGS_ZH or (len(word) == 1 and not predicate),
        verb=flag in _VERB_FLAGS_ZH or (kind == "predicate" and flag in _SET_PHRASE_FLAGS_ZH),
        preposition=preposition,
        object=(noun and flag != "vn") or flag in _MODIFIER_FLAGS_ZH,
        institution=word.endswith(_INSTITUTIONS_ZH),
        place=flag == "ns",
        nominal_verb=flag == "vn",
    )


def _compounds(
    run: Sequence[_Word], out: ThemeCandidates, max_words: int, *, object_goes_on: bool = False
) -> None:
    words = [w.text for w in run]
    for i, word in enumerate(run):
        if word.alone:
            out.add((word.text,), word.text)
        if word.preposition:
            continue
        for n in range(2, max_words + 1):
            if i + n > len(run):
                break
            last = run[i + n - 1]
            if not (last.closes and (word.opens or last.head)):
                continue
            if i + n < len(run) and _cut_before(run[i : i + n], run[i + n]):
                continue
            if i + n == len(run) and object_goes_on and word.verb:
                continue
            if _clause(run[i : i + n]):
                continue
            gram = words[i : i + n]
            out.add(tuple(gram), _join_zh(gram))


def _clause(gram: Sequence[_Word]) -> bool:
    """Whether ``gram`` is a subject and its predicate: a noun, then a one-character verb.

    A one-character verb qualifies no noun (接种点 is a site, 增活力 only ever a
    predicate), so after a noun it says what the noun does: 农村增活力 is a clause of
    农业增效益、农村增活力, no unit a researcher would quote.
    """
    return any(
        before.head and len(before.text) > 1 and verb.verb and len(verb.text) == 1
        for before, verb in itertools.pairwise(gram)
    )


def _cut_before(gram: Sequence[_Word], after: _Word) -> bool:
    """Whether a compound ``gram`` followed in its run by ``after`` is cut from a larger unit."""
    if gram[0].verb and (after.opens or not after.verb):
        # A verb takes its whole object (做好老年人 of 做好老年人疫苗接种工作), which
        # only a common verb ends (加强针 of 加强针出现): a rare one is a noun's (疫苗接种).
        return True
    if gram[-1].preposition and not after.verb:
        return True  # 至 of 西宁至成都 leads a noun; 针 of 加强针出现 is jieba's mis-tag
    if after.object and any(w.verb for w in gram):
        return True  # the object goes on: 建设迈出 of 建设迈出重大步伐
    if gram[-1].nominal_verb and after.head:
        return True  # a verb used as a noun qualifies the noun after it: 民兵应急 of 民兵应急连
    # An institution's name is one unit: 龙阳街社区卫生 of 龙阳街社区卫生服务中心.
    return after.institution and not gram[-1].place


def _join_zh(words: Sequence[str]) -> str:
    out = words[0]
    for word in words[1:]:
        # Two Latin words inside Chinese text keep their space.
        out += f" {word}" if out[-1].isascii() and word[0].isascii() else word
    return out


def keep_recurring(themes: Sequence[ThemeCandidates], min_count: int) -> None:
    """Drop, in place, multi-word candidates seen fewer than ``min_count`` times in the run.

    A phrase said once is kept where it is the setting of a single English word that
    says little alone (:func:`_settings_of_single_words`). :func:`nested_counts` then
    gives the word nothing of its own.
    """
    total: Counter[Key] = Counter()
    for theme in themes:
        total.update(theme.counts)
    for theme in themes:
        settings = _settings_of_single_words(theme, total, min_count)
        for key in [
            k for k in theme.counts if len(k) > 1 and total[k] < min_count and k not in settings
        ]:
            del theme.counts[key]


def _settings_of_single_words(
    theme: ThemeCandidates, total: Counter[Key], min_count: int
) -> set[Key]:
    """The phrases that say what a single English word alone would cut short.

    - A word general English does not know (a name's part: "grealis" of "WALT GREALIS
      SPECIAL ACHIEVEMENT AWARD") is quoted in the longest candidate holding it
      wherever the run says it (of those, the one it opens first: an English head
      comes last).
    - A word said once before a noun the run says again (one rarer than
      :data:`HEAD_ZIPF`) is that noun's modifier: an adjective alone is no topic
      ("unavoidable" of "unavoidable contact", where "contact" recurs; "taller player").
    """
    phrases_with: dict[str, list[Key]] = {}
    for key in theme.counts:
        if len(key) > 1:
            for word in set(key):
                phrases_with.setdefault(word, []).append(key)
    out = set()
    for key in theme.counts:
        word = key[0]
        if len(key) > 1 or not (word.isascii() and word.isalpha()):
            continue
        holders = [k for k in phrases_with.get(word, ()) if total[k] == total[key]]
        if zipf(theme.surface(key), "en") <= FLOOR_ZIPF:
            if holders:
                out.add(max(holders, key=lambda k: (len(k), -k.index(word))))
        elif total[key] == 1:
            modified = [k for k in holders if len(k) == 2 and k[0] == word]
            out.update(
                k
                for k in modified
                if total[k[1:]] >= min_count
                and zipf(theme.surface(k[1:]), "en") < HEAD_ZIPF
                and not inflected(k[1], ("ing", "ed"))  # a verb's form: "award happening"
            )
    return out


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
