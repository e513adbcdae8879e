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
- **text**: the theme's phrases embedded with the phrase embedder, averaged with
  their scores as weights, compared by cosine. Used only when it is meaningful:
  both runs in the same language, or a multilingual embedder, or both runs
  tagged by an LLM in the same tag language (then only themes whose phrases
  really came from the LLM, not from its fallback, are compared).
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

Difference phrases of a shared theme are its phrases least similar to any phrase
of the matched theme; those of an own theme are its phrases least similar to any
phrase of the other run. Phrases with a near-twin on the other side (cosine
>= 0.85) are not differences and are left out, so the list may be short or
empty. Where phrases cannot be compared (different languages, monolingual
embedder) they are the theme's own top phrases, and ``difference_basis`` is
``"own-ranking"``.

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

from themescope import __version__
from themescope._progress import track
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
    ScoredPhrase,
    SharedTheme,
    ThemeRecord,
    VisualSpace,
    read_themes,
    write_compare,
)
from themescope.errors import ConfigError, RunDirectoryError
from themescope.manifest import Manifest
from themescope.rundir import RunDirectory
from themescope.themes.base import PhraseEmbedder

logger = logging.getLogger("themescope")

COMPARE_NAME = "compare.json"
OUTPUT_NAMES = frozenset({COMPARE_NAME, "compare.html"})
"""Files ``--out`` may already hold without --force (earlier comparisons)."""

MULTILINGUAL_MARKERS = ("multilingual", "labse", "distiluse")
"""Model names containing one of these are taken as multilingual embedders."""

THUMB_WIDTH, THUMB_HEIGHT = 32, 18
N_HIST_BINS = 16
N_DIFFERENCE_PHRASES = 5
SAME_PHRASE_SIMILARITY = 0.85
"""A phrase this close (cosine) to one of the other theme's is shared, not a difference."""
MAX_CAPTIONS_PER_THEME = 64
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
        manifest: The run's manifest.

    """

    path: Path
    lang: str
    themes: list[ThemeRecord]
    backends: BackendsRecord
    images: list[str]
    captions: list[str] | None
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
    force: bool = False,
) -> ComparisonResult:
    """Compare the themes of two runs and write ``out_dir/compare.json``.

    Args:
        run_a: First run directory (with a finished themes stage).
        run_b: Second run directory.
        out_dir: Folder for compare.json; created if needed.
        embedder: Phrase embedder, or the name/path given to ``load_embedder``
            (None: the bundled all-MiniLM-L6-v2). Loaded only when a text method runs.
        multilingual: Treat the embedder as multilingual even if its name does not say so.
        threshold: Combined similarity from which a matched pair counts as shared.
        seed: Seed of the PCA of the visual space.
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
    out = Path(out_dir)
    _check_out_dir(out, force)
    a, b = load_run_themes(run_a), load_run_themes(run_b)
    if embedder is None or isinstance(embedder, str):
        from themescope.themes.embedders import load_embedder

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
        loaded = _load_embedder(embedder)
        from themescope.themes.embedders import embedder_info

        info = embedder_info(loaded)
        name, path = info["name"] or name, info["path"] or path
        is_multi, multi_reason = _is_multilingual(name, path, multilingual)
        embedder_record = CompareEmbedder(
            name=name, path=path, multilingual=is_multi, multilingual_reason=multi_reason
        )

    text: np.ndarray | None = None
    phrase_vectors: dict[tuple[str, int], tuple[list[str], np.ndarray]] = {}
    if text_basis is not None and loaded is not None:
        text, phrase_vectors = _text_matrix(a, b, loaded, llm_only=text_basis == "llm-tags")
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
        a=_per_run(a, b, "a", matching, combined, phrase_vectors),
        b=_per_run(b, a, "b", matching, combined, phrase_vectors),
    )
    if text_basis is None:
        warnings.append(f"text similarity not used: {text_reason}")

    document = CompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=Pair(a=_run_record(a), b=_run_record(b)),
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
        backends=document.backends,
        images=images,
        captions=captions,
        manifest=manifest,
    )


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


def _theme_phrases(theme: ThemeRecord) -> tuple[list[str], np.ndarray]:
    texts, scores = [], []
    for phrase in theme.phrases:
        text = phrase.text.strip()
        if text:
            texts.append(text)
            scores.append(phrase.score)
    return texts, np.asarray(scores, dtype=np.float64)


def _text_matrix(
    a: RunThemes, b: RunThemes, embedder: PhraseEmbedder, *, llm_only: bool
) -> tuple[np.ndarray, dict[tuple[str, int], tuple[list[str], np.ndarray]]]:
    vectors: dict[tuple[str, int], tuple[list[str], np.ndarray]] = {}
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        for position, theme in enumerate(run.themes):
            texts, scores = _theme_phrases(theme)
            if not texts or (llm_only and not theme.tagger.backend.startswith("llm")):
                means[key].append(None)
                continue
            embedded = np.asarray(embedder.embed(texts), dtype=np.float64)
            vectors[(key, position)] = (texts, embedded)
            weights = np.clip(scores, 0.0, None)
            if weights.sum() <= 0:
                weights = np.ones(len(texts))
            means[key].append((weights[:, None] * embedded).sum(axis=0) / weights.sum())
    return _cosine_matrix(means["a"], means["b"]), vectors


