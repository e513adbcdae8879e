"""Builders that several test modules share (no tests here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# Small enough to train in seconds, large enough to separate the generator's four looks.
SMALL_TRAIN = {
    "image_height": 48,
    "image_width": 80,
    "conv_channels": [8, 16, 16],
    "rnn_hidden": 16,
    "dense_units": 64,
    "latent_dim": 16,
    "max_tokens": 16,
    "batch_size": 8,
    "auto_epochs": 100,
    "checkpoint_every": 2,
    "n_threads": 1,
}
PIPELINE_CONFIG = {
    "train": SMALL_TRAIN,
    "themes": {"k_range": [3, 5], "n_bootstrap": 4},
    "device": "cpu",
}
"""Settings of a whole pipeline run on a synthetic video that finishes in seconds."""

ERROR_PREFIX = "themescope: error: "


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command line in this process; return its exit status, stdout and stderr."""
    from themescope._cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    code = exit_info.value.code
    # As the interpreter does: no code is success, a message instead of a number is status 1.
    status = 0 if code is None else code if isinstance(code, int) else 1
    return status, captured.out, captured.err


def cli_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run a command line that must be refused; return its message.

    A refusal exits 2 and writes one line to stderr, ``themescope: error: <message>``.
    """
    code, _, err = run_cli(capsys, *args)
    assert code == 2, err
    assert err.startswith(ERROR_PREFIX) and err.endswith("\n"), err
    message = err.removeprefix(ERROR_PREFIX).removesuffix("\n")
    assert "\n" not in message, err
    return message


BLIP_WORDS = [
    "a",
    "man",
    "woman",
    "bald",
    "sitting",
    "at",
    "the",
    "desk",
    "studio",
    "news",
    "screen",
]
STUTTER_WORD = "bald"


TRANSLATED_PHRASES = ["加强针", "老年人", "疫苗"]
"""One token each: one batch needs no padding, so it decodes as each phrase alone."""
MARIAN_WORDS = ["booster", "shot", "old", "people", "vaccine", "the", "news", "clinic", "today"]
MARIAN_EOS = 2
TINY_ENCODER_DECODER = {
    "d_model": 16,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
}
"""The sizes of the tiny encoder-decoder models the tests build (MarianMT, Whisper)."""


def build_tiny_marian(folder: Path, *, eos_bias: float = -1e4, codes: tuple[str, ...] = ()) -> None:
    """Save a random MarianMT model and its word-level tokenizer into ``folder``.

    ``eos_bias`` is added to the end token's logit: very negative, the model never stops
    (random words up to the length limit); very positive, it stops at once (says nothing).
    ``codes``: language tokens in the vocabulary, as a multilingual model's (NLLB's).
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import MarianConfig, MarianMTModel, PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "</s>": MARIAN_EOS}
    for word in [*TRANSLATED_PHRASES, *MARIAN_WORDS, *codes]:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", eos_token="</s>"
    )
    torch.manual_seed(0)
    config = MarianConfig(
        vocab_size=len(vocab),
        **TINY_ENCODER_DECODER,
        max_position_embeddings=64,
        pad_token_id=1,
        eos_token_id=MARIAN_EOS,
        decoder_start_token_id=1,
        forced_eos_token_id=None,
    )
    model = MarianMTModel(config)
    with torch.no_grad():
        # it writes English words only (and, as asked, the end token)
        model.final_logits_bias[0, :] = -1e4
        model.final_logits_bias[0, [vocab[word] for word in MARIAN_WORDS]] = 0.0
        model.final_logits_bias[0, MARIAN_EOS] = eos_bias
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def build_tiny_blip(folder: Path) -> None:
    """Save a tiny random BLIP captioning model (weights and processor) in ``folder``.

    One word dominates every decoding step, so that decoding without the captioner's
    safeguards stutters.
    """
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessorPil,
        BlipProcessor,
    )

    vocab = folder / "vocab.txt"
    folder.mkdir(parents=True)
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *BLIP_WORDS]) + "\n")
    tokenizer = BertTokenizer(str(vocab))
    tokenizer.add_special_tokens({"bos_token": "[DEC]"})
    vocab.unlink()
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": 16,
        "encoder_hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "max_position_embeddings": 64,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.sep_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "sep_token_id": tokenizer.sep_token_id,
    }
    vision_config = {
        "hidden_size": 16,
        "intermediate_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 8,
        "projection_dim": 16,
    }
    torch.manual_seed(0)
    config = BlipConfig(
        text_config=text_config,
        vision_config=vision_config,
        projection_dim=16,
        image_text_hidden_size=16,
    )
    model = BlipForConditionalGeneration(config)
    # Make one word dominate every step, so that decoding without safeguards stutters, and keep
    # special tokens (dropped when decoding) out of captions, as a trained BLIP does.
    with torch.no_grad():
        bias = model.text_decoder.cls.predictions.bias
        bias[tokenizer.convert_tokens_to_ids(STUTTER_WORD)] = 8.0
        for token in ("[PAD]", "[UNK]", "[CLS]", "[MASK]", "[DEC]"):
            bias[tokenizer.convert_tokens_to_ids(token)] = -30.0
    processor = BlipProcessor(
        image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}),
        tokenizer=tokenizer,
    )
    model.save_pretrained(folder)
    processor.save_pretrained(folder)


def add_stability(document: Any, unstable: int, n_refits: int = 5) -> None:
    """Give a themes document stability figures in which theme ``unstable`` came back once."""
    from themescope.documents import StabilityRecord, ThemeStabilityRecord

    document.stability = StabilityRecord(
        n_refits=n_refits,
        seeds=list(range(1, n_refits + 1)),
        mean_ari=0.71,
        min_ari=0.52,
        same_theme_jaccard=0.5,
        unstable_below=0.5,
        unstable=[unstable],
    )
    for theme in document.themes:
        came_back = 1 if theme.id == unstable else n_refits
        theme.stability = ThemeStabilityRecord(
            recurrence=came_back / n_refits, mean_jaccard=0.9, unstable=theme.id == unstable
        )
