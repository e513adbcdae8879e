"""Resumable training checkpoints: the whole training state as safetensors + JSON (never pickle).

While the train stage runs, ``RUN/.train-checkpoint/`` holds the latest checkpoint
(replaced atomically); the stage removes it when it completes. A checkpoint is only
restored into a run with the same frames (ingest fingerprint) and the same settings,
except those of the ``resumable`` and ``runtime`` categories.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import torch

from themescope._atomic import write_json_atomic
from themescope._versioned import decode_error_text
from themescope.errors import CheckpointError
from themescope.manifest import StageSettings
from themescope.model.config import TrainConfig
from themescope.model.trainer import EpochStats
from themescope.rundir import os_errors, sha256_file

if TYPE_CHECKING:
    from themescope.model.trainer import Trainer

logger = logging.getLogger("themescope")

CHECKPOINT_DIR = ".train-checkpoint"
CHECKPOINT_SCHEMA = 1
RESUMABLE = frozenset(TrainConfig.names("resumable", "runtime"))
"""Settings that may differ between an interrupted training and its resumption."""


class EarlyStoppingState(msgspec.Struct, kw_only=True):
    """The smoothed image and text losses and their best values (None: not finite yet)."""

    ema: list[float] | None = None
    best: list[float | None] = msgspec.field(default_factory=lambda: [None, None])


class CheckpointState(msgspec.Struct, kw_only=True):
    """``state.json``: everything of the training state but the tensors.

    Attributes:
        schema_version: Version of this layout.
        epoch: Epochs done.
        step: Optimiser steps done.
        config: The training settings it was written with.
        ingest_fingerprint: Fingerprint of the frames it was trained on.
        n_frames: Frames of the run.
        vocab_size: Tokens of the run's vocabulary (0 without text).
        log: One row of losses per epoch done.
        early_stopping: Early stopping's state.
        n_bad: Epochs in a row without improvement.
        train_s: Training seconds so far.
        param_groups: The optimiser's parameter groups, as torch gives them.
        sha256: SHA-256 of ``state.safetensors``.
    """

    schema_version: int = CHECKPOINT_SCHEMA
    epoch: int
    step: int
    config: StageSettings
    ingest_fingerprint: str
    n_frames: int
    vocab_size: int
    log: list[EpochStats]
    early_stopping: EarlyStoppingState = msgspec.field(default_factory=EarlyStoppingState)
    n_bad: int = 0
    train_s: float = 0.0
    param_groups: list[dict[str, Any]]
    sha256: str


class TrainingCheckpoint:
    """The checkpoint folder of one run's training.

    Args:
        folder: Where the checkpoint lives (``RUN/.train-checkpoint``).
        ingest_fp: Fingerprint of the frames it was trained on.
    """

    def __init__(self, folder: Path, ingest_fp: str) -> None:
        self.folder = folder
        self.ingest_fp = ingest_fp

    def exists(self) -> bool:
        """Whether an interrupted training left a checkpoint here."""
        return self.folder.exists()

    def remove(self) -> None:
        """Delete the checkpoint (the stage completed)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def save(self, trainer: Trainer) -> None:
        """Write the full training state atomically (replacing the previous checkpoint)."""
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {
            f"model/{k}": v.detach().cpu().contiguous()
            for k, v in trainer.model.state_dict().items()
        }
        optim_state = trainer.optimizer.state_dict()
        for index, state in optim_state["state"].items():
            for key, value in state.items():
                tensors[f"optim/{index}/{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
        tensors["rng/generator"] = trainer.generator.get_state()
        staging = self.folder.with_name(f"{CHECKPOINT_DIR}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        weights = staging / "state.safetensors"
        try:
            with os_errors(weights):
                save_file(tensors, str(weights))
            state = CheckpointState(
                epoch=trainer.epoch,
                step=trainer.step,
                config=trainer.config.to_dict(),
                ingest_fingerprint=self.ingest_fp,
                n_frames=trainer.data.n_frames,
                vocab_size=_vocab_size(trainer),
                log=list(trainer.log),
                early_stopping=EarlyStoppingState(
                    ema=trainer.ema, best=[_finite_or_none(b) for b in trainer.best]
                ),
                n_bad=trainer.n_bad,
                train_s=trainer.train_s,
                param_groups=optim_state["param_groups"],
                sha256=sha256_file(weights),
            )
            write_json_atomic(staging / "state.json", msgspec.to_builtins(state))
        except BaseException:
            # A half-written checkpoint is no checkpoint; the previous one stays as it was.
            shutil.rmtree(staging, ignore_errors=True)
            raise
        old = self.folder.with_name(f"{CHECKPOINT_DIR}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            os.replace(self.folder, old)
        os.replace(staging, self.folder)
        shutil.rmtree(old, ignore_errors=True)

    def restore(self, trainer: Trainer) -> None:
        """Restore the state of the checkpoint, refusing a corrupt or incompatible one."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = self.folder
        meta_path = folder / "state.json"
        weights_path = folder / "state.safetensors"
        if not meta_path.is_file():
            logger.info("no checkpoint in %s; training from the start", folder)
            return
        meta = read_state(meta_path)
        self._check_compatible(trainer, meta, folder)
        if not weights_path.is_file() or sha256_file(weights_path) != meta.sha256:
            raise CheckpointError(
                f"checkpoint {weights_path} is missing or corrupt (its sha256 does not match "
                "state.json)",
                folder,
            )
        try:
            tensors = load_file(str(weights_path))
        except (OSError, SafetensorError) as exc:
            raise CheckpointError(f"checkpoint {weights_path} is corrupt ({exc})", folder) from exc
        model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}
        try:
            trainer.model.load_state_dict(model_state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise CheckpointError(
                f"checkpoint in {folder} does not fit this model ({first[-1].strip()})", folder
            ) from exc
        if trainer.device.type == "cpu" and trainer.config.uses_images:
            trainer.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        optim_state: dict[str, Any] = {"state": {}, "param_groups": meta.param_groups}
        for key, value in tensors.items():
            if key.startswith("optim/"):
                _, index, name = key.split("/", 2)
                optim_state["state"].setdefault(int(index), {})[name] = value
        trainer.optimizer.load_state_dict(optim_state)
        # Checkpoints hold contiguous tensors; the fused Adam kernel walks raw memory, so its
        # moments must have the same strides as their (channels-last) parameters again.
        for param, state in trainer.optimizer.state.items():
            for name, value in state.items():
                if isinstance(value, torch.Tensor) and value.shape == param.shape:
                    state[name] = torch.empty_like(param).copy_(value)
        trainer.generator.set_state(tensors["rng/generator"])
        trainer.epoch = meta.epoch
        trainer.step = meta.step
        trainer.log = list(meta.log)
        trainer.ema = meta.early_stopping.ema
        trainer.best = [math.inf if b is None else b for b in meta.early_stopping.best]
        trainer.n_bad = meta.n_bad
        trainer.train_s = meta.train_s
        logger.info("resuming from the checkpoint of epoch %d in %s", trainer.epoch, folder)

    def _check_compatible(self, trainer: Trainer, meta: CheckpointState, folder: Path) -> None:
        if meta.ingest_fingerprint != self.ingest_fp or meta.n_frames != trainer.data.n_frames:
            raise CheckpointError(
                f"checkpoint in {folder} was trained on other frames (ingest fingerprint "
                f"{meta.ingest_fingerprint}, {meta.n_frames} frames; this run has "
                f"{self.ingest_fp}, {trainer.data.n_frames})",
                folder,
            )
        saved = meta.config
        current = trainer.config.to_dict()
        differences = [
            f"{name}={saved.get(name)!r} there, {current[name]!r} here"
            for name in current
            if name not in RESUMABLE and saved.get(name) != current[name]
        ]
        if differences:
            raise CheckpointError(
                f"checkpoint in {folder} was written with another configuration "
                f"({'; '.join(differences[:3])})",
                folder,
            )
        # Resuming past the new end would train more epochs than planned, and one ending there
        # would keep the old plan's learning-rate schedule: neither is the run now asked for.
        epoch = meta.epoch
        if epoch >= trainer.n_epochs:
            raise CheckpointError(
                f"checkpoint in {folder} is at epoch {epoch}, and this training plans "
                f"{trainer.n_epochs} epochs in all",
                folder,
            )
        vocab_size = _vocab_size(trainer)
        if meta.vocab_size != vocab_size:
            raise CheckpointError(
                f"checkpoint in {folder} has a vocabulary of {meta.vocab_size} tokens, "
                f"this run {vocab_size}",
                folder,
            )


class _Header(msgspec.Struct):
    schema_version: Any = None


def read_state(path: Path) -> CheckpointState:
    """Read and validate a checkpoint's ``state.json``.

    Raises:
        CheckpointError: It is unreadable, not a state of this layout, or of another
            schema version (its message ends with the advice to delete the checkpoint).
    """
    folder = path.parent
    try:
        raw = path.read_bytes()
        found = msgspec.json.decode(raw, type=_Header).schema_version
        if found != CHECKPOINT_SCHEMA:
            raise CheckpointError(
                f"checkpoint in {folder} has schema version {found!r}, "
                f"this themescope writes {CHECKPOINT_SCHEMA}",
                folder,
            )
        return msgspec.json.decode(raw, type=CheckpointState)
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path} is corrupt ({exc})", folder) from exc
    except msgspec.DecodeError as exc:
        raise CheckpointError(
            f"checkpoint {path} is corrupt ({decode_error_text(exc)})", folder
        ) from exc


def _vocab_size(trainer: Trainer) -> int:
    return len(trainer.vocabulary.tokens) if trainer.vocabulary is not None else 0


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
