"""Cues and transcripts, and the clean-up every source of them shares.

Whatever the source, cues go through the same clean-up (:func:`build_transcript`):

* Leniency: a cue that cannot be read is skipped and counted in
  ``Transcript.n_skipped`` with a warning; only a file in which *nothing* can
  be read raises :class:`~themescope.errors.SubtitleParseError`.
* An empty file, or one without any cue, is not an error: it gives an empty
  :class:`Transcript` with a warning, and the caller goes on image-only.
* Cues out of order are sorted (with a warning); overlapping cues are kept.
  Cues with a negative start are moved to 0, cues ending before they start are
  skipped, zero-length cues are extended to the next cue's start (at most
  :data:`ZERO_LENGTH_CUE_S`). Cues starting at or after ``duration_s`` are
  dropped and cues running past it are clipped, with a warning giving the counts.
* Markup is stripped from ``Cue.text`` by :func:`clean_markup`; ``Cue.text_raw``
  keeps the original. Cues with no words left (``[Music]``) are dropped.
* YouTube's automatic captions repeat each line in the next cue ("a b c", then
  "b c d e"). When a file shows that pattern (see :func:`build_transcript`),
  the repeated words are removed from the later cue, only between cues that
  follow each other in time. ``Transcript.n_deduplicated`` counts them.

Warnings are returned in ``Transcript.warnings`` rather than logged, so that
the ingest stage records each one once in the run manifest.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from themescope.errors import ConfigError
from themescope.media.language import contains_cjk, is_cjk
from themescope.media.transcripts.markup import clean_markup

logger = logging.getLogger("themescope")


SOURCES = ("srt", "vtt", "ass", "youtube-json", "youtube-csv", "plain-text", "embedded", "asr")


#: Length given to a cue whose end equals its start when no later cue bounds it
#: (the paper's English segments were about 2 s apart).
ZERO_LENGTH_CUE_S = 2.0
#: Two cues are adjacent in time (rolling captions) when the second starts at most
#: this long after the first ends.
ROLLING_GAP_S = 0.5
#: Share of adjacent cue pairs that must repeat words for a file to count as
#: rolling captions; below it repeated words are taken as really said twice.
ROLLING_MIN_SHARE = 0.5
#: Fewest repeating pairs that make a file rolling captions.
ROLLING_MIN_PAIRS = 2
#: Fewest repeated words removed between two cues, unless the whole earlier cue
#: is repeated: one shared word ("that" / "that is") is common in normal speech.
ROLLING_MIN_WORDS = 2
#: How many skip reasons a warning quotes before summarizing the rest.
N_REASONS_QUOTED = 3


@dataclass(frozen=True)
class Cue:
    """One timed piece of transcript.

    Attributes:
        start_s: Start, in seconds from the video stream's first timestamp.
        end_s: End in seconds (> ``start_s``).
        text: The words, markup stripped and whitespace collapsed.
        text_raw: The text as it was in the source, markup included.

    Example:
        >>> Cue(1.0, 2.5, "Hello world", "<i>Hello</i> world").text
        'Hello world'

    """

    start_s: float
    end_s: float
    text: str
    text_raw: str


@dataclass
class Transcript:
    """The cues of a video, in time order, and what reading them took.

    Attributes:
        cues: Cues sorted by start time (overlaps allowed).
        source: One of :data:`SOURCES`.
        encoding: The text encoding the file was read with (None for streams
            and speech recognition).
        n_skipped: Cues that could not be read and were left out.
        n_deduplicated: Cues whose rolling-caption repeat was removed (or that
            were dropped as a repeat).
        warnings: One line per problem met, for the run manifest.

    Example:
        >>> t = read_transcript("talk.srt", duration_s=120.0)  # doctest: +SKIP
        >>> [c.text for c in t.cues[:2]]  # doctest: +SKIP
        ['Good evening.', 'Tonight: vaccines.']

    """

    cues: list[Cue]
    source: str
    encoding: str | None = None
    n_skipped: int = 0
    n_deduplicated: int = 0
    warnings: list[str] = field(default_factory=list)


def _units(text: str) -> list[str]:
    """Split cleaned text into units: CJK characters one by one, other words at spaces."""
    units: list[str] = []
    for word in text.split():
        # One search per word instead of one per character: a cue may be megabytes long.
        if not contains_cjk(word):
            units.append(word)
            continue
        run = ""
        for char in word:
            if is_cjk(char):
                if run:
                    units.append(run)
                    run = ""
                units.append(char)
            else:
                run += char
        if run:
            units.append(run)
    return units


def _normal(unit: str) -> str:
    """Return ``unit`` as compared for rolling-caption repeats (case and punctuation ignored)."""
    return unit.casefold().strip(".,!?;:'\"()-…，。？！、；：“”‘’")


def _overlap(prev_units: Sequence[str], next_units: Sequence[str]) -> int:
    """Return how many leading units of ``next_units`` repeat the tail of ``prev_units``."""
    n = min(len(prev_units), len(next_units))
    # The longest tail of prev that starts next is the prefix function (KMP) of next's
    # head, a separator and prev's tail: linear, where trying every length is quadratic
    # in the words of a huge cue.
    seq: list[str | None] = [_normal(u) for u in next_units[:n]]
    seq += [None, *(_normal(u) for u in prev_units[len(prev_units) - n :])]
    prefix = [0] * len(seq)
    for i in range(1, len(seq)):
        k = prefix[i - 1]
        while k and seq[i] != seq[k]:
            k = prefix[k - 1]
        prefix[i] = k + 1 if seq[i] == seq[k] else k
    k = prefix[-1]
    return k if k >= ROLLING_MIN_WORDS or k == len(prev_units) else 0


def _drop_units(text: str, k: int) -> str:
    """Return ``text`` without its first ``k`` units, keeping the rest's spacing."""
    pos = 0
    for unit in _units(text)[:k]:
        pos = text.index(unit, pos) + len(unit)
    return text[pos:].strip()


