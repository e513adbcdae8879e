"""Phrase embedders load from local folders only: the bundled model and user folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from themescope._bundled import minilm_path
from themescope.errors import ModelLoadError
from themescope.themes.embedders import SentenceTransformerEmbedder, embedder_info, load_embedder


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A random 1-layer BERT wrapped as a sentence-transformers model, saved to disk."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    root = tmp_path_factory.mktemp("tiny")
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        "the",
        "vaccine",
        "nurse",
        "storm",
        "rain",
        "flood",
    ]
    (root / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    BertModel(config).save_pretrained(root / "bert")
    BertTokenizerFast(vocab_file=str(root / "vocab.txt")).save_pretrained(root / "bert")
    word = Transformer(str(root / "bert"))
    pooling = Pooling(word.get_embedding_dimension(), "mean")
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(root / "tiny-st"))
    return root / "tiny-st"


def test_bundled_default_embeds_unit_vectors():
    embedder = load_embedder(None)
    assert embedder.info() == {"name": "all-MiniLM-L6-v2", "path": str(minilm_path())}
    vectors = embedder.embed(["covid vaccine", "vaccination site", "football stadium"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # a real model, not noise: related phrases are closer than unrelated ones
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert embedder.embed([]).shape == (0, 384)
    # the cache returns the same vectors
    assert np.array_equal(embedder.embed(["covid vaccine"])[0], vectors[0])


@pytest.mark.parametrize(
    "name", ["default", "minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"]
)
def test_names_of_the_bundled_model(name):
    embedder = load_embedder(name, load=False)
    assert embedder.resolved_path() == minilm_path()


def test_user_model_from_a_local_folder(tiny_model_dir):
    embedder = load_embedder(str(tiny_model_dir))
    assert embedder_info(embedder) == {"name": "tiny-st", "path": str(tiny_model_dir)}
    assert embedder.dim == 16
    vectors = embedder.embed(["the vaccine", "storm rain", "the vaccine"])
    assert vectors.shape == (3, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])


def test_hub_id_is_refused_without_download():
    with pytest.raises(
        ModelLoadError, match=r"'whaleloops/phrase-bert' is not a local folder.*never downloads"
    ):
        load_embedder("whaleloops/phrase-bert")


def test_folder_without_a_model_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="holds no sentence-transformers model"):
        load_embedder(tmp_path)
    with pytest.raises(ModelLoadError, match="is a file"):
        load_embedder(tmp_path / "notes.txt")


def test_broken_model_folder_is_a_load_error(tmp_path):
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError, match="cannot load a sentence-transformers model"):
        SentenceTransformerEmbedder(tmp_path).embed(["x"])
