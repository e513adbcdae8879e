"""The comparison's settings, declared once (``themescope compare`` and :func:`compare_runs`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, setting


@dataclass(frozen=True)
class CompareConfig(Settings):
    """Options of a joint comparison of runs (each declared with its range and help).

    Example:
        >>> CompareConfig(min_share=2)
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: --min-share (compare.min_share) must be a number in \
[0, 1]. Got 2 instead.
    """

    section: ClassVar[str] = "compare"

    min_share: float = setting(
        0.05,
        kind="float",
        low=0,
        high=1,
        flag="--min-share",
        help="Share of each run's airtime from which a joint theme counts as shared by it.",
    )
    meaning_weight: float = setting(
        1.0,
        kind="float",
        low=0,
        high=100,
        flag="--meaning-weight",
        help="Weight of what each frame's words mean (the phrase embedder's multilingual "
        "space) beside the CRVAE latents when the joint themes are clustered (0: the "
        "latents alone).",
    )
    align_neighbours: int = setting(
        3,
        kind="int",
        low=0,
        high=1000,
        flag="--align-neighbours",
        help="Before clustering, shift each run onto the first by the mean difference over "
        "frames that say the same thing: pairs of frames each among the other's this many "
        "nearest in meaning (0: no shift). Without it each run's own look and language "
        "make themes of their own.",
    )
