"""Keep the Hugging Face libraries off the network while themescope loads a model.

themescope never downloads a model: every ``from_pretrained`` gets
``local_files_only=True``, and while a model loads :func:`offline_hub` also puts the
hub itself in offline mode, so no code path in those libraries can reach the network.
The switch is undone when the load ends: a program that imports themescope keeps
its own settings.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@contextlib.contextmanager
def offline_hub() -> Iterator[None]:
    """Put huggingface_hub (and so transformers) in offline mode for the ``with`` block.

    huggingface_hub reads ``HF_HUB_OFFLINE`` once, when it is first imported, into
    ``huggingface_hub.constants.HF_HUB_OFFLINE``, which transformers consults; so the
    block sets that flag as well as the environment variables, and restores both.

    Example:
        >>> with offline_hub():  # doctest: +SKIP
        ...     model = AutoModel.from_pretrained("models/x", local_files_only=True)

    """
    # Imported before the variables change, so that a first import reads the user's own.
    import huggingface_hub.constants as hub

    saved_env = {name: os.environ.get(name) for name in _VARIABLES}
    saved_flag = hub.HF_HUB_OFFLINE
    os.environ.update(dict.fromkeys(_VARIABLES, "1"))
    hub.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub.HF_HUB_OFFLINE = saved_flag
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


__all__ = ["offline_hub"]
