"""Groups side by side: each group's theme shares, whether the groups differ, and their phrases.

A corpus study compares groups of videos (countries, channels). The frames of one
video are not independent (a story runs for minutes, a channel has its look), so
every statistic here resamples or permutes *videos*, never frames. Inputs are
per-frame arrays of the whole study: the video of each frame, its theme
(``0..k-1``) and the airtime it stands for in seconds, with a mapping from video to
group. Groups are listed in the order they first appear in that mapping (the
manifest's order); videos whose frames add up to no airtime are left out with a
warning, and so is a group left with no video.

Shares (:func:`group_shares`)
    A group's share of a theme is the fraction of the group's airtime that falls
    in the theme: the seconds of its videos' frames in the theme over the seconds
    of all its videos' frames (airtime-weighted: a long report counts more than a
    short one). A group's shares sum to 1. The interval is a bootstrap percentile
    interval over videos: the group's n videos are drawn with replacement
    ``n_bootstrap`` times and the airtime-weighted share is recomputed from the
    drawn videos. A plain percentile interval is too narrow for the few videos a
    group often has (with six videos, 88 % of nominal 95 % intervals held the
    truth in a simulation), so the interval is Hesterberg's expanded percentile
    interval: the quantiles ``a`` and ``1 - a`` of the resampled shares with
    ``a = Φ(−sqrt(n / (n − 1)) · t_{n−1}((1 + level) / 2))`` (94 % in the same
    simulation; it tends to the plain ``(1 - level) / 2`` as n grows). A group
    with one video has no interval.

Difference test (:func:`group_difference_test`)
    A permutation test over videos: group labels are shuffled over the videos,
    group sizes kept, and the statistic recomputed. The statistic is the
    airtime-weighted mean total variation distance between each group's theme
    shares and the pooled shares, ``T = Σ_g w_g · ½ Σ_t |p_gt − p_t|`` with
    ``w_g`` the group's fraction of the study's airtime; for two groups it equals
    ``2 · w_A · w_B · TV(p_A, p_B)``. Per theme, ``T_t = Σ_g w_g · |p_gt − p_t|``
    asks whether the groups' share of that theme differs, under the same
    permutations; its p-values are also given Holm-adjusted over the themes that
    have airtime (a theme no compared frame falls in tests nothing: p = 1, and it
    is not counted in the correction). When there are no more distinct
    assignments of videos to groups than ``n_permutations``, all of them are
    enumerated (an exact test, ``p = #(T_perm ≥ T) / N`` with the observed
    assignment among the N); otherwise ``p = (1 + #(T_perm ≥ T)) / (1 + n)`` over
    ``n`` random permutations.

Phrases (:func:`group_phrases`)
    For one theme, the phrases each group says more than the other groups: the
    weighted log-odds ratio with an informative Dirichlet prior of Monroe,
    Colaresi & Quinn (2008, "Fightin' Words"), z-scored, each group against the
    others pooled. Candidates come from the themes' own phrase extraction
    (:func:`themescope.themes.candidates.extract`), so stop words and fillers are
    never candidates, and general-language words ("new", "的话") are dropped as the
    extractive tagger drops them (:mod:`themescope.themes.extractive`).

Example:
    >>> groups = {"us1": "US", "cn1": "CN"}
    >>> shares = group_shares(video, theme, seconds, groups, k=3)  # doctest: +SKIP
    >>> shares.shares["US"][0]  # doctest: +SKIP
    ShareInterval(share=0.48, low=0.44, high=0.52)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from themescope.media.background import has_background, zipf
from themescope.media.language import contains_han, is_chinese, phrase_language
from themescope.themes.candidates import Key, ThemeCandidates, extract, nested_counts
from themescope.themes.extractive import MIN_RUN_TOKENS

ALPHA = 0.05
"""The significance level warnings speak of ("no p-value can fall below 0.05")."""
_PERMUTATION_CELLS = 4_000_000
# Permutations are scored in blocks of at most this many (permutation, group, video)
# cells, so that memory stays bounded however many videos a study has.
_TIE = 1e-12
# Statistics lie in [0, 1]; two assignments that group the same videos give the same
# value up to rounding, and must count as ties (as large as the observed one).


@dataclass(frozen=True)
class ShareInterval:
    """One group's share of one theme.

    Attributes:
        share: The fraction of the group's airtime in the theme, in [0, 1].
        low: Lower end of the bootstrap percentile interval (None for a group of one video).
        high: Upper end of the interval (None for a group of one video).
    """

    share: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class GroupShares:
    """Every group's share of every theme, with intervals.

    Attributes:
        groups: The groups, in the order they first appear in the video-to-group mapping.
        shares: For each group, one :class:`ShareInterval` per theme (they sum to 1).
        level: Confidence level of the intervals.
        n_bootstrap: Resamples of each group's videos.
        warnings: Videos and groups left out, groups without an interval.
    """

    groups: tuple[str, ...]
    shares: dict[str, list[ShareInterval]]
    level: float
    n_bootstrap: int
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class GroupTest:
    """Whether the groups' theme distributions differ, overall and theme by theme.

    Attributes:
        method: What was computed, in words (test, statistic, number of permutations).
        statistic: The observed airtime-weighted mean total variation distance.
        p_value: Permutation p-value of ``statistic``.
        theme_statistics: Per theme, the airtime-weighted absolute difference of the
            groups' share from the pooled share.
        theme_p_values: Per theme, the permutation p-value (not adjusted).
        theme_p_values_adjusted: The same, Holm-adjusted over the themes with airtime.
        correction: The multiple-comparison correction of ``theme_p_values_adjusted``.
        n_permutations: Assignments scored (all distinct ones when ``exact``).
        exact: Whether every distinct assignment of videos to groups was scored.
        groups: The groups compared.
        warnings: Why the test may say little (groups of one video, too few assignments).
    """

    method: str
    statistic: float
    p_value: float
    theme_statistics: list[float]
    theme_p_values: list[float]
    theme_p_values_adjusted: list[float]
    correction: str
    n_permutations: int
    exact: bool
    groups: tuple[str, ...]
    warnings: tuple[str, ...]


class TooFewGroupsError(ValueError):
    """Fewer than two groups have airtime: there is nothing to compare.

    The caller records the message as a warning of the study.
    """


@dataclass(frozen=True)
class _Airtime:
    """The study reduced to seconds per video and theme (videos with airtime only)."""

    groups: tuple[str, ...]
    group_of: npt.NDArray[np.int64]  # (n_videos,) index into groups
    seconds: npt.NDArray[np.float64]  # (n_videos, k)
    warnings: tuple[str, ...]


def _airtime(
    video: npt.ArrayLike,
    theme: npt.ArrayLike,
    seconds: npt.ArrayLike,
    video_group: Mapping[str, str],
    k: int,
) -> _Airtime:
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    videos = np.asarray(video, dtype=str)
    themes = np.asarray(theme)
    times = np.asarray(seconds, dtype=np.float64)
    if not (videos.ndim == themes.ndim == times.ndim == 1) or not (
        len(videos) == len(themes) == len(times)
    ):
        raise ValueError(
            "video, theme and seconds must be 1-D and of one length; got shapes "
            f"{videos.shape}, {themes.shape} and {times.shape}"
        )
    if themes.size == 0:
        themes = themes.astype(np.int64)
    if not np.issubdtype(themes.dtype, np.integer):
        raise ValueError(f"theme must hold integers; got {themes.dtype}")
    if themes.size and (themes.min() < 0 or themes.max() >= k):
        raise ValueError(f"theme must lie in 0..{k - 1}; got {themes.min()}..{themes.max()}")
    if not np.all(np.isfinite(times)) or np.any(times < 0):
        raise ValueError("seconds must be finite and >= 0")
    order = list(video_group)
    index = {v: i for i, v in enumerate(order)}
    ids, inverse = np.unique(videos, return_inverse=True)
    missing = [str(v) for v in ids if v not in index]
    if missing:
        raise ValueError(f"{len(missing)} video(s) have no group: {', '.join(missing[:3])}")
    code = np.array([index[v] for v in ids], dtype=np.int64)[inverse.reshape(-1)]
    matrix = np.bincount(
        code * k + themes.astype(np.int64), weights=times, minlength=len(order) * k
    ).reshape(len(order), k)
    warnings = []
    has_airtime = matrix.sum(axis=1) > 0
    for v, kept in zip(order, has_airtime, strict=True):
        if not kept:
            warnings.append(f"video {v} has no airtime (no frames, or frames of 0 s): left out")
    groups = []
    for g in dict.fromkeys(video_group.values()):
        if any(video_group[v] == g for v, kept in zip(order, has_airtime, strict=True) if kept):
            groups.append(g)
        else:
            warnings.append(f"group {g} has no video with airtime: left out")
    group_index = {g: i for i, g in enumerate(groups)}
    group_of = np.array(
        [group_index[video_group[v]] for v, kept in zip(order, has_airtime, strict=True) if kept],
        dtype=np.int64,
    )
    return _Airtime(tuple(groups), group_of, matrix[has_airtime], tuple(warnings))


def group_shares(
    video: npt.ArrayLike,
    theme: npt.ArrayLike,
    seconds: npt.ArrayLike,
    video_group: Mapping[str, str],
    k: int,
    *,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> GroupShares:
    """Return each group's airtime share of every theme with a bootstrap interval over videos.

    Args:
        video: Video id of each frame, shape (n_frames,).
        theme: Theme of each frame (``0..k-1``), shape (n_frames,).
        seconds: Airtime each frame stands for (>= 0), shape (n_frames,).
        video_group: Group of every video; its order is the order of the groups.
        k: Number of themes (a theme no frame falls in gets share 0).
        n_bootstrap: Resamples of each group's videos.
        level: Confidence level of the percentile intervals, in (0, 1).
        seed: Seed of the resampling (the result is the same for the same seed).

    Raises:
        ValueError: Inputs of different lengths, a theme out of range, negative or
            non-finite seconds, a video without a group, or no airtime at all.

    Example:
        >>> out = group_shares(["a", "a", "b"], [0, 1, 0], [1.0, 1.0, 2.0],
        ...                    {"a": "US", "b": "CN"}, k=2)
        >>> out.shares["US"][0].share, out.shares["CN"][0].share
        (0.5, 1.0)
    """
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be at least 1; got {n_bootstrap}")
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    air = _airtime(video, theme, seconds, video_group, k)
    if not air.groups:
        raise ValueError("no video has airtime: there are no shares to compute")
    rng = np.random.default_rng(seed)
    warnings = list(air.warnings)
    shares: dict[str, list[ShareInterval]] = {}
    for i, group in enumerate(air.groups):
        rows = air.seconds[air.group_of == i]
        if len(rows) < 2:
            warnings.append(f"group {group} has one video: no interval for its shares")
        shares[group] = share_intervals(rows, rng, n_bootstrap=n_bootstrap, level=level)
    return GroupShares(air.groups, shares, level, n_bootstrap, tuple(warnings))


def share_intervals(
    rows: npt.NDArray[np.float64], rng: np.random.Generator, *, n_bootstrap: int, level: float
) -> list[ShareInterval]:
    """Return the airtime share of each theme in some videos, with its interval over them.

    Args:
        rows: Seconds of each video (with airtime) in each theme, shape (n_videos, k).
        rng: The resampling's generator.
        n_bootstrap: Resamples of the videos.
        level: Confidence level of the expanded percentile interval (module docstring).

    Returns:
        One share per theme; one video gives no interval (``low`` and ``high`` None).
    """
    share = rows.sum(axis=0) / rows.sum()
    n_videos = len(rows)
    if n_videos < 2:
        return [ShareInterval(float(s), None, None) for s in share]
    # How often each video is drawn in each resample: a resample's theme seconds
    # are then one matrix product, for any number of videos.
    draws = rng.multinomial(n_videos, np.full(n_videos, 1 / n_videos), size=n_bootstrap)
    resampled = draws @ rows
    resampled /= resampled.sum(axis=1, keepdims=True)
    tail = _expanded_tail(level, n_videos)
    low, high = np.quantile(resampled, [tail, 1 - tail], axis=0)
    return [
        ShareInterval(float(s), float(lo), float(hi))
        for s, lo, hi in zip(share, low, high, strict=True)
    ]


def _expanded_tail(level: float, n_videos: int) -> float:
    """The lower quantile of Hesterberg's expanded percentile interval for ``n_videos``."""
    from scipy.stats import t

    # A plain percentile interval is too narrow for a few videos (about 88 % of
    # 95 % intervals cover the truth with six); widening it as a t interval is
    # wider than a z interval, with the bootstrap's sqrt((n - 1) / n) undone, brings
    # it back to its level (Hesterberg 2015, "What teachers should know about the
    # bootstrap", The American Statistician 69(4)).
    quantile = math.sqrt(n_videos / (n_videos - 1)) * t.ppf((1 + level) / 2, n_videos - 1)
    return 0.5 * math.erfc(quantile / math.sqrt(2))


