"""Frames of a video: what the file holds, and one frame every few seconds from it.

:func:`probe_video` describes a video (:class:`VideoInfo`, :mod:`.probe`);
:func:`check_sampling_plan` refuses an interval that would repeat frames or
sample too many, and :class:`PyAVFrameSource` samples them by presentation
timestamps (:mod:`.sampler`).
"""

from themescope.media.frames.probe import VideoInfo, probe_video, stream_start_s
from themescope.media.frames.sampler import (
    MAX_SAMPLED_FRAMES,
    FrameSource,
    PyAVFrameSource,
    SampledFrame,
    check_sampling_plan,
    sample_times,
)

__all__ = [
    "MAX_SAMPLED_FRAMES",
    "FrameSource",
    "PyAVFrameSource",
    "SampledFrame",
    "VideoInfo",
    "check_sampling_plan",
    "probe_video",
    "sample_times",
    "stream_start_s",
]
