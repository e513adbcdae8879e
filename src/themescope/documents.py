"""The JSON documents themescope writes, as typed classes.

A run's ``themes.json``, a comparison's ``compare.json``, and a study's ``themes.json``
and ``videos.json``. Each document is a tree of :class:`msgspec.Struct` records. The
classes are the single source of the schema: the writers build them, every reader gets
them back from :func:`read_themes`, :func:`read_compare`, :func:`read_study_themes` or
:func:`read_study_videos` (which validate types and required fields while decoding), and
the JSON Schemas in ``docs/schemas/`` (:data:`SCHEMA_FILES`) are generated from them
(``python scripts/gen_schemas.py``; a test fails when the committed files differ).

Versioning: every document carries ``schema_version``. A reader refuses a
newer version with a line that says to upgrade themescope; a damaged file gives
one line naming the file and the JSON path of what is wrong. A new field with a
default (``gloss: str | None = None``) reads older files of the same version,
and older themescopes ignore it, so adding an optional field needs no new
version; removing or retyping a field, or changing what a field means, does.
A reader lists the older versions it still reads (:data:`COMPARE_READS`):
compare.json 1 reads as 2 with the new fields empty.

Example:
    >>> doc = read_themes("runs/us/themes.json")  # doctest: +SKIP
    >>> doc.k, doc.themes[0].label, doc.themes[0].phrases[0].evidence.quotes[:1]  # doctest: +SKIP
    (3, 'vaccination site', ['Nurses give the booster at the clinic.'])
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import Meta

from themescope._atomic import atomic_path
from themescope._versioned import read_versioned

THEMES_SCHEMA_VERSION = 1
COMPARE_SCHEMA_VERSION = 3
"""3: the runs are analysed jointly (:class:`JointCompareDocument`): one model and one
clustering over the frames of every run, each theme with every run's share of its
airtime and what each run says in it. 2 (:class:`CompareDocument`, separately fitted
themes matched one to one): difference phrases are found by meaning across languages
(phrases centred per run, Chinese also through its English gloss, one measured
threshold), so their
``similarity_to_other`` and the text matrix are on a new scale; every non-English
phrase and label carries its ``gloss``; a shared theme lists what both sides say."""
COMPARE_READS = (1, 2, 3)
"""compare.json versions this themescope reads (1: without glosses or ``said_by_both``)."""
PAIRWISE_COMPARE_VERSIONS = (1, 2)
"""compare.json versions that matched two runs' own themes (:class:`CompareDocument`)."""
STUDY_SCHEMA_VERSION = 1
"""Version of a study's ``videos.json``."""
STUDY_THEMES_SCHEMA_VERSION = 2
"""Version of a study's ``themes.json``. 2: the themes' shares over time (``over_time``)
and the covariates' effects (``effects``)."""
STUDY_THEMES_READS = (1, 2)
"""Study themes.json versions this themescope reads (1: without over_time and effects)."""

T = TypeVar("T")


class Record(msgspec.Struct, kw_only=True):
    """Base of every record.

    Unknown keys are ignored on read, so an older reader accepts a newer optional
    field. Each subclass repeats ``kw_only=True`` (msgspec does not inherit it),
    so that fields keep the order of the file whatever their defaults.
    """


# --------------------------------------------------------------------------- themes.json


class KRow(Record, kw_only=True):
    """One k evaluated while choosing k (a row of ``k_selection.table``).

    Metrics are None where they are not defined (a silhouette needs k >= 2, the
    elbow needs k - 1 and k + 1, a user-given k has no score).
    """

    k: int
    mean_dist_to_centroid: float | None = None
    mean_centroid_dist: float | None = None
    silhouette: float | None = None
    bootstrap_stability: float | None = None
    large_cluster_stability: Annotated[
        float | None,
        Meta(description="Share of the k clusters' frames that stay together at k + 1."),
    ] = None
    elbow: float | None = None
    score: Annotated[float | None, Meta(description="Combined score the choice was made on.")] = (
        None
    )
    sizes: Annotated[list[int], Meta(description="Cluster sizes, largest first.")]


class KSelectionRecord(Record, kw_only=True):
    """How k was chosen."""

    method: Annotated[
        str,
        Meta(description="'auto', 'user' (k given), or 'lowered' (fewer frames than k asked for)."),
    ]
    range: Annotated[
        tuple[int, int], Meta(description="The range searched, as asked for ([k, k] for a user k).")
    ]
    chosen: int
    reason: Annotated[str, Meta(description="One sentence with the numbers behind the choice.")]
    table: Annotated[
        list[KRow],
        Meta(description="One row per k evaluated; empty when there was nothing to choose."),
    ]


