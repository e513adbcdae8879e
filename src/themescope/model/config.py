"""The training configuration of the CRVAE: every size and setting, two presets, one validator.

:class:`TrainConfig` is the single source of defaults; the CLI options and the
keys of a config file have the same names as its fields.

``paper`` is the reference of design.md. ``fast`` (the default) keeps its structure
(conv image encoder, recurrent text encoder, dense fusion, teacher-forced text
decoder) but is sized for a 2-core CPU, and each change was measured on the
benchmark's 4-minute video:

* strided 4×4 convolutions (16, 32, 32 channels) instead of conv + max-pool, and a
  mirrored transposed-conv decoder without the extra 3×3 convolutions: about a tenth
  of the paper's convolution work;
* a learned per-pixel output bias started at the run's mean frame: the decoder only
  models what differs from it (+1 to 2 dB at equal epochs);
* one GRU layer of 128 units and a latent of 64; the image and text features are still
  fused by a dense layer over their concatenation (the CRVAE's idea), but by a single
  linear map to μ and log σ² (``dense_units=0``) instead of the paper's 4000-wide hidden
  layer, whose 130 M parameters' Adam updates alone cost seconds per epoch (a 256-wide
  hidden layer trained to 19.4 dB where the single map reaches 22.5 dB, in less time);
* batch 8 with a learning rate warmed up to 3e-3, held, and decayed along a cosine over
  the last 30 % of the steps (more updates per epoch beat larger batches; decaying over
  the whole run ended 1.5-3 dB lower at equal epochs); λ = 1;
* a small KL weight (1e-5) warmed up over 20 epochs (runs with β = 0, 1e-6, or the
  full β from epoch 5 reconstructed no better);
* at most 1100 optimiser steps (``max_steps``): a 13-minute video has 49 steps per
  epoch and gets 23 epochs instead of 30;
* at least 450 optimiser steps (``min_steps``): a 2-minute video has 8 steps per epoch
  and gets 57 epochs instead of 30 (30 epochs left it at 18 dB);
* early stopping when neither the smoothed image loss nor the text loss still improves.

Measured with ``benchmarks/bench_train.py`` on a quiet 2-core machine; see the README's
Benchmarks section for the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from themescope._config import Settings, refuse_unknown_keys, seed_setting, setting
from themescope.devices import DEVICES
from themescope.errors import ConfigError

PRESETS = ("fast", "paper")
ABLATIONS = ("full", "image-only", "text-only", "pure-cvae")
MULTILINGUAL = "multilingual"
"""The ``word_vectors`` value that selects the multilingual phrase embedder's word space."""
AUTO_VECTORS = "auto"
"""The ``word_vectors`` value that picks the word space from the run's language at train time."""

__all__ = ["ABLATIONS", "DEVICES", "PRESETS", "TrainConfig"]


