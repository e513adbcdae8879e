"""The CRVAE's configuration, network shapes and text handling (no training here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from test_model_support import tiny_config
from themescope.errors import ConfigError, ModelLoadError
from themescope.model.config import ABLATIONS, TrainConfig
from themescope.model.crvae import CRVAE
from themescope.model.text import (
    PAD_ID,
    SOS_ID,
    UNK_ID,
    MiniLMTokenEmbeddings,
    WordVectorFile,
    tokenize_frames,
)

# -- configuration ----------------------------------------------------------------------------


def test_paper_preset_is_the_reference_architecture() -> None:
    paper = TrainConfig.preset("paper")
    assert (paper.image_height, paper.image_width) == (120, 200)
    assert paper.conv_channels == (32, 32, 32) and paper.encoder_style == "pool"
    assert (paper.rnn_cell, paper.rnn_layers, paper.rnn_hidden) == ("lstm", 2, 512)
    assert paper.encoder_bidirectional and paper.decoder_bidirectional
    assert (paper.dense_units, paper.latent_dim) == (4000, 1000)
    assert (paper.text_weight, paper.kl_weight, paper.lr) == (3.0, 0.0, 1e-4)
    assert (paper.batch_size, paper.epochs, paper.seed) == (16, 500, 3407)
    assert not paper.early_stopping


def test_paper_model_has_the_reference_feature_sizes() -> None:
    model = CRVAE(TrainConfig.preset("paper"), torch.zeros(5, 300))
    # 32×15×25 image features and 2×2×2×512 LSTM states, fused by 4000 → 2×1000
    assert model.image_flat == 12000
    assert model.fuse[0].in_features == 12000 + 4096
    assert model.fuse[2].out_features == 2000
    assert model.n_state == 4096
    assert model.expand[2].out_features == 12000 + 4096


def test_config_round_trips_through_a_dict() -> None:
    config = TrainConfig.preset("paper").replace(epochs=7, seed=1)
    again = TrainConfig.from_dict(config.to_dict())
    assert again == config
    assert TrainConfig.from_dict({"preset": "paper", "epochs": 3}).dense_units == 4000


def test_config_refuses_unknown_keys_and_bad_values() -> None:
    with pytest.raises(ConfigError, match="unknown train option"):
        TrainConfig.from_dict({"epochz": 3})
    with pytest.raises(
        ConfigError, match=r"--epochs \(train.epochs\) must be an int >= 1. Got 0 instead"
    ):
        TrainConfig().replace(epochs=0)
    with pytest.raises(ConfigError, match="multiple of 8"):
        TrainConfig().replace(image_height=100)
    with pytest.raises(ConfigError, match=r"--preset \(train.preset\) must be one of fast, paper"):
        TrainConfig.preset("slow")
    with pytest.raises(
        ConfigError,
        match=r"--ablation \(train.ablation\) must be one of full, image-only, text-only, "
        r"pure-cvae. Got 'audio' instead.",
    ):
        TrainConfig().replace(ablation="audio")
    # An open lower bound reads as one: 0 itself is refused.
    with pytest.raises(ConfigError) as info:
        TrainConfig().replace(decay_fraction=0)
    assert str(info.value) == "train.decay_fraction must be a number in (0, 1]. Got 0 instead."


def test_epochs_mean_the_same_from_python_and_the_cli() -> None:
    """An explicit epochs is exact; only the automatic number adapts to the video's length."""
    fast = TrainConfig.preset("fast")
    assert fast.epochs is None
    assert fast.planned_epochs(n_batches=100) == 11  # 1100 steps at most
    assert fast.planned_epochs(n_batches=5) == 90  # 450 steps at least
    assert fast.replace(epochs=50).planned_epochs(n_batches=100) == 50
    assert TrainConfig.from_dict({"epochs": 50}).planned_epochs(n_batches=5) == 50
    assert TrainConfig.preset("paper").planned_epochs(n_batches=100) == 500