class CaptionerBackend(Record, kw_only=True):
    """The captioner that described the frames ("none" without one)."""

    name: str
    model: str | None = None


class TaggerBackend(Record, kw_only=True, omit_defaults=True):
    """The tagger: its name, and for an LLM its client backend, model and tag language."""

    name: str
    backend: str | None = None
    model: str | None = None
    language: str | None = None


class EmbedderBackend(Record, kw_only=True):
    """The phrase embedder (its folder when known)."""

    name: str
    path: str | None = None


class BackendsRecord(Record, kw_only=True):
    """The components the themes stage used."""

    captioner: CaptionerBackend
    tagger: TaggerBackend
    embedder: EmbedderBackend
    cluster: Annotated[
        str,
        Meta(
            description="K-means backend of the final clustering: 'sklearn', 'faiss' or 'trivial'."
        ),
    ]


class ProjectionRecord(Record, kw_only=True):
    """2-D coordinates of every frame, for the map."""

    method: Annotated[str, Meta(description="'tsne', 'tsne-subsample' or 'trivial'.")]
    perplexity: float | None
    n_fitted: Annotated[int, Meta(description="How many points t-SNE was fitted on.")]
    points: Annotated[list[tuple[float, float]], Meta(description="Row i is frame_id i.")]


class EvidenceRecord(Record, kw_only=True):
    """What in the theme's frames supports a phrase."""

    frame_ids: list[int]
    quotes: Annotated[
        list[str], Meta(description="Transcript lines of those frames that contain the phrase.")
    ]
    captions: list[str]
    support: Annotated[
        float, Meta(description="Share of the theme's frames that support the phrase, in [0, 1].")
    ]
    on_screen: Annotated[
        list[str],
        Meta(description="Lines shown on screen (headlines, burned-in captions) that contain it."),
    ] = []


WORD_BY_WORD_DESCRIPTION = (
    "True when the gloss is word by word: some word is not in the dictionary and is "
    "glossed by its parts or its pinyin, so the gloss may miss what is meant."
)


class PhraseRecord(Record, kw_only=True):
    """One phrase describing a theme, with its evidence."""

    text: str
    score: float
    supported: Annotated[
        bool, Meta(description="False when nothing in the theme's frames supports the phrase.")
    ]
    evidence: EvidenceRecord
    gloss: Annotated[
        str | None,
        Meta(description="English gloss of a non-English phrase (CC-CEDICT); null if none."),
    ] = None
    gloss_word_by_word: Annotated[bool, Meta(description=WORD_BY_WORD_DESCRIPTION)] = False


class RoleRecord(Record, kw_only=True, omit_defaults=True):
    """What a person is: the position or affiliation a name strap or an introduction gives."""

    text: Annotated[
        str, Meta(description="As shown or said ('主持人', 'CBS reporter', an affiliation).")
    ]
    gloss: Annotated[
        str | None, Meta(description="English gloss of a non-English role; null if none.")
    ] = None
    gloss_word_by_word: Annotated[bool, Meta(description=WORD_BY_WORD_DESCRIPTION)] = False


class TaggerRecord(Record, kw_only=True):
    """Which tagger described this theme (an LLM's fallback is recorded with its reason)."""

    backend: str
    model: str | None = None
    prompt: str | None = None
    fallback_reason: str | None = None


class ThemeStabilityRecord(Record, kw_only=True):
    """How often a theme comes back when the clustering is refitted with other seeds."""

    recurrence: Annotated[
        float,
        Meta(
            description=(
                "Share of the refits with a cluster whose frames overlap the theme's with "
                "Jaccard >= `stability.same_theme_jaccard`, in [0, 1]."
            )
        ),
    ]
    mean_jaccard: Annotated[
        float, Meta(description="Mean over the refits of the best Jaccard overlap, in [0, 1].")
    ]
    unstable: Annotated[bool, Meta(description="recurrence is below `stability.unstable_below`.")]


class StabilityRecord(Record, kw_only=True):
    """The clustering refitted with other seeds at the same k: how much of it comes back."""

    n_refits: int
    seeds: Annotated[list[int], Meta(description="The refits' seeds, derived from the run's.")]
    mean_ari: Annotated[
        float, Meta(description="Mean adjusted Rand index of the refits against the themes.")
    ]
    min_ari: float
    same_theme_jaccard: Annotated[
        float, Meta(description="Overlap from which a refit's cluster counts as the theme.")
    ]
    unstable_below: Annotated[
        float, Meta(description="A theme with a lower recurrence is flagged unstable.")
    ]
    unstable: Annotated[list[int], Meta(description="Ids of the unstable themes.")]


