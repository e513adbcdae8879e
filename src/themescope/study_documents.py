"""A study's documents as typed records: ``videos.json`` and its ``themes.json``.

One typed reader per document (:func:`read_study_videos`, :func:`read_study_themes`)
and one writer; schemas are generated from these classes (``docs/schemas/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from msgspec import Meta

from themescope._versioned import read_versioned
from themescope.documents import (
    PhraseMatching,
    PhraseSimilarity,
    Record,
    ThemeRecord,
    ThemesDocument,
    _write,
)

STUDY_SCHEMA_VERSION = 1
"""Version of a study's ``videos.json``."""
STUDY_THEMES_SCHEMA_VERSION = 2
"""Version of a study's ``themes.json``. 2: the themes' shares over time (``over_time``)
and the covariates' effects (``effects``)."""
STUDY_THEMES_READS = (1, 2)
"""Study themes.json versions this themescope reads (1: without over_time and effects)."""

D = TypeVar("D", bound=Record)


# --------------------------------------------------------------------------- reading, writing


# --------------------------------------------------------------------------- study (corpus)


class StudyVideoRecord(Record, kw_only=True):
    """One video of a study: where it came from and what its ingest did."""

    id: Annotated[str, Meta(description="Its folder under videos/ and its name in every table.")]
    group: str
    video: str
    subtitles: str | None = None
    lang: Annotated[str | None, Meta(description="As given, or as ingest detected it.")] = None
    metadata: Annotated[
        dict[str, str], Meta(description="Every other column of the corpus manifest.")
    ] = {}
    row: Annotated[int, Meta(description="Its row in the corpus manifest (1-based).")] = 0
    status: Literal["done", "failed"]
    error: Annotated[str | None, Meta(description="Why it failed, in one line.")] = None
    n_frames: int = 0
    duration_s: float | None = None
    warnings: list[str] = []
    added: Annotated[
        str | None,
        Meta(
            description="When it was added to the fitted study (`themescope corpus --into`, "
            "ISO date-time): its frames were assigned to the themes, not clustered with them. "
            "Null for a video of the fit."
        ),
    ] = None


class StudyVideosDocument(Record, kw_only=True):
    """``STUDY/videos.json``: every video of the study and how its ingest went."""

    schema_version: int
    source: Annotated[str, Meta(description="The corpus manifest or folder.")]
    videos: list[StudyVideoRecord]


class ShareRecord(Record, kw_only=True):
    """A group's share of a theme with its bootstrap interval (over videos)."""

    share: Annotated[float, Meta(description="Share of the group's airtime, in [0, 1].")]
    low: Annotated[float | None, Meta(description="Null when the group has one video.")] = None
    high: float | None = None


class GroupPhraseRecord(Record, kw_only=True):
    """A phrase one group says in a theme more than the other groups."""

    text: str
    z: Annotated[float, Meta(description="Weighted log-odds z-score against the other groups.")]
    count: Annotated[int, Meta(description="Times the group says it in the theme.")]
    gloss: str | None = None


class SaidByBothRecord(Record, kw_only=True):
    """A meaning two groups of different languages both say in a theme: no difference."""

    phrases: Annotated[
        dict[str, GroupPhraseRecord],
        Meta(description="Each of the two groups' phrase, by group (group A's first)."),
    ]
    similarity: PhraseSimilarity


class StudyThemeRecord(ThemeRecord, kw_only=True):
    """A theme of a study: a single run's theme plus each group's share and phrases.

    ``frames`` and ``representative_frames`` are rows of ``STUDY/frames.parquet``;
    ``share`` and ``seconds`` are over the whole study; ``spans`` is empty (each
    video's timeline is in the document's ``videos``).
    """

    group_shares: dict[str, ShareRecord]
    group_phrases: Annotated[
        dict[str, list[GroupPhraseRecord]],
        Meta(
            description=(
                "Per group, the phrases it says in this theme more than the others, less "
                "those another group says in its own language too (`said_by_both`)."
            )
        ),
    ]
    said_by_both: Annotated[
        list[SaidByBothRecord],
        Meta(
            description=(
                "Phrases left out of `group_phrases`: two groups of different languages say "
                "the same, each in its own; most alike first. Empty where nothing was matched."
            )
        ),
    ] = []
    group_p_value: Annotated[
        float | None,
        Meta(description="Do the groups' shares of this theme differ? Corrected p-value."),
    ] = None
    n_videos: Annotated[int, Meta(description="Videos with airtime in this theme.")] = 0


class GroupRecord(Record, kw_only=True):
    """One group of a study."""

    name: str
    n_videos: int
    seconds: float
    langs: list[str]


class GroupTestRecord(Record, kw_only=True):
    """Whether the groups' theme distributions differ."""

    method: str
    statistic: float
    p_value: float
    n_permutations: int
    correction: Annotated[
        str, Meta(description="How the per-theme p-values are corrected for many themes.")
    ] = ""


class VideoTimelineRecord(Record, kw_only=True):
    """One video's themes over time."""

    id: str
    group: str
    seconds: float
    shares: Annotated[list[float], Meta(description="Share of the video's time per theme.")]
    spans: Annotated[
        list[tuple[float, float, int]], Meta(description="(start_s, end_s, theme) in order.")
    ]
    novel_share: Annotated[
        float | None,
        Meta(
            description="For a video added to the fitted study: the share of its airtime in "
            "frames farther from every theme than the fit's novelty threshold. Null otherwise."
        ),
    ] = None


