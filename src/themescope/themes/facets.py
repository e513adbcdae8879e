"""Themes of one video as facets of one story: what is common, what sets each apart, a title.

The themes of one news item share its subject (a Chinese report on vaccinating
the elderly says 老年人, 接种 and 新冠 in every part of it). Listing those words
first in every theme hides what each part is about. :func:`facets` takes any
tagger's ranked phrases for all themes and

1. moves the phrases found in every theme (as a phrase of its list, or inside
   one: 新冠 is in a list holding 新冠疫苗) to a run-level ``common`` list, ordered
   by their mean rank; a phrase whose evidence found nothing in a theme's own
   material (``supported`` False: a careless LLM giving every theme the same
   tags) does not count as found there;
2. makes the top phrases distinct: where two themes lead with the same phrase,
   the one where it has less support (a smaller share of its frames; before
   evidence is attached, the lower score; the later theme on a tie) leads with
   its next phrase that no other theme leads with;
3. cuts each list to ``n_phrases`` and gives each theme a ``label``
   (:func:`theme_label`).

Example:
    >>> result = facets(tagger.tag(materials), n_phrases=10, materials=materials)  # doctest: +SKIP
    >>> [p.text for p in result.common], [t.label for t in result.themes]  # doctest: +SKIP
    (['老年人', '接种'], ['加强针', '不良反应', '疫苗接种点'])
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from themescope.media.language import contains_han, join_texts
from themescope.themes.base import Phrase, ThemeMaterial, ThemePhrases
from themescope.themes.text import contains_phrase, phrase_key, posseg_zh

MAX_LABEL_WORDS = 8
"""An on-screen text longer than this (in English words) is a sentence, no title."""
MAX_LABEL_CHARS_ZH = 20
"""An on-screen text longer than this (in characters, Chinese) is a sentence, no title."""
LABEL_TOP = 5
"""How many of a theme's top phrases an on-screen headline is matched against."""


@dataclass
class Facets:
    """The phrases of a run's themes, settled over all themes.

    Attributes:
        common: Phrases found in every theme (what the whole video is about), best first.
        themes: Each theme's result with common phrases removed, distinct top
            phrases, at most ``n_phrases`` phrases and a ``label``.
        unresolved: A message for each pair of themes left with the same top phrase.
    """

    common: list[Phrase]
    themes: list[ThemePhrases]
    unresolved: list[str]


def facets(
    results: Sequence[ThemePhrases],
    n_phrases: int = 10,
    materials: Sequence[ThemeMaterial] | None = None,
) -> Facets:
    """Return common phrases and each theme's distinct phrases and label (module docstring).

    Args:
        results: A tagger's results, one per theme, in theme order (not modified).
        n_phrases: Phrases kept per theme.
        materials: The themes' material, for on-screen headlines as labels.

    Returns:
        The settled phrases; with fewer than two themes holding phrases nothing is common.
    """
    lists = [list(r.phrases) for r in results]
    common = _common(lists)
    common_keys = {_key(p.text) for p in common}
    lists = [[p for p in phrases if _key(p.text) not in common_keys] for phrases in lists]
    unresolved = _distinct_tops(lists)
    people = {name for result in results for name in result.people}
    themes = []
    for t, (result, phrases) in enumerate(zip(results, lists, strict=True)):
        kept = phrases[:n_phrases]
        on_screen = materials[t].on_screen if materials is not None else []
        spoken = materials[t].texts if materials is not None else []
        label = theme_label(
            kept, on_screen, _lang(kept), people, list(result.roles.values()), spoken
        )
        themes.append(dataclasses.replace(result, phrases=kept, label=label))
    return Facets(common=common, themes=themes, unresolved=unresolved)


def theme_label(
    phrases: Sequence[Phrase],
    on_screen: Sequence[tuple[str, int]] = (),
    lang: str = "en",
    people: Collection[str] = (),
    roles: Sequence[str] = (),
    spoken: Sequence[str] = (),
) -> str | None:
    """Return a short title for a theme: an on-screen headline or its best phrase.

    A headline (short enough, :data:`MAX_LABEL_WORDS`) wins when it holds some of
    the theme's top :data:`LABEL_TOP` phrases, the better ranked the more (a
    phrase at rank r counts 1/(r+1)), ties going to the one shown in more frames.
    Where the theme has words said (``spoken``, its transcript texts), only phrases
    said there count: a headline belongs to the story told, while a graphic's text
    ("OFFICIAL APP") or a map's place names would otherwise support themselves,
    their words being phrases through the screen alone. A name strap is no
    headline: a line holding one of ``people`` (the run's names), a strap's role
    line (one of ``roles``), or a Chinese line that opens with a person's name and a
    space (陈霞 湖北省武汉市…). Otherwise the best of those phrases (the top
    phrase where none is said; in Chinese, the best that is no lone verb or
    adjective), English in the case the
    screen or the transcript writes it (:func:`as_written`: "North Bay") and its
    first letter capitalised. None with neither.

    On-screen lines reach here without boilerplate and without the lines that are
    no words (:mod:`themescope.media.furniture`), so a misread or a channel bug
    is no candidate either.
    """
    # Frames hold pieces of cues: Chinese pieces join without a space, as the cue reads.
    said = join_texts(spoken)
    counted = [
        (rank, p)
        for rank, p in enumerate(phrases[:LABEL_TOP])
        if not said.strip() or contains_phrase(said, p.text, _lang([p]))
    ]
    best: tuple[float, int, str] | None = None
    for text, n_frames in on_screen:
        title = " ".join(text.split())
        if not _short(title) or _name_strap(title, people) or title in roles:
            continue
        score = sum(
            1 / (rank + 1) for rank, p in counted if contains_phrase(title, p.text, _lang([p]))
        )
        if (score > 0 or not phrases) and (best is None or (score, n_frames) > best[:2]):
            best = (score, n_frames, title)
    if best is not None:
        return best[2]
    if not phrases:
        return None
    # The best phrase said in the theme, as for headlines: a line shown but never said
    # (a graphic's, another story's) is the screen's, not the story's.
    first = counted[0][1].text if counted else phrases[0].text
    if lang != "en":
        # a title names something: a lone verb or adjective (不负 "to live up to") is
        # passed over for the next phrase that does
        named = [p.text for _, p in counted if not _lone_predicate_zh(p.text)]
        return named[0] if named else first
    written = as_written(first, [text for text, _ in on_screen] + list(spoken))
    return written[:1].upper() + written[1:]


