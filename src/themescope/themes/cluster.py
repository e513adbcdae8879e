"""K-means on the latents with an automatic choice of k.

The paper chose k by eye from three plots over k = 2..9: the mean distance of
the points to their centroid (look for an elbow), the mean distance between
centroids (look for a maximum) and the cluster populations as k grows (large
clusters that stay stable). :func:`select_k` computes those three, plus the
silhouette and a bootstrap stability score, for every k from ``max(2, lo-1)``
to ``hi+1`` (so the elbow and the stability at the ends of the range have
neighbours) and chooses within ``lo..hi`` by one rule:

    score(k) = 0.30·silhouette + 0.25·elbow + 0.20·bootstrap_stability
               + 0.15·large_cluster_stability + 0.10·mean_centroid_dist / max

Silhouette, bootstrap stability (mean adjusted Rand index) and large-cluster
stability are used as they are, on their own [0, 1]-like scales, so that small
differences stay small; the mean centroid distance has the units of the data
and is divided by its largest value among the candidates. The elbow sharpness
at k is ``1 - (D(k) - D(k+1)) / (D(k-1) - D(k))`` clipped to [0, 1], with D the
mean distance to centroid (D(1) is the distance to the overall mean): 1 when
the fall of D stops right after k, 0 when it goes on as fast. Ties go to the
smaller k.

Scaling: the latents are *not* standardised per dimension. They are posterior
means of a VAE, where unused (collapsed) dimensions are near-constant noise;
z-scoring would blow that noise up to the weight of the informative dimensions.
They are only divided by one global factor (the root-mean-square distance to
the mean), which keeps the geometry and makes the distances in the table
comparable between runs.

Time is not a feature by default: the CRVAE already places neighbouring frames
together (the temporal pattern the paper observed); ``time_weight`` can add it
for users who want themes to be contiguous stretches of the video.

Backends: scikit-learn's KMeans, or faiss (faiss-cpu) on request or, when it is
installed, from :data:`FAISS_MIN_POINTS` points (set from
benchmarks/bench_themes.py; on the machine it was measured on faiss never won).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from themescope import registry
from themescope._config import SEED_HIGH
from themescope._format import decimals
from themescope.devices import free_cpus
from themescope.documents import KRow, KSelectionRecord, StabilityRecord, ThemeStabilityRecord
from themescope.errors import ConfigError, ThemescopeError

logger = logging.getLogger("themescope")

FAISS_MIN_POINTS: int | None = None
"""Use faiss (when importable) for K-means from this many points; None: never automatically.

Measured by benchmarks/bench_themes.py (64-d, k=5, exactly 20 iterations, one
start, both backends on the threads themescope gives them; shared 2-core
machine, load ~9): scikit-learn 1.9 took 0.13 / 0.37 / 1.01 / 3.92 s for
10k / 100k / 300k / 1M points, faiss-cpu 1.15 0.08 / 0.58 / 1.41 / 4.63 s (and
3.1 / 12.5 / 35.8 / 71.3 s with its default OpenMP threads); a second run gave
the same picture. faiss won only at 10k points, where both take a blink, and
lost from 100k on, so "auto" stays with scikit-learn; pass ``backend="faiss"``
(``cluster_backend`` in the stage config) to use it, and set this from the
benchmark on a machine where faiss wins above some size.
"""

WEIGHTS = {
    "silhouette": 0.30,
    "elbow": 0.25,
    "bootstrap_stability": 0.20,
    "large_cluster_stability": 0.15,
    "mean_centroid_dist": 0.10,
}
"""Weights of the normalised criteria in the k rule (they sum to 1)."""

MIN_FRAMES_TO_CHOOSE = 4
"""Fewer distinct frames than this give one theme: 2 clusters of 1–2 frames are not themes."""

SILHOUETTE_SAMPLE = 2000
"""Silhouette is computed on at most this many points (seeded sample)."""

BOOTSTRAP_MAX_POINTS = 3000
"""Bootstrap resamples are drawn from at most this many points (seeded subsample)."""


@dataclass
class KMeansFit:
    """One K-means clustering.

    Attributes:
        labels: Cluster of each point, shape (n,).
        centers: Centroids, shape (k, dim), in the scaled space.
        inertia: Sum of squared distances to the centroids.
        backend: "sklearn", "faiss" or "trivial" (k = 1).
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    backend: str


