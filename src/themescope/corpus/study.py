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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themescope.documents import read_study_themes, read_study_videos
from themescope.model.config import MULTILINGUAL
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage

if TYPE_CHECKING:
    from themescope.corpus.config import StudyConfig
    from themescope.corpus.ingest import StudyIngestStage
    from themescope.corpus.spec import CorpusSpec
    from themescope.corpus.themes import StudyThemesStage
    from themescope.documents import ShareRecord
    from themescope.media.config import IngestConfig
    from themescope.model.config import TrainConfig
    from themescope.model.train import TrainStage
    from themescope.report.study_page import StudyReportStage
    from themescope.themes.base import Captioner, PhraseEmbedder, Tagger
    from themescope.themes.config import ThemesConfig

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
        from themescope.media.config import IngestConfig
        from themescope.model.config import TrainConfig
        from themescope.pipeline import check_sections, config_sections
        from themescope.themes.config import ThemesConfig

        check_sections(values, (*config_sections(cls.stage_classes()), StudyConfig.section))
        train = {**STUDY_DEFAULTS["train"], **dict(values.get("train", {}))}
        themes = dict(values.get("themes", {}))
        # A fixed k excludes a k range, the study's default one too.
        if "k" not in themes:
            themes = {**STUDY_DEFAULTS["themes"], **themes}
        return cls(
            ingest=IngestConfig.from_dict(dict(values.get("ingest", {}))),
            train=TrainConfig.from_dict(train),
            themes=ThemesConfig.from_dict(themes),
            study=StudyConfig.from_dict(dict(values.get(StudyConfig.section, {}))),
            device=str(values.get("device", "auto")),
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

    def stages(self, spec: CorpusSpec, *, force: bool = False) -> list[Stage]:
        """Return the stages :meth:`run` runs, in order."""
        from themescope.corpus.executors import load_executor

        StudyIngestStage, TrainStage, StudyThemesStage, StudyReportStage = self.stage_classes()
        executor = load_executor(
            self.study.executor, workers=self.study.workers, address=self.study.ray_address
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
            StudyReportStage(),
        ]

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
        stages = with_codebook(self.stages(spec, force=force), study.path, StudyCodebookStage)
        statuses = Pipeline(stages).run(study, force=force)
        return StudyResult.from_study(study, statuses)


__all__ = ["STUDY_DEFAULTS", "STUDY_K_RANGE", "Study", "StudyResult", "StudyTheme"]
