"""The train stage on small generated runs: outputs, learning, determinism, resume, bad input."""

from __future__ import annotations

import csv
import errno
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import SafetensorError

from test_model_support import make_run, tiny_config
from themescope._cli import main
from themescope.errors import CheckpointError, RunDirectoryError, TrainingError
from themescope.manifest import TrainRecord
from themescope.model import trainer as trainer_module
from themescope.model.checkpoint import CHECKPOINT_DIR
from themescope.model.crvae import CRVAE
from themescope.model.train import train
from themescope.model.trainer import EpochStats
from themescope.rundir import RunDirectory


def _latents(run: RunDirectory) -> np.ndarray:
    return np.load(run / "latents.npy")


class _Interrupt:
    """An epoch callback that interrupts training after ``n_epochs`` epochs."""

    def __init__(self, n_epochs: int) -> None:
        self.n_epochs = n_epochs

    def __call__(self, stats: EpochStats) -> bool:
        if stats.epoch >= self.n_epochs:
            raise KeyboardInterrupt
        return False


def test_train_writes_every_output_and_records_its_stats(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=10)
    result = train(run, tiny_config(), device="cpu")
    latents = _latents(run)
    assert latents.shape == (10, 6) and latents.dtype == np.float32
    for name in ("reconstructions.png", "text_reconstructions.txt"):
        assert (run / name).stat().st_size > 0
    for name in ("weights.safetensors", "config.json", "vocab.json", "embeddings.safetensors"):
        assert (run / "model" / name).is_file()
    with open(run / "train_log.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "epoch",
        "loss",
        "image_mse",
        "text_mse",
        "kl",
        "beta",
        "lr",
        "seconds",
    ]
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    record = RunDirectory(run.path).record("train")
    assert record is not None
    assert isinstance(record, TrainRecord) and record.preset == "fast"
    assert record.unknown_word_rate == 0.0 and record.n_params > 0
    assert record.device == "cpu" and record.epochs == 4 and not record.stopped_early
    assert result.record.psnr_db == record.psnr_db and 0 < result.record.psnr_db < 60
    assert -1 <= result.record.text_cosine <= 1
    recon = (run / "text_reconstructions.txt").read_text("utf-8")
    assert "original:      the vaccine" in recon
    # Free-running: teacher forcing copied the originals and looked like proof of quality.
    assert recon.startswith("# Text decoded from each frame's latent mean alone")
    assert not (run / CHECKPOINT_DIR).exists()
    # a second call with the same config is a no-op
    again = train(run, tiny_config(), device="cpu")
    assert again.skipped and again.record.psnr_db == result.record.psnr_db