@dataclass
class KSelection:
    """The chosen k, how it was chosen, and the clustering with that k.

    Attributes:
        k: The number of themes.
        method: "auto", "user" or "lowered" (fewer frames than the range or k asked for).
        k_range: The range searched, as asked for ([k, k] for a user k).
        reason: One sentence with the numbers behind the choice.
        table: One row per k evaluated (see :func:`select_k`).
        labels: Cluster of each frame, shape (n,).
        centers: Centroids in the scaled space, shape (k, dim).
        features: The scaled features that were clustered, shape (n, dim).
        backend: K-means backend of the final clustering.
        warnings: Degradations to report (lowered k, ...).
    """

    k: int
    method: str
    k_range: tuple[int, int]
    reason: str
    table: list[KRow]
    labels: np.ndarray
    centers: np.ndarray
    features: np.ndarray
    backend: str
    warnings: list[str] = field(default_factory=list)

    def to_record(self) -> KSelectionRecord:
        """Return the ``k_selection`` record of themes.json."""
        return KSelectionRecord(
            method=self.method,
            range=self.k_range,
            chosen=self.k,
            reason=self.reason,
            table=self.table,
        )


SMALL_DATA_POINTS = 5000
"""Below this many points, native code runs on one thread (see :func:`native_threads`)."""


def native_threads(n_points: int) -> contextlib.AbstractContextManager[Any]:
    """Limit native thread pools (OpenMP, BLAS) for scikit-learn work on ``n_points``.

    One thread below :data:`SMALL_DATA_POINTS`, where thread start-up costs more
    than the work (t-SNE of 120 points: 0.5 s on one thread, 11 s on two busy
    ones); otherwise the idle CPUs (:func:`free_cpus`).
    """
    limit = 1 if n_points < SMALL_DATA_POINTS else free_cpus()
    if limit >= (os.cpu_count() or 1):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit)


def scale_features(
    latents: np.ndarray, times_s: np.ndarray | None = None, time_weight: float = 0.0
) -> np.ndarray:
    """Return the latents divided by one global factor, optionally with time appended.

    Args:
        latents: Array of shape (n, dim).
        times_s: Time of each frame, shape (n,), used when ``time_weight`` > 0.
        time_weight: 0 (default) leaves time out; 1 gives time the same spread
            as the whole latent space.

    Returns:
        Float64 array of shape (n, dim) or (n, dim + 1).
    """
    x = np.asarray(latents, dtype=np.float64)
    if x.ndim != 2:
        raise ThemescopeError(f"latents must be a 2-D array (frames x dims), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ThemescopeError("latents contain NaN or infinite values; retrain the model")
    if len(x) == 0:
        return x
    centred = x - x.mean(axis=0)
    rms = float(np.sqrt((centred**2).sum(axis=1).mean())) if len(x) else 0.0
    x = centred / rms if rms > 0 else centred
    if time_weight > 0 and times_s is not None and len(x) > 1:
        t = np.asarray(times_s, dtype=np.float64)
        t = t - t.mean()
        spread = float(np.sqrt((t**2).mean()))
        column = t / spread * time_weight if spread > 0 else np.zeros_like(t)
        x = np.hstack([x, column[:, None]])
    return x


def kmeans(
    x: np.ndarray,
    k: int,
    *,
    seed: int,
    n_init: int = 10,
    max_iter: int = 300,
    backend: str = "auto",
) -> KMeansFit:
    """Cluster ``x`` (shape (n, dim)) into ``k`` groups with the best of ``n_init`` starts.

    Args:
        x: Points, shape (n, dim).
        k: Number of clusters (1 <= k <= n).
        seed: Random seed of the initialisations.
        n_init: Initialisations; the one with the lowest inertia wins.
        max_iter: Iterations per initialisation.
        backend: "auto" (faiss from :data:`FAISS_MIN_POINTS` points if installed,
            else scikit-learn) or a registered cluster backend ("sklearn", "faiss"):
            a function ``(x, k, *, seed, n_init, max_iter) -> KMeansFit``.

    Raises:
        ConfigError: k is out of range, or the backend is unknown or cannot run here.
    """
    n = len(x)
    if not 1 <= k <= n:
        raise ConfigError(f"k={k} must be between 1 and the number of points n={n}")
    if k == 1:
        center = x.mean(axis=0, keepdims=True)
        return KMeansFit(
            np.zeros(n, dtype=np.int64), center, float(((x - center) ** 2).sum()), "trivial"
        )
    if backend == "auto":
        use_faiss = FAISS_MIN_POINTS is not None and n >= FAISS_MIN_POINTS and faiss_available()
        backend = "faiss" if use_faiss else "sklearn"
    chosen = registry.get("cluster backend", backend)
    availability = chosen.available()
    if not availability.ok:
        raise ConfigError(f"K-means backend {chosen.name} {availability.reason}")
    fit: KMeansFit = chosen.factory(x, k, seed=seed, n_init=n_init, max_iter=max_iter)
    return fit


def _kmeans_sklearn(x: np.ndarray, k: int, *, seed: int, n_init: int, max_iter: int) -> KMeansFit:
    import warnings

    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning

    model = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed)
    with warnings.catch_warnings():
        # Duplicate points can leave fewer distinct clusters than k; the caller
        # caps k by the number of distinct points, so this is only noise here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(x)
    return KMeansFit(
        labels.astype(np.int64), model.cluster_centers_, float(model.inertia_), "sklearn"
    )


