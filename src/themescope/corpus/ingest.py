"""The study's ingest stage: every video into its own run directory, then one frame table.

Each video is ingested by :func:`ingest_video`, an independent task that any
:class:`~themescope.corpus.executors.Executor` runs (a local process pool or Ray),
into ``STUDY/videos/<id>/`` with the single-video contract, so a video already done
is skipped and a failed one is recorded with its error while the others go on.
The stage then writes ``STUDY/videos.json`` (every video and how it went) and
``STUDY/frames.parquet``: one row per frame of every ingested video, with its
``video``, ``group``, the ``seconds`` of airtime it stands for, and its image path
relative to the study, which the train and themes stages read like a run's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from themescope.corpus.executors import Executor, TaskFailure
from themescope.corpus.spec import CorpusSpec, CorpusVideo
from themescope.errors import DocumentError, ThemescopeError
from themescope.manifest import IngestRecord, Manifest
from themescope.media.config import IngestConfig
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage, StageWriter
from themescope.study_documents import (
    STUDY_SCHEMA_VERSION,
    StudyVideoRecord,
    StudyVideosDocument,
    read_study_videos,
    write_study,
)

logger = logging.getLogger("themescope")

VIDEOS_DIR = "videos"

FRAME_COLUMNS = ("time_s", "image", "text", "lang", "ocr_text", "blank")
"""Columns copied from each video's frames.parquet (``ocr_text`` is missing with --ocr off,
``blank`` in runs ingested before black frames were detected)."""


@dataclass(frozen=True)
class VideoTask:
    """What one worker needs to ingest one video (plain values: it travels to other machines).

    Attributes:
        video: The video file.
        subtitles: Its subtitle file, or None.
        out: Its run directory.
        ingest: The ingest settings (``IngestConfig.to_dict()``).
        force: Redo it even when current.
    """

    video: str
    subtitles: str | None
    out: str
    ingest: dict[str, Any]
    force: bool = False


@dataclass(frozen=True)
class IngestedVideo:
    """What ingesting one video found (plain values: it travels back from other machines).

    Attributes:
        status: ``ran``, or ``skipped`` when its run was already current.
        fingerprint: Its ingest stage's fingerprint.
        n_frames: Frames sampled.
        lang: The language of its text.
        duration_s: The video's duration, None when it could not be measured.
        warnings: The ingest stage's warnings.
    """

    status: str
    fingerprint: str
    n_frames: int
    lang: str
    duration_s: float | None
    warnings: tuple[str, ...]


def ingest_video(task: VideoTask) -> IngestedVideo:
    """Ingest one video into its run directory (skipped when current); return its facts.

    Runs in a worker process or a Ray task; raises on failure, which the executor
    reports for this video alone.
    """
    from themescope.media.ingest import IngestStage
    from themescope.rundir import run_stage

    stage = IngestStage(task.video, task.subtitles, IngestConfig.from_dict(task.ingest))
    result = run_stage(RunDirectory(task.out), stage, force=task.force)
    record = result.record
    assert isinstance(record, IngestRecord)  # the ingest stage's record type
    return IngestedVideo(
        status=result.status,
        fingerprint=record.fingerprint,
        n_frames=record.n_frames,
        lang=record.lang,
        duration_s=None if record.video is None else record.video.duration_s,
        warnings=tuple(record.warnings),
    )


class StudyIngestStage(Stage):
    """Ingest every video of a corpus with an executor and gather their frames.

    Args:
        spec: The corpus.
        config: Ingest settings shared by every video (a row's ``lang`` overrides ``lang``).
        executor: Runs the per-video tasks.
        force: Redo every video.
    """

    name = "ingest"
    record = IngestRecord
    files = ("frames.parquet", STUDY_VIDEOS_NAME)
    config_section = "ingest"
    command = "corpus"
    kinds = ("study",)

    def __init__(
        self, spec: CorpusSpec, config: IngestConfig, executor: Executor, *, force: bool = False
    ) -> None:
        self.spec = spec
        self.config = config
        self.executor = executor
        self.force = force

    def check(self) -> None:
        """Check the executor and the ingest components before any video is read."""
        self.executor.check()
        if self.config.asr_model is not None:
            from themescope.media.asr import check_model_dir

            check_model_dir(self.config.asr_model)
        from themescope.media.ocr import resolve_reader

        resolve_reader(self.config.ocr, None)

    def stale(self, run: RunDirectory) -> bool:
        """Whether a video failed last time: it is retried (the done ones skip in their runs).

        A video added to the fitted study that failed is the assign stage's to retry.
        """
        if run.record("ingest") is None:
            return False
        try:
            previous = read_study_videos(run / STUDY_VIDEOS_NAME)
        except DocumentError:
            return True  # damaged, or from another themescope: the stage rewrites it
        return any(v.status == "failed" and v.added is None for v in previous.videos)

    def close(self) -> None:
        """Stop the executor's workers."""
        self.executor.close()

    def settings(self) -> dict[str, Any]:
        """The ingest settings and the executor."""
        return {**self.config.to_dict(), "executor": self.executor.name}

    def fingerprint_parts(self) -> Any:
        """The settings and every row (its files by path, size and modification time).

        The per-video run directories hash their files and skip what is current, so the
        study only needs to notice that a row or a file changed.
        """
        return {
            "settings": self.config.fingerprinted(),
            "videos": [row_identity(video) for video in self.spec.videos],
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Ingest every video (skipping current ones), record each, gather the frames."""
        if not run.exists():
            # The manifest before the videos' folders: a study killed during its first
            # ingest is still recognised as one (and resumed) by the next run.
            run.write_manifest(Manifest())
        records = ingest_rows(
            run, self.spec.videos, self.config, self.executor, writer.warn, self.force
        )
        done = [r for r in records if r.status == "done"]
        for group, members in self.spec.groups().items():
            if not any(r.group == group for r in done):
                writer.warn(f"group {group!r} has no ingested video: it is left out of the study")
            elif len(members) != sum(r.group == group for r in done):
                n_done = sum(r.group == group for r in done)
                writer.warn(f"group {group!r}: {n_done} of {len(members)} videos ingested")
        write_study(
            writer.path(STUDY_VIDEOS_NAME),
            StudyVideosDocument(
                schema_version=STUDY_SCHEMA_VERSION,
                source=str(self.spec.source),
                # Videos added to the fitted study stay listed: the assign stage redoes them.
                videos=[
                    *records,
                    *(v for v in added_videos(run) if v.id not in {r.id for r in records}),
                ],
            ),
        )
        frames = frame_table(run, done)
        write_frame_table(frames, writer.path("frames.parquet"))
        langs = sorted({r.lang for r in done if r.lang})
        writer.record = IngestRecord(
            n_frames=frames.num_rows,
            lang=langs[0] if len(langs) == 1 else "mul",
            every_s=self.config.every_s,
            text_source="corpus",
        )


def added_videos(run: RunDirectory) -> list[StudyVideoRecord]:
    """The videos added to the fitted study (``themescope corpus --into``), from videos.json."""
    try:
        found = read_study_videos(run / STUDY_VIDEOS_NAME)
    except DocumentError:
        return []
    return [video for video in found.videos if video.added is not None]


def ingest_rows(
    run: RunDirectory,
    videos: Sequence[CorpusVideo],
    config: IngestConfig,
    executor: Executor,
    warn: Callable[[str], None],
    force: bool = False,
) -> list[StudyVideoRecord]:
    """Ingest each row into ``STUDY/videos/<id>/`` on ``executor``; return their records.

    A video that fails is recorded and told to ``warn`` (a stage's ``writer.warn``); the
    others go on.

    Raises:
        ThemescopeError: Not one video could be ingested.
    """
    videos = list(videos)
    tasks = [_task(run, video, config, executor, force) for video in videos]
    outcomes: dict[int, IngestedVideo | TaskFailure] = {}
    logger.info(
        "ingesting %d videos with the %s executor (%d workers)",
        len(videos),
        executor.name,
        executor.n_workers,
    )
    for index, outcome in executor.map(ingest_video, tasks):
        outcomes[index] = outcome
        video = videos[index]
        if isinstance(outcome, TaskFailure):
            warn(f"video {video.id} (row {video.row}) failed: {outcome.message}")
        else:
            logger.info("video %s: ingest %s", video.id, outcome.status)
    records = [_video_record(run, video, outcomes[i]) for i, video in enumerate(videos)]
    if not any(r.status == "done" for r in records):
        raise ThemescopeError(
            f"none of the {len(records)} videos could be ingested; the first error: "
            f"{records[0].error}"
        )
    return records


def _task(
    run: RunDirectory, video: CorpusVideo, config: IngestConfig, executor: Executor, force: bool
) -> VideoTask:
    config = config if video.lang is None else config.replace(lang=video.lang)
    if config.n_threads == 0 and (executor.name == "ray" or executor.n_workers > 1):
        # Every worker (a Ray task holds one CPU) decodes and reads on one thread: two
        # workers each asking for every core ran slower than one worker alone.
        config = config.replace(n_threads=1)
    return VideoTask(
        video=str(video.video),
        subtitles=None if video.subtitles is None else str(video.subtitles),
        out=str(run / VIDEOS_DIR / video.id),
        ingest=config.to_dict(),
        force=force,
    )


def row_identity(video: CorpusVideo) -> dict[str, Any]:
    """A row as its fingerprint sees it: its id, group, language and files (path, size, mtime)."""

    def file(path: Path | None) -> list[Any] | None:
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return [str(path)]
        return [str(path), stat.st_size, stat.st_mtime_ns]

    return {
        "id": video.id,
        "group": video.group,
        "lang": video.lang,
        "video": file(video.video),
        "subtitles": file(video.subtitles),
    }


def _video_record(
    run: RunDirectory, video: CorpusVideo, outcome: IngestedVideo | TaskFailure
) -> StudyVideoRecord:
    common: dict[str, Any] = {
        "id": video.id,
        "group": video.group,
        "video": str(video.video),
        "subtitles": None if video.subtitles is None else str(video.subtitles),
        "metadata": dict(video.metadata),
        "row": video.row,
    }
    if isinstance(outcome, TaskFailure):
        return StudyVideoRecord(**common, lang=video.lang, status="failed", error=outcome.message)
    return StudyVideoRecord(
        **common,
        lang=video.lang or outcome.lang,
        status="done",
        n_frames=outcome.n_frames,
        duration_s=outcome.duration_s,
        warnings=list(outcome.warnings),
    )


def frame_table(run: RunDirectory, done: Sequence[StudyVideoRecord], first_id: int = 0) -> Any:
    """Every frame of the ``done`` videos as one pyarrow table, ids from ``first_id`` on."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from themescope.themes.timeline import frame_durations_s

    parts = []
    for record in done:
        video_run = RunDirectory(run / VIDEOS_DIR / record.id)
        table = pq.read_table(video_run / "frames.parquet").sort_by("frame_id")
        ingest = video_run.require("ingest")
        assert isinstance(ingest, IngestRecord)  # the ingest stage's record type
        times = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), dtype=np.float64)
        seconds = frame_durations_s(
            times,
            every_s=ingest.every_s,
            duration_s=record.duration_s,
        )
        n = table.num_rows
        columns = {
            "video": pa.array([record.id] * n, pa.string()),
            "group": pa.array([record.group] * n, pa.string()),
            "video_frame_id": table.column("frame_id").cast(pa.int64()),
            "seconds": pa.array(seconds, pa.float64()),
        }
        for name in FRAME_COLUMNS:
            if name == "image":
                prefix = f"{VIDEOS_DIR}/{record.id}/"
                columns[name] = pa.array(
                    [prefix + p for p in table.column("image").to_pylist()], pa.string()
                )
            elif name == "blank":
                blank = table.column(name) if name in table.column_names else None
                columns[name] = (
                    pa.array([False] * n, pa.bool_()) if blank is None else blank.fill_null(False)
                )
            elif name in table.column_names:
                columns[name] = table.column(name).cast(pa.string())
            else:
                columns[name] = pa.array([""] * n, pa.string())
        parts.append(pa.table(columns))
    frames = pa.concat_tables(parts)
    ids = np.arange(first_id, first_id + frames.num_rows)
    return frames.add_column(0, "frame_id", pa.array(ids, pa.int64()))


def write_frame_table(frames: Any, path: Path) -> None:
    """Write a frame table as Parquet."""
    import pyarrow.parquet as pq

    pq.write_table(frames, path)
