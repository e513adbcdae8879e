"""A study: many videos in groups → one theme space, each group's share of every theme.

:class:`Study` runs four stages in a study directory with the same lifecycle as a
single run (:func:`~themescope.rundir.run_stage`: locked, fingerprinted, skipped when
current, all-or-nothing)::

    STUDY/manifest.json     the stages' settings and records
    STUDY/videos/<id>/      one run directory per video (ingest), reused across reruns
    STUDY/videos.json       every video of the corpus and how its ingest went
    STUDY/frames.parquet    one row per frame of every video (video, group, time_s,
                            seconds, text, ocr_text; theme after the themes stage)
    STUDY/latents.npy       the corpus CRVAE's μ per frame; STUDY/model/ its weights
    STUDY/themes.json       themes with each group's share and phrases, the group test
    STUDY/report.html       the study report

1. ingest (:class:`~themescope.corpus.ingest.StudyIngestStage`): every video as an
   independent task on an executor (a local process pool, or Ray);
2. train: one CRVAE on a seeded sample of the frames of all videos, text in the
   multilingual word space, then every frame encoded from disk
   (:class:`~themescope.model.train.TrainStage`, ``max_train_frames``);
3. themes (:class:`~themescope.corpus.themes.StudyThemesStage`);
4. report (:class:`~themescope.report.study_page.StudyReportStage`).

Example:
    >>> from themescope.corpus import Study
    >>> result = Study().run("corpus.csv", out="study")  # doctest: +SKIP
    >>> result.themes[0].label, result.themes[0].group_shares["US"].share  # doctest: +SKIP
    ('vaccine trial', 0.31)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themescope.errors import ConfigError, RunDirectoryError
from themescope.media.config import IngestConfig
from themescope.model.config import MULTILINGUAL
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage
from themescope.study_documents import read_study_themes, read_study_videos
from themescope.themes.config import ThemesConfig

if TYPE_CHECKING:
    from collections.abc import Sequence

    from themescope.corpus.assign import StudyAssignStage
    from themescope.corpus.config import StudyConfig
    from themescope.corpus.ingest import StudyIngestStage
    from themescope.corpus.spec import CorpusSpec, CorpusVideo
    from themescope.corpus.themes import StudyThemesStage
    from themescope.model.config import TrainConfig
    from themescope.model.train import TrainStage
    from themescope.report.study_page import StudyReportStage
    from themescope.study_documents import ShareRecord, StudyVideoRecord
    from themescope.themes.base import Captioner, PhraseEmbedder, Tagger

logger = logging.getLogger("themescope")

STUDY_K_RANGE = (4, 12)
"""A study's default k range: a corpus holds more themes than one video."""
STUDY_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "train": {"word_vectors": MULTILINGUAL},
    "themes": {"k_range": STUDY_K_RANGE},
}
"""Where a study's defaults differ from a single run's, by config section: k in a wider
range, and one word space for the text of every language. Read by :class:`Study` and by
``themescope corpus --help``, so the help shows what a study uses."""


@dataclass
class StudyTheme:
    """One theme of a study as the terminal summary and notebooks show it.

    Attributes:
        id: Theme id (0..k-1, largest first).
        label: Its title: the researcher's from the codebook, else the automatic one.
        share: Share of the study's airtime.
        group_shares: Each group's share with its interval.
        group_p_value: Whether the groups' shares of it differ (corrected p-value).
        phrases: Its phrases, best first.
    """

    id: int
    label: str
    share: float
    group_shares: dict[str, ShareRecord]
    group_p_value: float | None
    phrases: list[str]


