"""Stages declare themselves: a stage defined here, outside the package, joins a pipeline.

Issue 15, part 1: the toy stage below counts the frames of each theme. It is declared
only in this file (its record, files and column), yet the runner locks, fingerprints,
skips, invalidates and records it like the package's own stages.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers import PIPELINE_CONFIG
from themescope import Summarizer
from themescope.errors import CheckpointError, RunLockedError
from themescope.manifest import StageRecord, ThemesRecord, read_manifest
from themescope.rundir import (
    BUILTIN_STAGE_MODULES,
    Pipeline,
    RunDirectory,
    Stage,
    StageWriter,
    run_stage,
)
from themescope.synthetic import SyntheticVideo
from themescope.themes.config import ThemesConfig
from themescope.themes.stage import ThemesStage


class ThemeCountsRecord(StageRecord, kw_only=True):
    """The toy stage's record."""

    n_themes: int = 0
    largest: int = 0


class ThemeCountsStage(Stage):
    """Count the frames of each theme: theme_counts.json and a ``theme_size`` column."""

    name = "theme_counts"
    needs = ("themes",)
    record = ThemeCountsRecord
    files = ("theme_counts.json",)
    columns = ("theme_size",)

    def __init__(self) -> None:
        self.runs = 0

    def settings(self) -> dict[str, Any]:
        return {"version": 1}

    def fingerprint_parts(self) -> Any:
        return self.settings()

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        self.runs += 1
        table = pq.read_table(run / "frames.parquet")
        themes = table.column("theme").to_pylist()
        counts = {theme: themes.count(theme) for theme in sorted(set(themes))}
        writer.path("theme_counts.json").write_text(json.dumps(counts))
        sizes = pa.array([counts[theme] for theme in themes], type=pa.int64())
        pq.write_table(table.append_column("theme_size", sizes), writer.path("frames.parquet"))
        writer.record = ThemeCountsRecord(n_themes=len(counts), largest=max(counts.values()))


def _stages(video: SyntheticVideo, config: dict[str, Any], toy: Stage) -> list[Stage]:
    """The summarize pipeline with ``toy`` right after the themes stage."""
    stages = Summarizer.from_config(config).stages(video.video_path, video.subtitles_path)
    at = [stage.name for stage in stages].index("themes") + 1
    return [*stages[:at], toy, *stages[at:]]


def _hold_lock(path: Path) -> subprocess.Popen[str]:
    """Start a process that holds the lock on ``path`` until its stdin closes."""
    code = (
        "import sys\nfrom themescope.rundir import RunDirectory\n"
        "with RunDirectory(sys.argv[1]).lock():\n"
        "    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_stage_defined_outside_the_package_runs_in_a_pipeline(
    synthetic_video_en: SyntheticVideo, tmp_path: Path
) -> None:
    run = RunDirectory(tmp_path / "run")
    toy = ThemeCountsStage()
    assert Pipeline(_stages(synthetic_video_en, PIPELINE_CONFIG, toy)).run(run) == dict.fromkeys(
        ("ingest", "train", "themes", "theme_counts", "report"), "ran"
    )
    counts = json.loads((run / "theme_counts.json").read_text())
    frames = pq.read_table(run / "frames.parquet")
    assert sum(counts.values()) == frames.num_rows
    assert "theme_size" in frames.column_names
    record = read_manifest(run.manifest_path).record("theme_counts", ThemeCountsRecord)
    assert record is not None and record.n_themes == len(counts) and record.done
    assert record.files == ["frames.parquet", "theme_counts.json"]
    assert list(run.read_manifest().stages) == [
        "ingest",
        "train",
        "themes",
        "theme_counts",
        "report",
    ]

    # Current: every stage is skipped, the toy one too.
    again = ThemeCountsStage()
    statuses = Pipeline(_stages(synthetic_video_en, PIPELINE_CONFIG, again)).run(run)
    assert set(statuses.values()) == {"skipped"} and again.runs == 0

    # Locked: another process holds the run, so nothing starts.
    holder = _hold_lock(run.path)
    try:
        with pytest.raises(RunLockedError) as info:
            Pipeline(_stages(synthetic_video_en, PIPELINE_CONFIG, ThemeCountsStage())).run(run)
    finally:
        holder.communicate("")
    assert str(info.value) == (
        f"{run.path} is in use by another themescope process (pid {holder.pid}); "
        "wait for it to finish"
    )

    # A changed earlier setting reruns themes, then the toy stage after it.
    reseeded = {**PIPELINE_CONFIG, "themes": {**PIPELINE_CONFIG["themes"], "seed": 1}}
    statuses = Pipeline(_stages(synthetic_video_en, reseeded, ThemeCountsStage())).run(run)
    assert statuses == {
        "ingest": "skipped",
        "train": "skipped",
        "themes": "ran",
        "theme_counts": "ran",
        "report": "ran",
    }

    # Themes rerun alone (no pipeline names the toy stage): its file, column and record go.
    run_stage(run, ThemesStage(ThemesConfig.from_dict({**reseeded["themes"], "seed": 2})))
    assert not (run / "theme_counts.json").exists()
    assert "theme_size" not in pq.read_table(run / "frames.parquet").column_names
    assert list(run.read_manifest().stages) == ["ingest", "train", "themes"]


