"""Compare the themes of two runs: shared themes, own themes, and what sets them apart.

Two videos on one event (a US and a Chinese news report, say) each have themes
from ``themescope themes``. :func:`compare_runs` scores every theme of run A
against every theme of run B in up to three ways, combines what is comparable,
matches themes one-to-one (Hungarian algorithm) and calls a matched pair
*shared* when its combined score reaches a threshold.

- **visual**: always available, also across languages and offline. Every frame
  of both runs becomes a small image descriptor (a 32×18 RGB thumbnail, a
  48-bin colour histogram and edge statistics), standardised within its run
  (which removes a broadcaster's overall colour grade); one PCA is fitted on the
  frames of both runs together (seeded), so both videos live in one visual space; a
  theme is the mean of its frames' unit vectors there; similarity is the cosine
  of two theme means.
- **text**: used only when it is meaningful: both runs in the same language, or
  a multilingual embedder (the default, multilingual-e5-small), or both runs
  tagged by an LLM in the same tag language. Basis ``frame-text``: the words of
  the theme's frames (transcript and on-screen lines) embedded whole, centred
  within their run, averaged, compared by cosine (:func:`_frame_text_matrix`).
  Basis ``phrases`` (runs without frame text) or ``llm-tags``: how far each
  theme's phrases are said by the other (:func:`phrase_text_matrix`); with LLM tags
  only themes whose phrases really came from the LLM, not from its fallback.
- **caption**: the mean embedding of the theme's BLIP captions (English in both
  runs), when both runs have captions.

``combined`` is the mean of the methods used (entries a method could not score
are left out of the mean).

``compare.json`` holds both runs' themes, their languages, which methods were
used and why, the similarity matrices (rows are run A's themes), the
one-to-one matching with scores, and per run the shared and own themes with the
phrases that set them apart. Its schema is
:class:`themescope.documents.CompareDocument`; ``docs/schemas/compare.schema.json``
is generated from it.

Phrases are compared by meaning, across languages (:func:`phrase_similarity`):
each run's phrases centred on their mean, and a Chinese phrase also through its
English gloss; two phrases from :data:`SAME_MEANING_SIMILARITY` say the same thing.
A shared theme's ``difference_phrases`` are its best phrases that nothing the
matched theme says (its phrases and its run's ``common`` ones) comes near, and
``said_by_both`` pairs the others with their counterparts; an own theme's
``difference_phrases`` are its best phrases that nothing in the other run comes
near: what makes it its own. The lists may be short or empty. Where phrases
cannot be compared (different languages, monolingual embedder) they are the
theme's own top phrases, and ``difference_basis`` is ``"own-ranking"``. Every
non-English phrase and label carries its English ``gloss`` (themes.json's, else
CC-CEDICT's; ``gloss_language=None`` turns them off).

The comparison is cut by job: reading the runs (:mod:`.runs`), the visual space
(:mod:`.visual`), phrases by meaning and difference phrases (:mod:`.phrases`), the
text and caption methods (:mod:`.text`), combining and matching (:mod:`.matching`),
and running it all into compare.json (:mod:`.stage`).

Example:
    >>> result = compare_runs("runs/us", "runs/cn", "runs/us-vs-cn")  # doctest: +SKIP
    >>> [(m.a, m.b) for m in result.document.matching if m.shared]  # doctest: +SKIP
    [(0, 1), (2, 0)]
"""

from themescope.themes.compare.stage import ComparisonResult, compare_runs
from themescope.themes.compare.text import phrase_text_matrix
from themescope.themes.compare.visual import visual_features
from themescope.themes.phrase_match import (
    SAME_MEANING_SIMILARITY,
    embed_phrases,
    phrase_similarity,
)

__all__ = [
    "SAME_MEANING_SIMILARITY",
    "ComparisonResult",
    "compare_runs",
    "embed_phrases",
    "phrase_similarity",
    "phrase_text_matrix",
    "visual_features",
]
