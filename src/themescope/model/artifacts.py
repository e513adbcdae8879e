"""What the train stage leaves for people and other tools: latents, model files, log, pictures.

``latents.npy`` (μ per frame), ``model/`` (weights as safetensors, config, vocabulary
and embeddings; never pickle), ``train_log.csv`` (the report draws the loss curves
from it), ``reconstructions.png`` (originals above their reconstructions) and
``text_reconstructions.txt`` (token vectors decoded from μ alone, free-running, verbalised
by nearest-neighbour lookup).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from themescope._atomic import write_json_atomic
from themescope.errors import ModelLoadError
from themescope.model.config import TrainConfig
from themescope.model.crvae import CRVAE, count_parameters
from themescope.model.data import FrameData
from themescope.model.text import MEAN_PREFIX, Vocabulary
from themescope.model.trainer import Evaluation, Trainer
from themescope.rundir import RunDirectory, os_errors

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
        st.path("text_reconstructions.txt"), data, vocabulary, evaluation, trainer
    )


def read_trained_config(model_dir: Path) -> TrainConfig:
    """The configuration the model in ``model_dir`` was trained with (its ``config.json``).

    Raises:
        ModelLoadError: The file is missing or damaged.
    """
    import json

    try:
        saved = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        return TrainConfig.from_dict(saved["config"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"cannot load the trained model in {model_dir}: {exc}") from exc


def load_model(model_dir: Path, device: Any) -> tuple[CRVAE, Vocabulary | None]:
    """Load the CRVAE and its vocabulary that :func:`write_outputs` wrote into ``model_dir``.

    Args:
        model_dir: A run's or a study's ``model/``.
        device: The ``torch.device`` to load it onto.

    Raises:
        ModelLoadError: A file is missing or damaged, or the weights do not fit the config.
    """
    import json

    import msgspec
    from safetensors import SafetensorError
    from safetensors.numpy import load_file as load_numpy
    from safetensors.torch import load_file

    from themescope.manifest import EmbeddingSource

    config = read_trained_config(model_dir)
    try:
        vocabulary = None
        if config.uses_text:
            vocab = json.loads((model_dir / "vocab.json").read_text(encoding="utf-8"))
            tensors = load_numpy(str(model_dir / "embeddings.safetensors"))
            vocabulary = Vocabulary(
                tokens=list(vocab["tokens"]),
                vectors=tensors["vectors"],
                known=np.asarray(vocab["known"], dtype=bool),
                source=msgspec.convert(vocab["source"], EmbeddingSource),
                language_means={
                    key.removeprefix(MEAN_PREFIX): value
                    for key, value in tensors.items()
                    if key.startswith(MEAN_PREFIX)
                },
            )
        weights = load_file(str(model_dir / "weights.safetensors"))
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
        raise ModelLoadError(f"cannot load the trained model in {model_dir}: {exc}") from exc
    import torch

    vectors = None if vocabulary is None else torch.from_numpy(vocabulary.vectors)
    model = CRVAE(config, vectors)
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[-1].strip()
        raise ModelLoadError(f"the weights in {model_dir} do not fit its config ({first})") from exc
    model.to(device)
    if device.type == "cpu" and config.uses_images:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return model, vocabulary


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


_FREE_HEADER = (
    "# Text decoded from each frame's latent mean alone: the decoder starts from the latent",
    "# and reads back its own previous prediction, never the true words (free-running).",
    "# Each predicted vector is shown as its nearest word in the vocabulary; the words",
    "# that match the original are what the latent holds of the frame's text.",
)
_FORCED_HEADER = (
    "# Teacher-forced (a bidirectional decoder cannot write free-running): each word is",
    "# predicted from the true previous word, so the lines match the originals almost",
    "# whatever the latent holds. They show the decoder at work, not the latent's content.",
)


def _write_text_reconstructions(
    path: Path,
    data: FrameData,
    vocabulary: Vocabulary | None,
    evaluation: Evaluation,
    trainer: Trainer,
) -> None:
    free = trainer.model.can_generate_text
    lines = [*(_FREE_HEADER if free else _FORCED_HEADER), ""]
    if vocabulary is None or evaluation.predicted_text is None:
        lines.append("(no text model: the run has no text or the ablation uses none)")
    else:
        with_text = [i for i in range(data.n_frames) if int(data.lengths[i]) > 0]
        picks = reconstruction_sample(len(with_text), 10) if with_text else np.zeros(0, int)
        chosen = [with_text[i] for i in picks]
        if free and chosen:
            # evaluation.mu is indexed as data is (latents may hold frames not trained on).
            predicted = _generate(trainer, evaluation.mu[chosen], int(data.lengths[chosen].max()))
        for row, frame in enumerate(chosen):
            length = int(data.lengths[frame])
            original = [vocabulary.tokens[i] for i in data.token_ids[frame, :length].tolist()]
            vectors = predicted[row, :length] if free else evaluation.predicted_text[frame]
            lines += [
                f"frame {frame} ({data.time_s[frame]:.1f} s)",
                f"  original:      {_join_tokens(original)}",
                f"  reconstructed: {_join_tokens(vocabulary.nearest(vectors))}",
                "",
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _generate(trainer: Trainer, mu: np.ndarray, n_tokens: int) -> np.ndarray:
    """Free-running token vectors from latent means, shape (n_frames, n_tokens, dim)."""
    import torch

    model = trainer.model.eval()
    with torch.inference_mode():
        z = torch.from_numpy(np.ascontiguousarray(mu)).to(trainer.device)
        return model.generate_text(z, n_tokens).float().cpu().numpy()


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
