"""Sample one frame every few seconds from a video, by presentation timestamps.

A :class:`FrameSource` opens a video, tells what it holds (:class:`VideoInfo`)
and yields :class:`SampledFrame` objects at the requested times ``0, every_s,
2*every_s, ...`` (all ``< duration``). Times are measured from the stream's
first timestamp, so a non-zero start time (MPEG-TS, cut files) never shifts
frames against subtitles, and variable frame rate is handled because only
``pts * time_base`` is trusted, never frame counts.

:class:`PyAVFrameSource` is the FFmpeg (PyAV) backend. It seeks only when a
keyframe lies between the current decoding position and the next target (read
from the container's index when there is one, otherwise decided by distance and
checked against the timestamp it lands on), decodes forward to the first frame
at or after the target (never the keyframe a seek lands on), and converts only
the chosen frames to RGB, scaling and converting in one libswscale pass. With a
keyframe index, worker threads decode several keyframe intervals at once.

Example:
    >>> with PyAVFrameSource("news.mp4", every_s=2.0, height=360) as source:  # doctest: +SKIP
    ...     print(source.info.duration_s)
    ...     for frame in source:
    ...         print(frame.requested_s, frame.time_s, frame.image.shape)
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from themescope import registry
from themescope.devices import usable_cores
from themescope.errors import ConfigError, VideoDecodeError, VideoOpenError
from themescope.media.frames.probe import VideoInfo, _describe, _open_container

logger = logging.getLogger("themescope")


MAX_CONSECUTIVE_DECODE_FAILURES = 16
"""Corrupt packets or frames in a row after which decoding gives up.

Isolated corrupt packets are skipped and counted (:attr:`FrameSource.n_corrupt_packets`);
this many failures in a row means the rest of the file is unreadable, so decoding
stops there and :attr:`FrameSource.stopped_at_s` tells where.
"""


# A frame counts as "at" a target when its time is within this of it: pts * time_base
# of a frame that was meant to sit exactly on a target can round a hair below it.
_TIME_TOLERANCE_S = 1e-4


# Without a keyframe index, seek when the next target is further ahead than this;
# closer targets are cheaper to reach by decoding forward.
_SEEK_WITHOUT_INDEX_S = 4.0


MAX_SAMPLED_FRAMES = 50_000
"""Most frames one run may sample (:func:`check_sampling_plan` refuses more).

