"""Read the words of a text subtitle stream muxed into the video container.

:func:`read_embedded_subtitles` reads the first text subtitle stream (mov_text,
SubRip, ASS, WebVTT) of a video; its cue times are measured from the video
stream's first timestamp, as frame times are, and its cues go through the same
clean-up as a file's (:func:`build_transcript`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from themescope.errors import VideoOpenError
from themescope.media.frames.probe import stream_start_s
from themescope.media.transcripts.cues import Transcript, _check_duration, build_transcript

logger = logging.getLogger("themescope")


def _ass_text(ass: str) -> str:
    """Return the Text field of an ffmpeg ASS event line ("ReadOrder,Layer,Style,...,Text")."""
    if ass.startswith("Dialogue:"):  # ffmpeg before 3.x: a whole Dialogue line, 9 fields first
        return ass.split(",", 9)[-1]
    return ass.split(",", 8)[-1]


def read_embedded_subtitles(
    video_path: str | Path, *, duration_s: float | None
) -> Transcript | None:
    """Read the first text subtitle stream muxed into a video container.

    Cue times are measured from the video stream's first timestamp, as frame
    times are, so a container whose streams start late keeps text and frames
    in step.

    Args:
        video_path: An MP4/MKV/MOV/WebM file.
        duration_s: The video's duration for dropping and clipping cues, or None.

    Returns:
        The transcript (source "embedded"), or None when the container holds no
        text subtitle stream (bitmap subtitles such as DVD or PGS are not text).

    Raises:
        VideoOpenError: The file cannot be opened as a media container.

    Example:
        >>> t = read_embedded_subtitles("interview.mkv", duration_s=600.0)  # doctest: +SKIP
        >>> t is None or t.source == "embedded"  # doctest: +SKIP
        True

    """
    import av
    from av.subtitles.subtitle import AssSubtitle

    path = Path(video_path)
    _check_duration(duration_s)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as ex:
        raise VideoOpenError(f"cannot open {path} to look for subtitle streams: {ex}") from ex
    with container:
        streams = [s for s in container.streams.subtitles if s.codec_context.codec.text_sub]
        n_bitmap = len(container.streams.subtitles) - len(streams)
        if not streams:
            if n_bitmap:
                logger.info("%s has only bitmap subtitle streams, which hold no text", path)
            return None
        stream = streams[0]
        logger.info(
            "reading embedded %s subtitle stream #%d (language %s) of %s",
            stream.codec_context.name,
            stream.index,
            stream.metadata.get("language", "unknown"),
            path,
        )
        video = container.streams.video
        video_start_s = stream_start_s(container, video[0]) if video else 0.0
        raw: list[tuple[float, float, str]] = []
        reasons: list[str] = []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None or packet.time_base is None:
                continue
            packet_s = float(packet.pts * packet.time_base) - video_start_s
            try:
                subtitle = stream.codec_context.decode2(packet)
            except av.error.FFmpegError as ex:
                reasons.append(f"packet at {packet_s:.2f} s: {ex}")
                continue
            if subtitle is None:
                continue  # mov_text writes empty packets for gaps between cues
            texts = []
            for rect in subtitle.rects:
                if not isinstance(rect, AssSubtitle):
                    continue  # a bitmap rect inside a text stream carries no words
                if rect.type == b"ass":
                    texts.append(_ass_text(rect.ass.decode("utf-8", errors="replace")))
                else:
                    texts.append(rect.text.decode("utf-8", errors="replace"))
            start_s = packet_s + subtitle.start_display_time / 1000.0
            if packet.duration:
                end_s = packet_s + float(packet.duration * packet.time_base)
            else:
                end_s = packet_s + subtitle.end_display_time / 1000.0
            raw.append((start_s, end_s, "\n".join(t.replace("\\N", "\n") for t in texts)))
    return build_transcript(
        raw,
        source="embedded",
        duration_s=duration_s,
        skip_reasons=reasons,
        label=f"{path} (subtitle stream #{stream.index})",
    )
