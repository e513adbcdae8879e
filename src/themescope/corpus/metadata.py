"""A study's shares over time and covariate effects, as its documents record them.

:func:`by_metadata` turns frame labels and each video's metadata columns (a date, the
covariates asked for) into ``themes.json``'s ``over_time`` and ``effects`` records;
:func:`write_effects` writes ``STUDY/effects.csv``. The themes stage, the codebook and
videos added with ``--into`` all measure through them.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from themescope.corpus.covariates import Covariate, date_column, parse_date, read_covariates
from themescope.corpus.effects import (
    Effect,
    OverTime,
    Term,
    covariate_effects,
    design_matrix,
    effect_sentence,
    shares_over_time,
    time_unit,
)
from themescope.errors import ConfigError
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, StageWriter
from themescope.study_documents import (
    CovariateRecord,
    EffectRecord,
    EffectsRecord,
    OverTimeRecord,
    StudyThemeRecord,
    TimeShareRecord,
    read_study_videos,
)

EFFECT_COLUMNS = (
    "theme",
    "label",
    "term",
    "covariate",
    "level",
    "reference",
    "unit",
    "estimate",
    "low",
    "high",
    "significant",
)
"""Columns of ``STUDY/effects.csv``: one row per theme and term; ``estimate``, ``low`` and
``high`` are changes of a video's share of the theme (0.12: 12 points)."""


def by_metadata(
    run: RunDirectory,
    videos: list[str],
    labels: np.ndarray,
    seconds: np.ndarray,
    video_group: dict[str, str],
    theme_labels: dict[int, str],
    writer: StageWriter,
    *,
    seed: int,
    n_bootstrap: int,
    level: float,
    covariate_names: tuple[str, ...],
    metadata: dict[str, dict[str, str]] | None = None,
) -> tuple[OverTimeRecord | None, EffectsRecord | None]:
    """Shares over time (with a date column) and covariate effects (when asked).

    ``labels`` are 0..len(theme_labels)-1: the themes stage's, or the researcher's
    themes of a codebook (:mod:`themescope.corpus.codebook`). ``metadata``: each
    video's metadata columns; videos.json's when None.
    """
    k = len(theme_labels)
    order, matrix = _video_seconds(videos, labels, seconds, list(video_group), k)
    if not order:
        return None, None
    if metadata is None:
        metadata = {
            video.id: video.metadata for video in read_study_videos(run / STUDY_VIDEOS_NAME).videos
        }
    rows = [metadata.get(video, {}) for video in order]
    groups = [video_group[video] for video in order]
    column = date_column(list(dict.fromkeys(key for row in rows for key in row)))
    dates = [parse_date(row[column]) for row in rows] if column is not None else []
    over_time = None
    if dates:
        found = shares_over_time(
            matrix, groups, dates, n_bootstrap=n_bootstrap, level=level, seed=seed
        )
        if len(found.bins) > 1:
            over_time = _over_time_record(column or "", found)
    if not covariate_names:
        return over_time, None
    try:
        covariates = read_covariates(
            covariate_names, list(enumerate(rows, start=1)), "the study's ingested videos"
        )
    except ConfigError as exc:
        # The corpus was checked before any work; videos that failed can still leave
        # a covariate with one value among the rest.
        writer.warn(f"no covariate effects: {exc}")
        return over_time, None
    unit = time_unit(dates) if dates else "day"
    design, terms = design_matrix(covariates, rows, groups, unit)
    shares = matrix / matrix.sum(axis=1, keepdims=True)
    effects, warnings = covariate_effects(
        shares, design, terms, n_bootstrap=n_bootstrap, level=level, seed=seed
    )
    for message in warnings:
        writer.warn(message)
    if not effects:
        return over_time, None
    return over_time, EffectsRecord(
        model=_model_sentence(covariates, terms),
        covariates=[
            CovariateRecord(name=c.name, kind=c.kind, levels=list(c.levels)) for c in covariates
        ],
        n_videos=len(order),
        n_bootstrap=n_bootstrap,
        confidence_level=level,
        effects=[_effect_record(effect, theme_labels[effect.theme]) for effect in effects],
    )