def _is_rolling(cues: Sequence[tuple[float, float, str, str]]) -> bool:
    """Return True when enough time-adjacent cue pairs repeat words to be rolling captions."""
    n_adjacent = n_repeating = 0
    for (_, prev_end, prev_text, _), (start, _, text, _) in itertools.pairwise(cues):
        if start - prev_end > ROLLING_GAP_S:
            continue
        n_adjacent += 1
        if _overlap(_units(prev_text), _units(text)) > 0:
            n_repeating += 1
    return n_repeating >= max(ROLLING_MIN_PAIRS, ROLLING_MIN_SHARE * n_adjacent)


def _dedupe_rolling(
    cues: list[tuple[float, float, str, str]],
) -> tuple[list[tuple[float, float, str, str]], int]:
    """Remove the words each rolling cue repeats from the cue shown just before it."""
    out: list[tuple[float, float, str, str]] = []
    n_deduplicated = 0
    shown_before = ""  # the previous cue's full text, as it was on screen
    for start, end, text, raw in cues:
        shown = text
        if out and start - out[-1][1] <= ROLLING_GAP_S:
            k = _overlap(_units(shown_before), _units(text))
            if k:
                n_deduplicated += 1
                text = _drop_units(text, k)
                if not text:
                    # Nothing new: the cue only prolongs the one before.
                    prev_start, prev_end, prev_text, prev_raw = out[-1]
                    out[-1] = (prev_start, max(prev_end, end), prev_text, prev_raw)
                    shown_before = shown
                    continue
        out.append((start, end, text, raw))
        shown_before = shown
    return out, n_deduplicated


def _reasons_warning(label: str, reasons: Sequence[str]) -> str:
    quoted = "; ".join(reasons[:N_REASONS_QUOTED])
    more = (
        f"; and {len(reasons) - N_REASONS_QUOTED} more" if len(reasons) > N_REASONS_QUOTED else ""
    )
    return f"{label}: skipped {len(reasons)} unreadable cue(s): {quoted}{more}"


def _timing_problem(index: int, start_s: float, end_s: float) -> str | None:
    """Why cue ``index`` (from 0) cannot be placed in the video, or None when it can."""
    if not (math.isfinite(start_s) and math.isfinite(end_s)):
        return f"cue {index + 1}: time is not a finite number"
    if end_s < start_s:
        return f"cue {index + 1}: ends ({end_s:.3f} s) before it starts ({start_s:.3f} s)"
    if start_s < 0 and end_s <= 0:
        return f"cue {index + 1}: ends before the video starts ({end_s:.3f} s)"
    return None


