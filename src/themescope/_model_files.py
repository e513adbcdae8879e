"""Cheap checks of a local transformers model folder, made before any work starts.

Loading a model takes seconds to minutes and happens late (the phrase embedder and the
captioner load in the themes stage, after ingest and training). These checks read only
``config.json`` and the weights files' headers, so a folder with an empty config or
damaged weights is refused before the first stage instead of after the longest one.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from themescope.errors import ModelLoadError

_MAX_SAFETENSORS_HEADER = 100_000_000
"""The safetensors format's own limit on its JSON header, in bytes."""
_ZIP_MAGIC = b"PK\x03\x04"
"""torch.save writes a zip archive (pytorch_model.bin since PyTorch 1.6)."""
_PICKLE_MAGIC = b"\x80"
"""The legacy torch.save format starts with a pickle protocol opcode."""


def check_model_folder(folder: Path, what: str) -> None:
    """Refuse a folder whose ``config.json`` or weights cannot be a transformers model's.

    Args:
        folder: The model's folder (``config.json`` and ``*.safetensors`` or
            ``pytorch_model*.bin`` files).
        what: What the model is, for the messages ("phrase embedder").

    Raises:
        ModelLoadError: config.json is unreadable or names no ``model_type``, no weights
            file is there, or a weights file's header is damaged or disagrees with its size.
    """
    config = folder / "config.json"
    try:
        values = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{what} {config} is not readable JSON ({exc})") from exc
    if not isinstance(values, dict) or not values.get("model_type"):
        raise ModelLoadError(
            f"{what} {config} names no model_type; it is not a transformers model's config"
        )
    weights = sorted(folder.glob("*.safetensors")) + sorted(folder.glob("pytorch_model*.bin"))
    if not weights:
        raise ModelLoadError(
            f"{what} folder {folder} holds no weights (model.safetensors or pytorch_model.bin)"
        )
    for path in weights:
        problem = (
            _safetensors_problem(path) if path.suffix == ".safetensors" else _bin_problem(path)
        )
        if problem is not None:
            raise ModelLoadError(f"{what} weights {path} are damaged: {problem}")


def _safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (its header and size), or None."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            return f"{size} bytes, too short for a safetensors header"
        (n_header,) = struct.unpack("<Q", prefix)
        if not 2 <= n_header <= min(_MAX_SAFETENSORS_HEADER, size - 8):
            return f"its header length ({n_header}) does not fit the file's {size} bytes"
        try:
            header = json.loads(handle.read(n_header))
        except (UnicodeDecodeError, ValueError):
            return "its header is not JSON"
    if not isinstance(header, dict):
        return "its header is not a JSON object"
    ends = [
        entry["data_offsets"][1]
        for name, entry in header.items()
        if name != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry
    ]
    expected = 8 + n_header + max(ends, default=0)
    if expected != size:
        return f"its header describes {expected} bytes, the file has {size} (truncated?)"
    return None


def _bin_problem(path: Path) -> str | None:
    """Why ``path`` is not a torch.save file (by its first bytes), or None."""
    with open(path, "rb") as handle:
        start = handle.read(4)
    if start.startswith(_ZIP_MAGIC) or start.startswith(_PICKLE_MAGIC):
        return None
    return "it is neither a torch.save zip archive nor a pickle"
