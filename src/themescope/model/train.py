"""The train stage: fit the CRVAE on a run's frames and write the latent vector of each frame.

Reads ``frames.parquet`` and ``frames/`` (ingest); writes ``latents.npy``, ``model/``,
``train_log.csv``, ``loss.png``, ``reconstructions.png`` and
``text_reconstructions.txt``, and records PSNR and text cosine in the manifest.

While it trains, a resumable checkpoint (safetensors + JSON, never pickle) is kept in
``RUN/.train-checkpoint/`` and removed when the stage completes.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from themescope import _progress
from themescope.errors import CheckpointError, ConfigError, TrainingError
from themescope.model.config import DEVICES, TrainConfig
from themescope.model.crvae import CRVAE, count_parameters
from themescope.model.data import FrameData, load_frame_data
from themescope.model.text import Vocabulary, embeddings_for
from themescope.rundir import RunDirectory, fingerprint, sha256_file, write_json_atomic

logger = logging.getLogger("themescope")

CHECKPOINT_DIR = ".train-checkpoint"
CHECKPOINT_SCHEMA = 1
LOG_COLUMNS = ("epoch", "loss", "image_mse", "text_mse", "kl", "beta", "lr", "seconds")
# KL per latent dimension (nats) below which the posterior is considered collapsed.
KL_COLLAPSE_NATS = 0.01
# Share of unknown tokens above which the text path is warned to carry little information.
UNKNOWN_WARN_RATE = 0.2
N_SAMPLE_FRAMES = 8
# Fields that may differ between an interrupted run and its resumption.
_RESUMABLE_CHANGES = {
    "epochs",
    "early_stopping",
    "patience_epochs",
    "min_delta",
    "min_epochs",
    "max_train_s",
    "checkpoint_every",
    "n_threads",
}
# Fields that do not change the trained model (left out of the stage fingerprint).
_NOT_FINGERPRINTED = ("checkpoint_every", "n_threads")


@dataclass
class EpochStats:
    """Losses of one epoch, averaged over its frames (one row of ``train_log.csv``)."""

    epoch: int
    loss: float
    image_mse: float
    text_mse: float
    kl: float
    beta: float
    lr: float
    seconds: float


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes:
        run_path: The run directory.
        latents_path: ``RUN/latents.npy``.
        psnr_db: Image PSNR of the reconstructions from μ (None without images).
        text_cosine: Mean cosine of predicted and true token vectors (None without text).
        epochs: Epochs trained.
        stopped_early: Whether training stopped before its planned epochs.
        seconds: Seconds spent training (without loading and writing).
        skipped: True when the stage was already current and nothing ran.
        record: The stage's manifest record.
    """

    run_path: Path
    latents_path: Path
    psnr_db: float | None
    text_cosine: float | None
    epochs: int
    stopped_early: bool
    seconds: float
    skipped: bool = False
    record: dict[str, Any] = field(default_factory=dict)


EpochCallback = Callable[[EpochStats], bool | None]


def resolve_device(device: str) -> torch.device:
    """Return the torch device for ``auto``, ``cpu``, ``cuda`` or ``mps``.

    ``auto`` takes CUDA when available, then Apple's MPS, else the CPU.

    Raises:
        ConfigError: The name is unknown or that device is not available.
    """
    if device not in DEVICES:
        raise ConfigError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"--device cuda was asked for, but this torch ({torch.__version__}) sees no CUDA GPU"
        )
    if device == "mps" and not has_mps:
        raise ConfigError("--device mps was asked for, but MPS is not available here")
    return torch.device(device)


