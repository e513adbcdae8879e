"""The CRVAE: a convolutional-recurrent variational autoencoder of frames and their words.

Image encoder (conv blocks) and text encoder (LSTM/GRU over frozen token vectors)
are fused by dense layers into the mean μ and log-variance of a latent vector; the
decoder maps a latent sample back to the image (transposed convolutions) and to the
initial state of a text decoder that predicts each word's vector, with teacher
forcing. All sizes come from :class:`~themescope.model.config.TrainConfig`; see
``design.md`` for the reference ("paper") sizes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from themescope.errors import ConfigError
from themescope.model.config import TrainConfig
from themescope.model.text import SOS_ID


@dataclass
class CRVAEOutput:
    """What one forward pass returns.

    Attributes:
        mu: Posterior mean, shape (batch, latent_dim).
        logvar: Posterior log-variance, shape (batch, latent_dim).
        image: Reconstructed images in [0, 1], shape (batch, 3, H, W); None without images.
        text: Predicted token vectors, shape (batch, n_tokens, dim); None without text.
    """

    mu: torch.Tensor
    logvar: torch.Tensor
    image: torch.Tensor | None
    text: torch.Tensor | None


class CRVAE(nn.Module):
    """The multimodal autoencoder; ``config.ablation`` selects which parts exist.

    Args:
        config: Sizes and ablation.
        token_vectors: The frozen vocabulary table, shape (n_tokens, dim); ignored (may be
            None) for the image-only ablation. It is a non-persistent buffer: weights files
            hold only the trained parameters and the table is saved with the vocabulary.

    Example:
        >>> cfg = TrainConfig(image_height=24, image_width=40, latent_dim=8)
        >>> model = CRVAE(cfg, torch.randn(10, 6))
        >>> out = model(torch.rand(2, 3, 24, 40), torch.tensor([[3, 4], [5, 0]]),
        ...             torch.tensor([2, 1]))
        >>> tuple(out.mu.shape), tuple(out.image.shape), tuple(out.text.shape)
        ((2, 8), (2, 3, 24, 40), (2, 2, 6))
    """

    def __init__(self, config: TrainConfig, token_vectors: torch.Tensor | None) -> None:
        super().__init__()
        if config.uses_text and token_vectors is None:
            raise ConfigError(f"the {config.ablation!r} ablation needs token vectors")
        if config.uses_text and not config.teacher_forcing and config.decoder_bidirectional:
            raise ConfigError(
                "teacher_forcing=False needs decoder_bidirectional=False: a bidirectional "
                "decoder cannot feed back its own predictions"
            )
        self.config = config
        pure = config.ablation == "pure-cvae"
        n_blocks = len(config.conv_channels)
        self.feature_h = config.image_height // 2**n_blocks
        self.feature_w = config.image_width // 2**n_blocks
        self.feature_c = config.conv_channels[-1]
        n_features = 0
        self.image_encoder: nn.Module | None = None
        self.image_decoder: nn.Module | None = None
        self.image_norm: nn.Module = nn.Identity()
        self.image_flat = 0
        if config.uses_images:
            self.image_encoder = _image_encoder(config)
            self.image_flat = self.feature_c * self.feature_h * self.feature_w
            n_image = self.feature_c if pure else self.image_flat
            if config.feature_norm:
                self.image_norm = nn.BatchNorm1d(n_image)
            self.image_decoder = _image_decoder(config)
            # A learned per-pixel bias (the "mean frame", set from the data by
            # init_mean_image) lets the decoder spend its capacity on what differs.
            self.image_bias: nn.Parameter | None = None
            if config.mean_image:
                self.image_bias = nn.Parameter(
                    torch.zeros(3, config.image_height, config.image_width)
                )
            n_features += n_image

        self.text_encoder: nn.LSTM | nn.GRU | None = None
        self.text_decoder: nn.LSTM | nn.GRU | None = None
        self.text_norm: nn.Module = nn.Identity()
        self.text_out: nn.Module | None = None
        self.n_state = 0
        if config.uses_text:
            assert token_vectors is not None
            self.register_buffer("token_vectors", token_vectors.float(), persistent=False)
            dim = int(token_vectors.shape[1])
            self.text_encoder, _, n_text = _text_rnn(config, dim, config.encoder_bidirectional)
            if config.feature_norm:
                self.text_norm = nn.BatchNorm1d(n_text)
            n_features += n_text
            self.text_decoder, dec_dirs, self.n_state = _text_rnn(
                config, dim, config.decoder_bidirectional
            )
            self.text_out = nn.Linear(dec_dirs * config.rnn_hidden, dim)

        dense = 0 if pure else config.dense_units
        n_decoded = self.image_flat + self.n_state
        if dense:
            self.fuse: nn.Module = nn.Sequential(
                nn.Linear(n_features, dense), nn.ReLU(), nn.Linear(dense, 2 * config.latent_dim)
            )
            self.expand: nn.Module = nn.Sequential(
                nn.Linear(config.latent_dim, dense), nn.ReLU(), nn.Linear(dense, n_decoded)
            )
        else:
            self.fuse = nn.Linear(n_features, 2 * config.latent_dim)
            self.expand = nn.Linear(config.latent_dim, n_decoded)

    @torch.no_grad()
    def init_mean_image(self, mean_image: torch.Tensor) -> None:
        """Start the per-pixel output bias at the logit of ``mean_image`` (3, H, W) in [0, 1]."""
        if self.image_bias is not None:
            self.image_bias.copy_(torch.logit(mean_image.clamp(0.02, 0.98)))

    def embed(self, token_ids: torch.Tensor) -> torch.Tensor:
        """Look up frozen vectors: ids (batch, n_tokens) → (batch, n_tokens, dim)."""
        return nn.functional.embedding(token_ids, self._vectors())

    def _vectors(self) -> torch.Tensor:
        vectors = self.token_vectors
        assert isinstance(vectors, torch.Tensor)
        return vectors

    def encode(
        self,
        images: torch.Tensor | None,
        token_ids: torch.Tensor | None,
        lengths: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return μ and log σ² of shape (batch, latent_dim).

        Args:
            images: float (batch, 3, H, W) in [0, 1]; None for the text-only ablation.
            token_ids: int64 (batch, n_tokens), right-padded with 0; None for image-only.
            lengths: int64 (batch,), tokens per frame (0: the frame has no text).
        """
        parts = []
        if self.image_encoder is not None:
            if images is None:
                raise self._missing("encode", "images")
            features = self.image_encoder(images)
            if self.config.ablation == "pure-cvae":
                features = features.amax(dim=(2, 3))
            else:
                features = features.flatten(1)
            parts.append(self.image_norm(features))
        if self.text_encoder is not None:
            if token_ids is None or lengths is None:
                raise self._missing("encode", "token_ids and lengths")
            parts.append(self.text_norm(self._encode_text(token_ids, lengths)))
        stats = self.fuse(torch.cat(parts, dim=1))
        mu, logvar = stats.chunk(2, dim=1)
        return mu, logvar

    def _missing(self, method: str, inputs: str) -> ConfigError:
        return ConfigError(
            f"CRVAE.{method} needs {inputs}: the {self.config.ablation!r} ablation uses them. "
            "Got None instead."
        )

    def _encode_text(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        assert self.text_encoder is not None
        has_text = (lengths > 0).to(self._vectors().dtype)
        # Packing makes the final states independent of how much padding a batch has,
        # so μ of a frame does not depend on which frames share its batch.
        packed = pack_padded_sequence(
            self.embed(token_ids),
            lengths.clamp(min=1).cpu(),
            batch_first=True,
            enforce_sorted=False,
        )
        _, state = self.text_encoder(packed)
        states = torch.cat(state, dim=0) if isinstance(state, tuple) else state
        features = states.permute(1, 0, 2).reshape(token_ids.shape[0], -1)
        return features * has_text[:, None]

    def decode(
        self, z: torch.Tensor, token_ids: torch.Tensor | None, lengths: torch.Tensor | None
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Return the reconstructed images and predicted token vectors for latents ``z``.

        The text decoder reads the true previous tokens (teacher forcing) when the config
        says so, otherwise its own previous prediction.
        """
        decoded = self.expand(z)
        image = None
        text = None
        if self.image_decoder is not None:
            grid = decoded[:, : self.image_flat].reshape(
                -1, self.feature_c, self.feature_h, self.feature_w
            )
            logits = self.image_decoder(grid)
            if self.image_bias is not None:
                logits = logits + self.image_bias
            image = torch.sigmoid(logits)
        if self.text_decoder is not None:
            if token_ids is None or lengths is None:
                raise self._missing("decode", "token_ids and lengths")
            text = self._decode_text(decoded[:, self.image_flat :], token_ids, lengths)
        return image, text

    @property
    def can_generate_text(self) -> bool:
        """Whether :meth:`generate_text` works: a text decoder that reads left to right."""
        return self.text_decoder is not None and not self.config.decoder_bidirectional

    def generate_text(self, z: torch.Tensor, n_tokens: int) -> torch.Tensor:
        """Return the token vectors the text decoder writes from latents ``z`` alone.

        Each step reads the decoder's own previous prediction, never a true word (free
        running, whatever ``teacher_forcing`` says), so the result shows what ``z`` holds.

        Returns:
            Tensor of shape (n_latents, n_tokens, embedding_dim).

        Raises:
            ValueError: The model has no text decoder, or a bidirectional one (which
                reads the words after each word too, so it cannot write one at a time).
        """
        if not self.can_generate_text:
            raise ValueError("free-running text needs a unidirectional text decoder")
        state = self._text_state(self.expand(z)[:, self.image_flat :])
        sos = self._vectors()[SOS_ID].expand(z.shape[0], 1, -1)
        return self._decode_free(state, sos, n_tokens)

    def _text_state(
        self, state_flat: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The text decoder's initial state from its part of the expanded latent."""
        hidden = self.config.rnn_hidden
        states = state_flat.reshape(state_flat.shape[0], -1, hidden).permute(1, 0, 2).contiguous()
        if self.config.rnn_cell == "lstm":
            h0, c0 = states.chunk(2, dim=0)
            return (h0.contiguous(), c0.contiguous())
        return states

    def _decode_text(
        self, state_flat: torch.Tensor, token_ids: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        assert self.text_decoder is not None and self.text_out is not None
        batch, n_tokens = token_ids.shape
        state = self._text_state(state_flat)
        sos = self._vectors()[SOS_ID].expand(batch, 1, -1)
        if not self.config.teacher_forcing:
            return self._decode_free(state, sos, n_tokens)
        inputs = torch.cat([sos, self.embed(token_ids[:, :-1])], dim=1)
        packed = pack_padded_sequence(
            inputs, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, _ = self.text_decoder(packed, state)
        padded, _ = pad_packed_sequence(outputs, batch_first=True, total_length=n_tokens)
        return self.text_out(padded)

    def _decode_free(
        self,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        sos: torch.Tensor,
        n_tokens: int,
    ) -> torch.Tensor:
        assert self.text_decoder is not None and self.text_out is not None
        step_input = sos
        predictions = []
        for _ in range(n_tokens):
            output, state = self.text_decoder(step_input, state)
            step_input = self.text_out(output)
            predictions.append(step_input)
        return torch.cat(predictions, dim=1)

    def forward(
        self,
        images: torch.Tensor | None,
        token_ids: torch.Tensor | None,
        lengths: torch.Tensor | None,
        noise: torch.Tensor | None = None,
    ) -> CRVAEOutput:
        """Encode, form z = μ + ε·σ with ``noise`` ε (z = μ when it is None) and decode.

        The caller draws ε (standard normal, shape of μ) so that sampling follows its own
        seeded generator and gives the same numbers on every device.
        """
        mu, logvar = self.encode(images, token_ids, lengths)
        z = mu if noise is None else mu + noise * torch.exp(0.5 * logvar)
        image, text = self.decode(z, token_ids, lengths)
        return CRVAEOutput(mu=mu, logvar=logvar, image=image, text=text)


def _text_rnn(
    config: TrainConfig, dim: int, bidirectional: bool
) -> tuple[nn.LSTM | nn.GRU, int, int]:
    """One text RNN (the encoder's or the decoder's) as ``config`` asks.

    Returns:
        The RNN, its number of directions, and the size of its final state flattened
        (h, and c too for an LSTM, over every layer and direction).

    """
    rnn = nn.LSTM if config.rnn_cell == "lstm" else nn.GRU
    module = rnn(
        dim, config.rnn_hidden, config.rnn_layers, batch_first=True, bidirectional=bidirectional
    )
    n_dirs = 2 if bidirectional else 1
    n_state = config.rnn_layers * n_dirs * config.rnn_hidden
    n_state *= 2 if config.rnn_cell == "lstm" else 1
    return module, n_dirs, n_state


def _activation(config: TrainConfig, channels: int) -> list[nn.Module]:
    if config.conv_norm:
        return [nn.BatchNorm2d(channels), nn.ReLU()]
    return [nn.ReLU()]


def _image_encoder(config: TrainConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    previous = 3
    for channels in config.conv_channels:
        if config.encoder_style == "pool":
            layers += [nn.Conv2d(previous, channels, 3, padding=1), *_activation(config, channels)]
            layers.append(nn.MaxPool2d(2))
        else:
            layers.append(nn.Conv2d(previous, channels, 4, stride=2, padding=1))
            layers += _activation(config, channels)
        previous = channels
    return nn.Sequential(*layers)


def _image_decoder(config: TrainConfig) -> nn.Sequential:
    reverse = list(reversed(config.conv_channels))
    layers: list[nn.Module] = []
    if config.encoder_style == "pool":
        # The paper's decoder: [3×3 transposed conv stride 2 → ReLU → 3×3 conv → ReLU] × n,
        # then a 3×3 conv to the three colour channels.
        targets = [*reverse[1:], reverse[-1]]
        for source, target in zip(reverse, targets, strict=True):
            layers += [
                nn.ConvTranspose2d(source, target, 3, stride=2, padding=1, output_padding=1),
                *_activation(config, target),
                nn.Conv2d(target, target, 3, padding=1),
                *_activation(config, target),
            ]
        layers.append(nn.Conv2d(targets[-1], 3, 3, padding=1))
    else:
        targets = [*reverse[1:], 3]
        for i, (source, target) in enumerate(zip(reverse, targets, strict=True)):
            layers.append(nn.ConvTranspose2d(source, target, 4, stride=2, padding=1))
            if i < len(reverse) - 1:
                layers += _activation(config, target)
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


TOKEN_DIM_ESTIMATE = 384
"""Token-vector width assumed before the vectors are read: the bundled embedders' (GloVe and
word2vec files are narrower, and the recurrent layers' input weights are a small part)."""


@dataclass(frozen=True)
class MemoryEstimate:
    """About how much memory training takes, in bytes, by what takes it.

    Attributes:
        n_parameters: Trainable parameters of the model.
        model: The parameters, their gradients and Adam's two moments (float32).
        frames: The sampled training frames, held as float32.
        activations: One batch's image activations, kept for the backward pass.
    """

    n_parameters: int
    model: int
    frames: int
    activations: int

    @property
    def total(self) -> int:
        """All of it."""
        return self.model + self.frames + self.activations


def estimate_training_memory(config: TrainConfig) -> MemoryEstimate:
    """Estimate the memory training with ``config`` needs, without allocating any.

    The model is built on PyTorch's meta device (shapes only), so its parameter count is
    exact whatever the architecture.

    Example:
        >>> estimate = estimate_training_memory(TrainConfig())
        >>> 0.5e9 < estimate.total < 1e9  # mostly the 2000 frames at 120x200
        True
    """
    vectors = torch.zeros(1, TOKEN_DIM_ESTIMATE) if config.uses_text else None
    with torch.device("meta"):
        model = CRVAE(config, vectors)
    n_parameters = count_parameters(model)
    pixels = 3 * config.image_height * config.image_width if config.uses_images else 0
    # Each block's output (and its activation) at its own resolution, in the encoder and
    # mirrored in the decoder: channels x pixels / 4 per halving.
    per_frame = sum(
        2 * 2 * channels * (pixels // 3) // 4**block
        for block, channels in enumerate(config.conv_channels)
    )
    return MemoryEstimate(
        n_parameters=n_parameters,
        model=16 * n_parameters,
        frames=4 * pixels * config.max_train_frames,
        activations=4 * config.batch_size * (pixels + per_frame) if pixels else 0,
    )


def check_training_memory(config: TrainConfig, available_bytes: int | None) -> None:
    """Refuse sizes whose training would not fit in ``available_bytes`` (None: unknown).

    Raises:
        ConfigError: The estimate exceeds the memory available, naming the sizes to lower.
    """
    estimate = estimate_training_memory(config)
    if available_bytes is None or estimate.total <= available_bytes:
        return
    raise ConfigError(
        f"training with these sizes needs about {estimate.total / 1e9:.1f} GB of memory "
        f"({estimate.n_parameters / 1e6:.0f} M parameters with their gradients and Adam "
        f"state: {estimate.model / 1e9:.1f} GB; {config.max_train_frames} frames at "
        f"{config.image_height}x{config.image_width}: {estimate.frames / 1e9:.1f} GB) and "
        f"{available_bytes / 1e9:.1f} GB is available; lower latent_dim, dense_units, "
        "rnn_hidden, the image size or max_train_frames"
    )


def available_memory_bytes() -> int | None:
    """Memory this machine can give a new process: MemAvailable on Linux, else all of it.

    None where neither can be read (Windows), and nothing is checked there.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
