"""Loading models and cutting Chinese leave no process-wide setting changed behind them."""

from __future__ import annotations

import os

import huggingface_hub
import huggingface_hub.constants
import pytest
import torch

from themescope._offline import offline_hub
from themescope.devices import torch_threads
from themescope.embedding import load_embedder
from themescope.media.language import jieba_words

VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def test_offline_hub_sets_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    before = huggingface_hub.constants.HF_HUB_OFFLINE
    with offline_hub():
        assert huggingface_hub.is_offline_mode()
        assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
        with offline_hub():
            pass
        assert huggingface_hub.is_offline_mode()
    assert "HF_HUB_OFFLINE" not in os.environ
    assert os.environ["TRANSFORMERS_OFFLINE"] == "0"
    assert huggingface_hub.constants.HF_HUB_OFFLINE is before


def test_offline_hub_restores_after_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(RuntimeError), offline_hub():
        raise RuntimeError("load failed")
    assert "HF_HUB_OFFLINE" not in os.environ


def test_default_embedder_leaves_environment_and_threads_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    hub_offline = huggingface_hub.constants.HF_HUB_OFFLINE
    n_threads = torch.get_num_threads()
    embedder = load_embedder()
    assert embedder.embed(["vaccine", "storm"]).shape[0] == 2
    assert [name for name in VARIABLES if name in os.environ] == []
    assert huggingface_hub.constants.HF_HUB_OFFLINE is hub_offline
    assert torch.get_num_threads() == n_threads


def test_torch_threads_restores_the_count() -> None:
    n_threads = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == n_threads
    with torch_threads(0):
        assert torch.get_num_threads() == n_threads


def test_jieba_is_loaded_quietly_without_changing_its_logger() -> None:
    import jieba

    level = jieba.default_logger.level
    assert jieba_words("疫苗接种") == ["疫苗", "接种"]
    assert jieba.default_logger.level == level
