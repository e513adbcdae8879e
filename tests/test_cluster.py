"""K-means with an automatic k, and the 2-D projection."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from themescope.errors import ConfigError, ThemescopeError
from themescope.themes.cluster import (
    faiss_available,
    kmeans,
    refit_seeds,
    scale_features,
    seed_stability,
    select_k,
)
from themescope.themes.projection import perplexity_for, project_2d


def blobs(k: int, seed: int, n: int = 120, dim: int = 24, std: float = 1.0, sizes=None):
    samples = sizes if sizes is not None else n
    x, y = make_blobs(
        n_samples=samples,
        centers=None if sizes else k,
        n_features=dim,
        cluster_std=std,
        center_box=(-8, 8),
        random_state=seed,
    )
    return x, y


@pytest.mark.parametrize("true_k", [3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_rule_finds_the_number_of_blobs(true_k, seed):
    x, y = blobs(true_k, seed)
    sel = select_k(x, k_range=(3, 5), seed=seed, n_bootstrap=5)
    assert sel.k == true_k
    assert sel.method == "auto"
    assert adjusted_rand_score(y, sel.labels) > 0.95
    assert [row.k for row in sel.table] == [2, 3, 4, 5, 6]
    assert sel.reason.startswith(f"k={true_k} chosen in 3-5")
    chosen = next(row for row in sel.table if row.k == true_k)
    assert chosen.score == max(row.score for row in sel.table if row.score is not None)
    assert sum(chosen.sizes) == len(x)


def test_rule_with_unequal_blob_sizes():
    x, y = blobs(4, 5, sizes=[60, 30, 15, 15])
    sel = select_k(x, seed=0, n_bootstrap=5)
    assert sel.k == 4 and adjusted_rand_score(y, sel.labels) > 0.9


def test_table_criteria_behave_as_the_paper_reads_them():
    x, _ = blobs(4, 2)
    sel = select_k(x, seed=0, n_bootstrap=5)
    rows = {row.k: row for row in sel.table}
    # mean distance to centroid falls with k, and bends (elbow) at the true k
    dists = [rows[k].mean_dist_to_centroid for k in range(2, 7)]
    assert dists == sorted(dists, reverse=True)
    assert rows[4].elbow == max(rows[k].elbow for k in (3, 4, 5))
    assert rows[4].silhouette == max(rows[k].silhouette for k in range(2, 7))
    assert rows[4].bootstrap_stability > 0.95
    assert rows[6].large_cluster_stability is None and rows[6].score is None
    assert rows[2].score is None  # evaluated as a neighbour, not a candidate


def test_user_k_overrides():
    x, _ = blobs(4, 0)
    sel = select_k(x, k=2, seed=0)
    assert sel.k == 2 and sel.method == "user" and sel.k_range == (2, 2)
    assert len(np.unique(sel.labels)) == 2
    assert "given by the user" in sel.reason


def test_fewer_frames_than_the_range_lowers_k():
    x, _ = blobs(3, 0, n=5)
    sel = select_k(x, k_range=(3, 8), seed=0)
    assert sel.method == "lowered" and sel.k <= 4
    assert sel.warnings and "lowered to 3-4" in sel.warnings[0]
    user = select_k(x, k=9, seed=0)
    assert user.k == 5 and user.method == "lowered" and "k=9" in user.warnings[0]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_inputs_give_one_theme(n):
    sel = select_k(np.random.default_rng(0).normal(size=(n, 4)), seed=0)
    assert sel.k == 1 and sel.method == "lowered"
    assert sel.labels.tolist() == [0] * n
    assert "one theme" in sel.warnings[0]


def test_duplicate_latents_cap_k():
    x = np.repeat(np.eye(3) * 5, 10, axis=0)
    sel = select_k(x, k=5, seed=0)
    assert sel.k == 3 and sel.method == "lowered"


def test_zero_frames_and_bad_options_are_clear_errors():
    with pytest.raises(ThemescopeError, match="0 frames"):
        select_k(np.zeros((0, 8)), seed=0)
    with pytest.raises(ConfigError, match="k-range 5-3"):
        select_k(np.zeros((10, 8)), k_range=(5, 3), seed=0)
    with pytest.raises(ConfigError, match="at least 1"):
        select_k(np.zeros((10, 8)), k=0, seed=0)
    with pytest.raises(ThemescopeError, match="NaN"):
        select_k(np.full((10, 8), np.nan), seed=0)


def test_deterministic_with_a_seed():
    x, _ = blobs(4, 3, std=2.5)
    a = select_k(x, seed=11, n_bootstrap=4)
    b = select_k(x, seed=11, n_bootstrap=4)
    assert a.k == b.k and a.table == b.table and np.array_equal(a.labels, b.labels)
    assert a.reason == b.reason


def test_blobs_at_their_k_come_back_with_every_seed():
    x, _ = blobs(3, 0)
    labels = select_k(x, k=3, seed=5).labels
    stability = seed_stability(x, labels, seed=5, n_refits=6)
    assert stability.seeds == refit_seeds(5, 6) == [6, 7, 8, 9, 10, 11]
    assert stability.recurrence.tolist() == [1.0, 1.0, 1.0]
    assert stability.ari.min() == pytest.approx(1.0)
    assert stability.unstable() == []
    record = stability.to_record()
    assert record.n_refits == 6 and record.mean_ari == 1.0 and record.unstable == []


def test_too_many_clusters_for_the_blobs_are_unstable_and_deterministic():
    # Three blobs cut into eight: how each blob is cut depends on the seed.
    x, _ = blobs(3, 0)
    labels = kmeans(x, 8, seed=0).labels
    stability = seed_stability(x, labels, seed=0, n_refits=8)
    assert stability.unstable(), stability.recurrence
    assert stability.to_record().mean_ari < 0.9
    again = seed_stability(x, labels, seed=0, n_refits=8)
    assert np.array_equal(again.best_jaccard, stability.best_jaccard)
    assert again.to_record() == stability.to_record()
    record = stability.theme_record(stability.unstable()[0])
    assert record.unstable and record.recurrence < 0.5


def test_refit_seeds_wrap_round_the_largest_seed():
    assert refit_seeds(2**32 - 2, 3) == [2**32 - 1, 0, 1]


def test_scaling_is_global_not_per_dimension():
    rng = np.random.default_rng(0)
    x = np.hstack([rng.normal(scale=10, size=(50, 1)), rng.normal(scale=0.01, size=(50, 1))])
    scaled = scale_features(x)
    # a near-constant (collapsed) dimension stays near-constant
    assert scaled[:, 1].std() < 0.01 * scaled[:, 0].std()
    assert np.sqrt((scaled**2).sum(1).mean()) == pytest.approx(1.0)
    with_time = scale_features(x, np.arange(50.0), time_weight=1.0)
    assert with_time.shape == (50, 3) and np.sqrt((with_time[:, 2] ** 2).mean()) == pytest.approx(
        1.0
    )


@pytest.mark.skipif(not faiss_available(), reason="faiss-cpu not installed")
def test_faiss_backend_agrees_with_sklearn():
    x, _ = blobs(5, 4, n=2000, dim=16)
    fa = kmeans(x, 5, seed=0, n_init=3, backend="faiss")
    sk = kmeans(x, 5, seed=0, n_init=3, backend="sklearn")
    assert fa.backend == "faiss" and sk.backend == "sklearn"
    assert adjusted_rand_score(fa.labels, sk.labels) > 0.99
    assert fa.inertia == pytest.approx(sk.inertia, rel=0.01)
    sel = select_k(x, seed=0, backend="faiss", n_bootstrap=2)
    assert sel.k == 5 and sel.backend == "faiss"


def test_projection():
    x, _ = blobs(3, 0, n=96)
    p = project_2d(x, seed=0)
    assert p.method == "tsne" and p.points.shape == (96, 2)
    assert p.perplexity == pytest.approx(8.0)  # the paper's value for ~100 frames
    assert np.array_equal(project_2d(x, seed=0).points, p.points)
    big = project_2d(np.vstack([x] * 3), seed=0, max_points=100)
    assert big.method == "tsne-subsample" and big.points.shape == (288, 2) and big.n_fitted == 100
    for n in (0, 1, 2, 3):
        small = project_2d(np.zeros((n, 4)), seed=0)
        assert small.method == "trivial" and small.points.shape == (n, 2)
    assert perplexity_for(4) < 4 and perplexity_for(10_000) == 30
    assert len(p.to_record().points) == 96
