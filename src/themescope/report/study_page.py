r"""Render a study's ``report.html``: the groups side by side, for a media researcher.

The page reads the study directory (:mod:`themescope.corpus.study`): ``manifest.json``,
``themes.json`` (:class:`~themescope.study_documents.StudyThemesDocument`), ``videos.json``
and ``frames.parquet`` with the frame images under ``videos/``. It shows, in order:

- every warning of the study (its stages', its documents', each video's) and the
  videos that could not be ingested, with their errors;
- the method in a few sentences: the videos of each group, the frames, the model,
  how k was chosen, the bootstrap over videos and the permutation test, with what
  its p-value means in words;
- the theme × group share table as a heat map, each share with its interval, each
  theme with its corrected p-value, and each group's mix of themes as a bar;
- with a date column, each theme's share over time per group (one small line chart per
  theme, a band for the interval over a time bin's videos);
- with covariates, their effects on each theme's share of a video, significant ones in
  a sentence each, and the regression stated in the method;
- one card per theme: its phrases, people and on-screen text, and for each group
  its example frames and the phrases it says more than the others;
- the videos added to the fitted study (``--into``), when, and each one's share of
  novel frames (far from every theme), with how the novelty threshold was calibrated;
- each video's timeline, grouped by group, on one time scale.

Like the run report it is one self-contained file: thumbnails are small JPEG
``data:`` URIs, the charts inline SVG, text escaped by Jinja, and its
Content-Security-Policy forbids every request. It needs no script. Its size is
bounded whatever the study's: at most :data:`MAX_FRAMES_PER_THEME` thumbnails per
theme (at least one per group), and one rectangle per theme span of each video.

Example:
    >>> from themescope.report.study_page import render_study_report
    >>> render_study_report("study").status  # doctest: +SKIP
    'ran'

"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from themescope._limits import clip_text
from themescope.errors import RunDirectoryError
from themescope.manifest import IngestRecord, Manifest, TrainRecord
from themescope.report import plots
from themescope.report._common import (
    THUMB_WIDTH_PX,
    backend_rows,
    clock,
    codebook_line,
    codebook_summary,
    fmt_pct,
    k_selection_context,
    model_facts,
    people_lines,
    render_page,
    shown_gloss,
    stability_context,
    stage_settings,
    stage_warnings,
    theme_title,
    thumbnail_inside,
)
from themescope.report.render import BLANK_LABEL, BuiltPage, ReportStage
from themescope.rundir import STUDY_VIDEOS_NAME, RunDirectory, StageResult, run_stage
from themescope.study_documents import (
    StudyThemeRecord,
    StudyThemesDocument,
    StudyVideoRecord,
    StudyVideosDocument,
    read_study_themes,
    read_study_videos,
)

logger = logging.getLogger("themescope")

MAX_FRAMES_PER_GROUP = 4
"""Example frames of one group in one theme card."""
MAX_FRAMES_PER_THEME = 24
"""Example frames of all groups in one theme card; each group still gets one, so a study
of many groups shows one frame per group."""
MAX_PHRASES = 10
MAX_GROUP_PHRASES = 8
MAX_ON_SCREEN_LINES = 6
MAX_CAPTION_CHARS = 300
"""Longest frame text kept as a thumbnail's tooltip."""
MAX_TITLE_CHARS = 80
"""Longest theme label in a timeline segment's tooltip."""
MAX_METADATA_CHARS = 120
"""Longest metadata value (a URL, a programme title) shown beside a video."""

MAX_TIME_TICKS = 5
"""Dates labelled under a chart of shares over time."""
MAX_CHART_TITLE_CHARS = 48
"""Longest theme label above its chart of shares over time."""

FRAME_COLUMNS = ("frame_id", "video", "group", "time_s", "image")
"""Columns of ``STUDY/frames.parquet`` the page cannot do without."""


# --------------------------------------------------------------------------- study data


@dataclass
class _Frames:
    """The study's frames, row i being frame_id i; text is read only for the frames shown."""

    table: Any
    video: list[str]
    group: list[str]
    time_s: np.ndarray
    image: list[str]

    def texts(self, frame_ids: Sequence[int], column: str) -> list[str]:
        """The ``column`` text of these frames ("" where the column is missing)."""
        if column not in self.table.column_names or not frame_ids:
            return ["" for _ in frame_ids]
        values = self.table.column(column).take(list(frame_ids)).to_pylist()
        return [str(value or "") for value in values]


