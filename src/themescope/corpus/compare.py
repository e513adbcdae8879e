"""Compare runs jointly: a study with one video per side, in a folder of kind ``comparison``.

One :class:`~themescope.rundir.Pipeline` (:func:`comparison_stages`):

1. :class:`CompareIngestStage` gathers the frames each input run ingested into the
   folder as a study's ingest does (``videos/<run>/``, ``videos.json``, one
   ``frames.parquet`` whose ``video`` and ``group`` are the run's name); the frames are
   linked (or copied), so the folder reads nothing from the runs afterwards and can
   move; its fingerprint holds each run's ingest fingerprint;
2. the study's :class:`~themescope.model.train.TrainStage` (one CRVAE, text in the
   multilingual word space) and :class:`CompareThemesStage` (the study's themes stage
   without the intervals and tests that need several videos per group);
3. :class:`~themescope.themes.compare.stage.CompareStage` writes ``compare.json``;
4. :class:`~themescope.report.compare_page.CompareReportStage` the page.

Example:
    >>> result = compare_runs(["runs/us", "runs/cn"], "runs/us-vs-cn")  # doctest: +SKIP
    >>> [t.label for t in result.document.themes if t.shared]  # doctest: +SKIP
    ['booster shots']
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from themescope.compare_document import JointCompareDocument, read_compare
from themescope.corpus.ingest import VIDEOS_DIR, frame_table, write_frame_table
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.corpus.themes import StudyThemesStage
from themescope.errors import ConfigError, RunDirectoryError, ThemescopeError
from themescope.manifest import IngestRecord, Manifest
from themescope.model.config import TrainConfig
from themescope.rundir import (
    COMPARE_NAME,
    COMPARED_RUNS,
    MANIFEST_NAME,
    STUDY_VIDEOS_NAME,
    Pipeline,
    RunDirectory,
    Stage,
    StageWriter,
)
from themescope.study_documents import (
    STUDY_SCHEMA_VERSION,
    StudyVideoRecord,
    StudyVideosDocument,
    write_study,
)
from themescope.themes.compare.align import align_runs
from themescope.themes.compare.config import CompareConfig
from themescope.themes.config import ThemesConfig

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("frame_id", "time_s", "image", "text", "lang")
"""What a run's frames.parquet needs to be compared (older themescopes wrote less)."""


@dataclass(frozen=True)
class ComparisonResult:
    """What a comparison wrote.

    Attributes:
        path: The compare.json file.
        document: Its content.
        stages: For each stage, "ran" or "skipped".
    """

    path: Path
    document: JointCompareDocument
    stages: dict[str, str]

    @classmethod
    def read(cls, out: RunDirectory, stages: dict[str, str]) -> ComparisonResult:
        """Read the comparison in ``out`` (its compare stage finished)."""
        out.require("compare")
        document = read_compare(out / COMPARE_NAME)
        assert isinstance(document, JointCompareDocument)  # the compare stage writes one
        return cls(path=out / COMPARE_NAME, document=document, stages=stages)


def comparison_stages(
    runs: Sequence[str | Path],
    config: CompareConfig | None = None,
    *,
    themes: ThemesConfig | None = None,
    train: TrainConfig | None = None,
    device: str = "auto",
) -> list[Stage]:
    """The stages of a joint comparison of ``runs``, in order (the page last).

    Args:
        runs: Two or more run directories with a finished ingest.
        config: The comparison's settings.
        themes: Clustering and description settings; the study's when None.
        train: CRVAE settings; the study's when None.
        device: Where to train.
    """
    from themescope.model.train import TrainStage
    from themescope.report.compare_page import CompareReportStage
    from themescope.themes.compare.stage import CompareStage

    train = (
        train
        if train is not None
        else TrainConfig.preset("fast").replace(**STUDY_DEFAULTS["train"])
    )
    themes = themes if themes is not None else ThemesConfig(**STUDY_DEFAULTS["themes"])
    config = config or CompareConfig()
    themes_stage = CompareThemesStage(themes, config)
    return [
        CompareIngestStage(runs),
        TrainStage(train, device=device),
        themes_stage,
        CompareStage(themes_stage.describer, config),
        CompareReportStage(),
    ]