def _effect_record(effect: Effect, label: str) -> EffectRecord:
    # Significance is judged on the interval as written: one whose end rounds to 0 is not.
    rounded = dataclasses.replace(
        effect,
        estimate=_rounded(effect.estimate),
        low=None if effect.low is None else _rounded(effect.low),
        high=None if effect.high is None else _rounded(effect.high),
    )
    return EffectRecord(
        theme=effect.theme,
        term=effect.term.name,
        covariate=effect.term.covariate,
        level=effect.term.level,
        reference=effect.term.reference,
        unit=effect.term.unit,
        estimate=rounded.estimate,
        low=rounded.low,
        high=rounded.high,
        significant=rounded.significant,
        sentence=effect_sentence(
            effect.term, rounded.estimate, rounded.low or 0.0, rounded.high or 0.0, label
        )
        if rounded.significant
        else None,
    )


def _rounded(value: float) -> float:
    # Adding 0.0 turns a -0.0 left by rounding a tiny negative into 0.0.
    return round(value, 4) + 0.0


def _video_seconds(
    videos: list[str], labels: np.ndarray, seconds: np.ndarray, order: list[str], k: int
) -> tuple[list[str], np.ndarray]:
    """The videos with airtime, in study order, and their seconds per theme (n_videos, k)."""
    index = {video: i for i, video in enumerate(order)}
    rows = np.array([index[video] for video in videos], dtype=np.int64)
    matrix = np.bincount(
        rows * k + labels.astype(np.int64), weights=seconds, minlength=len(order) * k
    ).reshape(len(order), k)
    kept = matrix.sum(axis=1) > 0
    return [video for video, keep in zip(order, kept, strict=True) if keep], matrix[kept]


def _over_time_record(column: str, found: OverTime) -> OverTimeRecord:
    return OverTimeRecord(
        column=column,
        unit=found.unit,
        bins=[start.isoformat() for start in found.bins],
        shares=[
            TimeShareRecord(
                group=point.group,
                start=point.start.isoformat(),
                theme=point.theme,
                share=round(point.share, 4),
                low=None if point.low is None else round(point.low, 4),
                high=None if point.high is None else round(point.high, 4),
                n_videos=point.n_videos,
            )
            for point in found.shares
        ],
    )


def _model_sentence(covariates: tuple[Covariate, ...], terms: list[Term]) -> str:
    """The regression in words, for the report's method section."""
    parts = []
    for covariate in covariates:
        if covariate.kind == "categorical":
            parts.append(f"{covariate.name} (categorical, against {covariate.levels[0]})")
        elif covariate.kind == "date":
            unit = next(term.unit for term in terms if term.covariate == covariate.name)
            parts.append(f"{covariate.name} (time since the first video, per {unit})")
        else:
            parts.append(f"{covariate.name} (a number, per unit)")
    reference = next((term.reference for term in terms if term.covariate == "group"), None)
    group = f"the group (categorical, against {reference})" if reference else "no group term"
    return (
        "For each theme, an ordinary least squares regression of each video's share of its "
        f"airtime in the theme on {group} and {', '.join(parts)}; every video counts once. "
        "Intervals are percentile intervals of the coefficients refitted on resamples of "
        "the videos drawn with replacement."
    )


def write_effects(path: Path, effects: EffectsRecord, themes: list[StudyThemeRecord]) -> None:
    """Write ``STUDY/effects.csv``: one row per theme and term (:data:`EFFECT_COLUMNS`)."""
    labels = {theme.id: theme.label for theme in themes}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(EFFECT_COLUMNS)
        for e in effects.effects:
            out.writerow(
                [
                    e.theme,
                    labels[e.theme],
                    e.term,
                    e.covariate,
                    e.level or "",
                    e.reference or "",
                    e.unit or "",
                    e.estimate,
                    "" if e.low is None else e.low,
                    "" if e.high is None else e.high,
                    str(e.significant).lower(),
                ]
            )
