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

Every stage is a :class:`Stage` run by the one lifecycle :func:`run_stage`: it
writes its files into a private staging folder and moves them into place only when
it has finished, then records itself in ``manifest.json`` (replaced atomically). A
stage is *current* when its fingerprint (a hash of its settings, its components'
parameters, its inputs and the fingerprints of the stages it reads) equals the
recorded one and the files it recorded are all there (its JSON documents reading back
through their typed reader); rerunning a current stage is a no-op. Before a stage
reruns, the files and records of every later stage are removed, so whatever fails,
the directory always reads as one consistent run, never as a new ingest beside an
old model.

A study directory (:mod:`themescope.corpus.study`) follows the same contract with a
``videos.json`` beside its manifest. A :class:`RunDirectory` is opened as one or the
other, and refuses the other kind before anything is written.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import msgspec

from themescope._atomic import atomic_path
from themescope._version import __version__
from themescope.errors import (
    NewerDocumentError,
    RunDirectoryError,
    RunLockedError,
    StageNotDoneError,
    os_error_reason,
)
from themescope.manifest import (
    RECORD_TYPES,
    InputFile,
    Manifest,
    StageRecord,
    encode_manifest,
    now,
    read_manifest,
)

logger = logging.getLogger("themescope")

MANIFEST_NAME = "manifest.json"
STUDY_VIDEOS_NAME = "videos.json"
"""The file that tells a study directory from a single video's run."""
LOCK_NAME = ".lock"
STAGES = tuple(RECORD_TYPES)
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


# The files each stage owns in RUN (the contract above; the first is always written, the
# others may not be, e.g. no reconstructions.png without images), and the columns it adds
# to frames.parquet: when a stage reruns, those of every later stage are removed first,
# and its own old files that it does not write again go when it commits.
STAGE_FILES: dict[str, tuple[str, ...]] = {
    "ingest": ("frames.parquet", "cues.parquet", "frames"),
    "train": (
        "latents.npy",
        "model",
        "train_log.csv",
        "reconstructions.png",
        "text_reconstructions.txt",
    ),
    "themes": ("themes.json", "effects.csv"),
    "report": ("report.html",),
}
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {"themes": ("theme", "caption")}


class StageWriter:
    """Collects one stage's outputs in a staging folder and its record for the manifest.

    The runner (:func:`run_stage`) hands one to :meth:`Stage.run`; do not build it directly.

    Attributes:
        run: The run directory.
        name: The stage's name.
        staging: The private folder the stage writes into.
        record: Stage-specific facts for its manifest record (see :mod:`themescope.manifest`).
        warnings: Degraded results met so far.
        inputs: Input files to record in the manifest (ingest).
    """

    def __init__(self, run: RunDirectory, name: str, staging: Path) -> None:
        self.run = run
        self.name = name
        self.staging = staging
        self.record: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.inputs: dict[str, InputFile] = {}

    def path(self, relative: str) -> Path:
        """Return where to write ``relative`` (e.g. ``"frames/000001.jpg"``) during the stage."""
        target = self.staging / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def warn(self, message: str) -> None:
        """Log a degraded result and keep it in the stage's manifest record."""
        logger.warning(message)
        self.warnings.append(message)