class TimeShareRecord(Record, kw_only=True):
    """One group's share of one theme in one time bin, with its interval over the bin's videos."""

    group: str
    start: Annotated[str, Meta(description="The bin's first day (ISO date).")]
    theme: int
    share: Annotated[
        float, Meta(description="Share of the airtime of the group's videos in the bin.")
    ]
    low: Annotated[
        float | None, Meta(description="Null when the bin holds one video of the group.")
    ] = None
    high: float | None = None
    n_videos: int


class OverTimeRecord(Record, kw_only=True):
    """The themes' shares over time, per group, from the corpus manifest's date column."""

    column: Annotated[str, Meta(description="The date column as the manifest names it.")]
    unit: Annotated[
        Literal["day", "week", "month"],
        Meta(description="Width of a bin, chosen by the span of the dates (weeks from Monday)."),
    ]
    bins: Annotated[
        list[str], Meta(description="First day of every bin, empty ones too, in order.")
    ]
    shares: Annotated[
        list[TimeShareRecord],
        Meta(description="One per group, bin holding videos of the group, and theme."),
    ]


class CovariateRecord(Record, kw_only=True):
    """A covariate of the effects' regression."""

    name: str
    kind: Literal["date", "numeric", "categorical"]
    levels: Annotated[
        list[str], Meta(description="A categorical covariate's levels; the first is the reference.")
    ] = []


class EffectRecord(Record, kw_only=True):
    """The effect of one term on a video's share of one theme."""

    theme: int
    term: Annotated[str, Meta(description="'outlet_type=state', 'group=CN', 'date' or 'size'.")]
    covariate: Annotated[str, Meta(description="The metadata column, or 'group'.")]
    level: str | None = None
    reference: Annotated[
        str | None, Meta(description="The level a categorical term is compared with.")
    ] = None
    unit: Annotated[
        str | None, Meta(description="The date's step ('week'); null for the other terms.")
    ] = None
    estimate: Annotated[
        float,
        Meta(description="Change in the share (0.12: 12 points) for the level, or per unit."),
    ]
    low: Annotated[
        float | None, Meta(description="Null when too few resamples could be fitted.")
    ] = None
    high: float | None = None
    significant: Annotated[bool, Meta(description="Whether the interval leaves out zero.")]
    sentence: Annotated[
        str | None,
        Meta(description="A significant effect in words, in points of airtime; null otherwise."),
    ] = None


class EffectsRecord(Record, kw_only=True):
    """What the covariates do to the themes' shares of a video."""

    model: Annotated[str, Meta(description="The regression, in words.")]
    covariates: list[CovariateRecord]
    n_videos: int
    n_bootstrap: int
    confidence_level: float
    effects: Annotated[list[EffectRecord], Meta(description="Theme by theme, term by term.")]


class NoveltyRecord(Record, kw_only=True):
    """How frames of videos added to a fitted study were found far from every theme."""

    threshold: Annotated[
        float,
        Meta(
            description="Distance (in the clustered feature space) beyond which an added "
            "frame is novel: the `percentile` of the fitted frames' distance to their own "
            "theme's centre."
        ),
    ]
    percentile: float
    n_added_videos: int
    n_added_frames: int
    n_novel_frames: int


class StudyThemesDocument(ThemesDocument, kw_only=True):
    """``STUDY/themes.json``: the study's themes, groups side by side."""

    themes: list[StudyThemeRecord]  # type: ignore[assignment]
    groups: list[GroupRecord]
    group_test: Annotated[
        GroupTestRecord | None, Meta(description="Null with fewer than two groups.")
    ] = None
    confidence_level: float = 0.95
    n_bootstrap: int = 0
    videos: list[VideoTimelineRecord] = []
    over_time: Annotated[
        OverTimeRecord | None,
        Meta(description="Null without a date column, or with one time bin (version 2)."),
    ] = None
    effects: Annotated[
        EffectsRecord | None, Meta(description="Null without covariates (version 2).")
    ] = None
    phrase_matching: Annotated[
        PhraseMatching | None,
        Meta(
            description=(
                "How the group phrases of groups in different languages were matched by "
                "meaning; null when they were not (one language, a monolingual embedder, or "
                "a study made before)."
            )
        ),
    ] = None
    novelty: Annotated[
        NoveltyRecord | None,
        Meta(description="Null until videos are added to the fitted study (`--into`)."),
    ] = None


def _read_study_document(path: Path, document_type: type[D], version: int | tuple[int, ...]) -> D:
    """Read one of a study's documents; both are written by `themescope corpus`."""
    return read_versioned(
        path,
        document_type,
        version,
        missing="run `themescope corpus` first",
        rewrite="rerun `themescope corpus --force` to rewrite it",
    )


def read_study_themes(path: str | Path) -> StudyThemesDocument:
    """Read and validate a study's ``themes.json``.

    Raises:
        DocumentError: Missing, not JSON, not matching the schema, or from a newer themescope.
    """
    return _read_study_document(Path(path), StudyThemesDocument, STUDY_THEMES_READS)


def read_study_videos(path: str | Path) -> StudyVideosDocument:
    """Read and validate a study's ``videos.json``.

    Raises:
        DocumentError: Missing, not JSON, not matching the schema, or from a newer themescope.
    """
    return _read_study_document(Path(path), StudyVideosDocument, STUDY_SCHEMA_VERSION)


def write_study(path: str | Path, document: StudyThemesDocument | StudyVideosDocument) -> None:
    """Write a study document atomically (indented UTF-8, non-ASCII kept)."""
    _write(Path(path), document)