@dataclass
class StudyResult:
    """What a study run produced.

    Attributes:
        study: The study directory.
        k: Number of themes.
        themes: The themes, in id order.
        p_value: The test of whether the groups' theme distributions differ (None: one group).
        failed: ``(video id, error)`` of every video that could not be ingested.
        report_path: ``STUDY/report.html``.
        stages: For each stage, "ran" or "skipped".
        warnings: Every degradation recorded by the stages.
        effects: Each significant covariate effect in a sentence, largest first.
        novel_shares: Each video added to the fitted study (``--into``) and the share of
            its airtime far from every theme.
    """

    study: RunDirectory
    k: int
    themes: list[StudyTheme]
    p_value: float | None
    failed: list[tuple[str, str]]
    report_path: Path
    stages: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    effects: list[str] = field(default_factory=list)
    novel_shares: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_study(
        cls, study: RunDirectory | str | Path, stages: Mapping[str, str] | None = None
    ) -> StudyResult:
        """Read the result of a finished study directory."""
        study = study if isinstance(study, RunDirectory) else RunDirectory(study, study=True)
        study.require("themes")
        document = read_study_themes(study / "themes.json")
        videos = read_study_videos(study / STUDY_VIDEOS_NAME)
        return cls(
            study=study,
            k=document.k,
            themes=[
                StudyTheme(
                    id=theme.id,
                    label=theme.researcher_label or theme.label,
                    share=theme.share,
                    group_shares=dict(theme.group_shares),
                    group_p_value=theme.group_p_value,
                    phrases=[p.text for p in theme.phrases],
                )
                for theme in document.themes
            ],
            p_value=None if document.group_test is None else document.group_test.p_value,
            failed=[(v.id, v.error or "") for v in videos.videos if v.status == "failed"],
            report_path=study / "report.html",
            stages=dict(stages or {}),
            warnings=study.read_manifest().warnings(),
            effects=[]
            if document.effects is None
            else [
                e.sentence
                for e in sorted(document.effects.effects, key=lambda e: -abs(e.estimate))
                if e.sentence is not None
            ],
            novel_shares={
                v.id: v.novel_share for v in document.videos if v.novel_share is not None
            },
        )


