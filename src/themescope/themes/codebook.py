"""A codebook the researcher owns: labels, merges and drops applied to the automatic themes.

``themescope codebook FOLDER`` writes ``FOLDER/codebook.toml`` (a run's or a study's),
one ``[[themes]]`` table per automatic theme::

    [[themes]]
    id = 2
    label = "Vaccine mandates"    # prefilled with the automatic label
    merge_into = 0                # optional: this theme's frames join theme 0
    drop = false                  # true: its airtime is set aside, like black frames
    note = ""

The codebook stage (after themes, before the report) applies it without retraining or
reclustering: the frames' ``theme`` column is mapped (merged ids to their target, dropped
ones to -1, the automatic ids kept in ``auto_theme``), and themes.json is derived again
from the automatic one (kept as ``themes.auto.json``) with each theme's
``researcher_label``, ``merges`` and ``note``. The stage's fingerprint holds the
codebook's hash, so editing the file reruns it and the report, and nothing upstream.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import numpy as np

from themescope.documents import CodebookRecord, PhraseRecord, ThemeRecord, ThemesDocument
from themescope.errors import CodebookError, os_error_reason
from themescope.manifest import CodebookStageRecord
from themescope.rundir import RunDirectory, Stage, StageWriter, sha256_file
from themescope.themes import timeline
from themescope.themes.describe import MAX_REPRESENTATIVE

CODEBOOK_NAME = "codebook.toml"
AUTOMATIC_NAME = "themes.auto.json"
"""The automatic themes.json, kept so an edited codebook is applied to it again."""
_KEYS = ("id", "label", "merge_into", "drop", "note")


@dataclass(frozen=True)
class Entry:
    """One theme's line of the codebook."""

    id: int
    label: str | None = None
    merge_into: int | None = None
    drop: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Codebook:
    """A checked codebook for ``k`` automatic themes.

    Attributes:
        entries: Every automatic theme's entry (defaults where the file leaves it out).
        target: Each automatic theme's theme after the merges, or -1 when dropped.
        sha256: The file's hash.
    """

    entries: dict[int, Entry]
    target: dict[int, int]
    sha256: str

    @property
    def kept(self) -> list[int]:
        """The researcher's themes: automatic ids that are neither merged nor dropped."""
        return sorted(t for t, to in self.target.items() if to == t)

    def members(self, theme: int) -> list[int]:
        """The automatic themes whose frames are in ``theme``, itself first."""
        return [theme, *sorted(t for t, to in self.target.items() if to == theme and t != theme)]

    def map(self, labels: np.ndarray) -> np.ndarray:
        """Map automatic frame labels to the researcher's (-1 stays -1)."""
        lookup = np.array([self.target[t] for t in range(len(self.target))], dtype=np.int64)
        out = np.full(len(labels), -1, dtype=np.int64)
        themed = labels >= 0
        out[themed] = lookup[labels[themed]]
        return out


