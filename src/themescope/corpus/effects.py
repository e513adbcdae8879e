"""Theme shares over time and the effects of covariates on them, video by video.

Each video's airtime per theme (the shares of :mod:`themescope.corpus.stats`) is
related to its metadata: when it aired, and the covariates the manifest gives it
(:func:`themescope.corpus.covariates.read_covariates`). As there, every statistic resamples videos,
never frames.

Over time (:func:`shares_over_time`)
    With dated videos, each group's share of each theme per time bin: a day, a week
    (from Monday) or a month, chosen by the span of the dates (:func:`time_unit`), with
    the bootstrap interval of :func:`~themescope.corpus.stats.share_intervals` over the
    videos of the group in the bin.

Covariate effects (:func:`covariate_effects`)
    Per theme, an ordinary least squares regression of each video's share of its own
    airtime in the theme on the group and the covariates (:func:`design_matrix`:
    categories one-hot against a reference level, numbers as written, the date as time
    since the first video), every video counting once, as stm's ``estimateEffect``
    regresses topic prevalence on document metadata. The interval is the percentile
    interval of the coefficients refitted on ``n_bootstrap`` resamples of the videos;
    an effect is significant when its interval leaves out zero.

Example:
    >>> import datetime as dt
    >>> time_unit([dt.datetime(2020, 1, 1), dt.datetime(2020, 3, 1)])
    'week'
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from themescope.corpus.covariates import Covariate
from themescope.corpus.stats import share_intervals

TimeUnit = Literal["day", "week", "month"]
TIME_UNIT_DAYS: dict[TimeUnit, float] = {"day": 1.0, "week": 7.0, "month": 30.4375}
"""Length of each time bin in days (a month as the mean Gregorian month)."""
DAY_BINS_UP_TO_DAYS = 14
"""Studies spanning at most this many days are binned by day."""
WEEK_BINS_UP_TO_DAYS = 120
"""Studies spanning at most this many days (and more than two weeks) are binned by week;
longer ones by month. Either way a few dozen bins at most, so that a bin holds videos."""


@dataclass(frozen=True)
class TimeShare:
    """One group's share of one theme in one time bin.

    Attributes:
        group: The group.
        start: The bin's first day.
        theme: The theme.
        share: Fraction of the airtime of the group's videos in the bin.
        low: Lower end of the bootstrap interval over those videos (None for one video).
        high: Upper end (None for one video).
        n_videos: Videos of the group in the bin.
    """

    group: str
    start: datetime.date
    theme: int
    share: float
    low: float | None
    high: float | None
    n_videos: int


@dataclass(frozen=True)
class OverTime:
    """Every group's theme shares per time bin.

    Attributes:
        unit: ``"day"``, ``"week"`` (from Monday) or ``"month"``, chosen by the span.
        bins: First day of every bin from the first video's to the last's, empty ones too.
        shares: One entry per group, bin with videos of the group, and theme.
    """

    unit: TimeUnit
    bins: tuple[datetime.date, ...]
    shares: tuple[TimeShare, ...]


def time_unit(dates: Sequence[datetime.datetime]) -> TimeUnit:
    """Return the bin unit for videos dated ``dates``: day, week or month by their span."""
    span_days = (max(dates) - min(dates)).total_seconds() / 86400
    if span_days <= DAY_BINS_UP_TO_DAYS:
        return "day"
    return "week" if span_days <= WEEK_BINS_UP_TO_DAYS else "month"


def time_bin(date: datetime.datetime, unit: TimeUnit) -> datetime.date:
    """Return the first day of the ``unit`` bin ``date`` falls in."""
    day = date.date()
    if unit == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day.replace(day=1) if unit == "month" else day


def _next_bin(start: datetime.date, unit: TimeUnit) -> datetime.date:
    if unit == "month":
        return (start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start + datetime.timedelta(days=int(TIME_UNIT_DAYS[unit]))


def shares_over_time(
    seconds: npt.NDArray[np.float64],
    groups: Sequence[str],
    dates: Sequence[datetime.datetime],
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> OverTime:
    """Return each group's theme shares per time bin, with intervals over the bin's videos.

    Args:
        seconds: Seconds of each video (with airtime) in each theme, shape (n_videos, k).
        groups: Group of each video.
        dates: Date of each video.
        n_bootstrap: Resamples of a bin's videos.
        level: Confidence level of the intervals.
        seed: Seed of the resampling.

    Example:
        >>> import datetime as dt
        >>> out = shares_over_time(np.array([[1.0, 0.0], [0.0, 1.0]]), ["A", "A"],
        ...                        [dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 3)])
        >>> out.unit, [s.share for s in out.shares if s.theme == 0]
        ('day', [1.0, 0.0])
    """
    unit = time_unit(dates)
    starts = [time_bin(date, unit) for date in dates]
    bins = [min(starts)]
    while bins[-1] < max(starts):
        bins.append(_next_bin(bins[-1], unit))
    rng = np.random.default_rng(seed)
    found: list[TimeShare] = []
    for group in dict.fromkeys(groups):
        for start in sorted(set(starts)):
            mine = [
                i
                for i, (g, s) in enumerate(zip(groups, starts, strict=True))
                if (g, s) == (group, start)
            ]
            if not mine:
                continue
            intervals = share_intervals(seconds[mine], rng, n_bootstrap=n_bootstrap, level=level)
            found += [
                TimeShare(group, start, t, i.share, i.low, i.high, len(mine))
                for t, i in enumerate(intervals)
            ]
    return OverTime(unit, tuple(bins), tuple(found))


MIN_RESIDUAL_VIDEOS = 10
"""Fewer videos than this beyond the regression's terms make its bootstrap intervals too
narrow (a resample repeats the few videos there are), which the study warns of."""


@dataclass(frozen=True)
class Term:
    """One explanatory column of the covariate regression.

    Attributes:
        covariate: The metadata column, or ``"group"``.
        level: A categorical covariate's level this column stands for (None: numeric or date).
        reference: The level it is compared with (None: numeric or date).
        unit: What one step of a numeric covariate is: ``"day"``, ``"week"`` or ``"month"``
            for the date, None for a number as written.
    """

    covariate: str
    level: str | None = None
    reference: str | None = None
    unit: str | None = None

    @property
    def name(self) -> str:
        """``outlet_type=state``, ``date`` or ``size``: how tables name the term."""
        return self.covariate if self.level is None else f"{self.covariate}={self.level}"


@dataclass(frozen=True)
class Effect:
    """The effect of one term on a video's share of one theme.

    Attributes:
        theme: The theme.
        term: The term.
        estimate: Change in the share (a fraction: 0.12 is 12 points) for the level against
            the reference, or per unit.
        low: Lower end of the bootstrap interval (None when too few resamples could be fitted).
        high: Upper end.
    """

    theme: int
    term: Term
    estimate: float
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        """Whether the interval leaves out zero."""
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


def design_matrix(
    covariates: Sequence[Covariate],
    metadata: Sequence[Mapping[str, str]],
    groups: Sequence[str],
    unit: TimeUnit = "day",
) -> tuple[npt.NDArray[np.float64], list[Term]]:
    """Return the regression's columns for some videos (no intercept) and what each is.

    The group comes first, as a categorical covariate whose reference is the first group
    in ``groups``; a categorical covariate gives one 0/1 column per level but its first
    (the reference); a number is taken as written; the date is the time since the
    earliest video, in days, weeks or months (``unit``). A level no video has here
    gives no column.

    Args:
        covariates: From :func:`themescope.corpus.covariates.read_covariates`.
        metadata: Each video's metadata.
        groups: Each video's group.
        unit: The date's unit (:data:`TIME_UNIT_DAYS`).

    Returns:
        The matrix, shape (n_videos, n_terms), and its terms.
    """
    from themescope.corpus.covariates import parse_date

    columns: list[npt.NDArray[np.float64]] = []
    terms: list[Term] = []
    order = list(dict.fromkeys(groups))
    categorical = [("group", order[0], order[1:], list(groups))]
    for covariate in covariates:
        values = [row[covariate.name] for row in metadata]
        if covariate.kind == "categorical":
            present = [level for level in covariate.levels if level in values]
            if present:
                categorical.append((covariate.name, present[0], present[1:], values))
        elif covariate.kind == "date":
            dates = [parse_date(value) for value in values]
            first = min(dates)
            days = [(date - first).total_seconds() / 86400 for date in dates]
            columns.append(np.array(days) / TIME_UNIT_DAYS[unit])
            terms.append(Term(covariate.name, unit=unit))
        else:
            columns.append(np.array([float(value) for value in values]))
            terms.append(Term(covariate.name))
    dummies: list[npt.NDArray[np.float64]] = []
    dummy_terms: list[Term] = []
    for name, reference, levels, values in categorical:
        for level in levels:
            dummies.append(np.array([value == level for value in values], np.float64))
            dummy_terms.append(Term(name, level, reference))
    matrix = (
        np.column_stack(dummies + columns) if dummies or columns else np.zeros((len(groups), 0))
    )
    return matrix, dummy_terms + terms


def covariate_effects(
    shares: npt.NDArray[np.float64],
    design: npt.NDArray[np.float64],
    terms: Sequence[Term],
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[list[Effect], list[str]]:
    """Regress the videos' theme shares on the terms; intervals by resampling videos.

    One ordinary least squares fit per theme, ``share = b0 + Σ_j b_j x_j + e``, all themes
    at once. The interval is the percentile interval of the coefficients refitted on
    ``n_bootstrap`` resamples of the videos drawn with replacement (resamples in which the
    terms cannot be told apart, e.g. every drawn video of one level, are drawn again up to
    ``n_bootstrap`` times more).

    Args:
        shares: Each video's share of its own airtime in each theme, shape (n_videos, k).
        design: From :func:`design_matrix`, shape (n_videos, n_terms).
        terms: What each column of ``design`` is.
        n_bootstrap: Resamples of the videos.
        level: Confidence level of the intervals.
        seed: Seed of the resampling.

    Returns:
        The effects, theme by theme and term by term, and why there are none or no
        intervals, if so.
    """
    n_videos, n_terms = design.shape
    full = np.column_stack([np.ones(n_videos), design])
    if n_videos <= n_terms + 1 or np.linalg.matrix_rank(full) <= n_terms:
        names = ", ".join(term.name for term in terms)
        return [], [
            f"no covariate effects: {n_videos} videos cannot tell apart the {n_terms} terms "
            f"({names}) and a mean; some go together (a covariate that follows the group?) "
            "or there are too few videos"
        ]
    estimate = np.linalg.lstsq(full, shares, rcond=None)[0][1:]
    rng = np.random.default_rng(seed)
    fitted: list[npt.NDArray[np.float64]] = []
    for _ in range(2 * n_bootstrap):
        if len(fitted) == n_bootstrap:
            break
        drawn = rng.integers(0, n_videos, n_videos)
        if np.linalg.matrix_rank(full[drawn]) <= n_terms:
            continue
        fitted.append(np.linalg.lstsq(full[drawn], shares[drawn], rcond=None)[0][1:])
    warnings = []
    if n_videos - n_terms - 1 < MIN_RESIDUAL_VIDEOS:
        warnings.append(
            f"covariate effects rest on {n_videos} videos for {n_terms} terms and a mean: "
            "their intervals are too narrow with so few; read them as a sketch"
        )
    if len(fitted) < n_bootstrap:
        warnings.append(
            f"covariate effects have no intervals: only {len(fitted)} of {2 * n_bootstrap} "
            "resamples of the videos could be fitted (too few videos of some level?)"
        )
        low = high = np.full_like(estimate, np.nan)
    else:
        tail = (1 - level) / 2
        low, high = np.quantile(np.stack(fitted), [tail, 1 - tail], axis=0)
    effects = [
        Effect(
            theme=t,
            term=term,
            estimate=float(estimate[j, t]),
            low=None if np.isnan(low[j, t]) else float(low[j, t]),
            high=None if np.isnan(high[j, t]) else float(high[j, t]),
        )
        for t in range(shares.shape[1])
        for j, term in enumerate(terms)
    ]
    return effects, warnings


def effect_sentence(term: Term, estimate: float, low: float, high: float, label: str) -> str:
    """Say an effect in words, in percentage points of airtime.

    Example:
        >>> term = Term("outlet", "state", "commercial")
        >>> effect_sentence(term, -0.12, -0.19, -0.05, "Vaccines")  # doctest: +ELLIPSIS
        "Videos from outlet=state give theme 'Vaccines' 12 points (5–19) less airtime than ..."
    """
    more = "more" if estimate > 0 else "less"
    # Only a significant effect is said: its interval is on one side of zero.
    near, far = sorted((abs(low), abs(high)))
    # Whole points once any of the three reaches 10, as a reader rounds them.
    digits = 0 if 100 * max(far, abs(estimate)) >= 9.95 else 1
    size = (
        f"{100 * abs(estimate):.{digits}f} points ({100 * near:.{digits}f}–{100 * far:.{digits}f})"
    )
    if term.level is not None:
        return (
            f"Videos from {term.name} give theme {label!r} {size} {more} airtime than "
            f"{term.covariate}={term.reference}"
        )
    step = f"Each {term.unit} later" if term.unit else f"Each unit more of {term.covariate}"
    return f"{step} gives theme {label!r} {size} {more} airtime"
