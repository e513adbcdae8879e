"""Compare runs jointly: one model and one clustering over the frames of every run.

A comparison is a study with one video per side (:mod:`themescope.corpus`), run by
one :class:`~themescope.rundir.Pipeline` in a folder of kind ``comparison``:

1. :class:`CompareIngestStage` gathers the frames each input run ingested into the
   folder as a study's ingest does (``videos/<run>/``, ``videos.json``, one
   ``frames.parquet`` whose ``video`` and ``group`` are the run's name);
2. the study's :class:`~themescope.model.train.TrainStage` (one CRVAE, text in the
   multilingual word space) and :class:`CompareThemesStage` (the study's themes
   stage without the intervals and tests that need several videos per group);
3. :class:`CompareStage` writes ``compare.json``: per joint theme each run's share of
   its airtime, what each run says in it (its own phrases, glossed), the pairs of
   phrases two runs say alike across languages (:func:`phrase_similarity` from
   :data:`SAME_MEANING_SIMILARITY`) and what only one run says;
4. the page (:class:`~themescope.report.compare_page.CompareReportStage`).

Each run's frames are linked (or copied) into the folder, so the comparison reads
nothing from the runs after its ingest and its folder can move; its fingerprint holds
each run's ingest fingerprint, so it reruns when a run was ingested anew.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from themescope._version import __version__
from themescope.corpus.ingest import VIDEOS_DIR, _write_frame_table
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.corpus.themes import StudyThemesStage
from themescope.documents import (
    COMPARE_SCHEMA_VERSION,
    STUDY_SCHEMA_VERSION,
    JointCompareDocument,
    JointPhrase,
    JointRun,
    JointTheme,
    PhraseMatching,
    SaidByBoth,
    StudyVideoRecord,
    StudyVideosDocument,
    read_compare,
    read_study_themes,
    read_study_videos,
    write_compare,
    write_study,
)
from themescope.errors import ConfigError, RunDirectoryError, ThemescopeError
from themescope.manifest import CompareRecord, IngestRecord, Manifest
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
from themescope.themes.base import ThemeMaterial
from themescope.themes.compare.config import CompareConfig
from themescope.themes.compare.phrases import (
    PHRASE_MATCHING,
    SAME_MEANING_SIMILARITY,
    EmbeddedPhrases,
    embed_phrases,
    phrase_similarity,
)
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import describe_themes, lower_third_texts, on_screen_lines

logger = logging.getLogger("themescope")

REQUIRED_COLUMNS = ("frame_id", "time_s", "image", "text", "lang")
"""What a run's frames.parquet needs to be compared (older themescopes wrote less)."""
N_SIDE_PHRASES = 8
N_PAIRS = 6


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
    train: Any = None,
    device: str = "auto",
) -> list[Stage]:
    """The stages of a joint comparison of ``runs``, in order (the page last).

    Args:
        runs: Two or more run directories with a finished ingest.
        config: The comparison's settings.
        themes: Clustering and description settings; the study's when None.
        train: A :class:`~themescope.model.config.TrainConfig`; the study's when None.
        device: Where to train.
    """
    from themescope.model.config import TrainConfig
    from themescope.model.train import TrainStage
    from themescope.report.compare_page import CompareReportStage

    train = (
        train
        if train is not None
        else TrainConfig.preset("fast").replace(**STUDY_DEFAULTS["train"])
    )
    themes = themes if themes is not None else ThemesConfig(**STUDY_DEFAULTS["themes"])
    themes_stage = CompareThemesStage(themes)
    return [
        CompareIngestStage(runs),
        TrainStage(train, device=device),
        themes_stage,
        CompareStage(themes_stage, config or CompareConfig()),
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
        n_frames = _write_frame_table(run, records, writer.path("frames.parquet"))
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
    """The study's themes stage for a comparison: groups are runs of one video each."""

    command = "compare"
    kinds = ("comparison",)
    one_video_per_group = True


class CompareStage(Stage):
    """Write compare.json from the joint themes: shares, each run's phrases, what both say.

    Args:
        themes: The comparison's themes stage, whose tagger, embedder and glosser describe
            each run's part of a theme.
        config: The comparison's settings.
    """

    name = "compare"
    needs = ("themes",)
    record = CompareRecord
    files = (COMPARE_NAME,)
    config_section = "compare"
    command = "compare"
    kinds = ("comparison",)

    def __init__(self, themes: CompareThemesStage, config: CompareConfig | None = None) -> None:
        self.describer = themes.describer
        self.config = config or CompareConfig()

    def settings(self) -> dict[str, Any]:
        """The comparison's settings."""
        return self.config.to_dict()

    def fingerprint_parts(self) -> Any:
        """The settings and the components that describe each run's part of a theme."""
        return {
            "config": self.config.fingerprinted(),
            "describe": self.describer.fingerprint_parts(),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Describe each run's part of every theme, match phrases, write compare.json."""
        document = _compare(run, self, writer)
        write_compare(writer.path(COMPARE_NAME), document)
        n_shared = sum(theme.shared for theme in document.themes)
        writer.record = CompareRecord(
            n_runs=len(document.runs), k=len(document.themes), n_shared=n_shared
        )
        logger.info(
            "%d runs in %d joint themes: %d shared → %s",
            len(document.runs),
            len(document.themes),
            n_shared,
            run / COMPARE_NAME,
        )


def _compare(run: RunDirectory, stage: CompareStage, writer: StageWriter) -> JointCompareDocument:
    import pyarrow.parquet as pq

    describer = stage.describer
    assert describer.tagger is not None and describer.embedder is not None  # by check()
    study = read_study_themes(run / "themes.json")
    videos = read_study_videos(run / STUDY_VIDEOS_NAME).videos
    names = [video.id for video in videos]
    table = pq.read_table(run / "frames.parquet").sort_by("frame_id")
    video = [str(v) for v in table.column("video").to_pylist()]
    theme = np.asarray(table.column("theme").to_numpy(zero_copy_only=False), dtype=np.int64)
    seconds = np.asarray(table.column("seconds").to_numpy(zero_copy_only=False), float)
    texts = [t or "" for t in table.column("text").to_pylist()]
    ocr = [t or "" for t in table.column("ocr_text").to_pylist()]
    straps = lower_third_texts(run, table)
    k = len(study.themes)

    # What each run says in each theme, described as a study describes a theme, among
    # that run's themes alone: its phrases rank against its other themes, not the other run.
    said: dict[str, list[list[str]]] = {}
    for name, video_record in zip(names, videos, strict=True):
        rows = [
            np.flatnonzero((theme == t) & np.array([v == name for v in video])) for t in range(k)
        ]
        present = [t for t in range(k) if len(rows[t])]
        materials = [
            ThemeMaterial(
                theme_id=t,
                frame_ids=[int(i) for i in rows[t]],
                texts=[texts[i] for i in rows[t]],
                captions=[""] * len(rows[t]),
                lang=video_record.lang or "und",
                on_screen=on_screen_lines([ocr[i] for i in rows[t]]),
                screen_texts=[ocr[i] for i in rows[t]],
                strap_texts=None if straps is None else [straps[i] for i in rows[t]],
            )
            for t in present
        ]
        described = (
            describe_themes(
                materials, describer.tagger, describer.embedder, N_SIDE_PHRASES, writer
            )[0]
            if materials
            else []
        )
        said[name] = [[] for _ in range(k)]
        for t, result in zip(present, described, strict=True):
            said[name][t] = [p.text.strip() for p in result.phrases if p.text.strip()]

    glosser = describer.glosser

    def gloss(text: str) -> str | None:
        return None if glosser is None else glosser.gloss(text)

    spaces = {
        name: embed_phrases(
            [(p, np.ones(len(p)), [gloss(x) for x in p]) if p else None for p in said[name]],
            describer.embedder,
        )
        for name in names
    }
    themes = []
    for record in study.themes:
        t = record.id
        shares = {name: round(record.group_shares[name].share, 4) for name in names}
        themes.append(
            JointTheme(
                id=t,
                label=record.label,
                label_gloss=record.label_gloss,
                shares=shares,
                shared=all(share >= stage.config.min_share for share in shares.values()),
                n_frames=record.n_frames,
                representative_images=[
                    str(table.column("image")[f].as_py()) for f in record.representative_frames
                ],
                phrases={
                    name: [JointPhrase(text=x, gloss=gloss(x)) for x in said[name][t]]
                    for name in names
                },
                said_by_both=_said_by_both(t, names, spaces),
                only={name: _only(t, name, names, spaces) for name in names},
            )
        )
    total = {name: float(seconds[[v == name for v in video]].sum()) for name in names}
    return JointCompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=[
            JointRun(
                name=v.id,
                path=v.video,
                lang=v.lang or "und",
                ingest_fingerprint=v.metadata.get("ingest_fingerprint", ""),
                n_frames=v.n_frames,
                seconds=round(total[v.id], 3),
            )
            for v in videos
        ],
        min_share=stage.config.min_share,
        themes=themes,
        phrase_matching=PhraseMatching(
            method=PHRASE_MATCHING,
            same_meaning_from=SAME_MEANING_SIMILARITY,
            glosses=glosser is not None,
        ),
        gloss_language=None if glosser is None else glosser.target,
        warnings=list(study.warnings),
    )


def _said_by_both(
    theme: int, names: list[str], spaces: dict[str, list[EmbeddedPhrases | None]]
) -> list[SaidByBoth]:
    """Pairs of phrases two runs say in ``theme`` that mean the same, closest first."""
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            mine, other = spaces[a][theme], spaces[b][theme]
            if mine is None or other is None:
                continue
            similarity = phrase_similarity(mine, other)
            used_a: set[int] = set()
            used_b: set[int] = set()
            # Each phrase in one pair at most, the closest pairs first.
            for flat in np.argsort(-similarity, axis=None):
                x, y = np.unravel_index(flat, similarity.shape)
                value = float(similarity[x, y])
                if value < SAME_MEANING_SIMILARITY:
                    break
                if x in used_a or y in used_b:
                    continue
                used_a.add(int(x))
                used_b.add(int(y))
                pairs.append(
                    SaidByBoth(
                        phrases={
                            a: JointPhrase(text=mine.texts[x], gloss=mine.glosses[x]),
                            b: JointPhrase(text=other.texts[y], gloss=other.glosses[y]),
                        },
                        similarity=round(value, 4),
                    )
                )
    pairs.sort(key=lambda pair: -pair.similarity)
    return pairs[:N_PAIRS]


def _only(
    theme: int, name: str, names: list[str], spaces: dict[str, list[EmbeddedPhrases | None]]
) -> list[JointPhrase]:
    """The run's phrases of ``theme`` that no other run says anything like, in any theme."""
    mine = spaces[name][theme]
    if mine is None:
        return []
    closest = np.full(len(mine.texts), -np.inf)
    for other in names:
        if other == name:
            continue
        for phrases in spaces[other]:
            if phrases is not None:
                closest = np.maximum(closest, phrase_similarity(mine, phrases).max(axis=1))
    return [
        JointPhrase(text=text, gloss=mine.glosses[i])
        for i, text in enumerate(mine.texts)
        if closest[i] < SAME_MEANING_SIMILARITY
    ]
