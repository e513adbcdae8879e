"""Tidy tables of a finished study or run, as CSV and Parquet, for pandas and R.

:func:`export` reads a study (``themescope corpus``) or a single video's run
(``themescope summarize``) and writes, under one folder:

``video_themes.csv`` / ``.parquet`` (study)
    One row per video and theme: ``video, group``, every metadata column of the corpus
    manifest (the date as a date-time, columns of numbers as numbers, the rest as text),
    then ``theme, label, share`` (of the video's airtime outside black frames) and
    ``seconds``; ``label`` is the researcher's where a codebook gives one.
``themes.csv`` / ``.parquet``
    One row per theme: ``id, label, researcher_label, label_gloss, phrases, glosses,
    people, share, seconds, n_frames`` (``label`` automatic, ``researcher_label`` from
    the codebook, empty without one); a study adds ``n_videos, p_value`` (do the groups differ,
    corrected) and ``share_<group>, low_<group>, high_<group>`` for every group. Lists
    (phrases, their glosses, people) are joined by :data:`LIST_SEPARATOR`; ``glosses``
    has one entry per phrase, empty where a phrase needs none.
``frames.parquet``
    The study's or run's frame table as it is (one row per frame, its ``theme``).
``group_time.csv`` / ``.parquet`` (study with a date column)
    One row per group, time bin and theme: ``group, start, unit, theme, label, share,
    low, high, n_videos``.
``effects.csv`` / ``.parquet`` (study with covariates)
    ``STUDY/effects.csv`` as its columns say (:data:`~themescope.corpus.metadata.EFFECT_COLUMNS`).

The tables are written into a hidden folder first and moved in place when all are
done, so an export that fails leaves the folder's tables as they were.

Example:
    >>> from themescope import export
    >>> export("study", out="tables").tables  # doctest: +SKIP
    ('video_themes', 'themes', 'frames', 'group_time')
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themescope.errors import RunDirectoryError, StageNotDoneError

if TYPE_CHECKING:
    import pyarrow as pa

    from themescope.documents import ThemeRecord

THEME_COLUMNS = (
    "id",
    "label",
    "researcher_label",
    "label_gloss",
    "phrases",
    "glosses",
    "people",
    "share",
    "seconds",
    "n_frames",
)
"""The columns of the ``themes`` table a single run's and a study's share."""
LIST_SEPARATOR = " | "
"""Joins the items of a list (phrases, people) in one cell of a table."""
TABLES = ("video_themes", "themes", "frames", "group_time", "effects")
"""Every table an export can write, in order."""
_CSV_TABLES = ("video_themes", "themes", "group_time", "effects")


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export` wrote.

    Attributes:
        out: The folder.
        tables: The tables written, in :data:`TABLES` order.
        n_rows: Rows of each table.
        files: Every file written.
    """

    out: Path
    tables: tuple[str, ...]
    n_rows: dict[str, int]
    files: tuple[Path, ...]


def export(path: str | os.PathLike[str], *, out: str | os.PathLike[str]) -> ExportResult:
    """Write the tidy tables of a finished study or single run as CSV and Parquet.

    Args:
        path: A study folder (``themescope corpus --out``) or a run folder
            (``themescope summarize --out``) whose themes stage has finished.
        out: The folder to write the tables into (created; earlier tables replaced).

    Returns:
        The tables and files written.

    Raises:
        RunDirectoryError: ``path`` is not a run or study folder, or ``out`` is a file.
        StageNotDoneError: The run or study is unfinished (no complete themes stage).
        DocumentError: One of its documents is damaged or from a newer themescope.

    Example:
        >>> result = export("runs/us-report", out="tables")  # doctest: +SKIP
        >>> result.tables  # doctest: +SKIP
        ('themes', 'frames')
    """
    import pyarrow.parquet as pq

    from themescope.rundir import MANIFEST_NAME, RunDirectory

    source = Path(path)
    target = Path(out)
    if not source.is_dir():
        what = "does not exist" if not source.exists() else "is a file"
        raise RunDirectoryError(
            f"{source} {what}; give the folder `themescope corpus` or `themescope summarize` wrote"
        )
    run = RunDirectory(source)
    if not run.exists():
        raise RunDirectoryError(
            f"{source} is not a themescope study or run (no {MANIFEST_NAME}); give the folder "
            "`themescope corpus` or `themescope summarize` wrote"
        )
    study = run.is_study()
    run = RunDirectory(source, study=study)
    record = run.record("themes")
    if record is None:
        command = f"themescope corpus CORPUS --out {source}" if study else "themescope themes"
        raise StageNotDoneError(
            f"{source} is unfinished: its themes stage has not completed; run `{command}` "
            "to finish it, then export"
        )
    run.check_outputs("themes", record)
    if target.exists() and not target.is_dir():
        raise RunDirectoryError(f"{target} is a file; give a folder for the tables")
    tables = _study_tables(source) if study else _run_tables(source)
    tables["frames"] = pq.read_table(source / "frames.parquet")
    return _write(tables, target)


