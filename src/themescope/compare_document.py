"""``compare.json`` as typed records: the joint comparison (3) and the pairwise one (1, 2).

One typed reader (:func:`read_compare`) and writer; the schema is generated from these
classes (``docs/schemas/compare.schema.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Generic, Literal, TypeVar

import msgspec
from msgspec import Meta

from themescope._versioned import read_versioned
from themescope.documents import (
    GLOSS_DESCRIPTION,
    WORD_BY_WORD_DESCRIPTION,
    BackendsRecord,
    GlossTranslator,
    PhraseMatching,
    PhraseSimilarity,
    Record,
    _write,
)

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

T = TypeVar("T")


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


GlossLanguage = Annotated[
    str | None, Meta(description="Language of the glosses ('en'); null when glosses are off.")
]
"""The field of a comparison's document that says which language its glosses are in."""


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
    similarity: PhraseSimilarity


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


class _CompareFileHead(Record, kw_only=True):
    """The fields every version of ``compare.json`` begins with: its version, who wrote it, when."""

    schema_version: int
    tool: str
    version: str
    created: Annotated[str, Meta(description="ISO-8601 time of writing.")]


class CompareDocument(_CompareFileHead, kw_only=True):
    """``compare.json`` 1 and 2: two runs' separately fitted themes, matched (read only)."""

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
    gloss_language: GlossLanguage = None
    warnings: list[str]


class JointPhrase(Record, kw_only=True):
    """A phrase one run says in a joint theme."""

    text: str
    gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    gloss_word_by_word: Annotated[bool, Meta(description=WORD_BY_WORD_DESCRIPTION)] = False


class SaidByBoth(Record, kw_only=True):
    """Two phrases, each said by another run in one theme, that say the same thing."""

    phrases: Annotated[
        dict[str, JointPhrase], Meta(description="Each of the two runs' phrase, by run name.")
    ]
    similarity: PhraseSimilarity


class JointTheme(Record, kw_only=True):
    """A theme of the joint clustering of every compared run."""

    id: int
    label: str
    label_gloss: Annotated[str | None, Meta(description=GLOSS_DESCRIPTION)] = None
    label_gloss_word_by_word: Annotated[bool, Meta(description=WORD_BY_WORD_DESCRIPTION)] = False
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


class JointCompareDocument(_CompareFileHead, kw_only=True):
    """``compare.json``: runs analysed jointly, what they share and where they differ."""

    runs: list[JointRun]
    min_share: float
    themes: Annotated[list[JointTheme], Meta(description="Largest first.")]
    phrase_matching: PhraseMatching
    gloss_language: GlossLanguage = None
    gloss_translator: GlossTranslator = None
    warnings: list[str]


class _CompareHeader(Record, kw_only=True):
    schema_version: int | None = None


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