@dataclass(frozen=True)
class TrainConfig(Settings):
    """Sizes and training settings of the CRVAE (each declared with its range and help).

    Use :meth:`preset` for the two named configurations, then replace fields::

        cfg = TrainConfig.preset("fast").replace(epochs=50, seed=1)

    ``epochs`` is exact wherever it is set (from Python, a config file or ``--epochs``);
    left at None, the preset's ``auto_epochs`` are bounded by ``min_steps`` and
    ``max_steps`` to suit the video's length.
    """

    section: ClassVar[str] = "train"

    preset_name: str = setting(
        "fast",
        kind="str",
        choices=PRESETS,
        category="runtime",
        flag="--preset",
        help="Name of the preset the values started from (recorded only; a config file "
        "gives it as preset).",
    )
    ablation: str = setting(
        "full",
        kind="str",
        choices=ABLATIONS,
        category="architecture",
        flag="--ablation",
        help="full (image + text), image-only (the Dense CVAE), text-only, or pure-cvae "
        "(global max pooling, no dense layers).",
    )
    image_height: int = setting(
        120,
        kind="int",
        low=1,
        high=1080,
        category="architecture",
        help="Height the frames are resized to.",
    )
    image_width: int = setting(
        200,
        kind="int",
        low=1,
        high=1920,
        category="architecture",
        help="Width the frames are resized to.",
    )
    encoder_style: str = setting(
        "strided",
        kind="str",
        choices=("pool", "strided"),
        category="architecture",
        help="pool (3x3 conv, ReLU, 2x2 max-pool per block, the paper's) or strided (4x4 "
        "conv with stride 2).",
    )
    conv_channels: tuple[int, ...] = setting(
        (16, 32, 32),
        kind="ints",
        high=1024,
        category="architecture",
        help="Output channels of each encoder block; the decoder mirrors them.",
    )
    feature_norm: bool = setting(
        False,
        kind="bool",
        category="architecture",
        help="Batch-normalise the flattened image and text features (the paper does).",
    )
    conv_norm: bool = setting(
        False,
        kind="bool",
        category="architecture",
        help="Batch-normalise after every hidden convolution.",
    )
    mean_image: bool = setting(
        True,
        kind="bool",
        category="architecture",
        help="Add a learned per-pixel bias started at the run's mean frame, so the decoder "
        "models only what differs from it.",
    )
    rnn_cell: str = setting(
        "gru",
        kind="str",
        choices=("lstm", "gru"),
        category="architecture",
        help="Recurrent cell of the text encoder and decoder.",
    )
    rnn_layers: int = setting(
        1, kind="int", low=1, high=8, category="architecture", help="Stacked recurrent layers."
    )
    rnn_hidden: int = setting(
        128,
        kind="int",
        low=1,
        high=4096,
        category="architecture",
        help="Hidden units per layer/direction.",
    )
    encoder_bidirectional: bool = setting(
        False,
        kind="bool",
        category="architecture",
        help="Whether the text encoder reads both directions.",
    )
    decoder_bidirectional: bool = setting(
        False,
        kind="bool",
        category="architecture",
        help="Whether the text decoder is bidirectional (the paper's is).",
    )
    dense_units: int = setting(
        0,
        kind="int",
        low=0,
        high=16384,
        category="architecture",
        help="Width of the fusion layer (0: one linear map to the latent).",
    )
    latent_dim: int = setting(
        64,
        kind="int",
        low=1,
        high=4096,
        category="architecture",
        flag="--latent-dim",
        help="Size of the latent vector that is clustered.",
    )
    text_weight: float = setting(
        1.0, kind="float", low=0, flag="--text-weight", help="λ, the weight of the text loss."
    )
    kl_weight: float = setting(
        1e-5,
        kind="float",
        low=0,
        flag="--kl-weight",
        help="β, the final weight of the KL term (0: none, as in the paper's code).",
    )
    kl_warmup_epochs: int = setting(
        20, kind="int", low=0, help="Epochs over which β rises linearly from 0."
    )
    teacher_forcing: bool = setting(
        True,
        kind="bool",
        category="architecture",
        help="Feed the true previous word to the text decoder.",
    )
    max_tokens: int = setting(
        32, kind="int", low=1, high=1024, category="architecture", help="Tokens kept per frame."
    )
    word_vectors: str | None = setting(
        AUTO_VECTORS,
        kind="str",
        optional=True,
        category="architecture",
        flag="--word-vectors",
        help="GloVe / word2vec text file, or multilingual (every word embedded once by the "
        "multilingual phrase embedder); none uses the bundled MiniLM token embeddings; auto: "
        "multilingual for a run whose language is not English, none otherwise.",
    )
    lr: float = setting(
        3e-3, kind="float", low=0, low_open=True, flag="--lr", help="Peak learning rate of Adam."
    )
    lr_schedule: str = setting(
        "onecycle",
        kind="str",
        choices=("constant", "onecycle"),
        help="constant, or onecycle (warm-up, hold, cosine decay).",
    )
    warmup_fraction: float = setting(
        0.1, kind="float", low=0, high=0.99, help="Share of the steps spent warming up."
    )
    decay_fraction: float = setting(
        0.3,
        kind="float",
        low=0,
        low_open=True,
        high=1,
        help="Share of the steps after warm-up over which onecycle decays the rate.",
    )
    batch_size: int = setting(
        8, kind="int", low=2, high=4096, flag="--batch-size", help="Frames per optimiser step."
    )
    epochs: int | None = setting(
        None,
        kind="int",
        low=1,
        optional=True,
        category="resumable",
        flag="--epochs",
        help="Exact number of epochs; none: auto_epochs bounded by min_steps and max_steps.",
    )
    auto_epochs: int = setting(
        30,
        kind="int",
        low=1,
        help="Epochs planned when epochs is none, before min_steps and max_steps adjust them.",
    )
    max_steps: int = setting(
        1100,
        kind="int",
        low=0,
        help="With automatic epochs, fewer epochs when they would exceed this many steps "
        "(0: no limit).",
    )
    min_steps: int = setting(
        450,
        kind="int",
        low=0,
        help="With automatic epochs, more epochs when they would give fewer steps (0: none).",
    )
    max_train_frames: int = setting(
        2000,
        kind="int",
        low=2,
        high=1_000_000,
        help="Train on a seeded sample of at most this many frames, then encode every frame "
        "in batches read from disk, so a corpus of many videos is never held in memory "
        "(2000 frames at 120x200 take 0.6 GB as float32; at most max_steps x batch_size "
        "frames are seen in training anyway).",
    )
    seed: int = seed_setting(3407, help="Seed of every random choice.")
    grad_clip_norm: float = setting(
        5.0, kind="float", low=0, help="Clip the gradient's global norm to this (0: no clipping)."
    )
    early_stopping: bool = setting(
        True,
        kind="bool",
        category="resumable",
        flag="--early-stopping",
        help="Stop when the smoothed losses stop improving.",
    )
    patience_epochs: int = setting(
        3,
        kind="int",
        low=1,
        category="resumable",
        help="Epochs without improvement of either smoothed loss before stopping.",
    )
    min_delta: float = setting(
        0.01,
        kind="float",
        low=0,
        category="resumable",
        help="Relative improvement per epoch of a smoothed loss that counts.",
    )
    min_epochs: int = setting(
        15,
        kind="int",
        low=0,
        category="resumable",
        help="Epochs always run before early stopping may stop.",
    )
    max_train_s: float | None = setting(
        None,
        kind="float",
        low=0,
        low_open=True,
        optional=True,
        category="resumable",
        flag="--max-train-s",
        help="Stop after this many seconds of training (makes results depend on the machine).",
    )
    checkpoint_every: int = setting(
        5,
        kind="int",
        low=1,
        category="runtime",
        help="Write a resumable checkpoint every this many epochs.",
    )
    n_threads: int = setting(
        0, kind="int", low=0, category="runtime", flag="--n-threads", help="CPU threads (0: all)."
    )

    def _check(self) -> None:
        factor = 2 ** len(self.conv_channels)
        for name in ("image_height", "image_width"):
            size = getattr(self, name)
            if size < factor or size % factor:
                raise self.fail(
                    name,
                    f"be a multiple of {factor} (2 to the power of "
                    f"{len(self.conv_channels)} conv blocks)",
                    size,
                )

    @classmethod
    def preset(cls, name: str) -> TrainConfig:
        """Return the named preset: ``fast`` (the default) or ``paper`` (the reference).

        Raises:
            ConfigError: ``name`` is not a preset.
        """
        if name == "fast":
            return cls()
        if name == "paper":
            return cls(
                preset_name="paper",
                encoder_style="pool",
                conv_channels=(32, 32, 32),
                feature_norm=True,
                conv_norm=False,
                mean_image=False,
                rnn_cell="lstm",
                rnn_layers=2,
                rnn_hidden=512,
                encoder_bidirectional=True,
                decoder_bidirectional=True,
                dense_units=4000,
                latent_dim=1000,
                text_weight=3.0,
                kl_weight=0.0,
                kl_warmup_epochs=0,
                max_tokens=64,
                lr=1e-4,
                lr_schedule="constant",
                warmup_fraction=0.0,
                decay_fraction=1.0,
                batch_size=16,
                epochs=500,
                seed=3407,
                grad_clip_norm=0.0,
                early_stopping=False,
                checkpoint_every=25,
            )
        raise ConfigError(
            f"--preset (train.preset) must be one of {', '.join(PRESETS)}. Got {name!r} instead."
        )

    @classmethod
    def from_dict(cls, values: Any) -> TrainConfig:
        """Build a configuration from a dict, starting from its preset (default ``fast``).

        The preset is named by ``preset`` or ``preset_name``; keys not given keep the
        preset's values; unknown keys are refused.

        Raises:
            ConfigError: A key is unknown or a value is invalid.
        """
        values = dict(values)
        name = values.pop("preset", None)
        name = values.pop("preset_name", name) if name is None else name
        refuse_unknown_keys(cls, values)
        return cls.preset(str(name or "fast")).replace(**values)

    def planned_epochs(self, n_batches: int) -> int:
        """Return the epochs to train with ``n_batches`` optimiser steps per epoch.

        An explicit ``epochs`` is exact; otherwise ``auto_epochs`` is raised to reach
        ``min_steps`` and lowered to stay within ``max_steps`` (a longer video has more
        steps per epoch and needs fewer epochs, a shorter one more).
        """
        if self.epochs is not None:
            return self.epochs
        n_epochs = self.auto_epochs
        if self.min_steps:
            n_epochs = max(n_epochs, math.ceil(self.min_steps / n_batches))
        if self.max_steps:
            n_epochs = min(n_epochs, max(1, math.ceil(self.max_steps / n_batches)))
        return n_epochs

    def architecture(self) -> dict[str, Any]:
        """Return the fields that fix the network's shapes (compared when resuming)."""
        full = self.to_dict()
        return {name: full[name] for name in self.names("architecture")}

    @property
    def uses_images(self) -> bool:
        """Whether the ablation has an image path."""
        return self.ablation != "text-only"

    @property
    def uses_text(self) -> bool:
        """Whether the ablation has a text path."""
        return self.ablation != "image-only"

    def resolved_word_vectors(self, lang: str) -> str | None:
        """The word space a run in language ``lang`` trains with: ``auto`` resolved.

        MiniLM's WordPiece vocabulary knows English words but leaves most words of
        other languages without a vector (72 % of Chinese tokens), while the
        multilingual table knows every word; English keeps MiniLM, which
        reconstructs the generated English video 1.4 dB better (README, Benchmarks).
        A run of unknown language ("und") is read as English.

        Example:
            >>> TrainConfig().resolved_word_vectors("zh"), TrainConfig().resolved_word_vectors("en")
            ('multilingual', None)
        """
        if self.word_vectors in (None, "none"):  # "none" is how a flag says None
            return None
        if self.word_vectors != AUTO_VECTORS:
            return self.word_vectors
        english = lang.lower().split("-")[0] in ("en", "eng", "und", "")
        return None if english else MULTILINGUAL
