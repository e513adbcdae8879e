"""The ingest stage: a video and its words → sampled frames aligned with text in a run directory.

Text comes from the first source that applies: the ``subtitles`` file (SRT,
WebVTT, ASS/SSA, a YouTube transcript as JSON or CSV, or plain text with one
segment per line), a subtitle stream embedded in the container, or speech
recognition when a local faster-whisper model is given. With none of them the
run goes on image-only and says so.

Example:
    >>> from themescope.media.ingest import IngestConfig, ingest
    >>> result = ingest("news.mp4", "runs/news", subtitles="news.srt")  # doctest: +SKIP
    >>> result.n_frames, result.lang  # doctest: +SKIP
    (120, 'en')
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from themescope import _progress
from themescope._config import Settings, setting
from themescope.errors import ConfigError, VideoOpenError
from themescope.media.align import ALIGN_SCHEMES
from themescope.rundir import RunDirectory, StageWriter, fingerprint, sha256_file

logger = logging.getLogger("themescope")

LANG_CHOICES = ("auto", "en", "zh")
JPEG_WORKERS = 2
"""JPEG encoding releases the GIL, so a small pool overlaps it with decoding."""


@dataclass(frozen=True)
class IngestConfig(Settings):
    """Settings of the ingest stage (each field's range and help are declared beside it).

    Example:
        >>> IngestConfig(every_s=1.0).every_s
        1.0
    """

    section: ClassVar[str] = "ingest"

    every_s: float = setting(
        2.0,
        kind="float",
        low=0,
        low_open=True,
        flag="--every",
        help="Seconds between sampled frames (the paper sampled every 2 s).",
    )
    frame_height: int = setting(
        360,
        kind="int",
        low=32,
        high=4320,
        help="Height in pixels of the stored JPEG frames (360 leaves room for the model's "
        "120x200 input and the report's thumbnails).",
    )
    jpeg_quality: int = setting(
        90, kind="int", low=1, high=95, help="JPEG quality of the stored frames."
    )
    lang: str = setting(
        "auto",
        kind="str",
        choices=LANG_CHOICES,
        flag="--lang",
        help="Language of the text; auto detects it from the characters.",
    )
    align: str = setting(
        "window",
        kind="str",
        choices=ALIGN_SCHEMES,
        flag="--align",
        help="How text is given to frames: window (the words spoken in [t - every/2, "
        "t + every/2)) or nearest (the paper's).",
    )
    subtitle_encoding: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--subtitle-encoding",
        help="Encoding of the subtitle file; none detects it.",
    )
    asr_model: str | None = setting(
        None,
        kind="path",
        optional=True,
        flag="--asr-model",
        help="Local faster-whisper model folder, used when no other text exists.",
    )
    embedded_subtitles: bool = setting(
        True, kind="bool", help="Whether to read a subtitle stream from the container."
    )


@dataclass(frozen=True)
class IngestResult:
    """What the ingest stage produced.

    Attributes:
        run: The run directory.
        n_frames: Number of sampled frames.
        lang: Language of the text ("und" when there is none).
        text_source: Where the text came from ("srt", "embedded", "asr", "none", ...).
        skipped: True when the stage was already current and nothing was redone.
    """

    run: RunDirectory
    n_frames: int
    lang: str
    text_source: str
    skipped: bool


def ingest(
    video: str | Path,
    out: str | Path,
    *,
    subtitles: str | Path | None = None,
    config: IngestConfig | None = None,
    force: bool = False,
) -> IngestResult:
    """Sample frames from ``video``, read its text, align both, and write the run directory.

    Args:
        video: The video file.
        out: The run directory to write (created if needed).
        subtitles: A subtitle / transcript file; None looks for embedded subtitles, then ASR.
        config: Stage settings; defaults to :class:`IngestConfig()`.
        force: Redo the stage even if it is current, and accept an ``out`` holding other files.

    Returns:
        What was produced; ``skipped`` tells whether the stage was already current.

    Raises:
        VideoOpenError, VideoDecodeError, SubtitleParseError, RunDirectoryError, ConfigError.
    """
    from themescope.media.frames import probe_video

    config = config or IngestConfig()
    video = Path(video)
    subtitle_path = Path(subtitles) if subtitles is not None else None
    if subtitle_path is not None and not subtitle_path.is_file():
        what = "is a directory" if subtitle_path.is_dir() else "does not exist"
        raise VideoOpenError(f"subtitle file {subtitle_path} {what}")
    info = probe_video(video)
    if config.every_s > info.duration_s:
        raise ConfigError(
            f"--every {config.every_s:g} s is longer than the video ({info.duration_s:.1f} s); "
            "choose a shorter interval"
        )
    run = RunDirectory(out)
    run.check_usable(force=force)
    with run.lock():
        inputs: dict[str, Any] = {"video": _describe_file(video, duration_s=info.duration_s)}
        if subtitle_path is not None:
            inputs["subtitles"] = _describe_file(subtitle_path)
        stage_fp = fingerprint(config.to_dict(), {k: v["sha256"] for k, v in inputs.items()})
        record = run.stage_record("ingest")
        if run.is_current("ingest", stage_fp) and not force and record is not None:
            logger.info("ingest is up to date in %s; skipped (use --force to redo)", run.path)
            return IngestResult(
                run, record["n_frames"], record["lang"], record["text_source"], True
            )
        with run.stage("ingest", stage_fingerprint=stage_fp, config=config.to_dict()) as stage:
            stage.inputs.update(inputs)
            result = _ingest_into(stage, video, info.duration_s, subtitle_path, config)
        logger.info(
            "ingested %d frames, text from %s, language %s → %s",
            result.n_frames,
            result.text_source,
            result.lang,
            run.path,
        )
        return result


def _ingest_into(
    stage: StageWriter,
    video: Path,
    duration_s: float,
    subtitles: Path | None,
    config: IngestConfig,
) -> IngestResult:
    from themescope.media.align import align

    # Text first: a broken subtitle file fails in milliseconds, before any decoding.
    transcript = _read_text(stage, video, subtitles, config, duration_s)
    frames = _sample_frames(stage, video, config)
    info = frames["info"]
    cues = transcript.cues if transcript is not None else []
    text_source = transcript.source if transcript is not None and cues else "none"
    if transcript is None:
        stage.warn(
            "no text found (no subtitles, no embedded stream, no ASR): the run is image-only"
        )
    aligned = align(frames["time_s"], cues, every_s=config.every_s, scheme=config.align)
    lang = _choose_language(config.lang, [cue.text for cue in cues])
    n_frames = len(frames["time_s"])
    _write_tables(stage, frames, aligned, cues, lang)
    n_with_text = sum(1 for item in aligned if item.text.strip())
    stage.record.update(
        {
            "video": {
                "duration_s": info.duration_s,
                "width": info.width,
                "height": info.height,
                "fps": info.fps,
                "rotation_deg": info.rotation_deg,
                "codec": info.codec,
            },
            "n_frames": n_frames,
            "every_s": config.every_s,
            "lang": lang,
            "text_source": text_source,
            "encoding": transcript.encoding if transcript is not None else None,
            "n_cues": len(cues),
            "n_cues_skipped": transcript.n_skipped if transcript is not None else 0,
            "n_cues_deduplicated": transcript.n_deduplicated if transcript is not None else 0,
            "text_coverage": round(n_with_text / n_frames, 4) if n_frames else 0.0,
            "align": config.align,
            "n_corrupt_packets": frames["n_corrupt_packets"],
            "stopped_at_s": frames["stopped_at_s"],
        }
    )
    return IngestResult(stage.run, n_frames, lang, text_source, False)


def _sample_frames(stage: StageWriter, video: Path, config: IngestConfig) -> dict[str, Any]:
    from PIL import Image

    from themescope.media.frames import PyAVFrameSource

    requested: list[float] = []
    times: list[float] = []
    images: list[str] = []

    def save(array: Any, target: Path) -> None:
        Image.fromarray(array).save(target, format="JPEG", quality=config.jpeg_quality)

    with (
        PyAVFrameSource(video, every_s=config.every_s, height=config.frame_height) as source,
        ThreadPoolExecutor(max_workers=JPEG_WORKERS) as pool,
    ):
        info = source.info
        expected = max(1, math.ceil(info.duration_s / config.every_s))
        pending = []
        for frame in _progress.track(source, "sampling frames", total=expected):
            name = f"frames/{len(images):06d}.jpg"
            pending.append(pool.submit(save, frame.image, stage.path(name)))
            requested.append(frame.requested_s)
            times.append(frame.time_s)
            images.append(name)
        for job in pending:
            job.result()
        n_corrupt = source.n_corrupt_packets
        stopped_at_s = source.stopped_at_s
    if n_corrupt:
        stage.warn(f"skipped {n_corrupt} corrupt packet(s) while decoding {video.name}")
    if stopped_at_s is not None:
        stage.warn(
            f"{video.name} stopped decoding at {stopped_at_s:.1f} s of {info.duration_s:.1f} s "
            f"(truncated or corrupt); kept the {len(images)} frame(s) before it"
        )
    return {
        "info": info,
        "requested_s": requested,
        "time_s": times,
        "image": images,
        "n_corrupt_packets": n_corrupt,
        "stopped_at_s": stopped_at_s,
    }


def _read_text(
    stage: StageWriter,
    video: Path,
    subtitles: Path | None,
    config: IngestConfig,
    duration_s: float,
) -> Any:
    from themescope.media.transcripts import read_embedded_subtitles, read_transcript

    transcript = None
    if subtitles is not None:
        transcript = read_transcript(
            subtitles, duration_s=duration_s, encoding=config.subtitle_encoding
        )
    elif config.embedded_subtitles:
        transcript = read_embedded_subtitles(video, duration_s=duration_s)
    if (transcript is None or not transcript.cues) and config.asr_model is not None:
        from themescope.media.asr import transcribe

        transcript = transcribe(
            video, config.asr_model, lang=None if config.lang == "auto" else config.lang
        )
    if transcript is not None:
        for message in transcript.warnings:
            stage.warn(message)
    return transcript


def _choose_language(requested: str, texts: list[str]) -> str:
    from themescope.media.language import detect_language

    if requested != "auto":
        return requested
    return detect_language(texts) if texts else "und"


def _write_tables(
    stage: StageWriter, frames: dict[str, Any], aligned: list[Any], cues: list[Any], lang: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_frames = len(frames["time_s"])
    frame_table = pa.table(
        {
            "frame_id": pa.array(range(n_frames), pa.int64()),
            "requested_s": pa.array(frames["requested_s"], pa.float64()),
            "time_s": pa.array(frames["time_s"], pa.float64()),
            "image": pa.array(frames["image"], pa.string()),
            "text": pa.array([item.text for item in aligned], pa.string()),
            "text_raw": pa.array([item.text_raw for item in aligned], pa.string()),
            "cue_ids": pa.array([list(item.cue_ids) for item in aligned], pa.list_(pa.int64())),
            "lang": pa.array([lang] * n_frames, pa.string()),
        }
    )
    cue_table = pa.table(
        {
            "cue_id": pa.array(range(len(cues)), pa.int64()),
            "start_s": pa.array([cue.start_s for cue in cues], pa.float64()),
            "end_s": pa.array([cue.end_s for cue in cues], pa.float64()),
            "text": pa.array([cue.text for cue in cues], pa.string()),
            "text_raw": pa.array([cue.text_raw for cue in cues], pa.string()),
        }
    )
    pq.write_table(frame_table, stage.path("frames.parquet"))
    pq.write_table(cue_table, stage.path("cues.parquet"))


def _describe_file(path: Path, duration_s: float | None = None) -> dict[str, Any]:
    described: dict[str, Any] = {
        "path": str(path.resolve()),
        "size": path.stat().st_size,
        "sha256": sha256_file(path),
    }
    if duration_s is not None:
        described["duration_s"] = duration_s
    return described