class ThemeRecord(Record, kw_only=True):
    """One theme: its frames, time, and the phrases that explain it."""

    id: Annotated[int, Meta(description="0..k-1, largest theme first.")]
    label: Annotated[
        str,
        Meta(
            description=(
                "A short title: the on-screen headline that holds the theme's best phrases, "
                "else its top phrase ('theme N' without phrases)."
            )
        ),
    ]
    frames: list[int]
    n_frames: int
    share: Annotated[
        float,
        Meta(
            description=(
                "Share of the video's time, in [0, 1]. Black or blank frames are in no theme, "
                "so the themes' shares add up to 1 minus `blank.share`."
            )
        ),
    ]
    seconds: float
    spans: Annotated[
        list[tuple[float, float]],
        Meta(description="(start_s, end_s) of each run of consecutive frames."),
    ]
    representative_frames: Annotated[
        list[int],
        Meta(description="Typical frames spread over the video, closest to the centroid first."),
    ]
    phrases: Annotated[
        list[PhraseRecord],
        Meta(description="What sets this theme apart, best first (no phrase of `common`)."),
    ]
    phrases_note: Annotated[
        str | None, Meta(description="Why there are fewer phrases than asked for, if there are.")
    ] = None
    people: Annotated[
        list[str],
        Meta(
            description=(
                "People named in the theme (presenters, reporters, experts), most mentioned "
                "first; kept apart from the phrases, which say what the theme is about."
            )
        ),
    ] = []
    roles: Annotated[
        dict[str, RoleRecord],
        Meta(
            description=(
                "The role of people in `people`, by name, where a name strap on screen or "
                "the words that introduce them give one."
            )
        ),
    ] = {}
    tagger: TaggerRecord
    label_gloss: Annotated[
        str | None, Meta(description="English gloss of a non-English label; null if none.")
    ] = None
    label_gloss_word_by_word: Annotated[bool, Meta(description=WORD_BY_WORD_DESCRIPTION)] = False
    stability: Annotated[
        ThemeStabilityRecord | None,
        Meta(description="How often the theme comes back with other seeds; null when not run."),
    ] = None
    researcher_label: Annotated[
        str | None,
        Meta(description="The label the researcher gave in codebook.toml; null without one."),
    ] = None
    merges: Annotated[
        list[int],
        Meta(description="Automatic themes the codebook merged into this one (besides `id`)."),
    ] = []
    note: Annotated[str | None, Meta(description="The researcher's note in codebook.toml.")] = None


class CodebookRecord(Record, kw_only=True):
    """The researcher's codebook applied to the automatic themes (``codebook.toml``)."""

    path: Annotated[str, Meta(description="The codebook's file name in the folder.")]
    sha256: Annotated[str, Meta(description="Hash of the codebook file that was applied.")]
    dropped: Annotated[
        list[int], Meta(description="Automatic themes set aside, like black frames.")
    ] = []
    dropped_frames: Annotated[
        list[int], Meta(description="Their frames (theme -1 in frames.parquet).")
    ] = []
    dropped_share: Annotated[
        float, Meta(description="Share of the airtime the dropped themes stood for.")
    ] = 0.0
    dropped_seconds: float = 0.0


class BlankRecord(Record, kw_only=True):
    """The black or blank frames of the run: left out of clustering, in no theme."""

    frames: Annotated[list[int], Meta(description="Their frame ids (theme -1 in frames.parquet).")]
    n_frames: int
    share: Annotated[
        float, Meta(description="Share of the video's time they stand for, in [0, 1].")
    ]
    seconds: float
    spans: Annotated[
        list[tuple[float, float]],
        Meta(description="(start_s, end_s) of each run of consecutive blank frames."),
    ]


