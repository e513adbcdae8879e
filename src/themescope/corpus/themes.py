"""The study's themes stage: one clustering of every frame, groups side by side.

Clusters the latents of every video's frames in one space (time is no feature:
frames come from different videos), describes each theme as a single run does
(label, phrases with evidence, people, on-screen text, glosses) with material
drawn from every video in it, then measures the groups (:mod:`themescope.corpus.stats`):
each group's share of each theme with a bootstrap interval over videos, a
permutation test over videos of whether the groups' theme distributions differ,
and the phrases each group says in a theme more than the others. With a ``date``
column in the corpus manifest, each group's share of each theme per time bin; with
covariates, their effects on a video's share of each theme (``STUDY/effects.csv``).
Writes ``STUDY/themes.json`` (:class:`~themescope.documents.StudyThemesDocument`) and
the ``theme`` column of ``STUDY/frames.parquet``.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from themescope.components import identity
from themescope.corpus import stats
from themescope.corpus.spec import Covariate, date_column, parse_date, read_covariates
from themescope.documents import (
    STUDY_THEMES_SCHEMA_VERSION,
    CovariateRecord,
    EffectRecord,
    EffectsRecord,
    GroupPhraseRecord,
    GroupRecord,
    GroupTestRecord,
    OverTimeRecord,
    ShareRecord,
    StudyThemeRecord,
    StudyThemesDocument,
    TimeShareRecord,
    VideoTimelineRecord,
    read_study_videos,
    write_study,
)
from themescope.errors import ConfigError, RunDirectoryError, ThemescopeError
from themescope.manifest import ThemesRecord
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, Stage, StageWriter
from themescope.themes import timeline
from themescope.themes.base import Captioner, PhraseEmbedder, Tagger, ThemeMaterial
from themescope.themes.candidates import theme_passages
from themescope.themes.config import ThemesConfig
from themescope.themes.describe import (
    add_glosses,
    caption_frames,
    cluster_frames,
    describe_themes,
    lower_third_texts,
    on_screen_lines,
    phrase_record,
    read_inputs,
    representative_frames,
    theme_description,
)
from themescope.themes.gloss import Glosser
from themescope.themes.stage import ThemesStage, backends_record

logger = logging.getLogger("themescope")

STUDY_COLUMNS = ("video", "group", "seconds")

N_GROUP_PHRASES = 8

EFFECT_COLUMNS = (
    "theme",
    "label",
    "term",
    "covariate",
    "level",
    "reference",
    "unit",
    "estimate",
    "low",
    "high",
    "significant",
)
"""Columns of ``STUDY/effects.csv``: one row per theme and term; ``estimate``, ``low`` and
``high`` are changes of a video's share of the theme (0.12: 12 points)."""


