"""Captioners: one short English caption per frame.

The paper captions every frame with BLIP before tagging. :class:`BlipCaptioner`
does that through transformers, offline: the model comes from a local folder or
from an existing local Hugging Face cache, never from the network. Greedy BLIP
decoding likes to stutter ("a bald bald bald man"), so generation uses a
repetition penalty and forbids repeated n-grams.

Use :func:`load_captioner` to build one from the ``--captioner`` option; a captioner of
another kind registers itself as BLIP does here, with
``registry.register("captioner", NAME, factory)``, where ``factory(model_path, *, device)``
returns the captioner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from themescope import registry
from themescope._offline import load_local_model, resolve_local_model
from themescope._progress import track
from themescope.documents import CaptionerBackend
from themescope.errors import ConfigError
from themescope.themes.base import Captioner


class BlipCaptioner(Captioner):
    """BLIP image captioning (BlipForConditionalGeneration) from a local model.

    The model is loaded on first use (or by :meth:`load`), not in the constructor.

    Args:
        model_path: A folder saved with ``save_pretrained`` (model and processor),
            or a Hugging Face model id that is already in the local cache.
        device: One of :data:`themescope.devices.DEVICES`; ``"auto"`` takes CUDA, then
            MPS, else the CPU.
        max_new_tokens: Longest caption, in tokens.
        repetition_penalty: Penalty (> 1) on tokens already generated.
        no_repeat_ngram_size: No n-gram of this size appears twice in a caption;
            2 rules out "bald bald bald" while keeping normal captions.
        batch_size: Frames captioned per forward pass.

    Example:
        >>> captioner = BlipCaptioner("models/blip-image-captioning-base")  # doctest: +SKIP
        >>> captioner.caption([Image.open("RUN/frames/000000.jpg")])  # doctest: +SKIP
        ['a woman sitting at a desk in a news studio']

    """

    name = "blip"

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        max_new_tokens: int = 30,
        repetition_penalty: float = 1.5,
        no_repeat_ngram_size: int = 2,
        batch_size: int = 8,
    ) -> None:
        self.model_path = str(model_path)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.repetition_penalty = repetition_penalty
        self.no_repeat_ngram_size = no_repeat_ngram_size
        self.batch_size = batch_size
        self.model_: Any = None
        self.processor_: Any = None

    def backend(self) -> CaptionerBackend:
        """Return what themes.json records: the model's folder or id."""
        return CaptionerBackend(name=self.name, model=self.model_path)

    def _validate(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(
                f"BlipCaptioner max_new_tokens must be >= 1; got {self.max_new_tokens}"
            )
        if self.batch_size < 1:
            raise ConfigError(f"BlipCaptioner batch_size must be >= 1; got {self.batch_size}")
        if self.repetition_penalty < 1.0:
            raise ConfigError(
                "BlipCaptioner repetition_penalty must be >= 1.0 (1.0 = none); "
                f"got {self.repetition_penalty}"
            )

    def load(self) -> BlipCaptioner:
        """Load the model and processor (once); return self.

        Raises:
            ModelLoadError: The path does not exist, the id is not in the local
                cache, or the files are not a BLIP captioning model.

        """
        if self.model_ is not None:
            return self
        self._validate()
        self.processor_, self.model_ = load_local_model(
            self.model_path,
            device=self.device,
            what="BLIP captioning model",
            kind="a BLIP captioning model",
            name="BLIP captioner",
            classes=("BlipProcessor", "BlipForConditionalGeneration"),
        )
        return self

    def generation_kwargs(self) -> dict[str, Any]:
        """Return the decoding settings passed to ``generate`` (the anti-stutter safeguards)."""
        return {
            "max_new_tokens": self.max_new_tokens,
            "repetition_penalty": self.repetition_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "do_sample": False,
            "num_beams": 1,
        }

    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """Return one caption per image, in order (lower-case English, may be "")."""
        if not images:
            return []
        self.load()
        import torch

        batches = [
            list(images[start : start + self.batch_size])
            for start in range(0, len(images), self.batch_size)
        ]
        captions: list[str] = []
        kwargs = self.generation_kwargs()
        for batch in track(batches, "Captioning frames (BLIP)", total=len(batches)):
            rgb = [image.convert("RGB") for image in batch]
            inputs = self.processor_(images=rgb, return_tensors="pt")
            pixel_values = inputs["pixel_values"].to(
                device=self.model_.device, dtype=self.model_.dtype
            )
            with torch.inference_mode():
                output = self.model_.generate(pixel_values=pixel_values, **kwargs)
            texts = self.processor_.batch_decode(output, skip_special_tokens=True)
            captions.extend(" ".join(text.split()) for text in texts)
        return captions


def load_captioner(name: str, model_path: str | None, *, device: str = "auto") -> Captioner | None:
    """Build the captioner named by ``--captioner``.

    Args:
        name: ``"none"`` (no captions) or a registered captioner (``"blip"``).
        model_path: For ``"blip"``: a local folder or a model id already in the
            local Hugging Face cache (nothing is downloaded).
        device: Device for the model (``"auto"`` picks CUDA when available).

    Returns:
        The captioner (not loaded yet), or None for ``"none"``.

    Raises:
        ConfigError: Unknown name, or ``"blip"`` without a model.
        ModelLoadError: The model is not a local folder or cached id, or its config or
            weights are damaged.

    Example:
        >>> load_captioner("none", None) is None
        True

    """
    if name.strip().lower() == "none":
        return None
    captioner: Captioner = registry.get("captioner", name, accepted=("none",)).factory(
        model_path, device=device
    )
    return captioner


def _blip(model_path: str | None, *, device: str) -> BlipCaptioner:
    if not model_path:
        raise ConfigError(
            "--captioner blip needs a model: pass --captioner-model with a local BLIP folder "
            "(e.g. one saved from Salesforce/blip-image-captioning-base) or a model id that "
            "is already in the local Hugging Face cache"
        )
    # The folder is checked now, before any stage runs; the model loads with the themes.
    resolve_local_model(model_path, what="BLIP captioning model")
    return BlipCaptioner(model_path, device=device)


registry.register(
    "captioner",
    "blip",
    _blip,
    help="BLIP from a local folder (--captioner-model).",
)
