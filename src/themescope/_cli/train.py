"""``themescope train``: fit the CRVAE on an ingested run and write one latent vector per frame."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from themescope._cli._app import app
from themescope._cli._options import given, option, section_flags
from themescope._format import decimals
from themescope.manifest import TrainRecord
from themescope.model.config import TrainConfig


@app.command("train")
def train_command(
    ctx: typer.Context,
    run: Path = typer.Argument(..., help="The run directory (after `themescope ingest`)."),
    preset: str = typer.Option(
        "fast", "--preset", help="fast (default: CPU-friendly) or paper (the reference CRVAE)."
    ),
    epochs: int | None = option(TrainConfig, "epochs"),
    seed: int | None = option(TrainConfig, "seed"),
    device: str = typer.Option(
        "auto", "--device", help="auto (CUDA, then MPS, then CPU), cpu, cuda or mps."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue from the checkpoint an interrupted training left."
    ),
    force: bool = typer.Option(False, "--force", help="Train again even if the stage is current."),
    word_vectors: str | None = option(TrainConfig, "word_vectors"),
    ablation: str | None = option(TrainConfig, "ablation"),
    batch_size: int | None = option(TrainConfig, "batch_size"),
    lr: float | None = option(TrainConfig, "lr"),
    latent_dim: int | None = option(TrainConfig, "latent_dim"),
    kl_weight: float | None = option(TrainConfig, "kl_weight"),
    text_weight: float | None = option(TrainConfig, "text_weight"),
    early_stopping: bool | None = option(TrainConfig, "early_stopping"),
    max_train_s: float | None = option(TrainConfig, "max_train_s"),
    n_threads: int | None = option(TrainConfig, "n_threads"),
) -> None:
    """Train the CRVAE on RUN: writes latents.npy, model/, train_log.csv and plots."""
    from themescope.model.train import train

    # A section names the preset its values start from as `preset` (the setting is
    # preset_name, the name recorded), so that flag is given by hand.
    config = TrainConfig.from_dict(given(preset=preset) | section_flags(TrainConfig, ctx.params))
    result = train(run, config, resume=resume, force=force, device=device)
    record = result.record
    assert isinstance(record, TrainRecord)
    if result.skipped:
        Console(soft_wrap=True).print(f"train is up to date in {run} (use --force to train again)")
        return
    psnr = "n/a" if record.psnr_db is None else f"{record.psnr_db:.2f} dB"
    cosine = decimals(record.text_cosine, 3)
    stop = f", stopped early ({record.stop_reason})" if record.stopped_early else ""
    Console(soft_wrap=True).print(
        f"trained {record.epochs} epochs in {record.train_seconds:.1f} s on {record.device}"
        f"{stop} · image PSNR {psnr} · text cosine {cosine} → {Path(run) / 'latents.npy'}"
    )