class StudyThemesStage(Stage):
    """Cluster a study's frames into themes and compare its groups.

    Args:
        config: Clustering and description settings (the study's default k range is wider).
        captioner: A captioner instance instead of the one ``config`` names.
        tagger: A tagger instance instead of the one ``config`` names.
        embedder: A phrase embedder instance instead of the one ``config`` names.
        n_bootstrap: Resamples of videos for each share's interval.
        n_permutations: Permutations of the videos' groups for the difference test.
        level: Confidence level of the intervals.
        covariates: Metadata columns whose effects on the videos' theme shares are
            estimated (checked against the corpus by :class:`~themescope.corpus.Study`).
    """

    name = "themes"
    needs = ("train",)
    record = ThemesRecord
    files = ("themes.json", "effects.csv")
    columns = ("theme", "caption")
    config_section = "themes"
    command = "corpus"
    kinds = ("study",)

    def __init__(
        self,
        config: ThemesConfig,
        *,
        captioner: Captioner | None = None,
        tagger: Tagger | None = None,
        embedder: PhraseEmbedder | None = None,
        n_bootstrap: int = 1000,
        n_permutations: int = 1000,
        level: float = 0.95,
        covariates: tuple[str, ...] = (),
    ) -> None:
        # The single-run stage resolves, checks and fingerprints the same components.
        self.describer = ThemesStage(config, captioner=captioner, tagger=tagger, embedder=embedder)
        self.config = config
        self.n_bootstrap = n_bootstrap
        self.n_permutations = n_permutations
        self.level = level
        self.covariates = covariates

    def check(self) -> None:
        """Resolve and check the components."""
        self.describer.check()

    def settings(self) -> dict[str, Any]:
        """The themes settings and the statistics'."""
        return {**self.describer.settings(), "statistics": self._statistics()}

    def fingerprint_parts(self) -> Any:
        """The components' identities and the statistics' settings."""
        return {"describe": self.describer.fingerprint_parts(), "statistics": self._statistics()}

    def _statistics(self) -> dict[str, Any]:
        return {
            "n_bootstrap": self.n_bootstrap,
            "n_permutations": self.n_permutations,
            "level": self.level,
            "covariates": list(self.covariates),
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Cluster, describe, measure the groups; write themes.json and the theme column."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        describer = self.describer
        assert describer.tagger is not None and describer.embedder is not None  # by check()
        if describer.embedder.fallback_reason:
            writer.warn(describer.embedder.fallback_reason)
        config = self.config
        started = time.perf_counter()
        table, latents = read_inputs(run)
        missing = [c for c in STUDY_COLUMNS if c not in table.column_names]
        if missing:
            raise RunDirectoryError(
                f"{run / 'frames.parquet'} lacks column(s) {', '.join(missing)}: it is not a "
                "study's; rerun `themescope corpus`"
            )
        videos = [str(v) for v in table.column("video").to_pylist()]
        groups = [str(g) for g in table.column("group").to_pylist()]
        seconds = np.asarray(table.column("seconds").to_numpy(zero_copy_only=False), float)
        times_s = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), float)
        texts = [t or "" for t in table.column("text").to_pylist()]
        langs = [lang or "und" for lang in table.column("lang").to_pylist()]
        ocr_texts = [t or "" for t in table.column("ocr_text").to_pylist()]
        video_group = dict(zip(videos, groups, strict=True))
        # Black and blank frames would form a theme of their own whatever the programme:
        # they get theme -1 and are left out of the shares, as in a single run.
        blank = (
            np.asarray(table.column("blank").fill_null(False).to_numpy(zero_copy_only=False), bool)
            if "blank" in table.column_names  # studies gathered before blank frames were marked
            else np.zeros(len(videos), dtype=bool)
        )
        content = np.flatnonzero(~blank)
        if len(content) == 0:
            raise ThemescopeError(
                f"all {len(blank)} frames of the study are black or blank: nothing to cluster"
            )
        if blank.any():
            writer.warn(
                f"{int(blank.sum())} of {len(blank)} frames are black or blank: they belong to "
                "no theme and the groups' shares are of the rest of their airtime"
            )

        smoothed = timeline.smooth_within(latents, videos, config.smooth_frames, include=~blank)
        clustering = cluster_frames(smoothed, None, config, writer, content=content)
        labels = clustering.labels
        k = int(labels.max()) + 1
        captions = caption_frames(run, table, describer.captioner)
        members = [np.flatnonzero(labels == t) for t in range(k)]
        straps = lower_third_texts(run, table)
        materials = [
            ThemeMaterial(
                theme_id=t,
                frame_ids=[int(i) for i in rows],
                texts=[texts[i] for i in rows],
                captions=[captions[i] for i in rows],
                lang=_majority([langs[i] for i in rows]),
                on_screen=on_screen_lines([ocr_texts[i] for i in rows]),
                screen_texts=[ocr_texts[i] for i in rows],
                strap_texts=None if straps is None else [straps[i] for i in rows],
            )
            for t, rows in enumerate(members)
        ]
        described, common = describe_themes(
            materials, describer.tagger, describer.embedder, config.n_phrases, writer
        )

        on = content
        on_videos = [videos[i] for i in on]
        shares = stats.group_shares(
            on_videos,
            labels[on],
            seconds[on],
            video_group,
            k,
            n_bootstrap=self.n_bootstrap,
            level=self.level,
            seed=config.seed,
        )
        for message in shares.warnings:
            writer.warn(message)
        test = _difference_test(
            [videos[i] for i in on],
            labels[on],
            seconds[on],
            video_group,
            k,
            config.seed,
            self,
            writer,
        )
        phrases_by_group = [
            _group_phrases(rows, groups, texts, captions, ocr_texts, langs) for rows in members
        ]
        # Frames of different videos are never "close in time": representative frames spread.
        video_index = {v: i for i, v in enumerate(dict.fromkeys(videos))}
        apart_s = np.array([video_index[v] for v in videos], float) * 1e9 + times_s
        step = float(np.median(seconds)) if len(seconds) else 1.0
        total = float(seconds[on].sum())
        themes = []
        for t, (material, result, rows) in enumerate(
            zip(materials, described, members, strict=True)
        ):
            theme_seconds = float(seconds[rows].sum())
            themes.append(
                StudyThemeRecord(
                    **theme_description(t, material, result, config.n_phrases, writer),
                    frames=material.frame_ids,
                    n_frames=len(rows),
                    share=round(theme_seconds / total, 4) if total else 0.0,
                    seconds=round(theme_seconds, 3),
                    spans=[],
                    representative_frames=representative_frames(
                        material.frame_ids,
                        clustering.features,
                        clustering.centers[t],
                        apart_s,
                        2 * step,
                    ),
                    group_shares={
                        group: ShareRecord(
                            share=round(interval.share, 4),
                            low=None if interval.low is None else round(interval.low, 4),
                            high=None if interval.high is None else round(interval.high, 4),
                        )
                        for group, intervals in shares.shares.items()
                        for interval in [intervals[t]]
                    },
                    group_phrases={
                        group: [
                            GroupPhraseRecord(text=text, z=round(float(z), 3), count=int(count))
                            for text, z, count in found
                        ]
                        for group, found in phrases_by_group[t].items()
                    },
                    group_p_value=_theme_p_value(test, t),
                    n_videos=len({videos[i] for i in rows}),
                    stability=clustering.theme_stability(t),
                )
            )
        over_time, effects = self._by_metadata(
            run,
            on_videos,
            labels[on],
            seconds[on],
            video_group,
            {theme.id: theme.label for theme in themes},
            writer,
        )
        document = StudyThemesDocument(
            schema_version=STUDY_THEMES_SCHEMA_VERSION,
            k=k,
            k_selection=clustering.selection.to_record(),
            backends=backends_record(
                describer.captioner,
                describer.tagger,
                describer.embedder,
                clustering.selection.backend,
            ),
            projection=clustering.projection.to_record(),
            themes=themes,
            common=[phrase_record(p) for p in common],
            stability=None if clustering.stability is None else clustering.stability.to_record(),
            warnings=[],
            groups=_groups(videos, groups, seconds, langs),
            group_test=None
            if test is None
            else GroupTestRecord(
                method=test.method,
                statistic=round(float(test.statistic), 6),
                p_value=round(float(test.p_value), 4),
                n_permutations=test.n_permutations,
                correction=test.correction,
            ),
            confidence_level=self.level,
            n_bootstrap=self.n_bootstrap,
            videos=_timelines(videos, groups, labels, times_s, seconds, k),
            over_time=over_time,
            effects=effects,
        )
        if describer.glosser is not None:
            _add_study_glosses(document, describer.glosser)
        document.warnings = list(writer.warnings)
        write_study(writer.path("themes.json"), document)
        if effects is not None:
            _write_effects(writer.path("effects.csv"), effects, themes)
        keep = [c for c in table.column_names if c not in ("theme", "caption")]
        out = table.select(keep).append_column("theme", pa.array(labels, type=pa.int64()))
        if describer.captioner is not None:
            out = out.append_column("caption", pa.array(captions, type=pa.string()))
        pq.write_table(out, writer.path("frames.parquet"))
        writer.record = ThemesRecord(
            k=k,
            k_method=clustering.selection.method,
            k_reason=clustering.selection.reason,
            k_range=list(clustering.selection.k_range),
            backends=document.backends,
            projection=clustering.projection.method,
            n_frames=len(labels),
            n_unsupported_phrases=sum(
                1 for theme in themes for p in theme.phrases if not p.supported
            ),
            timings={"total_s": round(time.perf_counter() - started, 3)},
            captioner_identity=identity(describer.captioner),
        )

    def _by_metadata(
        self,
        run: RunDirectory,
        videos: list[str],
        labels: np.ndarray,
        seconds: np.ndarray,
        video_group: dict[str, str],
        theme_labels: dict[int, str],
        writer: StageWriter,
        metadata: dict[str, dict[str, str]] | None = None,
    ) -> tuple[OverTimeRecord | None, EffectsRecord | None]:
        """Shares over time (with a date column) and covariate effects (when asked).

        ``metadata``: each video's metadata columns; videos.json's when None.
        """
        k = len(theme_labels)
        order, matrix = _video_seconds(videos, labels, seconds, list(video_group), k)
        if not order:
            return None, None
        if metadata is None:
            metadata = {
                video.id: video.metadata
                for video in read_study_videos(run / STUDY_VIDEOS_NAME).videos
            }
        rows = [metadata.get(video, {}) for video in order]
        groups = [video_group[video] for video in order]
        column = date_column(list(dict.fromkeys(key for row in rows for key in row)))
        dates = [parse_date(row[column]) for row in rows] if column is not None else []
        seed = self.config.seed
        over_time = None
        if dates:
            found = stats.shares_over_time(
                matrix, groups, dates, n_bootstrap=self.n_bootstrap, level=self.level, seed=seed
            )
            if len(found.bins) > 1:
                over_time = _over_time_record(column or "", found)
        if not self.covariates:
            return over_time, None
        try:
            covariates = read_covariates(
                self.covariates, list(enumerate(rows, start=1)), "the study's ingested videos"
            )
        except ConfigError as exc:
            # The corpus was checked before any work; videos that failed can still leave
            # a covariate with one value among the rest.
            writer.warn(f"no covariate effects: {exc}")
            return over_time, None
        unit = stats.time_unit(dates) if dates else "day"
        design, terms = stats.design_matrix(covariates, rows, groups, unit)
        shares = matrix / matrix.sum(axis=1, keepdims=True)
        effects, warnings = stats.covariate_effects(
            shares, design, terms, n_bootstrap=self.n_bootstrap, level=self.level, seed=seed
        )
        for message in warnings:
            writer.warn(message)
        if not effects:
            return over_time, None
        return over_time, EffectsRecord(
            model=_model_sentence(covariates, terms),
            covariates=[
                CovariateRecord(name=c.name, kind=c.kind, levels=list(c.levels)) for c in covariates
            ],
            n_videos=len(order),
            n_bootstrap=self.n_bootstrap,
            confidence_level=self.level,
            effects=[_effect_record(effect, theme_labels[effect.theme]) for effect in effects],
        )


