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
stage is all-or-nothing. The steps a study shares live in
:mod:`themescope.themes.describe`.

Example:
    >>> build_themes("runs/us-report", ThemesConfig(k_range=(3, 5))).status  # doctest: +SKIP
    'ran'
    >>> from themescope.documents import read_themes
    >>> document = read_themes("runs/us-report/themes.json")  # doctest: +SKIP
    >>> document.k, document.themes[0].label  # doctest: +SKIP
    (3, 'vaccination site')
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from themescope import registry
from themescope._limits import clip_middle
from themescope.components import identity
from themescope.documents import (
    THEMES_SCHEMA_VERSION,
    BackendsRecord,
    BlankRecord,
    CaptionerBackend,
    EmbedderBackend,
    ThemeRecord,
    ThemesDocument,
    TranslatorBackend,
    write_themes,
)
from themescope.errors import ThemescopeError
from themescope.manifest import IngestRecord, ThemesRecord
from themescope.rundir import RunDirectory, Stage, StageResult, StageWriter, run_stage
from themescope.themes import timeline
from themescope.themes.base import (
    Captioner,
    PhraseEmbedder,
    Tagger,
    ThemeMaterial,
    ThemePhrases,
)
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import (
    MAX_REPRESENTATIVE,
    add_glosses,
    blank_frames,
    caption_frames,
    cluster_run,
    describe_themes,
    phrase_record,
    read_inputs,
    representative_frames,
    theme_description,
    theme_materials,
)
from themescope.themes.gloss import Glosser, make_glosser
from themescope.themes.translate import load_translator

logger = logging.getLogger("themescope")


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
    record = ThemesRecord
    files = ("themes.json",)
    columns = ("theme", "caption")
    config_section = "themes"
    command = "themes"

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
            self.glosser = make_glosser(
                config.gloss_language, self.embedder, load_translator(config.translator)
            )

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
        ingest = run.require("ingest")
        assert isinstance(ingest, IngestRecord)  # the ingest stage's record type
        _write_themes(
            run,
            ingest,
            self.config,
            self.captioner,
            self.tagger,
            self.embedder,
            writer,
            self.glosser,
        )
        writer.record = msgspec.structs.replace(
            writer.record, captioner_identity=identity(self.captioner)
        )


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
    tagger: Tagger = registry.get("tagger", config.tagger).factory(config, embedder)
    return tagger


def backends_record(
    captioner: Captioner | None,
    tagger: Tagger,
    embedder: PhraseEmbedder,
    cluster: str,
    glosser: Glosser | None,
) -> BackendsRecord:
    """What themes.json records of the components that made the themes."""
    from themescope.embedding import embedder_info

    embedder_described = embedder_info(embedder)
    return BackendsRecord(
        captioner=captioner.backend() if captioner is not None else CaptionerBackend(name="none"),
        tagger=tagger.backend(),
        embedder=EmbedderBackend(
            name=str(embedder_described["name"]), path=embedder_described["path"]
        ),
        cluster=cluster,
        translator=gloss_translator(glosser),
    )


def gloss_translator(glosser: Glosser | None) -> TranslatorBackend | None:
    """What the documents record of the machine translator that made the glosses, if one did."""
    if glosser is None or glosser.translator is None:
        return None
    return glosser.translator.backend()


def _write_themes(
    run: RunDirectory,
    ingest: IngestRecord,
    config: ThemesConfig,
    captioner: Captioner | None,
    tagger: Tagger,
    embedder: PhraseEmbedder,
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
    lang = str(ingest.lang or _first(table.column("lang").to_pylist()) or "und")
    blank = blank_frames(table)
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

    def smooth(latents: np.ndarray) -> np.ndarray:
        return timeline.smooth_within(
            latents, np.zeros(n, dtype=int), config.smooth_frames, include=~blank
        )

    clustering = cluster_run(run, latents, smooth, times_s, config, st, content)
    selection, labels, centers = clustering.selection, clustering.labels, clustering.centers
    features = clustering.features
    timings["cluster_s"] = clustering.cluster_s
    timings["projection_s"] = time.perf_counter() - t0 - clustering.cluster_s

    t0 = time.perf_counter()
    captions = caption_frames(run, table, captioner)
    timings["caption_s"] = time.perf_counter() - t0

    durations = timeline.frame_durations_s(
        times_s,
        every_s=ingest.every_s,
        duration_s=ingest.video.duration_s if ingest.video is not None else None,
    )
    k = int(labels.max()) + 1
    materials = theme_materials(
        run,
        table,
        [np.flatnonzero(labels == t) for t in range(k)],
        texts,
        captions,
        ocr_texts,
        lambda rows: lang,
    )

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
        themes[-1].stability = clustering.theme_stability(t)
    n_unsupported = sum(1 for theme in themes for p in theme.phrases if not p.supported)
    backends = backends_record(captioner, tagger, embedder, selection.backend, glosser)
    document = ThemesDocument(
        schema_version=THEMES_SCHEMA_VERSION,
        k=k,
        k_selection=selection.to_record(),
        backends=backends,
        projection=clustering.projection.to_record(),
        themes=themes,
        common=[phrase_record(p) for p in common],
        blank=_blank_record(blank, labels, times_s, durations)
        if "blank" in table.column_names
        else None,
        stability=None if clustering.stability is None else clustering.stability.to_record(),
        warnings=list(st.warnings),
    )
    if glosser is not None:
        t0 = time.perf_counter()
        add_glosses(document, glosser)
        timings["gloss_s"] = time.perf_counter() - t0
    write_themes(st.path("themes.json"), document)

    keep = [c for c in table.column_names if c not in ("theme", "caption")]
    out = table.select(keep).append_column("theme", pa.array(labels, type=pa.int64()))
    if captioner is not None:
        out = out.append_column("caption", pa.array(captions, type=pa.string()))
    pq.write_table(out, st.path("frames.parquet"))

    timings["total_s"] = time.perf_counter() - started
    st.record = ThemesRecord(
        k=k,
        k_method=selection.method,
        k_reason=selection.reason,
        k_range=list(selection.k_range),
        backends=backends,
        projection=clustering.projection.method,
        n_frames=n,
        n_frames_blank=int(blank.sum()),
        n_unsupported_phrases=n_unsupported,
        timings={name: round(value, 3) for name, value in timings.items()},
    )
    logger.info(
        "themes written to %s (k=%d, %d unsupported phrases flagged)",
        run / "themes.json",
        k,
        n_unsupported,
    )


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


def _first(values: list[Any]) -> Any:
    return next((v for v in values if v), None)


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