def compare_runs(
    runs: Sequence[str | Path],
    out_dir: str | Path,
    config: CompareConfig | None = None,
    *,
    force: bool = False,
    **options: Any,
) -> ComparisonResult:
    """Compare ``runs`` jointly into ``out_dir`` (compare.json and compare.html), unless current.

    Args:
        runs: Two or more run directories with a finished ingest.
        out_dir: The comparison's folder; created if needed.
        config: The comparison's settings.
        force: Redo every stage.
        options: ``themes``, ``train`` and ``device``, as :func:`comparison_stages` takes.

    Raises:
        ThemescopeError: Bad input (one clear line, before any work), or a stage failed.

    Example:
        >>> result = compare_runs(["runs/us", "runs/cn"], "runs/us-vs-cn")  # doctest: +SKIP
        >>> [t.label for t in result.document.themes if t.shared]  # doctest: +SKIP
        ['booster shots']
    """
    out = RunDirectory(out_dir, kind="comparison")
    stages = comparison_stages(runs, config, **options)
    return ComparisonResult.read(out, Pipeline(stages).run(out, force=force))


@dataclass(frozen=True)
class _Side:
    """One input run, as checked: its name, folder, ingest record and frame images."""

    name: str
    run: RunDirectory
    ingest: IngestRecord
    images: list[str]


