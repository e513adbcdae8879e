"""Bounds on the text one frame, caption or subtitle cue brings into later work and pages.

The run keeps every word (``frames.parquet``, ``cues.parquet``); the themes stage
reads and the report page shows at most :data:`MAX_SHOWN_TEXT_CHARS` of a frame's
text, so a single huge cue (a whole book pasted into one subtitle) neither makes
phrase extraction run for minutes nor is copied into the page once per frame it covers.
"""

from __future__ import annotations

MAX_SHOWN_TEXT_CHARS = 2_000
"""Longest text shown for one frame, caption or cue: about two minutes of speech."""


def clip_text(text: str, max_chars: int = MAX_SHOWN_TEXT_CHARS) -> str:
    """Return ``text`` cut to at most ``max_chars`` characters, ``…`` marking a cut.

    Example:
        >>> clip_text("one two three", max_chars=8)
        'one two…'

    """
    if len(text) <= max_chars:
        return text
    return text[: max_chars - 1].rstrip() + "…"


def clip_middle(text: str, max_chars: int = MAX_SHOWN_TEXT_CHARS) -> str:
    """Return ``text`` cut to at most ``max_chars`` characters by dropping its middle.

    A frame's text joins the cues of its window in time order, so a huge cue that
    covers the frame comes first and the frame's own short cues last: keeping both
    ends keeps the words that are the frame's own.

    Example:
        >>> clip_middle("one two three four", max_chars=12)
        'one … four'

    """
    if len(text) <= max_chars:
        return text
    half = (max_chars - 3) // 2
    return f"{text[:half].rstrip()} … {text[-half:].lstrip()}"
