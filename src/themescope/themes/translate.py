"""Machine translation of non-English phrases into English, for their glosses (``--translator``).

Glosses come from the CC-CEDICT dictionary by default (:mod:`themescope.themes.gloss`).
With ``--translator FOLDER`` a local transformers sequence-to-sequence model translates
every phrase instead: MarianMT (Helsinki-NLP/opus-mt-zh-en), NLLB or M2M100 saved with
``save_pretrained``. The model is loaded offline, from the folder only, on first use;
its folder is checked when the translator is built, before any stage runs, so a folder
that holds no translation model is refused at once instead of after training.

Decoding is greedy and short: a gloss is a title, so :data:`MAX_NEW_TOKENS` bounds it.

A translator of another kind registers itself as the sequence-to-sequence one does here,
with ``registry.register("translator", NAME, factory)``, where
``factory(model_path, *, device)`` returns the :class:`Translator`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from themescope import registry
from themescope._offline import load_local_model, read_local_config
from themescope._progress import track
from themescope.components import Component
from themescope.documents import TranslatorBackend
from themescope.errors import ConfigError

MAX_NEW_TOKENS = 24
"""Longest translation, in tokens: enough for a gloss of :data:`gloss.MAX_WORDS` words."""
SEQ2SEQ = "seq2seq"
"""The registered translator that loads a ``--translator`` folder."""
LANGUAGE_CODES = (("zho_Hans", "eng_Latn"), ("__zh__", "__en__"))
"""(Chinese, English) language tokens of multilingual models: NLLB's, M2M100's. A
vocabulary that holds a pair translates from any language into any other, so it is told
the source and made to start its output in English; MarianMT's one pair needs neither."""


class Translator(Component, ABC):
    """Translates phrases into English."""

    @abstractmethod
    def backend(self) -> TranslatorBackend:
        """Return what the documents record of the translator."""

    @abstractmethod
    def translate(self, texts: Sequence[str]) -> list[str]:
        """Return the English translation of each text, in order ("" where there is none)."""


class Seq2SeqTranslator(Translator):
    """A transformers sequence-to-sequence translation model from a local folder.

    The model is loaded on first use (or by :meth:`load`), not in the constructor.

    Args:
        model_path: A folder saved with ``save_pretrained`` (tokenizer and model).
        device: One of :data:`themescope.devices.DEVICES`; ``"auto"`` takes CUDA, then
            MPS, else the CPU.
        max_new_tokens: Longest translation, in tokens.
        batch_size: Texts translated per forward pass.

    Example:
        >>> translator = Seq2SeqTranslator("models/opus-mt-zh-en")  # doctest: +SKIP
        >>> translator.translate(["加强针"])  # doctest: +SKIP
        ['Booster needle']
    """

    name = SEQ2SEQ

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "auto",
        max_new_tokens: int = MAX_NEW_TOKENS,
        batch_size: int = 32,
    ) -> None:
        self.model_path = str(model_path)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.model_: Any = None
        self.tokenizer_: Any = None
        self.language_codes_: tuple[str, str] | None = None

    def backend(self) -> TranslatorBackend:
        """Return what the documents record: the model's folder."""
        return TranslatorBackend(name=self.name, model=self.model_path)

    def load(self) -> Seq2SeqTranslator:
        """Load the tokenizer and model (once); return self.

        Raises:
            ConfigError: ``max_new_tokens`` or ``batch_size`` is below 1.
            ModelLoadError: The folder is missing, or its files are not a
                sequence-to-sequence model and its tokenizer.
        """
        if self.model_ is not None:
            return self
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ConfigError(
                "Seq2SeqTranslator max_new_tokens and batch_size must be >= 1; got "
                f"{self.max_new_tokens} and {self.batch_size}"
            )
        self.tokenizer_, self.model_ = load_local_model(
            self.model_path,
            device=self.device,
            what="translation model",
            kind="a sequence-to-sequence translation model",
            name="translator",
            classes=("AutoTokenizer", "AutoModelForSeq2SeqLM"),
        )
        # once: a multilingual vocabulary holds 256,000 tokens, and get_vocab copies them
        vocabulary = self.tokenizer_.get_vocab()
        self.language_codes_ = next(
            (pair for pair in LANGUAGE_CODES if all(code in vocabulary for code in pair)), None
        )
        if self.language_codes_ is not None:
            self.tokenizer_.src_lang = self.language_codes_[0]
        return self

    def generation_kwargs(self) -> dict[str, Any]:
        """Return the decoding settings passed to ``generate``: greedy, short, into English."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_new_tokens,
            "do_sample": False,
            "num_beams": 1,
        }
        codes = self.load().language_codes_
        if codes is not None:
            kwargs["forced_bos_token_id"] = self.tokenizer_.convert_tokens_to_ids(codes[1])
        return kwargs

    def translate(self, texts: Sequence[str]) -> list[str]:
        """Return the English translation of each text, in order ("" where the model gives none)."""
        if not texts:
            return []
        self.load()
        import torch

        kwargs = self.generation_kwargs()
        batches = [
            list(texts[start : start + self.batch_size])
            for start in range(0, len(texts), self.batch_size)
        ]
        translations: list[str] = []
        for batch in track(batches, "Translating phrases", total=len(batches)):
            inputs = self.tokenizer_(
                batch,
                return_tensors="pt",
                padding=True,
                truncation=True,
                return_token_type_ids=False,
            ).to(self.model_.device)
            with torch.inference_mode():
                output = self.model_.generate(**inputs, **kwargs)
            decoded = self.tokenizer_.batch_decode(output, skip_special_tokens=True)
            translations.extend(" ".join(text.split()) for text in decoded)
        return translations


def load_translator(value: str, *, device: str = "auto") -> Translator | None:
    """Build the translator named by ``--translator`` (its folder is checked, not loaded).

    Args:
        value: ``"none"`` (dictionary glosses), or the local folder of a translation
            model, which the :data:`SEQ2SEQ` translator loads.
        device: Device for the model (``"auto"`` picks CUDA when available).

    Returns:
        The translator (not loaded yet), or None for ``"none"``.

    Raises:
        ConfigError: The folder holds a model that does not translate (no encoder-decoder).
        ModelLoadError: The folder is missing, or its config or weights are damaged.

    Example:
        >>> load_translator("none") is None
        True
    """
    if value.strip().lower() == "none":
        return None
    translator: Translator = registry.get("translator", SEQ2SEQ).factory(value, device=device)
    return translator


def _seq2seq(model_path: str, *, device: str) -> Seq2SeqTranslator:
    # The folder is checked now, before any stage runs; the model loads with the glosses.
    config = read_local_config(model_path, what="translation model")
    if not config.get("is_encoder_decoder"):
        raise ConfigError(
            f"--translator {model_path} is not a translation model: its config.json is a "
            f"{config.get('model_type')!r} model, not an encoder-decoder such as MarianMT "
            "(opus-mt-zh-en) or NLLB"
        )
    return Seq2SeqTranslator(model_path, device=device)


registry.register(
    "translator",
    SEQ2SEQ,
    _seq2seq,
    help="A local sequence-to-sequence folder: MarianMT (opus-mt-zh-en), NLLB, M2M100.",
)
