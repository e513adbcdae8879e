"""Bounds on the text a report page shows for one frame, caption or subtitle cue.

The run keeps every word (``frames.parquet``, ``cues.parquet``); the page shows a
frame's text in its timeline tooltip, beside each representative frame and in
the transcript, so a single huge cue (a whole book pasted into one subtitle)
would otherwise be copied into the page once per frame it covers.
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