def _log(run: RunDirectory) -> list[dict[str, str]]:
    with open(run / "train_log.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_loss_decreases(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=8)
    train(run, tiny_config(epochs=20, batch_size=2, lr=5e-3, kl_weight=0.0), device="cpu")
    first, last = _log(run)[0], _log(run)[-1]
    assert float(last["loss"]) < 0.7 * float(first["loss"])
    assert float(last["text_mse"]) < 0.7 * float(first["text_mse"])
    # without the mean-frame bias the image loss starts high and must come down
    image_only = tiny_config(
        epochs=20, batch_size=2, lr=5e-3, kl_weight=0.0, ablation="image-only", mean_image=False
    )
    train(run, image_only, device="cpu", force=True)
    first, last = _log(run)[0], _log(run)[-1]
    assert float(last["image_mse"]) < 0.7 * float(first["image_mse"])


def test_same_seed_gives_identical_latents_and_another_seed_does_not(tmp_path: Path) -> None:
    runs = [make_run(tmp_path / f"run{i}", n_frames=9) for i in range(3)]
    train(runs[0], tiny_config(), device="cpu")
    train(runs[1], tiny_config(), device="cpu")
    train(runs[2], tiny_config(seed=8), device="cpu")
    np.testing.assert_array_equal(_latents(runs[0]), _latents(runs[1]))
    assert not np.array_equal(_latents(runs[0]), _latents(runs[2]))


def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    config = tiny_config(epochs=5, checkpoint_every=1)
    straight = make_run(tmp_path / "straight", n_frames=9)
    train(straight, config, device="cpu")
    broken = make_run(tmp_path / "broken", n_frames=9)
    with pytest.raises(KeyboardInterrupt):
        train(broken, config, device="cpu", callback=_Interrupt(3))
    assert (broken / CHECKPOINT_DIR / "state.safetensors").is_file()
    assert RunDirectory(broken.path).record("train") is None
    result = train(broken, config, device="cpu", resume=True)
    assert result.record.epochs == 5
    np.testing.assert_array_equal(_latents(straight), _latents(broken))
    with open(broken / "train_log.csv", encoding="utf-8") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [1, 2, 3, 4, 5]
    assert not (broken / CHECKPOINT_DIR).exists()


def test_resume_refuses_an_incompatible_checkpoint(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=9)
    with pytest.raises(KeyboardInterrupt):
        train(run, tiny_config(checkpoint_every=1), device="cpu", callback=_Interrupt(2))
    with pytest.raises(CheckpointError) as info:
        train(run, tiny_config(latent_dim=5), device="cpu", resume=True)
    folder = run / CHECKPOINT_DIR
    # The advice holds for every command (summarize and corpus have no --resume to drop).
    assert str(info.value) == (
        f"checkpoint in {folder} was written with another configuration (latent_dim=6 there, "
        f"5 here); delete {folder} to train from the start"
    )
    other = make_run(tmp_path / "other", n_frames=11)
    shutil.copytree(run / CHECKPOINT_DIR, other / CHECKPOINT_DIR)
    with pytest.raises(CheckpointError, match="was trained on other frames"):
        train(other, tiny_config(checkpoint_every=1), device="cpu", resume=True)


def test_resume_refuses_a_corrupted_checkpoint(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=9)
    with pytest.raises(KeyboardInterrupt):
        train(run, tiny_config(checkpoint_every=1), device="cpu", callback=_Interrupt(2))
    weights = run / CHECKPOINT_DIR / "state.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"state\.safetensors is missing or corrupt"):
        train(run, tiny_config(checkpoint_every=1), device="cpu", resume=True)
    folder = run / CHECKPOINT_DIR
    state_path = folder / "state.json"
    state = json.loads(state_path.read_text(encoding="utf-8"))
    for damaged, problem in (
        ({**state, "epoch": "2"}, "expected `int`, got `str` at `$.epoch`"),
        ({**state, "log": [{"epoch": 1}]}, "object missing required field `loss` at `$.log[0]`"),
    ):
        state_path.write_text(json.dumps(damaged), encoding="utf-8")
        with pytest.raises(CheckpointError) as info:
            train(run, tiny_config(checkpoint_every=1), device="cpu", resume=True)
        assert str(info.value) == (
            f"checkpoint {state_path} is corrupt ({problem}); delete {folder} to train from "
            "the start"
        )
    state_path.write_text(json.dumps({**state, "schema_version": 2}), encoding="utf-8")
    with pytest.raises(CheckpointError) as info:
        train(run, tiny_config(checkpoint_every=1), device="cpu", resume=True)
    assert str(info.value) == (
        f"checkpoint in {folder} has schema version 2, this themescope writes 1; delete "
        f"{folder} to train from the start"
    )
    state_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"state\.json is corrupt \(JSON is malformed"):
        train(run, tiny_config(checkpoint_every=1), device="cpu", resume=True)
    # without --resume the broken checkpoint is ignored and training starts over
    assert train(run, tiny_config(checkpoint_every=1), device="cpu").record.epochs == 4


def test_resume_refuses_a_checkpoint_at_or_past_the_new_epoch_count(tmp_path: Path) -> None:
    """Issue 14, part 5, item 2: `--epochs 3` over a run killed at epoch 3 of 5 trained 3
    (of the old plan's schedule) or more epochs while the manifest said 3."""
    run = make_run(tmp_path / "run", n_frames=9)
    with pytest.raises(KeyboardInterrupt):
        train(run, tiny_config(epochs=5, checkpoint_every=1), device="cpu", callback=_Interrupt(3))
    for epochs in (2, 3):
        with pytest.raises(CheckpointError) as info:
            train(run, tiny_config(epochs=epochs), device="cpu", resume=True)
        assert str(info.value) == (
            f"checkpoint in {run / CHECKPOINT_DIR} is at epoch 3, and this training plans "
            f"{epochs} epochs in all; delete {run / CHECKPOINT_DIR} to train from the start"
        )
    # the pipeline's fallback: start over, and the manifest says what was trained
    record = train(run, tiny_config(epochs=2), device="cpu").record
    assert record.epochs == record.epochs_planned == 2
    assert [int(row["epoch"]) for row in _log(run)] == [1, 2]