def train(
    run: RunDirectory | str | Path,
    config: TrainConfig | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    device: str = "auto",
    callback: EpochCallback | None = None,
) -> TrainResult:
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
        What was done; ``skipped`` is True when the stage was already current.

    Raises:
        StageNotDoneError: The run has not been ingested.
        TrainingError: Too few frames, or the loss became NaN or infinite.
        CheckpointError: ``resume`` with a corrupt or incompatible checkpoint.
        ModelLoadError: The word-vector file is missing or malformed.

    Example:
        >>> result = train("runs/us", TrainConfig.preset("fast"))  # doctest: +SKIP
        >>> result.psnr_db  # doctest: +SKIP
        24.3
    """
    config = TrainConfig.preset("fast") if config is None else config
    config.validate()
    run = run if isinstance(run, RunDirectory) else RunDirectory(run)
    torch_device = resolve_device(device)
    with run.lock():
        upstream = run.require("ingest")
        config_dict = config.to_dict()
        fp = fingerprint(
            {k: v for k, v in config_dict.items() if k not in _NOT_FINGERPRINTED},
            upstream.get("fingerprint"),
        )
        if run.is_current("train", fp) and not force:
            logger.info("train is up to date in %s; skipped (use --force to redo)", run.path)
            return _result_from_record(run, run.stage_record("train") or {}, skipped=True)
        with _torch_threads(config.n_threads):
            return _train_stage(
                run, config, fp, str(upstream.get("fingerprint")), torch_device, resume, callback
            )


def _train_stage(
    run: RunDirectory,
    config: TrainConfig,
    stage_fp: str,
    ingest_fp: str,
    device: torch.device,
    resume: bool,
    callback: EpochCallback | None,
) -> TrainResult:
    requested = config
    with run.stage("train", stage_fingerprint=stage_fp, config=requested.to_dict()) as st:
        started = time.perf_counter()
        embeddings = embeddings_for(config.word_vectors) if config.uses_text else None
        data = load_frame_data(run, config, embeddings, n_threads=max(1, torch.get_num_threads()))
        if data.n_frames < 2:
            raise TrainingError(
                f"{run.path} has {data.n_frames} frame(s); training needs at least 2 "
                "(batch normalisation and clustering need several); ingest a longer video "
                "or sample more often with --every"
            )
        if data.n_frames < 8:
            st.warn(
                f"only {data.n_frames} frames: the latents will say little and themes need "
                "more frames; ingest a longer video or sample more often"
            )
        config = _adapt_to_text(config, data, st.warn)
        config = _image_only_rate(config)
        if config.uses_text and data.text is not None and data.text.n_tokens:
            rate = data.text.unknown_word_rate
            if rate > UNKNOWN_WARN_RATE:
                st.warn(
                    f"{rate:.0%} of the {data.text.n_tokens} tokens have no pretrained vector in "
                    f"{data.text.vocabulary.source.get('name')}; the text path carries less "
                    "information (pass --word-vectors with vectors for this language)"
                )
        vocabulary = data.text.vocabulary if (config.uses_text and data.text) else None
        load_s = time.perf_counter() - started

        trainer = _Trainer(run, config, data, vocabulary, device, ingest_fp)
        if resume:
            trainer.resume()
        elif (run.path / CHECKPOINT_DIR).exists():
            logger.info(
                "an interrupted training left a checkpoint in %s; starting over "
                "(pass --resume to continue it)",
                run.path / CHECKPOINT_DIR,
            )
        trainer.fit(callback)
        if trainer.collapsed_kl is not None:
            st.warn(
                f"posterior collapse: the KL term fell to {trainer.collapsed_kl:.4f} nats per "
                "latent dimension; the latents may carry little information "
                "(lower kl_weight or lengthen kl_warmup_epochs)"
            )
        evaluation = trainer.evaluate()
        baseline = _mean_frame_psnr(data)
        psnr = evaluation.psnr_db
        if psnr is not None and baseline is not None and psnr < baseline + 1.0:
            st.warn(
                f"the model reconstructs frames no better than their mean frame "
                f"({psnr:.1f} dB against {baseline:.1f} dB): training failed to learn; "
                f"retrain with a lower --lr (now {config.lr:g}) or more epochs"
            )
        _write_outputs(st, run, config, data, vocabulary, trainer, evaluation)
        st.record.update(
            {
                "psnr_db": evaluation.psnr_db,
                "mean_frame_psnr_db": baseline,
                "lr": config.lr,
                "text_cosine": evaluation.text_cosine,
                "image_mse": evaluation.image_mse,
                "epochs": trainer.epoch,
                "epochs_planned": trainer.n_epochs,
                "stopped_early": trainer.stopped_early,
                "stop_reason": trainer.stop_reason,
                "device": str(device),
                "preset": requested.preset_name,
                "ablation": config.ablation,
                "unknown_word_rate": data.text.unknown_word_rate if data.text else None,
                "n_params": count_parameters(trainer.model),
                "n_frames": data.n_frames,
                "n_frames_with_text": data.n_with_text,
                "latent_dim": config.latent_dim,
                "train_seconds": round(trainer.train_s, 3),
                "seconds_per_epoch": round(
                    trainer.train_s / max(1, trainer.epochs_this_session), 4
                ),
                "load_seconds": round(load_s, 3),
                "embeddings": vocabulary.source if vocabulary is not None else None,
            }
        )
        record = dict(st.record)
    shutil.rmtree(run.path / CHECKPOINT_DIR, ignore_errors=True)
    full = run.stage_record("train") or record
    logger.info(
        "trained %d epochs in %.1f s: PSNR %s dB, text cosine %s",
        trainer.epoch,
        trainer.train_s,
        _fmt(evaluation.psnr_db),
        _fmt(evaluation.text_cosine),
    )
    return _result_from_record(run, full)


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
    return dataclasses.replace(config, ablation="image-only")


# The fast preset's peak rate suits the model with text; the image-only model trained
# with it sometimes never leaves the mean frame (measured on the 4-min benchmark video
# with 2 threads: 11.3 dB at 3e-3, 24.7 dB at 1e-3).
IMAGE_ONLY_FAST_LR = 1e-3


def _image_only_rate(config: TrainConfig) -> TrainConfig:
    """Use the image-only model's safe rate when the fast preset's default rate is in force."""
    fast_lr = TrainConfig.preset("fast").lr
    if config.ablation == "image-only" and config.preset_name == "fast" and config.lr == fast_lr:
        logger.info("image-only model: learning rate %g instead of %g", IMAGE_ONLY_FAST_LR, fast_lr)
        return dataclasses.replace(config, lr=IMAGE_ONLY_FAST_LR)
    return config


def _mean_frame_psnr(data: FrameData) -> float | None:
    """PSNR of predicting every frame by the run's mean frame (what a useless model does)."""
    if data.images is None:
        return None
    mse = float(((data.images - data.images.mean(dim=0)) ** 2).mean())
    return round(10 * math.log10(1.0 / max(mse, 1e-12)), 3)