Training holds every frame in memory as a float32 120×200 RGB image (288 KB), so
50,000 frames take about 14 GB: as much as a workstation has. At the paper's one
frame every 2 s it is almost 28 hours of video, more than a broadcast day.
"""


# Users type a frame interval rounded (0.033 s for 29.97 fps); within this share of
# it, so few frames repeat that it is not worth refusing.
_FRAME_INTERVAL_TOLERANCE = 0.02


# How far before a target to seek again when a seek landed after it (estimated seeks
# in MPEG-TS or raw streams can overshoot); doubled on each retry.
_SEEK_BACKOFF_S = 2.0
_MAX_SEEK_RETRIES = 4


# (time_s, av.VideoFrame) pairs from the decoder.
_Frames = Generator[tuple[float, Any], None, None]


@dataclass(frozen=True)
class SampledFrame:
    """One sampled frame.

    Attributes:
        requested_s: The time asked for, in seconds from the stream's first timestamp.
        time_s: The time of the frame actually decoded (the first at or after
            ``requested_s``; earlier only at the very end of the stream).
        image: RGB pixels, array of shape (height, width, 3), dtype uint8, rotation applied.

    """

    requested_s: float
    time_s: float
    image: np.ndarray


def sample_times(duration_s: float, every_s: float) -> list[float]:
    """Return the requested times ``0, every_s, 2*every_s, ... < duration_s`` (always 0).

    Example:
        >>> sample_times(5.0, 2.0)
        [0.0, 2.0, 4.0]

    """
    if not every_s > 0 or not math.isfinite(every_s):
        raise ConfigError(f"every_s must be a positive number of seconds; got {every_s}")
    times = [0.0]
    k = 1
    # k * every_s rather than a running sum: no drift over long videos.
    while k * every_s < duration_s - _TIME_TOLERANCE_S:
        times.append(k * every_s)
        k += 1
    return times


def check_sampling_plan(info: VideoInfo, every_s: float) -> None:
    """Refuse a sampling interval that would repeat frames or sample too many of them.

    Args:
        info: The probed video.
        every_s: Seconds between sampled frames.

    Raises:
        ConfigError: ``every_s`` is shorter than the video's frame interval (``1 / fps``;
            not checked when the frame rate is unknown), or the plan samples more than
            :data:`MAX_SAMPLED_FRAMES` frames.

    Example:
        >>> check_sampling_plan(probe_video("news.mp4"), every_s=2.0)  # doctest: +SKIP

    """
    if info.fps > 0:
        interval_s = 1.0 / info.fps
        if every_s < interval_s * (1 - _FRAME_INTERVAL_TOLERANCE):
            raise ConfigError(
                f"--every {every_s:g} s is shorter than the video's frame interval "
                f"({interval_s:.4g} s at {info.fps:g} fps) and would repeat frames; "
                f"choose --every {_at_least(interval_s)} or more"
            )
    n_frames = math.floor(max(0.0, info.duration_s - _TIME_TOLERANCE_S) / every_s) + 1
    if n_frames > MAX_SAMPLED_FRAMES:
        raise ConfigError(
            f"--every {every_s:g} s would sample {n_frames:,} frames from "
            f"{info.duration_s:.1f} s of video, more than the {MAX_SAMPLED_FRAMES:,} "
            f"a run can hold; choose --every {_at_least(info.duration_s / MAX_SAMPLED_FRAMES)} "
            "or more"
        )


def _at_least(value: float) -> str:
    """``value`` rounded up to three significant digits, for a message to suggest."""
    shown = float(f"{value:.3g}")
    if shown < value:
        shown += 10.0 ** (math.floor(math.log10(value)) - 2)
    return f"{shown:.3g}"


class FrameSource(ABC):
    """A video opened for sampling: a context manager that yields :class:`SampledFrame`.

    Subclasses open the file in ``__enter__`` and close everything in ``__exit__``;
    iterating yields one frame per requested time, in time order.

    Example:
        >>> with PyAVFrameSource("news.mp4", every_s=2.0) as source:  # doctest: +SKIP
        ...     frames = list(source)
        ...     if source.stopped_at_s is not None:
        ...         print(f"video unreadable after {source.stopped_at_s:.1f} s")

    """

    @property
    @abstractmethod
    def info(self) -> VideoInfo:
        """Describe the opened video (available once the ``with`` block has opened it)."""

    @property
    @abstractmethod
    def n_corrupt_packets(self) -> int:
        """Corrupt packets or frames skipped so far."""

    @property
    @abstractmethod
    def stopped_at_s(self) -> float | None:
        """Time of the last frame decoded when decoding ended early; None if it did not."""

    @abstractmethod
    def __iter__(self) -> Iterator[SampledFrame]:
        """Yield the sampled frames in time order."""

    @abstractmethod
    def __enter__(self) -> FrameSource:
        """Open the video."""

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the video and its decoder."""


class _EndOfStream(Exception):
    """No more frames: the file ended (or became unreadable)."""


def _next(frames: _Frames) -> tuple[float, Any]:
    """Next frame, or _EndOfStream also once the generator is exhausted."""
    try:
        return next(frames)
    except StopIteration:
        raise _EndOfStream from None


def _no_frames() -> _Frames:
    """A frame generator that is already exhausted."""
    yield from ()


class _GiveUp(Exception):
    """A worker met something the main decoder handles (corrupt data): it leaves the rest."""


def _give_up() -> None:
    raise _GiveUp


@dataclass
class _Cursor:
    """Where one decoder is heading, and what it does with a corrupt packet or frame.

    Attributes:
        on_corrupt: Called for each corrupt packet or frame (counts it, or gives up).
        target_s: The target being decoded towards; packets presenting before it may be
            dropped when they are not references.
    """

    on_corrupt: Callable[[], None]
    target_s: float = field(default=-math.inf)