class Study:
    """A corpus of videos in groups → one theme space and the groups side by side.

    Args:
        ingest: Ingest settings shared by every video; a manifest row's ``lang`` overrides.
        train: CRVAE settings; the ``fast`` preset with the multilingual word vectors
            (one text space for every language of the study) when None.
        themes: Clustering and description settings; k chosen in 4–12 when None.
        study: How the study runs its videos and statistics (executor, workers, Ray
            address, resamples, covariates); the defaults when None.
        device: Where to train: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        captioner, tagger, embedder: Component instances instead of those ``themes`` names.
        executor, workers, ray_address, n_bootstrap, n_permutations: Shortcuts that
            replace those fields of ``study`` when given.

    Example:
        >>> from themescope.corpus.config import StudyConfig
        >>> Study(study=StudyConfig(covariates="date"), workers=2).study.workers
        2
    """

    def __init__(
        self,
        ingest: IngestConfig | None = None,
        train: TrainConfig | None = None,
        themes: ThemesConfig | None = None,
        *,
        study: StudyConfig | None = None,
        device: str = "auto",
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        executor: str | None = None,
        workers: int | None = None,
        ray_address: str | None = None,
        n_bootstrap: int | None = None,
        n_permutations: int | None = None,
    ) -> None:
        from themescope.corpus.config import StudyConfig
        from themescope.corpus.executors import load_executor
        from themescope.media.config import IngestConfig
        from themescope.model.config import TrainConfig
        from themescope.pipeline import check_parts
        from themescope.themes.config import ThemesConfig

        check_parts(
            "Study",
            ingest=ingest,
            train=train,
            themes=themes,
            captioner=captioner,
            tagger=tagger,
            embedder=embedder,
        )
        shortcuts = {
            "executor": executor,
            "workers": workers,
            "ray_address": ray_address,
            "n_bootstrap": n_bootstrap,
            "n_permutations": n_permutations,
        }
        self.study = (study if study is not None else StudyConfig()).replace(
            **{name: value for name, value in shortcuts.items() if value is not None}
        )
        # The rules between settings (an address needs Ray); nothing starts yet.
        load_executor(
            self.study.executor, workers=self.study.workers, address=self.study.ray_address
        )
        self.ingest = ingest if ingest is not None else IngestConfig()
        self.train = (
            train
            if train is not None
            else TrainConfig.preset("fast").replace(**STUDY_DEFAULTS["train"])
        )
        self.themes = themes if themes is not None else ThemesConfig(**STUDY_DEFAULTS["themes"])
        self.device = device
        self.captioner = captioner
        self.tagger = tagger
        self.embedder = embedder

    @classmethod
    def from_config(cls, values: Mapping[str, Any], **options: Any) -> Study:
        """Build a study from a nested dict (a parsed config file) and keyword options.

        Sections as for ``summarize`` and ``study``
        (:class:`~themescope.corpus.config.StudyConfig`); :data:`STUDY_DEFAULTS` hold
        where the sections do not set them.
        """
        from themescope.corpus.config import StudyConfig
        from themescope.pipeline import check_sections, config_sections, parts_from_config

        check_sections(values, (*config_sections(cls.stage_classes()), StudyConfig.section))
        train = {**STUDY_DEFAULTS["train"], **dict(values.get("train", {}))}
        themes = dict(values.get("themes", {}))
        # A fixed k excludes a k range, the study's default one too.
        if "k" not in themes:
            themes = {**STUDY_DEFAULTS["themes"], **themes}
        return cls(
            **parts_from_config(values, train, themes),
            study=StudyConfig.from_dict(dict(values.get(StudyConfig.section, {}))),
            **options,
        )

    @staticmethod
    def stage_classes() -> tuple[
        type[StudyIngestStage], type[TrainStage], type[StudyThemesStage], type[StudyReportStage]
    ]:
        """The classes of the stages :meth:`run` runs, in order."""
        from themescope.corpus.ingest import StudyIngestStage
        from themescope.corpus.themes import StudyThemesStage
        from themescope.model.train import TrainStage
        from themescope.report.study_page import StudyReportStage

        return StudyIngestStage, TrainStage, StudyThemesStage, StudyReportStage

    def stages(
        self,
        spec: CorpusSpec,
        *,
        force: bool = False,
        added: Sequence[StudyVideoRecord] = (),
    ) -> list[Stage]:
        """Return the stages :meth:`run` runs, in order.

        ``added``: videos added to the fitted study (:meth:`add`): assigned after the fit.
        """
        from themescope.corpus.executors import load_executor

        StudyIngestStage, TrainStage, StudyThemesStage, StudyReportStage = self.stage_classes()
        executor = load_executor(
            self.study.executor, workers=self.study.workers, address=self.study.ray_address
        )
        assign: list[Stage] = []
        if added:
            assign.append(
                self._assign_stage(
                    [_corpus_video(record) for record in added],
                    {record.id: record.added or "" for record in added},
                    self.ingest,
                    self.themes,
                )
            )
        return [
            StudyIngestStage(spec, self.ingest, executor, force=force),
            TrainStage(self.train, device=self.device, resume=not force),
            StudyThemesStage(
                self.themes,
                captioner=self.captioner,
                tagger=self.tagger,
                embedder=self.embedder,
                n_bootstrap=self.study.n_bootstrap,
                n_permutations=self.study.n_permutations,
                covariates=self.study.covariate_names,
            ),
            *assign,
            StudyReportStage(),
        ]

    def _assign_stage(
        self,
        videos: Sequence[CorpusVideo],
        added: Mapping[str, str],
        ingest: IngestConfig,
        themes: ThemesConfig,
        statistics: Mapping[str, Any] | None = None,
    ) -> StudyAssignStage:
        from themescope.corpus.assign import StudyAssignStage
        from themescope.corpus.executors import load_executor

        found = dict(statistics or {})
        return StudyAssignStage(
            videos,
            added,
            ingest=ingest,
            themes=themes,
            executor=load_executor(
                self.study.executor, workers=self.study.workers, address=self.study.ray_address
            ),
            n_bootstrap=int(found.get("n_bootstrap", self.study.n_bootstrap)),
            n_permutations=int(found.get("n_permutations", self.study.n_permutations)),
            level=float(found.get("level", 0.95)),
            covariates=tuple(found.get("covariates", self.study.covariate_names)),
            device=self.device,
        )

    def run(self, corpus: str | Path, *, out: str | Path, force: bool = False) -> StudyResult:
        """Run every stage that is not current and return the study's themes.

        The corpus and every stage's settings are checked before any video is read.
        A video that fails is recorded (``videos.json``, the warnings) and the others
        go on; a rerun retries it and skips the videos already done.

        Args:
            corpus: A corpus manifest (CSV, TOML, YAML) or a folder of group folders.
            out: The study directory.
            force: Redo every stage and every video.

        Raises:
            ThemescopeError: Bad input (one clear message), or the study is in use.
        """
        from themescope.corpus.codebook import StudyCodebookStage
        from themescope.corpus.covariates import read_covariates
        from themescope.corpus.spec import read_corpus
        from themescope.rundir import Pipeline
        from themescope.themes.codebook import with_codebook

        spec = read_corpus(corpus)
        read_covariates(
            self.study.covariate_names,
            [(video.row, video.metadata) for video in spec.videos],
            f"corpus manifest {spec.source}",
        )
        for message in spec.warnings:
            logger.warning(message)
        study = RunDirectory(out, study=True)
        # The study's corpus is the union: videos added with --into are assigned again
        # after the fit, never dropped and never clustered (a row of the corpus that names
        # one takes it into the fit).
        ids = {video.id for video in spec.videos}
        added = [v for v in _added_videos(study) if v.id not in ids]
        stages = with_codebook(
            self.stages(spec, force=force, added=added), study.path, StudyCodebookStage
        )
        statuses = Pipeline(stages).run(study, force=force)
        return StudyResult.from_study(study, statuses)

    def add(self, corpus: str | Path, *, into: str | Path, refit: bool = False) -> StudyResult:
        """Add the videos of ``corpus`` to the fitted study ``into`` and measure again.

        Each new video is ingested with the study's ingest settings, encoded with its
        trained model and its frames assigned to the nearest theme, frames far from every
        theme flagged novel (:mod:`themescope.corpus.assign`); the groups are then
        measured over every video. The study's fitted videos keep their themes frame for
        frame. With ``refit``, the study is fitted again with every video instead (its
        settings: this study's).

        Args:
            corpus: A corpus manifest or folder of the new videos.
            into: A study directory made by ``themescope corpus``.
            refit: Retrain and recluster with the old and the new videos.

        Raises:
            ThemescopeError: ``into`` is not a study of this themescope with its model,
                or a new video's id is already in it (one line, before any work).
        """
        from datetime import datetime

        from themescope.corpus.covariates import read_covariates
        from themescope.corpus.spec import CorpusSpec, read_corpus
        from themescope.rundir import Pipeline

        spec = read_corpus(corpus)
        study = RunDirectory(into, study=True)
        existing = _check_into(study, refit=refit)
        taken = {video.id: video for video in existing}
        clashes = [video for video in spec.videos if video.id in taken]
        if clashes:
            shown = ", ".join(f"row {v.row}: {v.id}" for v in clashes[:3])
            more = f" and {len(clashes) - 3} more" if len(clashes) > 3 else ""
            raise ConfigError(
                f"{spec.source}: {shown}{more} already in {study.path} (videos/<id>/); "
                "give the new files other names or another group"
            )
        for message in spec.warnings:
            logger.warning(message)
        if refit:
            union = CorpusSpec(
                source=spec.source,
                videos=(*(_corpus_video(v) for v in existing), *spec.videos),
                warnings=(),
            )
            read_covariates(
                self.study.covariate_names,
                [(video.row, video.metadata) for video in union.videos],
                f"the videos of {study.path} and {spec.source}",
            )
            statuses = Pipeline(self.stages(union)).run(study)
            return StudyResult.from_study(study, statuses)
        manifest = study.read_manifest()
        themes_settings = dict(manifest.config.get("themes", {}))
        found = themes_settings.pop("statistics", None)
        statistics: dict[str, Any] = found if isinstance(found, dict) else {}
        # The effects are estimated over every video, so a covariate is judged on all of
        # them: two new videos may well hold two values of a category.
        read_covariates(
            tuple(statistics.get("covariates", ())),
            [
                *((video.row, video.metadata) for video in existing),
                *((video.row, video.metadata) for video in spec.videos),
            ],
            f"the videos of {study.path} and {spec.source}",
        )
        ingest = {k: v for k, v in manifest.config.get("ingest", {}).items() if k != "executor"}
        when = datetime.now(UTC).isoformat(timespec="seconds")
        earlier = [v for v in existing if v.added is not None]
        stage = self._assign_stage(
            [*(_corpus_video(v) for v in earlier), *spec.videos],
            {**{v.id: v.added or "" for v in earlier}, **{v.id: when for v in spec.videos}},
            IngestConfig.from_dict(ingest),
            ThemesConfig.from_dict(themes_settings),
            statistics,
        )
        StudyReportStage = self.stage_classes()[3]
        statuses = Pipeline([stage, StudyReportStage()]).run(study)
        return StudyResult.from_study(study, statuses)


