"""Align the runs of a comparison on the frames that say the same thing.

Two broadcasts of one story differ in studio, presenter, graphics and language, so the
features of each run sit around a mean of their own, and a joint clustering then puts each
run in themes of its own (CAIS weather against weather, Xinwen Lianbo in Chinese against its
own English translation: nothing or little shared). Removing each run's whole mean is no cure:
a run that tells another story has that story in its mean, and two different stories then
look shared. The comparison instead shifts each run by the mean difference over its mutual
nearest neighbours with the first run in the multilingual meaning space (as batch effects
are corrected between single-cell experiments; Haghverdi et al., Nature Biotechnology 2018):
frames that say the same thing pull their runs together, and a story only one run tells
gives no pairs and stays apart.
"""

from __future__ import annotations

import numpy as np


def mutual_neighbours(a: np.ndarray, b: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j): ``b[j]`` among the ``k`` most similar rows of ``b`` to ``a[i]`` and back.

    Rows are unit vectors (cosine similarity); returns the rows of ``a`` and of ``b``.

    Example:
        >>> a = np.eye(3)
        >>> mutual_neighbours(a, a[::-1], 1)
        (array([0, 1, 2]), array([2, 1, 0]))
    """
    if len(a) == 0 or len(b) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    similarity = a @ b.T
    k_a, k_b = min(k, len(b)), min(k, len(a))
    # argpartition's order among equal values is arbitrary: sort by (−similarity, index) so
    # ties go the same way on every machine.
    near_b = np.argsort(-similarity, axis=1, kind="stable")[:, :k_a]
    near_a = np.argsort(-similarity, axis=0, kind="stable")[:k_b, :]
    from_a = np.zeros(similarity.shape, dtype=bool)
    from_a[np.repeat(np.arange(len(a)), k_a), near_b.ravel()] = True
    from_b = np.zeros(similarity.shape, dtype=bool)
    from_b[near_a.ravel(), np.tile(np.arange(len(b)), k_b)] = True
    rows, cols = np.nonzero(from_a & from_b)
    return rows.astype(np.int64), cols.astype(np.int64)


def align_runs(
    features: list[np.ndarray],
    meaning: np.ndarray,
    runs: np.ndarray,
    said: np.ndarray,
    k: int,
) -> tuple[list[np.ndarray], int]:
    """Shift every run but the first by its mean difference to the first over mutual neighbours.

    Args:
        features: Arrays with one row per frame (e.g. the latents, the meaning); each is
            shifted by its own mean difference over the same pairs.
        meaning: Unit vectors of what each frame says, one row per frame (the pairs are
            found here).
        runs: Each frame's run; the first run in order of appearance is the reference.
        said: Frames with words (the only ones paired).
        k: Neighbours per frame; 0 leaves the features as they are.

    Returns:
        The shifted features (new arrays) and the number of pairs found.
    """
    shifted = [np.array(f, dtype=np.float64) for f in features]
    names = list(dict.fromkeys(runs.tolist()))
    if k <= 0 or len(names) < 2:
        return shifted, 0
    reference = np.flatnonzero((runs == names[0]) & said)
    n_pairs = 0
    for name in names[1:]:
        other = np.flatnonzero((runs == name) & said)
        i, j = mutual_neighbours(meaning[reference], meaning[other], k)
        n_pairs += len(i)
        if len(i) == 0:
            continue
        member = runs == name
        for out, original in zip(shifted, features, strict=True):
            out[member] += (original[reference[i]] - original[other[j]]).mean(axis=0)
    return shifted, n_pairs