_DISK_FULL = [
    OSError(errno.ENOSPC, "No space left on device"),
    SafetensorError(
        'Error while serializing: I/O error: No space left on device (os error 28) at path "x"'
    ),
]


@pytest.mark.parametrize("error", _DISK_FULL, ids=["OSError", "SafetensorError"])
def test_a_full_disk_while_training_is_one_line_and_leaves_no_partial_checkpoint(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    error: Exception,
) -> None:
    """Issue 14, part 5, item 3: exit 1 "internal error: SafetensorError" and an empty
    .train-checkpoint.tmp left behind."""
    import safetensors.torch

    run = make_run(tmp_path / "run", n_frames=6)

    def full(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(safetensors.torch, "save_file", full)
    with pytest.raises(OSError, match="No space left on device") as info:
        train(run, tiny_config(checkpoint_every=1), device="cpu")
    assert info.value.errno == errno.ENOSPC
    assert sorted(p.name for p in run.path.iterdir() if p.name.startswith(".train")) == []
    assert RunDirectory(run.path).record("train") is None
    with pytest.raises(SystemExit) as exit_info:
        main(["-q", "train", str(run.path), "--epochs", "1", "--device", "cpu"])
    assert exit_info.value.code == 2
    weights = run / ".staging-train" / "model" / "weights.safetensors"
    last_line = capsys.readouterr().err.splitlines()[-1]  # after the stage's warnings
    assert last_line == f"themescope: error: cannot write {weights}: disk full"
    assert not (run / ".staging-train").exists()


def test_text_loss_ignores_frames_without_text() -> None:
    config = tiny_config()
    model = CRVAE(config, torch.randn(12, 6))
    token_ids = torch.tensor([[3, 4], [0, 0]])
    lengths = torch.tensor([2, 0])
    out = model(torch.rand(2, 3, 24, 40), token_ids, lengths)
    _, text_mse, _ = trainer_module._losses(model, out, None, token_ids, lengths)
    assert out.text is not None
    out.text[1] = 1e6  # whatever is predicted for the empty frame must not count
    _, again, _ = trainer_module._losses(model, out, None, token_ids, lengths)
    assert float(again.detach()) == pytest.approx(float(text_mse.detach()))


def test_frames_without_text_are_kept(tmp_path: Path) -> None:
    texts = ["the vaccine rollout", "", "officials said", "", "doses arrive", ""]
    run = make_run(tmp_path / "run", n_frames=6, texts=texts)
    result = train(run, tiny_config(), device="cpu")
    assert _latents(run).shape[0] == 6
    assert result.record.n_frames_with_text == 3


def test_all_frames_without_text_train_the_image_only_model_with_a_warning(
    tmp_path: Path,
) -> None:
    run = make_run(tmp_path / "run", n_frames=6, texts=[""] * 6)
    result = train(run, tiny_config(), device="cpu")
    assert result.record.ablation == "image-only" and result.record.text_cosine is None
    assert any("none of the 6 frames has text" in w for w in result.record.warnings)
    with pytest.raises(TrainingError, match="text-only model cannot train"):
        train(run, tiny_config(ablation="text-only"), device="cpu", force=True)


@pytest.mark.parametrize("ablation", ["image-only", "text-only", "pure-cvae"])
def test_ablations_train(tmp_path: Path, ablation: str) -> None:
    run = make_run(tmp_path / "run", n_frames=6)
    result = train(run, tiny_config(ablation=ablation, epochs=2), device="cpu")
    assert _latents(run).shape == (6, 6)
    assert (result.record.psnr_db is None) == (ablation == "text-only")
    assert (result.record.text_cosine is None) == (ablation == "image-only")


def test_one_frame_is_refused_and_two_or_three_train_with_a_warning(tmp_path: Path) -> None:
    one = make_run(tmp_path / "one", n_frames=1)
    with pytest.raises(TrainingError, match=r"has 1 frame\(s\); training needs at least 2"):
        train(one, tiny_config(), device="cpu")
    for n_frames in (2, 3):
        run = make_run(tmp_path / f"n{n_frames}", n_frames=n_frames)
        # batch_size 2 with 3 frames would leave a batch of one: it joins the previous batch
        result = train(run, tiny_config(batch_size=2), device="cpu")
        assert _latents(run).shape == (n_frames, 6)
        assert any(f"only {n_frames} frames" in w for w in result.record.warnings)


def test_run_without_ingestion_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunDirectoryError, match=r"empty is not a themescope run \(no manifest"):
        train(tmp_path / "empty", tiny_config(), device="cpu")
    assert list((tmp_path / "empty").iterdir()) == []  # not even a lock file