def _added_videos(study: RunDirectory) -> list[StudyVideoRecord]:
    from themescope.corpus.ingest import added_videos

    return added_videos(study) if study.is_study() else []


def _corpus_video(record: StudyVideoRecord) -> CorpusVideo:
    """A study's video as the corpus row it came from."""
    from themescope.corpus.spec import CorpusVideo

    return CorpusVideo(
        id=record.id,
        video=Path(record.video),
        subtitles=None if record.subtitles is None else Path(record.subtitles),
        group=record.group,
        lang=record.lang,
        metadata=dict(record.metadata),
        row=record.row,
    )


def _check_into(study: RunDirectory, *, refit: bool) -> list[StudyVideoRecord]:
    """Refuse an ``--into`` that is not a fitted study of this themescope with its model.

    Returns the study's videos.
    """
    import json

    from themescope._version import __version__
    from themescope.model.config import TrainConfig

    path = study.path
    if not study.is_study():
        if study.exists() and study.found_kind() == "run":
            raise RunDirectoryError(
                f"{path} is a single video's run directory, not a study; --into takes a "
                "folder made by `themescope corpus`"
            )
        raise RunDirectoryError(
            f"{path} is not a study (no {STUDY_VIDEOS_NAME}); fit one first with "
            f"`themescope corpus CORPUS --out {path}`"
        )
    manifest = study.read_manifest()
    if manifest.version != __version__ and not refit:
        raise RunDirectoryError(
            f"{path} was made by themescope {manifest.version}, this is {__version__}: its "
            "model and themes are not this version's; add the videos with --refit (a new "
            f"fit of every video) or with themescope {manifest.version}"
        )
    videos = read_study_videos(study / STUDY_VIDEOS_NAME).videos
    if refit:
        return videos
    study.require("themes")
    model_dir = study / "model"
    train = {k: v for k, v in manifest.config.get("train", {}).items() if k != "device"}
    try:
        saved = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["config"]
        same = TrainConfig.from_dict(saved).fingerprinted() == (
            TrainConfig.from_dict(train).fingerprinted()
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunDirectoryError(
            f"{model_dir} does not hold the study's trained model ({exc}); refit with --refit"
        ) from exc
    if not same:
        raise RunDirectoryError(
            f"{model_dir} holds another model than the one {path} was fitted with (its "
            "config.json differs from the manifest's train settings); refit with --refit"
        )
    return videos


__all__ = ["STUDY_DEFAULTS", "STUDY_K_RANGE", "Study", "StudyResult", "StudyTheme"]
