"""What every swappable part shares: scikit-learn-style parameters, and an identity for caches.

A component (captioner, tagger, phrase embedder, on-screen text reader, ...) stores
its constructor arguments under the same names, as scikit-learn estimators do; then
:meth:`Component.get_params` can list them and :func:`identity` can say exactly which
component, configured how, produced a stage's output. The stage fingerprint includes
that identity, so ``ExtractiveTagger(mmr_lambda=0.3)`` is never mistaken for the
default, and a custom captioner with the default's ``name`` does not reuse its captions.
"""

from __future__ import annotations

import inspect
import math
from pathlib import PurePath
from typing import Any


class Component:
    """Base of every swappable part of the pipeline.

    Subclasses store each ``__init__`` argument as an attribute of the same name (or,
    for state that must stay private, override :meth:`get_params`).

    Example:
        >>> class Scaler(Component):
        ...     def __init__(self, factor: float = 2.0) -> None:
        ...         self.factor = factor
        >>> Scaler(3.0).get_params()
        {'factor': 3.0}
    """

    def get_params(self) -> dict[str, Any]:
        """Return the constructor arguments this component was built with, by name.

        Raises:
            TypeError: The class does not store an argument under its name.
        """
        params: dict[str, Any] = {}
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name == "self" or parameter.kind in (
                inspect.Parameter.VAR_POSITIONAL,
                inspect.Parameter.VAR_KEYWORD,
            ):
                continue
            if not hasattr(self, name):
                raise TypeError(
                    f"{type(self).__qualname__} does not store its argument {name!r} as an "
                    "attribute of that name; store it or override get_params()"
                )
            params[name] = getattr(self, name)
        return params


def identity(component: Any) -> dict[str, Any] | None:
    """Return what identifies ``component`` for a fingerprint: its class path and parameters.

    Nested components are described recursively; paths become strings; values that
    have no stable text (open models, functions) are described by their class.
    """
    if component is None:
        return None
    cls = type(component)
    described: dict[str, Any] = {"class": f"{cls.__module__}.{cls.__qualname__}"}
    if isinstance(component, Component):
        described["params"] = {k: _stable(v) for k, v in component.get_params().items()}
    return described


def _stable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in value.items()}
    return identity(value)