def group_difference_test(
    video: npt.ArrayLike,
    theme: npt.ArrayLike,
    seconds: npt.ArrayLike,
    video_group: Mapping[str, str],
    k: int,
    *,
    n_permutations: int = 1000,
    seed: int = 0,
) -> GroupTest:
    """Test whether the groups' theme distributions differ, by permuting groups over videos.

    Arguments are those of :func:`group_shares`; see the module docstring for the
    statistics. Works for two or more groups.

    Args:
        video: Video id of each frame, shape (n_frames,).
        theme: Theme of each frame (``0..k-1``), shape (n_frames,).
        seconds: Airtime each frame stands for (>= 0), shape (n_frames,).
        video_group: Group of every video.
        k: Number of themes.
        n_permutations: Random permutations; when the videos have no more distinct
            assignments to groups than this, all of them are scored instead.
        seed: Seed of the permutations.

    Raises:
        TooFewGroupsError: Fewer than two groups have airtime (no test; the caller
            records the message as a warning).
        ValueError: Bad inputs, as for :func:`group_shares`.

    Example:
        >>> test = group_difference_test(video, theme, seconds, groups, k=5)  # doctest: +SKIP
        >>> test.p_value, test.theme_p_values_adjusted  # doctest: +SKIP
        (0.002, [0.006, 1.0, 0.4, 1.0, 0.9])
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1; got {n_permutations}")
    air = _airtime(video, theme, seconds, video_group, k)
    if len(air.groups) < 2:
        only = f" (only {air.groups[0]})" if air.groups else ""
        raise TooFewGroupsError(f"fewer than two groups have airtime{only}: no difference test")
    n_groups = len(air.groups)
    sizes = np.bincount(air.group_of, minlength=n_groups)
    exact = _n_assignments(sizes, n_permutations) is not None
    if exact:
        assignments = _all_assignments(sizes)
    else:
        rng = np.random.default_rng(seed)
        assignments = rng.permuted(np.tile(air.group_of, (n_permutations, 1)), axis=1)
    observed, observed_theme = _statistics(air.seconds, air.group_of[None, :], n_groups)
    null, null_theme = _statistics(air.seconds, assignments, n_groups)
    n_scored = len(assignments)
    extra = 0 if exact else 1  # a random permutation test counts the observed labels once

    def p_values(null_values: npt.NDArray[np.float64], value: npt.ArrayLike) -> npt.NDArray:
        at_least = (null_values >= np.asarray(value) - _TIE).sum(axis=0)
        return np.asarray((at_least + extra) / (n_scored + extra), dtype=np.float64)

    p_value = float(p_values(null, observed[0]))
    theme_p = p_values(null_theme, observed_theme[0])
    tested = air.seconds.sum(axis=0) > 0
    theme_p[~tested] = 1.0
    adjusted = np.ones(k)
    adjusted[tested] = _holm(theme_p[tested])

    warnings = list(air.warnings)
    for group, size in zip(air.groups, sizes, strict=True):
        if size < 2:
            warnings.append(
                f"group {group} has one video: the test compares that video, not a group"
            )
    smallest = float(p_values(null, null.max())) if exact else 1 / (n_scored + 1)
    if smallest > ALPHA:
        warnings.append(
            f"{n_scored} {'distinct assignments of videos to groups' if exact else 'permutations'}"
            f": no p-value can fall below {smallest:.3g}"
        )
    scope = (
        f"exact permutation test over videos (all {n_scored} assignments of the "
        f"{len(air.group_of)} videos to groups of their sizes)"
        if exact
        else f"permutation test over videos ({n_scored} random permutations of the group "
        "labels, group sizes kept)"
    )
    method = (
        f"{scope} of the airtime-weighted mean total variation distance between each "
        f"group's theme shares and the pooled shares; per theme, the airtime-weighted "
        f"absolute difference of each group's share from the pooled share, under the same "
        f"permutations, Holm-adjusted over the {int(tested.sum())} themes with airtime"
    )
    return GroupTest(
        method=method,
        statistic=float(observed[0]),
        p_value=p_value,
        theme_statistics=[float(s) for s in observed_theme[0]],
        theme_p_values=[float(p) for p in theme_p],
        theme_p_values_adjusted=[float(p) for p in adjusted],
        correction="Holm",
        n_permutations=n_scored,
        exact=exact,
        groups=air.groups,
        warnings=tuple(warnings),
    )


def _n_assignments(sizes: npt.NDArray[np.int64], cap: int) -> int | None:
    """How many distinct ways the videos fall into groups of ``sizes``; None when above ``cap``."""
    n_videos = int(sizes.sum())
    # The exact count of a large study is an enormous integer: its logarithm decides first.
    log_count = math.lgamma(n_videos + 1) - sum(math.lgamma(int(s) + 1) for s in sizes)
    if log_count > math.log(cap) + 1:
        return None
    count, left = 1, n_videos
    for size in sizes:
        count *= math.comb(left, int(size))
        left -= int(size)
    return count if count <= cap else None


def _all_assignments(sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Every distinct labelling of ``sizes.sum()`` videos with groups of these sizes."""
    n_videos = int(sizes.sum())
    out: list[npt.NDArray[np.int64]] = []

    def fill(labels: npt.NDArray[np.int64], free: list[int], group: int) -> None:
        if group == len(sizes) - 1:
            labels[free] = group
            out.append(labels.copy())
            return
        for chosen in itertools.combinations(free, int(sizes[group])):
            labels[list(chosen)] = group
            fill(labels, [i for i in free if i not in chosen], group + 1)

    fill(np.zeros(n_videos, dtype=np.int64), list(range(n_videos)), 0)
    return np.stack(out)


