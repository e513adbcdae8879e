"""The whole pipeline in one call, for notebooks and for ``themescope summarize``.

:class:`~themescope.rundir.Pipeline` runs any list of stages in one directory: a single
video's run (:class:`Summarizer`), a study (:class:`themescope.corpus.Study`) and a
comparison (``themescope compare``) are each a list of stages run by it.

:class:`Summarizer` is built from the stage components, each with a default, in
the style of BERTopic: swap the captioner, tagger or phrase embedder by passing
your own. :meth:`Summarizer.run` runs ingest → train → themes → report in one
run directory and resumes from what is already there: a stage whose inputs and
settings are unchanged is skipped (and says so); a changed setting reruns that
stage and every stage after it; an interrupted training resumes from its last
checkpoint.

Example:
    >>> from themescope import Summarizer
    >>> result = Summarizer().run("news.mp4", "news.srt", out="runs/news")  # doctest: +SKIP
    >>> [(t.label, round(t.share, 2)) for t in result.themes]  # doctest: +SKIP
    [('vaccine trial', 0.31), ('hospital ward', 0.27), ('stock market', 0.42)]
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themescope.documents import read_themes
from themescope.errors import ConfigError
from themescope.rundir import Pipeline, RunDirectory, Stage

if TYPE_CHECKING:
    from themescope.media.ingest import IngestConfig, IngestStage
    from themescope.model.config import TrainConfig
    from themescope.model.train import TrainStage
    from themescope.report.render import ReportStage
    from themescope.themes.base import Captioner, PhraseEmbedder, Tagger
    from themescope.themes.stage import ThemesConfig, ThemesStage

logger = logging.getLogger("themescope")

RUN_KEYS = ("device",)
"""Top-level keys of a config file that are not a stage's section."""


def config_sections(stages: Iterable[Stage | type[Stage]]) -> tuple[str, ...]:
    """Return the config-file sections that ``stages`` read, in order, without repeats."""
    return tuple(dict.fromkeys(s.config_section for s in stages if s.config_section))


