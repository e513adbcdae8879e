"""Strip the markup from a cue's text, leaving the spoken words.

:func:`clean_markup` removes HTML-style and ASS tags, entities, sound tags and
speaker marks, repeating until nothing is left to remove, so that hostile or
escaped markup never comes out as a tag.
"""

from __future__ import annotations

import html
import re

_ASS_BLOCK_RE = re.compile(r"\{[^{}]*\}")
_ASS_BREAK_RE = re.compile(r"\\[Nnh]")
_VTT_TIMESTAMP_TAG_RE = re.compile(r"<\d{1,2}(?::\d{2}){1,2}[.,]\d{1,3}>")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|</>")
_SOUND_TAG_RE = re.compile(r"\[[^\[\]]*\]|【[^【】]*】|［[^［］]*］|♪|♫|♬")
_SPEAKER_DASH_RE = re.compile(r"^\s*(?:>>+|--?|[–—])\s*")
_SPEAKER_LABEL_RE = re.compile(r"^\s*[A-Z][A-Z0-9 .'’-]{1,30}:\s+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WS_RE = re.compile(r"\s+")
_MARKUP_CHARS_RE = re.compile(r"[<>{}]")
# Rounds of tag and entity removal after which markup is taken to be hostile: real
# subtitles need two (an escaped tag: unescape, then strip).
_MAX_MARKUP_ROUNDS = 8


def clean_markup(text: str) -> str:
    r"""Return the spoken words of a cue, without markup.

    Removes HTML-style tags (``<i>``, ``<font color=..>``, WebVTT ``<c>``,
    ``<v Speaker>`` and inline ``<00:00:01.500>`` timestamps), ASS override and
    positioning blocks (``{\an8}``, ``{\pos(10,20)}``, ``{\i1}``), ASS line
    breaks (``\N``, ``\n``, ``\h``), HTML entities (``&amp;`` becomes ``&``),
    sound tags in square brackets (``[Music]``, ``【音乐】``) and music signs, and
    at the start of each line speaker dashes (``- ``, ``-- ``, ``–``), caption
    speaker markers (``>>``) and upper-case speaker labels (``JOHN:``).
    Whitespace is collapsed to single spaces.

    Tags and entities are removed until none is left, so that neither an escaped
    tag (``&lt;b&gt;``) nor a tag hidden inside another (``<scr<b>ipt>``) comes
    out as a tag; the result is a fixed point (cleaning it again changes nothing).

    Example:
        >>> clean_markup(r"{\an8}<i>- Hello</i>\N- [Music] &amp; you")
        'Hello & you'
        >>> clean_markup("&lt;scr<b>ipt&gt;alert(1)")
        'alert(1)'

    """
    text = _strip_tags_and_entities(text)
    text = _SOUND_TAG_RE.sub(" ", text)
    lines = []
    for line in text.splitlines():
        line = _SPEAKER_DASH_RE.sub("", line)
        line = _SPEAKER_LABEL_RE.sub("", line)
        lines.append(line)
    return _WS_RE.sub(" ", " ".join(lines)).strip()


def _strip_tags_and_entities(text: str) -> str:
    for _ in range(_MAX_MARKUP_ROUNDS):
        stripped = _ASS_BLOCK_RE.sub("", text)
        stripped = _ASS_BREAK_RE.sub("\n", stripped)
        stripped = _VTT_TIMESTAMP_TAG_RE.sub("", stripped)
        stripped = _HTML_TAG_RE.sub("", stripped)
        stripped = html.unescape(stripped)
        stripped = _INVISIBLE_RE.sub("", stripped)
        if stripped == text:
            return text
        text = stripped
    # Nested deeper than any real subtitle: drop every angle bracket and brace left,
    # which no entity can bring back, rather than loop once per level.
    return _MARKUP_CHARS_RE.sub("", text)
