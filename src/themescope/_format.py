"""How numbers read in messages and logs (the report's pages have filters of their own)."""

from __future__ import annotations


def decimals(value: float | None, digits: int) -> str:
    """``value`` with ``digits`` decimals, or "n/a" for a measure that was not taken.

    Example:
        >>> decimals(0.41237, 3), decimals(None, 2)
        ('0.412', 'n/a')

    """
    return "n/a" if value is None else f"{value:.{digits}f}"
