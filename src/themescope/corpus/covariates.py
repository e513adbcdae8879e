"""The videos' metadata as a study reads it: the date column and the covariates.

A corpus manifest's columns beyond ``video``, ``subtitles``, ``group`` and ``lang``
are metadata (:mod:`themescope.corpus.spec`). A ``date`` column dates the videos
(:func:`check_dates` refuses one that is empty, unreadable or written two ways);
:func:`read_covariates` checks the columns a study regresses the videos' theme shares
on and tells whether each is the date, a number or a category.

Example:
    >>> parse_date("2020-01-31T19:00+01:00")
    datetime.datetime(2020, 1, 31, 18, 0)
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from themescope.errors import ConfigError

#: The metadata column that dates the videos (matched without regard to case).
DATE_COLUMN = "date"
#: How many problems one error message names before it counts the rest.
N_QUOTED = 3


def parse_date(text: str) -> datetime.datetime:
    """Return the ISO 8601 date or date-time ``text`` as a naive date-time (UTC if it had a zone).

    Raises:
        ValueError: ``text`` is not an ISO date or date-time.

    Example:
        >>> parse_date("2020-01-31")
        datetime.datetime(2020, 1, 31, 0, 0)
    """
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.UTC).replace(tzinfo=None)
    return value


def date_column(columns: list[str]) -> str | None:
    """The metadata column that dates the videos, as the manifest writes its name, or None."""
    return next((c for c in columns if c.strip().lower() == DATE_COLUMN), None)


def _date_form(text: str) -> str | None:
    """``"date"``, ``"date-time"``, or None when ``text`` is neither in ISO 8601."""
    try:
        parse_date(text)
    except ValueError:
        return None
    # fromisoformat reads "20200131" and "2020-W05-1" too; a researcher's column of
    # those is still one form throughout, which is what the check below needs.
    return "date-time" if re.search(r"\d[T ]\d", text) else "date"


def check_dates(source: Path, rows: list[tuple[int, dict[str, str]]], columns: list[str]) -> None:
    """Refuse a date column with an empty, unreadable or differently written value."""
    column = date_column(columns)
    if column is None:
        return
    forms: dict[str, list[int]] = {}
    for row, metadata in rows:
        text = metadata.get(column, "")
        form = "missing" if not text else _date_form(text) or "unreadable"
        forms.setdefault(form, []).append(row)
    where = f"corpus manifest {source} column {column!r}"
    if "missing" in forms:
        raise ConfigError(
            f"{where} has no date in {_rows(forms['missing'])}; give every video a date "
            "(2020-01-31) or remove the column"
        )
    if "unreadable" in forms:
        raise ConfigError(
            f"{where} holds values that are not ISO dates in {_rows(forms['unreadable'])}; "
            "write 2020-01-31 or 2020-01-31T19:00"
        )
    if len(forms) > 1:
        fewer = min(forms, key=lambda form: len(forms[form]))
        more = max(forms, key=lambda form: len(forms[form]))
        raise ConfigError(
            f"{where} mixes dates and date-times: {_rows(forms[fewer])} "
            f"{'holds' if len(forms[fewer]) == 1 else 'hold'} a {fewer}, the other rows a "
            f"{more}; write them all one way"
        )


def _rows(numbers: list[int]) -> str:
    """``"rows 3, 5, 9 and 2 more"``: the first :data:`N_QUOTED` of ``numbers``."""
    noun = "row" if len(numbers) == 1 else "rows"
    more = f" and {len(numbers) - N_QUOTED} more" if len(numbers) > N_QUOTED else ""
    return f"{noun} {', '.join(map(str, numbers[:N_QUOTED]))}{more}"


@dataclass(frozen=True)
class Covariate:
    """A metadata column a study regresses the videos' theme shares on.

    Attributes:
        name: The column as the manifest writes it.
        kind: ``"date"`` (the date column, as time since the first video), ``"numeric"``
            (every value a number) or ``"categorical"`` (anything else).
        levels: A categorical covariate's values, sorted; the first is the reference level
            the others are compared with. Empty for the other kinds.

    Example:
        >>> rows = [(2, {"outlet": "state"}), (3, {"outlet": "commercial"})]
        >>> read_covariates(["outlet"], rows, "corpus.csv")[0].levels
        ('commercial', 'state')
    """

    name: str
    kind: Literal["date", "numeric", "categorical"]
    levels: tuple[str, ...] = ()


def read_covariates(
    names: Sequence[str], rows: Sequence[tuple[int, Mapping[str, str]]], where: str
) -> tuple[Covariate, ...]:
    """Check the covariates ``names`` against the videos' metadata and tell their kinds.

    Args:
        names: Metadata columns, matched without regard to case.
        rows: ``(row, metadata)`` of every video (:attr:`CorpusVideo.row`, ``.metadata``).
        where: What the rows come from, for messages ("corpus manifest corpus.csv").

    Raises:
        ConfigError: In one line: a name is not a metadata column (or is ``group``,
            which every study's model holds); a covariate is empty in some rows, has one
            value for every video, or is categorical with as many values as videos.
    """
    columns = list(dict.fromkeys(key for _, metadata in rows for key in metadata))
    by_lower = {column.strip().lower(): column for column in columns}
    covariates: dict[str, Covariate] = {}
    for asked in names:
        if asked.strip().lower() == "group":
            raise ConfigError(
                "covariate 'group': every study's model holds the group already; name other "
                "columns of the corpus manifest"
            )
        name = by_lower.get(asked.strip().lower())
        if name is None:
            known = f"its columns: {', '.join(columns)}" if columns else "it has no such columns"
            raise ConfigError(f"covariate {asked!r} is not a metadata column of {where} ({known})")
        values = [metadata.get(name, "") for _, metadata in rows]
        empty = [row for row, metadata in rows if not metadata.get(name, "")]
        if empty:
            raise ConfigError(
                f"covariate {name!r} is empty in {_rows(empty)} of {where}; give every video "
                "a value or leave the covariate out"
            )
        distinct = sorted(set(values))
        if len(distinct) == 1:
            raise ConfigError(
                f"covariate {name!r} has one value ({distinct[0]!r}) for all {len(values)} "
                f"videos of {where}: it cannot explain a difference between them; leave it out"
            )
        kind = column_kind(name, values, columns)
        if kind != "categorical":
            covariates[name] = Covariate(name, kind)
        elif len(distinct) >= len(values):
            raise ConfigError(
                f"covariate {name!r} has {len(distinct)} different values for {len(values)} "
                f"videos of {where}: as a category it gives every video a level of its own; "
                "leave it out or group its values"
            )
        else:
            covariates[name] = Covariate(name, "categorical", tuple(distinct))
    return tuple(covariates.values())


def column_kind(
    name: str, values: Sequence[str], columns: Sequence[str]
) -> Literal["date", "numeric", "categorical"]:
    """What a metadata column holds: the date column, numbers throughout, or categories.

    Args:
        name: The column.
        values: Its value in every video.
        columns: Every metadata column (to tell which one dates the videos).
    """
    if name == date_column(list(columns)):
        return "date"
    return "numeric" if values and all(_is_number(value) for value in values) else "categorical"


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


__all__ = [
    "DATE_COLUMN",
    "N_QUOTED",
    "Covariate",
    "check_dates",
    "column_kind",
    "date_column",
    "parse_date",
    "read_covariates",
]
