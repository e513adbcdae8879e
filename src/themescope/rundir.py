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
``videos.json`` beside its manifest, and so does a comparison (``themescope compare``,
its ``compare.json``). A :class:`RunDirectory` is opened as one kind and refuses the
others before anything is written.

Stages declare themselves (:class:`Stage`: name, needs, record, files, columns, config
section, command) and register by subclassing; the file and column lists and record
types are read from those declarations, and "later" means later in the pipeline's
order (:class:`Pipeline`) and in the manifest's, which records the
stages in the order they ran, so a plug-in's stage is invalidated like the package's.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args

import msgspec

from themescope._atomic import atomic_path
from themescope._version import __version__
from themescope.errors import (
    CheckpointError,
    DocumentError,
    NewerDocumentError,
    RunDirectoryError,
    RunLockedError,
    StageNotDoneError,
    os_error_reason,
)
from themescope.manifest import (
    InputFile,
    Manifest,
    StageRecord,
    encode_manifest,
    now,
    read_manifest,
    record_type,
    register_record,
)

logger = logging.getLogger("themescope")

MANIFEST_NAME = "manifest.json"
STUDY_VIDEOS_NAME = "videos.json"
"""The file that tells a study directory from a single video's run."""
COMPARE_NAME = "compare.json"
"""The file that tells a comparison's folder (``themescope compare``) from a run."""
COMPARED_RUNS = "runs"
"""The ``text_source`` of a comparison's ingest, which gathers its runs' frames: it tells a
comparison stopped before compare.json from a study (both have videos.json)."""
LOCK_NAME = ".lock"
Kind = Literal["run", "study", "comparison"]
"""The kinds of run directory: a single video's run, a study, a comparison of two runs."""
_KIND_COMMANDS: dict[str, str] = {"study": "corpus", "comparison": "compare"}
"""The command that redoes any stage of a directory of that kind (a run's: the stage's own)."""

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


_STAGE_CLASSES: dict[str, list[type[Stage]]] = {}
"""Every stage class defined so far, by stage name (a study's stages share a run's names)."""


def stage_classes(name: str) -> list[type[Stage]]:
    """Return the stage classes registered under ``name``, in the order they were defined."""
    return list(_STAGE_CLASSES.get(name, ()))


BUILTIN_STAGE_MODULES = (
    "themescope.media.ingest",
    "themescope.model.train",
    "themescope.themes.stage",
    "themescope.themes.codebook",
    "themescope.themes.compare.stage",
    "themescope.report.render",
    "themescope.report.study_page",
    "themescope.report.compare_page",
    "themescope.corpus.ingest",
    "themescope.corpus.themes",
    "themescope.corpus.codebook",
    "themescope.corpus.assign",
    "themescope.corpus.compare",
)
"""The modules that define themescope's own stages (a test keeps the list complete)."""


def load_builtin_stages() -> None:
    """Define every built-in stage class, whatever this process has imported so far.

    Only for what a stage's declaration alone can tell (the file an old record did not
    list): the modules are heavy, and a running pipeline has imported its own stages.
    """
    for module in BUILTIN_STAGE_MODULES:
        importlib.import_module(module)


def declared_files(name: str) -> tuple[str, ...]:
    """Return every file the stages named ``name`` may own in a run (their ``files``)."""
    return tuple(dict.fromkeys(f for cls in _STAGE_CLASSES.get(name, ()) for f in cls.files))


def declared_columns(name: str) -> tuple[str, ...]:
    """Return every frames.parquet column the stages named ``name`` add (their ``columns``)."""
    return tuple(dict.fromkeys(c for cls in _STAGE_CLASSES.get(name, ()) for c in cls.columns))


