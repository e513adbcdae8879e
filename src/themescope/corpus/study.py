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
from themescope.errors import ConfigError
from themescope.manifest import Manifest
from themescope.model.config import MULTILINGUAL
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage, run_stage

if TYPE_CHECKING:
    from themescope.corpus.config import StudyConfig
    from themescope.corpus.spec import CorpusSpec
    from themescope.documents import ShareRecord
    from themescope.media.config import IngestConfig
    from themescope.model.config import TrainConfig
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
        label: Its title.
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
                    label=theme.label,
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
        executor: ``local`` (a process pool) or ``ray``.
        workers: Worker processes of the local pool, or CPUs of a local Ray (None: all cores).
        ray_address: An existing Ray cluster (``auto``, ``host:port``, ``ray://host:port``).
        device: Where to train: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        captioner, tagger, embedder: Component instances instead of those ``themes`` names.
        n_bootstrap: Resamples of videos for each share's interval.
        n_permutations: Permutations of the videos' groups for the difference test.
        study: The study's own settings (covariates); none when None.
    """

    def __init__(
        self,
        ingest: IngestConfig | None = None,
        train: TrainConfig | None = None,
        themes: ThemesConfig | None = None,
        *,
        executor: str = "local",
        workers: int | None = None,
        ray_address: str | None = None,
        device: str = "auto",
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        n_bootstrap: int = 1000,
        n_permutations: int = 1000,
        study: StudyConfig | None = None,
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
        # Refuses a bad executor, worker count or address now; nothing starts yet.
        load_executor(executor, workers=workers, address=ray_address)
        for name, value in (("n_bootstrap", n_bootstrap), ("n_permutations", n_permutations)):
            if value < 100:
                raise ConfigError(f"{name} must be an integer >= 100. Got {value} instead.")
        self.ingest = ingest if ingest is not None else IngestConfig()
        self.train = (
            train
            if train is not None
            else TrainConfig.preset("fast").replace(**STUDY_DEFAULTS["train"])
        )
        self.themes = themes if themes is not None else ThemesConfig(**STUDY_DEFAULTS["themes"])
        self.executor = executor
        self.workers = workers
        self.ray_address = ray_address
        self.device = device
        self.captioner = captioner
        self.tagger = tagger
        self.embedder = embedder
        self.n_bootstrap = n_bootstrap
        self.n_permutations = n_permutations
        self.study = study if study is not None else StudyConfig()

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
        from themescope.pipeline import CONFIG_SECTIONS, RUN_KEYS
        from themescope.themes.config import ThemesConfig

        sections = (*CONFIG_SECTIONS, StudyConfig.section)
        unknown = sorted(set(values) - set(sections) - set(RUN_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown config section(s): {', '.join(unknown)}; "
                f"expected {', '.join(sections + RUN_KEYS)}"
            )
        train = {**STUDY_DEFAULTS["train"], **dict(values.get("train", {}))}
        themes = dict(values.get("themes", {}))
        # A fixed k excludes a k range, the study's default one too.
        if "k" not in themes:
            themes = {**STUDY_DEFAULTS["themes"], **themes}
        return cls(
            ingest=IngestConfig.from_dict(dict(values.get("ingest", {}))),
            train=TrainConfig.from_dict(train),
            themes=ThemesConfig.from_dict(themes),
            device=str(values.get("device", "auto")),
            study=StudyConfig.from_dict(dict(values.get(StudyConfig.section, {}))),
            **options,
        )

    def stages(self, spec: CorpusSpec, *, force: bool = False) -> list[Stage]:
        """Return the stages :meth:`run` runs, in order."""
        from themescope.corpus.executors import load_executor
        from themescope.corpus.ingest import StudyIngestStage
        from themescope.corpus.themes import StudyThemesStage
        from themescope.model.train import TrainStage
        from themescope.report.study_page import StudyReportStage

        executor = load_executor(self.executor, workers=self.workers, address=self.ray_address)
        return [
            StudyIngestStage(spec, self.ingest, executor, force=force),
            TrainStage(self.train, device=self.device, resume=not force),
            StudyThemesStage(
                self.themes,
                captioner=self.captioner,
                tagger=self.tagger,
                embedder=self.embedder,
                n_bootstrap=self.n_bootstrap,
                n_permutations=self.n_permutations,
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
        from themescope.corpus.spec import read_corpus, read_covariates
        from themescope.errors import DocumentError

        spec = read_corpus(corpus)
        read_covariates(
            self.study.covariate_names,
            [(video.row, video.metadata) for video in spec.videos],
            f"corpus manifest {spec.source}",
        )
        for message in spec.warnings:
            logger.warning(message)
        study = RunDirectory(out, study=True)
        study.check_usable(force=force)
        stages = self.stages(spec, force=force)
        for stage in stages:
            stage.check()
        statuses: dict[str, str] = {}
        try:
            with study.lock():
                if not study.exists():
                    # The manifest comes first: a study killed during its first ingest is
                    # still recognised as one (and resumed) by the next run.
                    study.write_manifest(Manifest())
                retry = False
                if study.record("ingest") is not None:
                    try:
                        previous = read_study_videos(study / STUDY_VIDEOS_NAME)
                        retry = any(v.status == "failed" for v in previous.videos)
                    except DocumentError:
                        # Damaged, or from another themescope: the ingest stage rewrites it.
                        retry = True
                for stage in stages:
                    # Failed videos are retried (the done ones are skipped by their own runs).
                    redo = force or (retry and stage.name == "ingest")
                    statuses[stage.name] = run_stage(study, stage, force=redo).status
        finally:
            for stage in stages:
                executor = getattr(stage, "executor", None)
                if executor is not None:
                    executor.close()
        return StudyResult.from_study(study, statuses)


__all__ = ["STUDY_DEFAULTS", "STUDY_K_RANGE", "Study", "StudyResult", "StudyTheme"]
