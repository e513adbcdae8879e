"""Aligning the runs of a comparison on their mutual nearest neighbours in meaning."""

from __future__ import annotations

import numpy as np

from themescope.themes.compare.align import align_runs, mutual_neighbours


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_run_that_says_the_same_things_is_shifted_onto_the_first():
    rng = np.random.default_rng(0)
    meaning_a = _unit(rng.normal(size=(20, 16)))
    latents_a = rng.normal(size=(20, 8))
    order = rng.permutation(20)
    # The second run says the same things in another order, in a look (and a language) of its
    # own: its latents and its meaning sit 5 and 0.05 away.
    meaning = np.vstack([meaning_a, meaning_a[order] + 0.05])
    latents = np.vstack([latents_a, latents_a[order] + 5.0])
    runs = np.array(["a"] * 20 + ["b"] * 20)
    said = np.ones(40, dtype=bool)

    (shifted, shifted_meaning), n_pairs = align_runs([latents, meaning], meaning, runs, said, k=1)

    assert n_pairs == 20
    np.testing.assert_allclose(shifted[20:], latents_a[order], atol=1e-9)
    np.testing.assert_allclose(shifted_meaning[20:], meaning_a[order], atol=1e-9)
    np.testing.assert_array_equal(shifted[:20], latents_a)  # the first run is the reference


def test_only_frames_with_words_are_paired_and_the_whole_run_moves():
    meaning = _unit(np.array([[1.0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]))
    latents = np.array([[0.0], [1.0], [10.0], [11.0], [99.0]])
    runs = np.array(["a", "a", "b", "b", "b"])
    said = np.array([True, True, True, True, False])  # b's last frame says nothing

    (shifted,), n_pairs = align_runs([latents], meaning, runs, said, k=1)

    assert n_pairs == 2
    np.testing.assert_allclose(shifted[:, 0], [0.0, 1.0, 0.0, 1.0, 89.0])


def test_no_neighbours_leaves_the_runs_where_they_are():
    meaning = _unit(np.eye(4))
    latents = np.arange(8.0).reshape(4, 2)
    runs = np.array(["a", "a", "b", "b"])
    (shifted,), n_pairs = align_runs([latents], meaning, runs, np.ones(4, bool), k=0)
    assert n_pairs == 0
    np.testing.assert_array_equal(shifted, latents)


def test_neighbours_must_choose_each_other():
    a = _unit(np.array([[1.0, 0.0], [0.8, 0.6]]))
    b = _unit(np.array([[0.9, 0.1], [0.0, 1.0]]))
    # a[0] and a[1] both have b[0] nearest; b[0] chooses a[0]; b[1] chooses a[1] but a[1]
    # does not choose it back.
    rows, cols = mutual_neighbours(a, b, 1)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0)]
