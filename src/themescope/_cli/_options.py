"""Command-line options read from the settings' declarations, and config files merged with flags.

A flag's help text and shown default come from the field's :func:`~themescope._config.setting`
declaration, and every flag defaults to None ("not given"), so a config file's value
wins over the declared default and a flag's over both: flag > ``--set`` > file > default.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer

from themescope import registry
from themescope._config import Settings
from themescope.errors import ConfigError


def option(
    config: type[Settings],
    name: str,
    *short: str,
    defaults: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Return the typer option for setting ``name`` of ``config`` (its declared flag and help).

    ``defaults`` are a command's own defaults by section (a study's), shown instead of the
    declared ones where they name the setting.
    """
    declaration = config.declarations()[name]
    if declaration.flag is None:
        raise ValueError(f"{config.section}.{name} has no flag")
    flag = declaration.flag
    if declaration.kind == "bool":
        flag = f"{flag}/--no-{flag.removeprefix('--')}"
    own = (defaults or {}).get(config.section, {})
    shown = own.get(name, dataclasses.MISSING)
    return typer.Option(None, flag, *short, help=config.help(name, shown), show_default=False)


def registered(kind: str) -> str:
    """Return the registered names of a component kind, for an option's help."""
    return ", ".join(registry.names(kind))


def given(**values: Any) -> dict[str, Any]:
    """Return the flags that were given (not None), for a config section."""
    return {key: value for key, value in values.items() if value is not None}


def section_flags(config: type[Settings], params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the given flags of ``config``'s section among a command's parameters.

    A command names each settings flag's parameter as the setting (``every_s`` for
    ``--every``), so its section is read from the declarations rather than listed again.

    Args:
        config: The section's settings class.
        params: The command's parameters by name (``typer.Context.params``).
    """
    return given(**{name: params[name] for name in config.declarations() if name in params})


NO_STABILITY_HELP = "Switch off the stability refits (themes.stability = none)."


def stability_flags(stability: int | None, no_stability: bool) -> dict[str, Any]:
    """Return the themes section's ``stability`` from ``--stability N`` and ``--no-stability``.

    Raises:
        ConfigError: Both were given.
    """
    if not no_stability:
        return given(stability=stability)
    if stability is not None:
        raise ConfigError(f"give --stability or --no-stability, not both (--stability {stability})")
    return {"stability": None}


CONFIG_FILE_HELP = "TOML or YAML file with [ingest], [train] and [themes] sections."
SET_HELP = "Any other setting as section.key=value (a JSON value), e.g. train.lr=0.001."


def merged_config(
    config_file: Path | None, settings: list[str] | None, flags: dict[str, Any]
) -> dict[str, Any]:
    """Return the config file's sections updated by ``--set`` values, then by the flags."""
    from themescope.pipeline import load_config, merge_config

    base = load_config(config_file) if config_file is not None else {}
    for setting in settings or []:
        section, key, value = parse_setting(setting)
        base = merge_config(base, {section: {key: value}})
    return merge_config(base, flags)


def parse_setting(text: str) -> tuple[str, str, Any]:
    """Read ``section.key=value``; the value is JSON when it parses, else a string."""
    name, sep, raw = text.partition("=")
    section, dot, key = name.partition(".")
    if not sep or not dot or not key:
        raise ConfigError(f"--set must look like section.key=value. Got {text!r} instead.")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return section, key, value