class ThemesDocument(Record, kw_only=True):
    """``RUN/themes.json``: the themes of one run (written by the themes stage)."""

    schema_version: int
    k: int
    k_selection: KSelectionRecord
    backends: BackendsRecord
    projection: ProjectionRecord
    themes: list[ThemeRecord]
    common: Annotated[
        list[PhraseRecord],
        Meta(
            description=(
                "What the whole video is about: phrases said in every theme, best first, "
                "with evidence from all frames."
            )
        ),
    ] = []
    blank: Annotated[
        BlankRecord | None,
        Meta(
            description=(
                "The black or blank frames (n_frames 0 when there are none); null for a run "
                "ingested before they were detected."
            )
        ),
    ] = None
    stability: Annotated[
        StabilityRecord | None,
        Meta(description="The clustering refitted with other seeds; null when not run."),
    ] = None
    codebook: Annotated[
        CodebookRecord | None,
        Meta(description="The researcher's codebook these themes follow; null without one."),
    ] = None
    warnings: list[str]


# --------------------------------------------------------------------------- compare.json


class Pair(Record, Generic[T], kw_only=True):
    """One value for run A and one for run B."""

    a: T
    b: T


class Languages(Record, kw_only=True):
    """The runs' languages."""

    a: str
    b: str
    same: bool


class CompareEmbedder(Record, kw_only=True):
    """The phrase embedder of the text and caption methods."""

    name: str
    path: str | None = None
    multilingual: bool
    multilingual_reason: str


class Method(Record, kw_only=True):
    """One way of scoring theme pairs, and why it was or was not used."""

    name: Literal["visual", "text", "caption"]
    used: bool
    basis: Annotated[
        str | None,
        Meta(description="'frames', 'phrases', 'llm-tags' or 'captions'; null when not used."),
    ] = None
    reason: str


class VisualSpace(Record, kw_only=True):
    """The shared PCA space the visual method compares frames in."""

    features: str
    n_components: int
    explained_variance: float | None = None
    n_frames: Pair[int]
    n_missing_images: Pair[int]
    seed: int


# One row per theme of run A, one column per theme of run B; cosines, None where not scored.
Matrix = list[list[float | None]]


class Matrices(Record, kw_only=True):
    """The similarity matrices; a method that did not run has None."""

    text: Matrix | None = None
    caption: Matrix | None = None
    visual: Matrix | None = None
    combined: Annotated[
        Matrix, Meta(description="Mean of the methods used (entries no method scored are null).")
    ]


class MethodScores(Record, kw_only=True):
    """One pair's score by each method (None: not scored)."""

    text: float | None = None
    caption: float | None = None
    visual: float | None = None


class Match(Record, kw_only=True):
    """A one-to-one match of a theme of A with a theme of B."""

    a: int
    b: int
    score: float
    shared: Annotated[bool, Meta(description="The combined score reaches the threshold.")]
    scores: MethodScores


GLOSS_DESCRIPTION = "English gloss of a non-English phrase (CC-CEDICT); null if none."


class ScoredPhrase(Record, kw_only=True):
    """A phrase and its score."""

    text: str
    score: float
    gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class CompareTheme(Record, kw_only=True):
    """A theme of a compared run, as the comparison page shows it."""

    id: int
    label: str
    share: float
    seconds: float
    n_frames: int
    representative_frames: list[int]
    representative_images: Annotated[
        list[str], Meta(description="Image paths relative to the run directory.")
    ]
    tagger_backend: str
    phrases: list[ScoredPhrase]
    label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class CompareRun(Record, kw_only=True):
    """One compared run."""

    path: Annotated[str, Meta(description="Absolute path of the run directory.")]
    video: str | None = None
    lang: str
    k: int
    n_frames: int
    duration_s: float | None = None
    backends: BackendsRecord
    themes: list[CompareTheme]


class DifferencePhrase(Record, kw_only=True):
    """A phrase that sets a theme apart from the other run: the other side says nothing like it."""

    text: str
    score: float
    similarity_to_other: Annotated[
        float | None,
        Meta(
            description=(
                "Similarity to the closest phrase on the other side (see `phrase_matching`), "
                "below its threshold; null for 'own-ranking'."
            )
        ),
    ] = None
    gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    closest: Annotated[
        str | None,
        Meta(description="The closest phrase on the other side; null for 'own-ranking'."),
    ] = None
    closest_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class PhrasePair(Record, kw_only=True):
    """A phrase of a theme and the phrase of the matched theme that says the same."""

    text: str
    gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    other: Annotated[str, Meta(description="The matched theme's phrase closest in meaning.")]
    other_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    similarity: Annotated[
        float,
        Meta(description="Their similarity (see `phrase_matching`), at its threshold or above."),
    ]