@dataclass
class _StudyView:
    """Everything the page reads about a study, loaded once."""

    path: Path
    manifest: Manifest
    document: StudyThemesDocument
    videos: StudyVideosDocument
    frames: _Frames
    thumb_width_px: int
    thumbs: dict[int, str] = field(default_factory=dict)
    n_missing_images: int = 0

    @property
    def alpha(self) -> float:
        """The level below which a p-value counts as a difference: that of the intervals."""
        return round(1.0 - self.document.confidence_level, 6)

    def differs(self, p_value: float | None) -> bool:
        """Whether a p-value says the groups differ."""
        return p_value is not None and p_value < self.alpha

    def thumbnail(self, frame_id: int) -> str | None:
        """The frame's thumbnail (made once; None when its image cannot be read)."""
        if frame_id not in self.thumbs:
            relative = self.frames.image[frame_id]
            uri = thumbnail_inside(self.path, relative, self.thumb_width_px) if relative else None
            if uri is None:
                self.n_missing_images += 1
                return None
            self.thumbs[frame_id] = uri
        return self.thumbs[frame_id]


def _read_frames(path: Path) -> _Frames:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise RunDirectoryError(f"{path} is missing; rerun `themescope corpus`") from None
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise RunDirectoryError(f"{path} is unreadable ({exc})") from exc
    missing = [c for c in FRAME_COLUMNS if c not in table.column_names]
    if missing:
        raise RunDirectoryError(f"{path} lacks the column(s) {', '.join(missing)}")
    table = table.sort_by("frame_id")
    ids = np.asarray(table.column("frame_id").to_numpy(zero_copy_only=False))
    if not np.array_equal(ids, np.arange(table.num_rows)):
        raise RunDirectoryError(f"{path}: frame_id must be 0..{table.num_rows - 1} without gaps")
    return _Frames(
        table=table,
        video=[str(v) for v in table.column("video").to_pylist()],
        group=[str(g) for g in table.column("group").to_pylist()],
        time_s=np.nan_to_num(
            np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), dtype=float)
        ),
        image=[str(i or "") for i in table.column("image").to_pylist()],
    )


def _load_study(path: Path, thumb_width_px: int) -> _StudyView:
    study = RunDirectory(path)
    return _StudyView(
        path=path,
        manifest=study.read_manifest(),
        document=read_study_themes(path / "themes.json"),
        videos=read_study_videos(path / STUDY_VIDEOS_NAME),
        frames=_read_frames(path / "frames.parquet"),
        thumb_width_px=thumb_width_px,
    )


# --------------------------------------------------------------------------- formats