def _effect_record(effect: stats.Effect, label: str) -> EffectRecord:
    # Significance is judged on the interval as written: one whose end rounds to 0 is not.
    rounded = dataclasses.replace(
        effect,
        estimate=_rounded(effect.estimate),
        low=None if effect.low is None else _rounded(effect.low),
        high=None if effect.high is None else _rounded(effect.high),
    )
    return EffectRecord(
        theme=effect.theme,
        term=effect.term.name,
        covariate=effect.term.covariate,
        level=effect.term.level,
        reference=effect.term.reference,
        unit=effect.term.unit,
        estimate=rounded.estimate,
        low=rounded.low,
        high=rounded.high,
        significant=rounded.significant,
        sentence=stats.effect_sentence(
            effect.term, rounded.estimate, rounded.low or 0.0, rounded.high or 0.0, label
        )
        if rounded.significant
        else None,
    )


def _rounded(value: float) -> float:
    # Adding 0.0 turns a -0.0 left by rounding a tiny negative into 0.0.
    return round(value, 4) + 0.0


def _video_seconds(
    videos: list[str], labels: np.ndarray, seconds: np.ndarray, order: list[str], k: int
) -> tuple[list[str], np.ndarray]:
    """The videos with airtime, in study order, and their seconds per theme (n_videos, k)."""
    index = {video: i for i, video in enumerate(order)}
    rows = np.array([index[video] for video in videos], dtype=np.int64)
    matrix = np.bincount(
        rows * k + labels.astype(np.int64), weights=seconds, minlength=len(order) * k
    ).reshape(len(order), k)
    kept = matrix.sum(axis=1) > 0
    return [video for video, keep in zip(order, kept, strict=True) if keep], matrix[kept]


