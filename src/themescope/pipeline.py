"""The whole pipeline in one call, for notebooks and for ``themescope summarize``.

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

import json
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themescope.errors import ConfigError
from themescope.rundir import RunDirectory

if TYPE_CHECKING:
    from themescope.media.ingest import IngestConfig
    from themescope.model.config import TrainConfig
    from themescope.themes.base import Captioner, PhraseEmbedder, Tagger
    from themescope.themes.stage import ThemesConfig

logger = logging.getLogger("themescope")

CONFIG_SECTIONS = ("ingest", "train", "themes")
RUN_KEYS = ("device",)
"""Top-level keys of a config file that are not a stage's section."""


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
        data = json.loads((run / "themes.json").read_text(encoding="utf-8"))
        manifest = run.read_manifest()
        warnings = [
            w for record in manifest.get("stages", {}).values() for w in record.get("warnings", [])
        ]
        themes = [
            ThemeSummary(
                id=int(theme["id"]),
                label=str(theme.get("label") or ""),
                share=float(theme["share"]),
                seconds=float(theme["seconds"]),
                phrases=[phrase["text"] for phrase in theme["phrases"]],
                frames=[int(i) for i in theme["frames"]],
            )
            for theme in data["themes"]
        ]
        return cls(
            run=run,
            k=int(data["k"]),
            k_reason=str(data["k_selection"]["reason"]),
            themes=themes,
            report_path=run / "report.html",
            stages=dict(stages or {}),
            warnings=list(dict.fromkeys(warnings)),
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
        from themescope.media.ingest import IngestConfig
        from themescope.model.config import TrainConfig
        from themescope.themes.stage import ThemesConfig

        unknown = sorted(set(values) - set(CONFIG_SECTIONS) - set(RUN_KEYS))
        if unknown:
            raise ConfigError(
                f"unknown config section(s): {', '.join(unknown)}; "
                f"expected {', '.join(CONFIG_SECTIONS + RUN_KEYS)}"
            )
        return cls(
            ingest=IngestConfig.from_dict(dict(values.get("ingest", {}))),
            train=TrainConfig.from_dict(dict(values.get("train", {}))),
            themes=ThemesConfig.from_dict(dict(values.get("themes", {}))),
            device=str(values.get("device", "auto")),
        )

    def resolved_config(self) -> dict[str, Any]:
        """Return the full settings of every stage, as stored in the manifest."""
        from themescope.media.ingest import IngestConfig
        from themescope.model.config import TrainConfig
        from themescope.themes.stage import ThemesConfig

        return {
            "ingest": (self.ingest or IngestConfig()).to_dict(),
            "train": (self.train or TrainConfig.preset("fast")).to_dict(),
            "themes": (self.themes or ThemesConfig()).to_dict(),
            "device": self.device,
        }

    def run(
        self,
        video: str | Path,
        subtitles: str | Path | None = None,
        *,
        out: str | Path,
        force: bool = False,
    ) -> Result:
        """Run every stage that is not already current and return the themes.

        Args:
            video: The video file.
            subtitles: Subtitles or transcript; None uses an embedded stream or ASR.
            out: The run directory.
            force: Redo every stage, and accept an ``out`` holding other files.

        Raises:
            ThemescopeError: Bad input at any stage (one clear message), or the run is locked.
        """
        from themescope.media.ingest import ingest
        from themescope.report.render import render_report
        from themescope.themes.stage import build_themes

        run = RunDirectory(out)
        run.check_usable(force=force)
        stages: dict[str, str] = {}
        with run.lock():
            ingested = ingest(video, run.path, subtitles=subtitles, config=self.ingest, force=force)
            stages["ingest"] = _status(ingested.skipped)
            trained = self._train(run, force)
            stages["train"] = _status(trained.skipped)
            themed = build_themes(
                run,
                self.themes,
                captioner=self.captioner,
                tagger=self.tagger,
                embedder=self.embedder,
                force=force,
            )
            stages["themes"] = _status(themed.skipped)
            before = run.stage_record("report")
            render_report(run, force=force)
            after = run.stage_record("report")
            stages["report"] = _status(before is not None and before == after)
        return Result.from_run(run, stages)

    def _train(self, run: RunDirectory, force: bool) -> Any:
        from themescope.errors import CheckpointError
        from themescope.model.train import train

        # An interrupted training left a checkpoint; resuming it gives the same result as an
        # uninterrupted run with the same seed. A checkpoint that no longer fits (settings
        # changed since, or damaged) is only a cache here: train from the start instead.
        try:
            return train(run, self.train, resume=True, force=force, device=self.device)
        except CheckpointError as exc:
            logger.warning("not resuming: %s; training from the start", exc)
            return train(run, self.train, resume=False, force=force, device=self.device)


def _status(skipped: bool) -> str:
    return "skipped" if skipped else "ran"


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
    text = path.read_text(encoding="utf-8")
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
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        raise
    if not isinstance(values, dict) or any(
        not isinstance(values[s], dict) for s in CONFIG_SECTIONS if s in values
    ):
        raise ConfigError(
            f"config file {path} must hold sections {', '.join(CONFIG_SECTIONS)} of key = value"
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