def test_a_stage_record_of_an_unknown_stage_still_reads(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    manifest = {
        "schema_version": 1,
        "stages": {
            "themes": {"fingerprint": "a", "k": 3},
            "from_a_plugin": {"fingerprint": "b", "files": ["x.json"], "score": 0.5},
        },
    }
    run.path.mkdir()
    run.manifest_path.write_text(json.dumps(manifest))
    read = run.read_manifest()
    assert isinstance(read.stages["themes"], ThemesRecord) and read.stages["themes"].k == 3
    unknown = read.stages["from_a_plugin"]
    assert type(unknown) is StageRecord and unknown.files == ["x.json"]
    assert read.record("from_a_plugin", ThemesRecord) is None


def test_a_misspelt_record_field_fails() -> None:
    with pytest.raises(TypeError, match="Unexpected keyword argument 'n_theme'"):
        ThemeCountsRecord(n_theme=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="n_theme"):
        msgspec.structs.replace(ThemeCountsRecord(), n_theme=3)


def test_a_stage_must_write_its_own_record_class(tmp_path: Path) -> None:
    class WrongRecord(ThemeCountsStage):
        def run(self, run: RunDirectory, writer: StageWriter) -> None:
            writer.path("theme_counts.json").write_text("{}")
            writer.record = ThemesRecord(k=2)

    run = RunDirectory(tmp_path / "run")
    with pytest.raises(TypeError) as info, run.lock():
        run.write_manifest(run.read_manifest())
        with run.stage("theme_counts", stage_fingerprint="x", config={}) as writer:
            WrongRecord().run(run, writer)
    assert str(info.value) == (
        "the theme_counts stage's record must be a ThemeCountsRecord, not a ThemesRecord"
    )
    assert not (run / "theme_counts.json").exists()


def test_two_record_classes_for_one_stage_name_are_refused() -> None:
    with pytest.raises(TypeError) as info:

        class Clash(Stage):
            name = "theme_counts"
            record = ThemesRecord

    assert str(info.value) == (
        "stage 'theme_counts' already records ThemeCountsRecord; it cannot record ThemesRecord too"
    )


class NotesRecord(StageRecord, kw_only=True):
    """The first toy stage's record."""

    resumed: bool = False


class NotesStage(Stage):
    """A first stage that writes notes.txt; resuming fails as a checkpoint that no longer fits."""

    name = "notes"
    record = NotesRecord
    files = ("notes.txt",)

    def __init__(
        self, *, resume: bool = True, fall_back: bool = True, log: list[str] | None = None
    ) -> None:
        self.resume = resume
        self.fall_back = fall_back
        self.log = [] if log is None else log

    def settings(self) -> dict[str, Any]:
        return {}

    def fingerprint_parts(self) -> Any:
        return 1

    def stale(self, run: RunDirectory) -> bool:
        self.log.append("stale?")
        return False

    def fallback(self, problem: Exception) -> Stage | None:
        self.log.append(f"fallback: {problem}")
        return NotesStage(resume=False, log=self.log) if self.fall_back else None

    def close(self) -> None:
        self.log.append("closed")

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        if self.resume:
            raise CheckpointError("the checkpoint was written with another latent_dim")
        writer.path("notes.txt").write_text("from the start")
        writer.record = NotesRecord(resumed=False)


def test_the_pipeline_falls_back_asks_stale_and_closes_its_stages(tmp_path: Path) -> None:
    log: list[str] = []
    run = RunDirectory(tmp_path / "run")
    assert Pipeline([NotesStage(log=log)]).run(run) == {"notes": "ran"}
    assert log == [
        "stale?",
        "fallback: the checkpoint was written with another latent_dim",
        "stale?",
        "closed",
    ]
    assert (run / "notes.txt").read_text() == "from the start"
    with pytest.raises(CheckpointError) as info:
        Pipeline([NotesStage(fall_back=False, log=log)]).run(run, force=True)
    assert str(info.value) == "the checkpoint was written with another latent_dim"
    assert log[-1] == "closed"


def _builtin_stage_classes() -> dict[str, list[str]]:
    """Every module of the package that defines a stage class, with those classes' names."""
    package = Path(__file__).resolve().parents[1] / "src" / "themescope"
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        module = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = [b.id for b in getattr(node, "bases", []) if isinstance(b, ast.Name)]
            if isinstance(node, ast.ClassDef) and any(b.endswith("Stage") for b in bases):
                found.setdefault(module, []).append(node.name)
    return found


def test_the_builtin_stage_modules_are_every_module_defining_a_stage() -> None:
    # An old manifest's record lists no files: the stage's declaration names them, so
    # every built-in stage must be loadable whichever command reads the run.
    assert set(BUILTIN_STAGE_MODULES) == set(_builtin_stage_classes())


def test_every_builtin_record_decodes_in_a_process_that_imported_no_stage() -> None:
    # A process that decodes a record as a plain StageRecord and writes the manifest
    # back drops the record's fields (it lost a codebook's hash after `--into`).
    records = {}
    for module, names in _builtin_stage_classes().items():
        for name in names:
            stage = getattr(importlib.import_module(module), name)
            records[stage.name] = stage.record.__name__
    script = (
        "import json, sys; from themescope.manifest import record_type; "
        "print(json.dumps({n: record_type(n).__name__ for n in json.loads(sys.argv[1])})); "
        "assert not [m for m in sys.modules if m.startswith(('themescope.themes', "
        "'themescope.corpus', 'themescope.model', 'themescope.report'))]"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(sorted(records))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == records