def _run_tables(run: Path) -> dict[str, pa.Table]:
    from themescope.documents import read_themes

    document = read_themes(run / "themes.json")
    rows = [_theme_row(theme) for theme in document.themes]
    return {"themes": _table(rows, list(THEME_COLUMNS))}


def _study_tables(study: Path) -> dict[str, pa.Table]:
    import pyarrow as pa

    from themescope.rundir import STUDY_VIDEOS_NAME
    from themescope.study_documents import read_study_themes, read_study_videos

    document = read_study_themes(study / "themes.json")
    videos = {v.id: v for v in read_study_videos(study / STUDY_VIDEOS_NAME).videos}
    # The tables a researcher plots from read as their report does: the codebook's labels.
    labels = {theme.id: theme.researcher_label or theme.label for theme in document.themes}
    groups = [group.name for group in document.groups]
    theme_rows = []
    for theme in document.themes:
        row = _theme_row(theme)
        row.update({"n_videos": theme.n_videos, "p_value": theme.group_p_value})
        for group in groups:
            share = theme.group_shares.get(group)
            row[f"share_{group}"] = None if share is None else share.share
            row[f"low_{group}"] = None if share is None else share.low
            row[f"high_{group}"] = None if share is None else share.high
        theme_rows.append(row)
    per_group = tuple(f"{what}_{group}" for group in groups for what in ("share", "low", "high"))
    tables = {
        "video_themes": _video_themes(study, videos, labels),
        "themes": _table(
            theme_rows, [*THEME_COLUMNS, "n_videos", "p_value", *per_group], floats=per_group
        ),
    }
    over = document.over_time
    if over is not None:
        tables["group_time"] = pa.table(
            {
                "group": [p.group for p in over.shares],
                "start": pa.array(
                    [datetime.date.fromisoformat(p.start) for p in over.shares], type=pa.date32()
                ),
                "unit": [over.unit] * len(over.shares),
                "theme": pa.array([p.theme for p in over.shares], type=pa.int64()),
                "label": [labels.get(p.theme, "") for p in over.shares],
                "share": pa.array([p.share for p in over.shares], type=pa.float64()),
                "low": pa.array([p.low for p in over.shares], type=pa.float64()),
                "high": pa.array([p.high for p in over.shares], type=pa.float64()),
                "n_videos": pa.array([p.n_videos for p in over.shares], type=pa.int64()),
            }
        )
    if document.effects is not None:
        from themescope.corpus.metadata import EFFECT_COLUMNS

        rows = [
            {
                "theme": e.theme,
                "label": labels.get(e.theme, ""),
                "term": e.term,
                "covariate": e.covariate,
                "level": e.level,
                "reference": e.reference,
                "unit": e.unit,
                "estimate": e.estimate,
                "low": e.low,
                "high": e.high,
                "significant": e.significant,
            }
            for e in document.effects.effects
        ]
        tables["effects"] = _table(rows, list(EFFECT_COLUMNS))
    return tables


