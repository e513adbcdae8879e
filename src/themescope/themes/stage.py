"""The themes stage: cluster the latents into explained themes and write themes.json.

Steps, each logged: read the latents and frames; choose k and cluster the frames
that are not black or blank (:mod:`themescope.media.blank`; those get theme -1 and
the document's ``blank`` record, and a theme's share stays a share of the whole
video's time) (:mod:`themescope.themes.cluster`); project every frame to 2-D
(:mod:`themescope.themes.projection`); caption the frames when a captioner is
given; tag every theme (any :class:`~themescope.themes.base.Tagger`); attach
evidence to every phrase (:mod:`themescope.themes.evidence`); settle the themes
as facets of one story (:func:`~themescope.themes.facets.facets`: phrases said in
every theme go to the run's ``common``, top phrases distinct, a label and the
people per theme); write ``themes.json`` and ``frames.parquet`` with the
``theme`` (and ``caption``) column through the run's staging folder, so the
stage is all-or-nothing.

Example:
    >>> build_themes("runs/us-report", ThemesConfig(k_range=(3, 5))).status  # doctest: +SKIP
    'ran'
    >>> from themescope.documents import read_themes
    >>> document = read_themes("runs/us-report/themes.json")  # doctest: +SKIP
    >>> document.k, document.themes[0].label  # doctest: +SKIP
    (3, 'vaccination site')
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from themescope import _progress
from themescope._limits import clip_middle
from themescope.components import identity
from themescope.documents import (
    THEMES_SCHEMA_VERSION,
    BackendsRecord,
    BlankRecord,
    EvidenceRecord,
    PhraseRecord,
    TaggerRecord,
    ThemeRecord,
    ThemesDocument,
    write_themes,
)
from themescope.errors import RunDirectoryError, ThemescopeError
from themescope.rundir import RunDirectory, Stage, StageResult, StageWriter, run_stage
from themescope.themes import timeline
from themescope.themes.base import (
    Captioner,
    Phrase,
    PhraseEmbedder,
    Tagger,
    ThemeMaterial,
    ThemePhrases,
)
from themescope.themes.cluster import KSelection, scale_features, select_k
from themescope.themes.config import ThemesConfig
from themescope.themes.evidence import attach_evidence
from themescope.themes.facets import facets
from themescope.themes.gloss import Glosser, make_glosser
from themescope.themes.projection import Projection, project_2d

logger = logging.getLogger("themescope")

MAX_REPRESENTATIVE = 6
"""Representative frames per theme."""

CAPTION_BATCH = 16
"""Frames handed to the captioner per call (the progress bar advances per batch)."""


class ThemesStage(Stage):
    """Cluster the latents into explained themes (needs ingest and train).

    Args:
        config: Stage options (defaults: automatic k in 3–5, extractive tags).
        captioner: A ready captioner; overrides ``config.captioner``.
        tagger: A ready tagger; overrides ``config.tagger``.
        embedder: A ready phrase embedder; overrides ``config.embedder``.
    """

    name = "themes"
    needs = ("ingest", "train")

    def __init__(
        self,
        config: ThemesConfig | None = None,
        *,
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        glosser: Glosser | None = None,
    ) -> None:
        """Store the settings and components (``glosser``: overrides the config's language)."""
        self.config = config or ThemesConfig()
        self.captioner = captioner
        self.tagger = tagger
        self.embedder = embedder
        self.glosser = glosser

    def check(self) -> None:
        """Build the components the config names (checking their model folders, loading none)."""
        config = self.config
        if self.embedder is None:
            self.embedder = _load_embedder(config)
        if self.captioner is None:
            self.captioner = _load_captioner(config)
        if self.tagger is None:
            self.tagger = _load_tagger(config, self.embedder)
        if self.glosser is None:
            self.glosser = make_glosser(config.gloss_language)

    def settings(self) -> dict[str, Any]:
        """The themes settings."""
        return self.config.to_dict()

    def fingerprint_parts(self) -> Any:
        """The settings and every component's class and parameters."""
        return {
            "config": self.config.fingerprinted(),
            "captioner": identity(self.captioner),
            "tagger": identity(self.tagger),
            "embedder": identity(self.embedder),
            "glosser": identity(self.glosser),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Cluster, describe and write themes.json and the frames' theme column."""
        assert self.tagger is not None and self.embedder is not None  # set by check()
        if self.embedder.fallback_reason:
            writer.warn(self.embedder.fallback_reason)
        backends = backends_record(self.config, self.captioner, self.tagger, self.embedder)
        ingest = msgspec.to_builtins(run.require("ingest"))
        _write_themes(
            run,
            ingest,
            self.config,
            self.captioner,
            self.tagger,
            self.embedder,
            backends,
            writer,
            self.glosser,
        )
        writer.record["captioner_identity"] = identity(self.captioner)


def build_themes(
    run: RunDirectory | str | Path,
    config: ThemesConfig | None = None,
    *,
    captioner: Captioner | None = None,
    tagger: Tagger | None = None,
    embedder: PhraseEmbedder | None = None,
    force: bool = False,
) -> StageResult:
    """Run the themes stage on a run directory that has finished ingest and train.

    Args:
        run: The run directory.
        config: Stage options (defaults: automatic k in 3–5, extractive tags).
        captioner: A ready captioner; overrides ``config.captioner``.
        tagger: A ready tagger; overrides ``config.tagger``.
        embedder: A ready phrase embedder; overrides ``config.embedder``.
        force: Redo the stage even when it is current.

    Returns:
        The stage's result; the themes are in ``RUN/themes.json`` and
        ``result.record`` is the manifest's :class:`~themescope.manifest.ThemesRecord`.

    Raises:
        StageNotDoneError: ingest or train has not been run.
        ThemescopeError: Inconsistent run files, or a backend that cannot load.
    """
    stage = ThemesStage(config, captioner=captioner, tagger=tagger, embedder=embedder)
    return run_stage(run, stage, force=force)


def _load_embedder(config: ThemesConfig) -> PhraseEmbedder:
    from themescope.embedding import load_embedder

    # Not loaded yet: a current stage is skipped without paying for the model.
    return load_embedder(config.embedder, load=False)


def _load_captioner(config: ThemesConfig) -> Captioner | None:
    if config.captioner == "none":
        return None
    from themescope.themes.captioners import load_captioner

    return load_captioner(config.captioner, config.captioner_model)


def _load_tagger(config: ThemesConfig, embedder: PhraseEmbedder) -> Tagger:
    from themescope.themes.extractive import ExtractiveTagger

    extractive = ExtractiveTagger(embedder, seed=config.seed)
    if config.tagger == "extractive":
        return extractive
    from themescope.themes.llm import load_llm_tagger

    return load_llm_tagger(
        url=config.llm_url,
        model=config.llm_model or "",
        language=config.tag_language,
        fallback=extractive,
    )


def backends_record(
    config: ThemesConfig, captioner: Captioner | None, tagger: Tagger, embedder: PhraseEmbedder
) -> dict[str, Any]:
    """What themes.json records of the captioner, tagger and embedder that made the themes."""
    from themescope.embedding import embedder_info

    captioner_model = getattr(captioner, "model_path", None) if captioner is not None else None
    tagger_record: dict[str, Any] = {"name": tagger.name}
    info = getattr(tagger, "info", None)
    if callable(info):
        tagger_record.update({k: v for k, v in info().items() if k != "name"})
    return {
        "captioner": {
            "name": captioner.name if captioner is not None else "none",
            "model": None if captioner_model is None else str(captioner_model),
        },
        "tagger": tagger_record,
        "embedder": embedder_info(embedder),
    }


def _write_themes(
    run: RunDirectory,
    ingest: dict[str, Any],
    config: ThemesConfig,
    captioner: Captioner | None,
    tagger: Tagger,
    embedder: PhraseEmbedder,
    backends: dict[str, Any],
    st: StageWriter,
    glosser: Glosser | None = None,
) -> None:
    """Cluster, describe, and write themes.json and frames.parquet into the stage's folder."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    timings: dict[str, float] = {}
    started = time.perf_counter()
    table, latents = read_inputs(run)
    n = table.num_rows
    times_s = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), dtype=np.float64)
    texts = [clip_middle(t or "") for t in table.column("text").to_pylist()]
    # Runs ingested before on-screen text was read (or with --ocr off) have no ocr_text.
    ocr_texts = (
        [t or "" for t in table.column("ocr_text").to_pylist()]
        if "ocr_text" in table.column_names
        else [""] * table.num_rows
    )
    # Ads, promos and bumpers (media.furniture.find_promos; nothing is said over them)
    # show text of no theme's story.
    if "promo" in table.column_names:
        for i, is_promo in enumerate(table.column("promo").to_pylist()):
            if is_promo:
                ocr_texts[i] = ""
    lang = str(ingest.get("lang") or _first(table.column("lang").to_pylist()) or "und")
    # Black and blank frames look alike whatever the programme: they would form a theme
    # of their own. Runs ingested before they were detected have no column: none then.
    blank = (
        np.asarray(table.column("blank").fill_null(False).to_numpy(zero_copy_only=False), bool)
        if "blank" in table.column_names
        else np.zeros(n, dtype=bool)
    )
    content = np.flatnonzero(~blank)
    if len(content) == 0:
        raise ThemescopeError(
            f"all {n} frames of {run.path} are black or blank: there is nothing to find themes in"
        )
    timings["read_s"] = time.perf_counter() - started
    logger.info(
        "themes: %d frames (%d black or blank, left out), %d-d latents, language %s",
        n,
        n - len(content),
        latents.shape[1],
        lang,
    )

    t0 = time.perf_counter()
    smoothed = timeline.smooth_within(
        latents, np.zeros(n, dtype=int), config.smooth_frames, include=~blank
    )
    clustering = cluster_frames(smoothed, times_s, config, st, content=content)
    selection, labels, centers = clustering.selection, clustering.labels, clustering.centers
    features = clustering.features
    timings["cluster_s"] = clustering.cluster_s
    timings["projection_s"] = time.perf_counter() - t0 - clustering.cluster_s

    t0 = time.perf_counter()
    captions = caption_frames(run, table, captioner)
    timings["caption_s"] = time.perf_counter() - t0

    durations = timeline.frame_durations_s(
        times_s,
        every_s=ingest.get("every_s"),
        duration_s=(ingest.get("video") or {}).get("duration_s"),
    )
    k = int(labels.max()) + 1
    materials = [
        ThemeMaterial(
            theme_id=t,
            frame_ids=[int(i) for i in np.flatnonzero(labels == t)],
            texts=[texts[i] for i in np.flatnonzero(labels == t)],
            captions=[captions[i] for i in np.flatnonzero(labels == t)],
            lang=lang,
            on_screen=on_screen_lines([ocr_texts[i] for i in np.flatnonzero(labels == t)]),
            screen_texts=[ocr_texts[i] for i in np.flatnonzero(labels == t)],
        )
        for t in range(k)
    ]

    t0 = time.perf_counter()
    described, common = describe_themes(materials, tagger, embedder, config.n_phrases, st)
    timings["tag_s"] = time.perf_counter() - t0

    themes = []
    for t, (material, result) in enumerate(zip(materials, described, strict=True)):
        themes.append(
            _theme_record(
                t,
                material,
                result,
                labels,
                centers,
                features,
                times_s,
                durations,
                config.n_phrases,
                st,
            )
        )
    n_unsupported = sum(1 for theme in themes for p in theme.phrases if not p.supported)
    backends_used = {**backends, "cluster": selection.backend}
    document = ThemesDocument(
        schema_version=THEMES_SCHEMA_VERSION,
        k=k,
        k_selection=selection.to_record(),
        backends=msgspec.convert(backends_used, BackendsRecord),
        projection=clustering.projection.to_record(),
        themes=themes,
        common=[phrase_record(p) for p in common],
        blank=_blank_record(blank, labels, times_s, durations)
        if "blank" in table.column_names
        else None,
        warnings=list(st.warnings),
    )
    if glosser is not None:
        add_glosses(document, glosser)
    write_themes(st.path("themes.json"), document)

    keep = [c for c in table.column_names if c not in ("theme", "caption")]
    out = table.select(keep).append_column("theme", pa.array(labels, type=pa.int64()))
    if captioner is not None:
        out = out.append_column("caption", pa.array(captions, type=pa.string()))
    pq.write_table(out, st.path("frames.parquet"))

    timings["total_s"] = time.perf_counter() - started
    st.record.update(
        {
            "k": k,
            "k_method": selection.method,
            "k_reason": selection.reason,
            "k_range": list(selection.k_range),
            "backends": backends_used,
            "projection": clustering.projection.method,
            "n_frames": n,
            "n_frames_blank": int(blank.sum()),
            "n_unsupported_phrases": n_unsupported,
            "timings": {name: round(value, 3) for name, value in timings.items()},
        }
    )
    logger.info(
        "themes written to %s (k=%d, %d unsupported phrases flagged)",
        run / "themes.json",
        k,
        n_unsupported,
    )


@dataclasses.dataclass(frozen=True)
class Clustering:
    """The frames' themes, largest first, and the 2-D map; frame-indexed.

    Attributes:
        selection: The k selection over the frames that were clustered.
        labels: Theme of every frame; -1 for a frame left out (black or blank).
        centers: The themes' centres in the clustered feature space.
        features: Every frame's clustered features (zeros for a frame left out).
        projection: Every frame's 2-D position, left-out frames too.
        cluster_s: Seconds spent choosing k and clustering.
    """

    selection: KSelection
    labels: np.ndarray
    centers: np.ndarray
    features: np.ndarray
    projection: Projection
    cluster_s: float


def cluster_frames(
    latents: np.ndarray,
    times_s: np.ndarray | None,
    config: ThemesConfig,
    st: StageWriter,
    *,
    content: np.ndarray | None = None,
) -> Clustering:
    """Choose k, cluster the latents (themes numbered largest first) and project them to 2-D.

    Args:
        latents: One row per frame.
        times_s: Frame times; None where frames come from several videos (no time feature).
        config: k, its range, seed and backend.
        st: Collects the k selection's warnings.
        content: Indices of the frames to cluster (the others get theme -1); None: all.
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
    return Clustering(selection, labels, centers, features, projection, cluster_s)


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


def _blank_record(
    blank: np.ndarray, labels: np.ndarray, times_s: np.ndarray, durations: np.ndarray
) -> BlankRecord:
    """The black and blank frames: no theme's, their time a share of the video of its own."""
    seconds = float(durations[blank].sum())
    return BlankRecord(
        frames=[int(i) for i in np.flatnonzero(blank)],
        n_frames=int(blank.sum()),
        share=round(seconds / float(durations.sum()), 4),
        seconds=round(seconds, 3),
        spans=[
            (round(span.start_s, 3), round(span.end_s, 3))
            for span in timeline.spans(labels, times_s, durations)
            if span.label == -1
        ],
    )


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


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v), None)


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