class CompareIngestStage(Stage):
    """Gather the frames of every compared run into the comparison's folder, as a study's.

    Args:
        runs: Two or more run directories with a finished ingest.
    """

    name = "ingest"
    record = IngestRecord
    files = ("frames.parquet", STUDY_VIDEOS_NAME)
    command = "compare"
    kinds = ("comparison",)

    def __init__(self, runs: Sequence[str | Path]) -> None:
        self.runs = [RunDirectory(path) for path in runs]
        self.sides: list[_Side] = []

    def check(self) -> None:
        """Refuse a run that is missing, damaged, too old or without text, or given twice."""
        if len(self.runs) < 2:
            raise ConfigError(f"a comparison needs at least two runs; got {len(self.runs)}")
        seen: dict[Path, str] = {}
        for run in self.runs:
            where = run.path.resolve()
            if where in seen:
                raise ConfigError(f"run {run.path} is given twice: a run compared with itself")
            seen[where] = str(run.path)
        names = [run.path.resolve().name for run in self.runs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ConfigError(
                f"two runs are named {twice[0]!r}: a comparison names each run by its "
                "folder; rename one of the folders"
            )
        self.sides = [_check_side(run) for run in self.runs]
        by_print: dict[str, str] = {}
        for side in self.sides:
            other = by_print.setdefault(side.ingest.fingerprint, side.name)
            if other != side.name:
                raise ConfigError(
                    f"runs {other} and {side.name} ingested the same video with the same "
                    "settings: a run compared with itself"
                )

    def settings(self) -> dict[str, Any]:
        """The runs compared."""
        return {"runs": [str(run.path.resolve()) for run in self.runs]}

    def fingerprint_parts(self) -> Any:
        """Each run's name and ingest fingerprint."""
        return [{"name": side.name, "ingest": side.ingest.fingerprint} for side in self.sides]

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Link each run's frames into ``videos/<name>/``; write videos.json and frames.parquet."""
        if not run.exists():
            run.write_manifest(Manifest())
        records = []
        for row, side in enumerate(self.sides, start=1):
            _gather(side, run / VIDEOS_DIR / side.name)
            duration = None if side.ingest.video is None else side.ingest.video.duration_s
            records.append(
                StudyVideoRecord(
                    id=side.name,
                    group=side.name,
                    video=str(side.run.path.resolve()),
                    lang=side.ingest.lang,
                    metadata={"ingest_fingerprint": side.ingest.fingerprint},
                    row=row,
                    status="done",
                    n_frames=len(side.images),
                    duration_s=duration,
                )
            )
        write_study(
            writer.path(STUDY_VIDEOS_NAME),
            StudyVideosDocument(
                schema_version=STUDY_SCHEMA_VERSION, source="themescope compare", videos=records
            ),
        )
        frames = frame_table(run, records)
        write_frame_table(frames, writer.path("frames.parquet"))
        n_frames = frames.num_rows
        langs = sorted({side.ingest.lang for side in self.sides})
        writer.record = IngestRecord(
            n_frames=n_frames,
            lang=langs[0] if len(langs) == 1 else "mul",
            every_s=min(side.ingest.every_s for side in self.sides),
            text_source=COMPARED_RUNS,
        )


def _check_side(run: RunDirectory) -> _Side:
    import pyarrow.parquet as pq

    name = run.path.resolve().name
    rerun = f"rerun `themescope ingest VIDEO --out {run.path} --force` with this themescope"
    try:
        record = run.require("ingest")
    except ThemescopeError as exc:
        raise RunDirectoryError(f"run {name} cannot be compared: {exc}") from exc
    assert isinstance(record, IngestRecord)  # the ingest stage's record type
    frames = run / "frames.parquet"
    try:
        table = pq.read_table(frames)
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(
            f"run {name} is damaged: {frames} is unreadable ({exc}); {rerun}"
        ) from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    reasons = [f"its frames.parquet lacks {', '.join(missing)}"] if missing else []
    if not record.fingerprint:
        reasons.append("its ingest has no fingerprint")
    if reasons:
        raise RunDirectoryError(
            f"run {name} was made by an older themescope ({'; '.join(reasons)}): {rerun}"
        )
    images = [str(p) for p in table.column("image").to_pylist()]
    lost = [p for p in images if not (run / p).is_file()]
    if lost:
        raise RunDirectoryError(
            f"run {name} is damaged: {len(lost)} of its {len(images)} frame images are "
            f"missing (first: {run / lost[0]}); {rerun}"
        )
    words = [c for c in ("text", "ocr_text") if c in table.column_names]
    if not any(str(x or "").strip() for c in words for x in table.column(c).to_pylist()):
        raise RunDirectoryError(
            f"run {name} has no text (no subtitles, transcript or on-screen text): a "
            "comparison finds what the runs say; ingest its video with subtitles or --asr"
        )
    return _Side(name=name, run=run, ingest=record, images=images)


def _gather(side: _Side, folder: Path) -> None:
    """Put the run's manifest and every file of its ingest into ``folder`` (linked if it can)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy2(side.run / MANIFEST_NAME, folder / MANIFEST_NAME)
    for relative in side.ingest.files:
        source = side.run / relative
        found = sorted(source.rglob("*")) if source.is_dir() else [source]
        for path in (p for p in found if p.is_file()):
            target = folder / path.relative_to(side.run.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # another file system: copy
                shutil.copy2(path, target)


class CompareThemesStage(StudyThemesStage):
    """The study's themes stage for a comparison: groups are runs of one video each.

    What is clustered is each frame's CRVAE latent beside what its words mean (the phrase
    embedder's multilingual space), with every run aligned to the first on the frames that
    say the same thing (:func:`~themescope.themes.compare.align.align_runs`): otherwise
    each run's own look and language make themes of their own.

    Args:
        config: Clustering and description settings.
        compare: The weight of meaning and the neighbours the runs are aligned on.
        options: As :class:`~themescope.corpus.themes.StudyThemesStage` takes.
    """

    command = "compare"
    kinds = ("comparison",)
    one_video_per_group = True

    def __init__(self, config: ThemesConfig, compare: CompareConfig, **options: Any) -> None:
        super().__init__(config, **options)
        self.compare = compare

    def _joint_space(self) -> dict[str, Any]:
        return {
            "meaning_weight": self.compare.meaning_weight,
            "align_neighbours": self.compare.align_neighbours,
        }

    def settings(self) -> dict[str, Any]:
        """The study themes stage's settings and the joint space's."""
        return {**super().settings(), **self._joint_space()}

    def fingerprint_parts(self) -> Any:
        """The study themes stage's parts and the joint space's settings."""
        return {"study": super().fingerprint_parts(), **self._joint_space()}

    def cluster_features(
        self, latents: np.ndarray, table: pa.Table, blank: np.ndarray
    ) -> np.ndarray:
        """The latents beside the words' meaning (each of unit RMS), runs aligned."""
        runs = np.asarray([str(v) for v in table.column("video").to_pylist()])
        content = ~blank
        texts = [str(t or "").strip() for t in table.column("text").to_pylist()]
        said = np.array([bool(t) for t in texts]) & content
        embedder = self.describer.embedder
        assert embedder is not None  # resolved by check()
        if not said.any():  # no words to pair or weigh (said lies within content)
            return latents
        vectors = embedder.embed([t for t, s in zip(texts, said, strict=True) if s])
        meaning = np.zeros((len(texts), vectors.shape[1]), dtype=np.float64)
        meaning[said] = vectors
        (latents, meaning), n_pairs = align_runs(
            [latents, meaning], meaning, runs, said, self.compare.align_neighbours
        )
        meaning[~said] = meaning[said].mean(axis=0)  # a frame without words says nothing
        logger.info("runs aligned on %d pairs of frames that say the same thing", n_pairs)
        return np.hstack(
            [
                _unit_rms(latents, content),
                self.compare.meaning_weight * _unit_rms(meaning, said),
            ]
        )


def _unit_rms(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values`` less the mean of ``rows``, scaled to a root mean square length of 1 there."""
    out = values - values[rows].mean(axis=0)
    rms = float(np.sqrt((out[rows] ** 2).sum(axis=1).mean()))
    return out / rms if rms > 0 else out
