"""The ingest stage: a video and its words → sampled frames aligned with text in a run directory.

Text comes from the first source that applies: the ``subtitles`` file (SRT,
WebVTT, ASS/SSA, a YouTube transcript as JSON or CSV, or plain text with one
segment per line), a subtitle stream embedded in the container, or speech
recognition when a local faster-whisper model is given. With none of them the
run goes on image-only and says so.

Example:
    >>> from themescope.media.ingest import IngestConfig, ingest
    >>> result = ingest("news.mp4", "runs/news", subtitles="news.srt")  # doctest: +SKIP
    >>> result.record.n_frames, result.record.lang  # doctest: +SKIP
    (120, 'en')
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from themescope import _progress
from themescope.components import identity
from themescope.errors import ConfigError, VideoOpenError
from themescope.manifest import IngestRecord, InputFile, OcrRecord, VideoFacts
from themescope.media.config import IngestConfig
from themescope.rundir import (
    RunDirectory,
    Stage,
    StageResult,
    StageWriter,
    run_stage,
    sha256_file,
)

if TYPE_CHECKING:
    import numpy as np

    from themescope.media.frames import VideoInfo
    from themescope.media.ocr import OnScreenText, OnScreenTextReader

logger = logging.getLogger("themescope")

JPEG_WORKERS = 2
"""JPEG encoding and blank detection release the GIL, so a small pool overlaps them with
decoding (the main thread only decodes)."""


class IngestStage(Stage):
    """Sample frames from a video, read its text, align both (the first stage).

    Args:
        video: The video file.
        subtitles: A subtitle / transcript file; None looks for embedded subtitles, then ASR.
        config: Stage settings; defaults to :class:`IngestConfig()`.
        ocr_reader: The on-screen text reader to use when ``config.ocr`` is "auto";
            None uses :class:`~themescope.media.ocr.OnScreenTextReader` with its
            defaults when rapidocr is installed.
    """

    name = "ingest"
    record = IngestRecord
    files = ("frames.parquet", "cues.parquet", "frames")
    config_section = "ingest"
    command = "ingest"

    def __init__(
        self,
        video: str | Path,
        subtitles: str | Path | None = None,
        config: IngestConfig | None = None,
        *,
        ocr_reader: OnScreenTextReader | None = None,
    ) -> None:
        self.video = Path(video)
        self.subtitles = Path(subtitles) if subtitles is not None else None
        self.config = config or IngestConfig()
        self.ocr_reader = ocr_reader
        self._info: Any = None
        self._reader: OnScreenTextReader | None = None
        self._reader_resolved = False

    def check(self) -> None:
        """Refuse an unknown encoding, a missing subtitle file, an unreadable video, bad OCR, ...

        The OCR models are loaded here, so a broken install fails before any frame is sampled.
        """
        from themescope.media.frames.probe import probe_video
        from themescope.media.frames.sampler import check_sampling_plan
        from themescope.media.transcripts.encoding import codec_name

        if self.config.subtitle_encoding is not None:
            codec_name(self.config.subtitle_encoding)
        if self.subtitles is not None and not self.subtitles.is_file():
            what = "is a directory" if self.subtitles.is_dir() else "does not exist"
            raise VideoOpenError(f"subtitle file {self.subtitles} {what}")
        if self.config.asr_model is not None:
            from themescope.media.asr import check_model_dir

            check_model_dir(self.config.asr_model)
        if self._info is None:
            self._info = probe_video(self.video)
        if self.config.every_s > self._info.duration_s:
            raise ConfigError(
                f"--every {self.config.every_s:g} s is longer than the video "
                f"({self._info.duration_s:.1f} s); choose a shorter interval"
            )
        check_sampling_plan(self._info, self.config.every_s)
        if not self._reader_resolved:
            from themescope.media.ocr import resolve_reader

            reader = self.ocr_reader
            if reader is None and self.config.n_threads:
                from themescope.media.ocr import OnScreenTextReader

                reader = OnScreenTextReader(n_threads=self.config.n_threads)
            self._reader = resolve_reader(self.config.ocr, reader)
            self._reader_resolved = True

    def inputs(self) -> dict[str, InputFile]:
        """The video (with its duration) and the subtitle file, hashed."""
        described = {"video": _describe_file(self.video, duration_s=self._info.duration_s)}
        if self.subtitles is not None:
            described["subtitles"] = _describe_file(self.subtitles)
        return described

    def settings(self) -> dict[str, Any]:
        """The ingest settings."""
        return self.config.to_dict()

    def fingerprint_parts(self) -> Any:
        """The settings and the OCR reader (the inputs' hashes are added by the runner)."""
        return {"settings": self.config.fingerprinted(), "ocr_reader": identity(self._reader)}

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Read the text, sample the frames, read what is on screen, align, write the tables."""
        if self.config.ocr == "auto" and self._reader is None:
            from themescope.media.ocr import NOT_INSTALLED

            writer.warn(NOT_INSTALLED)
        writer.record = record = _ingest_into(
            writer, self.video, self._info.duration_s, self.subtitles, self.config, self._reader
        )
        logger.info(
            "ingested %d frames, text from %s, language %s → %s",
            record.n_frames,
            record.text_source,
            record.lang,
            run.path,
        )


def ingest(
    video: str | Path,
    out: str | Path,
    *,
    subtitles: str | Path | None = None,
    config: IngestConfig | None = None,
    ocr_reader: OnScreenTextReader | None = None,
    force: bool = False,
) -> StageResult:
    """Sample frames from ``video``, read its text, align both, and write the run directory.

    Args:
        video: The video file.
        out: The run directory to write (created if needed).
        subtitles: A subtitle / transcript file; None looks for embedded subtitles, then ASR.
        config: Stage settings; defaults to :class:`IngestConfig()`.
        ocr_reader: The on-screen text reader (see :class:`IngestStage`).
        force: Redo the stage even if it is current, and accept an ``out`` holding other files.

    Returns:
        The stage's result; ``result.record`` is the manifest's
        :class:`~themescope.manifest.IngestRecord` (``n_frames``, ``lang``, ...).

    Raises:
        VideoOpenError, VideoDecodeError, SubtitleParseError, RunDirectoryError, ConfigError,
        ModelLoadError (broken OCR models).
    """
    run = RunDirectory(out)
    run.check_usable(force=force)
    stage = IngestStage(video, subtitles, config, ocr_reader=ocr_reader)
    return run_stage(run, stage, force=force)


def _ingest_into(
    stage: StageWriter,
    video: Path,
    duration_s: float,
    subtitles: Path | None,
    config: IngestConfig,
    reader: OnScreenTextReader | None,
) -> IngestRecord:
    from themescope.media.align import align
    from themescope.media.blank import blank_warning
    from themescope.media.furniture import find_promos

    # Text first: a broken subtitle file fails in milliseconds, before any decoding.
    transcript = _read_text(stage, video, subtitles, config, duration_s)
    frames = _sample_frames(stage, video, config)
    info = frames.info
    cues = transcript.cues if transcript is not None else []
    text_source = transcript.source if transcript is not None and cues else "none"
    if transcript is None:
        stage.warn(
            "no text found (no subtitles, no embedded stream, no ASR): the run is image-only"
        )
    aligned = align(frames.time_s, cues, every_s=config.every_s, scheme=config.align)
    blank_message = blank_warning(frames.time_s, frames.blank, config.every_s)
    if blank_message is not None:
        stage.warn(blank_message)
    lang = _choose_language(config.lang, [cue.text for cue in cues])
    n_frames = len(frames.time_s)
    on_screen = None
    if reader is not None:
        # From the stored JPEGs: boxes are in their pixels, and no frame is held in memory.
        paths = [stage.path(name) for name in frames.image]
        on_screen = reader.read(
            paths, frames.time_s, transcript=[cue.text for cue in cues], lang=lang
        )
    promo = find_promos(
        frames.time_s,
        [item.text for item in aligned],
        frames.blank,
        frames.thumbnail,
        [f.text for f in on_screen.frames] if on_screen is not None else [""] * n_frames,
    )
    if any(promo):
        stage.warn(promo_warning(frames.time_s, promo, config.every_s))
    _write_tables(stage, frames, aligned, cues, lang, on_screen, promo)
    n_with_text = sum(1 for item in aligned if item.text.strip())
    return IngestRecord(
        video=VideoFacts(
            duration_s=info.duration_s,
            width=info.width,
            height=info.height,
            fps=info.fps,
            rotation_deg=info.rotation_deg,
            codec=info.codec,
        ),
        n_frames=n_frames,
        n_frames_blank=sum(frames.blank),
        n_frames_promo=sum(promo),
        every_s=config.every_s,
        lang=lang,
        text_source=text_source,
        encoding=transcript.encoding if transcript is not None else None,
        n_cues=len(cues),
        n_cues_skipped=transcript.n_skipped if transcript is not None else 0,
        n_cues_deduplicated=transcript.n_deduplicated if transcript is not None else 0,
        text_coverage=round(n_with_text / n_frames, 4) if n_frames else 0.0,
        align=config.align,
        n_corrupt_packets=frames.n_corrupt_packets,
        stopped_at_s=frames.stopped_at_s,
        ocr=None if on_screen is None else msgspec.convert(on_screen.to_record(), OcrRecord),
    )


@dataclass(frozen=True)
class _SampledFrames:
    """The frames sampled from the video, one entry per frame in time order.

    Attributes:
        info: The video's facts.
        requested_s: The time each frame was asked for.
        time_s: The time of the frame decoded for it.
        image: Its JPEG, relative to the run.
        blank: Whether it is black or one flat colour.
        thumbnail: Its small grey picture, to find the same picture shown again (promos).
        n_corrupt_packets: Packets skipped while decoding.
        stopped_at_s: Where decoding stopped early (a truncated file), or None.
    """

    info: VideoInfo
    requested_s: list[float]
    time_s: list[float]
    image: list[str]
    blank: list[bool]
    thumbnail: list[np.ndarray]
    n_corrupt_packets: int
    stopped_at_s: float | None


def _sample_frames(stage: StageWriter, video: Path, config: IngestConfig) -> _SampledFrames:
    from PIL import Image

    from themescope.media.blank import is_blank
    from themescope.media.frames.sampler import PyAVFrameSource
    from themescope.media.furniture import promo_thumbnail

    requested: list[float] = []
    times: list[float] = []
    images: list[str] = []

    def save(array: Any, target: Path) -> tuple[bool, Any]:
        """Write the frame's JPEG; return whether it is blank, and its promo thumbnail."""
        Image.fromarray(array).save(target, format="JPEG", quality=config.jpeg_quality)
        return is_blank(array), promo_thumbnail(array)

    with (
        PyAVFrameSource(
            video, every_s=config.every_s, height=config.frame_height, threads=config.n_threads
        ) as source,
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
        results = [job.result() for job in pending]
        blank = [is_blank_frame for is_blank_frame, _ in results]
        thumbnails = [thumbnail for _, thumbnail in results]
        n_corrupt = source.n_corrupt_packets
        stopped_at_s = source.stopped_at_s
    if n_corrupt:
        stage.warn(f"skipped {n_corrupt} corrupt packet(s) while decoding {video.name}")
    if stopped_at_s is not None:
        stage.warn(
            f"{video.name} stopped decoding at {stopped_at_s:.1f} s of {info.duration_s:.1f} s "
            f"(truncated or corrupt); kept the {len(images)} frame(s) before it"
        )
    return _SampledFrames(
        info=info,
        requested_s=requested,
        time_s=times,
        image=images,
        blank=blank,
        thumbnail=thumbnails,
        n_corrupt_packets=n_corrupt,
        stopped_at_s=stopped_at_s,
    )


def _read_text(
    stage: StageWriter,
    video: Path,
    subtitles: Path | None,
    config: IngestConfig,
    duration_s: float,
) -> Any:
    from themescope.media.transcripts.embedded import read_embedded_subtitles
    from themescope.media.transcripts.files import read_transcript

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
    stage: StageWriter,
    frames: _SampledFrames,
    aligned: list[Any],
    cues: list[Any],
    lang: str,
    on_screen: OnScreenText | None,
    promo: list[bool],
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_frames = len(frames.time_s)
    frame_table = pa.table(
        {
            "frame_id": pa.array(range(n_frames), pa.int64()),
            "requested_s": pa.array(frames.requested_s, pa.float64()),
            "time_s": pa.array(frames.time_s, pa.float64()),
            "image": pa.array(frames.image, pa.string()),
            "blank": pa.array(frames.blank, pa.bool_()),
            "promo": pa.array(promo, pa.bool_()),
            "text": pa.array([item.text for item in aligned], pa.string()),
            "text_raw": pa.array([item.text_raw for item in aligned], pa.string()),
            "cue_ids": pa.array([list(item.cue_ids) for item in aligned], pa.list_(pa.int64())),
            "lang": pa.array([lang] * n_frames, pa.string()),
        }
    )
    if on_screen is not None:
        from themescope.media.ocr import add_ocr_columns

        frame_table = add_ocr_columns(frame_table, on_screen)
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


def promo_warning(times_s: list[float], promo: list[bool], every_s: float) -> str:
    """The run's warning about the frames :func:`~themescope.media.furniture.find_promos` found."""
    from themescope.media.blank import describe_stretches

    return (
        f"{sum(promo)} of {len(promo)} frames look like ads, station IDs, promos or bumpers "
        f"({describe_stretches(times_s, promo, every_s)}: a picture or text shown again with "
        "nothing said over it): their on-screen text describes no theme"
    )


def _describe_file(path: Path, duration_s: float | None = None) -> InputFile:
    return InputFile(
        path=str(path.resolve()),
        size=path.stat().st_size,
        sha256=sha256_file(path),
        duration_s=duration_s,
    )