def _theme_record(
    t: int,
    material: ThemeMaterial,
    result: ThemePhrases,
    labels: np.ndarray,
    centers: np.ndarray,
    features: np.ndarray,
    times_s: np.ndarray,
    durations: np.ndarray,
    n_phrases: int,
    st: StageWriter,
) -> ThemeRecord:
    frame_ids = material.frame_ids
    seconds = float(durations[frame_ids].sum())
    share = seconds / float(durations.sum())
    step = float(np.median(durations)) if len(durations) else 1.0
    # Two sampling intervals, or a twelfth of the theme's time: up to 6 picks spread over it.
    min_gap_s = max(2 * step, seconds / (2 * MAX_REPRESENTATIVE))
    return ThemeRecord(
        **theme_description(t, material, result, n_phrases, st),
        frames=frame_ids,
        n_frames=len(frame_ids),
        share=round(share, 4),
        seconds=round(seconds, 3),
        spans=[
            (round(span.start_s, 3), round(span.end_s, 3))
            for span in timeline.spans(labels, times_s, durations)
            if span.label == t
        ],
        representative_frames=representative_frames(
            frame_ids, features, centers[t], times_s, min_gap_s
        ),
    )


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
    """Give every non-English phrase and label its English gloss (a word it lacks: none)."""
    for theme in document.themes:
        theme.label_gloss = glosser.gloss(theme.label)
        for phrase in theme.phrases:
            phrase.gloss = glosser.gloss(phrase.text)
    for phrase in document.common:
        phrase.gloss = glosser.gloss(phrase.text)


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
    if previous is None or "caption" not in table.column_names:
        return None
    if getattr(previous, "captioner_identity", None) != captioner_identity:
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