def read_codebook(path: Path, k: int | None, where: str) -> Codebook:
    """Read and check ``path`` against ``k`` automatic themes (``where``: "this study").

    With ``k`` None (the themes are not there yet) only what the file says of itself is
    checked.

    Raises:
        CodebookError: Not TOML, for another number of themes, an unknown id, a theme
            listed twice, a value of the wrong type, merges in a cycle, or a merge into a
            dropped theme.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CodebookError(f"cannot read codebook {path}: {os_error_reason(exc)}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CodebookError(f"codebook {path} is not TOML: {exc}") from exc
    if k is not None and data.get("k", k) != k:
        raise CodebookError(
            f"codebook {path} is for {data['k']} themes but {where} has {k}: it was written "
            "for another study or run, or before the themes were redone; write a new one "
            "with `themescope codebook FOLDER --force`"
        )
    tables = data.get("themes")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CodebookError(f"codebook {path} has no [[themes]] tables")
    entries: dict[int, Entry] = {}
    for table in tables:
        entry = _entry(path, table, k)
        if entry.id in entries:
            raise CodebookError(f"codebook {path} lists theme {entry.id} twice")
        entries[entry.id] = entry
    for t in range(k or 0):
        entries.setdefault(t, Entry(id=t))
    return Codebook(entries, _targets(path, entries), sha256_file(path))


def _entry(path: Path, table: dict[str, Any], k: int | None) -> Entry:
    theme = table.get("id")
    if not isinstance(theme, int) or isinstance(theme, bool):
        raise CodebookError(f"codebook {path}: every [[themes]] table needs an integer id")
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise CodebookError(
            f"codebook {path}: theme {theme} has unknown key {unknown[0]!r} "
            f"(known: {', '.join(_KEYS)})"
        )
    for key in ("id", "merge_into"):
        value = table.get(key)
        if isinstance(value, int) and k is not None and not 0 <= value < k:
            raise CodebookError(
                f"codebook {path} names theme {value}, which does not exist: the themes "
                f"are 0–{k - 1}"
            )
    kinds = {
        "label": (str, "text"),
        "merge_into": (int, "a theme id"),
        "drop": (bool, "true or false"),
        "note": (str, "text"),
    }
    for key, (kind, what) in kinds.items():
        value = table.get(key)
        # TOML's true and false are Python ints too: neither is a theme id.
        if value is not None and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            raise CodebookError(
                f"codebook {path}: theme {theme}'s {key} must be {what}, not {value!r}"
            )
    return Entry(
        id=theme,
        label=table.get("label") or None,
        merge_into=table.get("merge_into"),
        drop=bool(table.get("drop", False)),
        note=table.get("note") or None,
    )


def _targets(path: Path, entries: dict[int, Entry]) -> dict[int, int]:
    """Follow each theme's merges to the theme it ends in (-1 when that one is dropped)."""
    targets = {}
    for theme in sorted(entries):
        seen = [theme]
        current = entries[theme]
        while current.merge_into is not None and not current.drop:
            # Without k (themes not there yet) a theme the file leaves out has its defaults.
            entries.setdefault(current.merge_into, Entry(id=current.merge_into))
            following = current.merge_into
            if following in seen:
                cycle = " → ".join(str(t) for t in [*seen[seen.index(following) :], following])
                raise CodebookError(
                    f"codebook {path}: merges go round in a cycle ({cycle}); merge each "
                    "theme into one that stays"
                )
            if entries[following].drop:
                raise CodebookError(
                    f"codebook {path}: theme {current.id} merges into theme {following}, which "
                    f"is dropped; drop theme {current.id} too or merge it into another"
                )
            seen.append(following)
            current = entries[following]
        targets[theme] = -1 if current.drop else current.id
    return targets


