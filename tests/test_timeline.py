"""Seconds per frame and the spans of themes, shared by the themes stage and the report."""

from __future__ import annotations

import numpy as np

from themescope.themes.timeline import Span, frame_durations_s, smooth_within, spans


def test_durations_end_at_the_video_end() -> None:
    times = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    assert frame_durations_s(times, duration_s=9.0).tolist() == [2.0, 2.0, 2.0, 2.0, 1.0]
    # without a duration the last frame stands for the median gap
    assert frame_durations_s(np.array([0.0, 2.0, 3.0, 5.0])).tolist() == [2.0, 1.0, 2.0, 2.0]
    # one frame: the sampling interval asked for, cut at the end
    assert frame_durations_s(np.array([0.0]), every_s=4.0, duration_s=3.0).tolist() == [3.0]
    assert frame_durations_s(np.array([1.0, 1.0])).tolist() == [0.0, 1.0]
    assert frame_durations_s(np.zeros(0)).tolist() == []


def test_spans_merge_consecutive_frames_of_one_label() -> None:
    times = np.array([0.0, 2.0, 4.0, 6.0, 8.0])
    durations = frame_durations_s(times, duration_s=9.0)
    assert spans([2, 2, 0, 2, -1], times, durations) == [
        Span(2, 0, 2, 0.0, 4.0),
        Span(0, 2, 3, 4.0, 6.0),
        Span(2, 3, 4, 6.0, 8.0),
        Span(-1, 4, 5, 8.0, 9.0),
    ]
    assert spans(np.array([1, 1, 1]), times[:3], durations[:3]) == [Span(1, 0, 3, 0.0, 6.0)]
    assert spans([], np.zeros(0), np.zeros(0)) == []


def test_smoothing_averages_neighbours_within_each_sequence_only() -> None:
    values = np.array([[0.0], [3.0], [6.0], [100.0], [200.0]], dtype=np.float32)
    smoothed = smooth_within(values, ["a", "a", "a", "b", "b"], 1)
    np.testing.assert_allclose(smoothed[:, 0], [1.5, 3.0, 4.5, 150.0, 150.0])
    assert smoothed.dtype == np.float32
    assert smooth_within(values, ["a"] * 5, 0) is values
    # a left-out row (a black frame) is neither averaged in nor changed
    include = np.array([True, False, True, True, True])
    masked = smooth_within(values, ["a", "a", "a", "b", "b"], 1, include=include)
    np.testing.assert_allclose(masked[:, 0], [0.0, 3.0, 6.0, 150.0, 150.0])
