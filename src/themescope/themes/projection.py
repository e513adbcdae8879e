"""A 2-D map of the frames for the report: t-SNE, as in the paper.

Perplexity follows the number of frames: ``n / 12`` clipped to [2, 30], which
gives the paper's 8 for its ~96-frame videos. Fewer than 4 frames get a fixed
layout (t-SNE needs a neighbourhood). Above ``max_points`` frames t-SNE runs on a
seeded subsample and every other frame is placed on its nearest sampled
neighbour, with a small seeded jitter, so that 100,000 frames take seconds.

Example:
    >>> p = project_2d(np.random.default_rng(0).normal(size=(50, 16)), seed=0)
    >>> p.method, p.points.shape
    ('tsne', (50, 2))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from themescope.documents import ProjectionRecord
from themescope.themes.cluster import native_threads
from themescope.themes.config import MAX_TSNE_POINTS

logger = logging.getLogger("themescope")


_PCA_DIMS = 50


@dataclass
class Projection:
    """2-D coordinates of every frame.

    Attributes:
        method: "tsne", "tsne-subsample" or "trivial".
        perplexity: The t-SNE perplexity (None for "trivial").
        points: Array of shape (n, 2); row i is frame_id i.
        n_fitted: How many points t-SNE was fitted on.
    """

    method: str
    perplexity: float | None
    points: np.ndarray
    n_fitted: int

    def to_record(self) -> ProjectionRecord:
        """Return the ``projection`` record of themes.json."""
        return ProjectionRecord(
            method=self.method,
            perplexity=self.perplexity,
            n_fitted=self.n_fitted,
            points=[(round(float(a), 4), round(float(b), 4)) for a, b in self.points],
        )


def perplexity_for(n: int) -> float:
    """Return the t-SNE perplexity used for ``n`` points (8 for the paper's 96 frames)."""
    return float(min(30.0, max(2.0, n / 12.0), max(1.0, (n - 1) / 3.0)))


def project_2d(x: np.ndarray, *, seed: int, max_points: int = MAX_TSNE_POINTS) -> Projection:
    """Return a 2-D t-SNE layout of ``x`` (shape (n, dim)).

    Args:
        x: The clustered features, shape (n, dim).
        seed: Seed of t-SNE and of the subsample.
        max_points: Fit t-SNE on at most this many points.
    """
    n = len(x)
    if n < 4:
        layouts = {
            0: [],
            1: [[0.0, 0.0]],
            2: [[-1.0, 0.0], [1.0, 0.0]],
            3: [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.7]],
        }
        return Projection("trivial", None, np.array(layouts[n], dtype=np.float64).reshape(n, 2), 0)
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, max_points, replace=False)) if n > max_points else np.arange(n)
    data = np.asarray(x, dtype=np.float64)
    if data.shape[1] > _PCA_DIMS:
        # Standard t-SNE practice: PCA to 50 dimensions first removes noise and cost.
        pca = PCA(n_components=min(_PCA_DIMS, len(fit_idx)), random_state=seed).fit(data[fit_idx])
        data = pca.transform(data)
    perplexity = perplexity_for(len(fit_idx))
    tsne = TSNE(
        n_components=2, perplexity=perplexity, init="pca", learning_rate="auto", random_state=seed
    )
    with native_threads(len(fit_idx)):
        fitted = tsne.fit_transform(data[fit_idx])
    if len(fit_idx) == n:
        return Projection("tsne", perplexity, fitted, n)
    from sklearn.neighbors import NearestNeighbors

    logger.info(
        "t-SNE fitted on %d of %d frames; the others placed beside their nearest neighbour",
        len(fit_idx),
        n,
    )
    points = np.empty((n, 2), dtype=np.float64)
    points[fit_idx] = fitted
    rest = np.setdiff1d(np.arange(n), fit_idx)
    _, nearest = NearestNeighbors(n_neighbors=1).fit(data[fit_idx]).kneighbors(data[rest])
    spread = float(fitted.std()) * 0.01
    points[rest] = fitted[nearest[:, 0]] + rng.normal(scale=spread, size=(len(rest), 2))
    return Projection("tsne-subsample", perplexity, points, len(fit_idx))
