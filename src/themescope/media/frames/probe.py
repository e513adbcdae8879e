"""What a video file holds, read without sampling it: its streams, duration, size and rotation.

:func:`probe_video` opens a video and returns its :class:`VideoInfo`; the sampler
describes the video it opens the same way. :func:`stream_start_s` is the origin
of every time themescope measures in a video (frames, embedded subtitles,
recognised speech), so that a file whose timestamps do not start at zero never
shifts one against another.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from themescope.errors import VideoOpenError


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, as far as sampling frames is concerned.

    Attributes:
        path: The video file.
        duration_s: Duration of the video stream in seconds (from its first timestamp).
        width: Display width in pixels, after rotation and pixel aspect ratio.
        height: Display height in pixels, after rotation.
        fps: Average frame rate (informational; sampling never relies on it).
        rotation_deg: Counter-clockwise rotation applied for display (0, 90, 180 or 270).
        codec: Name of the video codec (for example ``"h264"``).
        start_s: The stream's first timestamp in seconds; sample times are relative to it.
        has_audio: Whether the container holds an audio stream.
        n_subtitle_streams: Number of subtitle streams in the container.

    """

    path: Path
    duration_s: float
    width: int
    height: int
    fps: float
    rotation_deg: int
    codec: str
    start_s: float
    has_audio: bool
    n_subtitle_streams: int


def _check_path(path: Path) -> None:
    if not path.exists():
        raise VideoOpenError(f"video not found: {path}")
    if path.is_dir():
        raise VideoOpenError(f"video path is a directory, not a file: {path}")
    if path.stat().st_size == 0:
        raise VideoOpenError(f"video file is empty (0 bytes): {path}")


def _open_container(path: Path) -> Any:
    import av

    _check_path(path)
    try:
        container = av.open(str(path), mode="r")
    except av.error.FFmpegError as ex:
        raise VideoOpenError(
            f"cannot read {path} as a video (FFmpeg: {getattr(ex, 'strerror', None) or ex})"
        ) from ex
    if not container.streams.video:
        n_audio = len(container.streams.audio)
        container.close()
        what = f"{n_audio} audio stream(s)" if n_audio else "no audio or video stream"
        raise VideoOpenError(f"no video stream in {path} (it holds {what})")
    return container


def stream_start_s(container: Any, stream: Any) -> float:
    """Return the first timestamp of a PyAV video ``stream``, in seconds: the origin of all times.

    Frames, embedded subtitles and recognised speech are all measured from here, so
    a file whose timestamps do not start at zero (MPEG-TS, cut files) never shifts
    one against another. When the stream does not say where it starts, the
    container's start time stands in for it.

    Args:
        container: An open PyAV input container.
        stream: Its video stream.

    Returns:
        Seconds (0.0 when neither the stream nor the container knows).

    """
    if stream.start_time is not None:
        return float(stream.start_time * stream.time_base)
    if container.start_time is not None:
        return float(container.start_time) / 1_000_000
    return 0.0


def _stream_duration_s(container: Any, stream: Any, start_s: float) -> float | None:
    """Duration in seconds from the stream or the container; None when neither knows."""
    if stream.duration is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        container_start_s = (container.start_time or 0) / 1_000_000
        return max(0.0, float(container.duration) / 1_000_000 - (start_s - container_start_s))
    if stream.duration is None and container.duration is None:
        return None
    return 0.0


def _normalise_rotation(degrees: float) -> int:
    """Round a display-matrix angle to a multiple of 90 in [0, 360)."""
    return round(degrees / 90.0) * 90 % 360


def _first_frame_rotation(container: Any, stream: Any) -> int:
    """Read the display rotation from the first decodable frame (0 when there is none).

    PyAV 18 exposes the display matrix as ``VideoFrame.rotation`` (counter-clockwise
    degrees); FFmpeg >= 6 no longer copies it into ``stream.metadata['rotate']``,
    which is still honoured for files whose muxer put it there.
    """
    import av

    legacy = stream.metadata.get("rotate")
    if legacy is not None:
        try:
            # The legacy tag is clockwise degrees.
            return _normalise_rotation(-float(legacy))
        except ValueError:
            pass
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue
            for frame in frames:
                return _normalise_rotation(float(frame.rotation or 0))
    except av.error.FFmpegError:
        pass
    return 0


def _describe(path: Path, container: Any, stream: Any) -> VideoInfo:
    start_s = stream_start_s(container, stream)
    duration_s = _stream_duration_s(container, stream, start_s)
    if duration_s is None:
        raise VideoOpenError(
            f"video has no duration information: {path} "
            "(a raw stream? remux it into MP4 or MKV first, e.g. ffmpeg -i IN -c copy OUT.mp4)"
        )
    if not duration_s > 0:
        raise VideoOpenError(f"video has zero duration: {path}")
    rotation_deg = _first_frame_rotation(container, stream)
    coded_w = int(stream.codec_context.width)
    coded_h = int(stream.codec_context.height)
    if coded_w <= 0 or coded_h <= 0:
        raise VideoOpenError(f"video stream of {path} has no frame size ({coded_w}x{coded_h})")
    sar = stream.sample_aspect_ratio
    display_w = round(coded_w * float(sar)) if sar else coded_w
    if rotation_deg in (90, 270):
        display_w, coded_h = coded_h, display_w
    rate = stream.average_rate or stream.guessed_rate
    return VideoInfo(
        path=path,
        duration_s=duration_s,
        width=display_w,
        height=coded_h,
        fps=float(rate) if rate else 0.0,
        rotation_deg=rotation_deg,
        codec=str(stream.codec_context.name),
        start_s=start_s,
        has_audio=bool(container.streams.audio),
        n_subtitle_streams=len(container.streams.subtitles),
    )


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe a video file without sampling it.

    Args:
        path: The video file.

    Returns:
        The :class:`VideoInfo` of its first video stream.

    Raises:
        VideoOpenError: The path is missing, a directory or empty, FFmpeg cannot read
            it, it holds no video stream, or the video has zero duration.

    Example:
        >>> probe_video("news.mp4").duration_s  # doctest: +SKIP
        180.0

    """
    import av

    path = Path(path)
    container = _open_container(path)
    try:
        return _describe(path, container, container.streams.video[0])
    except av.error.FFmpegError as ex:
        raise VideoOpenError(f"cannot read {path} as a video (FFmpeg: {ex})") from ex
    finally:
        container.close()