def faiss_available() -> bool:
    """Whether faiss-cpu is installed (looked up, not imported: listing backends stays cheap)."""
    return importlib.util.find_spec("faiss") is not None


def _kmeans_faiss(x: np.ndarray, k: int, *, seed: int, n_init: int, max_iter: int) -> KMeansFit:
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(free_cpus())
    try:
        return _run_faiss(faiss, x, k, seed=seed, n_init=n_init, max_iter=max_iter)
    finally:
        faiss.omp_set_num_threads(before)


def _run_faiss(
    faiss: Any, x: np.ndarray, k: int, *, seed: int, n_init: int, max_iter: int
) -> KMeansFit:
    data = np.ascontiguousarray(x, dtype=np.float32)
    model = faiss.Kmeans(
        data.shape[1],
        k,
        niter=max_iter,
        nredo=n_init,
        seed=seed,
        verbose=False,
        # faiss subsamples to 256 points per centroid by default; use them all
        # so that the result matches what scikit-learn would fit.
        max_points_per_centroid=len(data),
    )
    model.train(data)
    distances, labels = model.index.search(data, 1)
    return KMeansFit(
        labels[:, 0].astype(np.int64),
        np.asarray(model.centroids, dtype=np.float64),
        float(distances.sum()),
        "faiss",
    )


registry.register(
    "cluster backend",
    "sklearn",
    _kmeans_sklearn,
    help="scikit-learn's KMeans (what auto uses).",
)
registry.register(
    "cluster backend",
    "faiss",
    _kmeans_faiss,
    available=lambda: None if faiss_available() else "needs faiss-cpu: pip install faiss-cpu",
    help="faiss-cpu's K-means (pip install faiss-cpu).",
)