def test_every_setting_is_declared_once_with_help_and_a_category() -> None:
    from themescope.media.config import IngestConfig
    from themescope.themes.config import ThemesConfig

    for config in (IngestConfig, TrainConfig, ThemesConfig):
        for name, declaration in config.declarations().items():
            assert declaration.help.endswith(".") and declaration.category, name
            assert "(default: " in config.help(name)
    assert set(TrainConfig.names("runtime")) == {"preset_name", "checkpoint_every", "n_threads"}
    assert "latent_dim" in TrainConfig.names("architecture")
    assert "n_threads" not in TrainConfig().fingerprinted()


# -- network shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize("ablation", ABLATIONS)
@pytest.mark.parametrize("style", ["strided", "pool"])
def test_every_ablation_has_the_right_shapes(ablation: str, style: str) -> None:
    config = tiny_config(ablation=ablation, encoder_style=style, rnn_cell="lstm")
    model = CRVAE(config, torch.randn(12, 6))
    images = torch.rand(3, 3, 24, 40)
    token_ids = torch.tensor([[3, 4, 5], [6, 0, 0], [0, 0, 0]])
    lengths = torch.tensor([3, 1, 0])
    out = model(images, token_ids, lengths, noise=torch.randn(3, config.latent_dim))
    assert out.mu.shape == out.logvar.shape == (3, config.latent_dim)
    if ablation == "text-only":
        assert out.image is None
    else:
        assert out.image is not None and out.image.shape == (3, 3, 24, 40)
        assert float(out.image.detach().min()) >= 0 and float(out.image.detach().max()) <= 1
    if ablation == "image-only":
        assert out.text is None
    else:
        assert out.text is not None and out.text.shape == (3, 3, 6)


def test_an_input_the_ablation_uses_cannot_be_left_out() -> None:
    # These were asserts, which `python -O` drops: the model then failed deep in torch.
    model = CRVAE(tiny_config(), torch.randn(12, 6))
    ids, lengths = torch.tensor([[3, 4]]), torch.tensor([2])
    with pytest.raises(ConfigError) as info:
        model.encode(None, ids, lengths)
    assert str(info.value) == (
        "CRVAE.encode needs images: the 'full' ablation uses them. Got None instead."
    )
    with pytest.raises(ConfigError) as info:
        model.encode(torch.rand(1, 3, 24, 40), None, None)
    assert str(info.value) == (
        "CRVAE.encode needs token_ids and lengths: the 'full' ablation uses them. Got None instead."
    )
    with pytest.raises(ConfigError) as info:
        model.decode(torch.zeros(1, 6), ids, None)
    assert str(info.value) == (
        "CRVAE.decode needs token_ids and lengths: the 'full' ablation uses them. Got None instead."
    )
    image_only = CRVAE(tiny_config(ablation="image-only"), None)
    assert image_only(torch.rand(1, 3, 24, 40), None, None).text is None


def test_pure_cvae_has_no_dense_layers_and_pools_globally() -> None:
    model = CRVAE(tiny_config(ablation="pure-cvae"), torch.randn(12, 6))
    assert isinstance(model.fuse, torch.nn.Linear)
    # global max pooling: 8 image channels + 8 GRU hidden units
    assert model.fuse.in_features == 8 + 8


def test_latent_of_a_frame_does_not_depend_on_its_batch() -> None:
    # Packing keeps a frame's text state free of the padding its batch needs.
    model = CRVAE(tiny_config(feature_norm=False), torch.randn(12, 6)).eval()
    images = torch.rand(2, 3, 24, 40)
    alone = model.encode(images[:1], torch.tensor([[3, 4]]), torch.tensor([2]))[0]
    padded_ids = torch.tensor([[3, 4, 0, 0, 0], [5, 6, 7, 8, 9]])
    together = model.encode(images, padded_ids, torch.tensor([2, 5]))[0]
    torch.testing.assert_close(alone[0], together[0])


def test_decoder_without_teacher_forcing_feeds_back_its_predictions() -> None:
    model = CRVAE(tiny_config(teacher_forcing=False), torch.randn(12, 6))
    ids = torch.tensor([[3, 4, 5]])
    out = model(torch.rand(1, 3, 24, 40), ids, torch.tensor([3]))
    assert out.text is not None and out.text.shape == (1, 3, 6)
    with pytest.raises(ConfigError, match="bidirectional decoder"):
        CRVAE(tiny_config(teacher_forcing=False, decoder_bidirectional=True), torch.randn(12, 6))