@dataclass
class _Evaluation:
    mu: np.ndarray
    psnr_db: float | None
    image_mse: float | None
    text_cosine: float | None
    recon_images: np.ndarray | None
    predicted_text: list[np.ndarray] | None


class _Trainer:
    """The optimisation loop with its resumable state."""

    def __init__(
        self,
        run: RunDirectory,
        config: TrainConfig,
        data: FrameData,
        vocabulary: Vocabulary | None,
        device: torch.device,
        ingest_fp: str,
    ) -> None:
        self.run = run
        self.config = config
        self.data = data
        self.vocabulary = vocabulary
        self.device = device
        self.ingest_fp = ingest_fp
        vectors = torch.from_numpy(vocabulary.vectors) if vocabulary is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = CRVAE(config, vectors)
        if data.images is not None:
            self.model.init_mean_image(data.images.mean(dim=0))
        self.model.to(device)
        if device.type == "cpu" and config.uses_images:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.optimizer = torch.optim.Adam(
            fused=True, params=[p for p in self.model.parameters() if p.requires_grad], lr=config.lr
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.images = data.images.to(device) if data.images is not None else None
        if self.images is not None and device.type == "cpu":
            self.images = self.images.contiguous(memory_format=torch.channels_last)
        self.token_ids = data.token_ids.to(device)
        self.lengths = data.lengths
        self.n_batches = len(_batches(torch.arange(data.n_frames), config.batch_size))
        # A longer video has more steps per epoch and needs fewer epochs, a shorter one more:
        # min_steps and max_steps bound the planned epochs (and so the learning-rate cycle)
        # by the number of updates.
        self.n_epochs = config.epochs
        if config.min_steps:
            self.n_epochs = max(self.n_epochs, math.ceil(config.min_steps / self.n_batches))
        if config.max_steps:
            self.n_epochs = min(self.n_epochs, max(1, math.ceil(config.max_steps / self.n_batches)))
        self.epoch = 0
        self.step = 0
        self.log: list[EpochStats] = []
        # Smoothed image and text losses and their best values: training has plateaued only
        # when neither improves (the text loss levels off long before the image loss).
        self.ema: list[float] | None = None
        self.best = [math.inf, math.inf]
        self.n_bad = 0
        self.train_s = 0.0
        self.epochs_this_session = 0
        self.stopped_early = False
        self.stop_reason = "max_epochs"
        self.collapsed_kl: float | None = None

    # -- schedule ---------------------------------------------------------------------------

    def lr_at(self, step: int) -> float:
        """Learning rate of optimiser step ``step`` (a pure function, so resuming is exact)."""
        config = self.config
        if config.lr_schedule == "constant":
            return config.lr
        total = max(1, self.n_epochs * self.n_batches)
        warm = max(1, int(config.warmup_fraction * total))
        if step < warm:
            return config.lr * (0.04 + 0.96 * step / warm)
        # Hold the peak, then decay along a cosine over the last ``decay_fraction`` of steps.
        decay_start = total - max(1, int(config.decay_fraction * (total - warm)))
        if step < decay_start:
            return config.lr
        progress = min(1.0, (step - decay_start) / max(1, total - decay_start))
        return config.lr * (0.001 + 0.999 * 0.5 * (1 + math.cos(math.pi * progress)))

    def beta_at(self, step: int) -> float:
        """KL weight of optimiser step ``step``: linear warm-up to ``kl_weight``."""
        warm_steps = self.config.kl_warmup_epochs * self.n_batches
        if warm_steps <= 0:
            return self.config.kl_weight
        return self.config.kl_weight * min(1.0, step / warm_steps)

    # -- training ---------------------------------------------------------------------------

    def fit(self, callback: EpochCallback | None) -> None:
        config = self.config
        if self.epoch >= self.n_epochs:
            return
        with _progress.new_progress() as progress:
            task = progress.add_task("train", total=self.n_epochs, status="")
            progress.update(task, completed=self.epoch)
            while self.epoch < self.n_epochs:
                stats = self._run_epoch()
                self.log.append(stats)
                self.epoch += 1
                self.epochs_this_session += 1
                self.train_s += stats.seconds
                progress.update(
                    task,
                    advance=1,
                    status=f"loss {stats.loss:.4f} img {stats.image_mse:.4f} "
                    f"txt {stats.text_mse:.4f}",
                )
                logger.debug(
                    "epoch %d: loss %.5f image %.5f text %.5f kl %.2f (%.2f s)",
                    stats.epoch,
                    stats.loss,
                    stats.image_mse,
                    stats.text_mse,
                    stats.kl,
                    stats.seconds,
                )
                stop = self._should_stop(stats)
                if self.epoch % config.checkpoint_every == 0 and self.epoch < self.n_epochs:
                    self.save_checkpoint()
                if callback is not None and callback(stats):
                    self.stopped_early, self.stop_reason = True, "callback"
                    stop = True
                if stop:
                    break
        final = self.log[-1] if self.log else None
        if (
            final is not None
            and config.kl_weight > 0
            and final.kl / config.latent_dim < KL_COLLAPSE_NATS
        ):
            self.collapsed_kl = final.kl / config.latent_dim

    def _should_stop(self, stats: EpochStats) -> bool:
        config = self.config
        terms = [stats.image_mse, stats.text_mse]
        if self.ema is None:
            self.ema = terms
        else:
            self.ema = [0.7 * old + 0.3 * new for old, new in zip(self.ema, terms, strict=True)]
        improved = [
            value > 0 and value < best * (1 - config.min_delta)
            for value, best in zip(self.ema, self.best, strict=True)
        ]
        if any(improved):
            self.n_bad = 0
        else:
            self.n_bad += 1
        self.best = [
            min(value, best) if value > 0 else best
            for value, best in zip(self.ema, self.best, strict=True)
        ]
        if (
            config.early_stopping
            and self.epoch >= config.min_epochs
            and self.n_bad >= config.patience_epochs
        ):
            self.stopped_early, self.stop_reason = True, "plateau"
            return self.epoch < self.n_epochs
        if config.max_train_s is not None and self.train_s >= config.max_train_s:
            self.stopped_early, self.stop_reason = True, "time_budget"
            return self.epoch < self.n_epochs
        return False

    def _run_epoch(self) -> EpochStats:
        config = self.config
        model = self.model
        model.train()
        started = time.perf_counter()
        order = torch.randperm(self.data.n_frames, generator=self.generator)
        totals = np.zeros(4)
        beta = lr = 0.0
        for batch_no, index in enumerate(_batches(order, config.batch_size)):
            lr = self.lr_at(self.step)
            beta = self.beta_at(self.step)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            noise = torch.randn(len(index), config.latent_dim, generator=self.generator)
            images, token_ids, lengths = self._batch(index)
            out = model(images, token_ids, lengths, noise=noise.to(self.device))
            image_mse, text_mse, kl = _losses(model, out, images, token_ids, lengths)
            loss = image_mse + config.text_weight * text_mse + beta * kl
            values = torch.stack([loss, image_mse, text_mse, kl]).detach().cpu().numpy()
            if not np.isfinite(values).all():
                raise TrainingError(
                    f"the loss became {_bad_value(values[0])} at epoch {self.epoch + 1}, "
                    f"batch {batch_no + 1} (image {values[1]:.4g}, text {values[2]:.4g}, "
                    f"KL {values[3]:.4g}); lower the learning rate (now {lr:g}) or raise "
                    "grad_clip_norm protection"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip_norm)
            self.optimizer.step()
            self.step += 1
            totals += values * len(index)
        totals /= self.data.n_frames
        return EpochStats(
            epoch=self.epoch + 1,
            loss=float(totals[0]),
            image_mse=float(totals[1]),
            text_mse=float(totals[2]),
            kl=float(totals[3]),
            beta=beta,
            lr=lr,
            seconds=time.perf_counter() - started,
        )

    def _batch(
        self, index: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        images = self.images[index.to(self.images.device)] if self.images is not None else None
        if not self.config.uses_text:
            return images, None, None
        lengths = self.lengths[index]
        width = max(1, int(lengths.max()))
        token_ids = self.token_ids[index.to(self.token_ids.device), :width]
        return images, token_ids, lengths.to(self.device)

    # -- evaluation -------------------------------------------------------------------------

    @torch.inference_mode()
    def evaluate(self, batch_size: int = 64) -> _Evaluation:
        """Encode every frame to μ, decode μ, and measure the reconstructions."""
        model = self.model
        model.eval()
        mus, recons, texts = [], [], []
        squared_error = 0.0
        n_pixels = 0
        cosine_sum = 0.0
        n_cosine = 0
        order = torch.arange(self.data.n_frames)
        for index in order.split(batch_size):
            images, token_ids, lengths = self._batch(index)
            out = model(images, token_ids, lengths, noise=None)
            mus.append(out.mu.float().cpu())
            if out.image is not None and images is not None:
                squared_error += float(((out.image - images) ** 2).sum())
                n_pixels += images.numel()
                recons.append(out.image.float().cpu())
            if out.text is not None and token_ids is not None and lengths is not None:
                true = model.embed(token_ids)
                mask = _token_mask(token_ids, lengths) & (true.norm(dim=2) > 0)
                cosine = torch.nn.functional.cosine_similarity(out.text, true, dim=2)
                cosine_sum += float(cosine[mask].sum())
                n_cosine += int(mask.sum())
                for row, length in enumerate(lengths.tolist()):
                    texts.append(out.text[row, :length].float().cpu().numpy())
        image_mse = squared_error / n_pixels if n_pixels else None
        psnr = None
        if image_mse is not None:
            psnr = 10 * math.log10(1.0 / max(image_mse, 1e-12))
        return _Evaluation(
            mu=torch.cat(mus).numpy().astype(np.float32),
            psnr_db=round(psnr, 3) if psnr is not None else None,
            image_mse=image_mse,
            text_cosine=round(cosine_sum / n_cosine, 4) if n_cosine else None,
            recon_images=torch.cat(recons).numpy() if recons else None,
            predicted_text=texts if texts else None,
        )

    # -- checkpoints ------------------------------------------------------------------------

    @property
    def checkpoint_dir(self) -> Path:
        return self.run.path / CHECKPOINT_DIR

    def save_checkpoint(self) -> None:
        """Write the full training state atomically (replacing the previous checkpoint)."""
        from safetensors.torch import save_file

        tensors: dict[str, torch.Tensor] = {
            f"model/{k}": v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()
        }
        optim_state = self.optimizer.state_dict()
        for index, state in optim_state["state"].items():
            for key, value in state.items():
                tensors[f"optim/{index}/{key}"] = torch.as_tensor(value).detach().cpu().contiguous()
        tensors["rng/generator"] = self.generator.get_state()
        meta = {
            "schema_version": CHECKPOINT_SCHEMA,
            "epoch": self.epoch,
            "step": self.step,
            "config": self.config.to_dict(),
            "ingest_fingerprint": self.ingest_fp,
            "n_frames": self.data.n_frames,
            "vocab_size": len(self.vocabulary.tokens) if self.vocabulary is not None else 0,
            "log": [dataclasses.asdict(s) for s in self.log],
            "early_stopping": {"ema": self.ema, "best": [_finite_or_none(b) for b in self.best]},
            "n_bad": self.n_bad,
            "train_s": self.train_s,
            "param_groups": optim_state["param_groups"],
        }
        staging = self.run.path / f"{CHECKPOINT_DIR}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        save_file(tensors, str(staging / "state.safetensors"))
        meta["sha256"] = sha256_file(staging / "state.safetensors")
        write_json_atomic(staging / "state.json", meta)
        old = self.run.path / f"{CHECKPOINT_DIR}.old"
        shutil.rmtree(old, ignore_errors=True)
        if self.checkpoint_dir.exists():
            os.replace(self.checkpoint_dir, old)
        os.replace(staging, self.checkpoint_dir)
        shutil.rmtree(old, ignore_errors=True)

    def resume(self) -> None:
        """Restore the state of the checkpoint, refusing a corrupt or incompatible one."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = self.checkpoint_dir
        meta_path = folder / "state.json"
        weights_path = folder / "state.safetensors"
        if not meta_path.is_file():
            logger.info("no checkpoint in %s; training from the start", folder)
            return
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            raise CheckpointError(
                f"checkpoint {meta_path} is corrupt ({exc}); delete {folder} or drop --resume"
            ) from exc
        self._check_compatible(meta, folder)
        if not weights_path.is_file() or sha256_file(weights_path) != meta.get("sha256"):
            raise CheckpointError(
                f"checkpoint {weights_path} is missing or corrupt (its sha256 does not match "
                f"state.json); delete {folder} or drop --resume"
            )
        try:
            tensors = load_file(str(weights_path))
        except (OSError, SafetensorError) as exc:
            raise CheckpointError(f"checkpoint {weights_path} is corrupt ({exc})") from exc
        model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}
        try:
            self.model.load_state_dict(model_state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise CheckpointError(
                f"checkpoint in {folder} does not fit this model ({first[-1].strip()}); "
                "drop --resume to start over"
            ) from exc
        if self.device.type == "cpu" and self.config.uses_images:
            self.model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        optim_state: dict[str, Any] = {"state": {}, "param_groups": meta["param_groups"]}
        for key, value in tensors.items():
            if key.startswith("optim/"):
                _, index, name = key.split("/", 2)
                optim_state["state"].setdefault(int(index), {})[name] = value
        self.optimizer.load_state_dict(optim_state)
        # Checkpoints hold contiguous tensors; the fused Adam kernel walks raw memory, so its
        # moments must have the same strides as their (channels-last) parameters again.
        for param, state in self.optimizer.state.items():
            for name, value in state.items():
                if isinstance(value, torch.Tensor) and value.shape == param.shape:
                    state[name] = torch.empty_like(param).copy_(value)
        self.generator.set_state(tensors["rng/generator"])
        self.epoch = int(meta["epoch"])
        self.step = int(meta["step"])
        self.log = [EpochStats(**row) for row in meta["log"]]
        early = meta.get("early_stopping", {})
        self.ema = early.get("ema")
        self.best = [math.inf if b is None else float(b) for b in early.get("best", [None, None])]
        self.n_bad = int(meta.get("n_bad", 0))
        self.train_s = float(meta.get("train_s", 0.0))
        logger.info("resuming from the checkpoint of epoch %d in %s", self.epoch, folder)

    def _check_compatible(self, meta: dict[str, Any], folder: Path) -> None:
        if meta.get("schema_version") != CHECKPOINT_SCHEMA:
            raise CheckpointError(
                f"checkpoint in {folder} has schema version {meta.get('schema_version')!r}, "
                f"this themescope writes {CHECKPOINT_SCHEMA}; drop --resume to start over"
            )
        if meta.get("ingest_fingerprint") != self.ingest_fp or meta.get("n_frames") != (
            self.data.n_frames
        ):
            raise CheckpointError(
                f"checkpoint in {folder} was trained on other frames (ingest fingerprint "
                f"{meta.get('ingest_fingerprint')}, {meta.get('n_frames')} frames; this run has "
                f"{self.ingest_fp}, {self.data.n_frames}); drop --resume to start over"
            )
        saved = meta.get("config", {})
        current = self.config.to_dict()
        differences = [
            f"{name}={saved.get(name)!r} there, {current[name]!r} here"
            for name in current
            if name not in _RESUMABLE_CHANGES and saved.get(name) != current[name]
        ]
        if differences:
            raise CheckpointError(
                f"checkpoint in {folder} was written with another configuration "
                f"({'; '.join(differences[:3])}); use the same options or drop --resume"
            )
        vocab_size = len(self.vocabulary.tokens) if self.vocabulary is not None else 0
        if meta.get("vocab_size") != vocab_size:
            raise CheckpointError(
                f"checkpoint in {folder} has a vocabulary of {meta.get('vocab_size')} tokens, "
                f"this run {vocab_size}; drop --resume to start over"
            )


def _batches(order: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Split ``order`` into batches; a last batch of one frame joins the previous batch.

    Batch normalisation cannot normalise a batch of one sample.
    """
    batches = list(order.split(batch_size))
    if len(batches) > 1 and len(batches[-1]) == 1:
        last = batches.pop()
        batches[-1] = torch.cat([batches[-1], last])
    return batches


def _token_mask(token_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    positions = torch.arange(token_ids.shape[1], device=token_ids.device)
    return positions[None, :] < lengths.to(token_ids.device)[:, None]


def _losses(
    model: CRVAE,
    out: Any,
    images: torch.Tensor | None,
    token_ids: torch.Tensor | None,
    lengths: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Image MSE, text-embedding MSE over real tokens only, and KL per frame."""
    zero = out.mu.new_zeros(())
    image_mse = zero
    if out.image is not None and images is not None:
        image_mse = torch.nn.functional.mse_loss(out.image, images)
    text_mse = zero
    if out.text is not None and token_ids is not None and lengths is not None:
        mask = _token_mask(token_ids, lengths)
        n_tokens = int(mask.sum())
        if n_tokens:
            squared = ((out.text - model.embed(token_ids)) ** 2).mean(dim=2)
            text_mse = (squared * mask).sum() / n_tokens
    kl = -0.5 * (1 + out.logvar - out.mu**2 - out.logvar.exp()).sum(dim=1).mean()
    return image_mse, text_mse, kl


def _write_outputs(
    st: Any,
    run: RunDirectory,
    config: TrainConfig,
    data: FrameData,
    vocabulary: Vocabulary | None,
    trainer: _Trainer,
    evaluation: _Evaluation,
) -> None:
    from safetensors.torch import save_file

    np.save(st.path("latents.npy"), evaluation.mu)
    model_dir = st.path("model/weights.safetensors").parent
    state = {k: v.detach().cpu().contiguous() for k, v in trainer.model.state_dict().items()}
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
    _plot_losses(trainer.log, st.path("loss.png"))
    sample = _sample_frames(data.n_frames)
    if data.images is not None and evaluation.recon_images is not None:
        _save_reconstructions(
            data.images.numpy()[sample],
            evaluation.recon_images[sample],
            st.path("reconstructions.png"),
        )
    _write_text_reconstructions(
        st.path("text_reconstructions.txt"), data, vocabulary, evaluation, config
    )


def _sample_frames(n_frames: int, n_sample: int = N_SAMPLE_FRAMES) -> np.ndarray:
    """A fixed, evenly spaced sample of frame ids."""
    count = min(n_sample, n_frames)
    return np.unique(np.linspace(0, n_frames - 1, count).round().astype(int))


def _plot_losses(log: list[EpochStats], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = [s.epoch for s in log]
    for name in ("loss", "image_mse", "text_mse"):
        values = [getattr(s, name) for s in log]
        if any(v > 0 for v in values):
            axes.plot(epochs, values, label=name)
    axes.set_yscale("log")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss (log scale)")
    axes.set_title("CRVAE training loss")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)


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
    evaluation: _Evaluation,
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
        chosen = [with_text[i] for i in _sample_frames(len(with_text), 10)] if with_text else []
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


def _result_from_record(
    run: RunDirectory, record: dict[str, Any], *, skipped: bool = False
) -> TrainResult:
    return TrainResult(
        run_path=run.path,
        latents_path=run / "latents.npy",
        psnr_db=record.get("psnr_db"),
        text_cosine=record.get("text_cosine"),
        epochs=int(record.get("epochs", 0)),
        stopped_early=bool(record.get("stopped_early", False)),
        seconds=float(record.get("train_seconds", 0.0)),
        skipped=skipped,
        record=record,
    )


@contextlib.contextmanager
def _torch_threads(n_threads: int) -> Iterator[None]:
    previous = torch.get_num_threads()
    if n_threads > 0:
        torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _bad_value(value: float) -> str:
    return "NaN" if math.isnan(value) else "infinite"


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _csv_value(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


__all__ = ["EpochStats", "TrainResult", "resolve_device", "train"]
