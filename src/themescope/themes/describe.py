"""Describing clustered frames as themes: the library the themes stage and a study share.

A run's themes stage (:mod:`themescope.themes.stage`) and a study's
(:mod:`themescope.corpus.themes`) do the same steps on different frames: read the
frames and latents (:func:`read_inputs`), choose k and cluster, numbering themes
largest first, and project to 2-D (:func:`cluster_frames`), caption the frames
(:func:`caption_frames`, reusing the previous captions when the captioner is the
same), tag every theme and back each phrase with evidence (:func:`describe_themes`),
and turn a theme's phrases into its themes.json fields (:func:`theme_description`,
:func:`phrase_record`, :func:`add_glosses`, :func:`representative_frames`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from themescope import _progress
from themescope.components import identity
from themescope.documents import (
    EvidenceRecord,
    PhraseRecord,
    RoleRecord,
    TaggerRecord,
    ThemesDocument,
    ThemeStabilityRecord,
)
from themescope.errors import RunDirectoryError, ThemescopeError
from themescope.manifest import ThemesRecord
from themescope.rundir import RunDirectory, StageWriter
from themescope.themes.base import (
    Captioner,
    Phrase,
    PhraseEmbedder,
    Tagger,
    ThemeMaterial,
    ThemePhrases,
)
from themescope.themes.cluster import (
    UNSTABLE_BELOW,
    KSelection,
    SeedStability,
    scale_features,
    seed_stability,
    select_k,
)
from themescope.themes.config import ThemesConfig
from themescope.themes.evidence import attach_evidence
from themescope.themes.facets import facets
from themescope.themes.gloss import Glosser
from themescope.themes.projection import Projection, project_2d

logger = logging.getLogger("themescope")

MAX_REPRESENTATIVE = 6
"""Representative frames per theme."""

CAPTION_BATCH = 16
"""Frames handed to the captioner per call (the progress bar advances per batch)."""


@dataclasses.dataclass(frozen=True)
class Clustering:
    """The frames' themes, largest first, and the 2-D map; frame-indexed.

    Attributes:
        selection: The k selection over the frames that were clustered.
        labels: Theme of every frame; -1 for a frame left out (black or blank).
        centers: The themes' centres in the clustered feature space.
        features: Every frame's clustered features (zeros for a frame left out).
        projection: Every frame's 2-D position, left-out frames too.
        cluster_s: Seconds spent choosing k, clustering and refitting for the stability.
        stability: The themes refitted with other seeds; None when ``stability`` is off.
    """

    selection: KSelection
    labels: np.ndarray
    centers: np.ndarray
    features: np.ndarray
    projection: Projection
    cluster_s: float
    stability: SeedStability | None = None

    def theme_stability(self, theme: int) -> ThemeStabilityRecord | None:
        """Theme ``theme``'s stability record (None when stability is off)."""
        return None if self.stability is None else self.stability.theme_record(theme)