def test_generated_text_is_what_the_decoder_writes_without_the_true_words() -> None:
    # The report's text reconstructions come from the latent alone, even for a model
    # trained with teacher forcing.
    vectors = torch.randn(12, 6)
    forced = CRVAE(tiny_config(teacher_forcing=True), vectors).eval()
    free = CRVAE(tiny_config(teacher_forcing=False), vectors).eval()
    free.load_state_dict(forced.state_dict())
    z = torch.randn(2, forced.config.latent_dim)
    ids, lengths = torch.tensor([[3, 4, 5], [6, 7, 8]]), torch.tensor([3, 3])
    with torch.no_grad():
        _, expected = free.decode(z, ids, lengths)
        _, copied = forced.decode(z, ids, lengths)
        generated = forced.generate_text(z, 3)
    assert expected is not None and copied is not None
    torch.testing.assert_close(generated, expected)
    assert not torch.allclose(generated, copied)
    bidirectional = CRVAE(tiny_config(decoder_bidirectional=True), torch.randn(12, 6))
    assert not bidirectional.can_generate_text
    with pytest.raises(ValueError, match="needs a unidirectional text decoder"):
        bidirectional.generate_text(z, 3)


# -- text -------------------------------------------------------------------------------------


def test_minilm_tokens_drop_punctuation_and_have_pretrained_vectors() -> None:
    embeddings = MiniLMTokenEmbeddings()
    tokens = embeddings.tokenize("The vaccine, finally!", "en")
    assert tokens == ["the", "vaccine", "finally"]
    vectors, known = embeddings.vectors(tokens)
    assert vectors.shape == (3, 384) and known.all()
    assert np.sqrt((vectors**2).mean()) == pytest.approx(0.4, rel=0.5)


def test_chinese_characters_missing_from_minilm_get_distinct_fixed_vectors() -> None:
    embeddings = MiniLMTokenEmbeddings()
    tokens = embeddings.tokenize("疫苗接种，开始了。", "zh")
    assert "，" not in tokens and "。" not in tokens
    assert "疫" in tokens
    vectors, known = embeddings.vectors(["疫", "苗", "疫"])
    assert not known.any()
    assert np.abs(vectors[0] - vectors[1]).sum() > 0
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_vocabulary_reports_unknown_rate_and_verbalises_by_nearest_vector() -> None:
    text = tokenize_frames(
        ["the vaccine", "", "疫苗"], ["en", "en", "zh"], MiniLMTokenEmbeddings(), 8
    )
    vocab = text.vocabulary
    assert vocab.tokens[:3] == ["<PAD>", "<SOS>", "<UNK>"]
    assert not vocab.vectors[PAD_ID].any() and not vocab.vectors[UNK_ID].any()
    assert vocab.vectors[SOS_ID].any()
    assert text.token_ids[1] == []
    assert text.n_tokens == 4 and text.unknown_word_rate == pytest.approx(0.5)
    vaccine = vocab.vectors[vocab.index["vaccine"]]
    assert vocab.nearest(np.stack([vaccine * 0.9 + 0.01])) == ["vaccine"]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_glove_and_word2vec_files_load_with_unknown_words_as_zero(tmp_path: Path) -> None:
    glove = _write(tmp_path / "glove.txt", "vaccine 0.1 0.2 0.3\nthe 1 2 3\n")
    vectors, known = WordVectorFile(glove).vectors(["vaccine", "xyzzy"])
    np.testing.assert_allclose(vectors[0], [0.1, 0.2, 0.3])
    assert known.tolist() == [True, False] and not vectors[1].any()
    w2v = _write(tmp_path / "w2v.txt", "2 3\n疫苗 0.5 0.5 0.5\n接种 1 1 1\n")
    source = WordVectorFile(w2v)
    assert source.tokenize("疫苗接种，开始了。", "zh")[:2] == ["疫苗", "接种"]
    text = tokenize_frames(["疫苗接种，开始了。"], ["zh"], source, 10)
    assert text.vocabulary.dim == 3
    assert 0 < text.unknown_word_rate < 1


