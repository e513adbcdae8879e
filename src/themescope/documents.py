"""The JSON documents themescope writes, as typed classes: a run's ``themes.json`` here.

A comparison's ``compare.json`` is in :mod:`themescope.compare_document`, a study's
``themes.json`` and ``videos.json`` in :mod:`themescope.study_documents`; their records
build on :class:`Record` and the theme records here. Each document is a tree of
:class:`msgspec.Struct` records. The classes are the single source of the schema: the
writers build them, every reader gets them back from its one typed reader
(:func:`read_themes`, ``read_compare``, ``read_study_themes``, ``read_study_videos``),
which validates types and required fields while decoding, and the JSON Schemas in
``docs/schemas/`` (:mod:`themescope.schemas`) are generated from them
(``python scripts/gen_schemas.py``; a test fails when the committed files differ).

Versioning: every document carries ``schema_version``. A reader refuses a
newer version with a line that says to upgrade themescope; a damaged file gives
one line naming the file and the JSON path of what is wrong. A new field with a
default (``gloss: str | None = None``) reads older files of the same version,
and older themescopes ignore it, so adding an optional field needs no new
version; removing or retyping a field, or changing what a field means, does.
A reader lists the older versions it still reads (``COMPARE_READS``):
compare.json 1 reads as 2 with the new fields empty.

Example:
    >>> doc = read_themes("runs/us/themes.json")  # doctest: +SKIP
    >>> doc.k, doc.themes[0].label, doc.themes[0].phrases[0].evidence.quotes[:1]  # doctest: +SKIP
    (3, 'vaccination site', ['Nurses give the booster at the clinic.'])
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from themescope._atomic import atomic_path
from themescope._versioned import read_versioned

THEMES_SCHEMA_VERSION = 1


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


class TranslatorBackend(Record, kw_only=True):
    """The machine translator whose translations are the glosses (``--translator``)."""

    name: str
    model: Annotated[str, Meta(description="Its local model folder.")]


GlossTranslator = Annotated[
    TranslatorBackend | None,
    Meta(description="What translated the glosses; null: CC-CEDICT's dictionary glosses."),
]
"""The field of a document that says which machine translator made its glosses."""


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
    translator: GlossTranslator = None


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


GLOSS_DESCRIPTION = (
    "English gloss of a non-English phrase (CC-CEDICT, or the translator's); null if none."
)
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
        Meta(description=GLOSS_DESCRIPTION),
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
    refit: Annotated[
        Literal["clustering", "model"],
        Meta(
            description=(
                "What each seed refitted: `clustering` (K-means on the same latents) or "
                "`model` (the CRVAE retrained with the seed, every frame encoded again, "
                "then K-means)."
            )
        ),
    ] = "clustering"


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


class PhraseMatching(Record, kw_only=True):
    """How two phrases are found to say the same thing (what difference phrases are measured by)."""

    method: Annotated[str, Meta(description="The similarity of two phrases, in words.")]
    same_meaning_from: Annotated[
        float, Meta(description="Similarity from which two phrases count as saying the same.")
    ]
    glosses: Annotated[
        bool, Meta(description="Whether a non-English phrase is also compared through its gloss.")
    ]


PhraseSimilarity = Annotated[
    float,
    Meta(description="Their similarity (see `phrase_matching`), at its threshold or above."),
]
"""The field of a record of two phrases that say the same thing: how alike they are."""


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


def _write(path: Path, document: Record) -> None:
    text = msgspec.json.format(msgspec.json.encode(document), indent=2)
    with atomic_path(path) as tmp:
        tmp.write_bytes(text + b"\n")
