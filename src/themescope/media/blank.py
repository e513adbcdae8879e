"""Black and blank frames: sampled frames that show nothing (a black opening, a flat slate).

Broadcast clips open and close on black, and a programme may cut to a uniform
slate; such frames look alike whatever the programme, so clustered with the rest
they form a "theme" of their own (53 of 118 frames of the joined CAIS broadcast
did). Ingest marks them with one cheap statistic of the sampled frame, on every
other pixel of its luma (ITU-R BT.601 weights):

- **black**: at least :data:`BLACK_SHARE` of the pixels are darker than
  :data:`BLACK_LUMA` (so a small channel bug or a caption line on black still
  counts as black, a dark night scene with lit windows does not);
- **blank**: every colour channel varies by less than :data:`UNIFORM_STD`
  (standard deviation, 0–255): a flat colour of any brightness, JPEG noise
  included.

The themes stage leaves these frames out of clustering and out of every theme.

Example:
    >>> import numpy as np
    >>> is_blank(np.zeros((36, 64, 3), np.uint8)), is_blank(np.full((36, 64, 3), 200, np.uint8))
    (True, True)
    >>> is_blank(np.random.default_rng(0).integers(0, 255, (36, 64, 3), dtype=np.uint8))
    False
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLACK_LUMA = 32
"""Luma (0–255) below which a pixel is dark: an eighth of full brightness."""
BLACK_SHARE = 0.98
"""Share of dark pixels from which a frame is black (2 % may be a logo or text)."""
UNIFORM_STD = 4.0
"""Standard deviation (0–255) of every colour channel below which a frame is one flat colour."""
MAX_STRETCHES_SHOWN = 3
"""Stretches of blank frames a warning names; the rest are counted."""

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def is_blank(image: np.ndarray) -> bool:
    """Whether an RGB frame is black or one flat colour (see the module docstring).

    Args:
        image: Array of shape (height, width, 3), uint8 RGB.
    """
    # One plane per channel: reductions along contiguous rows run about 9x faster than
    # down the columns of (pixels, 3), which took 2.3 ms of every 360p frame.
    planes = np.moveaxis(np.asarray(image[::2, ::2]), 2, 0).reshape(3, -1).astype(np.float32)
    n_pixels = planes.shape[1]
    if n_pixels == 0:
        return True
    if float(planes.std(axis=1).max()) < UNIFORM_STD:
        return True
    dark = float(np.count_nonzero(_LUMA @ planes < BLACK_LUMA)) / n_pixels
    return dark >= BLACK_SHARE


def blank_warning(times_s: Sequence[float], blank: Sequence[bool], every_s: float) -> str | None:
    """Return the run's warning about its blank frames, or None when there are none.

    Example:
        >>> print(blank_warning([0.0, 2.0, 4.0, 6.0], [True, True, False, False], 2.0))
        2 of 4 frames are black or blank (0–4 s): they form no theme and their time counts in no theme's share
    """  # noqa: E501 - a doctest's output is one line
    n_blank = sum(bool(b) for b in blank)
    if not n_blank:
        return None
    return (
        f"{n_blank} of {len(blank)} frames are black or blank "
        f"({describe_stretches(times_s, blank, every_s)}): they form no theme "
        "and their time counts in no theme's share"
    )


def describe_stretches(times_s: Sequence[float], marked: Sequence[bool], every_s: float) -> str:
    """Name the stretches of marked frames, the first :data:`MAX_STRETCHES_SHOWN` in full.

    Example:
        >>> describe_stretches([0.0, 2.0, 4.0, 6.0], [True, False, True, True], 2.0)
        '0–2 s, 4–8 s'
    """
    stretches: list[tuple[float, float]] = []
    for i, (time_s, is_marked) in enumerate(zip(times_s, marked, strict=True)):
        if not is_marked:
            continue
        # A frame stands for the time until the next one (the last: one interval).
        end_s = float(times_s[i + 1]) if i + 1 < len(times_s) else float(time_s) + every_s
        if i > 0 and marked[i - 1]:
            stretches[-1] = (stretches[-1][0], end_s)
        else:
            stretches.append((float(time_s), end_s))
    shown = ", ".join(f"{_seconds(a)}–{_seconds(b)} s" for a, b in stretches[:MAX_STRETCHES_SHOWN])
    if len(stretches) > MAX_STRETCHES_SHOWN:
        shown = f"e.g. {shown} and {len(stretches) - MAX_STRETCHES_SHOWN} more stretches"
    return shown


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f}".rstrip("0").rstrip(".")
