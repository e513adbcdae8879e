"""One way to declare a stage's settings: each field with its range, category, flag and help.

Every stage config (``IngestConfig``, ``TrainConfig``, ``ThemesConfig``) is a frozen
dataclass of :class:`Settings` whose fields are declared with :func:`setting`. That
declaration is the only place a setting's default, allowed values, category and help
text live: validation, config-file keys (:meth:`Settings.from_dict`), the CLI's help
texts (:meth:`Settings.help`) and the fingerprint (:meth:`Settings.fingerprinted`) all
read it, so they cannot drift apart.

Each setting has a category (:data:`CATEGORIES` says what each means), and
``docs/settings.md`` is generated from the declarations (``python scripts/gen_settings.py``).

Errors are raised in one voice, naming the flag when there is one::

    --every (ingest.every_s) must be a number > 0. Got 0 instead.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self

from themescope.errors import ConfigError
from themescope.registry import Choices

Category = Literal["architecture", "result", "resumable", "runtime"]
CATEGORIES: dict[Category, str] = {
    "architecture": "fixes the network's shapes; a checkpoint written with another value "
    "cannot be resumed.",
    "result": "changes what the stage produces (the default).",
    "resumable": "changes the result, but an interrupted training may resume under a new "
    "value (the number of epochs, early stopping).",
    "runtime": "changes how the work is done, never its result (threads, checkpoint "
    "interval); left out of the fingerprint.",
}
"""What each category means (the settings reference lists them too)."""
_META_KEY = "themescope"
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")

SEED_HIGH = 2**32 - 1
"""Largest seed: numpy's ``RandomState`` and scikit-learn's ``random_state`` take [0, 2**32 - 1]."""


@dataclass(frozen=True)
class Declaration:
    """What is declared about one setting (kept in the dataclass field's metadata).

    Attributes:
        help: One line for ``--help`` and the docs.
        category: See the module docstring.
        flag: The command-line flag that sets it, if any (``--set section.key=value`` reaches
            every setting).
        choices: The allowed values, for a setting with a closed set; :class:`Choices`
            for one that names a registered component (read when a value is checked).
        low: Smallest allowed value (inclusive unless ``low_open``).
        high: Largest allowed value (inclusive; of each item for ``ints``). Every size has
            one that fits a laptop, so a typo is refused instead of filling the memory.
        low_open: Whether ``low`` itself is excluded.
        kind: ``int``, ``float``, ``bool``, ``str``, ``path``, ``name or path`` (a
            registered component's name or a local folder: see :class:`Choices`),
            ``ints`` (a list of ints) or ``range`` (an inclusive pair of ints, written
            ``3-5`` or ``[3, 5]``).
        optional: Whether None is allowed (and what it means is said in ``help``).
    """

    help: str
    category: Category = "result"
    flag: str | None = None
    choices: tuple[Any, ...] | Choices | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    kind: str = "str"
    optional: bool = False

    def allowed(self) -> str:
        """Return the allowed values in the words of the errors, e.g. ``[1, 95]`` ("" if any).

        Example:
            >>> Declaration(help="", kind="float", low=0, low_open=True).allowed()
            '> 0'
        """
        if isinstance(self.choices, Choices):
            return self.choices.shown()
        if self.choices is not None:
            return ", ".join(str(choice) for choice in self.choices)
        if self.kind == "range":
            top = f" <= {_num(self.high)}" if self.high is not None else ""
            return f"1 <= low <= high{top}"
        if self.kind == "ints":
            return f"each in [1, {_num(self.high)}]" if self.high is not None else "each >= 1"
        return _bounds(self).strip().removeprefix("in ")


def setting(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    kind: str,
    category: Category = "result",
    flag: str | None = None,
    choices: tuple[Any, ...] | Choices | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    optional: bool = False,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a field of a :class:`Settings` dataclass (its only declaration).

    Example:
        >>> @dataclasses.dataclass(frozen=True)
        ... class Demo(Settings):
        ...     section: ClassVar[str] = "demo"
        ...     every_s: float = setting(2.0, kind="float", low=0, low_open=True, help="Gap.")
        >>> Demo(every_s=0)
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: demo.every_s must be a number > 0. Got 0 instead.
    """
    declaration = Declaration(
        help=help,
        category=category,
        flag=flag,
        choices=choices,
        low=low,
        high=high,
        low_open=low_open,
        kind=kind,
        optional=optional,
    )
    metadata = {_META_KEY: declaration}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_SEED = Declaration(help="Seed of every random choice.", kind="int", low=0, high=SEED_HIGH)


def seed_setting(default: int, *, help: str, flag: str | None = "--seed") -> Any:
    """Declare a seed field: an int in [0, :data:`SEED_HIGH`], refused before any work."""
    return setting(default, help=help, kind=_SEED.kind, low=_SEED.low, high=_SEED.high, flag=flag)


def check_seed(value: Any, where: str) -> int:
    """Return ``value`` if it is a seed a :func:`seed_setting` accepts, else raise.

    For seeds that are plain arguments rather than settings (``compare``, the generator).

    Example:
        >>> check_seed(-1, "seed")
        Traceback (most recent call last):
        ...
        themescope.errors.ConfigError: seed must be an int in [0, 4294967295]. Got -1 instead.
    """
    return int(_coerce(where, _SEED, value))


def parse_range(value: Any, where: str = "--k-range") -> tuple[int, int]:
    """Read an inclusive range of ints: ``"3-5"``, ``"4"``, ``[3, 5]`` or ``(3, 5)``.

    This is the one grammar for ranges, from the command line, config files and Python.

    Raises:
        ConfigError: The value is not a range.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text), int(text)
        match = _RANGE.match(text)
        if match:
            return int(match.group(1)), int(match.group(2))
    elif (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return int(value[0]), int(value[1])
    raise ConfigError(f"{where} must look like 3-5 (low-high). Got {value!r} instead.")


class Settings:
    """Base of the stage configs: validation, dict round trip and help from the declarations.

    Subclasses are frozen dataclasses whose fields are declared with :func:`setting`, and
    set ``section`` to their config-file section name. ``_check`` may add rules that
    involve several fields.
    """

    section: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            coerced = _coerce(self._where(item.name), _declaration(item), value)
            if coerced is not value:
                object.__setattr__(self, item.name, coerced)
        self._check()

    def _check(self) -> None:
        """Rules between fields; raise :class:`ConfigError` (override as needed)."""

    @classmethod
    def declarations(cls) -> dict[str, Declaration]:
        """Return each field's declaration, in field order."""
        return {item.name: _declaration(item) for item in dataclasses.fields(cls)}  # type: ignore[arg-type]

    @classmethod
    def _where(cls, name: str) -> str:
        flag = _declaration_of(cls, name).flag
        return f"{flag} ({cls.section}.{name})" if flag else f"{cls.section}.{name}"

    @classmethod
    def fail(cls, name: str, requirement: str, value: Any) -> ConfigError:
        """Return the error for ``name`` in the common voice (for rules in ``_check``)."""
        return ConfigError(f"{cls._where(name)} must {requirement}. Got {value!r} instead.")

    @classmethod
    def help(cls, name: str, default: Any = dataclasses.MISSING) -> str:
        """Return the help text of field ``name`` with its default, for the CLI.

        ``default`` replaces the declared default where a command uses another one.
        """
        if default is dataclasses.MISSING:
            default = cls.defaults()[name]
        declaration = _declaration_of(cls, name)
        if isinstance(declaration.choices, Choices):  # the registered names, never listed by hand
            return f"{declaration.help} One of: {declaration.allowed()}. (default: {show(default)})"
        return f"{declaration.help} (default: {show(default)})"

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Return each field's declared default, in field order (None where it has none)."""
        values = {}
        for item in dataclasses.fields(cls):  # type: ignore[arg-type]
            if item.default_factory is not dataclasses.MISSING:
                values[item.name] = item.default_factory()
            else:
                values[item.name] = None if item.default is dataclasses.MISSING else item.default
        return values

    @classmethod
    def names(cls, *categories: str) -> tuple[str, ...]:
        """Return the names of the fields in ``categories`` (all fields when none is given)."""
        return tuple(
            name
            for name, declaration in cls.declarations().items()
            if not categories or declaration.category in categories
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-serialisable dict (as stored in the manifest)."""
        values = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}

    def fingerprinted(self) -> dict[str, Any]:
        """Return the settings that can change the stage's result (all but ``runtime``)."""
        runtime = set(self.names("runtime"))
        return {k: v for k, v in self.to_dict().items() if k not in runtime}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping (a config-file section), refusing unknown keys.

        Raises:
            ConfigError: A key is unknown or a value is invalid.
        """
        refuse_unknown_keys(cls, values)
        return cls(**values)

    def replace(self, **changes: Any) -> Self:
        """Return a copy with ``changes`` applied and checked."""
        refuse_unknown_keys(type(self), changes)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def refuse_unknown_keys(config_class: type[Settings], values: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the keys of ``values`` that ``config_class`` lacks."""
    known = set(config_class.names())
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown {config_class.section} option(s): {', '.join(unknown)}; "
            f"known options: {', '.join(sorted(known))}"
        )


def _declaration(item: dataclasses.Field[Any]) -> Declaration:
    declaration = item.metadata.get(_META_KEY)
    if declaration is None:  # a programming error, caught by the config tests
        raise TypeError(f"field {item.name} is not declared with setting()")
    return declaration


def _declaration_of(cls: type, name: str) -> Declaration:
    return next(_declaration(f) for f in dataclasses.fields(cls) if f.name == name)


def show(value: Any) -> str:
    """Return a setting's value as the help and the docs write it: ``none``, ``true``, ``3-5``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple | list):
        return "-".join(str(v) for v in value) if len(value) == 2 else str(list(value))
    return str(value)


def _coerce(where: str, declaration: Declaration, value: Any) -> Any:
    """Check ``value`` against its declaration; return it in its canonical type."""
    if value is None:
        if declaration.optional:
            return None
        raise ConfigError(f"{where} must be given. Got None instead.")
    kind = declaration.kind
    if kind == "range":
        value = parse_range(value, where)
        top = declaration.high
        if not 1 <= value[0] <= value[1] or (top is not None and value[1] > top):
            limit = f" <= {_num(top)}" if top is not None else ""
            raise ConfigError(
                f"{where} must satisfy 1 <= low <= high{limit}. Got {value!r} instead."
            )
    elif kind == "ints":
        high = declaration.high
        if (
            not isinstance(value, list | tuple)
            or not value
            or any(
                isinstance(v, bool)
                or not isinstance(v, int)
                or v < 1
                or (high is not None and v > high)
                for v in value
            )
        ):
            each = f" in [1, {_num(high)}]" if high is not None else ""
            raise ConfigError(
                f"{where} must be a non-empty list of positive ints{each}. Got {value!r} instead."
            )
        value = tuple(int(v) for v in value)
    elif kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false. Got {value!r} instead.")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{where} must be an int{_bounds(declaration)}. Got {value!r} instead."
            )
        _check_bounds(where, declaration, value, "an int")
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"{where} must be a number{_bounds(declaration)}. Got {value!r} instead."
            )
        if not math.isfinite(value):
            # "must be a number > 0. Got inf instead." left the user wondering what was wrong.
            raise ConfigError(
                f"{where} must be a finite number{_bounds(declaration)}. Got {value!r} instead."
            )
        value = float(value)
        _check_bounds(where, declaration, value, "a number")
    elif kind in ("str", "path", "name or path"):
        is_path = kind != "str"
        if not isinstance(value, str):
            value = str(value) if is_path and hasattr(value, "__fspath__") else value
        if not isinstance(value, str) or (is_path and not value):
            raise ConfigError(
                f"{where} must be a {'path' if is_path else 'string'}. Got {value!r} instead."
            )
    choices = declaration.choices
    if isinstance(choices, Choices):
        if not choices.accepts(value):
            raise ConfigError(
                f"{where} must be one of {choices.describe()}. Got {value!r} instead."
            )
    elif choices is not None and value not in choices:
        raise ConfigError(
            f"{where} must be one of {', '.join(str(c) for c in choices)}. Got {value!r} instead."
        )
    return value


def _bounds(declaration: Declaration) -> str:
    low, high = declaration.low, declaration.high
    if low is not None and high is not None:
        return f" in {'(' if declaration.low_open else '['}{_num(low)}, {_num(high)}]"
    if low is not None:
        return f" {'>' if declaration.low_open else '>='} {_num(low)}"
    if high is not None:
        return f" <= {_num(high)}"
    return ""


def _check_bounds(where: str, declaration: Declaration, value: float, what: str) -> None:
    low, high = declaration.low, declaration.high
    too_low = low is not None and (value <= low if declaration.low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        raise ConfigError(
            f"{where} must be {what}{_bounds(declaration)}. Got {_num(value)} instead."
        )


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
