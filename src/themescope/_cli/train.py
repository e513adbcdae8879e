"""``themescope train``: fit the CRVAE on an ingested run and write one latent vector per frame."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from themescope._cli._app import app


@app.command("train")
def train_command(
    run: Path = typer.Argument(..., help="The run directory (after `themescope ingest`)."),
    preset: str = typer.Option(
        "fast", "--preset", help="fast (default: CPU-friendly) or paper (the reference CRVAE)."
    ),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        help="Exact number of epochs [preset's, adjusted to the video's length].",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of every random choice."),
    device: str = typer.Option(
        "auto", "--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue from the checkpoint an interrupted training left."
    ),
    force: bool = typer.Option(False, "--force", help="Train again even if the stage is current."),
    word_vectors: Path | None = typer.Option(
        None,
        "--word-vectors",
        help="GloVe / word2vec text file of word vectors [bundled all-MiniLM-L6-v2 tokens].",
    ),
    ablation: str | None = typer.Option(
        None, "--ablation", help="full, image-only (Dense CVAE), text-only or pure-cvae."
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", help="Frames per step."),
    lr: float | None = typer.Option(None, "--lr", help="Peak learning rate of Adam."),
    latent_dim: int | None = typer.Option(None, "--latent-dim", help="Size of the latent vector."),
    kl_weight: float | None = typer.Option(
        None, "--kl-weight", help="β, the weight of the KL term."
    ),
    text_weight: float | None = typer.Option(
        None, "--text-weight", help="λ, the weight of the text-embedding loss."
    ),
    early_stopping: bool | None = typer.Option(
        None, "--early-stopping/--no-early-stopping", help="Stop when the loss plateaus."
    ),
    max_train_s: float | None = typer.Option(
        None, "--max-train-s", help="Stop training after this many seconds."
    ),
    n_threads: int | None = typer.Option(
        None, "--n-threads", help="CPU threads for torch [all cores]."
    ),
) -> None:
    """Train the CRVAE on RUN: writes latents.npy, model/, train_log.csv and plots."""
    from themescope.errors import ConfigError
    from themescope.model.config import TrainConfig
    from themescope.model.train import train

    if epochs is not None and epochs < 1:
        raise ConfigError(f"--epochs must be at least 1. Got {epochs} instead.")
    changes: dict[str, Any] = {
        "epochs": epochs,
        # epochs the user asked for are exact: no adjustment to the video's length
        "min_steps": 0 if epochs is not None else None,
        "max_steps": 0 if epochs is not None else None,
        "seed": seed,
        "word_vectors": str(word_vectors) if word_vectors is not None else None,
        "ablation": ablation,
        "batch_size": batch_size,
        "lr": lr,
        "latent_dim": latent_dim,
        "kl_weight": kl_weight,
        "text_weight": text_weight,
        "early_stopping": early_stopping,
        "max_train_s": max_train_s,
        "n_threads": n_threads,
    }
    config = TrainConfig.preset(preset)
    config = dataclasses.replace(
        config, **{k: v for k, v in changes.items() if v is not None}
    ).validate()
    result = train(run, config, resume=resume, force=force, device=device)
    record = result.record
    if result.skipped:
        Console(soft_wrap=True).print(f"train is up to date in {run} (use --force to train again)")
        return
    psnr = "n/a" if result.psnr_db is None else f"{result.psnr_db:.2f} dB"
    cosine = "n/a" if result.text_cosine is None else f"{result.text_cosine:.3f}"
    stop = f", stopped early ({record.get('stop_reason')})" if result.stopped_early else ""
    Console(soft_wrap=True).print(
        f"trained {result.epochs} epochs in {result.seconds:.1f} s on {record.get('device')}"
        f"{stop} · image PSNR {psnr} · text cosine {cosine} → {result.latents_path}"
    )