class Stage(abc.ABC):
    """One step of the pipeline, run by :func:`run_stage`.

    A stage declares its ``name`` and the stages it ``needs``; :meth:`check` resolves
    and checks every setting and component cheaply (no model is loaded, nothing is
    written), so a pipeline can refuse bad settings before its first stage starts;
    :meth:`fingerprint_parts` says what its result depends on (its settings and its
    components' :func:`~themescope.components.identity`); :meth:`run` writes its files
    through the :class:`StageWriter`. The runner does the rest: lock, check the stages
    it needs, skip when current, invalidate later stages, stage, commit, record.

    Example:
        >>> from themescope.report.render import ReportStage
        >>> result = run_stage(RunDirectory("runs/us"), ReportStage())  # doctest: +SKIP
        >>> result.status  # doctest: +SKIP
        'skipped'
    """

    name: ClassVar[str]
    needs: ClassVar[tuple[str, ...]] = ()
    study: ClassVar[bool] = False
    """Whether it writes a study directory; :func:`run_stage` opens a path given as one."""

    def check(self) -> None:  # noqa: B027 - most stages have nothing to resolve
        """Resolve and check settings and components; raise a ThemescopeError if one is bad."""

    def inputs(self) -> dict[str, InputFile]:
        """Return the input files this stage reads from outside the run (ingest's video)."""
        return {}

    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """Return the stage's full settings, as recorded in the manifest's ``config``."""

    @abc.abstractmethod
    def fingerprint_parts(self) -> Any:
        """Return what the stage's result depends on besides its inputs and upstream stages."""

    @abc.abstractmethod
    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Do the work, writing every output through ``writer``."""


@dataclass(frozen=True)
class StageResult:
    """What :func:`run_stage` did.

    Attributes:
        run: The run directory.
        name: The stage.
        status: ``ran``, or ``skipped`` when it was already current.
        record: Its manifest record (typed; see :mod:`themescope.manifest`).
    """

    run: RunDirectory
    name: str
    status: Literal["ran", "skipped"]
    record: StageRecord

    @property
    def skipped(self) -> bool:
        """Whether the stage was current and nothing was redone."""
        return self.status == "skipped"


def run_stage(run: RunDirectory | str | Path, stage: Stage, *, force: bool = False) -> StageResult:
    """Run ``stage`` in ``run`` unless it is current: the one stage lifecycle.

    Locks the run; checks the stages it needs; computes its fingerprint (settings,
    component identities, input hashes, upstream fingerprints); skips when the
    recorded fingerprint is the same and its files are there (unless ``force``);
    otherwise removes every later stage's files and records first, so the directory
    always reads as one consistent run, then runs it into a staging folder and
    commits it with its record.

    Raises:
        ThemescopeError: Bad settings, a missing upstream stage, or a failure of the stage.
    """
    run = run if isinstance(run, RunDirectory) else RunDirectory(run, study=stage.study)
    stage.check()
    creates = not stage.needs
    if not creates:
        run.require_directory()
    with run.lock(create=creates):
        upstream = {name: run.require(name).fingerprint for name in stage.needs}
        inputs = stage.inputs()
        stage_fp = fingerprint(
            stage.fingerprint_parts(), {k: v.sha256 for k, v in inputs.items()}, upstream
        )
        record = run.record(stage.name)
        if not force and record is not None and record.fingerprint == stage_fp:
            try:
                run.check_outputs(stage.name, record)
            except NewerDocumentError:
                raise
            except RunDirectoryError as exc:
                logger.info("%s is redone: %s", stage.name, exc)
            else:
                logger.info(
                    "%s is up to date in %s; skipped (use --force to redo)", stage.name, run.path
                )
                return StageResult(run, stage.name, "skipped", record)
        run.invalidate_after(stage.name)
        with run.stage(stage.name, stage_fingerprint=stage_fp, config=stage.settings()) as writer:
            writer.inputs.update(inputs)
            stage.run(run, writer)
        return StageResult(run, stage.name, "ran", run.require(stage.name))


class RunDirectory:
    """A run directory: reads and writes the files of the contract above.

    Args:
        path: The directory; it is created by the first stage that writes.
        study: Open it as a study directory (``themescope corpus``), not a single video's run.

    Example:
        >>> run = RunDirectory("runs/us-report")  # doctest: +SKIP
        >>> run.require("ingest").seconds  # doctest: +SKIP
        1.7
    """

    def __init__(self, path: str | Path, *, study: bool = False) -> None:
        self.path = Path(path)
        self.study = study

    def __repr__(self) -> str:
        return f"RunDirectory({str(self.path)!r}{', study=True' if self.study else ''})"

    def __truediv__(self, relative: str) -> Path:
        return self.path / relative

    @property
    def manifest_path(self) -> Path:
        """Path of ``manifest.json``."""
        return self.path / MANIFEST_NAME

    def exists(self) -> bool:
        """Whether this directory already is a themescope run (has a manifest)."""
        return self.manifest_path.is_file()

    def is_study(self) -> bool:
        """Whether this directory holds a study (its ingest wrote ``videos.json``)."""
        return (self / STUDY_VIDEOS_NAME).is_file()

    def read_manifest(self) -> Manifest:
        """Return the manifest, or a fresh one when the run has none yet.

        Raises:
            DocumentError: It is damaged or from another version (a RunDirectoryError).
        """
        return read_manifest(self.manifest_path) if self.exists() else Manifest()

    def write_manifest(self, manifest: Manifest) -> None:
        """Replace ``manifest.json`` atomically."""
        with atomic_path(self.manifest_path) as tmp:
            tmp.write_bytes(encode_manifest(manifest))

    def check_usable(self, force: bool = False) -> None:
        """Refuse a file, a non-empty directory that is not a run, or a run of the other kind.

        The other kind: a study opened as a single video's run, or the reverse.

        Args:
            force: Accept a non-empty directory that holds other things.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.path} exists and is not a directory")
        if not self.study and self.is_study():
            # A single video's stage would write its files over the study's and orphan videos/.
            raise RunDirectoryError(
                f"{self.path} is a study folder (made by `themescope corpus`), not a single "
                "video's run; write the run to another --out, redo the study with "
                f"`themescope corpus CORPUS --out {self.path}`, or rebuild its report with "
                f"`themescope report {self.path}`"
            )
        if self.study and not self.is_study() and self.exists() and self.record("ingest"):
            raise RunDirectoryError(
                f"{self.path} is a single video's run directory, not a study; choose another --out"
            )
        if self.path.is_dir() and not self.exists() and not force:
            others = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
            if others:
                raise RunDirectoryError(
                    f"{self.path} already holds other files ({', '.join(sorted(others)[:3])}"
                    f"{', ...' if len(others) > 3 else ''}) and is not a themescope run; "
                    "choose another --out or pass --force"
                )

    def record(self, name: str) -> StageRecord | None:
        """Return the manifest record of a finished stage, or None."""
        return self.read_manifest().record(name)

    def require_directory(self) -> None:
        """Refuse a path that is not an existing themescope run (nothing is created)."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(
                f"{self.path} is a file, not a run directory; give the folder that "
                "`themescope ingest` or `themescope summarize` wrote"
            )
        if not self.path.is_dir():
            raise RunDirectoryError(f"run directory {self.path} does not exist")
        if not self.exists():
            raise RunDirectoryError(
                f"{self.path} is not a themescope run (no {MANIFEST_NAME}); "
                "run `themescope ingest` or `themescope summarize` first"
            )

    def require(self, name: str) -> StageRecord:
        """Return the record of stage ``name``, or explain which command to run first.

        Raises:
            StageNotDoneError: The stage has not finished, or a file it wrote is missing.
            DocumentError: A JSON document it wrote is damaged or of another version.
        """
        self.require_directory()
        record = self.record(name)
        if record is None:
            raise StageNotDoneError(
                f"{self.path} has no finished {name} stage; run `themescope {name}` first"
            )
        self.check_outputs(name, record)
        return record

    def check_outputs(self, name: str, record: StageRecord) -> None:
        """Refuse a finished stage whose recorded files are not all there and readable.

        The manifest alone does not make a stage current: a file deleted or damaged
        since must be written again, by the stage or by the command that redoes it.

        Raises:
            StageNotDoneError: A file the stage wrote is missing.
            DocumentError: A JSON document it wrote is damaged or of another version.
        """
        # Manifests written before stages recorded their files: the one file always written.
        for relative in record.files or STAGE_FILES[name][:1]:
            path = self / relative
            if not path.exists():
                command = "corpus" if self.is_study() else name
                raise StageNotDoneError(
                    f"{path} is missing, so the {name} stage of {self.path} is not complete; "
                    f"run `themescope {command}` again"
                )
            reader = self._document_readers().get(relative)
            if reader is not None:
                reader(path)

    def _document_readers(self) -> dict[str, Callable[[Path], object]]:
        """The typed reader of each JSON document a stage writes here."""
        from themescope import documents

        if self.is_study():
            return {
                "themes.json": documents.read_study_themes,
                STUDY_VIDEOS_NAME: documents.read_study_videos,
            }
        return {"themes.json": documents.read_themes}

    @contextlib.contextmanager
    def lock(self, *, create: bool = True) -> Iterator[None]:
        """Hold an exclusive lock on the run for this process, or refuse at once.

        The lock is a :mod:`filelock` lock on ``RUN/.lock`` (``flock`` on POSIX, ``msvcrt``
        locking on Windows): the operating system releases it when the process dies, so a
        killed run never leaves a stale lock behind. It is re-entrant within one process,
        so a pipeline can hold it across stages that each take it too.

        Args:
            create: Create the directory when missing (only the first stage may).
        """
        from filelock import FileLock, Timeout

        key = str(self.path.resolve())
        if key in _HELD_LOCKS:
            _HELD_LOCKS[key][1] += 1
            try:
                yield
            finally:
                _HELD_LOCKS[key][1] -= 1
            return
        self.check_usable(force=True)
        new = _first_missing(self.path) if create else None
        if create:
            self.create()
        else:
            self.require_directory()
        lock = FileLock(self.path / LOCK_NAME, is_singleton=False)
        owner = self.path / f"{LOCK_NAME}.owner"
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _read_text(owner) or "unknown"
            raise RunLockedError(
                f"{self.path} is in use by another themescope process (pid {holder}); "
                "wait for it to finish"
            ) from None
        failed = False
        try:
            owner.write_text(str(os.getpid()), encoding="ascii")
            _HELD_LOCKS[key] = [lock, 1]
            try:
                yield
            finally:
                del _HELD_LOCKS[key]
        except BaseException:
            failed = True
            raise
        finally:
            lock.release()
            # A command refused before it wrote anything leaves no folder behind.
            if failed and new is not None and _holds_only_locks(self.path):
                shutil.rmtree(new, ignore_errors=True)

    def create(self) -> None:
        """Create the run directory, or say in one line why it cannot be created."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirectoryError(
                f"cannot create run directory {self.path}: {os_error_reason(exc)}"
            ) from exc

    def invalidate_after(self, name: str) -> None:
        """Remove the records, files and frames.parquet columns of every stage after ``name``.

        The records go first (atomically), so a process killed while files are being
        removed leaves a run whose manifest already disowns them.
        """
        later = STAGES[STAGES.index(name) + 1 :]
        manifest = self.read_manifest()
        if self.exists() and any(manifest.record(stage) is not None for stage in later):
            for stage in later:
                setattr(manifest.stages, stage, None)
                manifest.config.pop(stage, None)
            self.write_manifest(manifest)
        for stage in later:
            for relative in STAGE_FILES[stage]:
                _remove(self / relative)
            columns = STAGE_COLUMNS.get(stage, ())
            if columns:
                self._drop_frame_columns(columns)

    def _drop_frame_columns(self, columns: tuple[str, ...]) -> None:
        import pyarrow.parquet as pq

        path = self / "frames.parquet"
        if not path.is_file():
            return
        table = pq.read_table(path)
        stale = [c for c in columns if c in table.column_names]
        if stale:
            with atomic_path(path) as tmp:
                pq.write_table(table.drop_columns(stale), tmp)

    @contextlib.contextmanager
    def stage(
        self, name: str, *, stage_fingerprint: str, config: Mapping[str, Any]
    ) -> Iterator[StageWriter]:
        """Write one stage transactionally (the primitive :func:`run_stage` is built on).

        Files written through :meth:`StageWriter.path` replace the run's files of the
        same top-level name only when the block ends without an exception; the manifest
        then records the stage with its seconds, fingerprint, settings, inputs, warnings
        and ``writer.record``. The staging folder is removed whatever happens.
        """
        if name not in STAGES:
            raise ValueError(f"unknown stage {name!r}")
        self.create()
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
        self, writer: StageWriter, settings: Mapping[str, Any], stage_fp: str, seconds: float
    ) -> None:
        written = {entry.name for entry in writer.staging.iterdir()}
        record = msgspec.convert(
            {
                "done": True,
                "seconds": round(seconds, 3),
                "fingerprint": stage_fp,
                "finished": now(),
                "warnings": writer.warnings,
                "files": sorted(written),
                **writer.record,
            },
            RECORD_TYPES[writer.name],
        )
        manifest = self.read_manifest()
        # Disown the old files first: if we die while moving, the stage is not trusted.
        if manifest.record(writer.name) is not None:
            setattr(manifest.stages, writer.name, None)
            self.write_manifest(manifest)
        for relative in STAGE_FILES[writer.name]:
            if relative not in written:
                _remove(self / relative)
        for entry in writer.staging.iterdir():
            target = self.path / entry.name
            _remove(target)
            os.replace(entry, target)
        manifest.version = __version__
        manifest.config[writer.name] = dict(settings)
        manifest.inputs.update(writer.inputs)
        setattr(manifest.stages, writer.name, record)
        self.write_manifest(manifest)


@contextlib.contextmanager
def os_errors(path: str | Path) -> Iterator[None]:
    """Raise a failed write to ``path`` as an OSError that names it.

    safetensors, written in Rust, reports a full disk as ``SafetensorError("... No space
    left on device (os error 28)")``; as an OSError naming the file it reads as every
    other failed write does: one line, exit 2.
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is not None or exc.errno is None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc
    except Exception as exc:
        found = re.search(r"\(os error (\d+)\)", str(exc))
        if found is None:
            raise
        code = int(found.group(1))
        raise OSError(code, os.strerror(code), str(path)) from exc


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _first_missing(path: Path) -> Path | None:
    """Return the outermost folder of ``path`` that does not exist yet, or None."""
    missing = None
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing = folder
    return missing


def _holds_only_locks(folder: Path) -> bool:
    try:
        return all(entry.name.startswith(LOCK_NAME) for entry in folder.iterdir())
    except OSError:
        return False


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