def _lone_predicate_zh(text: str) -> bool:
    words = posseg_zh(text) if contains_han(text) else ()
    return len(words) == 1 and words[0][1] in _VERB_OR_ADJECTIVE_FLAGS_ZH


_VERB_OR_ADJECTIVE_FLAGS_ZH = frozenset({"v", "vd", "vg", "a", "ad", "ag", "z"})
"""jieba's flags of a verb or an adjective."""


def as_written(phrase: str, texts: Sequence[str]) -> str:
    """Return ``phrase`` in the case the texts write it ("north bay" → "North Bay").

    Phrases are lower-cased to be counted, which loses a proper noun's capitals.
    The commonest form among the texts' mixed-case occurrences wins, the first on a
    tie; an occurrence in capitals (a caption or headline in upper case) says
    nothing about case and is skipped. Without one, ``phrase`` unchanged.
    """
    words = phrase.split()
    if not words:
        return phrase
    pattern = re.compile(
        r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE
    )
    forms: Counter[str] = Counter()
    for text in texts:
        for match in pattern.finditer(text):
            form = " ".join(match.group(0).split())
            if form != form.upper():
                forms[form] += 1
    return forms.most_common(1)[0][0] if forms else phrase


def _name_strap(line: str, people: Collection[str]) -> bool:
    if any(contains_phrase(line, name, "zh" if contains_han(name) else "en") for name in people):
        return True
    first, _, rest = line.partition(" ")
    return (
        bool(rest)
        and contains_han(first)
        and 2 <= len(first) <= 4
        and any(flag.startswith("nr") for _, flag in posseg_zh(first))
    )


def _short(title: str) -> bool:
    if not title:
        return False
    if contains_han(title):
        return len(title) <= MAX_LABEL_CHARS_ZH
    return len(title.split()) <= MAX_LABEL_WORDS


def _lang(phrases: Sequence[Phrase]) -> str:
    return "zh" if any(contains_han(p.text) for p in phrases) else "en"


def _key(text: str) -> str:
    return phrase_key(text, "zh" if contains_han(text) else "en").strip()


def _holds(phrases: Sequence[Phrase], key: str) -> int | None:
    """Rank of the first supported phrase that is ``key`` or holds it, None when none is."""
    for rank, phrase in enumerate(phrases):
        if phrase.supported and _within(key, _key(phrase.text)):
            return rank
    return None


def _within(part: str, whole: str) -> bool:
    return part in whole if contains_han(part) else f" {part} " in f" {whole} "


def _common(lists: list[list[Phrase]]) -> list[Phrase]:
    filled = [phrases for phrases in lists if phrases]
    if len(filled) < 2:
        return []
    found: dict[str, tuple[float, Phrase]] = {}
    for phrases in filled:
        for phrase in phrases:
            key = _key(phrase.text)
            if key in found or not key:
                continue
            ranks = [_holds(other, key) for other in filled]
            if all(r is not None for r in ranks) and not any(
                _within(key, other) or _within(other, key) for other in found
            ):
                mean_rank = sum(r for r in ranks if r is not None) / len(ranks)
                found[key] = (mean_rank, phrase)
    return [phrase for _, phrase in sorted(found.values(), key=lambda item: item[0])]


def _distinct_tops(lists: list[list[Phrase]]) -> list[str]:
    """Promote, in place, another phrase where two themes lead with the same one."""
    unresolved: list[str] = []
    stuck: set[int] = set()
    while (clash := _find_clash(lists, stuck)) is not None:
        a, b = clash
        loser = b if _strength(lists[b][0]) <= _strength(lists[a][0]) else a
        tops = {_key(p[0].text) for t, p in enumerate(lists) if p and t != loser}
        phrases = lists[loser]
        j = next((j for j in range(1, len(phrases)) if _key(phrases[j].text) not in tops), None)
        if j is None:
            stuck.add(loser)
            unresolved.append(
                f"themes {a} and {b} both lead with {phrases[0].text!r}: theme {loser} has no "
                "other phrase that no theme leads with"
            )
            continue
        phrases.insert(0, phrases.pop(j))
    return unresolved


def _strength(phrase: Phrase) -> tuple[float, float]:
    return phrase.evidence.support, phrase.score


def _find_clash(lists: list[list[Phrase]], stuck: set[int]) -> tuple[int, int] | None:
    seen: dict[str, int] = {}
    for t, phrases in enumerate(lists):
        if not phrases:
            continue
        key = _key(phrases[0].text)
        if key in seen and t not in stuck and seen[key] not in stuck:
            return seen[key], t
        seen.setdefault(key, t)
    return None