class PyAVFrameSource(FrameSource):
    """Sample frames with PyAV (FFmpeg), seeking past keyframes and decoding forward.

    How a target is reached: with a keyframe index, the targets of each keyframe
    interval go to worker threads, each with its own container, which reach several
    intervals at once (intervals share no decoding): a lone target on its keyframe is
    decoded alone, the others by seeking to the keyframe and decoding forward. The
    main decoder (FRAME threading) takes the targets before the first keyframe, those
    of a video without an index or with one interval, and any a worker left (corrupt
    data, the end of the stream); it seeks only when a keyframe lies between its
    position and the target. Decoding forward lets FFmpeg drop non-reference frames
    that present before the target, and only the returned frames are converted to RGB.

    Args:
        path: The video file.
        every_s: Seconds between requested times (> 0). Longer than the video still
            yields the frame at 0.
        height: Height of the returned images in pixels (width keeps the display aspect
            ratio, rounded to an even number); never upscaled; None keeps the display size.
        threads: 0 (automatic): up to 8 workers (one per available core) sharing the
            cores as decoder threads, and FFmpeg picks the main decoder's threads;
            N > 1: N workers sharing N decoder threads, and N for the main decoder;
            1: everything on the calling thread.

    Raises:
        ConfigError: ``every_s`` is not a positive number, or ``height`` is not positive.

    Example:
        >>> with PyAVFrameSource("news.mp4", every_s=2.0, height=360) as source:  # doctest: +SKIP
        ...     for frame in source:
        ...         Image.fromarray(frame.image).save(f"{frame.requested_s:08.2f}.jpg")

    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        every_s: float = 2.0,
        height: int | None = 360,
        threads: int = 0,
    ) -> None:
        if not isinstance(every_s, int | float) or not every_s > 0 or not math.isfinite(every_s):
            raise ConfigError(f"every_s must be a positive number of seconds; got {every_s}")
        if height is not None and height <= 0:
            raise ConfigError(f"height must be a positive number of pixels; got {height}")
        if threads < 0:
            raise ConfigError(f"threads must be 0 (automatic) or more; got {threads}")
        self.path = Path(path)
        self.every_s = float(every_s)
        self.height = height
        self.threads = threads
        self._container: Any = None
        self._stream: Any = None
        self._info: VideoInfo | None = None
        self._keyframes_s: list[float] | None = None
        self._n_corrupt = 0
        self._stopped_at_s: float | None = None
        self._main = _Cursor(on_corrupt=self._count_corrupt)
        self._lock = threading.Lock()
        self._worker_local = threading.local()
        self._worker_containers: list[Any] = []
        self._worker_threads = 1  # decoder threads of each worker's container
        self._iterators: list[Generator[SampledFrame, None, None]] = []

    # -- FrameSource -------------------------------------------------------------------

    @property
    def info(self) -> VideoInfo:
        """Describe the opened video (available once the ``with`` block has opened it)."""
        if self._info is None:
            raise RuntimeError("PyAVFrameSource is not open; use it in a `with` block")
        return self._info

    @property
    def n_corrupt_packets(self) -> int:
        """Corrupt packets or frames skipped so far."""
        return self._n_corrupt

    @property
    def stopped_at_s(self) -> float | None:
        """Time of the last frame decoded when decoding ended early; None if it did not."""
        return self._stopped_at_s

    def __enter__(self) -> PyAVFrameSource:
        """Open the video, read its description and its keyframe index."""
        import av

        container = _open_container(self.path)
        try:
            stream = container.streams.video[0]
            # Threading is set before the first decode opens the codec. FRAME threading
            # speeds full decodes several-fold; AUTO (which adds slice threads) has
            # deadlocked for others when decoding stops before the end of the stream.
            stream.thread_type = "FRAME" if self.threads != 1 else "NONE"
            stream.thread_count = self.threads
            self._info = _describe(self.path, container, stream)
            self._keyframes_s = self._read_keyframes(stream)
        except av.error.FFmpegError as ex:
            container.close()
            raise VideoOpenError(f"cannot read {self.path} as a video (FFmpeg: {ex})") from ex
        except BaseException:
            container.close()
            raise
        self._container = container
        self._stream = stream
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the container (and with it the decoder and its threads)."""
        # Closing unfinished iterators first stops their worker threads and decoders.
        iterators, self._iterators = self._iterators, []
        for iterator in iterators:
            iterator.close()
        container, self._container, self._stream = self._container, None, None
        if container is not None:
            container.close()

    def __iter__(self) -> Iterator[SampledFrame]:
        """Yield one frame per requested time; see the class docstring."""
        if self._container is None or self._info is None:
            raise RuntimeError("PyAVFrameSource is not open; use it in a `with` block")
        iterator = self._sample()
        self._iterators.append(iterator)
        return iterator

    # -- internals ---------------------------------------------------------------------

    def _read_keyframes(self, stream: Any) -> list[float] | None:
        """Keyframe times in seconds from the container's index, or None without one.

        MP4 index timestamps are decoding times, which run a constant few frames
        ahead of presentation times when the stream has B-frames; taking the first
        keyframe as the stream's start removes that offset. (Should it be wrong, a
        seek that lands after its target is caught and redone, so only speed suffers.)
        """
        try:
            entries = stream.index_entries
            n_entries = len(entries)
        except (AttributeError, TypeError):
            return None
        if n_entries == 0:
            return None
        timestamps = sorted(e.timestamp for e in entries if e.is_keyframe)
        if not timestamps:
            return None
        tb = float(stream.time_base)
        return [(ts - timestamps[0]) * tb for ts in timestamps]

    def _output_size(self) -> tuple[int, int]:
        """(width, height) to scale each decoded frame to, before rotation."""
        info = self.info
        out_w, out_h = info.width, info.height
        if self.height is not None and self.height < info.height:
            out_h = self.height
            # Even widths keep JPEG/YUV encoders downstream happy.
            out_w = max(2, round(info.width * out_h / info.height / 2.0) * 2)
        if info.rotation_deg in (90, 270):
            return out_h, out_w
        return out_w, out_h

    def _to_rgb(self, frame: Any, size: tuple[int, int]) -> np.ndarray:
        # One libswscale pass scales and converts; PyAV 17 changed the threads default.
        image = frame.to_ndarray(
            width=size[0], height=size[1], format="rgb24", interpolation="AREA", threads=1
        )
        k = self.info.rotation_deg // 90
        if k:
            # np.rot90 turns counter-clockwise, the direction of VideoFrame.rotation.
            image = np.ascontiguousarray(np.rot90(image, k=k))
        return np.asarray(image, dtype=np.uint8)

    def _count_corrupt(self) -> None:
        with self._lock:  # workers count too
            self._n_corrupt += 1

    def _frames(self, container: Any, stream: Any, cursor: _Cursor) -> _Frames:
        """Yield (time_s, frame) from the current position of ``container``, skipping corrupt data.

        Raises _EndOfStream (instead of returning) when the file ends or becomes
        unreadable, so that callers can tell it from a target being reached.

        Packets that present before the current target (``cursor.target_s``) are
        decoded with ``skip_frame="NONREF"``: a frame that is neither a reference
        nor at or after the target can never be returned, so the decoder may drop
        it. Targets only grow, so the decision made when a packet is sent holds.
        """
        import av

        codec_context = stream.codec_context
        tb = float(stream.time_base)
        start_s = self.info.start_s
        n_failed_in_row = 0
        codec_context.skip_frame = "DEFAULT"
        skipping = False
        demux = container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                raise _EndOfStream from None
            except av.error.FFmpegError as ex:
                # The demuxer cannot go on (truncated or garbled container).
                logger.debug("demuxing %s stopped: %s", self.path, ex)
                cursor.on_corrupt()
                raise _EndOfStream from ex
            if packet.pts is not None:
                skip = packet.pts * tb - start_s < cursor.target_s - _TIME_TOLERANCE_S
                if skip != skipping:
                    codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
                    skipping = skip
            try:
                frames = packet.decode()
            except av.error.FFmpegError as ex:
                cursor.on_corrupt()
                n_failed_in_row += 1
                logger.debug("corrupt packet at pts=%s in %s: %s", packet.pts, self.path, ex)
                if n_failed_in_row >= MAX_CONSECUTIVE_DECODE_FAILURES:
                    raise _EndOfStream from ex
                continue
            for frame in frames:
                pts = frame.pts if frame.pts is not None else frame.dts
                if pts is None or frame.is_corrupt:
                    cursor.on_corrupt()
                    n_failed_in_row += 1
                    if n_failed_in_row >= MAX_CONSECUTIVE_DECODE_FAILURES:
                        raise _EndOfStream
                    continue
                n_failed_in_row = 0
                yield pts * tb - start_s, frame

    def _intervals(self, targets: list[float]) -> list[list[int]]:
        """Indices of the targets in each keyframe interval of the index, in order.

        Targets before the first indexed keyframe, and all of them without an index,
        are in none (the main decoder reaches them).
        """
        keyframes = self._keyframes_s
        if keyframes is None:
            return []
        intervals: dict[int, list[int]] = {}
        for j, target_s in enumerate(targets):
            k = bisect.bisect_right(keyframes, target_s + _TIME_TOLERANCE_S) - 1
            if k >= 0:
                intervals.setdefault(k, []).append(j)
        return list(intervals.values())

    def _should_seek(self, pos_s: float | None, target_s: float) -> bool:
        """Whether a keyframe lies between the decoding position and ``target_s``."""
        keyframes = self._keyframes_s
        if keyframes is not None:
            i = bisect.bisect_right(keyframes, target_s + _TIME_TOLERANCE_S) - 1
            if i < 0:
                return False
            return keyframes[i] > (0.0 if pos_s is None else pos_s)
        return target_s - (0.0 if pos_s is None else pos_s) > _SEEK_WITHOUT_INDEX_S

    def _keyframe_between(self, after_s: float, up_to_s: float) -> bool:
        """Whether the index has a keyframe in (after_s, up_to_s] (False without an index)."""
        keyframes = self._keyframes_s
        if keyframes is None:
            return False
        i = bisect.bisect_right(keyframes, up_to_s + _TIME_TOLERANCE_S) - 1
        return i >= 0 and keyframes[i] > after_s + _TIME_TOLERANCE_S

    def _grab_keyframe(
        self, target_s: float, container: Any = None, stream: Any = None
    ) -> tuple[float, Any] | None:
        """Decode the keyframe that sits exactly on ``target_s`` by itself; None if it does not.

        Sending that one packet and draining the decoder returns the frame at once,
        where a frame-threaded decoder would otherwise decode one frame per thread
        before it returns the first. A drained decoder can only go on after a seek
        has flushed it, so this is used only when the next target needs a seek anyway.
        Uses the main container unless a worker's ``container`` and ``stream`` are given.
        """
        import av

        if container is None:
            container, stream = self._container, self._stream
        tb = float(stream.time_base)
        start_s = self.info.start_s
        try:
            self._seek(container, stream, target_s)
            stream.codec_context.skip_frame = "DEFAULT"
            packet = next(container.demux(stream), None)
            if packet is None or packet.pts is None or not packet.is_keyframe:
                return None
            if abs(packet.pts * tb - start_s - target_s) > _TIME_TOLERANCE_S:
                return None
            decoded = [*packet.decode(), *stream.codec_context.decode(None)]
        except av.error.FFmpegError as ex:
            logger.debug("keyframe at %.3f s of %s unreadable: %s", target_s, self.path, ex)
            self._count_corrupt()
            return None
        for frame in decoded:
            if frame.pts is None or frame.is_corrupt:
                continue
            time_s = frame.pts * tb - start_s
            if abs(time_s - target_s) <= _TIME_TOLERANCE_S:
                return time_s, frame
        return None

    def _worker_container(self) -> tuple[Any, Any] | None:
        """This worker thread's own container and video stream (opened once); None if it cannot."""
        import av

        local = self._worker_local
        if getattr(local, "container", None) is None:
            try:
                container = av.open(str(self.path), mode="r")
            except av.error.FFmpegError as ex:
                logger.debug("worker cannot open %s: %s", self.path, ex)
                return None  # the main decoder takes this worker's targets
            with self._lock:
                self._worker_containers.append(container)
            local.container = container
            local.stream = container.streams.video[0]
            local.stream.thread_type = "FRAME" if self._worker_threads > 1 else "NONE"
            local.stream.thread_count = self._worker_threads
        return local.container, local.stream

    def _decode_in_worker(
        self, targets: list[float], size: tuple[int, int]
    ) -> list[tuple[float, np.ndarray] | None]:
        """Reach the targets of one keyframe interval with this worker's container; RGB each.

        A lone target on the keyframe is grabbed (decoded alone); otherwise the worker
        seeks to the keyframe at or before the first target and decodes forward exactly
        as the main decoder does. It stops at what the main decoder handles itself (a
        seek that lands after the target, corrupt data, the end of the stream): that
        target and the rest come back None, and the main decoder takes them, counting
        and reporting what it finds as it always has.
        """
        import av

        results: list[tuple[float, np.ndarray] | None] = [None] * len(targets)
        opened = self._worker_container()
        if opened is None:
            return results
        container, stream = opened
        first_s = targets[0]
        if len(targets) == 1 and self._keyframe_between(first_s - 2 * _TIME_TOLERANCE_S, first_s):
            grabbed = self._grab_keyframe(first_s, container, stream)
            if grabbed is not None:
                results[0] = grabbed[0], self._to_rgb(grabbed[1], size)
            return results
        cursor = _Cursor(on_corrupt=_give_up, target_s=first_s)
        frames = _no_frames()
        try:
            self._seek(container, stream, first_s)
            frames = self._frames(container, stream, cursor)
            current = _next(frames)
            if current[0] > first_s + _TIME_TOLERANCE_S:
                return results  # landed after the target: the main decoder seeks back
            for i, target_s in enumerate(targets):
                cursor.target_s = target_s
                # The frame chosen for one target may be the next target's too.
                while current[0] < target_s - _TIME_TOLERANCE_S:
                    current = _next(frames)
                results[i] = current[0], self._to_rgb(current[1], size)
        except (_EndOfStream, _GiveUp, av.error.FFmpegError) as ex:
            logger.debug("worker left targets from %.3f s of %s: %r", first_s, self.path, ex)
        finally:
            frames.close()
        return results

    def _n_workers(self) -> int:
        if self.threads == 1:
            return 0
        n = self.threads if self.threads > 0 else min(usable_cores(), 8)
        return n if n > 1 else 0

    def _seek(self, container: Any, stream: Any, to_s: float) -> None:
        """Seek ``container`` to the keyframe at or before ``to_s`` (a sample time)."""
        # The epsilon keeps a time computed from an exact timestamp (a keyframe's) from
        # flooring to the tick before it, which would land on the previous keyframe.
        offset = math.floor((to_s + self.info.start_s) / float(stream.time_base) + 1e-3)
        container.seek(offset, stream=stream, backward=True, any_frame=False)

    def _seek_and_peek(self, target_s: float) -> tuple[_Frames, tuple[float, Any] | None]:
        """Seek to the keyframe at or before ``target_s``; return the frames and the first one.

        A seek that lands after the target (estimated seeking in MPEG-TS or raw
        streams) is redone further back, finally from the very start.
        """
        to_s = target_s
        for attempt in range(_MAX_SEEK_RETRIES + 1):
            self._seek(
                self._container,
                self._stream,
                max(to_s, 0.0) if attempt < _MAX_SEEK_RETRIES else 0.0,
            )
            frames = self._frames(self._container, self._stream, self._main)
            try:
                first = _next(frames)
            except _EndOfStream:
                return frames, None
            if first[0] <= target_s + _TIME_TOLERANCE_S or to_s <= 0:
                return frames, first
            frames.close()
            to_s = min(to_s, target_s) - _SEEK_BACKOFF_S * 2**attempt
        return frames, first

    def _sample(self) -> Generator[SampledFrame, None, None]:
        from concurrent.futures import Future, ThreadPoolExecutor

        info = self.info
        targets = sample_times(info.duration_s, self.every_s)
        size = self._output_size()
        # Near the end the last frame may sit a little before the last target.
        end_slack_s = max(2.0 / info.fps if info.fps > 0 else 0.0, 0.1)
        # Keyframe intervals share no decoding, so workers reach them at once, each with
        # its own container and decoder (FFmpeg decodes without holding the GIL). On 2
        # cores two single-threaded decoders never wait on each other, and spent 7 % less
        # CPU than one frame-threaded decoder (3 minutes of 1080p, a keyframe every 10 s).
        intervals = self._intervals(targets)
        n_workers = min(self._n_workers(), len(intervals)) if len(intervals) > 1 else 0
        pool = ThreadPoolExecutor(n_workers, "themescope-decode") if n_workers else None
        if n_workers:
            budget = self.threads if self.threads > 0 else usable_cores()
            self._worker_threads = max(1, budget // n_workers)
        interval_of = {j: i for i, members in enumerate(intervals) for j in members}
        futures: dict[int, Future[list[tuple[float, np.ndarray] | None]]] = {}
        found: list[tuple[float, np.ndarray] | None] = []  # the current interval's frames
        next_submit = 0
        # Without workers, a target on a keyframe with another keyframe before the next
        # target is decoded on its own ("grabbed") by the main decoder.
        grab = [
            pool is None
            and self._keyframe_between(t - 2 * _TIME_TOLERANCE_S, t)
            and (j + 1 == len(targets) or self._keyframe_between(t, targets[j + 1]))
            for j, t in enumerate(targets)
        ]

        self._seek(self._container, self._stream, 0.0)
        frames: _Frames = self._frames(self._container, self._stream, self._main)
        pending: tuple[float, Any] | None = None  # a frame of the main decoder not yet consumed
        main_last_s: float | None = None  # the main decoder's position
        last_s: float | None = None  # the latest frame time seen (main decoder or workers)
        n_yielded = 0
        try:
            for j, target_s in enumerate(targets):
                image = None
                interval = interval_of.get(j)
                if pool is not None and interval is not None:
                    first = intervals[interval][0]
                    if j == first:
                        # Keep up to 2 intervals per worker in flight ahead of the consumer.
                        while next_submit < len(intervals) and len(futures) < 2 * n_workers:
                            members = [targets[k] for k in intervals[next_submit]]
                            futures[next_submit] = pool.submit(
                                self._decode_in_worker, members, size
                            )
                            next_submit += 1
                        found = futures.pop(interval).result()
                    result = found[j - first]
                    if result is not None:
                        time_s, image = result
                elif grab[j]:
                    frames.close()
                    grabbed = self._grab_keyframe(target_s)
                    # The main decoder was sought and drained: the next target seeks again.
                    frames, pending, main_last_s = _no_frames(), None, target_s
                    if grabbed is not None:
                        time_s, image = grabbed[0], self._to_rgb(grabbed[1], size)
                if image is None:
                    self._main.target_s = target_s
                    if self._should_seek(main_last_s, target_s):
                        frames.close()
                        frames, pending = self._seek_and_peek(target_s)
                    chosen = None
                    last: tuple[float, Any] | None = None
                    try:
                        while chosen is None:
                            current = pending if pending is not None else _next(frames)
                            pending = None
                            last, main_last_s = current, current[0]
                            if current[0] >= target_s - _TIME_TOLERANCE_S:
                                chosen = current
                    except _EndOfStream:
                        if last is not None and target_s - last[0] <= end_slack_s:
                            chosen = last
                        elif last_s is not None and target_s - last_s <= end_slack_s:
                            # The natural end, just after a worker's frame: nothing was lost.
                            break
                        else:
                            self._stopped_at_s = (
                                last_s if last is None else max(last[0], last_s or last[0])
                            )
                            break
                    # Keep the frame: the next target may be this same frame.
                    pending = chosen
                    time_s, image = chosen[0], self._to_rgb(chosen[1], size)
                last_s = time_s if last_s is None else max(last_s, time_s)
                n_yielded += 1
                yield SampledFrame(requested_s=target_s, time_s=time_s, image=image)
        finally:
            frames.close()
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            with self._lock:
                workers, self._worker_containers = self._worker_containers, []
            for container in workers:
                container.close()
        if n_yielded == 0:
            raise VideoDecodeError(
                f"no frame could be decoded from {self.path} "
                f"({self._n_corrupt} corrupt packets skipped)"
            )
        if self._stopped_at_s is not None:
            logger.debug(
                "decoding of %s ended at %.2f s of %.2f s",
                self.path,
                self._stopped_at_s,
                info.duration_s,
            )


# A frame source is built as factory(path, *, every_s, height) and used as a FrameSource.
registry.register(
    "frame source",
    "pyav",
    PyAVFrameSource,
    help="FFmpeg through PyAV: seeks by presentation time, survives corrupt packets.",
)