def _assign(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d2 = (x**2).sum(1)[:, None] - 2 * x @ centers.T + (centers**2).sum(1)[None, :]
    return np.argmin(d2, axis=1)


def _mean_dist(x: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> float:
    return float(np.linalg.norm(x - centers[labels], axis=1).mean())


def _mean_centroid_dist(centers: np.ndarray) -> float:
    k = len(centers)
    if k < 2:
        return 0.0
    diffs = np.linalg.norm(centers[:, None, :] - centers[None, :, :], axis=2)
    return float(diffs[np.triu_indices(k, 1)].mean())


def _silhouette(x: np.ndarray, labels: np.ndarray, seed: int) -> float:
    from sklearn.metrics import silhouette_score

    if len(np.unique(labels)) < 2 or len(np.unique(labels)) >= len(x):
        return float("nan")
    sample = min(len(x), SILHOUETTE_SAMPLE)
    return float(
        silhouette_score(
            x, labels, sample_size=sample if sample < len(x) else None, random_state=seed
        )
    )


def _bootstrap_stability(
    x: np.ndarray, k: int, labels: np.ndarray, seed: int, n_boot: int
) -> float:
    """Mean adjusted Rand index between the clustering and clusterings of bootstrap resamples.

    Each resample is clustered, every point of the (sub)sample is assigned to the
    nearest resample centroid, and that labelling is compared with ``labels``.
    """
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(seed)
    n = len(x)
    if n > BOOTSTRAP_MAX_POINTS:
        keep = rng.choice(n, BOOTSTRAP_MAX_POINTS, replace=False)
        x, labels = x[keep], labels[keep]
        n = len(x)
    scores = []
    for b in range(n_boot):
        idx = rng.integers(0, n, n)
        sample = x[idx]
        if len(np.unique(sample, axis=0)) < k:
            continue
        fit = kmeans(sample, k, seed=seed + 1 + b, n_init=3, backend="sklearn")
        scores.append(adjusted_rand_score(labels, _assign(x, fit.centers)))
    return float(np.mean(scores)) if scores else float("nan")


def _large_cluster_stability(labels_k: np.ndarray, labels_next: np.ndarray, k: int) -> float:
    """Size-weighted best Jaccard overlap of the large clusters at k with the clusters at k+1.

    A cluster is large when it holds at least half an equal share (n / 2k). A
    value near 1 means growing k only splits off small pieces: the paper's
    "large clusters that stay stable".
    """
    n = len(labels_k)
    sizes = np.bincount(labels_k, minlength=k)
    large = [c for c in range(k) if sizes[c] >= n / (2 * k)]
    if not large:
        return float("nan")
    total = 0.0
    for c in large:
        in_c = labels_k == c
        best = 0.0
        for d in np.unique(labels_next[in_c]):
            in_d = labels_next == d
            best = max(best, float((in_c & in_d).sum() / (in_c | in_d).sum()))
        total += best * sizes[c]
    return total / float(sizes[large].sum())


def _elbow(d_before: float, d_at: float, d_after: float) -> float:
    """Sharpness of the elbow of the mean-distance curve at k, in [0, 1]."""
    fall_before, fall_after = d_before - d_at, d_at - d_after
    if fall_before <= 0:
        return 0.0
    return float(np.clip(1.0 - fall_after / fall_before, 0.0, 1.0))


def _scores(rows: dict[int, KRow], candidates: list[int]) -> list[float]:
    """The combined score of each candidate k (see the module docstring); missing values count 0."""
    top_dist = max((rows[kk].mean_centroid_dist or 0.0) for kk in candidates) or 1.0
    scores = []
    for kk in candidates:
        row = rows[kk]
        values = {name: _as_float(getattr(row, name)) for name in WEIGHTS}
        values["mean_centroid_dist"] /= top_dist
        scores.append(
            sum(WEIGHTS[name] * (v if np.isfinite(v) else 0.0) for name, v in values.items())
        )
    return scores


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)


def select_k(
    latents: np.ndarray,
    *,
    k: int | None = None,
    k_range: tuple[int, int] = (3, 5),
    seed: int = 0,
    n_init: int = 10,
    n_bootstrap: int = 10,
    times_s: np.ndarray | None = None,
    time_weight: float = 0.0,
    backend: str = "auto",
) -> KSelection:
    """Cluster the latents, choosing k automatically in ``k_range`` unless ``k`` is given.

    Args:
        latents: Array of shape (n_frames, latent_dim).
        k: A fixed number of themes (method "user"); None chooses it.
        k_range: Inclusive range (lo, hi) to choose from.
        seed: Seed of every random step (initialisations, bootstrap, samples).
        n_init: K-means initialisations per fit.
        n_bootstrap: Bootstrap resamples per k (0 skips the stability score).
        times_s: Frame times, used only when ``time_weight`` > 0.
        time_weight: Weight of time as an extra feature (0 = not used).
        backend: K-means backend ("auto", "sklearn", "faiss").

    Returns:
        The selection; its ``table`` has one row per k evaluated with
        mean_dist_to_centroid, mean_centroid_dist, silhouette,
        bootstrap_stability, large_cluster_stability (k -> k+1), elbow and
        score (None where not defined) and the cluster sizes, largest first.

    Raises:
        ThemescopeError: There are no frames.
        ConfigError: ``k`` or ``k_range`` is out of range.

    Example:
        >>> sel = select_k(np.random.default_rng(0).normal(size=(60, 8)), seed=0)
        >>> 3 <= sel.k <= 5
        True
    """
    with native_threads(len(latents)):
        return _select_k(
            latents, k, k_range, seed, n_init, n_bootstrap, times_s, time_weight, backend
        )


def _select_k(
    latents: np.ndarray,
    k: int | None,
    k_range: tuple[int, int],
    seed: int,
    n_init: int,
    n_bootstrap: int,
    times_s: np.ndarray | None,
    time_weight: float,
    backend: str,
) -> KSelection:
    lo, hi = k_range
    if k is None and not 1 <= lo <= hi:
        raise ConfigError(f"--k-range {lo}-{hi} must satisfy 1 <= low <= high")
    if k is not None and k < 1:
        raise ConfigError(f"--k must be at least 1, got {k}")
    x = scale_features(latents, times_s, time_weight)
    n = len(x)
    if n == 0:
        raise ThemescopeError("the run has 0 frames; there is nothing to cluster")
    n_distinct = len(np.unique(x, axis=0))
    warnings: list[str] = []
    started = time.perf_counter()

    if k is not None:
        if k > n_distinct:
            msg = (
                f"k={k} asked for but the run has only {n} frames ({n_distinct} distinct latents); "
                f"using k={n_distinct}"
            )
            warnings.append(msg)
            logger.warning(msg)
            fit = kmeans(x, n_distinct, seed=seed, n_init=n_init, backend=backend)
            return _selection(fit, x, "lowered", (k, k), msg, [], warnings)
        fit = kmeans(x, k, seed=seed, n_init=n_init, backend=backend)
        table = [_row(x, k, fit, seed, n_bootstrap=0)]
        silhouette = decimals(table[0].silhouette, 2)
        reason = f"k={k} was given by the user (silhouette {silhouette})."
        return _selection(fit, x, "user", (k, k), reason, table, warnings)

    # Need k <= n_distinct - 1 for a silhouette, and at least 4 frames for a choice.
    top = n_distinct - 1
    if n_distinct < MIN_FRAMES_TO_CHOOSE:
        msg = (
            f"only {n} frames ({n_distinct} distinct latents): too few to choose k in {lo}-{hi}; "
            "using one theme"
        )
        warnings.append(msg)
        logger.warning(msg)
        fit = kmeans(x, 1, seed=seed)
        return _selection(fit, x, "lowered", (lo, hi), msg, [], warnings)
    method = "auto"
    c_lo, c_hi = lo, hi
    if hi > top:
        c_hi = top
        c_lo = min(lo, c_hi)
        method = "lowered"
        msg = (
            f"only {n} frames ({n_distinct} distinct latents): k range {lo}-{hi} lowered to "
            f"{c_lo}-{c_hi}"
        )
        warnings.append(msg)
        logger.warning(msg)
    candidates = list(range(max(2, c_lo), c_hi + 1)) if c_hi >= 2 else []
    if not candidates:
        fit = kmeans(x, 1, seed=seed)
        return _selection(fit, x, method, (lo, hi), "k range allows one theme only.", [], warnings)
    ks = list(range(max(2, c_lo - 1), min(c_hi + 1, top) + 1))
    fits = {kk: kmeans(x, kk, seed=seed, n_init=n_init, backend=backend) for kk in ks}
    rows = {kk: _row(x, kk, fits[kk], seed, n_bootstrap) for kk in ks}
    d1 = float(np.linalg.norm(x - x.mean(axis=0), axis=1).mean())
    dist = {1: d1, **{kk: _as_float(rows[kk].mean_dist_to_centroid) for kk in ks}}
    for kk in ks:
        if kk + 1 in fits:
            rows[kk].large_cluster_stability = _round(
                _large_cluster_stability(fits[kk].labels, fits[kk + 1].labels, kk)
            )
        if kk - 1 in dist and kk + 1 in dist:
            rows[kk].elbow = _round(_elbow(dist[kk - 1], dist[kk], dist[kk + 1]))
    scores = _scores(rows, candidates)
    for kk, s in zip(candidates, scores, strict=True):
        rows[kk].score = round(s, 4)
    best = int(np.argmax(np.round(scores, 9)))  # argmax takes the first: ties go to the smaller k
    chosen = candidates[best]
    reason = _reason(chosen, candidates, rows, scores)
    logger.info("k selection over %s took %.1f s: %s", ks, time.perf_counter() - started, reason)
    return _selection(fits[chosen], x, method, (lo, hi), reason, [rows[kk] for kk in ks], warnings)


def _as_float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _row(x: np.ndarray, k: int, fit: KMeansFit, seed: int, n_bootstrap: int) -> KRow:
    sizes = sorted(np.bincount(fit.labels, minlength=k).tolist(), reverse=True)
    boot = (
        _bootstrap_stability(x, k, fit.labels, seed, n_bootstrap)
        if n_bootstrap > 0
        else float("nan")
    )
    return KRow(
        k=k,
        mean_dist_to_centroid=_round(_mean_dist(x, fit.labels, fit.centers)),
        mean_centroid_dist=_round(_mean_centroid_dist(fit.centers)),
        silhouette=_round(_silhouette(x, fit.labels, seed)),
        bootstrap_stability=_round(boot),
        sizes=sizes,
    )


def _reason(chosen: int, candidates: list[int], rows: dict[int, KRow], scores: list[float]) -> str:
    r = rows[chosen]
    others = ", ".join(
        f"k={kk} {s:.2f}" for kk, s in zip(candidates, scores, strict=True) if kk != chosen
    )
    sil_best = max((rows[kk].silhouette or -1.0) for kk in candidates)
    weak = " (weak structure: no k reaches silhouette 0.25)" if sil_best < 0.25 else ""
    return (
        f"k={chosen} chosen in {candidates[0]}-{candidates[-1]}{weak}: combined score "
        f"{scores[candidates.index(chosen)]:.2f} (vs {others}) from silhouette "
        f"{decimals(r.silhouette, 2)}, elbow strength {decimals(r.elbow, 2)}, "
        f"bootstrap ARI {decimals(r.bootstrap_stability, 2)}, large-cluster stability "
        f"{decimals(r.large_cluster_stability, 2)} and mean centroid distance "
        f"{decimals(r.mean_centroid_dist, 2)}."
    )


def _selection(
    fit: KMeansFit,
    x: np.ndarray,
    method: str,
    k_range: tuple[int, int],
    reason: str,
    table: list[KRow],
    warnings: list[str],
) -> KSelection:
    k = len(fit.centers)
    return KSelection(
        k, method, k_range, reason, table, fit.labels, fit.centers, x, fit.backend, warnings
    )


SAME_THEME_JACCARD = 0.5
"""A refit's cluster is the same theme when its frames overlap the theme's this much (Jaccard)."""

UNSTABLE_BELOW = 0.5
"""A theme that comes back in fewer than this share of the refits is flagged unstable."""


@dataclass
class SeedStability:
    """How much of each theme survives refitting the clustering with other seeds.

    Attributes:
        seeds: The refits' seeds.
        ari: Adjusted Rand index of each refit against the clustering, shape (n_refits,).
        best_jaccard: Each theme's best Jaccard overlap with a cluster of each refit,
            shape (k, n_refits).
        refit: What each seed refitted: ``clustering`` (K-means on the same features) or
            ``model`` (the CRVAE retrained, every frame encoded again, then K-means).
    """

    seeds: list[int]
    ari: np.ndarray
    best_jaccard: np.ndarray
    refit: Literal["clustering", "model"] = "clustering"

    @property
    def recurrence(self) -> np.ndarray:
        """Share of the refits in which each theme comes back, shape (k,)."""
        return (self.best_jaccard >= SAME_THEME_JACCARD).mean(axis=1)

    def unstable(self) -> list[int]:
        """The themes that come back in fewer than :data:`UNSTABLE_BELOW` of the refits."""
        return [int(t) for t in np.flatnonzero(self.recurrence < UNSTABLE_BELOW)]

    def to_record(self) -> StabilityRecord:
        """Return the document-wide ``stability`` record of themes.json."""
        return StabilityRecord(
            n_refits=len(self.seeds),
            seeds=list(self.seeds),
            mean_ari=round(float(self.ari.mean()), 4),
            min_ari=round(float(self.ari.min()), 4),
            same_theme_jaccard=SAME_THEME_JACCARD,
            unstable_below=UNSTABLE_BELOW,
            unstable=self.unstable(),
            refit=self.refit,
        )

    def theme_record(self, theme: int) -> ThemeStabilityRecord:
        """Return theme ``theme``'s ``stability`` record."""
        recurrence = float(self.recurrence[theme])
        return ThemeStabilityRecord(
            recurrence=round(recurrence, 4),
            mean_jaccard=round(float(self.best_jaccard[theme].mean()), 4),
            unstable=recurrence < UNSTABLE_BELOW,
        )


def refit_seeds(seed: int, n_refits: int) -> list[int]:
    """The seeds of the stability refits: the ``n_refits`` seeds after ``seed`` (wrapping round).

    Example:
        >>> refit_seeds(7, 3)
        [8, 9, 10]
    """
    return [(seed + i) % (SEED_HIGH + 1) for i in range(1, n_refits + 1)]


def seed_stability(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    seed: int,
    n_refits: int,
    n_init: int = 10,
    backend: str = "auto",
    refit_features: Callable[[int], np.ndarray] | None = None,
) -> SeedStability:
    """Refit K-means at the clustering's k with other seeds; measure what comes back.

    Each refit clusters the same features into as many clusters as ``labels`` has,
    with one of :func:`refit_seeds` and otherwise as the clustering was fitted, so
    a theme that only one seed's initialisation draws shows as not coming back. With
    ``refit_features``, each refit clusters the features a model retrained with its
    seed gives instead: what survives another training of the model too.

    Args:
        features: The clustered features, shape (n, dim).
        labels: The clustering's theme of each row, 0..k-1, shape (n,).
        seed: The clustering's seed (the refits' seeds are derived from it).
        n_refits: Refits (>= 1).
        n_init: K-means initialisations per refit, as for the clustering.
        backend: K-means backend, as for the clustering.
        refit_features: The features of the same rows from a model retrained with the
            given seed; None refits only the clustering.

    Example:
        >>> x = np.repeat(np.eye(3) * 5, 20, axis=0)
        >>> x += np.random.default_rng(0).normal(size=x.shape)
        >>> labels = kmeans(x, 3, seed=0).labels
        >>> seed_stability(x, labels, seed=0, n_refits=3).recurrence.tolist()
        [1.0, 1.0, 1.0]
    """
    from sklearn.metrics import adjusted_rand_score

    k = int(labels.max()) + 1
    seeds = refit_seeds(seed, n_refits)
    members = np.eye(k, dtype=bool)[labels].T  # (k, n): theme t's frames
    best = np.zeros((k, n_refits))
    ari = np.zeros(n_refits)
    for r, refit_seed in enumerate(seeds):
        # Training sizes its own threads: only K-means runs under scikit-learn's limit.
        x = features if refit_features is None else refit_features(refit_seed)
        with native_threads(len(x)):
            refit = kmeans(x, k, seed=refit_seed, n_init=n_init, backend=backend).labels
            ari[r] = adjusted_rand_score(labels, refit)
        other = np.eye(k, dtype=bool)[refit].T
        overlap = members.astype(np.int64) @ other.T.astype(np.int64)  # (k, k)
        union = members.sum(1)[:, None] + other.sum(1)[None, :] - overlap
        best[:, r] = (overlap / np.maximum(union, 1)).max(axis=1)
    return SeedStability(seeds, ari, best, "clustering" if refit_features is None else "model")
