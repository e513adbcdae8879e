"""``themescope corpus``: many videos in groups → one theme space and the study report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from themescope._cli._app import app, print_summary
from themescope._cli._options import (
    CONFIG_FILE_HELP,
    NO_STABILITY_HELP,
    SET_HELP,
    given,
    merged_config,
    option,
    section_flags,
    stability_flags,
)
from themescope.corpus.config import StudyConfig
from themescope.corpus.study import STUDY_DEFAULTS
from themescope.errors import ConfigError
from themescope.media.config import IngestConfig
from themescope.model.config import TrainConfig
from themescope.themes.config import ThemesConfig


@app.command("corpus")
def corpus_command(
    ctx: typer.Context,
    corpus: Path = typer.Argument(
        ...,
        help="Corpus manifest (CSV, TOML or YAML: video, subtitles, group, lang, any metadata) "
        "or a folder of group folders holding videos with same-stem subtitle files.",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Study directory to write (resumed if it exists)."
    ),
    into: Path | None = typer.Option(
        None,
        "--into",
        help="A fitted study to add CORPUS's videos to: encoded with its model and assigned "
        "to its themes (frames far from every theme flagged novel), with its settings; the "
        "groups are measured again over every video.",
    ),
    refit: bool = typer.Option(
        False, "--refit", help="With --into: fit the study again with every video instead."
    ),
    config_file: Path | None = typer.Option(None, "--config", "-c", help=CONFIG_FILE_HELP),
    executor: str | None = option(StudyConfig, "executor"),
    workers: int | None = option(StudyConfig, "workers"),
    ray_address: str | None = option(StudyConfig, "ray_address"),
    every_s: float | None = option(IngestConfig, "every_s", defaults=STUDY_DEFAULTS),
    ocr: str | None = option(IngestConfig, "ocr", defaults=STUDY_DEFAULTS),
    epochs: int | None = option(TrainConfig, "epochs", defaults=STUDY_DEFAULTS),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of training, clustering and the statistics."
    ),
    device: str | None = typer.Option(
        None, "--device", help="auto, cpu, cuda or mps (default: auto)."
    ),
    word_vectors: str | None = option(TrainConfig, "word_vectors", defaults=STUDY_DEFAULTS),
    k: int | None = option(ThemesConfig, "k", defaults=STUDY_DEFAULTS),
    k_range: str | None = option(ThemesConfig, "k_range", defaults=STUDY_DEFAULTS),
    embedder: str | None = option(ThemesConfig, "embedder", defaults=STUDY_DEFAULTS),
    gloss_language: str | None = option(ThemesConfig, "gloss_language", defaults=STUDY_DEFAULTS),
    translator: str | None = option(ThemesConfig, "translator", defaults=STUDY_DEFAULTS),
    stability: int | None = option(ThemesConfig, "stability"),
    no_stability: bool = typer.Option(False, "--no-stability", help=NO_STABILITY_HELP),
    stability_refit_model: bool | None = option(ThemesConfig, "stability_refit_model"),
    covariates: str | None = option(StudyConfig, "covariates"),
    settings: list[str] | None = typer.Option(None, "--set", help=SET_HELP),
    force: bool = typer.Option(
        False,
        "--force",
        help="Redo every stage and every video; accept an --out holding other files.",
    ),
) -> None:
    """Study CORPUS: one theme space for all its videos, each group's share of every theme."""
    from themescope.corpus.study import Study

    flags: dict[str, Any] = {
        "ingest": section_flags(IngestConfig, ctx.params),
        "train": section_flags(TrainConfig, ctx.params),
        "themes": section_flags(ThemesConfig, ctx.params)
        | stability_flags(stability, no_stability),
        "study": section_flags(StudyConfig, ctx.params),
        **given(device=device),
    }
    if (out is None) == (into is None):
        raise ConfigError(
            "--into adds videos to a fitted study and --out fits one: give one of them"
            if out is not None
            else "give --out STUDY to fit a study, or --into STUDY to add videos to a fitted one"
        )
    if refit and into is None:
        raise ConfigError("--refit goes with --into (fitting with --out always fits)")
    study = Study.from_config(merged_config(config_file, settings, flags))
    if into is not None:
        result = study.add(corpus, into=into, refit=refit)
    else:
        assert out is not None  # one of them, checked above
        result = study.run(corpus, out=out, force=force)
    print_summary(result, _theme_lines(result))


def _theme_lines(result: Any) -> Iterator[str]:
    for theme in result.themes:
        shares = "  ".join(
            f"{group} {share.share:5.1%}" for group, share in theme.group_shares.items()
        )
        differs = ""
        if theme.group_p_value is not None and theme.group_p_value < 0.05:
            differs = f"  groups differ (p = {theme.group_p_value:.3f})"
        yield f"  theme {theme.id}  {theme.label}  |  {shares}{differs}"
    if result.p_value is not None:
        yield f"groups' theme distributions differ: p = {result.p_value:.3f}"
    for sentence in result.effects:
        yield f"effect: {sentence}"
    for video, share in result.novel_shares.items():
        yield f"added: {video}: {share:.0%} of its airtime far from every theme (novel)"
    for video, error in result.failed:
        yield f"failed: {video}: {error}"
