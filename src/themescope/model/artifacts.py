"""What the train stage leaves for people and other tools: latents, model files, log, pictures.

``latents.npy`` (μ per frame), ``model/`` (weights as safetensors, config, vocabulary
and embeddings; never pickle), ``train_log.csv`` (the report draws the loss curves
from it), ``reconstructions.png`` (originals above their reconstructions) and
``text_reconstructions.txt`` (predicted token vectors verbalised by nearest-neighbour
lookup).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from themescope.model.config import TrainConfig
from themescope.model.crvae import count_parameters
from themescope.model.data import FrameData
from themescope.model.text import Vocabulary
from themescope.model.trainer import Evaluation, Trainer
from themescope.rundir import RunDirectory, os_errors, write_json_atomic

LOG_COLUMNS = ("epoch", "loss", "image_mse", "text_mse", "kl", "beta", "lr", "seconds")
N_SAMPLE_FRAMES = 8


def write_outputs(
    st: Any,
    run: RunDirectory,
    config: TrainConfig,
    data: FrameData,
    vocabulary: Vocabulary | None,
    trainer: Trainer,
    evaluation: Evaluation,
    latents: np.ndarray,
) -> None:
    """Write every artifact of a finished training into the stage's staging folder.

    ``latents`` holds μ of every frame of the run; ``evaluation`` measured the frames
    trained on (all of them unless training took a sample).
    """
    from safetensors.torch import save_file

    np.save(st.path("latents.npy"), latents)
    model_dir = st.path("model/weights.safetensors").parent
    state = {k: v.detach().cpu().contiguous() for k, v in trainer.model.state_dict().items()}
    with os_errors(model_dir / "weights.safetensors"):
        save_file(state, str(model_dir / "weights.safetensors"))
    write_json_atomic(
        model_dir / "config.json",
        {
            "schema_version": 1,
            "config": config.to_dict(),
            "n_params": count_parameters(trainer.model),
            "embedding_dim": vocabulary.dim if vocabulary is not None else None,
            "vocab_size": len(vocabulary.tokens) if vocabulary is not None else None,
            "epochs": trainer.epoch,
        },
    )
    if vocabulary is not None:
        vocabulary.save(model_dir)
    with open(st.path("train_log.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LOG_COLUMNS)
        for row in trainer.log:
            writer.writerow([_csv_value(getattr(row, c)) for c in LOG_COLUMNS])
    if data.images is not None and evaluation.recon_images is not None:
        # evaluate(keep=reconstruction_sample(...)) kept only these frames' reconstructions.
        _save_reconstructions(
            data.images.numpy()[data.learn_ids[reconstruction_sample(len(data.learn_ids))]],
            evaluation.recon_images,
            st.path("reconstructions.png"),
        )
    _write_text_reconstructions(
        st.path("text_reconstructions.txt"), data, vocabulary, evaluation, config
    )


def reconstruction_sample(n_frames: int, n_sample: int = N_SAMPLE_FRAMES) -> np.ndarray:
    """The frames shown in reconstructions.png: a fixed, evenly spaced sample of frame ids."""
    count = min(n_sample, n_frames)
    return np.unique(np.linspace(0, n_frames - 1, count).round().astype(int))


def _save_reconstructions(originals: np.ndarray, recons: np.ndarray, path: Path) -> None:
    """Originals in the top row, their reconstructions from μ below."""
    from PIL import Image

    top = np.concatenate(list(originals.transpose(0, 2, 3, 1)), axis=1)
    bottom = np.concatenate(list(recons.transpose(0, 2, 3, 1)), axis=1)
    grid = np.concatenate([top, bottom], axis=0)
    Image.fromarray((np.clip(grid, 0, 1) * 255).round().astype(np.uint8)).save(path)


def _write_text_reconstructions(
    path: Path,
    data: FrameData,
    vocabulary: Vocabulary | None,
    evaluation: Evaluation,
    config: TrainConfig,
) -> None:
    lines = [
        "# Text reconstructed from each frame's latent mean, verbalised by nearest-neighbour",
        "# lookup of every predicted vector in the vocabulary (teacher forcing: the decoder",
        "# reads the true previous word).",
        "",
    ]
    if vocabulary is None or evaluation.predicted_text is None:
        lines.append("(no text model: the run has no text or the ablation uses none)")
    else:
        with_text = [i for i in range(data.n_frames) if int(data.lengths[i]) > 0]
        picks = reconstruction_sample(len(with_text), 10) if with_text else np.zeros(0, int)
        chosen = [with_text[i] for i in picks]
        for frame in chosen:
            length = int(data.lengths[frame])
            original = [vocabulary.tokens[i] for i in data.token_ids[frame, :length].tolist()]
            predicted = vocabulary.nearest(evaluation.predicted_text[frame])
            lines += [
                f"frame {frame} ({data.time_s[frame]:.1f} s)",
                f"  original:      {_join_tokens(original)}",
                f"  reconstructed: {_join_tokens(predicted)}",
                "",
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _join_tokens(tokens: list[str]) -> str:
    text = ""
    for token in tokens:
        if token.startswith("##"):
            text += token[2:]
        else:
            text += (" " if text else "") + token
    return text


def _csv_value(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"
