"""Swappable components by kind: a name, a factory, and whether it can run here.

Each implementation registers itself beside its class, with one call::

    register("cluster backend", "faiss", kmeans_faiss, available=faiss_problem,
             help="faiss-cpu's K-means")

The settings that choose a component (``--tagger``, ``themes.cluster_backend``, ...),
their help texts and the conformance tests all read the names from here, so a new
backend is one class and one registration, and an unknown name is refused with the
registered ones listed, the unavailable ones with the reason.

The built-in components of a kind register when their modules are imported; the
registry imports those modules (:data:`KINDS`) the first time the kind is asked about,
so importing themescope loads none of them. Registering loads nothing heavy either: a
factory imports its libraries when it is called, and ``available`` only looks them up.

Example:
    >>> class Shouter:
    ...     def caption(self, images):
    ...         return ["A FRAME"] * len(images)
    >>> register("captioner", "shouter", lambda model_path, *, device: Shouter(), help="Shouts.")
    >>> "shouter" in names("captioner")
    True
    >>> available("captioner", "shouter")
    Availability(ok=True, reason='')
    >>> unregister("captioner", "shouter")
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from themescope.errors import ConfigError

KINDS: dict[str, tuple[str, ...]] = {
    "frame source": ("themescope.media.frames.sampler",),
    "transcript format": ("themescope.media.transcripts.files",),
    "ocr reader": ("themescope.media.ocr",),
    "embedder": ("themescope.embedding",),
    "tagger": ("themescope.themes.taggers", "themescope.themes.llm"),
    "captioner": ("themescope.themes.captioners",),
    "translator": ("themescope.themes.translate",),
    "cluster backend": ("themescope.themes.cluster",),
    "executor": ("themescope.corpus.executors",),
}
"""Every kind, with the modules whose import registers its built-in components.

Named as strings and imported on first use: this module sits below the layers that
implement the components (tests/test_layers.py). What each kind's factory takes:

=================  ==================================================================
frame source       ``(path, *, every_s, height)`` -> ``media.frames.FrameSource``
transcript format  ``(text, path, duration_s)`` -> the parsed cues (``_sniff`` in
                   ``media/transcripts/files.py`` names the format)
ocr reader         ``()`` -> a reader with ``load()`` and ``read(images, times_s)``;
                   ``--ocr auto`` takes the first that can run
