"""Give every sampled frame the words spoken around it.

Two schemes, chosen with ``scheme=``:

``window`` (the default)
    Frame *j* owns the stretch of time closest to it: ``[t_j − every/2,
    t_j + every/2)`` when frames are evenly spaced, and in general from the
    midpoint with the previous frame to the midpoint with the next (the first
    and last frames' windows run to the start and end of the transcript). The
    windows tile the time line, so each cue's words are split over the frames
    its interval overlaps, in order and in proportion to the overlap: a 6 s cue
    over three 2 s windows gives each frame a third of its words. Joining every
    frame's text in order gives back the transcript, each word exactly once.
    English is split at spaces, Chinese into jieba words (so that no word is
    cut in half), punctuation staying with the word before it.

``nearest`` (the paper's scheme)
    Each cue is paired with the frame closest to its start, and a frame also
    takes every cue active at its own time (start ≤ t < end). A cue therefore
    appears on several frames when it lasts longer than the sampling step, and
    a short cue lying between two frames still reaches the closer one.

Why ``window`` is the default: it neither loses nor repeats words, so the
text channel the model sees matches the transcript, and word counts, theme
shares and evidence quotes are not inflated by long cues (the paper's
``nearest`` copied each ~8–10 s Chinese segment onto five frames). ``nearest``
remains for reproducing the paper; it gives whole sentences per frame, which
reads better but counts long cues several times.

Example:
    >>> from themescope.media.transcripts import Cue
    >>> cues = [Cue(0.0, 4.0, "one two three four", "one two three four")]
    >>> [a.text for a in align([0.0, 2.0, 4.0], cues, every_s=2.0)]
    ['one', 'two three', 'four']
    >>> [a.text for a in align([0.0, 2.0, 4.0], cues, every_s=2.0, scheme="nearest")]
    ['one two three four', 'one two three four', '']

"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from themescope.errors import ConfigError
from themescope.media.config import ALIGN_SCHEMES
from themescope.media.language import contains_cjk, jieba_words, join_texts
from themescope.media.transcripts.cues import Cue

logger = logging.getLogger("themescope")

_WORD_RE = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class AlignedText:
    """The text of one frame.

    Attributes:
        text: The frame's words (markup stripped); "" when none.
        text_raw: The original text of every cue in ``cue_ids``, one per line.
            With the ``window`` scheme this is context: a cue spanning several
            frames appears whole in each, while ``text`` holds only this
            frame's share of it.
        cue_ids: Indexes into the ``cues`` given to :func:`align` of the cues
            touching this frame (overlapping its window, or paired with it).

    Example:
        >>> AlignedText("hello", "<i>hello</i>", (0,)).cue_ids
        (0,)

    """

    text: str
    text_raw: str
    cue_ids: tuple[int, ...]


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(c)[0] in "PZS" or c.isspace() for c in token)


def _pieces(text: str) -> list[str]:
    """Split ``text`` into word pieces that concatenate back to it exactly."""
    if not contains_cjk(text):
        return _WORD_RE.findall(text)
    pieces: list[str] = []
    for chunk in _WORD_RE.findall(text):
        # Latin words inside Chinese text ("COVID-19") stay whole, as jieba would cut them.
        tokens = jieba_words(chunk) if contains_cjk(chunk) else [chunk]
        for token in tokens:
            if pieces and _is_punct(token):
                pieces[-1] += token  # punctuation and spaces stay with the word before
            else:
                pieces.append(token)
    return pieces


def _check(frame_times_s: Sequence[float], every_s: float, scheme: str) -> None:
    if scheme not in ALIGN_SCHEMES:
        raise ConfigError(
            f"alignment scheme must be one of {', '.join(ALIGN_SCHEMES)}; got {scheme!r}"
        )
    if not (math.isfinite(every_s) and every_s > 0):
        raise ConfigError(f"every_s must be a positive number of seconds, got {every_s}")
    bad = [t for t in frame_times_s if not math.isfinite(t)]
    if bad:
        raise ConfigError(f"frame times must be finite numbers; got {bad[0]}")
    if any(b < a for a, b in itertools.pairwise(frame_times_s)):
        raise ConfigError("frame times must be in increasing order (frame_id order)")


def align(
    frame_times_s: Sequence[float],
    cues: Sequence[Cue],
    *,
    every_s: float,
    scheme: str = "window",
) -> list[AlignedText]:
    """Return the text of each frame, in the order of ``frame_times_s``.

    Args:
        frame_times_s: Time of each frame in seconds (non-decreasing; spacing
            may vary, for example the decoded frames' real times).
        cues: The transcript's cues (``Transcript.cues``); ``cue_ids`` in the
            result index this sequence.
        every_s: The sampling step in seconds.
        scheme: "window" (default) or "nearest"; see the module docstring.

    Returns:
        One :class:`AlignedText` per frame; frames without words get "".

    Raises:
        ConfigError: Unknown scheme, ``every_s`` not positive, or frame times
            not finite and increasing.

    Example:
        >>> [a.text for a in align([0.0, 2.0], [], every_s=2.0)]
        ['', '']

    """
    times = [float(t) for t in frame_times_s]
    _check(times, every_s, scheme)
    if not times:
        return []
    if scheme == "nearest":
        return _align_nearest(times, cues)
    return _align_window(times, cues)


def _align_window(times: list[float], cues: Sequence[Cue]) -> list[AlignedText]:
    n_frames = len(times)
    # Window j is [bounds[j], bounds[j + 1]); the outer windows are unbounded.
    bounds = [-math.inf] + [(a + b) / 2 for a, b in itertools.pairwise(times)] + [math.inf]
    inner = bounds[1:-1]
    fragments: list[list[str]] = [[] for _ in range(n_frames)]
    touching: list[list[int]] = [[] for _ in range(n_frames)]
    for cue_id, cue in enumerate(cues):
        first = bisect.bisect_right(inner, cue.start_s)
        last = max(first, bisect.bisect_left(inner, cue.end_s))
        overlaps = [
            max(0.0, min(cue.end_s, bounds[j + 1]) - max(cue.start_s, bounds[j]))
            for j in range(first, last + 1)
        ]
        total = sum(overlaps)
        pieces = _pieces(cue.text)
        shares: list[list[str]] = [[] for _ in overlaps]
        if total <= 0:
            shares[0] = pieces  # a point in time: all to the window holding it
        else:
            # Piece k goes to the window holding the point (k + 1/2)/n of the way
            # through the cue's overlapped time: in order, each piece once.
            edges = []
            acc = 0.0
            for overlap in overlaps:
                acc += overlap
                edges.append(acc / total)
            n_pieces = len(pieces)
            for k, piece in enumerate(pieces):
                where = (k + 0.5) / n_pieces
                shares[min(bisect.bisect_right(edges, where), len(edges) - 1)].append(piece)
        for offset, (overlap, share) in enumerate(zip(overlaps, shares, strict=True)):
            j = first + offset
            if overlap > 0 or share:
                touching[j].append(cue_id)
            if share:
                fragments[j].append("".join(share))
    return [_aligned(fragments[j], touching[j], cues) for j in range(n_frames)]


def _align_nearest(times: list[float], cues: Sequence[Cue]) -> list[AlignedText]:
    n_frames = len(times)
    paired: list[set[int]] = [set() for _ in range(n_frames)]
    for cue_id, cue in enumerate(cues):
        j = bisect.bisect_left(times, cue.start_s)
        if j == n_frames or (j > 0 and cue.start_s - times[j - 1] <= times[j] - cue.start_s):
            j -= 1  # the earlier frame wins a tie
        paired[j].add(cue_id)
        # ... and every frame during the cue (start <= t < end) takes it too.
        for k in range(
            bisect.bisect_left(times, cue.start_s), bisect.bisect_left(times, cue.end_s)
        ):
            paired[k].add(cue_id)
    out = []
    for j in range(n_frames):
        ids = sorted(paired[j])
        out.append(_aligned([cues[i].text for i in ids], ids, cues))
    return out


def _aligned(fragments: list[str], cue_ids: list[int], cues: Sequence[Cue]) -> AlignedText:
    return AlignedText(
        text=join_texts(fragments),
        text_raw="\n".join(cues[i].text_raw for i in cue_ids),
        cue_ids=tuple(cue_ids),
    )
