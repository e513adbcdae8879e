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

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from themescope._config import refuse_unknown_keys
from themescope.errors import ConfigError

PRESETS = ("fast", "paper")
ABLATIONS = ("full", "image-only", "text-only", "pure-cvae")
DEVICES = ("auto", "cpu", "cuda", "mps")

Ablation = Literal["full", "image-only", "text-only", "pure-cvae"]

# Fields that change the network's shapes or the meaning of its weights: a checkpoint
# written with other values cannot be resumed.
ARCHITECTURE_FIELDS = (
    "ablation",
    "image_height",
    "image_width",
    "encoder_style",
    "conv_channels",
    "feature_norm",
    "rnn_cell",
    "rnn_layers",
    "rnn_hidden",
    "encoder_bidirectional",
    "decoder_bidirectional",
    "dense_units",
    "latent_dim",
    "max_tokens",
    "word_vectors",
    "teacher_forcing",
    "mean_image",
    "conv_norm",
)


@dataclass
class TrainConfig:
    """Sizes and training settings of the CRVAE.

    Use :meth:`preset` for the two named configurations, then replace fields::

        cfg = TrainConfig.preset("fast")
        cfg = dataclasses.replace(cfg, epochs=50, seed=1)
        cfg.validate()

    Attributes:
        preset_name: Name of the preset the values started from (recorded only; a config
            file or :meth:`from_dict` may give it as ``preset``).
        ablation: ``full`` (image + text), ``image-only`` (the Dense CVAE), ``text-only``,
            or ``pure-cvae`` (convolutions with global max pooling and no dense layers).
        image_height: Height in pixels the frames are resized to.
        image_width: Width in pixels the frames are resized to.
        encoder_style: ``pool`` (3×3 conv, ReLU, 2×2 max-pool per block, the paper's) or
            ``strided`` (4×4 conv with stride 2, ReLU per block).
        conv_channels: Output channels of each encoder block; the decoder mirrors them.
        feature_norm: Batch-normalise the flattened image and text features (the paper does).
        conv_norm: Batch-normalise after every hidden convolution (faster convergence).
        mean_image: Add a learned per-pixel bias to the decoded image, started at the mean
            frame of the run, so the decoder models only what differs from it.
        rnn_cell: ``lstm`` or ``gru`` for the text encoder and decoder.
        rnn_layers: Stacked recurrent layers.
        rnn_hidden: Hidden units per layer and direction.
        encoder_bidirectional: Whether the text encoder reads both directions.
        decoder_bidirectional: Whether the text decoder is bidirectional (the paper's is; with
            teacher forcing its backward half sees the next word).
        dense_units: Width of the fusion layer (0: none, the latent is computed directly).
        latent_dim: Size of the latent vector μ that is clustered later.
        text_weight: λ, the weight of the text-embedding MSE.
        kl_weight: β, the final weight of the KL term (0: none, as in the paper's code).
        kl_warmup_epochs: Epochs over which β rises linearly from 0.
        teacher_forcing: Feed the true previous word to the text decoder.
        max_tokens: Tokens kept per frame.
        word_vectors: GloVe / word2vec text file; ``None`` uses the bundled MiniLM token
            embeddings.
        lr: Peak learning rate of Adam.
        lr_schedule: ``constant``, or ``onecycle`` (warm-up then cosine decay over ``epochs``).
        warmup_fraction: Share of the steps spent warming up under ``onecycle``.
        decay_fraction: Share of the steps after warm-up over which ``onecycle`` decays the
            rate (1: all of them; less holds the peak rate longer).
        batch_size: Frames per optimiser step.
        epochs: Maximum number of epochs.
        max_steps: Fewer epochs when they would exceed this many optimiser steps (0: no
            limit), so that long videos, with more steps per epoch, train in bounded time.
        min_steps: More epochs when they would give fewer than this many optimiser steps
            (0: no floor), so that short videos, with few steps per epoch, still converge.
        seed: Seed of every random choice.
        grad_clip_norm: Clip the gradient's global norm to this (0: no clipping).
        early_stopping: Stop when the smoothed loss stops improving.
        patience_epochs: Epochs in which neither the smoothed image loss nor the smoothed text
            loss improves by ``min_delta`` (relative) before stopping.
        min_delta: Relative improvement per epoch of a smoothed loss that counts.
        min_epochs: Epochs always run before early stopping may stop.
        max_train_s: Stop after this many seconds of training (``None``: no limit; makes
            results depend on the machine's speed).
        checkpoint_every: Write a resumable checkpoint every this many epochs.
        n_threads: CPU threads for torch (0: all cores).
    """

    preset_name: str = "fast"
    ablation: str = "full"
    image_height: int = 120
    image_width: int = 200
    encoder_style: str = "strided"
    conv_channels: list[int] = field(default_factory=lambda: [16, 32, 32])
    feature_norm: bool = False
    conv_norm: bool = False
    mean_image: bool = True
    rnn_cell: str = "gru"
    rnn_layers: int = 1
    rnn_hidden: int = 128
    encoder_bidirectional: bool = False
    decoder_bidirectional: bool = False
    dense_units: int = 0
    latent_dim: int = 64
    text_weight: float = 1.0
    kl_weight: float = 1e-5
    kl_warmup_epochs: int = 20
    teacher_forcing: bool = True
    max_tokens: int = 32
    word_vectors: str | None = None
    lr: float = 3e-3
    lr_schedule: str = "onecycle"
    warmup_fraction: float = 0.1
    decay_fraction: float = 0.3
    batch_size: int = 8
    epochs: int = 30
    max_steps: int = 1100
    min_steps: int = 450
    seed: int = 3407
    grad_clip_norm: float = 5.0
    early_stopping: bool = True
    patience_epochs: int = 3
    min_delta: float = 0.01
    min_epochs: int = 15
    max_train_s: float | None = None
    checkpoint_every: int = 5
    n_threads: int = 0

    @classmethod
    def preset_names(cls) -> tuple[str, ...]:
        """Names accepted by :meth:`preset`."""
        return PRESETS

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
                conv_channels=[32, 32, 32],
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
                max_steps=0,
                min_steps=0,
                seed=3407,
                grad_clip_norm=0.0,
                early_stopping=False,
                checkpoint_every=25,
            )
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build a configuration from a dict, starting from its preset (default ``fast``).

        The preset is named by ``preset`` or ``preset_name``; keys not given keep the
        preset's values; unknown keys are refused.

        Raises:
            ConfigError: A key is unknown or a value is invalid.
        """
        values = dict(data)
        name = values.pop("preset", None)
        name = values.pop("preset_name", name) if name is None else name
        refuse_unknown_keys(cls, values, "train", also=("preset",))
        base = cls.preset(str(name or "fast"))
        if "conv_channels" in values and values["conv_channels"] is not None:
            values["conv_channels"] = [int(c) for c in values["conv_channels"]]
        config = dataclasses.replace(base, **values)
        config.validate()
        return config

    def architecture(self) -> dict[str, Any]:
        """Return the fields that fix the network's shapes (compared when resuming)."""
        full = self.to_dict()
        return {name: full[name] for name in ARCHITECTURE_FIELDS}

    @property
    def uses_images(self) -> bool:
        """Whether the ablation has an image path."""
        return self.ablation != "text-only"

    @property
    def uses_text(self) -> bool:
        """Whether the ablation has a text path."""
        return self.ablation != "image-only"

    def validate(self) -> TrainConfig:
        """Check every value; return ``self``.

        Raises:
            ConfigError: The first invalid value, named with the value it got.
        """
        _choice("preset_name", self.preset_name, PRESETS)
        _choice("ablation", self.ablation, ABLATIONS)
        _choice("encoder_style", self.encoder_style, ("pool", "strided"))
        _choice("rnn_cell", self.rnn_cell, ("lstm", "gru"))
        _choice("lr_schedule", self.lr_schedule, ("constant", "onecycle"))
        _int_at_least("epochs", self.epochs, 1)
        _int_at_least("batch_size", self.batch_size, 2)
        _int_at_least("rnn_layers", self.rnn_layers, 1)
        _int_at_least("rnn_hidden", self.rnn_hidden, 1)
        _int_at_least("dense_units", self.dense_units, 0)
        _int_at_least("latent_dim", self.latent_dim, 1)
        _int_at_least("max_tokens", self.max_tokens, 1)
        _int_at_least("kl_warmup_epochs", self.kl_warmup_epochs, 0)
        _int_at_least("patience_epochs", self.patience_epochs, 1)
        _int_at_least("min_epochs", self.min_epochs, 0)
        _int_at_least("max_steps", self.max_steps, 0)
        _int_at_least("min_steps", self.min_steps, 0)
        _int_at_least("checkpoint_every", self.checkpoint_every, 1)
        _int_at_least("n_threads", self.n_threads, 0)
        _int_at_least("seed", self.seed, 0)
        if not self.conv_channels or any(int(c) < 1 for c in self.conv_channels):
            raise ConfigError(
                "The 'conv_channels' option must be a non-empty list of positive ints. "
                f"Got {self.conv_channels!r} instead."
            )
        factor = 2 ** len(self.conv_channels)
        for name, size in (("image_height", self.image_height), ("image_width", self.image_width)):
            _int_at_least(name, size, factor)
            if size % factor:
                raise ConfigError(
                    f"The '{name}' option must be a multiple of {factor} "
                    f"(2 to the power of {len(self.conv_channels)} conv blocks). "
                    f"Got {size} instead."
                )
        for name, value in (
            ("lr", self.lr),
            ("text_weight", self.text_weight),
            ("kl_weight", self.kl_weight),
            ("grad_clip_norm", self.grad_clip_norm),
            ("min_delta", self.min_delta),
        ):
            if not (isinstance(value, int | float) and value >= 0 and value == value):
                raise ConfigError(
                    f"The '{name}' option must be a number >= 0. Got {value!r} instead."
                )
        if self.lr <= 0:
            raise ConfigError(f"The 'lr' option must be a number > 0. Got {self.lr!r} instead.")
        if not 0 < self.decay_fraction <= 1:
            raise ConfigError(
                "The 'decay_fraction' option must be in (0, 1]. "
                f"Got {self.decay_fraction!r} instead."
            )
        if not 0 <= self.warmup_fraction < 1:
            raise ConfigError(
                "The 'warmup_fraction' option must be in [0, 1). "
                f"Got {self.warmup_fraction!r} instead."
            )
        if self.max_train_s is not None and self.max_train_s <= 0:
            raise ConfigError(
                f"The 'max_train_s' option must be > 0 or None. Got {self.max_train_s!r} instead."
            )
        return self


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(
            f"The '{name}' option must be one of {', '.join(allowed)}. Got {value!r} instead."
        )


def _int_at_least(name: str, value: Any, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(
            f"The '{name}' option must be an int in the range [{low}, inf). Got {value!r} instead."
        )