def cluster_frames(
    latents: np.ndarray,
    times_s: np.ndarray | None,
    config: ThemesConfig,
    st: StageWriter,
    *,
    content: np.ndarray | None = None,
    refit_latents: Callable[[int], np.ndarray] | None = None,
) -> Clustering:
    """Choose k, cluster the latents (themes numbered largest first) and project them to 2-D.

    Args:
        latents: One row per frame.
        times_s: Frame times; None where frames come from several videos (no time feature).
        config: k, its range, seed and backend.
        st: Collects the k selection's warnings.
        content: Indices of the frames to cluster (the others get theme -1); None: all.
        refit_latents: Every frame's latents, as ``latents`` (smoothed alike), from a
            model retrained with the given seed (:func:`model_refits`): the stability
            refits retrain the model too; None refits only the clustering.
    """
    n = len(latents)
    rows = np.arange(n) if content is None else np.asarray(content)
    time_weight = config.time_weight if times_s is not None else 0.0
    t0 = time.perf_counter()
    selection = select_k(
        latents[rows],
        k=config.k,
        k_range=config.k_range,
        seed=config.seed,
        n_init=config.n_init,
        n_bootstrap=config.n_bootstrap,
        times_s=None if times_s is None else times_s[rows],
        time_weight=time_weight,
        backend=config.cluster_backend,
    )
    for message in selection.warnings:
        st.warnings.append(message)  # select_k has logged them already
    content_labels, centers = _order_themes(selection)
    stability = None
    if config.stability is not None:
        refit_features = None
        if refit_latents is not None:
            refit_times = None if times_s is None else times_s[rows]

            def refit_features(seed: int) -> np.ndarray:
                return scale_features(refit_latents(seed)[rows], refit_times, time_weight)

        stability = seed_stability(
            selection.features,
            content_labels,
            seed=config.seed,
            n_refits=config.stability,
            n_init=config.n_init,
            backend=config.cluster_backend,
            refit_features=refit_features,
        )
        _warn_unstable(stability, st)
    labels = np.full(n, -1, dtype=np.int64)
    labels[rows] = content_labels
    features = np.zeros((n, selection.features.shape[1]), dtype=selection.features.dtype)
    features[rows] = selection.features
    cluster_s = time.perf_counter() - t0
    logger.info(
        "clustered into k=%d themes (%s, %s backend): %s",
        selection.k,
        selection.method,
        selection.backend,
        selection.reason,
    )
    t0 = time.perf_counter()
    # Every frame is on the map, blank ones too (grey, apart from the rest); with none,
    # these are the features that were clustered.
    projection = project_2d(
        scale_features(latents, times_s, time_weight),
        seed=config.seed,
        max_points=config.max_tsne_points,
    )
    logger.info(
        "2-D projection: %s (perplexity %s) in %.1f s",
        projection.method,
        projection.perplexity,
        time.perf_counter() - t0,
    )
    return Clustering(selection, labels, centers, features, projection, cluster_s, stability)


def model_refits(
    run: RunDirectory, config: ThemesConfig, smooth: Callable[[np.ndarray], np.ndarray]
) -> Callable[[int], np.ndarray] | None:
    """The ``refit_latents`` of :func:`cluster_frames` when the stability refits the model.

    With ``config.stability_refit_model`` (and stability on): a function of a seed that
    retrains the run's CRVAE with it (the configuration in ``RUN/model/config.json``, on
    the device the train stage was asked for) and returns every frame's latents, passed
    through ``smooth`` as the stage smoothed the trained ones. Otherwise None.
    """
    if config.stability is None or not config.stability_refit_model:
        return None
    from themescope.model.artifacts import read_trained_config
    from themescope.model.train import retrain_latents

    trained = read_trained_config(run / "model")
    device = run.read_manifest().config.get("train", {}).get("device", "auto")

    def refit(seed: int) -> np.ndarray:
        logger.info("stability: retraining the model with seed %d", seed)
        return smooth(retrain_latents(run, trained, seed=seed, device=str(device)))

    return refit


def cluster_run(
    run: RunDirectory,
    latents: np.ndarray,
    features: Callable[[np.ndarray], np.ndarray],
    times_s: np.ndarray | None,
    config: ThemesConfig,
    st: StageWriter,
    content: np.ndarray,
) -> Clustering:
    """:func:`cluster_frames` of ``features(latents)``, a run's or a study's.

    ``features`` turns latents into what is clustered (smoothing them, for a comparison
    also placing them beside the words' meaning); a stability refit of the model passes
    its latents through it too, so a refit is clustered as the trained model's latents.
    """
    return cluster_frames(
        features(latents),
        times_s,
        config,
        st,
        content=content,
        refit_latents=model_refits(run, config, features),
    )


def _warn_unstable(stability: SeedStability, st: StageWriter) -> None:
    n_refits = len(stability.seeds)
    refits = "refits" if stability.refit == "clustering" else "refits of the model"
    for t in stability.unstable():
        came_back = round(float(stability.recurrence[t]) * n_refits)
        st.warn(
            f"theme {t} came back in {came_back} of {n_refits} {refits} with other seeds "
            f"(unstable: below {UNSTABLE_BELOW:.0%}); read it as a tentative theme"
        )


def caption_frames(run: RunDirectory, table: Any, captioner: Captioner | None) -> list[str]:
    """Caption every frame ("" without a captioner), reusing the last run's same captions."""
    n = table.num_rows
    if captioner is None:
        return [""] * n
    reused = _previous_captions(run, table, identity(captioner))
    if reused is not None:
        logger.info("reusing the %d captions of the previous themes run (same captioner)", n)
        return reused
    return _caption(run, table, captioner)