def build_transcript(
    raw_cues: Iterable[tuple[float, float, str]],
    *,
    source: str,
    duration_s: float | None,
    encoding: str | None = None,
    skip_reasons: Sequence[str] = (),
    warnings: Sequence[str] = (),
    label: str = "transcript",
) -> Transcript:
    """Turn raw ``(start_s, end_s, text_raw)`` triples into a clean :class:`Transcript`.

    This is the clean-up every source shares (see the module docstring). Rolling
    captions are recognised per file: when at least :data:`ROLLING_MIN_SHARE` of
    the pairs of cues that follow each other within :data:`ROLLING_GAP_S` repeat
    the earlier cue's last words at their start (two words or more, or the whole
    earlier cue), the repeats are removed; in any other file a phrase said twice
    stays twice. Repeats are never removed across a gap in time.

    Args:
        raw_cues: Cue times in seconds and the text as found in the source.
        source: One of :data:`SOURCES`.
        duration_s: Video duration; cues past it are dropped or clipped. None
            keeps all.
        encoding: Recorded in the result.
        skip_reasons: One line per cue the parser could not read.
        warnings: Warnings the parser already has.
        label: Names the input in warnings (usually the file path).

    Returns:
        The transcript, cues sorted by start time.

    Example:
        >>> rolling = [(0.0, 2.0, "a b c"), (2.0, 4.0, "b c d e"), (4.0, 6.0, "d e f")]
        >>> t = build_transcript(rolling, source="vtt", duration_s=None)
        >>> [c.text for c in t.cues], t.n_deduplicated
        (['a b c', 'd e', 'f'], 2)

    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    reasons = list(skip_reasons)
    out_warnings = list(warnings)
    n_moved_to_zero = n_no_words = 0
    kept: list[tuple[float, float, str, str]] = []
    for i, (start_s, end_s, raw) in enumerate(raw_cues):
        problem = _timing_problem(i, start_s, end_s)
        if problem is not None:
            reasons.append(problem)
            continue
        if start_s < 0:
            start_s = 0.0
            n_moved_to_zero += 1
        text = clean_markup(raw)
        if not text:
            n_no_words += 1
            continue
        kept.append((float(start_s), float(end_s), text, raw.strip()))
    if n_no_words:
        logger.debug(
            "%s: %d cue(s) without words (empty or sound tags only) left out", label, n_no_words
        )
    if n_moved_to_zero:
        out_warnings.append(f"{label}: {n_moved_to_zero} cue(s) started before 0 s; moved to 0 s")

    n_out_of_order = sum(1 for a, b in itertools.pairwise(kept) if b[0] < a[0])
    if n_out_of_order:
        out_warnings.append(
            f"{label}: {n_out_of_order} cue(s) were out of order; sorted by start time"
        )
    kept.sort(key=lambda c: (c[0], c[1]))

    # Zero-length cues (common in rolling captions) last until the next cue starts.
    n_zero = 0
    for i, (start_s, end_s, text, raw) in enumerate(kept):
        if end_s <= start_s:
            n_zero += 1
            later = [c[0] for c in kept[i + 1 :] if c[0] > start_s]
            end_s = (
                min(later[0], start_s + ZERO_LENGTH_CUE_S) if later else start_s + ZERO_LENGTH_CUE_S
            )
            kept[i] = (start_s, end_s, text, raw)
    if n_zero:
        logger.debug("%s: %d zero-length cue(s) extended", label, n_zero)

    n_overlapping = sum(1 for a, b in itertools.pairwise(kept) if b[0] < a[1])
    if n_overlapping:
        logger.info("%s: %d cue(s) overlap the one before; kept", label, n_overlapping)

    n_deduplicated = 0
    if _is_rolling(kept):
        kept, n_deduplicated = _dedupe_rolling(kept)
        logger.info(
            "%s: rolling captions; removed repeated words from %d cue(s)", label, n_deduplicated
        )

    if duration_s is not None:
        n_dropped = sum(1 for c in kept if c[0] >= duration_s)
        n_clipped = sum(1 for c in kept if c[0] < duration_s < c[1])
        kept = [(s, min(e, duration_s), t, r) for s, e, t, r in kept if s < duration_s]
        # Only the counts that are not 0: "0 cue(s) ... were dropped" reads as if some were.
        past_end = [
            f"{n} {what}"
            for n, what in (
                (n_dropped, "cue(s) started after it and were dropped"),
                (n_clipped, "cue(s) ran past it and were clipped"),
            )
            if n
        ]
        if past_end:
            out_warnings.append(
                f"{label}: the video ends at {duration_s:.2f} s; {'; '.join(past_end)}"
            )
    if reasons:
        out_warnings.insert(0, _reasons_warning(label, reasons))
    cues = [Cue(s, e, t, r) for s, e, t, r in kept]
    if not cues:
        out_warnings.append(f"{label}: no cues with text; continuing without text (image only)")
    return Transcript(
        cues=cues,
        source=source,
        encoding=encoding,
        n_skipped=len(reasons),
        n_deduplicated=n_deduplicated,
        warnings=out_warnings,
    )


def _check_duration(duration_s: float | None) -> None:
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(f"duration_s must be a positive number of seconds, got {duration_s}")