def test_nan_loss_stops_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run(tmp_path / "run", n_frames=6)
    real = trainer_module._losses

    def poisoned(*args: object) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        image, text, kl = real(*args)  # type: ignore[arg-type]
        return image * float("nan"), text, kl

    monkeypatch.setattr(trainer_module, "_losses", poisoned)
    with pytest.raises(TrainingError, match="the loss became NaN at epoch 1, batch 1"):
        train(run, tiny_config(), device="cpu")
    assert RunDirectory(run.path).record("train") is None


def test_word_vector_file_is_used_and_its_unknown_rate_recorded(tmp_path: Path) -> None:
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("the 0.1 0.2 0.3 0.4\nvaccine 0.5 0.1 0.0 0.2\n", encoding="utf-8")
    run = make_run(tmp_path / "run", n_frames=4, texts=["the vaccine", "the xyzzy", "", "the"])
    result = train(run, tiny_config(word_vectors=str(vectors)), device="cpu")
    assert result.record.unknown_word_rate == pytest.approx(1 / 5)
    assert result.record.embeddings.dim == 4
    vocab = json.loads((run / "model" / "vocab.json").read_text("utf-8"))
    assert "xyzzy" in vocab["tokens"]


def test_a_chinese_run_trains_in_the_multilingual_word_space_by_default(tmp_path: Path) -> None:
    texts = ["老年人接种疫苗", "加强针", "", "疫苗"]
    zh_run = make_run(tmp_path / "zh", n_frames=4, texts=texts, lang="zh")
    zh = train(zh_run, tiny_config(), device="cpu")
    assert zh.record.word_vectors == "multilingual"
    assert zh.record.embeddings.name == "multilingual"
    assert zh.record.unknown_word_rate == 0.0
    en_run = make_run(tmp_path / "en", n_frames=4, texts=["the vaccine"] * 4)
    en = train(en_run, tiny_config(), device="cpu")
    assert en.record.word_vectors is None
    assert en.record.embeddings.name == "all-MiniLM-L6-v2"


def test_an_explicit_word_space_wins_over_the_runs_language(tmp_path: Path) -> None:
    run = make_run(tmp_path / "zh", n_frames=4, texts=["疫苗"] * 4, lang="zh")
    result = train(run, tiny_config(word_vectors="none"), device="cpu")  # as --word-vectors none
    assert result.record.word_vectors is None
    assert result.record.embeddings.name == "all-MiniLM-L6-v2"
    assert (  # MiniLM's WordPiece reads 疫苗 as two unknown characters
        "100% of the 8 tokens have no pretrained vector in all-MiniLM-L6-v2; the text path "
        "carries less information (pass --word-vectors multilingual, which knows every word, "
        "or a word-vector file for this language)"
    ) in result.record.warnings


def test_cli_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(tmp_path / "empty")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("themescope: error: ")
    assert "run `themescope ingest` or `themescope summarize` first" in err
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(tmp_path / "empty"), "--epochs", "0"])
    assert exit_info.value.code == 2
    assert "--epochs (train.epochs) must be an int >= 1. Got 0 instead." in capsys.readouterr().err


