"""The CRVAE's optimisation loop: schedule, epochs, early stopping and evaluation.

:class:`Trainer` holds everything that changes while training (model, optimiser,
random generator, epoch and step, smoothed losses), so that a
:class:`~themescope.model.checkpoint.TrainingCheckpoint` can save and restore it
exactly: a resumed run ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from themescope import _progress
from themescope.errors import TrainingError
from themescope.model.config import TrainConfig
from themescope.model.crvae import CRVAE
from themescope.model.data import Batch, FrameData
from themescope.model.text import Vocabulary

logger = logging.getLogger("themescope")

# KL per latent dimension (nats) below which the posterior is considered collapsed.
KL_COLLAPSE_NATS = 0.01


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


EpochCallback = Callable[[EpochStats], bool | None]


class Checkpointer(Protocol):
    """Saves the trainer's state every few epochs while it trains.

    It is a :class:`~themescope.model.checkpoint.TrainingCheckpoint`; a protocol, since the
    checkpoint reads the trainer's state: naming it here would make the two modules import
    each other.
    """

    def save(self, trainer: Trainer) -> None:
        """Write the trainer's full state."""
        ...


@dataclass
class Evaluation:
    """Latent means of every frame and the quality of their reconstructions."""

    mu: np.ndarray
    psnr_db: float | None
    image_mse: float | None
    text_cosine: float | None
    recon_images: np.ndarray | None
    """Reconstructed images of the frames ``evaluate(keep=...)`` kept, in frame order."""
    predicted_text: list[np.ndarray] | None


class Trainer:
    """The optimisation loop with its resumable state."""

    def __init__(
        self,
        config: TrainConfig,
        data: FrameData,
        vocabulary: Vocabulary | None,
        device: torch.device,
        checkpoint: Checkpointer | None = None,
    ) -> None:
        self.config = config
        self.data = data
        self.vocabulary = vocabulary
        self.device = device
        self.checkpoint = checkpoint
        vectors = torch.from_numpy(vocabulary.vectors) if vocabulary is not None else None
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = CRVAE(config, vectors)
        self.learn_ids = torch.from_numpy(data.learn_ids)
        if data.images is not None:
            self.model.init_mean_image(data.images[self.learn_ids].mean(dim=0))
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
        self.n_batches = len(_batches(self.learn_ids, config.batch_size))
        self.n_epochs = config.planned_epochs(self.n_batches)
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
        """Train until the planned epochs are done or a stopping rule says stop."""
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
                if (
                    self.checkpoint is not None
                    and self.epoch % config.checkpoint_every == 0
                    and self.epoch < self.n_epochs
                ):
                    self.checkpoint.save(self)
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
        order = self.learn_ids[torch.randperm(len(self.learn_ids), generator=self.generator)]
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
        totals /= len(self.learn_ids)
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

    def encode(self, batches: Iterable[Batch]) -> np.ndarray:
        """Return μ (float32, one row per frame) of every frame the batches hold, in order.

        Used for the frames outside the training sample; μ of a frame does not depend on
        the batch it is in (eval mode, packed sequences), so it equals :meth:`evaluate`'s.
        """
        return encode_batches(self.model, batches, self.device)

    @torch.inference_mode()
    def evaluate(self, batch_size: int = 64, keep: np.ndarray | None = None) -> Evaluation:
        """Encode every frame to μ, decode μ, and measure the reconstructions.

        PSNR and text cosine are measured on the frames the model learned from
        (:attr:`FrameData.learn_ids`); every frame gets its μ.

        Args:
            batch_size: Frames per forward pass.
            keep: The frames whose reconstructed images to return (the report shows a few);
                None keeps all. Only these are held, so memory does not grow with the frames.
        """
        kept = set(range(self.data.n_frames) if keep is None else np.asarray(keep).tolist())
        model = self.model
        model.eval()
        mus, recons, texts = [], [], []
        squared_error = 0.0
        n_pixels = 0
        cosine_sum = 0.0
        n_cosine = 0
        learned = torch.zeros(self.data.n_frames, dtype=torch.bool)
        learned[self.learn_ids] = True
        order = torch.arange(self.data.n_frames)
        for index in order.split(batch_size):
            images, token_ids, lengths = self._batch(index)
            out = model(images, token_ids, lengths, noise=None)
            mus.append(out.mu.float().cpu())
            rows = learned[index].to(self.device)
            if out.image is not None and images is not None:
                squared_error += float(((out.image - images)[rows] ** 2).sum())
                n_pixels += images[rows].numel()
                keep_rows = [i for i, frame in enumerate(index.tolist()) if frame in kept]
                if keep_rows:
                    recons.append(out.image[keep_rows].float().cpu())
            if out.text is not None and token_ids is not None and lengths is not None:
                true = model.embed(token_ids)
                mask = _token_mask(token_ids, lengths) & (true.norm(dim=2) > 0) & rows[:, None]
                cosine = torch.nn.functional.cosine_similarity(out.text, true, dim=2)
                cosine_sum += float(cosine[mask].sum())
                n_cosine += int(mask.sum())
                for row, length in enumerate(lengths.tolist()):
                    texts.append(out.text[row, :length].float().cpu().numpy())
        image_mse = squared_error / n_pixels if n_pixels else None
        psnr = None
        if image_mse is not None:
            psnr = 10 * math.log10(1.0 / max(image_mse, 1e-12))
        return Evaluation(
            mu=torch.cat(mus).numpy().astype(np.float32),
            psnr_db=round(psnr, 3) if psnr is not None else None,
            image_mse=image_mse,
            text_cosine=round(cosine_sum / n_cosine, 4) if n_cosine else None,
            recon_images=torch.cat(recons).numpy() if recons else None,
            predicted_text=texts if texts else None,
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


def _bad_value(value: float) -> str:
    return "NaN" if math.isnan(value) else "infinite"


@torch.inference_mode()
def encode_batches(model: CRVAE, batches: Iterable[Batch], device: torch.device) -> np.ndarray:
    """Return μ (float32, one row per frame) of every frame ``batches`` hold, in order.

    Training encodes the frames outside its sample with it, and a study the frames of
    videos added after its fit (:mod:`themescope.corpus.assign`).
    """
    model.eval()
    mus = []
    for images, token_ids, lengths in batches:
        if images is not None:
            images = images.to(device)
            if device.type == "cpu":
                images = images.contiguous(memory_format=torch.channels_last)
        ids = text_lengths = None
        if model.config.uses_text:
            width = max(1, int(lengths.max()) if len(lengths) else 1)
            ids = token_ids[:, :width].to(device)
            text_lengths = lengths.to(device)
        mu, _ = model.encode(images, ids, text_lengths)
        mus.append(mu.float().cpu())
    return torch.cat(mus).numpy().astype(np.float32)