def _over_time_record(column: str, found: stats.OverTime) -> OverTimeRecord:
    return OverTimeRecord(
        column=column,
        unit=found.unit,
        bins=[start.isoformat() for start in found.bins],
        shares=[
            TimeShareRecord(
                group=point.group,
                start=point.start.isoformat(),
                theme=point.theme,
                share=round(point.share, 4),
                low=None if point.low is None else round(point.low, 4),
                high=None if point.high is None else round(point.high, 4),
                n_videos=point.n_videos,
            )
            for point in found.shares
        ],
    )


def _model_sentence(covariates: tuple[Covariate, ...], terms: list[stats.Term]) -> str:
    """The regression in words, for the report's method section."""
    parts = []
    for covariate in covariates:
        if covariate.kind == "categorical":
            parts.append(f"{covariate.name} (categorical, against {covariate.levels[0]})")
        elif covariate.kind == "date":
            unit = next(term.unit for term in terms if term.covariate == covariate.name)
            parts.append(f"{covariate.name} (time since the first video, per {unit})")
        else:
            parts.append(f"{covariate.name} (a number, per unit)")
    reference = next((term.reference for term in terms if term.covariate == "group"), None)
    group = f"the group (categorical, against {reference})" if reference else "no group term"
    return (
        "For each theme, an ordinary least squares regression of each video's share of its "
        f"airtime in the theme on {group} and {', '.join(parts)}; every video counts once. "
        "Intervals are percentile intervals of the coefficients refitted on resamples of "
        "the videos drawn with replacement."
    )