def write_codebook(path: Path, document: ThemesDocument, groups: list[str]) -> None:
    """Write a codebook prefilled from ``document``: every label the automatic one."""
    lines = [
        "# The researcher's codebook (themescope codebook). Edit label, merge_into (another",
        "# theme's id), drop (true: airtime set aside like black frames) and note, then run",
        "# `themescope codebook FOLDER --apply`. Lines starting with # are not read.",
        f"k = {document.k}",
    ]
    for theme in document.themes:
        shares = [f"{theme.share:.1%} of the airtime"]
        group_shares = getattr(theme, "group_shares", {})
        shares += [f"{g} {group_shares[g].share:.1%}" for g in groups if g in group_shares]
        lines += [
            "",
            "[[themes]]",
            f"id = {theme.id}",
            f"label = {_toml_string(theme.label)}",
            f"# automatic label: {_comment(theme.label)}"
            + (f" ({_comment(theme.label_gloss)})" if theme.label_gloss else ""),
            f"# share: {', '.join(shares)}",
            f"# phrases: {_comment(', '.join(p.text for p in theme.phrases[:8]))}",
            "# merge_into = 0",
            "drop = false",
            'note = ""',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string: the same escapes for quotes and controls.
    return json.dumps(text, ensure_ascii=False)


def _comment(text: str) -> str:
    return " ".join(text.split())


def merged_theme(
    codebook: Codebook, by_id: Mapping[int, ThemeRecord], theme: int
) -> dict[str, Any]:
    """The description fields of a researcher's theme: the automatic ones of its members.

    Phrases are the members' best (no re-tagging: the describer's models are not loaded),
    people and roles their union, representative frames theirs in turn.
    """
    members = [by_id[t] for t in codebook.members(theme)]
    phrases: dict[str, PhraseRecord] = {}
    for phrase in sorted((p for m in members for p in m.phrases), key=lambda p: -p.score):
        phrases.setdefault(phrase.text, phrase)
    # In turn (each member's best, then each one's second...): every member is seen.
    picks: list[int] = []
    for rank in range(MAX_REPRESENTATIVE):
        picks += [
            m.representative_frames[rank] for m in members if rank < len(m.representative_frames)
        ]
    entry = codebook.entries[theme]
    return {
        "frames": sorted(f for m in members for f in m.frames),
        "n_frames": sum(m.n_frames for m in members),
        "phrases": list(phrases.values())[: max(len(m.phrases) for m in members)],
        "people": list(dict.fromkeys(p for m in members for p in m.people)),
        "roles": {name: role for m in reversed(members) for name, role in m.roles.items()},
        "representative_frames": picks[:MAX_REPRESENTATIVE],
        "researcher_label": entry.label or members[0].label,
        "merges": [m.id for m in members[1:]],
        "note": entry.note,
    }


def apply_to_run(
    run: RunDirectory, codebook: Codebook, automatic: ThemesDocument
) -> tuple[ThemesDocument, np.ndarray]:
    """A single run's themes.json and frame labels under ``codebook``."""
    import pyarrow.parquet as pq

    from themescope.manifest import IngestRecord

    table = pq.read_table(run / "frames.parquet", columns=["time_s", automatic_column(run)])
    times_s = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), float)
    labels = codebook.map(np.asarray(table.column(1).to_numpy(zero_copy_only=False), np.int64))
    ingest = run.require("ingest")
    assert isinstance(ingest, IngestRecord)
    durations = timeline.frame_durations_s(
        times_s,
        every_s=ingest.every_s,
        duration_s=ingest.video.duration_s if ingest.video is not None else None,
    )
    total = float(durations.sum())
    by_id = {theme.id: theme for theme in automatic.themes}
    all_spans = timeline.spans(labels, times_s, durations)
    themes = []
    for theme in codebook.kept:
        fields = merged_theme(codebook, by_id, theme)
        seconds = float(durations[fields["frames"]].sum())
        fields.update(
            share=round(seconds / total, 4) if total else 0.0,
            seconds=round(seconds, 3),
            spans=[(round(s.start_s, 3), round(s.end_s, 3)) for s in all_spans if s.label == theme],
        )
        themes.append(msgspec.structs.replace(by_id[theme], **fields))
    dropped = [t for t in sorted(by_id) if codebook.target[t] == -1]
    frames = sorted(f for t in dropped for f in by_id[t].frames)
    seconds = float(durations[frames].sum())
    document = msgspec.structs.replace(
        automatic,
        k=len(themes),
        themes=themes,
        codebook=CodebookRecord(
            path=CODEBOOK_NAME,
            sha256=codebook.sha256,
            dropped=dropped,
            dropped_frames=frames,
            dropped_share=round(seconds / total, 4) if total else 0.0,
            dropped_seconds=round(seconds, 3),
        ),
    )
    return document, labels


def automatic_column(run: RunDirectory) -> str:
    """The frames' automatic theme column: ``auto_theme`` once a codebook was applied."""
    import pyarrow.parquet as pq

    names = pq.read_schema(run / "frames.parquet").names
    return "auto_theme" if "auto_theme" in names else "theme"


