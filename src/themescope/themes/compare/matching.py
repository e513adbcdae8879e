"""Combine a comparison's similarity matrices and match the themes one-to-one.

:func:`_cosine_matrix` scores theme vectors against each other (NaN where a theme
has none), :func:`_nanmean` averages the methods that could score a pair, and
:func:`_match` pairs run A's themes with run B's (Hungarian algorithm), calling a
pair shared from the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from themescope.documents import (
    Match,
    MethodScores,
)


def _cosine_matrix(
    left: Sequence[np.ndarray | None], right: Sequence[np.ndarray | None]
) -> np.ndarray:
    matrix = np.full((len(left), len(right)), np.nan)
    for i, u in enumerate(left):
        for j, v in enumerate(right):
            if u is None or v is None:
                continue
            norm = float(np.linalg.norm(u) * np.linalg.norm(v))
            if norm > 0:
                matrix[i, j] = float(np.dot(u, v) / norm)
    return matrix


def _nanmean(matrices: Sequence[np.ndarray]) -> np.ndarray:
    stack = np.stack(matrices)
    counts = np.sum(~np.isnan(stack), axis=0)
    total = np.nansum(stack, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _match(
    combined: np.ndarray, used: dict[str, np.ndarray | None], threshold: float
) -> list[Match]:
    from scipy.optimize import linear_sum_assignment

    if combined.size == 0:
        return []
    # Pairs nothing could score must not be matched ahead of scored ones.
    cost = -np.where(np.isnan(combined), -2.0, combined)
    rows, cols = linear_sum_assignment(cost)
    matching = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        score = combined[i, j]
        if np.isnan(score):
            continue
        matching.append(
            Match(
                a=i,
                b=j,
                score=round(float(score), 4),
                shared=bool(score >= threshold),
                scores=MethodScores(
                    **{
                        name: _round(matrix[i, j]) if matrix is not None else None
                        for name, matrix in used.items()
                    }
                ),
            )
        )
    return sorted(matching, key=lambda m: -m.score)


def _round(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)