def _write_effects(path: Path, effects: EffectsRecord, themes: list[StudyThemeRecord]) -> None:
    labels = {theme.id: theme.label for theme in themes}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(EFFECT_COLUMNS)
        for e in effects.effects:
            out.writerow(
                [
                    e.theme,
                    labels[e.theme],
                    e.term,
                    e.covariate,
                    e.level or "",
                    e.reference or "",
                    e.unit or "",
                    e.estimate,
                    "" if e.low is None else e.low,
                    "" if e.high is None else e.high,
                    str(e.significant).lower(),
                ]
            )


def _difference_test(
    videos: list[str],
    labels: np.ndarray,
    seconds: np.ndarray,
    video_group: dict[str, str],
    k: int,
    seed: int,
    stage: StudyThemesStage,
    writer: StageWriter,
) -> stats.GroupTest | None:
    if len(set(video_group.values())) < 2:
        writer.warn("the study has one group: there is nothing to compare groups with")
        return None
    try:
        test = stats.group_difference_test(
            videos, labels, seconds, video_group, k, n_permutations=stage.n_permutations, seed=seed
        )
    except stats.TooFewGroupsError as exc:
        writer.warn(str(exc))
        return None
    for message in test.warnings:
        writer.warn(message)
    return test


def _theme_p_value(test: stats.GroupTest | None, theme: int) -> float | None:
    return None if test is None else round(float(test.theme_p_values_adjusted[theme]), 4)


def _majority(values: list[str]) -> str:
    return Counter(values).most_common(1)[0][0] if values else "und"


def _group_phrases(
    rows: np.ndarray,
    groups: list[str],
    texts: list[str],
    captions: list[str],
    ocr_texts: list[str],
    langs: list[str],
) -> dict[str, list[tuple[str, float, int]]]:
    """The phrases each group says in one theme more than the others (their passages)."""
    passages: dict[str, list[str]] = {}
    lang_by_group: dict[str, str] = {}
    for group in dict.fromkeys(groups[i] for i in rows):
        mine = [int(i) for i in rows if groups[i] == group]
        material = ThemeMaterial(
            theme_id=-1,
            frame_ids=mine,
            texts=[texts[i] for i in mine],
            captions=[captions[i] for i in mine],
            lang=_majority([langs[i] for i in mine]),
            on_screen=on_screen_lines([ocr_texts[i] for i in mine]),
        )
        # Consecutive frames repeat a cue: passages count each sentence once.
        passages[group] = theme_passages(material)
        lang_by_group[group] = material.lang
    return stats.group_phrases(passages, lang_by_group, n=N_GROUP_PHRASES)


def _groups(
    videos: list[str], groups: list[str], seconds: np.ndarray, langs: list[str]
) -> list[GroupRecord]:
    records = []
    for group, rows in timeline.rows_by_key(groups).items():
        records.append(
            GroupRecord(
                name=group,
                n_videos=len({videos[i] for i in rows}),
                seconds=round(float(seconds[rows].sum()), 3),
                langs=sorted({langs[i] for i in rows if langs[i] != "und"}),
            )
        )
    return records


def _timelines(
    videos: list[str],
    groups: list[str],
    labels: np.ndarray,
    times_s: np.ndarray,
    seconds: np.ndarray,
    k: int,
) -> list[VideoTimelineRecord]:
    records = []
    for video, rows in timeline.rows_by_key(videos).items():
        themed = rows[labels[rows] >= 0]
        total = float(seconds[themed].sum())
        per_theme = np.bincount(labels[themed], weights=seconds[themed], minlength=k)
        records.append(
            VideoTimelineRecord(
                id=video,
                group=groups[int(rows[0])],
                seconds=round(float(seconds[rows].sum()), 3),
                shares=[round(float(x / total), 4) if total else 0.0 for x in per_theme],
                spans=[
                    (round(span.start_s, 3), round(span.end_s, 3), span.label)
                    for span in timeline.spans(labels[rows], times_s[rows], seconds[rows])
                ],
            )
        )
    return records


def _add_study_glosses(document: StudyThemesDocument, glosser: Glosser) -> None:
    add_glosses(document, glosser)
    for theme in document.themes:
        for phrases in theme.group_phrases.values():
            for phrase in phrases:
                phrase.gloss = glosser.gloss(phrase.text)