class StageWriter:
    """Collects one stage's outputs in a staging folder and its record for the manifest.

    The runner (:func:`run_stage`) hands one to :meth:`Stage.run`; do not build it directly.

    Attributes:
        run: The run directory.
        name: The stage's name.
        staging: The private folder the stage writes into.
        record: Its manifest record, an instance of the stage's record class (see
            :mod:`themescope.manifest`); the stage sets it or its fields, the runner adds the
            common ones (seconds, fingerprint, files...) when it commits.
        warnings: Degraded results met so far.
        inputs: Input files to record in the manifest (ingest).
    """

    def __init__(self, run: RunDirectory, name: str, staging: Path) -> None:
        self.run = run
        self.name = name
        self.staging = staging
        self.record: StageRecord = record_type(name)()
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

    A stage declares itself in class attributes: its ``name``, the stages it ``needs``,
    its ``record`` class (a :class:`~themescope.manifest.StageRecord` subclass), the
    ``files`` it owns in the run (the first always written), the frames.parquet
    ``columns`` it adds, the ``config_section`` it reads, the CLI ``command`` that runs
    it and the ``kinds`` of directory it writes. Defining a subclass with a ``name``
    registers it: the manifest decodes its record, and invalidation removes its files
    and columns, with no list to edit. :meth:`check` resolves
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
    record: ClassVar[type[StageRecord]] = StageRecord
    files: ClassVar[tuple[str, ...]] = ()
    columns: ClassVar[tuple[str, ...]] = ()
    config_section: ClassVar[str | None] = None
    command: ClassVar[str | None] = None
    """The ``themescope`` command that runs this stage alone (None: only in a pipeline)."""
    kinds: ClassVar[tuple[Kind, ...]] = ("run",)
    """The kinds of directory it writes; :func:`run_stage` opens a path as the first."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not hasattr(cls, "name"):
            return  # a base class; its subclasses name themselves
        if not issubclass(cls.record, StageRecord) or not set(cls.kinds) <= set(get_args(Kind)):
            raise TypeError(
                f"{cls.__name__}.record must be a StageRecord subclass and its kinds among "
                f"{', '.join(get_args(Kind))}"
            )
        register_record(cls.name, cls.record)
        _STAGE_CLASSES.setdefault(cls.name, []).append(cls)

    def check(self) -> None:  # noqa: B027 - most stages have nothing to resolve
        """Resolve and check settings and components; raise a ThemescopeError if one is bad."""

    def inputs(self) -> dict[str, InputFile]:
        """Return the input files this stage reads from outside the run (ingest's video)."""
        return {}

    def stale(self, run: RunDirectory) -> bool:
        """Whether it must rerun in ``run`` although it is current (a study's failed videos).

        Asked by :class:`Pipeline` under the lock, before the stage runs.
        """
        return False

    def close(self) -> None:  # noqa: B027 - most stages hold nothing
        """Release what the stage holds (a pool of workers); the pipeline calls it at the end."""

    def fallback(self, problem: Exception) -> Stage | None:
        """Return the stage to run instead after ``problem`` (a CheckpointError), or None.

        :class:`Pipeline` asks when a stage raises
        :class:`~themescope.errors.CheckpointError`; None lets the error through.
        """
        return None

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


def run_stage(
    run: RunDirectory | str | Path,
    stage: Stage,
    *,
    force: bool = False,
    order: Sequence[str] = (),
) -> StageResult:
    """Run ``stage`` in ``run`` unless it is current: the one stage lifecycle.

    Locks the run; checks the stages it needs; computes its fingerprint (settings,
    component identities, input hashes, upstream fingerprints); skips when the
    recorded fingerprint is the same and its files are there (unless ``force``);
    otherwise removes every later stage's files and records first, so the directory
    always reads as one consistent run, then runs it into a staging folder and
    commits it with its record.

    Args:
        run: The run directory (a path is opened as the stage's first kind).
        stage: The stage.
        force: Redo it even when it is current.
        order: The pipeline's stage names in order, for invalidation (the manifest's
            order, which is the order the stages ran, is used too).

    Raises:
        ThemescopeError: Bad settings, a missing upstream stage, or a failure of the stage.
    """
    run = run if isinstance(run, RunDirectory) else RunDirectory(run, kind=stage.kinds[0])
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
        run.invalidate_after(stage.name, order=order)
        with run.stage(
            stage.name, stage_fingerprint=stage_fp, config=stage.settings(), files=stage.files
        ) as writer:
            writer.inputs.update(inputs)
            stage.run(run, writer)
        return StageResult(run, stage.name, "ran", run.require(stage.name))


class Pipeline:
    """Run a list of stages in one directory, each through :func:`~themescope.rundir.run_stage`.

    Every stage's settings are checked before the first one runs, so a bad model folder
    or device is refused in seconds, not after training; the directory is locked once
    for the whole list; a current stage is skipped, a changed one reruns with every
    stage after it (in this list's order); a stage that raises
    :class:`~themescope.errors.CheckpointError` is replaced by its
    :meth:`~themescope.rundir.Stage.fallback` (a training that resumes from scratch);
    every stage is closed at the end, whatever happens.

    Args:
        stages: The stages in the order they run.

    Example:
        >>> from themescope.report.render import ReportStage
        >>> Pipeline([ReportStage()]).run("runs/us")  # doctest: +SKIP
        {'report': 'skipped'}
    """

    def __init__(self, stages: Sequence[Stage]) -> None:
        names = [stage.name for stage in stages]
        if not stages or len(set(names)) != len(names):
            raise ValueError(f"a pipeline needs stages with distinct names; got {names}")
        self.stages = list(stages)

    def run(self, run: RunDirectory | str | Path, *, force: bool = False) -> dict[str, str]:
        """Run every stage that is not current; return each stage's status ("ran", "skipped").

        Args:
            run: The directory (a path is opened as the first stage's kind).
            force: Redo every stage, and accept a directory holding other files.

        Raises:
            ThemescopeError: Bad settings at any stage (one clear message, before any
                work), the directory is in use or of another kind, or a stage failed.
        """
        names = [stage.name for stage in self.stages]
        if not isinstance(run, RunDirectory):
            run = RunDirectory(run, kind=self.stages[0].kinds[0])
        try:
            run.check_usable(force=force)
            for stage in self.stages:
                stage.check()
            statuses: dict[str, str] = {}
            with run.lock():
                for stage in self.stages:
                    statuses[stage.name] = _run_or_fall_back(run, stage, force, names).status
            return statuses
        finally:
            for stage in self.stages:
                stage.close()


def _run_or_fall_back(
    run: RunDirectory, stage: Stage, force: bool, order: Sequence[str]
) -> StageResult:
    try:
        return run_stage(run, stage, force=force or stage.stale(run), order=order)
    except CheckpointError as exc:
        replacement = stage.fallback(exc)
        if replacement is None:
            raise
        return _run_or_fall_back(run, replacement, force, order)


class RunDirectory:
    """A run directory: reads and writes the files of the contract above.

    Args:
        path: The directory; it is created by the first stage that writes.
        study: Open it as a study directory (``themescope corpus``), not a single video's run.
        kind: The kind of directory (``run``, ``study``, ``comparison``); overrides ``study``.

    Example:
        >>> run = RunDirectory("runs/us-report")  # doctest: +SKIP
        >>> run.require("ingest").seconds  # doctest: +SKIP
        1.7
    """

    def __init__(self, path: str | Path, *, study: bool = False, kind: Kind | None = None) -> None:
        self.path = Path(path)
        self.kind: Kind = kind or ("study" if study else "run")

    @property
    def study(self) -> bool:
        """Whether it is opened as a study directory."""
        return self.kind == "study"

    def __repr__(self) -> str:
        shown = "" if self.kind == "run" else f", kind={self.kind!r}"
        return f"RunDirectory({str(self.path)!r}{shown})"

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

    def is_comparison(self) -> bool:
        """Whether this directory holds a comparison (``themescope compare`` wrote it)."""
        if (self / COMPARE_NAME).is_file():
            return True
        record = self.record("ingest") if self.exists() else None
        return record is not None and getattr(record, "text_source", None) == COMPARED_RUNS

    def found_kind(self) -> Kind | None:
        """The kind of directory found on disk (None: no run of any kind yet)."""
        if self.is_comparison():  # a joint comparison holds a study's files too
            return "comparison"
        if self.is_study():
            return "study"
        return "run" if self.exists() and self.read_manifest().stages else None

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

        The other kind: a study opened as a single video's run, a comparison opened as
        either, or the reverse.

        Args:
            force: Accept a non-empty directory that holds other things.
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.path} exists and is not a directory")
        found = self.found_kind() if self.path.is_dir() else None
        if self.kind == "comparison" and found not in (None, "comparison"):
            raise RunDirectoryError(
                f"{self.path} is a {'study' if found == 'study' else 'single video'}'s "
                "directory, not a comparison; choose another --out"
            )
        if self.kind == "comparison" and found == "comparison" and not force:
            from themescope.compare_document import read_compare

            try:
                read_compare(self / COMPARE_NAME)
            except NewerDocumentError as exc:
                # Replacing it would lose what the newer themescope wrote there.
                raise NewerDocumentError(
                    f"{exc}, choose another --out, or pass --force to replace it"
                ) from exc
            except DocumentError:
                pass  # damaged or older: the compare stage writes it anew
        if self.kind != "comparison" and found == "comparison":
            raise RunDirectoryError(
                f"{self.path} is a comparison (made by `themescope compare`), not a "
                f"{'study' if self.study else 'single video'}'s run; choose another --out"
            )
        if self.kind == "run" and found == "study":
            # A single video's stage would write its files over the study's and orphan videos/.
            raise RunDirectoryError(
                f"{self.path} is a study folder (made by `themescope corpus`), not a single "
                "video's run; write the run to another --out, redo the study with "
                f"`themescope corpus CORPUS --out {self.path}`, or rebuild its report with "
                f"`themescope report {self.path}`"
            )
        if self.study and found == "run" and self.record("ingest"):
            raise RunDirectoryError(
                f"{self.path} is a single video's run directory, not a study; choose another --out"
            )
        if self.path.is_dir() and not self.exists() and not force:
            # A comparison written before comparisons had a manifest is redone in place.
            own = {COMPARE_NAME, *declared_files("report")} if self.kind == "comparison" else set()
            others = [
                p.name
                for p in self.path.iterdir()
                if not p.name.startswith(".") and p.name not in own
            ]
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
                f"{self.path} has no finished {name} stage; run `themescope {self._command(name)}` "
                "first"
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
        if not record.files:
            # Manifests written before stages recorded their files: the one file always
            # written, known from the stage's declaration, whichever command reads it.
            load_builtin_stages()
        for relative in record.files or declared_files(name)[:1]:
            path = self / relative
            if not path.exists():
                raise StageNotDoneError(
                    f"{path} is missing, so the {name} stage of {self.path} is not complete; "
                    f"run `themescope {self._command(name)}` again"
                )
            reader = self._document_readers().get(relative)
            if reader is not None:
                reader(path)

    def _command(self, name: str) -> str:
        """The command that (re)does stage ``name`` here."""
        found = self.kind if self.kind in _KIND_COMMANDS else self.found_kind() or "run"
        if found in _KIND_COMMANDS:
            return _KIND_COMMANDS[found]
        commands = [
            cls.command
            for cls in _STAGE_CLASSES.get(name, ())
            if cls.command and found in cls.kinds
        ]
        return commands[0] if commands else name

    def _document_readers(self) -> dict[str, Callable[[Path], object]]:
        """The typed reader of each JSON document a stage writes here."""
        from themescope import compare_document, documents, study_documents

        if self.is_study():
            return {
                "themes.json": study_documents.read_study_themes,
                STUDY_VIDEOS_NAME: study_documents.read_study_videos,
            }
        return {"themes.json": documents.read_themes, COMPARE_NAME: compare_document.read_compare}

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

    def invalidate_after(self, name: str, *, order: Sequence[str] = ()) -> None:
        """Remove the records, files and frames.parquet columns of every stage after ``name``.

        Later means after ``name`` in the pipeline's ``order``, or recorded after it in the
        manifest (which lists the stages in the order they ran). A stage this process does
        not know loses the files its record lists. The records go first (atomically), so a
        process killed while files are being removed leaves a run whose manifest already
        disowns them.
        """
        manifest = self.read_manifest()
        recorded = list(manifest.stages)
        earlier = order[: order.index(name)] if name in order else ()
        later = list(recorded[recorded.index(name) + 1 :]) if name in recorded else []
        later = [n for n in later if n not in earlier]
        if name in order:
            later += [n for n in order[order.index(name) + 1 :] if n not in later]
        files = {f for n in later for f in declared_files(n)}
        files.update(f for n in later if (r := manifest.record(n)) for f in r.files)
        # A later stage may have rewritten an earlier one's file (themes adds a column to
        # ingest's frames.parquet): that file stays, only its columns go.
        files -= {f for n in recorded if n not in later for f in manifest.stages[n].files}
        files -= {f for n in (name, *earlier) for f in declared_files(n)}
        if self.exists() and any(n in manifest.stages for n in later):
            for stage in later:
                manifest.stages.pop(stage, None)
                manifest.config.pop(stage, None)
            self.write_manifest(manifest)
        for relative in sorted(files):
            _remove(self / relative)
        columns = tuple(c for n in later for c in declared_columns(n))
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
        self,
        name: str,
        *,
        stage_fingerprint: str,
        config: Mapping[str, Any],
        files: Sequence[str] | None = None,
    ) -> Iterator[StageWriter]:
        """Write one stage transactionally (the primitive :func:`run_stage` is built on).

        Files written through :meth:`StageWriter.path` replace the run's files of the
        same top-level name only when the block ends without an exception; the manifest
        then records the stage with its seconds, fingerprint, settings, inputs, warnings
        and ``writer.record``; its old ``files`` (default: those its stage classes declare)
        that it did not write again are removed. The staging folder is removed whatever
        happens.
        """
        if name not in _STAGE_CLASSES and record_type(name) is StageRecord:
            raise ValueError(f"unknown stage {name!r}")
        self.create()
        staging = self.path / f"{_STAGING_PREFIX}{name}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        writer = StageWriter(self, name, staging)
        started = time.perf_counter()
        try:
            yield writer
            owned = declared_files(name) if files is None else tuple(files)
            seconds = time.perf_counter() - started
            self._commit(writer, config, stage_fingerprint, seconds, owned)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _commit(
        self,
        writer: StageWriter,
        settings: Mapping[str, Any],
        stage_fp: str,
        seconds: float,
        owned: Sequence[str],
    ) -> None:
        written = {entry.name for entry in writer.staging.iterdir()}
        expected = record_type(writer.name)
        if type(writer.record) is not expected:
            raise TypeError(
                f"the {writer.name} stage's record must be a {expected.__name__}, "
                f"not a {type(writer.record).__name__}"
            )
        # Built in Python, a record is not type-checked: read it back as the manifest will.
        checked = msgspec.convert(msgspec.to_builtins(writer.record), expected)
        record = msgspec.structs.replace(
            checked,
            done=True,
            seconds=round(seconds, 3),
            fingerprint=stage_fp,
            finished=now(),
            warnings=list(writer.warnings),
            files=sorted(written),
        )
        manifest = self.read_manifest()
        # Disown the old files first: if we die while moving, the stage is not trusted.
        if manifest.stages.pop(writer.name, None) is not None:
            self.write_manifest(manifest)
        for relative in owned:
            if relative not in written:
                _remove(self / relative)
        for entry in writer.staging.iterdir():
            target = self.path / entry.name
            _remove(target)
            os.replace(entry, target)
        manifest.version = __version__
        manifest.config[writer.name] = dict(settings)
        manifest.inputs.update(writer.inputs)
        manifest.stages[writer.name] = record
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
