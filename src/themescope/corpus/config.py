"""Settings of a study's own: what ``[study]`` of a config file and ``themescope corpus`` take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, setting
from themescope.registry import Choices


@dataclass(frozen=True)
class StudyConfig(Settings):
    """How a study runs its videos and its statistics, beyond its stages' settings.

    Each is declared with its range and help; ``[study]`` of a config file and the
    flags of ``themescope corpus`` set them.

    Example:
        >>> StudyConfig(covariates="date, outlet_type").covariate_names
        ('date', 'outlet_type')
        >>> StudyConfig(n_bootstrap=10)
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: study.n_bootstrap must be an int in [100, 1000000]. \
Got 10 instead.
    """

    section: ClassVar[str] = "study"

    executor: str = setting(
        "local",
        kind="str",
        choices=Choices("executor"),
        flag="--executor",
        category="runtime",
        help="Where the videos are ingested: local (a process pool) or ray "
        "(pip install themescope[ray]).",
    )
    workers: int | None = setting(
        None,
        kind="int",
        low=1,
        high=4096,
        optional=True,
        flag="--workers",
        category="runtime",
        help="Parallel ingest workers (none: the machine's cores).",
    )
    ray_address: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--ray-address",
        category="runtime",
        help="An existing Ray cluster: auto, host:port or ray://host:port (none: a local "
        "Ray). Every worker must reach the videos and the study directory.",
    )
    n_bootstrap: int = setting(
        1000,
        kind="int",
        low=100,
        high=1_000_000,
        help="Resamples of videos for each share's interval.",
    )
    n_permutations: int = setting(
        1000,
        kind="int",
        low=100,
        high=1_000_000,
        help="Permutations of the videos' groups for the difference test.",
    )
    covariates: str = setting(
        "",
        kind="str",
        flag="--covariates",
        help="Columns of the corpus manifest, comma-separated (date,outlet_type), whose "
        "effect on each theme's share of a video is estimated, the group held fixed: numbers, "
        "the date, or categories (each level against the first in sorted order). Empty: none.",
    )

    @property
    def covariate_names(self) -> tuple[str, ...]:
        """The covariates named, in order, without blanks."""
        return tuple(name.strip() for name in self.covariates.split(",") if name.strip())


__all__ = ["StudyConfig"]
