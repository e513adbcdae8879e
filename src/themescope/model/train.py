"""The train stage: fit the CRVAE on a run's frames and write the latent vector of each frame.

Reads ``frames.parquet`` and ``frames/`` (ingest); writes ``latents.npy``, ``model/``,
``train_log.csv``, ``reconstructions.png`` and
``text_reconstructions.txt`` (:mod:`themescope.model.artifacts`), and records PSNR
and text cosine in the manifest. The loop lives in :mod:`themescope.model.trainer`,
resumable checkpoints in :mod:`themescope.model.checkpoint`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from themescope._format import decimals
from themescope.devices import resolve_device, torch_threads
from themescope.errors import CheckpointError, ModelLoadError, TrainingError
from themescope.manifest import IngestRecord, TrainRecord
from themescope.model.config import AUTO_VECTORS, MULTILINGUAL, TrainConfig
from themescope.model.data import FrameData
from themescope.model.text import Vocabulary, WordVectorFile
from themescope.model.trainer import EpochCallback
from themescope.rundir import RunDirectory, Stage, StageResult, StageWriter, run_stage

logger = logging.getLogger("themescope")

# Share of unknown tokens above which the text path is warned to carry little information.
UNKNOWN_WARN_RATE = 0.2


class TrainStage(Stage):
    """Train the CRVAE on an ingested run.

    Args:
        config: Training configuration; the ``fast`` preset when None.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        resume: Continue from the checkpoint an interrupted run left behind.
        callback: Called after each epoch (after any checkpoint) with its stats; returning
            True stops training there.
    """

    name = "train"
    needs = ("ingest",)
    record = TrainRecord
    files = (
        "latents.npy",
        "model",
        "train_log.csv",
        "reconstructions.png",
        "text_reconstructions.txt",
    )
    config_section = "train"
    command = "train"
    kinds = ("run", "study", "comparison")

    def __init__(
        self,
        config: TrainConfig | None = None,
        *,
        device: str = "auto",
        resume: bool = False,
        callback: EpochCallback | None = None,
    ) -> None:
        self.config = config if config is not None else TrainConfig.preset("fast")
        self.device = device
        self.resume = resume
        self.callback = callback

    def check(self) -> None:
        """Check the device, the memory the sizes need and the word vectors, before any work."""
        from themescope.model.crvae import available_memory_bytes, check_training_memory

        resolve_device(self.device)
        check_training_memory(self.config, available_memory_bytes())
        vectors = self.config.word_vectors
        if vectors not in (None, "none", MULTILINGUAL, AUTO_VECTORS):
            if not Path(str(vectors)).is_file():
                raise ModelLoadError(
                    f"word-vector file {vectors} does not exist (--word-vectors takes a GloVe / "
                    f"word2vec text file, {MULTILINGUAL!r} for the multilingual phrase "
                    f"embedder, or {AUTO_VECTORS!r} to choose by the run's language)"
                )
            WordVectorFile(str(vectors)).check()

    def fallback(self, problem: Exception) -> Stage | None:
        """Train from the start when the checkpoint to resume no longer fits.

        An interrupted training left a checkpoint; resuming it gives the same result as an
        uninterrupted run. One that no longer fits (settings changed since, or damaged) is
        only a cache: start over instead.
        """
        if not self.resume or not isinstance(problem, CheckpointError):
            return None
        logger.warning("not resuming: %s; training from the start", problem.problem)
        return TrainStage(self.config, device=self.device, resume=False, callback=self.callback)

    def settings(self) -> dict[str, Any]:
        """The training settings and the device asked for."""
        return {**self.config.to_dict(), "device": self.device}

    def fingerprint_parts(self) -> Any:
        """Every setting but the runtime ones (threads, checkpoint interval) and the device.

        ``auto`` word vectors resolve from the ingest record's language, which the
        ingest fingerprint (part of this stage's) fixes.
        """
        return self.config.fingerprinted()

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Train, evaluate and write the artifacts; the checkpoint goes when done."""
        from themescope.model.checkpoint import CHECKPOINT_DIR, TrainingCheckpoint

        ingest_fp = run.require("ingest").fingerprint
        checkpoint = TrainingCheckpoint(run / CHECKPOINT_DIR, ingest_fp)
        with torch_threads(self.config.n_threads):
            self._train(run, writer, checkpoint)
        checkpoint.remove()

    def _train(self, run: RunDirectory, st: StageWriter, checkpoint: Any) -> None:
        import torch

        from themescope.model.artifacts import reconstruction_sample, write_outputs
        from themescope.model.crvae import count_parameters
        from themescope.model.data import stream_batches
        from themescope.model.trainer import Trainer

        requested = self.config
        device = resolve_device(self.device)
        started = time.perf_counter()
        config, data, vocabulary, word_vectors = _training_data(run, requested, st.warn)
        load_s = time.perf_counter() - started

        trainer = Trainer(config, data, vocabulary, device, checkpoint)
        if self.resume:
            checkpoint.restore(trainer)
        elif checkpoint.exists():
            logger.info(
                "an interrupted training left a checkpoint in %s; starting over "
                "(themescope train --resume continues one)",
                checkpoint.folder,
            )
        trainer.fit(self.callback)
        if trainer.collapsed_kl is not None:
            st.warn(
                f"posterior collapse: the KL term fell to {trainer.collapsed_kl:.4f} nats per "
                "latent dimension; the latents may carry little information "
                "(lower kl_weight or lengthen kl_warmup_epochs)"
            )
        evaluation = trainer.evaluate(
            keep=data.learn_ids[reconstruction_sample(len(data.learn_ids))]
        )
        latents = evaluation.mu
        if data.sampled:
            st_started = time.perf_counter()
            latents = trainer.encode(
                stream_batches(data, config, n_threads=max(1, torch.get_num_threads()))
            )
            logger.info(
                "trained on %d of %d frames; encoded all in %.1f s",
                data.n_frames,
                data.n_total,
                time.perf_counter() - st_started,
            )
        baseline = _mean_frame_psnr(data)
        psnr = evaluation.psnr_db
        if psnr is not None and baseline is not None and psnr < baseline + 1.0:
            st.warn(
                f"the model reconstructs frames no better than their mean frame "
                f"({psnr:.1f} dB against {baseline:.1f} dB): training failed to learn; "
                f"retrain with a lower --lr (now {config.lr:g}) or more epochs"
            )
        write_outputs(st, run, config, data, vocabulary, trainer, evaluation, latents)
        st.record = TrainRecord(
            psnr_db=evaluation.psnr_db,
            mean_frame_psnr_db=baseline,
            lr=config.lr,
            text_cosine=evaluation.text_cosine,
            image_mse=evaluation.image_mse,
            epochs=trainer.epoch,
            epochs_planned=trainer.n_epochs,
            stopped_early=trainer.stopped_early,
            stop_reason=trainer.stop_reason,
            device=str(device),
            preset=requested.preset_name,
            ablation=config.ablation,
            unknown_word_rate=data.text.unknown_word_rate if data.text else None,
            n_params=count_parameters(trainer.model),
            n_frames=data.n_total,
            n_frames_trained=data.n_frames,
            n_frames_learned=len(data.learn_ids),
            n_frames_with_text=data.n_with_text,
            latent_dim=config.latent_dim,
            train_seconds=round(trainer.train_s, 3),
            seconds_per_epoch=round(trainer.train_s / max(1, trainer.epochs_this_session), 4),
            load_seconds=round(load_s, 3),
            embeddings=vocabulary.source if vocabulary is not None else None,
            word_vectors=word_vectors,
        )
        logger.info(
            "trained %d epochs in %.1f s: PSNR %s dB, text cosine %s",
            trainer.epoch,
            trainer.train_s,
            decimals(evaluation.psnr_db, 3),
            decimals(evaluation.text_cosine, 3),
        )


def train(
    run: RunDirectory | str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    device: str = "auto",
    callback: EpochCallback | None = None,
) -> StageResult:
    """Train the CRVAE on a run and write its latents and model.

    Args:
        run: The run directory (ingest done).
        config: Training configuration; the ``fast`` preset when None.
        resume: Continue from the checkpoint an interrupted run left behind.
        force: Train even when the stage is current.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        callback: Called after each epoch (after any checkpoint) with its stats; returning
            True stops training there.

    Returns:
        The stage's result; ``result.record`` is the manifest's
        :class:`~themescope.manifest.TrainRecord` (``psnr_db``, ``text_cosine``, ...).

    Raises:
        StageNotDoneError: The run has not been ingested.
        TrainingError: Too few frames, or the loss became NaN or infinite.
        CheckpointError: ``resume`` with a corrupt or incompatible checkpoint.
        ModelLoadError: The word-vector file is missing or malformed.

    Example:
        >>> result = train("runs/us", TrainConfig.preset("fast"))  # doctest: +SKIP
        >>> result.record.psnr_db  # doctest: +SKIP
        24.3
    """
    stage = TrainStage(config, device=device, resume=resume, callback=callback)
    return run_stage(run, stage, force=force)


def retrain_latents(
    run: RunDirectory, config: TrainConfig, *, seed: int, device: str = "auto"
) -> np.ndarray:
    """Train the CRVAE on ``run`` again as the train stage did, with another seed.

    The stability refits of the model (``themes.stability_refit_model``) ask what of the
    themes survives another training: the same frames and settings, ``seed`` instead of
    ``config.seed`` for every random choice of training (the initial weights, the batch
    order and, where training takes a sample, which frames). Nothing is written into the
    run; the train stage's warnings, said once already, are only logged.

    Args:
        run: A run or study whose train stage is done.
        config: The configuration the run's model was trained with.
        seed: The refit's seed.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.

    Returns:
        μ of every frame, shape (n_frames, latent_dim), as ``latents.npy`` holds it.
    """
    import torch

    from themescope.model.data import stream_batches
    from themescope.model.trainer import Trainer

    config = config.replace(seed=seed)
    with torch_threads(config.n_threads):
        config, data, vocabulary, _ = _training_data(run, config, logger.info)
        trainer = Trainer(config, data, vocabulary, resolve_device(device))
        trainer.fit(None)
        return trainer.encode(
            stream_batches(data, config, n_threads=max(1, torch.get_num_threads()))
        )


def _training_data(
    run: RunDirectory, config: TrainConfig, warn: Callable[[str], None]
) -> tuple[TrainConfig, FrameData, Vocabulary | None, str | None]:
    """Load what training needs and fit ``config`` to it (no text: the image-only model).

    Returns:
        The configuration to train with, the frames, the text path's vocabulary (None
        without one) and the word space resolved.
    """
    import torch

    from themescope.model.data import load_frame_data
    from themescope.model.text import embeddings_for

    ingest = run.require("ingest")
    lang = ingest.lang if isinstance(ingest, IngestRecord) else "und"
    word_vectors = config.resolved_word_vectors(lang)
    embeddings = embeddings_for(word_vectors) if config.uses_text else None
    data = load_frame_data(run, config, embeddings, n_threads=max(1, torch.get_num_threads()))
    if data.n_frames < 2:
        raise TrainingError(
            f"{run.path} has {data.n_frames} frame(s); training needs at least 2 "
            "(batch normalisation and clustering need several); ingest a longer video "
            "or sample more often with --every"
        )
    if data.n_frames < 8:
        warn(
            f"only {data.n_frames} frames: the latents will say little and themes need "
            "more frames; ingest a longer video or sample more often"
        )
    config = _adapt_to_text(config, data, warn)
    config = _image_only_rate(config)
    if config.uses_text and data.text is not None and data.text.n_tokens:
        rate = data.text.unknown_word_rate
        if rate > UNKNOWN_WARN_RATE:
            warn(
                f"{rate:.0%} of the {data.text.n_tokens} tokens have no pretrained vector in "
                f"{data.text.vocabulary.source.name}; the text path carries less "
                f"information (pass --word-vectors {MULTILINGUAL}, which knows every word, "
                "or a word-vector file for this language)"
            )
    vocabulary = data.text.vocabulary if (config.uses_text and data.text) else None
    return config, data, vocabulary, word_vectors


def _adapt_to_text(
    config: TrainConfig, data: FrameData, warn: Callable[[str], None]
) -> TrainConfig:
    """Fall back to the image-only model when no frame has text."""
    if not config.uses_text or data.n_with_text > 0:
        return config
    if config.ablation == "text-only":
        raise TrainingError(
            f"none of the {data.n_frames} frames has text, so the text-only model cannot train; "
            "ingest with subtitles or choose another --ablation"
        )
    warn(
        f"none of the {data.n_frames} frames has text: training the image-only model "
        f"instead of {config.ablation!r}"
    )
    return config.replace(ablation="image-only")


# The fast preset's peak rate suits the model with text; the image-only model trained
# with it sometimes never leaves the mean frame (measured on the 4-min benchmark video
# with 2 threads: 11.3 dB at 3e-3, 24.7 dB at 1e-3).
IMAGE_ONLY_FAST_LR = 1e-3


def _image_only_rate(config: TrainConfig) -> TrainConfig:
    """Use the image-only model's safe rate when the fast preset's default rate is in force."""
    fast_lr = TrainConfig.preset("fast").lr
    if config.ablation == "image-only" and config.preset_name == "fast" and config.lr == fast_lr:
        logger.info("image-only model: learning rate %g instead of %g", IMAGE_ONLY_FAST_LR, fast_lr)
        return config.replace(lr=IMAGE_ONLY_FAST_LR)
    return config


def _mean_frame_psnr(data: FrameData) -> float | None:
    """PSNR of predicting every frame by the run's mean frame (what a useless model does)."""
    if data.images is None:
        return None
    # The frames the model learned, as its PSNR is; in slices, not one more copy of them all.
    learned = data.learn_ids
    slices = [learned[i : i + 256] for i in range(0, len(learned), 256)]
    mean = sum(data.images[ids].sum(dim=0) for ids in slices) / max(1, len(learned))
    squared = sum(float(((data.images[ids] - mean) ** 2).sum()) for ids in slices)
    mse = squared / max(1, len(learned) * data.images[0].numel())
    return round(10 * math.log10(1.0 / max(mse, 1e-12)), 3)


__all__ = ["TrainStage", "retrain_latents", "train"]