class SharedTheme(Record, kw_only=True):
    """A theme matched with a theme of the other run."""

    theme: int
    label: str
    with_: Annotated[int, Meta(description="The matched theme of the other run.")] = msgspec.field(
        name="with"
    )
    with_label: str
    score: float
    difference_basis: Literal["text", "own-ranking"]
    difference_phrases: Annotated[
        list[DifferencePhrase],
        Meta(description="What this side says that the matched theme does not, best first."),
    ]
    said_by_both: Annotated[
        list[PhrasePair],
        Meta(
            description=(
                "This theme's phrases the matched theme also says (by meaning, across "
                "languages), best first; empty for 'own-ranking'."
            )
        ),
    ] = []
    label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    with_label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class BestMatch(Record, kw_only=True):
    """The closest theme of the other run (below the threshold)."""

    theme: int
    score: float


class OwnTheme(Record, kw_only=True):
    """A theme with no counterpart in the other run."""

    theme: int
    label: str
    best_match: BestMatch | None = None
    difference_basis: Literal["text", "own-ranking"]
    difference_phrases: Annotated[
        list[DifferencePhrase],
        Meta(description="What makes it its own: its phrases the other run says nothing like."),
    ]
    label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class PerRun(Record, kw_only=True):
    """One run's shared and own themes."""

    shared: list[SharedTheme]
    own: list[OwnTheme]


class PhraseMatching(Record, kw_only=True):
    """How two phrases are found to say the same thing (what difference phrases are measured by)."""

    method: Annotated[str, Meta(description="The similarity of two phrases, in words.")]
    same_meaning_from: Annotated[
        float, Meta(description="Similarity from which two phrases count as saying the same.")
    ]
    glosses: Annotated[
        bool, Meta(description="Whether a non-English phrase is also compared through its gloss.")
    ]


class CompareDocument(Record, kw_only=True):
    """``compare.json`` 1 and 2: two runs' separately fitted themes, matched (read only)."""

    schema_version: int
    tool: str
    version: str
    created: Annotated[str, Meta(description="ISO-8601 time of writing.")]
    runs: Pair[CompareRun]
    languages: Languages
    embedder: Annotated[
        CompareEmbedder | None,
        Meta(description="null when no text or caption method ran (no model was loaded)."),
    ] = None
    text_comparable: bool
    text_comparable_reason: str
    methods: list[Method]
    visual_space: VisualSpace
    matrices: Matrices
    threshold: float
    matching: Annotated[
        list[Match], Meta(description="Matched pairs, highest combined score first.")
    ]
    per_run: Pair[PerRun]
    phrase_matching: Annotated[
        PhraseMatching | None,
        Meta(description="null when phrases were not compared (their own ranking is shown)."),
    ] = None
    gloss_language: Annotated[
        str | None,
        Meta(description="Language of the glosses ('en'); null when glosses are off."),
    ] = None
    warnings: list[str]


class JointPhrase(Record, kw_only=True):
    """A phrase one run says in a joint theme."""

    text: str
    gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None


class SaidByBoth(Record, kw_only=True):
    """Two phrases, each said by another run in one theme, that say the same thing."""

    phrases: Annotated[
        dict[str, JointPhrase], Meta(description="Each of the two runs' phrase, by run name.")
    ]
    similarity: Annotated[
        float,
        Meta(description="Their similarity (see `phrase_matching`), at its threshold or above."),
    ]


class JointTheme(Record, kw_only=True):
    """A theme of the joint clustering of every compared run."""

    id: int
    label: str
    label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    shares: Annotated[
        dict[str, float], Meta(description="Each run's share of its own airtime in the theme.")
    ]
    shared: Annotated[
        bool, Meta(description="Every run gives it at least `min_share` of its airtime.")
    ]
    n_frames: int
    representative_images: Annotated[
        list[str], Meta(description="Image paths relative to the comparison's folder.")
    ]
    phrases: Annotated[
        dict[str, list[JointPhrase]],
        Meta(description="What each run says in the theme, best first, by run name."),
    ]
    said_by_both: Annotated[
        list[SaidByBoth],
        Meta(description="Phrases of two runs that say the same thing (across languages)."),
    ]
    only: Annotated[
        dict[str, list[JointPhrase]],
        Meta(description="Each run's phrases of the theme that no other run says anywhere."),
    ]


class JointRun(Record, kw_only=True):
    """One compared run."""

    name: Annotated[str, Meta(description="Its folder's name; its key in every theme.")]
    path: Annotated[str, Meta(description="Absolute path of the run directory.")]
    lang: str
    ingest_fingerprint: str
    n_frames: int
    seconds: float


