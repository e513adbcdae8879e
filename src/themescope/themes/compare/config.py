"""The comparison's settings, declared once (``themescope compare`` and :func:`compare_runs`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, seed_setting, setting
from themescope.themes.config import GLOSS_LANGUAGES


@dataclass(frozen=True)
class CompareConfig(Settings):
    """Options of a comparison of two runs (each declared with its range and help).

    Example:
        >>> CompareConfig(threshold=2)
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: --threshold (compare.threshold) must be a number in \
[-1, 1]. Got 2 instead.
    """

    section: ClassVar[str] = "compare"

    threshold: float = setting(
        0.5,
        kind="float",
        low=-1,
        high=1,
        flag="--threshold",
        help="Combined similarity from which matched themes count as shared.",
    )
    multilingual: bool = setting(
        False,
        kind="bool",
        flag="--multilingual",
        help="Treat the embedder as multilingual whatever its name.",
    )
    seed: int = seed_setting(0, help="Seed of the visual space (PCA).")
    gloss_language: str = setting(
        "en",
        kind="str",
        choices=GLOSS_LANGUAGES,
        flag="--gloss-language",
        help="Language of the glosses given to non-English phrases (CC-CEDICT): en, or none.",
    )