class CodebookStage(Stage):
    """Apply ``FOLDER/codebook.toml`` to the automatic themes (needs themes).

    Its fingerprint is the codebook's hash: an edited codebook reruns it and the
    report, never ingest, training or clustering.

    Example:
        >>> Pipeline([CodebookStage(), ReportStage()]).run("runs/us")  # doctest: +SKIP
    """

    name = "codebook"
    needs = ("themes",)
    record = CodebookStageRecord
    files: ClassVar[tuple[str, ...]] = ("themes.json", AUTOMATIC_NAME, "frames.parquet")
    columns = ("auto_theme",)
    command = "codebook --apply"

    def __init__(self, path: Path) -> None:
        self.path = path

    def check(self) -> None:
        """Refuse a missing or bad codebook before any stage starts or anything is removed."""
        if not self.path.is_file():
            raise CodebookError(
                f"{self.path} does not exist; write it with `themescope codebook "
                f"{self.path.parent}` first"
            )
        read_codebook(self.path, self._automatic_k(), f"this {self.kinds[0]}")

    def _automatic_k(self) -> int | None:
        """The number of automatic themes in the codebook's folder (None before themes)."""
        folder = self.path.parent
        for name in (AUTOMATIC_NAME, "themes.json"):
            if (folder / name).is_file():
                return self.read(folder / name).k
        return None

    def settings(self) -> dict[str, Any]:
        """The codebook's file and hash (its provenance in the manifest's config)."""
        return {"path": CODEBOOK_NAME, "sha256": sha256_file(self.path)}

    def fingerprint_parts(self) -> Any:
        """The codebook's hash."""
        return self.settings()

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Write themes.json and frames.parquet under the codebook."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        source = run / AUTOMATIC_NAME
        automatic = self.read(source if source.is_file() else run / "themes.json")
        codebook = read_codebook(self.path, automatic.k, f"this {self.kinds[0]}")
        document, labels = self.apply(run, codebook, automatic, writer)
        self.write(writer.path("themes.json"), document)
        # Beside it, so that the codebook can be written anew or applied again.
        self.write(writer.path(AUTOMATIC_NAME), automatic)
        table = pq.read_table(run / "frames.parquet")
        auto = table.column(automatic_column(run))
        keep = [c for c in table.column_names if c not in ("theme", "auto_theme")]
        out = table.select(keep).append_column("theme", pa.array(labels, type=pa.int64()))
        pq.write_table(out.append_column("auto_theme", auto), writer.path("frames.parquet"))
        writer.record = CodebookStageRecord(
            sha256=codebook.sha256,
            n_themes=len(codebook.kept),
            merged=[t for t, to in codebook.target.items() if to not in (t, -1)],
            dropped=[t for t, to in codebook.target.items() if to == -1],
        )

    def read(self, path: Path) -> ThemesDocument:
        """Read the automatic themes.json."""
        from themescope.documents import read_themes

        return read_themes(path)

    def write(self, path: Path, document: ThemesDocument) -> None:
        """Write a themes.json."""
        from themescope.documents import write_themes

        write_themes(path, document)

    def apply(
        self, run: RunDirectory, codebook: Codebook, automatic: ThemesDocument, writer: StageWriter
    ) -> tuple[ThemesDocument, np.ndarray]:
        """The themes under ``codebook`` and the frames' labels."""
        return apply_to_run(run, codebook, automatic)


def with_codebook(
    stages: list[Stage], folder: Path, stage: type[CodebookStage] = CodebookStage
) -> list[Stage]:
    """``stages`` with the codebook stage after themes when ``folder`` holds a codebook.

    So any later run of the pipeline (``summarize``, ``corpus``) keeps the researcher's
    reading of the themes; without a codebook.toml the themes stay automatic.
    """
    names = [s.name for s in stages]
    path = folder / CODEBOOK_NAME
    if not path.is_file() or "codebook" in names:
        return stages
    at = names.index("themes") + 1
    return [*stages[:at], stage(path), *stages[at:]]
