"""What every stage's config dataclass shares: reading it from a dict (a config file section)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from themescope.errors import ConfigError


def refuse_unknown_keys(
    config_class: type, values: Mapping[str, Any], section: str, also: Iterable[str] = ()
) -> None:
    """Raise :class:`ConfigError` naming the keys of ``values`` that ``config_class`` lacks.

    Args:
        config_class: A dataclass whose field names are the known keys.
        values: The section as read from a config file or built from CLI flags.
        section: Its name in messages ("ingest", "train", "themes").
        also: Keys accepted besides the fields (e.g. ``preset``).
    """
    known = {f.name for f in dataclasses.fields(config_class)} | set(also)
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"unknown {section} option(s): {', '.join(unknown)}; "
            f"known options: {', '.join(sorted(known))}"
        )