def test_cli_trains(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = make_run(tmp_path / "run", n_frames=4, width=200, height=120)
    with pytest.raises(SystemExit) as exit_info:
        main(
            ["-q", "train", str(run.path), "--epochs", "1", "--device", "cpu", "--batch-size", "4"]
        )
    assert exit_info.value.code == 0
    assert "trained 1 epochs" in capsys.readouterr().out
    assert _latents(run).shape == (4, 64)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trains_on_cuda(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=6)
    result = train(run, tiny_config(epochs=2), device="cuda")
    assert result.record.device.startswith("cuda")
    assert np.isfinite(_latents(run)).all()


def test_early_stopping_stops_on_a_plateau(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=6)
    # a vanishing learning rate leaves both losses flat
    config = tiny_config(epochs=30, lr=1e-9, early_stopping=True, min_epochs=3, patience_epochs=2)
    result = train(run, config, device="cpu")
    assert result.record.stopped_early and result.record.stop_reason == "plateau"
    assert 3 <= result.record.epochs < 30
    assert len(_log(run)) == result.record.epochs
    # a model that learned nothing is no better than the mean frame, and says so
    assert any("no better than their mean frame" in w for w in result.record.warnings)


def test_max_steps_shortens_the_epochs_of_long_runs(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=8)
    # 8 frames in batches of 4: 2 steps per epoch, so 6 steps allow 3 of the 10 epochs
    result = train(run, tiny_config(epochs=None, auto_epochs=10, max_steps=6), device="cpu")
    assert result.record.epochs == 3 and result.record.epochs_planned == 3
    assert not result.record.stopped_early


def test_a_collapsed_posterior_is_warned_about(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=8)
    # a huge KL weight drives every posterior onto the prior
    config = tiny_config(epochs=8, kl_weight=50.0, kl_warmup_epochs=0, lr=5e-3)
    result = train(run, config, device="cpu")
    assert any("posterior collapse" in w for w in result.record.warnings)
    healthy = make_run(tmp_path / "healthy", n_frames=8)
    result = train(healthy, tiny_config(), device="cpu")
    assert not any("posterior collapse" in w for w in result.record.warnings)


def test_step_bounds_adjust_the_planned_epochs_to_the_videos_length(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run", n_frames=8)
    # 8 frames in batches of 4 are 2 steps an epoch
    short = train(run, tiny_config(epochs=None, auto_epochs=2, min_steps=20), device="cpu")
    assert short.record.epochs == 10 and short.record.epochs_planned == 10
    capped = train(
        run, tiny_config(epochs=None, auto_epochs=10, max_steps=6), device="cpu", force=True
    )
    assert capped.record.epochs == 3
    exact = train(run, tiny_config(epochs=2, min_steps=20), device="cpu", force=True)
    assert exact.record.epochs == 2


def test_a_frame_sample_trains_and_every_frame_is_encoded_from_disk(tmp_path: Path) -> None:
    from themescope.model.data import load_frame_data, stream_batches
    from themescope.model.text import embeddings_for
    from themescope.model.trainer import Trainer

    run = make_run(tmp_path / "run", n_frames=14)
    config = tiny_config(max_train_frames=6)
    result = train(run, config, device="cpu")
    latents = _latents(run)
    assert latents.shape == (14, 6) and np.isfinite(latents).all()
    assert result.record.n_frames == 14 and result.record.n_frames_trained == 6
    # frames outside the sample encode exactly as the sample's own evaluation does
    words = embeddings_for(config.resolved_word_vectors("en"))
    data = load_frame_data(RunDirectory(run.path), config, words)
    assert data.sampled and data.n_frames == 6 and len(set(data.frame_ids.tolist())) == 6
    trainer = Trainer(config, data, data.text.vocabulary, torch.device("cpu"))
    streamed = trainer.encode(stream_batches(data, config, batch_frames=4))
    assert streamed.shape == (14, 6)
    np.testing.assert_allclose(streamed[data.frame_ids], trainer.evaluate().mu, atol=1e-5)
    # the same seed picks the same sample
    again = load_frame_data(RunDirectory(run.path), config, words)
    np.testing.assert_array_equal(again.frame_ids, data.frame_ids)