def describe_themes(
    materials: list[ThemeMaterial],
    tagger: Tagger,
    embedder: PhraseEmbedder,
    n_phrases: int,
    st: StageWriter,
) -> tuple[list[ThemePhrases], list[Phrase]]:
    """Tag every theme, back each phrase with evidence, and settle the themes as facets.

    Returns each theme's phrases (label and people included) and the phrases common to
    every theme, with evidence from all of them.
    """
    k = len(materials)
    logger.info("tagging %d themes with the %s tagger", k, tagger.name)
    tagged = tagger.tag(materials, n_phrases=n_phrases)
    if len(tagged) != k:
        raise ThemescopeError(
            f"tagger {tagger.name!r} returned {len(tagged)} results for {k} themes"
        )
    # Evidence first, so that facets() counts a phrase as said in a theme only where
    # the theme's own material backs it, and settles clashing tops by support.
    checked = [
        dataclasses.replace(result, phrases=attach_evidence(result.phrases, material, embedder))
        for result, material in _progress.track(
            list(zip(tagged, materials, strict=True)), "evidence", total=k
        )
    ]
    settled = facets(checked, n_phrases, materials)
    for message in settled.unresolved:
        st.warn(message)
    common = attach_evidence(settled.common, _whole_video(materials), embedder)
    return list(settled.themes), common


def _whole_video(materials: list[ThemeMaterial]) -> ThemeMaterial:
    """All themes' material as one, for the evidence of the phrases common to every theme."""
    return ThemeMaterial(
        theme_id=-1,
        frame_ids=[i for m in materials for i in m.frame_ids],
        texts=[x for m in materials for x in m.texts],
        captions=[c for m in materials for c in m.captions],
        lang=materials[0].lang,
        on_screen=[s for m in materials for s in m.on_screen],
        screen_texts=[s for m in materials for s in m.screen_texts],
    )


def on_screen_lines(ocr_texts: list[str]) -> list[tuple[str, int]]:
    """Each on-screen line of a theme's frames with how many frames show it, most shown first."""
    counts: Counter[str] = Counter()
    for text in ocr_texts:
        # Each line once per frame, in reading order, so ties keep their first appearance.
        counts.update(
            list(dict.fromkeys(line.strip() for line in text.split("\n") if line.strip()))
        )
    return counts.most_common()


STRAP_TOP = 2 / 3
"""Name straps sit in a frame's lower third: a line whose middle is below this share of
the frame's height."""


def lower_third_texts(run: RunDirectory, table: Any) -> list[str] | None:
    """The on-screen lines in each frame's lower third, joined by newlines.

    None when frames.parquet has no line places (on-screen text not read, or read
    by an older themescope) or a frame's picture, which gives its height, is missing.
    """
    from PIL import Image

    if not {"ocr_lines", "image"} <= set(table.column_names):
        return None
    heights: dict[Path, int] = {}  # one per video folder: a study's videos differ
    out = []
    for lines, image in zip(
        table.column("ocr_lines").to_pylist(), table.column("image").to_pylist(), strict=True
    ):
        path = run / str(image or "")
        if path.parent not in heights:
            try:
                with Image.open(path) as picture:
                    heights[path.parent] = picture.height
            except OSError:
                return None
        top = STRAP_TOP * heights[path.parent]
        out.append(
            "\n".join(
                str(line["text"]).strip()
                for line in lines or []
                if (line["box"][1] + line["box"][3]) / 2 >= top and str(line["text"]).strip()
            )
        )
    return out


def theme_materials(
    run: RunDirectory,
    table: Any,
    members: Sequence[np.ndarray],
    texts: list[str],
    captions: list[str],
    ocr_texts: list[str],
    lang: Callable[[np.ndarray], str],
) -> list[ThemeMaterial]:
    """What the taggers read of each theme: its frames' words, captions and screen text.

    Args:
        run: The run (or study) directory that holds the frames' pictures.
        table: frames.parquet, as :func:`read_inputs` returns it.
        members: Each theme's rows of ``table``, theme 0 first.
        texts: Each row's words.
        captions: Each row's caption ("" where none).
        ocr_texts: Each row's on-screen text.
        lang: The language of a theme's rows (a run's one language, a study's majority).

    """
    straps = lower_third_texts(run, table)
    return [
        ThemeMaterial(
            theme_id=t,
            frame_ids=[int(i) for i in rows],
            texts=[texts[i] for i in rows],
            captions=[captions[i] for i in rows],
            lang=lang(rows),
            on_screen=on_screen_lines([ocr_texts[i] for i in rows]),
            screen_texts=[ocr_texts[i] for i in rows],
            strap_texts=None if straps is None else [straps[i] for i in rows],
        )
        for t, rows in enumerate(members)
    ]


