"""How long each sampled frame stands for, and the spans a theme covers in time.

The themes stage (a theme's ``seconds``, ``share`` and ``spans`` in ``themes.json``)
and the report (its timeline and transcript spans) both measure time this way, so
the page and the document always agree.

Example:
    >>> import numpy as np
    >>> times = np.array([0.0, 2.0, 4.0, 6.0])
    >>> durations = frame_durations_s(times, duration_s=7.0)
    >>> durations.tolist()
    [2.0, 2.0, 2.0, 1.0]
    >>> [(s.label, s.start_s, s.end_s) for s in spans([1, 1, 0, 1], times, durations)]
    [(1, 0.0, 4.0), (0, 4.0, 6.0), (1, 6.0, 7.0)]

"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def frame_durations_s(
    times_s: np.ndarray, *, every_s: float | None = None, duration_s: float | None = None
) -> np.ndarray:
    """Return the seconds each frame stands for: from its time to the next frame's.

    The last frame stands for one sampling interval (the median gap between
    frames, or ``every_s`` when there is no gap), cut at the end of the video when
    that is known. With no usable times every frame counts the same.

    Args:
        times_s: Frame times in seconds, in time order, shape (n_frames,).
        every_s: The sampling interval asked for, used when the times give none.
        duration_s: The video's duration, when known.

    Returns:
        Array of shape (n_frames,), seconds per frame.

    """
    n = len(times_s)
    gaps = np.clip(np.diff(times_s), 0.0, None)
    positive = gaps[gaps > 0]
    fallback_s = float(every_s) if every_s else 1.0
    step = float(np.median(positive)) if len(positive) else fallback_s
    last = step
    if duration_s is not None and n and float(duration_s) > times_s[-1]:
        last = min(step, float(duration_s) - float(times_s[-1]))
    durations = np.append(gaps, last) if n else np.zeros(0)
    if n and durations.sum() <= 0:
        durations = np.ones(n)
    return durations


@dataclass(frozen=True)
class Span:
    """Consecutive frames with one label.

    Attributes:
        label: The frames' label (a theme id; -1 for frames without one).
        first: Index of the span's first frame.
        stop: Index one past its last frame.
        start_s: Time of its first frame.
        end_s: End of its last frame (its time plus its duration).

    """

    label: int
    first: int
    stop: int
    start_s: float
    end_s: float


def spans(
    labels: Sequence[int] | np.ndarray, times_s: np.ndarray, durations_s: np.ndarray
) -> list[Span]:
    """Merge runs of consecutive frames with the same label into spans, in time order.

    Args:
        labels: One label per frame, frames in time order.
        times_s: Frame times, shape (n_frames,).
        durations_s: Seconds per frame (see :func:`frame_durations_s`), shape (n_frames,).

    Returns:
        The spans, covering every frame once.

    """
    result: list[Span] = []
    first = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[first]:
            end_s = float(times_s[i - 1]) + float(durations_s[i - 1])
            result.append(Span(int(labels[first]), first, i, float(times_s[first]), end_s))
            first = i
    return result


__all__ = ["Span", "frame_durations_s", "spans"]


def smooth_within(
    values: np.ndarray,
    sequence: Sequence[Any] | np.ndarray,
    n_neighbours: int,
    include: np.ndarray | None = None,
) -> np.ndarray:
    """Average each row with up to ``n_neighbours`` rows on each side of the same sequence.

    Rows are in time order within each sequence (a video); a sequence's first and last
    rows average over the neighbours they have. Only rows where ``include`` is true (all
    when None) are averaged in: a black frame between two stories is neither averaged nor
    a bridge between them. ``n_neighbours`` 0 returns ``values``.
    """
    if n_neighbours <= 0 or len(values) == 0:
        return values
    weight = np.ones(len(values)) if include is None else np.asarray(include, dtype=np.float64)
    out = np.array(values, dtype=np.float64)
    for rows in rows_by_key(sequence).values():
        w = weight[rows]
        block = values[rows].astype(np.float64) * w[:, None]
        # Running sums make every window's weighted mean two subtractions.
        sums = np.vstack([np.zeros((1, block.shape[1])), np.cumsum(block, axis=0)])
        counts = np.concatenate([[0.0], np.cumsum(w)])
        index = np.arange(len(rows))
        low = np.maximum(index - n_neighbours, 0)
        high = np.minimum(index + n_neighbours + 1, len(rows))
        n = counts[high] - counts[low]
        kept = (w > 0) & (n > 0)
        out[rows[kept]] = (sums[high] - sums[low])[kept] / n[kept][:, None]
    return out.astype(values.dtype)


def rows_by_key(sequence: Sequence[Any] | np.ndarray) -> dict[Any, np.ndarray]:
    """The row indices of each distinct value (a video), in order of first appearance.

    One pass over the rows, so a study of many videos is not scanned once per video.
    """
    found: dict[Any, list[int]] = {}
    for row, key in enumerate(np.asarray(sequence).tolist()):
        found.setdefault(key, []).append(row)
    return {key: np.asarray(rows, dtype=np.int64) for key, rows in found.items()}