def test_word_vector_file_with_wrong_dimensions_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.txt", "the 1 2 3\nvaccine 0.1 0.2\n")
    with pytest.raises(ModelLoadError, match=r"bad.txt line 2 has 2 values, expected 3"):
        WordVectorFile(bad).vectors(["vaccine"])
    header = _write(tmp_path / "header.txt", "2 300\nthe 1 2 3\n")
    with pytest.raises(
        ModelLoadError, match=r"line 2 has 3 values, expected 300 \(from the header"
    ):
        WordVectorFile(header).vectors(["the"])


def test_word_vector_file_with_bad_lines_is_refused(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.txt", "the 1 2 3\nvaccine 0.1 abc 0.3\n")
    with pytest.raises(ModelLoadError, match=r"line 2: value 'abc' is not a number"):
        WordVectorFile(bad).vectors(["vaccine"])
    nan = _write(tmp_path / "nan.txt", "the 1 nan 3\n")
    with pytest.raises(ModelLoadError, match="NaN or infinite"):
        WordVectorFile(nan).vectors(["the"])
    binary = tmp_path / "vectors.bin"
    binary.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ModelLoadError, match="not UTF-8"):
        WordVectorFile(binary).vectors(["the"])
    with pytest.raises(ModelLoadError, match="does not exist"):
        WordVectorFile(tmp_path / "missing.txt").vectors(["the"])
    empty = _write(tmp_path / "empty.txt", "\n")
    with pytest.raises(ModelLoadError, match="holds no vectors"):
        WordVectorFile(empty).vectors(["the"])


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            b"3000000 300\n\x8f\x02\xaa binary floats",
            "is not UTF-8 text (invalid start byte at byte 12); word-vector files must be "
            "GloVe/word2vec text files",
        ),
        (
            b"the 0.1 0.2\nvaccine 0.3\n",
            "line 2 has 1 values, expected 2 (from the first line); the file mixes dimensions "
            "or is damaged",
        ),
        (b"the 0.1 zero\n", "line 1: value 'zero' is not a number"),
    ],
)
def test_the_train_stage_checks_the_word_vector_file_before_any_work(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    # A binary file given as --word-vectors was refused only after ingest and training.
    from themescope.model.train import TrainStage

    path = tmp_path / "vectors.bin"
    path.write_bytes(content + b"\nlater 1 2 3 4 5\n" * 10)
    with pytest.raises(ModelLoadError) as info:
        TrainStage(TrainConfig(word_vectors=str(path)), device="cpu").check()
    assert str(info.value) == f"{path} {problem}"


def test_glove_words_containing_spaces_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path / "g.txt", "the 1 2 3\n. . . 4 5 6\n")
    vectors, known = WordVectorFile(path).vectors([". . ."])
    assert known.all() and vectors[0].tolist() == [4, 5, 6]


def test_sizes_whose_training_would_not_fit_in_memory_are_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # train --latent-dim 200000 grew to 24 GB and was killed by the kernel; sizes within
    # their bounds can still multiply past the machine's memory.
    from themescope.model import crvae
    from themescope.model.train import TrainStage

    config = TrainConfig(latent_dim=4096, dense_units=16384)
    estimate = crvae.estimate_training_memory(config)
    # On the meta device the model has its real shapes without allocating and initializing
    # 2.4 GB of weights (seconds, and swapping on a busy machine).
    with torch.device("meta"):
        model = CRVAE(config, torch.zeros(1, crvae.TOKEN_DIM_ESTIMATE))
    assert estimate.n_parameters == sum(p.numel() for p in model.parameters())
    monkeypatch.setattr(crvae, "available_memory_bytes", lambda: 8 * 10**9)
    with pytest.raises(ConfigError) as info:
        TrainStage(config, device="cpu").check()
    assert str(info.value) == (
        "training with these sizes needs about 10.2 GB of memory (599 M parameters with their "
        "gradients and Adam state: 9.6 GB; 2000 frames at 120x200: 0.6 GB) and 8.0 GB is "
        "available; lower latent_dim, dense_units, rnn_hidden, the image size or "
        "max_train_frames"
    )
    TrainStage(TrainConfig(), device="cpu").check()  # the default fits in 8 GB
