"""Settings of a study's own: what ``[study]`` of a config file and ``themescope corpus`` take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, setting


@dataclass(frozen=True)
class StudyConfig(Settings):
    """Options of a study beyond its stages' (each declared with its help).

    Example:
        >>> StudyConfig(covariates="date, outlet_type").covariate_names
        ('date', 'outlet_type')
    """

    section: ClassVar[str] = "study"

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