def check_sections(values: Mapping[str, Any], sections: Sequence[str]) -> None:
    """Refuse a config whose top-level keys are not ``sections`` or :data:`RUN_KEYS`.

    Raises:
        ConfigError: Naming the unknown sections and the expected ones.
    """
    unknown = sorted(set(values) - set(sections) - set(RUN_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown config section(s): {', '.join(unknown)}; "
            f"expected {', '.join((*sections, *RUN_KEYS))}"
        )


@dataclass
class ThemeSummary:
    """One theme as the terminal summary and notebooks show it.

    Attributes:
        id: Theme id (0..k-1).
        label: Its top phrase.
        share: Share of the video's time, in [0, 1].
        seconds: Seconds of video in this theme.
        phrases: Its phrases, best first.
        frames: Its frame ids.
    """

    id: int
    label: str
    share: float
    seconds: float
    phrases: list[str]
    frames: list[int]


@dataclass
class Result:
    """What a summarize run produced.

    Attributes:
        run: The run directory.
        k: Number of themes.
        k_reason: Why that k was chosen.
        themes: The themes, in id order.
        report_path: ``RUN/report.html``.
        stages: For each stage, "ran" or "skipped".
        warnings: Every degradation recorded by the stages.
    """

    run: RunDirectory
    k: int
    k_reason: str
    themes: list[ThemeSummary]
    report_path: Path
    stages: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def themes_path(self) -> Path:
        """``RUN/themes.json``."""
        return self.run / "themes.json"

    @classmethod
    def from_run(
        cls, run: RunDirectory | str | Path, stages: Mapping[str, str] | None = None
    ) -> Result:
        """Read the result of a finished run directory."""
        run = run if isinstance(run, RunDirectory) else RunDirectory(run)
        run.require("themes")
        document = read_themes(run / "themes.json")
        warnings = run.read_manifest().warnings()
        themes = [
            ThemeSummary(
                id=theme.id,
                label=theme.label,
                share=theme.share,
                seconds=theme.seconds,
                phrases=[phrase.text for phrase in theme.phrases],
                frames=theme.frames,
            )
            for theme in document.themes
        ]
        return cls(
            run=run,
            k=document.k,
            k_reason=document.k_selection.reason,
            themes=themes,
            report_path=run / "report.html",
            stages=dict(stages or {}),
            warnings=warnings,
        )


class Summarizer:
    """Video + words → explained themes and an HTML report, with every stage swappable.

    Args:
        ingest: Ingest settings (sampling, text, alignment); defaults to ``IngestConfig()``.
        train: CRVAE settings; defaults to the ``fast`` preset.
        themes: Clustering and interpretation settings; defaults to ``ThemesConfig()``.
        captioner: A captioner instance to use instead of the one ``themes`` names.
        tagger: A tagger instance to use instead of the one ``themes`` names.
        embedder: A phrase embedder instance instead of the one ``themes`` names.
        device: Where to train: "auto" (CUDA, then MPS, then CPU), "cpu", "cuda" or "mps".

    Example:
        >>> from themescope import Summarizer
        >>> from themescope.model.config import TrainConfig
        >>> summarizer = Summarizer(train=TrainConfig.preset("paper"))  # doctest: +SKIP
        >>> result = summarizer.run("us.mp4", "us.srt", out="runs/us")  # doctest: +SKIP
        >>> result.report_path  # doctest: +SKIP
        PosixPath('runs/us/report.html')
    """

    def __init__(
        self,
        ingest: IngestConfig | None = None,
        train: TrainConfig | None = None,
        themes: ThemesConfig | None = None,
        *,
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        device: str = "auto",
    ) -> None:
        check_parts(
            "Summarizer",
            ingest=ingest,
            train=train,
            themes=themes,
            captioner=captioner,
            tagger=tagger,
            embedder=embedder,
        )
        self.ingest = ingest
        self.train = train
        self.themes = themes
        self.captioner = captioner
        self.tagger = tagger
        self.embedder = embedder
        self.device = device

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Summarizer:
        """Build a summarizer from a nested dict (a parsed config file, see :func:`load_config`)."""
        check_sections(values, config_sections(cls.stage_classes()))
        return cls(**parts_from_config(values, values.get("train", {}), values.get("themes", {})))

    @staticmethod
    def stage_classes() -> tuple[
        type[IngestStage], type[TrainStage], type[ThemesStage], type[ReportStage]
    ]:
        """The classes of the stages :meth:`run` runs, in order."""
        from themescope.media.ingest import IngestStage
        from themescope.model.train import TrainStage
        from themescope.report.render import ReportStage
        from themescope.themes.stage import ThemesStage

        return IngestStage, TrainStage, ThemesStage, ReportStage

    def stages(
        self, video: str | Path, subtitles: str | Path | None, *, resume: bool = True
    ) -> list[Stage]:
        """Return the stages :meth:`run` runs, in order, built from this summarizer's parts."""
        IngestStage, TrainStage, ThemesStage, ReportStage = self.stage_classes()

        return [
            IngestStage(video, subtitles, self.ingest),
            TrainStage(self.train, device=self.device, resume=resume),
            ThemesStage(
                self.themes, captioner=self.captioner, tagger=self.tagger, embedder=self.embedder
            ),
            ReportStage(),
        ]

    def run(
        self,
        video: str | Path,
        subtitles: str | Path | None = None,
        *,
        out: str | Path,
        force: bool = False,
    ) -> Result:
        """Run every stage that is not already current and return the themes.

        Every stage's settings and components are checked before the first stage
        runs, so a bad model folder or device is refused in seconds, not after training.

        Args:
            video: The video file.
            subtitles: Subtitles or transcript; None uses an embedded stream or ASR.
            out: The run directory.
            force: Redo every stage, and accept an ``out`` holding other files.

        Raises:
            ThemescopeError: Bad input at any stage (one clear message), or the run is locked.
        """
        run = RunDirectory(out)
        # --force redoes training from the start: a checkpoint is a cache of the old plan.
        from themescope.themes.codebook import with_codebook

        stages = with_codebook(self.stages(video, subtitles, resume=not force), run.path)
        statuses = Pipeline(stages).run(run, force=force)
        return Result.from_run(run, statuses)


def parts_from_config(
    values: Mapping[str, Any], train: Mapping[str, Any], themes: Mapping[str, Any]
) -> dict[str, Any]:
    """The ingest, train and themes settings and the device of a parsed config file.

    ``train`` and ``themes``: those sections as the caller completes them (a study's
    defaults); a Summarizer and a Study read the rest alike.
    """
    from themescope.media.config import IngestConfig
    from themescope.model.config import TrainConfig
    from themescope.themes.config import ThemesConfig

    return {
        "ingest": IngestConfig.from_dict(dict(values.get("ingest", {}))),
        "train": TrainConfig.from_dict(dict(train)),
        "themes": ThemesConfig.from_dict(dict(themes)),
        "device": str(values.get("device", "auto")),
    }


# What each part of a Summarizer or a Study must be, and how to make one from what users
# pass by mistake (a preset's name, a dict of settings, a model's name).
_PARTS = {
    "ingest": ("themescope.media.config", "IngestConfig", "IngestConfig.from_dict({...})"),
    "train": ("themescope.model.config", "TrainConfig", 'TrainConfig.preset("paper")'),
    "themes": ("themescope.themes.config", "ThemesConfig", "ThemesConfig.from_dict({...})"),
    "captioner": ("themescope.themes.base", "Captioner", 'load_captioner("blip", FOLDER)'),
    "tagger": ("themescope.themes.base", "Tagger", "ExtractiveTagger(embedder)"),
    "embedder": ("themescope.themes.base", "PhraseEmbedder", "load_embedder(NAME_OR_FOLDER)"),
}


def check_parts(owner: str, **parts: Any) -> None:
    """Refuse a part of the wrong kind now, not with an AttributeError deep in a stage.

    Args:
        owner: Who is given the parts ("Summarizer"), for the message.
        parts: Each part by name (``ingest``, ``train``, ``themes``, ``captioner``,
            ``tagger``, ``embedder``); None means the default.

    Raises:
        ConfigError: A part is neither None nor of its kind, saying how to make one.

    Example:
        >>> check_parts("Summarizer", train="fast")
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: Summarizer's train must be a TrainConfig or None. \
Got 'fast' instead; make one with TrainConfig.preset("paper")
    """
    import importlib

    for name, value in parts.items():
        module, kind, example = _PARTS[name]
        expected = getattr(importlib.import_module(module), kind)
        if value is not None and not isinstance(value, expected):
            shown = repr(value) if isinstance(value, str) else _a(type(value).__name__)
            raise ConfigError(
                f"{owner}'s {name} must be {_a(kind)} or None. Got {shown} instead; "
                f"make one with {example}"
            )


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML or YAML config file with ``[ingest]``, ``[train]`` and ``[themes]`` sections.

    Keys are the field names of :class:`~themescope.media.ingest.IngestConfig`,
    :class:`~themescope.model.config.TrainConfig` (plus ``preset``) and
    :class:`~themescope.themes.stage.ThemesConfig`; a top-level ``device`` is allowed.

    Raises:
        ConfigError: The file is missing, unparsable, or not a mapping of sections.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    try:
        if path.suffix.lower() == ".toml":
            values: Any = tomllib.loads(text)
        elif path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            values = yaml.safe_load(text) or {}
        else:
            raise ConfigError(f"config file {path} must end in .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ConfigError(f"config file {path} is not valid: {exc}") from exc
    except Exception as exc:  # yaml.YAMLError has no common base with ValueError
        if type(exc).__module__.startswith("yaml"):
            raise ConfigError(
                f"config file {path} is not valid YAML: {_yaml_problem(exc)}"
            ) from exc
        raise
    sections = config_sections(Summarizer.stage_classes())
    if not isinstance(values, dict) or any(
        not isinstance(values[s], dict) for s in sections if s in values
    ):
        raise ConfigError(
            f"config file {path} must hold sections {', '.join(sections)} of key = value"
        )
    return values


def merge_config(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with each section updated by ``overrides`` (CLI flags win over the file)."""
    merged: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value for key, value in base.items()
    }
    for key, value in overrides.items():
        if isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
    return merged


def _yaml_problem(exc: Exception) -> str:
    """One line for a YAML error: its problem and where (PyYAML's own text spans lines)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{problem}{where}"