def _video_themes(study: Path, videos: dict[str, Any], labels: dict[int, str]) -> pa.Table:
    """One row per video and theme, with the video's metadata, from the frame table."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from themescope.corpus.covariates import column_kind, parse_date

    frames = pq.read_table(study / "frames.parquet", columns=["video", "theme", "seconds"])
    themed = frames.filter(pc.greater_equal(frames.column("theme"), 0))
    summed = themed.group_by(["video", "theme"]).aggregate([("seconds", "sum")]).to_pydict()
    seconds: dict[tuple[str, int], float] = {
        (video, int(theme)): float(total)
        for video, theme, total in zip(
            summed["video"], summed["theme"], summed["seconds_sum"], strict=True
        )
    }
    totals: dict[str, float] = {}
    for (video, _), value in seconds.items():
        totals[video] = totals.get(video, 0.0) + value
    order = [video for video in videos if video in totals]
    rows = [(video, theme) for video in order for theme in sorted(labels)]
    columns: dict[str, Any] = {
        "video": [video for video, _ in rows],
        "group": [videos[video].group for video, _ in rows],
    }
    names = list(dict.fromkeys(key for video in order for key in videos[video].metadata))
    for name in names:
        if name in ("video", "group", "theme", "label", "share", "seconds"):
            continue  # a metadata column may not shadow the table's own
        values = [videos[video].metadata.get(name, "") for video, _ in rows]
        kind = column_kind(name, values, names)
        if kind == "date":
            columns[name] = pa.array([parse_date(v) for v in values], type=pa.timestamp("s"))
        elif kind == "numeric":
            columns[name] = pa.array([float(v) for v in values], type=pa.float64())
        else:
            columns[name] = pa.array(values, type=pa.string())
    airtime = [seconds.get(key, 0.0) for key in rows]
    columns.update(
        {
            "theme": pa.array([theme for _, theme in rows], type=pa.int64()),
            "label": [labels[theme] for _, theme in rows],
            "share": pa.array(
                [
                    round(s / totals[video], 6) if totals[video] else 0.0
                    for (video, _), s in zip(rows, airtime, strict=True)
                ],
                type=pa.float64(),
            ),
            "seconds": pa.array([round(s, 3) for s in airtime], type=pa.float64()),
        }
    )
    return pa.table(columns)


def _theme_row(theme: ThemeRecord) -> dict[str, Any]:
    return {
        "id": theme.id,
        "label": theme.label,
        "researcher_label": theme.researcher_label,
        "label_gloss": theme.label_gloss,
        "phrases": LIST_SEPARATOR.join(p.text for p in theme.phrases),
        "glosses": LIST_SEPARATOR.join(p.gloss or "" for p in theme.phrases),
        "people": LIST_SEPARATOR.join(theme.people),
        "share": theme.share,
        "seconds": theme.seconds,
        "n_frames": theme.n_frames,
    }


def _table(
    rows: list[dict[str, Any]], columns: list[str], floats: tuple[str, ...] = ()
) -> pa.Table:
    """The rows as a table of ``columns``, each typed the same whatever its values.

    Columns named in :data:`_TYPES` get that type, those in ``floats`` float64, the
    others text; so an export of a study of one group, whose p-values are all null, has
    the columns of any other.
    """
    import pyarrow as pa

    return pa.table(
        {
            name: pa.array(
                [row.get(name) for row in rows],
                type=getattr(pa, _TYPES.get(name, "float64" if name in floats else "string"))(),
            )
            for name in columns
        }
    )


# The arrow type (a pyarrow factory's name) of every typed column of the tables.
_TYPES = {
    "id": "int64",
    "theme": "int64",
    "n_frames": "int64",
    "n_videos": "int64",
    "share": "float64",
    "seconds": "float64",
    "p_value": "float64",
    "estimate": "float64",
    "low": "float64",
    "high": "float64",
    "significant": "bool_",
}


def _write(tables: dict[str, pa.Table], target: Path) -> ExportResult:
    """Write every table into a hidden folder in ``target``, then move them in place."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=target))
    try:
        names = tuple(name for name in TABLES if name in tables)
        written: list[str] = []
        for name in names:
            pq.write_table(tables[name], staging / f"{name}.parquet")
            written.append(f"{name}.parquet")
            if name in _CSV_TABLES:
                pcsv.write_csv(tables[name], staging / f"{name}.csv")
                written.append(f"{name}.csv")
        # Tables of an earlier export that this one does not write (the study has no
        # dates now) would look current: they go.
        for name in TABLES:
            for suffix in (".parquet", ".csv"):
                stale = target / f"{name}{suffix}"
                if stale.name not in written and stale.is_file():
                    stale.unlink()
        for file_name in written:
            os.replace(staging / file_name, target / file_name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        out=target,
        tables=names,
        n_rows={name: tables[name].num_rows for name in names},
        files=tuple(target / name for name in written),
    )


__all__ = ["LIST_SEPARATOR", "TABLES", "THEME_COLUMNS", "ExportResult", "export"]
