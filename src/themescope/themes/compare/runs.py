"""Read what a comparison needs from one run: its themes, its frames and their words.

:func:`load_run_themes` checks that the run finished its themes stage and that
themes.json and frames.parquet agree, and returns a :class:`RunThemes`; the rest
of the comparison reads the runs only through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from themescope.documents import (
    BackendsRecord,
    PhraseRecord,
    ThemeRecord,
    read_themes,
)
from themescope.errors import RunDirectoryError
from themescope.manifest import IngestRecord, Manifest
from themescope.rundir import RunDirectory


@dataclass
class RunThemes:
    """One run's themes and frames, as read for a comparison.

    Attributes:
        path: The run directory.
        lang: Language of the run's text (from the ingest record).
        themes: The ``themes`` list of themes.json.
        backends: The ``backends`` record of themes.json.
        images: Relative image path of each frame_id.
        captions: Caption of each frame_id ("" when none), or None without captions.
        texts: The words of each frame_id: its transcript text, then its on-screen
            lines ("" when none), or None when no frame has any.
        common: The ``common`` phrases of themes.json: said in every theme.
        manifest: The run's manifest.

    """

    path: Path
    lang: str
    themes: list[ThemeRecord]
    backends: BackendsRecord
    images: list[str]
    captions: list[str] | None
    texts: list[str] | None = None
    common: list[PhraseRecord] = field(default_factory=list)
    manifest: Manifest = field(default_factory=Manifest)


def load_run_themes(path: str | Path) -> RunThemes:
    """Read a run's themes.json, manifest and frames table.

    Raises:
        RunDirectoryError: The run is missing, or its files are unreadable or inconsistent.
        StageNotDoneError: The run has no finished themes stage.

    """
    import pyarrow.parquet as pq

    run = RunDirectory(path)
    if not run.path.is_dir():
        raise RunDirectoryError(f"run directory {run.path} does not exist")
    if not run.exists():
        raise RunDirectoryError(f"{run.path} is not a themescope run (no manifest.json)")
    run.require("themes")
    manifest = run.read_manifest()
    themes_path = run / "themes.json"
    document = read_themes(themes_path)
    frames_path = run / "frames.parquet"
    try:
        table = pq.read_table(frames_path)
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{frames_path} is missing or unreadable ({exc})") from exc
    if "image" not in table.column_names or "frame_id" not in table.column_names:
        raise RunDirectoryError(f"{frames_path} lacks the frame_id or image column")
    frame_ids = table.column("frame_id").to_pylist()
    if frame_ids != list(range(len(frame_ids))):
        raise RunDirectoryError(f"{frames_path}: frame_id is not 0..{len(frame_ids) - 1} in order")
    images = [str(x) for x in table.column("image").to_pylist()]
    captions = None
    if "caption" in table.column_names:
        values = [str(x or "") for x in table.column("caption").to_pylist()]
        captions = values if any(v.strip() for v in values) else None
    texts = _frame_texts(table)
    for theme in document.themes:
        bad = [f for f in theme.frames if not 0 <= f < len(images)]
        if bad:
            raise RunDirectoryError(
                f"{themes_path}: theme {theme.id} lists frame {bad[0]} but "
                f"{frames_path} has {len(images)} frames"
            )
    ingest = manifest.record("ingest", IngestRecord)
    lang = ingest.lang if ingest is not None and ingest.lang else "und"
    return RunThemes(
        path=run.path,
        lang=lang,
        themes=document.themes,
        common=document.common,
        backends=document.backends,
        images=images,
        captions=captions,
        texts=texts,
        manifest=manifest,
    )


def _frame_texts(table: Any) -> list[str] | None:
    """Each frame's transcript text and on-screen lines, joined; None when there are none."""
    columns = [c for c in ("text", "ocr_text") if c in table.column_names]
    if not columns:
        return None
    values = [[str(x or "").strip() for x in table.column(c).to_pylist()] for c in columns]
    texts = ["\n".join(part for part in parts if part) for parts in zip(*values, strict=True)]
    return texts if any(texts) else None