def blank_frames(table: Any) -> np.ndarray:
    """Which rows of frames.parquet ingest marked black or blank (a bool each).

    Black and blank frames look alike whatever the programme: they would form a theme
    of their own. Runs and studies ingested before they were marked have no column:
    none then.
    """
    if "blank" not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return np.asarray(table.column("blank").fill_null(False).to_numpy(zero_copy_only=False), bool)


def read_inputs(run: RunDirectory) -> tuple[Any, np.ndarray]:
    """Read and check frames.parquet (sorted by frame_id) and latents.npy, row for row."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    frames_path, latents_path = run / "frames.parquet", run / "latents.npy"
    for path in (frames_path, latents_path):
        if not path.is_file():
            raise RunDirectoryError(
                f"{path} is missing; rerun the stage that writes it (ingest or train)"
            )
    try:
        table = pq.read_table(frames_path)
        latents = np.load(latents_path)
    except (OSError, ValueError) as exc:
        raise RunDirectoryError(
            f"cannot read {frames_path.name} / {latents_path.name} in {run.path}: {exc}"
        ) from exc
    missing = {"frame_id", "time_s", "text", "lang"} - set(table.column_names)
    if missing:
        raise RunDirectoryError(f"{frames_path} lacks column(s) {', '.join(sorted(missing))}")
    table = table.sort_by("frame_id")
    if table.num_rows == 0:
        raise ThemescopeError(f"{frames_path} has 0 frames; there is nothing to cluster")
    ids = table.column("frame_id").to_numpy()
    if not np.array_equal(ids, np.arange(table.num_rows)):
        raise RunDirectoryError(
            f"{frames_path}: frame_id must be 0..{table.num_rows - 1} without gaps"
        )
    if latents.ndim != 2 or latents.shape[0] != table.num_rows:
        raise RunDirectoryError(
            f"latents.npy has shape {latents.shape} but frames.parquet has {table.num_rows} "
            "frames; "
            "rerun `themescope train`"
        )
    if pc.any(pc.is_null(table.column("time_s"))).as_py():
        raise RunDirectoryError(f"{frames_path}: time_s has missing values")
    return table, latents


def _order_themes(selection: KSelection) -> tuple[np.ndarray, np.ndarray]:
    """Renumber themes largest first (ties: first to appear), so ids are stable and meaningful."""
    labels = selection.labels
    present = np.unique(labels)
    sizes = {int(c): int((labels == c).sum()) for c in present}
    first = {int(c): int(np.flatnonzero(labels == c)[0]) for c in present}
    order = sorted(sizes, key=lambda c: (-sizes[c], first[c]))
    mapping = np.full(int(labels.max()) + 1, -1, dtype=np.int64)
    for new, old in enumerate(order):
        mapping[old] = new
    return mapping[labels], selection.centers[order]


def representative_frames(
    frame_ids: list[int],
    features: np.ndarray,
    center: np.ndarray,
    times_s: np.ndarray,
    min_gap_s: float,
    n_max: int = MAX_REPRESENTATIVE,
) -> list[int]:
    """Pick up to ``n_max`` frames closest to the centroid, at least ``min_gap_s`` apart in time.

    Greedy: frames are taken in order of distance to the centroid, skipping any
    within ``min_gap_s`` of a frame already taken, so the picks are typical of
    the theme and spread over the video. Returned closest first.
    """
    ids = np.asarray(frame_ids)
    distances = np.linalg.norm(features[ids] - center, axis=1)
    picked: list[int] = []
    for j in np.argsort(distances, kind="stable"):
        frame = int(ids[j])
        if all(abs(times_s[frame] - times_s[p]) >= min_gap_s for p in picked):
            picked.append(frame)
            if len(picked) == n_max:
                break
    return picked


def theme_description(
    t: int, material: ThemeMaterial, result: ThemePhrases, n_phrases: int, st: StageWriter
) -> dict[str, Any]:
    """The fields of a theme's record that describe it: label, people, phrases and their note."""
    phrases = result.phrases
    has_text = any(x.strip() for x in material.texts) or any(c.strip() for c in material.captions)
    note = None
    if not has_text:
        note = "no transcript text or captions in this theme, so no phrases"
        st.warn(
            f"theme {t} ({len(material.frame_ids)} frames) has no transcript text or captions: "
            "no phrases"
        )
    elif len(phrases) < n_phrases:
        note = f"only {len(phrases)} phrases: not enough distinct text in this theme"
    if result.fallback_reason:
        st.warn(f"theme {t}: phrases from the {result.backend} fallback ({result.fallback_reason})")
    return {
        "id": t,
        "label": result.label or f"theme {t}",
        "people": list(result.people),
        "roles": {name: RoleRecord(text=role) for name, role in result.roles.items()},
        "phrases": [phrase_record(p) for p in phrases],
        "phrases_note": note,
        "tagger": TaggerRecord(
            backend=result.backend,
            model=result.model,
            prompt=result.prompt,
            fallback_reason=result.fallback_reason,
        ),
    }


