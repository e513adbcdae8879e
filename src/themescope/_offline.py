"""Keep the Hugging Face libraries off the network while themescope loads a model.

themescope never downloads a model: every ``from_pretrained`` gets
``local_files_only=True``, and while a model loads :func:`offline_hub` also puts the
hub itself in offline mode, so no code path in those libraries can reach the network.
The switch is undone when the load ends: a program that imports themescope keeps
its own settings. The captioner, the translator and the local LLM load their model with
:func:`load_local_model`: :func:`resolve_local_model` finds it (a folder, or an id
already in the local cache) and :func:`load_pretrained` reads it;
:func:`read_local_config` reads its config beforehand, to check what kind of model it is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from themescope._model_files import check_model_folder
from themescope.devices import resolve_device
from themescope.errors import ModelLoadError

logger = logging.getLogger("themescope")

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


def resolve_local_model(model_path: str, *, what: str) -> str:
    """Return a loadable local folder or an already-cached hub id; never download.

    Args:
        model_path: A folder saved with ``save_pretrained``, or an "org/name" id.
        what: What the model is, for the error message ("BLIP captioning model").

    Raises:
        ModelLoadError: The folder does not exist, its config.json or weights are
            damaged, or the id is not in the local Hugging Face cache.

    """
    path = Path(model_path).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"{what} path {path} is a file; give the folder that holds it")
        if not (path / "config.json").is_file():
            raise ModelLoadError(f"{what} folder {path} has no config.json")
        check_model_folder(path, what)
        return str(path)
    if _looks_like_hub_id(model_path):
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(model_path, "config.json")
        if isinstance(cached, str):
            return model_path
        raise ModelLoadError(
            f"{what} {model_path!r} is neither a local folder nor in the local Hugging Face "
            "cache; themescope never downloads models, so save it to a folder and pass its path"
        )
    raise ModelLoadError(f"{what} path {path} does not exist")


def read_local_config(model_path: str, *, what: str) -> dict[str, Any]:
    """Return the ``config.json`` of a local model, found as :func:`resolve_local_model` finds it.

    Reading the config takes milliseconds, so what kind of model a folder holds can be
    checked before any work, long before the model loads.

    Raises:
        ModelLoadError: As :func:`resolve_local_model`, or the config is not a JSON object.

    """
    source = resolve_local_model(model_path, what=what)
    config = Path(source) / "config.json"
    if not config.is_file():  # an id in the local cache
        from huggingface_hub import try_to_load_from_cache

        config = Path(str(try_to_load_from_cache(source, "config.json")))
    try:
        values = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{what} {config} is not readable JSON ({exc})") from exc
    if not isinstance(values, dict):
        raise ModelLoadError(f"{what} {config} is not a JSON object")
    return values


def load_pretrained(source: str, what: str, *classes: Any) -> list[Any]:
    """Load ``source`` with each class's ``from_pretrained``, offline, in order.

    Args:
        source: What :func:`resolve_local_model` returned.
        what: What the model is, with its article, for the message ("a BLIP captioning model").
        classes: transformers classes (a processor or tokenizer, then the model, say).

    Raises:
        ModelLoadError: A class cannot load the files (the first line of its error is kept).

    """
    try:
        with offline_hub():
            return [cls.from_pretrained(source, local_files_only=True) for cls in classes]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        lines = str(exc).strip().splitlines()
        raise ModelLoadError(
            f"cannot load {what} from {source}: {lines[0] if lines else type(exc).__name__}"
        ) from exc


def load_local_model(
    model_path: str,
    *,
    device: str,
    what: str,
    kind: str,
    name: str,
    classes: tuple[str, str],
) -> tuple[Any, Any]:
    """Find a local model, load its preprocessor and model offline, and ready the model.

    Args:
        model_path: A folder saved with ``save_pretrained``, or an "org/name" id in the cache.
        device: Where to run it: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        what: What the model is, for a missing model's message ("BLIP captioning model").
        kind: What the files must be, with its article ("a BLIP captioning model").
        name: What the log line calls the component ("BLIP captioner").
        classes: The names of the transformers classes of the preprocessor (processor
            or tokenizer) and of the model.

    Returns:
        The preprocessor and the model, on ``device`` and in evaluation mode.

    Raises:
        ModelLoadError: As :func:`resolve_local_model` and :func:`load_pretrained`.

    """
    source = resolve_local_model(model_path, what=what)
    import transformers

    resolved = resolve_device(device)
    logger.info("loading %s from %s on %s", name, source, resolved)
    preprocessor, model = load_pretrained(
        source, kind, *(getattr(transformers, cls) for cls in classes)
    )
    return preprocessor, model.to(resolved).eval()


def _looks_like_hub_id(text: str) -> bool:
    """Whether ``text`` reads as "org/name" rather than a filesystem path."""
    if text.startswith((".", "/", "~")) or "\\" in text:
        return False
    parts = text.split("/")
    return len(parts) == 2 and all(parts)


__all__ = [
    "load_local_model",
    "load_pretrained",
    "offline_hub",
    "read_local_config",
    "resolve_local_model",
]