def _caption_matrix(a: RunThemes, b: RunThemes, embedder: PhraseEmbedder) -> np.ndarray:
    means: dict[str, list[np.ndarray | None]] = {"a": [], "b": []}
    for key, run in (("a", a), ("b", b)):
        assert run.captions is not None
        for theme in run.themes:
            captions = list(
                dict.fromkeys(
                    run.captions[f].strip() for f in theme.frames if run.captions[f].strip()
                )
            )
            if len(captions) > MAX_CAPTIONS_PER_THEME:
                step = len(captions) / MAX_CAPTIONS_PER_THEME
                captions = [captions[int(i * step)] for i in range(MAX_CAPTIONS_PER_THEME)]
            if not captions:
                means[key].append(None)
                continue
            means[key].append(np.asarray(embedder.embed(captions), dtype=np.float64).mean(axis=0))
    return _cosine_matrix(means["a"], means["b"])


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
    vectors: dict[tuple[str, int], tuple[list[str], np.ndarray]],
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
    other_all = [
        vectors[(other_key, j)][1] for j in range(len(other.themes)) if (other_key, j) in vectors
    ]
    for position, theme in enumerate(run.themes):
        label = _label(theme)
        mine = vectors.get((key, position))
        if position in partner:
            j, score = partner[position]
            against = vectors.get((other_key, j))
            basis, phrases = _difference(theme, mine, [against[1]] if against else [])
            result.shared.append(
                SharedTheme(
                    theme=position,
                    label=label,
                    with_=j,
                    with_label=_label(other.themes[j]),
                    score=score,
                    difference_basis=basis,
                    difference_phrases=phrases,
                )
            )
            continue
        row = scores[position] if scores.shape[1] else np.array([])
        best = None
        if row.size and not np.all(np.isnan(row)):
            best_j = int(np.nanargmax(row))
            best = BestMatch(theme=best_j, score=round(float(row[best_j]), 4))
        basis, phrases = _difference(theme, mine, other_all)
        result.own.append(
            OwnTheme(
                theme=position,
                label=label,
                best_match=best,
                difference_basis=basis,
                difference_phrases=phrases,
            )
        )
    return result


def _difference(
    theme: ThemeRecord,
    mine: tuple[list[str], np.ndarray] | None,
    others: list[np.ndarray],
) -> tuple[Literal["text", "own-ranking"], list[DifferencePhrase]]:
    texts, scores = _theme_phrases(theme)
    if mine is None or not others:
        picks = [
            DifferencePhrase(text=t, score=round(float(s), 4), similarity_to_other=None)
            for t, s in list(zip(texts, scores, strict=True))[:N_DIFFERENCE_PHRASES]
        ]
        return "own-ranking", picks
    own_texts, own_vectors = mine
    reference = np.concatenate(others, axis=0)
    closest = (own_vectors @ reference.T).max(axis=1)
    score_of = dict(zip(texts, scores.tolist(), strict=True))
    order = [
        i
        for i in np.argsort(closest, kind="stable").tolist()
        if closest[i] < SAME_PHRASE_SIMILARITY
    ][:N_DIFFERENCE_PHRASES]
    return "text", [
        DifferencePhrase(
            text=own_texts[i],
            score=round(float(score_of.get(own_texts[i], 0.0)), 4),
            similarity_to_other=round(float(closest[i]), 4),
        )
        for i in order
    ]


def _text_basis(
    a: RunThemes,
    b: RunThemes,
    same_language: bool,
    is_multi: bool,
    multi_reason: str,
    embedder_name: str,
) -> tuple[str | None, str]:
    if same_language:
        return "phrases", f"both runs are in the same language ({a.lang!r}); phrases are compared"
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


def _embedder_identity(embedder: str | PhraseEmbedder | None) -> tuple[str, str | None]:
    if embedder is None or isinstance(embedder, str):
        from themescope.themes.embedders import DEFAULT_NAMES

        if embedder is None or embedder.strip().lower() in DEFAULT_NAMES:
            from themescope._bundled import MINILM_NAME

            return MINILM_NAME, None
        return Path(embedder).name, embedder
    from themescope.themes.embedders import embedder_info

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


def _load_embedder(embedder: str | PhraseEmbedder | None) -> PhraseEmbedder:
    if embedder is not None and not isinstance(embedder, str):
        return embedder
    from themescope.themes.embedders import load_embedder

    return load_embedder(embedder)


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise RunDirectoryError(f"--out {out} exists and is not a directory")
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


def _run_record(run: RunThemes) -> CompareRun:
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
                ScoredPhrase(text=t, score=round(float(s), 4))
                for t, s in zip(*_theme_phrases(theme), strict=True)
            ],
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