class JointCompareDocument(Record, kw_only=True):
    """``compare.json``: runs analysed jointly, what they share and where they differ."""

    schema_version: int
    tool: str
    version: str
    created: Annotated[str, Meta(description="ISO-8601 time of writing.")]
    runs: list[JointRun]
    min_share: float
    themes: Annotated[list[JointTheme], Meta(description="Largest first.")]
    phrase_matching: PhraseMatching
    gloss_language: Annotated[
        str | None,
        Meta(description="Language of the glosses ('en'); null when glosses are off."),
    ] = None
    warnings: list[str]


class _CompareHeader(Record, kw_only=True):
    schema_version: int | None = None


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
    similarity: Annotated[
        float,
        Meta(description="Their similarity (see `phrase_matching`), at its threshold or above."),
    ]


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


def read_themes(path: str | Path) -> ThemesDocument:
    """Read and validate ``themes.json``.

    Raises:
        DocumentError: The file is missing, is not JSON, does not match the
            schema, or was written by a newer themescope.
    """
    return read_versioned(
        Path(path),
        ThemesDocument,
        (THEMES_SCHEMA_VERSION,),
        missing="run `themescope themes` first",
        rewrite="rerun `themescope themes --force` to rewrite it",
    )


def write_themes(path: str | Path, document: ThemesDocument) -> None:
    """Write ``themes.json`` atomically (indented UTF-8, non-ASCII kept)."""
    _write(Path(path), document)


def read_compare(path: str | Path) -> JointCompareDocument | CompareDocument:
    """Read and validate ``compare.json``.

    A file of an older version in :data:`COMPARE_READS` is read with the fields it
    lacks left empty; its ``schema_version`` says which it was, and a version in
    :data:`PAIRWISE_COMPARE_VERSIONS` is read as a :class:`CompareDocument`.

    Raises:
        DocumentError: The file is missing, is not JSON, does not match the
            schema, or was written by a newer themescope.
    """
    how = {
        "missing": "run `themescope compare` first",
        "rewrite": "rerun `themescope compare` to rewrite it",
    }
    found = read_versioned(Path(path), _CompareHeader, COMPARE_READS, **how).schema_version
    if found in PAIRWISE_COMPARE_VERSIONS:
        return read_versioned(Path(path), CompareDocument, PAIRWISE_COMPARE_VERSIONS, **how)
    return read_versioned(Path(path), JointCompareDocument, COMPARE_SCHEMA_VERSION, **how)


def write_compare(path: str | Path, document: JointCompareDocument) -> None:
    """Write ``compare.json`` atomically (indented UTF-8, non-ASCII kept)."""
    _write(Path(path), document)


def read_study_themes(path: str | Path) -> StudyThemesDocument:
    """Read and validate a study's ``themes.json``.

    Raises:
        DocumentError: Missing, not JSON, not matching the schema, or from a newer themescope.
    """
    return read_versioned(
        Path(path),
        StudyThemesDocument,
        STUDY_THEMES_READS,
        missing="run `themescope corpus` first",
        rewrite="rerun `themescope corpus --force` to rewrite it",
    )


def read_study_videos(path: str | Path) -> StudyVideosDocument:
    """Read and validate a study's ``videos.json``.

    Raises:
        DocumentError: Missing, not JSON, not matching the schema, or from a newer themescope.
    """
    return read_versioned(
        Path(path),
        StudyVideosDocument,
        STUDY_SCHEMA_VERSION,
        missing="run `themescope corpus` first",
        rewrite="rerun `themescope corpus --force` to rewrite it",
    )


def write_study(path: str | Path, document: StudyThemesDocument | StudyVideosDocument) -> None:
    """Write a study document atomically (indented UTF-8, non-ASCII kept)."""
    _write(Path(path), document)


SCHEMA_FILES: dict[str, type[Record]] = {
    "themes.schema.json": ThemesDocument,
    "compare.schema.json": JointCompareDocument,
    "study-themes.schema.json": StudyThemesDocument,
    "study-videos.schema.json": StudyVideosDocument,
}
"""The JSON Schema files in ``docs/schemas/`` and the class each is generated from."""


def schema_text(document_type: type[Record]) -> str:
    """Return the JSON Schema of a document class as the text of its file in ``docs/schemas/``."""
    schema: dict[str, Any] = msgspec.json.schema(document_type)
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _write(path: Path, document: Record) -> None:
    text = msgspec.json.format(msgspec.json.encode(document), indent=2)
    with atomic_path(path) as tmp:
        tmp.write_bytes(text + b"\n")
