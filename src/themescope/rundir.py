"""The run directory: the on-disk contract between the stages and with outside tools.

A run directory ``RUN/`` holds::

    manifest.json      tool version, inputs, the full config and a record per stage
    frames.parquet     one row per sampled frame (ingest; ``theme`` added by themes)
    cues.parquet       the parsed transcript (ingest)
    frames/            the sampled frames as JPEG files (ingest)
    latents.npy        posterior mean per frame (train)
    model/             CRVAE weights, config and vocabulary (train)
    themes.json        themes, phrases and evidence (themes)
    report.html        the self-contained report (report)

Each stage writes its files into a private staging folder and moves them into
place only when it has finished, then records itself in ``manifest.json``
(itself replaced atomically). A stage that fails therefore leaves the previous
complete state, never half-written files. A stage is *current* when its
fingerprint (a hash of its config, its inputs and the fingerprints of the stages
it reads) equals the recorded one; rerunning a current stage is a no-op.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from themescope import __version__
from themescope.errors import RunDirectoryError, RunLockedError, StageNotDoneError

logger = logging.getLogger("themescope")

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
STAGES = ("ingest", "train", "themes", "report")
"""The stages in pipeline order; rewriting one invalidates those after it."""

_STAGING_PREFIX = ".staging-"
_HELD_LOCKS: dict[str, list[Any]] = {}


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(*parts: Any) -> str:
    """Return a short stable hash of JSON-serialisable parts (configs, input hashes)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Example:
        >>> with atomic_path("out/compare.json") as tmp:  # doctest: +SKIP
        ...     tmp.write_text("{}")
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; results are meant to be shared like any other file the user writes.
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(path: str | Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` as indented UTF-8 JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


class StageWriter:
    """Collects one stage's outputs in a staging folder and its record for the manifest.

    Obtained from :meth:`RunDirectory.stage`; do not build it directly.
    """

    def __init__(self, run: RunDirectory, name: str, staging: Path) -> None:
        self.run = run
        self.name = name
        self.staging = staging
        self.record: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.inputs: dict[str, Any] = {}

    def path(self, relative: str) -> Path:
        """Return where to write ``relative`` (e.g. ``"frames/000001.jpg"``) during the stage."""
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def warn(self, message: str) -> None:
        """Log a degraded result and keep it in the stage's manifest record."""
        logger.warning(message)
        self.warnings.append(message)


class RunDirectory:
    """A run directory: reads and writes the files of the contract above.

    Args:
        path: The directory; it is created by the first stage that writes.

    Example:
        >>> run = RunDirectory("runs/us-report")  # doctest: +SKIP
        >>> run.require("ingest")["seconds"]  # doctest: +SKIP
        1.7
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r})"

    def __truediv__(self, relative: str) -> Path:
        return self.path / relative

    @property
    def manifest_path(self) -> Path:
        """Path of ``manifest.json``."""
        return self.path / MANIFEST_NAME

    def exists(self) -> bool:
        """Whether this directory already is a themescope run (has a manifest)."""
        return self.manifest_path.is_file()

    def read_manifest(self) -> dict[str, Any]:
        """Return the manifest, or a fresh one when the run has none yet."""
        if not self.exists():
            return {
                "schema_version": SCHEMA_VERSION,
                "tool": "themescope",
                "version": __version__,
                "created": _now(),
                "inputs": {},
                "config": {},
                "stages": {},
            }
        try:
            manifest: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RunDirectoryError(f"{self.manifest_path} is unreadable ({exc})") from exc
        return manifest

    def check_usable(self, force: bool = False) -> None:
        """Refuse a path that is a file, or a non-empty directory that is not a run.

        Args:
            force: Accept a non-empty directory that holds other things.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.path} exists and is not a directory")
        if self.path.is_dir() and not self.exists() and not force:
            others = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
            if others:
                raise RunDirectoryError(
                    f"{self.path} already holds other files ({', '.join(sorted(others)[:3])}"
                    f"{', ...' if len(others) > 3 else ''}) and is not a themescope run; "
                    "choose another --out or pass --force"
                )

    def stage_record(self, name: str) -> dict[str, Any] | None:
        """Return the manifest record of a finished stage, or None."""
        record = self.read_manifest().get("stages", {}).get(name)
        return record if record and record.get("done") else None

    def is_current(self, name: str, stage_fingerprint: str) -> bool:
        """Whether stage ``name`` finished with exactly this fingerprint."""
        record = self.stage_record(name)
        return record is not None and record.get("fingerprint") == stage_fingerprint

    def require(self, name: str) -> dict[str, Any]:
        """Return the record of stage ``name``, or explain which command to run first."""
        if not self.path.is_dir():
            raise RunDirectoryError(f"run directory {self.path} does not exist")
        record = self.stage_record(name)
        if record is None:
            raise StageNotDoneError(
                f"{self.path} has no finished {name} stage; run `themescope {name}` first"
            )
        return record

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold an exclusive lock on the run for this process, or refuse at once.

        The lock is an ``flock`` on ``RUN/.lock``: the kernel releases it when the
        process dies, so a killed run never leaves a stale lock behind. It is
        re-entrant within one process, so a pipeline can hold it across stages that
        each take it too.
        """
        key = str(self.path.resolve())
        if key in _HELD_LOCKS:
            _HELD_LOCKS[key][1] += 1
            try:
                yield
            finally:
                _HELD_LOCKS[key][1] -= 1
            return
        self.check_usable(force=True)
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole block
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                raise RunLockedError(
                    f"{self.path} is in use by another themescope process (pid {holder}); "
                    "wait for it to finish"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            _HELD_LOCKS[key] = [handle, 1]
            try:
                yield
            finally:
                del _HELD_LOCKS[key]
        finally:
            handle.close()

    @contextlib.contextmanager
    def stage(
        self,
        name: str,
        *,
        stage_fingerprint: str,
        config: Mapping[str, Any],
    ) -> Iterator[StageWriter]:
        """Run one stage transactionally.

        Files written through :meth:`StageWriter.path` replace the run's files of
        the same top-level name only when the block ends without an exception; the
        manifest then records the stage as done, with its seconds, fingerprint,
        config, inputs, warnings and ``writer.record``, and drops the records of
        later stages, whose inputs have changed.
        """
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}")
        self.path.mkdir(parents=True, exist_ok=True)
        staging = self.path / f"{_STAGING_PREFIX}{name}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        writer = StageWriter(self, name, staging)
        started = time.perf_counter()
        try:
            yield writer
            self._commit(writer, config, stage_fingerprint, time.perf_counter() - started)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(
        self, writer: StageWriter, config: Mapping[str, Any], stage_fingerprint: str, seconds: float
    ) -> None:
        manifest = self.read_manifest()
        later = STAGES[STAGES.index(writer.name) + 1 :]
        stages = manifest.setdefault("stages", {})
        # Invalidate first: if we die while moving files, later stages are not trusted.
        stages.pop(writer.name, None)
        for stage in later:
            stages.pop(stage, None)
        write_json_atomic(self.manifest_path, manifest)
        for entry in writer.staging.iterdir():
            target = self.path / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
        manifest["version"] = __version__
        manifest.setdefault("config", {})[writer.name] = dict(config)
        manifest.setdefault("inputs", {}).update(writer.inputs)
        stages[writer.name] = {
            "done": True,
            "seconds": round(seconds, 3),
            "fingerprint": stage_fingerprint,
            "finished": _now(),
            "warnings": writer.warnings,
            **writer.record,
        }
        write_json_atomic(self.manifest_path, manifest)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