embedder           ``(*, device, load)`` -> ``embedding.PhraseEmbedder``
tagger             ``(config: ThemesConfig, embedder)`` -> ``themes.base.Tagger``
captioner          ``(model_path, *, device)`` -> ``themes.base.Captioner``
translator         ``(model_path, *, device)`` -> ``themes.translate.Translator``
cluster backend    ``(x, k, *, seed, n_init, max_iter)`` -> ``themes.cluster.KMeansFit``
executor           ``(*, workers, address)`` -> ``corpus.executors.Executor``
=================  ==================================================================
"""


@dataclass(frozen=True)
class Availability:
    """Whether a registered component can run here, and if not, why.

    Attributes:
        ok: True when its optional packages (or files) are there.
        reason: Why not, in words a user can act on (``"needs the ray extra: pip install
            "themescope[ray]""``); ``""`` when ``ok``.
    """

    ok: bool
    reason: str = ""


@dataclass(frozen=True)
class Registration:
    """One registered component.

    Attributes:
        kind: One of :data:`KINDS`.
        name: The name settings and flags take (lower case).
        factory: Builds the component; its arguments are the kind's (see the caller
            that selects the kind, e.g. ``themes/stage.py`` for taggers).
        help: One line for ``--help`` and error messages.
        aliases: Other names that select it.
        problem: Returns why it cannot run here, or None when it can.
    """

    kind: str
    name: str
    factory: Callable[..., Any]
    help: str = ""
    aliases: tuple[str, ...] = ()
    problem: Callable[[], str | None] | None = None

    def available(self) -> Availability:
        """Return whether the component can run here (it imports nothing heavy)."""
        reason = self.problem() if self.problem is not None else None
        return Availability(reason is None, reason or "")


_REGISTERED: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
_LOADED: set[str] = set()


def register(
    kind: str,
    name: str,
    factory: Callable[..., Any],
    *,
    available: Callable[[], str | None] | None = None,
    aliases: Iterable[str] = (),
    help: str = "",
) -> None:
    """Register ``factory`` as the component ``name`` of ``kind``.

    Args:
        kind: One of :data:`KINDS`.
        name: The name settings and flags take; case does not matter.
        factory: Builds the component; it should import heavy libraries itself, when
            called, so that registering stays cheap.
        available: Returns why the component cannot run here (a missing package, a
            missing model folder), or None when it can; None: always available.
        aliases: Other names that select the same component.
        help: One line describing it.

    Raises:
        ValueError: The kind is unknown, or the name or an alias is taken (a programming
            error, not a user's).
    """
    registered = _kind(kind)
    key = _key(name)
    keys = [key, *(_key(alias) for alias in aliases)]
    taken = [k for k in keys if _find(registered, k) is not None]
    if taken:
        raise ValueError(f"{kind} {', '.join(taken)} is already registered")
    registered[key] = Registration(kind, key, factory, help, tuple(keys[1:]), available)


def unregister(kind: str, name: str) -> None:
    """Remove the component ``name`` of ``kind`` (for tests and plugins that replace one)."""
    _kind(kind).pop(_key(name), None)


def names(kind: str) -> tuple[str, ...]:
    """Return the registered names of ``kind``, in registration order (aliases left out)."""
    return tuple(_loaded(kind))


def get(kind: str, name: str, *, accepted: Iterable[str] = ()) -> Registration:
    """Return the registration that ``name`` (or one of its aliases, in any case) selects.

    ``accepted`` are values the caller handles itself (``none``), listed in the error.

    Raises:
        ConfigError: No component of ``kind`` has that name; the message lists the
            registered ones, and why those that cannot run here cannot.
    """
    found = find(kind, name)
    if found is None:
        raise ConfigError(f"unknown {kind} {name!r}; choose one of: {describe(kind, *accepted)}")
    return found


def find(kind: str, name: str | PathLike[str]) -> Registration | None:
    """Return the registration that ``name`` selects, or None (for values that may be paths)."""
    return _find(_loaded(kind), _key(name))


def available(kind: str, name: str) -> Availability:
    """Return whether the component ``name`` of ``kind`` can run here, and why not.

    Raises:
        ConfigError: The name is not registered.
    """
    return get(kind, name).available()


def describe(kind: str, *extra: str) -> str:
    """Return the names a user may give for ``kind``, and why those that cannot run here cannot.

    ``extra`` are values a setting accepts beside the registered names (``auto``, ``none``).

    Example:
        >>> describe("executor")  # without Ray  # doctest: +SKIP
        'local, ray (unavailable here: ray: needs the ray extra: pip install "themescope[ray]")'
    """
    registered = _loaded(kind)
    listed = ", ".join([*extra, *registered]) or "none registered"
    missing = [
        f"{name}: {availability.reason}"
        for name, registration in registered.items()
        if not (availability := registration.available()).ok
    ]
    return f"{listed} (unavailable here: {'; '.join(missing)})" if missing else listed


@dataclass(frozen=True)
class Choices:
    """The values a setting accepts: some fixed ones and the registered names of a kind.

    Given as ``choices`` to :func:`~themescope._config.setting`; read each time, so a
    component registered after the setting was declared is accepted too.

    Attributes:
        kind: One of :data:`KINDS`.
        extra: Values the setting accepts beside the names (``auto``, ``none``), listed first.
        or_folder: Whether a local model folder is accepted too (the embedder): a value
            that is not a registered name in any case, and looks like a path (it holds a
            slash, starts with ``.`` or ``~``, or exists), is checked when the model loads.
    """

    kind: str
    extra: tuple[str, ...] = ()
    or_folder: bool = False

    def __call__(self) -> tuple[str, ...]:
        """Return the accepted names: the fixed ones, then the registered names and aliases."""
        registered = _loaded(self.kind).values()
        aliases = (alias for registration in registered for alias in registration.aliases)
        return (*self.extra, *(registration.name for registration in registered), *aliases)

    def __iter__(self) -> Iterator[str]:
        """Iterate over the accepted names, as over a setting's tuple of choices."""
        return iter(self())

    def accepts(self, value: str) -> bool:
        """Return whether the setting takes ``value``."""
        if value in self():
            return True
        if not self.or_folder:
            return False
        path = Path(value).expanduser()
        looks_like_path = "/" in value or os.sep in value or value.startswith((".", "~"))
        return find(self.kind, value) is not None or looks_like_path or path.exists()

    def shown(self) -> str:
        """Return the values as help texts list them (aliases left out)."""
        listed = ", ".join((*self.extra, *names(self.kind)))
        return f"{listed}, or a local model folder" if self.or_folder else listed

    def describe(self) -> str:
        """Return the values for an error message, with why the unavailable ones are."""
        listed = describe(self.kind, *self.extra)
        return f"{listed}, or a local model folder" if self.or_folder else listed


def _kind(kind: str) -> dict[str, Registration]:
    if kind not in _REGISTERED:
        raise ValueError(f"unknown component kind {kind!r}; kinds: {', '.join(KINDS)}")
    return _REGISTERED[kind]


def _loaded(kind: str) -> dict[str, Registration]:
    """The kind's registrations, built-ins first in the order of :data:`KINDS`' modules.

    A module of the kind may have been imported (and registered) before the others,
    so the order is set here, not by the imports: choices, help and ``--ocr auto``'s
    first reader must not depend on which module a program happened to import first.
    """
    registered = _kind(kind)
    if kind not in _LOADED:
        _LOADED.add(kind)
        for module in KINDS[kind]:
            importlib.import_module(module)
    modules = KINDS[kind]

    def rank(registration: Registration) -> int:
        module = getattr(registration.factory, "__module__", "")
        return modules.index(module) if module in modules else len(modules)

    # sorted() is stable: plug-ins and a module's own components keep their order.
    return {r.name: r for r in sorted(registered.values(), key=rank)}


def _find(registered: dict[str, Registration], key: str) -> Registration | None:
    if key in registered:
        return registered[key]
    return next((r for r in registered.values() if key in r.aliases), None)


def _key(name: str | PathLike[str]) -> str:
    return str(name).strip().lower()
