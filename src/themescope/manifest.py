"""``RUN/manifest.json`` as typed classes, with one versioned reader and writer.

The manifest says what a run directory holds: the tool's version, the inputs (path,
size, SHA-256), every stage's settings and, per finished stage, a record of what it
did. Records are :mod:`msgspec` structs, chosen over dataclasses because msgspec
decodes *and validates* JSON into typed classes in one step (a wrong type names its
path, ``$.stages.ingest.n_frames``), and generates the JSON Schema from the same
classes (:func:`manifest_schema`), so the schema is never kept by hand.

Fields have defaults wherever an older or hand-made manifest may lack them, so such
manifests still read; unknown fields (from a newer minor version) are ignored on read.

Each stage's record is its own :class:`StageRecord` subclass, registered under the
stage's name (:func:`register_record`; the package's records name their stage with a
``stage`` class attribute, so a manifest reads fully without importing any stage). A
record of a stage this process does not know (a plug-in's, a newer themescope's) reads
as a plain :class:`StageRecord`: the run stays readable and its files stay owned.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, ClassVar, TypeVar, overload

import msgspec

from themescope._version import __version__
from themescope._versioned import damaged, read_versioned
from themescope.documents import BackendsRecord

MANIFEST_SCHEMA_VERSION = 1

SettingValue = str | int | float | bool | list[Any] | dict[str, Any] | None
"""One setting's value as JSON holds it: a number, a name, a list (``k_range``), or a
group of values (a study's ``statistics``)."""

StageSettings = dict[str, SettingValue]
"""A stage's settings by name, as its ``settings()`` gave them.

A mapping rather than the stage's :class:`~themescope._config.Settings` class: a
manifest written by an older themescope, or by hand, holds only some settings, a
stage records values beside its declared ones (``train.device``, a study's
``ingest.executor``), and a setting whose allowed range has since narrowed must not
make the whole run unreadable."""


class InputFile(msgspec.Struct, kw_only=True):
    """A file the run was made from."""

    path: str
    size: int = 0
    sha256: str = ""
    duration_s: float | None = None


class VideoFacts(msgspec.Struct, kw_only=True):
    """What the ingest stage measured of the video."""

    duration_s: float
    width: int = 0
    height: int = 0
    fps: float | None = None
    rotation_deg: int = 0
    codec: str | None = None


class BoilerplateRecord(msgspec.Struct, kw_only=True):
    """Text on screen for most of the video (a channel bug, a programme logo, a clock).

    ``text`` is its commonest reading: readings that differ by a misread letter are one item.
    """

    text: str
    box: list[float] = msgspec.field(default_factory=list)
    n_frames: int = 0
    share: float = 0.0


class OcrRecord(msgspec.Struct, kw_only=True):
    """What reading the on-screen text did (see :class:`themescope.media.ocr.OnScreenText`).

    Attributes:
        n_frames_ocred: Frames the text detector ran on.
        n_frames_reused: Frames that looked unchanged and reused the previous frame's lines.
        n_frames_too_small: Frames too small to hold legible text.
        n_lines_recognized: Text boxes the recogniser read.
        n_lines_reused: Text boxes that reused a line read before (same place, same pixels).
        n_frames_with_text: Frames with on-screen text besides the boilerplate.
        boilerplate: Text on screen for most of the video, left out of ``ocr_text``.
        n_lines_noise: Lines left out of ``ocr_text`` as no words, by reason
            (:func:`themescope.media.furniture.noise_reason`).
        seconds: Wall time of the reading, model loading included.
    """

    n_frames_ocred: int = 0
    n_frames_reused: int = 0
    n_frames_too_small: int = 0
    n_lines_recognized: int = 0
    n_lines_reused: int = 0
    n_frames_with_text: int = 0
    boilerplate: list[BoilerplateRecord] = msgspec.field(default_factory=list)
    n_lines_noise: dict[str, int] = msgspec.field(default_factory=dict)
    seconds: float = 0.0


_RECORDS: dict[str, type[StageRecord]] = {}
"""The record class of each known stage, by stage name."""


def register_record(stage: str, record_type: type[StageRecord]) -> None:
    """Decode the manifest records of ``stage`` as ``record_type`` from now on.

    Called for every :class:`StageRecord` subclass that names its ``stage``, and by
    :class:`themescope.rundir.Stage` for each stage class (its ``record``).

    Raises:
        TypeError: Another record class is already registered for ``stage``.
    """
    known = _RECORDS.setdefault(stage, record_type)
    if known is not record_type:
        raise TypeError(
            f"stage {stage!r} already records {known.__name__}; "
            f"it cannot record {record_type.__name__} too"
        )


def record_type(stage: str) -> type[StageRecord]:
    """Return the record class of ``stage`` (plain :class:`StageRecord` for an unknown stage)."""
    return _RECORDS.get(stage, StageRecord)


class StageRecord(msgspec.Struct, kw_only=True):
    """What every finished stage records.

    Attributes:
        done: Always true in a written record (a stage that did not finish has none).
        seconds: Wall-clock seconds of the stage.
        fingerprint: Hash of its settings, components and upstream fingerprints; the stage
            is current when a rerun would compute the same.
        finished: ISO time (UTC) it finished.
        warnings: Every degraded result, in the order met.
        files: The files and folders it wrote into the run; it is current only while
            they are all there (empty in manifests written before they were recorded).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "stage" in cls.__dict__:
            register_record(cls.stage, cls)

    stage: ClassVar[str]
    """The name of the stage this record belongs to (registers it; see :func:`register_record`)."""

    done: bool = True
    seconds: float = 0.0
    fingerprint: str = ""
    finished: str = ""
    warnings: list[str] = msgspec.field(default_factory=list)
    files: list[str] = msgspec.field(default_factory=list)


class IngestRecord(StageRecord, kw_only=True):
    """The ingest stage's record: the video's facts, where the text came from, what was on screen.

    ``n_frames_blank`` counts the sampled frames that are black or one flat colour
    (:mod:`themescope.media.blank`), ``n_frames_promo`` those that look like ads,
    station IDs, promos or bumpers (:func:`themescope.media.furniture.find_promos`);
    ``ocr`` is None when on-screen text was not read (``--ocr off``, or no OCR package).
    """

    stage = "ingest"

    video: VideoFacts | None = None
    n_frames: int = 0
    n_frames_blank: int = 0
    n_frames_promo: int = 0
    every_s: float = 2.0
    lang: str = "und"
    text_source: str = "none"
    encoding: str | None = None
    n_cues: int = 0
    n_cues_skipped: int = 0
    n_cues_deduplicated: int = 0
    text_coverage: float = 0.0
    align: str = "window"
    n_corrupt_packets: int = 0
    stopped_at_s: float | None = None
    ocr: OcrRecord | None = None


class EmbeddingSource(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Where the CRVAE's token embeddings came from (also the ``source`` of ``model/vocab.json``).

    Attributes:
        name: The source: ``all-MiniLM-L6-v2``, a word-vector file's name, or
            ``multilingual``.
        dim: Size of its vectors.
        path: The model folder or word-vector file it was read from.
        embedder: The phrase embedder that embedded the words (``multilingual`` only).
        language_neutral: How the words of different languages were put in one space
            (``multilingual`` only).
        fallback_reason: Why that embedder stood in for the default one, if it did.
    """

    name: str
    dim: int
    path: str | None = None
    embedder: str | None = None
    language_neutral: str | None = None
    fallback_reason: str | None = None


class TrainRecord(StageRecord, kw_only=True):
    """The train stage's record: reconstruction quality and how training went.

    ``n_frames_learned`` counts the frames the model learned from: all but the black
    or blank ones, on which ``psnr_db`` and ``text_cosine`` are measured too.
    """

    stage = "train"

    psnr_db: float | None = None
    mean_frame_psnr_db: float | None = None
    lr: float | None = None
    text_cosine: float | None = None
    image_mse: float | None = None
    epochs: int = 0
    epochs_planned: int = 0
    stopped_early: bool = False
    stop_reason: str | None = None
    device: str = "cpu"
    preset: str = "fast"
    ablation: str = "full"
    unknown_word_rate: float | None = None
    n_params: int = 0
    n_frames: int = 0
    n_frames_trained: int = 0
    n_frames_learned: int = 0
    n_frames_with_text: int = 0
    latent_dim: int = 0
    train_seconds: float = 0.0
    seconds_per_epoch: float = 0.0
    load_seconds: float = 0.0
    embeddings: EmbeddingSource | None = None
    word_vectors: str | None = None
    """The ``word_vectors`` setting trained with, ``auto`` resolved (None: bundled MiniLM)."""


class ThemesRecord(StageRecord, kw_only=True):
    """The themes stage's record: k and why, the backends, timings."""

    stage = "themes"

    k: int = 0
    k_method: str = ""
    k_reason: str = ""
    k_range: list[int] = msgspec.field(default_factory=list)
    backends: BackendsRecord | None = None
    projection: str = "tsne"
    n_frames: int = 0
    n_frames_blank: int = 0
    n_unsupported_phrases: int = 0
    timings: dict[str, float] = msgspec.field(default_factory=dict)
    captioner_identity: dict[str, Any] | None = None


class AssignRecord(StageRecord, kw_only=True):
    """The assign stage's record: videos added to a fitted study and what became of them.

    ``added`` maps each added video's id to when it was added (ISO date-time).
    """

    stage = "assign"

    added: dict[str, str] = msgspec.field(default_factory=dict)
    n_frames: int = 0
    n_novel_frames: int = 0
    novel_threshold: float = 0.0
    timings: dict[str, float] = msgspec.field(default_factory=dict)


class ReportRecord(StageRecord, kw_only=True):
    """The report stage's record: the size of the page."""

    stage = "report"

    bytes: int = 0
    n_themes: int = 0
    n_frames: int = 0
    n_thumbnails: int = 0


class CodebookStageRecord(StageRecord, kw_only=True):
    """The codebook stage's record: which codebook the themes follow (provenance).

    Declared here with the other built-in records, not beside its stage, so that every
    process decodes it whole: one that never imported the codebook stage and rewrites
    the manifest would otherwise drop the codebook's hash.
    """

    stage = "codebook"

    sha256: str = ""
    n_themes: int = 0
    merged: list[int] = msgspec.field(default_factory=list)
    dropped: list[int] = msgspec.field(default_factory=list)


class CompareRecord(StageRecord, kw_only=True):
    """The compare stage's record (a comparison's folder): the runs' joint themes."""

    stage = "compare"

    n_runs: int = 0
    k: int = 0
    n_shared: int = 0


R = TypeVar("R", bound=StageRecord)


class Manifest(msgspec.Struct, kw_only=True):
    """The whole ``manifest.json``.

    Attributes:
        schema_version: Version of this layout.
        tool: Always ``themescope``.
        version: themescope version that last wrote the run.
        created: ISO time (UTC) the run was created.
        inputs: ``video`` and ``subtitles`` as read by ingest.
        config: Each finished stage's full settings, by stage name.
        stages: The records of the finished stages.
    """

    schema_version: int = MANIFEST_SCHEMA_VERSION
    tool: str = "themescope"
    version: str = __version__
    created: str = msgspec.field(default_factory=lambda: now())
    inputs: dict[str, InputFile] = msgspec.field(default_factory=dict)
    config: dict[str, StageSettings] = msgspec.field(default_factory=dict)
    stages: dict[str, StageRecord] = msgspec.field(default_factory=dict)

    @overload
    def record(self, name: str) -> StageRecord | None: ...
    @overload
    def record(self, name: str, kind: type[R]) -> R | None: ...
    def record(self, name: str, kind: type[StageRecord] = StageRecord) -> StageRecord | None:
        """Return the record of stage ``name``, or None when it has not finished.

        Args:
            name: The stage.
            kind: The record class expected (``IngestRecord``); a record of another class
                (a plug-in's stage of the same name) is None too.
        """
        record = self.stages.get(name)
        return record if isinstance(record, kind) else None

    def warnings(self) -> list[str]:
        """Every warning of every finished stage, in pipeline order, without repeats."""
        found = [w for record in self.stages.values() for w in record.warnings]
        return list(dict.fromkeys(found))


def _manifest_with_stages(name: str, stages_type: Any) -> type[msgspec.Struct]:
    """Return a struct with :class:`Manifest`'s fields but ``stages`` of ``stages_type``."""
    fields = [
        (
            field.name,
            stages_type if field.name == "stages" else field.type,
            field.default
            if field.default is not msgspec.NODEFAULT
            else msgspec.field(default_factory=field.default_factory),
        )
        for field in msgspec.structs.fields(Manifest)
    ]
    return msgspec.defstruct(name, fields, kw_only=True)


# manifest.json as stored: the records undecoded, so each is decoded by its stage's class.
_StoredManifest = _manifest_with_stages("_StoredManifest", dict[str, msgspec.Raw])


def read_manifest(path: Path) -> Manifest:
    """Read and validate ``manifest.json`` (hand-made ones without ``schema_version`` too).

    Raises:
        DocumentError: A :class:`RunDirectoryError`: the file is missing, unreadable,
            damaged, or from a newer themescope.
    """
    rewrite = "delete it and rerun `themescope summarize --force` to rebuild the run"
    stored = read_versioned(
        path,
        _StoredManifest,
        MANIFEST_SCHEMA_VERSION,
        missing="run `themescope ingest` or `themescope summarize` first",
        rewrite=rewrite,
    )
    values = msgspec.structs.asdict(stored)
    stages: dict[str, StageRecord] = {}
    for name, raw in values.pop("stages").items():
        try:
            record = msgspec.json.decode(raw, type=record_type(name) | None)
        except msgspec.ValidationError as exc:
            # msgspec says where from the record's root; say it from the manifest's.
            where = str(exc).replace("`$", f"`$.stages.{name}", 1)
            raise damaged(path, msgspec.ValidationError(where), rewrite) from exc
        if record is not None:  # a hand-made manifest's "train": null: not finished
            stages[name] = record
    return Manifest(**values, stages=stages)


def encode_manifest(manifest: Manifest) -> bytes:
    """Return the manifest as indented UTF-8 JSON."""
    data = msgspec.to_builtins(manifest)
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``manifest.json``, generated from the record classes.

    ``stages`` lists the stages known when it is called, each with its own record.
    """
    stages = msgspec.defstruct(
        "Stages",
        [(name, kind | None, None) for name, kind in _RECORDS.items()],
        kw_only=True,
        omit_defaults=True,
    )
    schema: dict[str, Any] = msgspec.json.schema(_manifest_with_stages("Manifest", stages))
    return schema


def now() -> str:
    """Return the current UTC time as an ISO string with seconds."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