def _statistics(
    seconds: npt.NDArray[np.float64], assignments: npt.NDArray[np.int64], n_groups: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The overall and per-theme statistics of each assignment: shapes (n,) and (n, k)."""
    total = seconds.sum()
    pooled = seconds.sum(axis=0) / total
    per_video = seconds.sum(axis=1)
    n_videos = seconds.shape[0]
    block = max(1, _PERMUTATION_CELLS // (n_groups * n_videos))
    overall, per_theme = [], []
    for start in range(0, len(assignments), block):
        chunk = assignments[start : start + block]
        member = (chunk[:, None, :] == np.arange(n_groups)[None, :, None]).astype(np.float64)
        # w_g · p_gt and w_g for every permutation and group: (n, G, k) and (n, G).
        weighted_share = member @ seconds / total
        weight = member @ per_video / total
        gap = np.abs(weighted_share - weight[..., None] * pooled)
        per_theme.append(gap.sum(axis=1))
        overall.append(0.5 * gap.sum(axis=(1, 2)))
    return np.concatenate(overall), np.concatenate(per_theme)


def _holm(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Holm's step-down adjustment of ``p`` (same order in, same order out)."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


MIN_Z = 1.645
"""Smallest z-score of a phrase a group says more than the others (one-sided 5 %)."""


def group_phrases(
    texts_by_group: Mapping[str, Sequence[str]],
    lang_by_group: Mapping[str, str] | None = None,
    *,
    n: int = 8,
    min_count: int = 2,
    min_z: float = MIN_Z,
    prior_weight: float = 0.25,
    min_keyness: float = 1.0,
    names: Collection[str] = (),
    max_words: int = 4,
    max_words_zh: int = 3,
    rare_zipf: float = 4.5,
) -> dict[str, list[tuple[str, float, int]]]:
    """Return, for one theme, the phrases each group says more than the other groups.

    Candidates are extracted from each group's text as the extractive tagger does
    (:func:`themescope.themes.candidates.extract`). A phrase's count is what is
    left of it after the longer candidates holding most of its occurrences take
    theirs (C-value without its length weight,
    :func:`~themescope.themes.candidates.nested_counts`), so "trade tariffs" is
    not listed again as "tariffs". For group i against the other groups pooled
    (j), with y the counts, n their totals, and the prior
    ``α_w = prior_weight · (y_w of all groups)``, ``α0 = Σ α_w`` (Monroe et al.'s
    informative Dirichlet prior, the theme's own text as background):

        δ_w = log((y_iw + α_w) / (n_i + α0 − y_iw − α_w))
              − log((y_jw + α_w) / (n_j + α0 − y_jw − α_w))
        z_w = δ_w / sqrt(1 / (y_iw + α_w) + 1 / (y_jw + α_w))

    A phrase is listed for group i when ``z ≥ min_z``, the group says it at least
    ``min_count`` times, and it is at least ``10 ** min_keyness`` times commoner in
    the group's text than in general language (the tagger's rule, which keeps out
    "new" or "的话"). Groups in different languages have disjoint phrases: a phrase
    only one of two groups with as much text each says, c times, reaches
    z ≈ 0.73·√c with the default prior (so about six mentions pass ``min_z``); the
    group with more text needs more, since z compares rates. A phrase holding a
    better-listed one, or held by it, is left out.

    Args:
        texts_by_group: The theme's text in each group: passages (consecutive frames'
            transcript joined, as :func:`~themescope.themes.candidates.theme_passages`
            gives), captions or on-screen text. A text passed twice counts twice.
        lang_by_group: Each group's language ("en", "zh", ...); missing or "und" is
            read from the text (Chinese when written in ideographs, else English).
        n: Most phrases listed per group.
        min_count: Times a group must say a phrase for it to be listed.
        min_z: Smallest z-score listed (1.645: one-sided 5 %).
        prior_weight: Weight of the prior, as a fraction of the theme's text.
        min_keyness: Zipf units over general language a phrase needs.
        names: People's names (lower-cased) that are no phrases; by default who a
            group talks about is a phrase like any other.
        max_words: Longest English phrase, in words.
        max_words_zh: Longest Chinese compound, in jieba words.
        rare_zipf: Zipf frequency below which a Chinese verb or adjective may stand alone.

    Returns:
        For every group, up to ``n`` tuples ``(phrase, z, count)``, highest z first;
        empty lists when fewer than two groups have text.

    Example:
        >>> out = group_phrases({"US": us_texts, "CN": cn_texts})  # doctest: +SKIP
        >>> out["US"][0]  # doctest: +SKIP
        ('trade tariffs', 3.1, 14)
    """
    groups = list(texts_by_group)
    langs = [_group_language(texts_by_group[g], (lang_by_group or {}).get(g)) for g in groups]
    cands = [
        extract(
            texts_by_group[g],
            lang,
            set(names),
            max_words=max_words,
            max_words_zh=max_words_zh,
            rare_zipf=rare_zipf,
        )
        for g, lang in zip(groups, langs, strict=True)
    ]
    out: dict[str, list[tuple[str, float, int]]] = {g: [] for g in groups}
    own = [_own_counts(c) for c in cands]
    if sum(1 for c in own if any(v > 0 for v in c.values())) < 2:
        return out
    keys = sorted({key for counts in own for key, value in counts.items() if value > 0})
    counts = np.array([[c.get(key, 0.0) for key in keys] for c in own])  # (G, V)
    pooled = counts.sum(axis=0)
    alpha = prior_weight * pooled
    alpha0 = alpha.sum()
    for i, group in enumerate(groups):
        mine, rest = counts[i], pooled - counts[i]
        n_mine, n_rest = mine.sum(), pooled.sum() - mine.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            delta = np.log((mine + alpha) / (n_mine + alpha0 - mine - alpha)) - np.log(
                (rest + alpha) / (n_rest + alpha0 - rest - alpha)
            )
            z = delta / np.sqrt(1 / (mine + alpha) + 1 / (rest + alpha))
        out[group] = _listed(
            cands[i],
            langs[i],
            keys,
            z,
            n=n,
            min_count=min_count,
            min_z=min_z,
            min_keyness=min_keyness,
        )
    return out


def _group_language(texts: Sequence[str], declared: str | None) -> str:
    """The language to cut a group's phrases in, as the extractive tagger picks a theme's."""
    lang = phrase_language(texts, declared or "und")
    if is_chinese(lang):
        return "zh"
    return lang if has_background(lang) else "en"


def _own_counts(cands: ThemeCandidates) -> dict[Key, float]:
    """Occurrences of each candidate not owed to a longer candidate holding it."""
    # nested_counts weights the C-value by log2(1 + n_words) to rank phrases; the
    # log-odds need counts, so the weight is taken off again.
    return {
        key: value / math.log2(1 + len(key)) for key, value in nested_counts(cands.counts).items()
    }


def _listed(
    cands: ThemeCandidates,
    lang: str,
    keys: list[Key],
    z: npt.NDArray[np.float64],
    *,
    n: int,
    min_count: int,
    min_z: float,
    min_keyness: float,
) -> list[tuple[str, float, int]]:
    n_tokens = max(cands.n_tokens, MIN_RUN_TOKENS)
    eligible = []
    for key, score in zip(keys, z, strict=True):
        said = cands.counts.get(key, 0)
        if not (np.isfinite(score) and score >= min_z and said >= min_count):
            continue
        surface = cands.surface(key)
        background = "zh" if contains_han(surface) else lang
        if has_background(background):
            keyness = math.log10(1e9 * said / n_tokens) - zipf(surface, background)
            if keyness < min_keyness:
                continue
        eligible.append((key, surface, float(score), said))
    eligible.sort(key=lambda e: (-e[2], -e[3], -len(e[0]), e[1]))
    kept: list[tuple[Key, str, float, int]] = []
    for entry in eligible:
        if len(kept) == n:
            break
        if not any(_inside(entry[0], k[0]) or _inside(k[0], entry[0]) for k in kept):
            kept.append(entry)
    return [(surface, score, said) for _, surface, score, said in kept]


def _inside(part: Key, whole: Key) -> bool:
    """Whether ``part`` is a run of consecutive tokens of ``whole``."""
    size = len(part)
    return any(whole[i : i + size] == part for i in range(len(whole) - size + 1))