def add_glosses(document: ThemesDocument, glosser: Glosser) -> None:
    """Give every non-English phrase, label and role its English gloss."""
    records: list[PhraseRecord | RoleRecord] = []
    for theme in document.themes:
        records += theme.phrases
        records += theme.roles.values()
    records += document.common
    labels = [theme.label for theme in document.themes]
    # One call for the whole document: the glosser embeds every word's senses in one batch.
    glosses = glosser.lookup_many(labels + [record.text for record in records])
    for theme, gloss in zip(document.themes, glosses, strict=False):
        theme.label_gloss = None if gloss is None else gloss.text
        theme.label_gloss_word_by_word = gloss is not None and gloss.word_by_word
    for record, gloss in zip(records, glosses[len(labels) :], strict=True):
        record.gloss = None if gloss is None else gloss.text
        record.gloss_word_by_word = gloss is not None and gloss.word_by_word


def phrase_record(phrase: Phrase) -> PhraseRecord:
    """A phrase and its evidence as themes.json records them."""
    ev = phrase.evidence
    return PhraseRecord(
        text=phrase.text,
        score=round(float(phrase.score), 4),
        supported=bool(phrase.supported),
        evidence=EvidenceRecord(
            frame_ids=[int(i) for i in ev.frame_ids],
            quotes=list(ev.quotes),
            captions=list(ev.captions),
            support=round(float(ev.support), 4),
            on_screen=list(ev.on_screen),
        ),
    )


def _previous_captions(
    run: RunDirectory, table: Any, captioner_identity: dict[str, Any] | None
) -> list[str] | None:
    """Return the captions already in frames.parquet when the same captioner wrote them.

    Captioning is the slow step (BLIP on a CPU: about a second a frame); choosing
    another k or tagger must not redo it. The previous themes record survives
    only while ingest is unchanged (rewriting ingest drops it), so the frames are
    the same ones.
    """
    previous = run.record("themes")
    if not isinstance(previous, ThemesRecord) or "caption" not in table.column_names:
        return None
    if previous.captioner_identity != captioner_identity:
        return None
    captions = table.column("caption").to_pylist()
    if any(c is None for c in captions):
        return None
    return [str(c) for c in captions]


def _caption(run: RunDirectory, table: Any, captioner: Captioner) -> list[str]:
    from PIL import Image

    paths = [run / p for p in table.column("image").to_pylist()]
    captions: list[str] = []
    batches = [paths[i : i + CAPTION_BATCH] for i in range(0, len(paths), CAPTION_BATCH)]
    logger.info("captioning %d frames with %s", len(paths), captioner.name)
    for batch in _progress.track(batches, "captioning", total=len(batches)):
        images = []
        for path in batch:
            try:
                with Image.open(path) as image:
                    images.append(image.convert("RGB"))
            except OSError as exc:
                raise RunDirectoryError(
                    f"cannot read frame image {path}: {exc}; rerun `themescope ingest`"
                ) from exc
        result = captioner.caption(images)
        if len(result) != len(images):
            raise ThemescopeError(
                f"captioner {captioner.name!r} returned {len(result)} captions for "
                f"{len(images)} frames"
            )
        captions.extend(c.strip() for c in result)
    return captions