def _p_text(p_value: float | None) -> str:
    """A p-value as a researcher reads it: three decimals, ``< 0.001`` below that."""
    if p_value is None or not math.isfinite(p_value):
        return "—"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def _interval_text(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "no interval (one video)"
    low_text, high_text = f"{low * 100:.1f}", f"{high * 100:.1f}"
    # Resampling videos that all give the same share gives that share every time.
    if low_text == high_text:
        return "no spread: the same in every video"
    return f"{low_text}–{high_text}%"


def _title(method: Mapping[str, Any]) -> str:
    """The page's title: how many videos, and the groups compared."""
    n_videos = method["n_videos"]
    groups = " vs ".join(g["name"] for g in method["groups"])
    return f"Study of {n_videos} video{'' if n_videos == 1 else 's'}: {groups}"


def _label(theme: StudyThemeRecord) -> str:
    return theme_title(theme)[0]


# --------------------------------------------------------------------------- sections


def _warnings(view: _StudyView) -> list[dict[str, str]]:
    """The stages' and themes.json's warnings, then each video's own (tagged with its id)."""
    found = stage_warnings(view.manifest, view.document)
    seen = {w["message"] for w in found}
    for video in view.videos.videos:
        for message in video.warnings:
            if message not in seen:
                seen.add(message)
                found.append({"stage": video.id, "message": message})
    return found


def _method(view: _StudyView) -> dict[str, Any]:
    """The facts the method section states in words."""
    document, manifest = view.document, view.manifest
    ingest = manifest.record("ingest", IngestRecord) or IngestRecord()
    train = manifest.record("train", TrainRecord)
    train_config = manifest.config.get("train", {})
    test = document.group_test
    verdict = None
    if test is not None:
        verdict = {
            "p_text": _p_text(test.p_value),
            "differs": view.differs(test.p_value),
            "chance": fmt_pct(test.p_value, 1 if test.p_value >= 0.001 else 2),
        }
    done = [v for v in view.videos.videos if v.status == "done"]
    return {
        "groups": [
            {
                "name": g.name,
                "n_videos": g.n_videos,
                "seconds": g.seconds,
                "langs": ", ".join(g.langs) or "—",
            }
            for g in document.groups
        ],
        "n_videos": len(done),
        "n_failed": len(view.videos.videos) - len(done),
        "n_frames": len(view.frames.video),
        "every_s": ingest.every_s,
        "seconds": sum(g.seconds for g in document.groups),
        "train": train,
        "model_facts": model_facts(train) if train is not None else [],
        "word_vectors": train_config.get("word_vectors")
        if isinstance(train_config, Mapping)
        else None,
        "backends": document.backends,
        "test": test,
        "verdict": verdict,
        "alpha": view.alpha,
        "level": document.confidence_level,
        "n_bootstrap": document.n_bootstrap,
        "phrase_matching": document.phrase_matching,
    }


def _heat_map(view: _StudyView) -> dict[str, Any]:
    """Rows of the theme × group table, coloured on one scale from 0 to the largest share."""
    document = view.document
    groups = [g.name for g in document.groups]
    largest = max((s.share for t in document.themes for s in t.group_shares.values()), default=0.0)
    # A round top (40 %, not 37 %) so that the legend reads at a glance.
    high = min(max(math.ceil(largest * 10) / 10, 0.1), 1.0)
    rows = []
    for theme in document.themes:
        cells = []
        for group in groups:
            share = theme.group_shares.get(group)
            value = share.share if share is not None else None
            cells.append(
                {
                    "group": group,
                    "share": value,
                    "interval": _interval_text(share.low, share.high) if share else "",
                    "bg": plots.heat_color(value, 0.0, high),
                    "fg": plots.heat_text_color(value, 0.0, high),
                }
            )
        rows.append(
            {
                "id": theme.id,
                "label": _label(theme),
                "label_gloss": theme_title(theme)[1],
                "share": theme.share,
                "n_videos": theme.n_videos,
                "p_text": _p_text(theme.group_p_value),
                "differs": view.differs(theme.group_p_value),
                "cells": cells,
            }
        )
    return {
        "groups": groups,
        "rows": rows,
        "legend": {
            "low": plots.heat_color(0.0, 0.0, high),
            "high": plots.heat_color(high, 0.0, high),
            "ticks": [fmt_pct(high * i / 4) for i in range(5)],
        },
    }


def _group_mixes(view: _StudyView) -> list[dict[str, Any]]:
    """Each group's airtime as one bar split by theme (its shares sum to 1)."""
    mixes = []
    for group in view.document.groups:
        segments, start = [], 0.0
        for theme in view.document.themes:
            share = theme.group_shares.get(group.name)
            if share is None or share.share <= 0:
                continue
            title = f"{clip_text(_label(theme), MAX_TITLE_CHARS)}: {fmt_pct(share.share, 1)}"
            segments.append(plots.Segment(start, start + share.share, theme.id, title=title))
            start += share.share
        svg = plots.timeline(
            segments,
            1.0,
            height=20,
            svg_id=None,
            css_class="mix-bar",
            label=f"airtime of {group.name} by theme",
        )
        mixes.append({"name": group.name, "svg": svg})
    return mixes


def _over_time(view: _StudyView) -> dict[str, Any] | None:
    """One small line chart per theme: each group's share per time bin, with its band."""
    document = view.document
    over = document.over_time
    if over is None:
        return None
    position = {start: i for i, start in enumerate(over.bins)}
    step = max(1, math.ceil(len(over.bins) / MAX_TIME_TICKS))
    ticks = [
        (float(i), start[:7] if over.unit == "month" else start)
        for i, start in enumerate(over.bins)
        if i % step == 0
    ]
    points: dict[tuple[int, str], list[Any]] = {}
    for point in sorted(over.shares, key=lambda p: position.get(p.start, 0)):
        points.setdefault((point.theme, point.group), []).append(point)
    groups = [g.name for g in document.groups]
    charts = []
    for theme in document.themes:
        series = [
            plots.Series(
                group,
                [float(position.get(p.start, 0)) for p in found],
                [p.share for p in found],
                color=plots.PALETTE[g % len(plots.PALETTE)],
                lows=[p.low for p in found],
                highs=[p.high for p in found],
            )
            for g, group in enumerate(groups)
            for found in [points.get((theme.id, group), [])]
        ]
        charts.append(
            {
                "id": theme.id,
                "label": _label(theme),
                "label_gloss": theme_title(theme)[1],
                "svg": plots.line_chart(
                    series,
                    title=clip_text(_label(theme), MAX_CHART_TITLE_CHARS),
                    y_label="share of airtime",
                    x_ticks=ticks,
                    width_px=340,
                    height_px=210,
                ),
            }
        )
    return {
        "column": over.column,
        "unit": over.unit,
        "first": over.bins[0],
        "last": over.bins[-1],
        "n_bins": len(over.bins),
        "charts": charts,
    }


def _effects(view: _StudyView) -> dict[str, Any] | None:
    """The covariates' effects: a sentence per significant one and the whole table."""
    document = view.document
    found = document.effects
    if found is None:
        return None
    significant = sorted(
        (e for e in found.effects if e.sentence is not None), key=lambda e: -abs(e.estimate)
    )
    terms = list(dict.fromkeys(e.term for e in found.effects))
    cells: dict[tuple[int, str], dict[str, Any]] = {
        (e.theme, e.term): {
            "estimate": f"{100 * e.estimate:+.1f}",
            "interval": "no interval"
            if e.low is None or e.high is None
            else f"{100 * e.low:.1f} to {100 * e.high:.1f}",
            "significant": e.significant,
        }
        for e in found.effects
    }
    return {
        "model": found.model,
        "n_videos": found.n_videos,
        "n_bootstrap": found.n_bootstrap,
        "level": found.confidence_level,
        "sentences": [e.sentence for e in significant],
        "terms": terms,
        "rows": [
            {
                "id": theme.id,
                "label": _label(theme),
                "label_gloss": theme_title(theme)[1],
                "cells": [cells.get((theme.id, term)) for term in terms],
            }
            for theme in document.themes
        ],
    }


def _examples(representative: list[int], by_video: dict[str, list[int]], n_max: int) -> list[int]:
    """Up to ``n_max`` frames of one group in a theme, typical and from as many videos as can be.

    The theme's representative frames of the group come first (closest to the theme's
    centre), then, in turns over the group's videos (most frames in the theme first),
    frames spread over each video's time in the theme.
    """
    picks = list(representative[:n_max])
    queues = [
        _spread(frames, n_max)
        for frames in sorted(by_video.values(), key=len, reverse=True)  # stable: first seen
    ]
    for turn in range(n_max):
        for queue in queues:
            if len(picks) >= n_max:
                return picks
            if turn < len(queue) and queue[turn] not in picks:
                picks.append(queue[turn])
    return picks


def _spread(items: list[int], n_max: int) -> list[int]:
    """Up to ``n_max`` of ``items`` evenly spaced over them, the middle one first."""
    size = len(items)
    positions = (
        list(range(size))
        if size <= n_max
        else [(2 * j + 1) * size // (2 * n_max) for j in range(n_max)]
    )
    return [items[i] for i in sorted(positions, key=lambda i: abs(i - (size - 1) / 2))]


def _theme_cards(view: _StudyView) -> list[dict[str, Any]]:
    from themescope.themes.describe import on_screen_lines

    frames, document = view.frames, view.document
    groups = [g.name for g in document.groups]
    n_group_videos = {g.name: g.n_videos for g in document.groups}
    per_group = max(1, min(MAX_FRAMES_PER_GROUP, MAX_FRAMES_PER_THEME // max(len(groups), 1)))
    cards = []
    for theme in document.themes:
        members = [f for f in theme.frames if 0 <= f < len(frames.video)]
        member_set = set(members)
        by_group: dict[str, dict[str, list[int]]] = {}
        for frame_id in sorted(members, key=lambda f: (frames.video[f], frames.time_s[f])):
            videos = by_group.setdefault(frames.group[frame_id], {})
            videos.setdefault(frames.video[frame_id], []).append(frame_id)
        columns = []
        for group in groups:
            by_video = by_group.get(group, {})
            representative = [
                f
                for f in theme.representative_frames
                if f in member_set and frames.group[f] == group
            ]
            picks = _examples(representative, by_video, per_group)
            texts = frames.texts(picks, "text")
            share = theme.group_shares.get(group)
            columns.append(
                {
                    "name": group,
                    "share": share.share if share else None,
                    "interval": _interval_text(share.low, share.high) if share else "",
                    "n_videos": len(by_video),
                    "n_group_videos": n_group_videos.get(group, 0),
                    "frames": [
                        {
                            "src": view.thumbnail(f),
                            "video": frames.video[f],
                            "time_s": float(frames.time_s[f]),
                            "text": clip_text(text, MAX_CAPTION_CHARS),
                        }
                        for f, text in zip(picks, texts, strict=True)
                    ],
                    "phrases": theme.group_phrases.get(group, [])[:MAX_GROUP_PHRASES],
                }
            )
        cards.append(
            {
                "id": theme.id,
                "label": _label(theme),
                "label_gloss": theme_title(theme)[1],
                "codebook": codebook_line(theme),
                "share": theme.share,
                "seconds": theme.seconds,
                "n_frames": theme.n_frames,
                "n_videos": theme.n_videos,
                "p_text": _p_text(theme.group_p_value),
                "differs": view.differs(theme.group_p_value),
                "people": people_lines(theme),
                "phrases": [
                    {
                        "text": p.text,
                        "gloss": shown_gloss(p.gloss, p.gloss_word_by_word),
                        "supported": p.supported,
                    }
                    for p in theme.phrases[:MAX_PHRASES]
                ],
                "phrases_note": theme.phrases_note,
                "tagger": theme.tagger,
                "on_screen": on_screen_lines(frames.texts(members, "ocr_text"))[
                    :MAX_ON_SCREEN_LINES
                ],
                "groups": columns,
                "said_by_both": [
                    [
                        {"group": group, "text": p.text, "gloss": p.gloss}
                        for group, p in pair.phrases.items()
                    ]
                    for pair in theme.said_by_both
                ],
            }
        )
    return cards


def _metadata_text(video: StudyVideoRecord) -> str:
    parts = [
        f"{key} {clip_text(value, MAX_METADATA_CHARS)}"
        for key, value in video.metadata.items()
        if value
    ]
    return " · ".join(parts)


def _timelines(view: _StudyView) -> dict[str, Any]:
    """Each video's themes over time, grouped by group, on one time scale."""
    document = view.document
    labels = {t.id: clip_text(_label(t), MAX_TITLE_CHARS) for t in document.themes}
    timelines = {record.id: record for record in document.videos}
    records = {video.id: video for video in view.videos.videos}
    durations = {}
    for video_id, timeline in timelines.items():
        end_s = max((span[1] for span in timeline.spans), default=0.0)
        facts = records.get(video_id)
        duration_s = facts.duration_s if facts is not None else None
        durations[video_id] = max(timeline.seconds, end_s, duration_s or 0.0)
    longest_s = max(durations.values(), default=0.0) or 1.0
    order = [g.name for g in document.groups]
    order += [v.group for v in view.videos.videos if v.group not in order]
    groups = []
    for group in dict.fromkeys(order):
        rows = []
        members = [v for v in view.videos.videos if v.group == group]
        members += [
            StudyVideoRecord(id=r.id, group=r.group, video=r.id, status="done")
            for r in document.videos
            if r.group == group and r.id not in records
        ]
        for video in members:
            record = timelines.get(video.id)
            row: dict[str, Any] = {
                "id": video.id,
                "meta": _metadata_text(video),
                "error": video.error if video.status == "failed" else None,
                "added": video.added,
                "svg": None,
            }
            if record is not None:
                duration_s = durations[video.id]
                segments = [
                    plots.Segment(
                        start_s,
                        end_s,
                        theme,
                        title=f"{clock(start_s)}–{clock(end_s)} · {labels.get(theme, BLANK_LABEL)}",
                    )
                    for start_s, end_s, theme in record.spans
                ]
                row.update(
                    {
                        "duration_s": duration_s,
                        "width_pct": round(max(100 * duration_s / longest_s, 2.0), 2),
                        "svg": plots.timeline(
                            segments,
                            duration_s,
                            height=20,
                            svg_id=None,
                            css_class="timeline video-timeline",
                            label=f"timeline of {video.id}",
                        ),
                    }
                )
            rows.append(row)
        info = next((g for g in document.groups if g.name == group), None)
        groups.append(
            {
                "name": group,
                "n_videos": len(rows),
                "n_failed": sum(1 for row in rows if row["error"] is not None),
                "langs": ", ".join(info.langs) if info else "",
                "videos": rows,
            }
        )
    return {"groups": groups, "longest_s": longest_s}


def _added(view: _StudyView) -> dict[str, Any] | None:
    """The videos added to the fitted study (``--into``): when, and each one's novel share."""
    novelty = view.document.novelty
    added = [v for v in view.videos.videos if v.added is not None]
    if novelty is None or not added:
        return None
    novel = {timeline.id: timeline.novel_share for timeline in view.document.videos}
    return {
        "percentile": novelty.percentile,
        "beyond": round(100.0 - novelty.percentile, 6),
        "threshold": novelty.threshold,
        "n_frames": novelty.n_added_frames,
        "n_novel_frames": novelty.n_novel_frames,
        "rows": [
            {
                "id": video.id,
                "group": video.group,
                "added": video.added,
                "n_frames": video.n_frames,
                "novel_share": novel.get(video.id),
                "error": video.error if video.status == "failed" else None,
            }
            for video in added
        ],
    }


def _failed(view: _StudyView) -> list[dict[str, Any]]:
    return [
        {"id": v.id, "group": v.group, "row": v.row, "video": v.video, "error": v.error or "—"}
        for v in view.videos.videos
        if v.status == "failed"
    ]


def build_study_report_html(
    path: Path, *, thumb_width_px: int = THUMB_WIDTH_PX
) -> tuple[str, _StudyView]:
    """Return the report page of the study at ``path`` and the data it was built from.

    This reads the study without taking its lock or recording a stage;
    :class:`StudyReportStage` is the stage that writes ``report.html``.

    Raises:
        DocumentError: themes.json or videos.json is missing, damaged or too new.
        RunDirectoryError: manifest.json or frames.parquet is missing or unreadable.
    """
    view = _load_study(path, thumb_width_px)
    document = view.document
    cards = _theme_cards(view)  # makes the thumbnails: missing images are known after it
    warnings = _warnings(view)
    if view.n_missing_images:
        warnings.append(
            {
                "stage": "report",
                "message": f"{view.n_missing_images} example frame images are missing or "
                "unreadable; they are left out of the page",
            }
        )
    source = Path(view.videos.source).name if view.videos.source else ""
    method = _method(view)
    context = {
        "title": _title(method),
        "folder": path.resolve().name,
        "source": source,
        "run_version": view.manifest.version,
        "created": view.manifest.created,
        "k": document.k,
        "warnings": warnings,
        "failed": _failed(view),
        "method": method,
        "heat": _heat_map(view),
        "mixes": _group_mixes(view),
        "over_time": _over_time(view),
        "effects": _effects(view),
        "cards": cards,
        "timelines": _timelines(view),
        "added": _added(view),
        "theme_labels": [(t.id, *theme_title(t)) for t in document.themes],
        "codebook": codebook_summary(document),
        "common": document.common,
        "settings": stage_settings(view.manifest),
        "backends": backend_rows(document.backends),
        **k_selection_context(document.k_selection),
        **stability_context(document),
    }
    html = render_page("study.html.j2", context)
    return html, view


class StudyReportStage(ReportStage):
    """Write ``STUDY/report.html`` (needs the study's themes).

    The same stage as a run's report (current while the report code, templates and
    themes are unchanged), with the study's page.

    Args:
        thumb_width_px: Width of the embedded frame thumbnails.

    Example:
        >>> run_stage(RunDirectory("study"), StudyReportStage())  # doctest: +SKIP
    """

    kinds = ("study",)

    def build(self, path: Path) -> BuiltPage:
        """Return the report page of the study at ``path``."""
        html, view = build_study_report_html(path, thumb_width_px=self.thumb_width_px)
        warnings = []
        if view.n_missing_images:
            warnings.append(
                f"{view.n_missing_images} example frame images are missing or unreadable in "
                f"{path}; the report leaves them out"
            )
        return BuiltPage(
            html, len(view.document.themes), len(view.frames.video), len(view.thumbs), warnings
        )


def render_study_report(
    study: RunDirectory | str | Path,
    *,
    force: bool = False,
    thumb_width_px: int = THUMB_WIDTH_PX,
) -> StageResult:
    """Write ``STUDY/report.html``: the study's report stage.

    Args:
        study: The study directory.
        force: Rebuild even when the report is current.
        thumb_width_px: Width of the embedded frame thumbnails.

    Raises:
        StageNotDoneError: The study has no finished themes stage.
        DocumentError: themes.json or videos.json is missing, damaged or too new.
        RunDirectoryError: A file of the study is missing or unreadable.
    """
    return run_stage(study, StudyReportStage(thumb_width_px), force=force)


__all__ = ["StudyReportStage", "build_study_report_html", "render_study_report"]
