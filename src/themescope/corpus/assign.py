"""New videos into a fitted study: encoded with its model, assigned to its themes.

``themescope corpus more.csv --into STUDY`` (:meth:`themescope.corpus.Study.add`) runs the
assign stage: each new row is ingested into ``STUDY/videos/<id>/`` with the study's ingest
settings, its frames are encoded with the study's trained CRVAE (``STUDY/model/``; words
its vocabulary lacks encode as unknown) and each frame goes to the nearest theme centre in
the space the themes stage clustered (the latents smoothed within each video, centred and
scaled as the fitted frames were). Nothing is retrained or reclustered: the fitted
videos' frames keep their themes frame for frame.

A frame is *novel* when it is farther from every centre than :data:`NOVEL_PERCENTILE` %
of the fitted frames are from their own theme's: a new video of a story the study never
saw has a large novel share. Each video's novel share is in ``themes.json``'s ``videos``.

Then the group statistics are measured again over every video, fitted and added alike
(shares with intervals, the group test, group phrases, shares over time, covariate
effects). Writes ``STUDY/added_frames.parquet`` (the added frames, ``frame_id`` after the
fitted ones, with ``theme``, ``distance`` and ``novel``), ``STUDY/added_latents.npy``,
and rewrites ``themes.json``, ``videos.json`` (each added video with ``added``, when) and
``effects.csv``. ``frames.parquet`` and ``latents.npy`` stay the fit's, so a later rerun
of the fit never takes the added videos for fitted ones; the study's corpus is the
union, and every rerun assigns the added videos again after the fit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from themescope.corpus.executors import Executor
from themescope.corpus.ingest import frame_table, ingest_rows, row_identity
from themescope.corpus.metadata import by_metadata, write_effects
from themescope.corpus.spec import CorpusVideo
from themescope.corpus.themes import (
    StudyThemesStage,
    _group_phrases,
    _groups,
    _timelines,
    airtime,
    group_phrase_glosses,
    group_phrase_records,
    measure_groups,
)
from themescope.manifest import AssignRecord, TrainRecord
from themescope.media.config import IngestConfig
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage, StageWriter
from themescope.study_documents import (
    STUDY_SCHEMA_VERSION,
    NoveltyRecord,
    StudyThemesDocument,
    StudyVideosDocument,
    read_study_themes,
    read_study_videos,
    write_study,
)
from themescope.themes import timeline
from themescope.themes.codebook import automatic_column
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import read_inputs
from themescope.themes.gloss import Glosser, make_glosser
from themescope.themes.translate import load_translator

logger = logging.getLogger("themescope")

NOVEL_PERCENTILE = 99.0
"""A frame farther from every theme centre than this percentile of the fitted frames'
distances to their own centre is novel: by construction 1 % of the fit's frames lie
beyond it, so a novel share well above 1 % says the video shows what the fit did not."""

ADDED_FRAMES = "added_frames.parquet"
ADDED_LATENTS = "added_latents.npy"


class StudyAssignStage(Stage):
    """Ingest new videos, encode them with the study's model and assign them to its themes.

    Args:
        videos: The added rows.
        added: When each was added (ISO date-time), by id.
        ingest: The study's ingest settings.
        themes: The study's themes settings (smoothing, seed, glosses).
        executor: Runs the per-video ingest tasks.
        n_bootstrap, n_permutations, level, covariates: The study's statistics.
        device: Where to encode: ``auto``, ``cpu``, ``cuda`` or ``mps``.

    Example:
        >>> from themescope.corpus import Study
        >>> Study().add("more.csv", into="study")  # doctest: +SKIP
    """

    name = "assign"
    needs = ("themes",)
    record = AssignRecord
    files = (ADDED_FRAMES, ADDED_LATENTS)
    command = "corpus"
    kinds = ("study",)

    def __init__(
        self,
        videos: Sequence[CorpusVideo],
        added: Mapping[str, str],
        *,
        ingest: IngestConfig,
        themes: ThemesConfig,
        executor: Executor,
        n_bootstrap: int = 1000,
        n_permutations: int = 1000,
        level: float = 0.95,
        covariates: tuple[str, ...] = (),
        device: str = "auto",
    ) -> None:
        self.videos = list(videos)
        self.added = dict(added)
        self.ingest = ingest
        self.themes = themes
        self.executor = executor
        self.statistics = StudyThemesStage(
            themes,
            n_bootstrap=n_bootstrap,
            n_permutations=n_permutations,
            level=level,
            covariates=covariates,
        )
        self.device = device
        self.glosser: Glosser | None = None

    def check(self) -> None:
        """Check the executor and the translator's folder before any video is read."""
        self.executor.check()
        self.glosser = make_glosser(
            self.themes.gloss_language, translator=load_translator(self.themes.translator)
        )

    def close(self) -> None:
        """Stop the executor's workers."""
        self.executor.close()

    def settings(self) -> dict[str, Any]:
        """What the added videos are measured with."""
        return {
            "ingest": self.ingest.to_dict(),
            "novel_percentile": NOVEL_PERCENTILE,
            "statistics": self.statistics._statistics(),
        }

    def fingerprint_parts(self) -> Any:
        """The rows, when they were added, the ingest settings and the statistics'."""
        return {
            "videos": [row_identity(video) for video in self.videos],
            "added": self.added,
            "ingest": self.ingest.fingerprinted(),
            "smooth_frames": self.themes.smooth_frames,
            "seed": self.themes.seed,
            "novel_percentile": NOVEL_PERCENTILE,
            "statistics": self.statistics._statistics(),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Ingest, encode, assign; measure the groups again over every video."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        started = time.perf_counter()
        fit, fit_latents = read_inputs(run)
        records = ingest_rows(run, self.videos, self.ingest, self.executor, writer.warn)
        timings = {"ingest_s": time.perf_counter() - started}
        for record in records:
            record.added = self.added[record.id]
        done = [r for r in records if r.status == "done"]
        new = frame_table(run, done, first_id=fit.num_rows)
        latents = _encode(run, new, self.device)
        timings["encode_s"] = time.perf_counter() - started - sum(timings.values())
        config = self.themes
        fit_blank = _column(fit, "blank", bool)
        # The clustering's own themes give the centres; under a codebook the frames'
        # ``theme`` is the researcher's, and an added frame takes the one its automatic
        # theme was merged into (-1 where it was dropped).
        automatic = automatic_column(run)
        fit_labels = _column(fit, automatic, np.int64)
        centres, mean, rms, threshold = _theme_space(
            fit_latents, _strings(fit, "video"), fit_blank, fit_labels, config.smooth_frames
        )
        researcher = dict(
            zip(fit_labels.tolist(), _column(fit, "theme", np.int64).tolist(), strict=True)
        )
        new_videos = _strings(new, "video")
        new_blank = _column(new, "blank", bool)
        smoothed = timeline.smooth_within(
            latents, new_videos, config.smooth_frames, include=~new_blank
        )
        distances = np.linalg.norm(
            ((smoothed - mean) / rms)[:, None, :] - centres[None, :, :], axis=2
        )
        nearest_theme = distances.argmin(axis=1)
        labels = np.array(
            [
                -1 if blank else researcher.get(int(t), -1)
                for t, blank in zip(nearest_theme, new_blank, strict=True)
            ],
            dtype=np.int64,
        )
        nearest = distances.min(axis=1)
        novel = ~new_blank & (nearest > threshold)
        new = (
            new.append_column("theme", pa.array(labels, pa.int64()))
            .append_column("distance", pa.array(np.round(nearest, 4), pa.float64()))
            .append_column("novel", pa.array(novel, pa.bool_()))
        )
        pq.write_table(new, writer.path(ADDED_FRAMES))
        np.save(writer.path(ADDED_LATENTS), latents)

        timings["assign_s"] = time.perf_counter() - started - sum(timings.values())
        fit_novel = np.zeros(fit.num_rows, dtype=bool)
        fit_themes = _column(fit, "theme", np.int64)
        self._measure(run, writer, fit, fit_themes, fit_novel, new, labels, novel, threshold)
        timings["statistics_s"] = time.perf_counter() - started - sum(timings.values())
        previous = read_study_videos(run / STUDY_VIDEOS_NAME)
        kept = [v for v in previous.videos if v.added is None]
        write_study(
            writer.path(STUDY_VIDEOS_NAME),
            StudyVideosDocument(
                schema_version=STUDY_SCHEMA_VERSION,
                source=previous.source,
                videos=[*kept, *records],
            ),
        )
        writer.record = AssignRecord(
            added=self.added,
            n_frames=len(labels),
            n_novel_frames=int(novel.sum()),
            novel_threshold=round(threshold, 4),
            timings={name: round(seconds, 3) for name, seconds in timings.items()},
        )
        logger.info(
            "assigned %d frames of %d added videos in %.1f s (%d novel)",
            len(labels),
            len(done),
            time.perf_counter() - started,
            int(novel.sum()),
        )

    def _measure(
        self,
        run: RunDirectory,
        writer: StageWriter,
        fit: Any,
        fit_labels: np.ndarray,
        fit_novel: np.ndarray,
        new: Any,
        new_labels: np.ndarray,
        new_novel: np.ndarray,
        threshold: float,
    ) -> None:
        """Rewrite themes.json's statistics (and effects.csv) over fitted and added videos."""
        document = read_study_themes(run / "themes.json")
        known_glosses = group_phrase_glosses(document)
        # Theme ids index the themes; under a codebook they are the kept automatic ids
        # (a merge keeps its target's), so the statistics count by position.
        k = len(document.themes)
        position = {theme.id: index for index, theme in enumerate(document.themes)}
        both = [fit, new]
        videos = [v for t in both for v in _strings(t, "video")]
        groups = [g for t in both for g in _strings(t, "group")]
        seconds = np.concatenate([_column(t, "seconds", float) for t in both])
        times_s = np.concatenate([_column(t, "time_s", float) for t in both])
        texts = [x for t in both for x in _strings(t, "text")]
        langs = [x or "und" for t in both for x in _strings(t, "lang")]
        ocr_texts = [x for t in both for x in _strings(t, "ocr_text")]
        # Added frames have no captions: the captioner is the fit's, not run again here.
        captions = _strings(fit, "caption") + [""] * new.num_rows
        labels = np.array(
            [position.get(int(t), -1) for t in np.concatenate([fit_labels, new_labels])],
            dtype=np.int64,
        )
        novel = np.concatenate([fit_novel, new_novel])
        video_group = dict(zip(videos, groups, strict=True))
        on = np.flatnonzero(labels >= 0)
        on_videos = [videos[i] for i in on]
        seed = self.themes.seed
        statistics = self.statistics
        measured = measure_groups(
            videos, labels, seconds, video_group, k, writer, seed, statistics._statistics()
        )
        total = float(seconds[on].sum())
        for index, theme in enumerate(document.themes):
            rows = np.flatnonzero(labels == index)
            for name, value in airtime(rows, videos, seconds, total).items():
                setattr(theme, name, value)
            theme.group_shares = measured.share_records(index)
            glosses = {p.text: p.gloss for found in theme.group_phrases.values() for p in found}
            theme.group_phrases = group_phrase_records(
                _group_phrases(rows, groups, texts, captions, ocr_texts, langs),
                theme.said_by_both,
                glosses,
            )
            theme.group_p_value = measured.p_value(index)
        document.groups = _groups(videos, groups, seconds, langs)
        document.group_test = measured.test_record()
        document.videos = _timelines(videos, groups, labels, times_s, seconds, k)
        for timeline_record in document.videos:
            timeline_record.spans = [
                (start, end, document.themes[t].id if t >= 0 else -1)
                for start, end, t in timeline_record.spans
            ]
        added = set(_strings(new, "video"))
        for record in document.videos:
            if record.id in added:
                rows = np.flatnonzero(np.asarray(videos) == record.id)
                part = float(seconds[rows].sum())
                novel_s = float(seconds[rows][novel[rows]].sum())
                record.novel_share = round(novel_s / part, 4) if part else 0.0
        metadata = {v.id: v.metadata for v in read_study_videos(run / STUDY_VIDEOS_NAME).videos}
        metadata.update({video.id: dict(video.metadata) for video in self.videos})
        document.over_time, document.effects = by_metadata(
            run,
            on_videos,
            labels[on],
            seconds[on],
            video_group,
            {
                index: theme.researcher_label or theme.label
                for index, theme in enumerate(document.themes)
            },
            writer,
            seed=statistics.config.seed,
            n_bootstrap=statistics.n_bootstrap,
            level=statistics.level,
            covariate_names=statistics.covariates,
            metadata=metadata,
        )
        ids = [theme.id for theme in document.themes]
        if document.over_time is not None:
            for point in document.over_time.shares:
                point.theme = ids[point.theme]
        if document.effects is not None:
            for effect in document.effects.effects:
                effect.theme = ids[effect.theme]
        document.novelty = NoveltyRecord(
            threshold=round(threshold, 4),
            percentile=NOVEL_PERCENTILE,
            n_added_videos=len(added),
            n_added_frames=new.num_rows,
            n_novel_frames=int(new_novel.sum()),
        )
        if self.glosser is not None:
            # The themes' labels and phrases keep the fit's glosses; only group phrases are
            # new, and those the groups already said keep theirs (glossing is slow).
            _gloss_group_phrases(document, self.glosser, known_glosses)
        document.warnings = list(dict.fromkeys([*document.warnings, *writer.warnings]))
        write_study(writer.path("themes.json"), document)
        if document.effects is not None:
            write_effects(writer.path("effects.csv"), document.effects, document.themes)


def _theme_space(
    latents: np.ndarray,
    videos: list[str],
    blank: np.ndarray,
    labels: np.ndarray,
    smooth_frames: int,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """The fit's theme centres, the centring and scale of its features, the novelty threshold.

    The same space as :func:`~themescope.themes.describe.cluster_frames` clustered: the
    latents smoothed within each video (blank frames left out), then centred and divided
    by their root mean square (:func:`~themescope.themes.cluster.scale_features`), which
    the added frames must share, so both are returned.
    """
    smoothed = timeline.smooth_within(latents, videos, smooth_frames, include=~blank)
    content = labels >= 0
    x = np.asarray(smoothed[content], dtype=np.float64)
    mean = x.mean(axis=0)
    rms = float(np.sqrt(((x - mean) ** 2).sum(axis=1).mean())) or 1.0
    features = (x - mean) / rms
    fitted = labels[content]
    k = int(fitted.max()) + 1
    # A theme id with no fitted frame (a codebook's merged-away theme under
    # ``auto_theme`` keeps its frames; this guards ids left empty) is never the nearest.
    centres = np.stack(
        [
            features[fitted == t].mean(axis=0)
            if (fitted == t).any()
            else np.full(features.shape[1], np.inf)
            for t in range(k)
        ]
    )
    own = np.linalg.norm(features - centres[fitted], axis=1)
    return centres, mean, rms, float(np.percentile(own, NOVEL_PERCENTILE))


def _encode(run: RunDirectory, frames: Any, device_name: str) -> np.ndarray:
    """μ of every added frame with the study's trained model."""
    import torch

    from themescope.devices import resolve_device
    from themescope.model.artifacts import load_model
    from themescope.model.data import FrameData, stream_batches
    from themescope.model.text import (
        PhraseEmbedderWords,
        TokenizedText,
        Vocabulary,
        embeddings_for,
    )
    from themescope.model.trainer import encode_batches

    device = resolve_device(device_name)
    model, vocabulary = load_model(run / "model", device)
    config = model.config
    texts = [t or "" for t in _strings(frames, "text")]
    langs = [lang or "en" for lang in _strings(frames, "lang")]
    text = None
    if vocabulary is not None:
        train = run.require("train")
        words = train.word_vectors if isinstance(train, TrainRecord) else None
        source = embeddings_for(words)
        if isinstance(source, PhraseEmbedderWords):
            source.means.update(vocabulary.language_means)  # as the fit centred its words
        tokens = [
            source.tokenize(t, lang)[: config.max_tokens]
            for t, lang in zip(texts, langs, strict=True)
        ]
        # A word's vector is the word space's, not the fit's: words the fit never met get
        # theirs from the same space (a new story is new words), so the table grows.
        new_words = sorted({w for ts in tokens for w in ts} - set(vocabulary.index))
        if new_words:
            vectors, known = source.vectors(new_words)
            vocabulary = Vocabulary(
                tokens=[*vocabulary.tokens, *new_words],
                vectors=np.concatenate([vocabulary.vectors, vectors.reshape(-1, vocabulary.dim)]),
                known=np.concatenate([vocabulary.known, known]),
                source=vocabulary.source,
                language_means=vocabulary.language_means,
            )
            model.token_vectors = torch.from_numpy(vocabulary.vectors).to(device)
        token_ids = [vocabulary.encode(ts) for ts in tokens]
        text = TokenizedText(
            vocabulary=vocabulary,
            token_ids=token_ids,
            n_tokens=sum(map(len, token_ids)),
            unknown_word_rate=0.0,
        )
    n = frames.num_rows
    data = FrameData(
        frame_ids=np.arange(n),
        time_s=_column(frames, "time_s", float),
        texts=texts,
        images=None,
        token_ids=torch.zeros((0, 1), dtype=torch.int64),
        lengths=torch.zeros(0, dtype=torch.int64),
        text=text,
        n_total=n,
        image_paths=_strings(frames, "image"),
        root=run.path,
    )
    n_threads = max(1, torch.get_num_threads())
    return encode_batches(model, stream_batches(data, config, n_threads=n_threads), device)


def _gloss_group_phrases(
    document: StudyThemesDocument, glosser: Glosser, known: Mapping[str, str | None]
) -> None:
    for theme in document.themes:
        for phrases in theme.group_phrases.values():
            for phrase in phrases:
                phrase.gloss = (
                    known[phrase.text] if phrase.text in known else glosser.gloss(phrase.text)
                )


def _column(table: Any, name: str, dtype: Any) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=dtype)
    column = table.column(name)
    if dtype is bool:
        column = column.fill_null(False)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=dtype)


def _strings(table: Any, name: str) -> list[str]:
    if name not in table.column_names:
        return [""] * table.num_rows
    return [str(x) if x is not None else "" for x in table.column(name).to_pylist()]
