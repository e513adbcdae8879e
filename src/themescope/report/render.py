r"""Render a run's ``report.html`` and a comparison's ``compare.html``.

Both pages are single self-contained HTML files that open offline from disk:
the frame thumbnails are embedded as ``data:`` URIs, the charts are inline SVG,
and the little JavaScript they use is written by hand and inlined. A
Content-Security-Policy meta tag forbids every network access and allows only
the page's own script (by its hash), so the page cannot make a request even if
a future change let markup through. All text that comes from a video, its
subtitles, captions or models is escaped by Jinja's autoescaping, and data
handed to the script is JSON inside ``<script type="application/json">`` with
``<``, ``>`` and ``&`` written as ``\\u`` escapes; the script inserts it with
``textContent`` only.

Example:
    >>> from themescope.report import render_report
    >>> render_report("runs/us-report")  # doctest: +SKIP
    PosixPath('runs/us-report/report.html')

"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from markupsafe import Markup

from themescope._limits import clip_text
from themescope.documents import ThemeRecord, ThemesDocument, read_themes
from themescope.errors import ConfigError, RunDirectoryError
from themescope.manifest import IngestRecord, Manifest, ReportRecord, TrainRecord
from themescope.report import plots
from themescope.report._common import (
    TEMPLATE_DIR,
    THUMB_WIDTH_PX,
    backend_rows,
    clock,
    codebook_line,
    codebook_summary,
    finite_float,
    fmt_num,
    fmt_pct,
    json_for_script,
    k_selection_context,
    model_facts,
    people_lines,
    read_asset,
    render_page,
    shown_gloss,
    stability_context,
    stage_settings,
    stage_warnings,
    theme_title,
    thumbnail_data_uri,
)
from themescope.rundir import RunDirectory, Stage, StageResult, StageWriter, run_stage
from themescope.themes import timeline

logger = logging.getLogger("themescope")

MAX_PNG_BYTES = 250_000
"""Larger PNGs (photographic reconstructions, say) are embedded as JPEG, ≤1200 px wide."""
MAX_TEXT_CHARS = 20_000
"""How much of text_reconstructions.txt the page shows."""
MAX_EVIDENCE_FRAMES = 8
MAX_REPRESENTATIVE_FRAMES = 6
MAX_THUMBNAILS = 1500
"""Above this many frames only the representative and evidence frames and an even sample
of the rest get a thumbnail, so a long video's report stays a few MB."""
MAX_TIMELINE_SEGMENTS = 3000
"""Above this many frames the timeline draws one segment per theme span instead of per frame."""
MAX_MAP_POINTS = 5000
"""Above this many frames the map draws an even sample of them."""
BLANK_LABEL = "black or blank (no theme)"
"""How the page names frames that are black or one flat colour (theme -1)."""


# --------------------------------------------------------------------------- helpers


def _template_version() -> str:
    """Hash of the report's own code and templates: any change rebuilds current reports."""
    digest = hashlib.sha256()
    sources = sorted(Path(__file__).parent.glob("*.py")) + sorted(TEMPLATE_DIR.iterdir())
    for source in sources:
        if source.is_file():
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def _embed_picture(path: Path) -> str | None:
    """Return a picture (PNG plot, say) as a data URI; big ones are re-encoded smaller."""
    from PIL import Image, UnidentifiedImageError

    if not path.is_file():
        return None
    data = path.read_bytes()
    if path.suffix.lower() == ".png" and len(data) <= MAX_PNG_BYTES:
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            logger.debug("%s is not a PNG file", path)
            return None
        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        logger.debug("cannot read %s: %s", path, exc)
        return None
    if rgb.width > 1200:
        rgb = rgb.resize((1200, max(1, round(rgb.height * 1200 / rgb.width))))
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=88)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


# --------------------------------------------------------------------------- run data


@dataclass
class _Frame:
    frame_id: int
    time_s: float
    end_s: float
    image: str
    text: str
    caption: str
    theme: int
    span: int = -1


@dataclass
class _RunView:
    """Everything the templates read about one run, loaded once."""

    path: Path
    manifest: Manifest
    themes_doc: ThemesDocument
    frames: list[_Frame]
    duration_s: float
    thumbs: dict[int, str] = field(default_factory=dict)
    n_missing_images: int = 0
    n_without_thumbnail: int = 0

    @property
    def ingest(self) -> IngestRecord:
        return self.manifest.record("ingest", IngestRecord) or IngestRecord()

    @property
    def train(self) -> TrainRecord | None:
        return self.manifest.record("train", TrainRecord)

    @property
    def themes(self) -> list[ThemeRecord]:
        return self.themes_doc.themes

    @property
    def n_blank(self) -> int:
        blank = self.themes_doc.blank
        return blank.n_frames if blank is not None else 0

    @property
    def title(self) -> str:
        video = self.manifest.inputs.get("video")
        return Path(video.path).name if video else self.path.name


def _load_run(path: Path, *, thumb_width_px: int) -> _RunView:
    """Read a run's manifest, themes.json and frames.parquet, and make the thumbnails."""
    import pyarrow.parquet as pq

    run = RunDirectory(path)
    manifest = run.read_manifest()
    themes_doc = read_themes(path / "themes.json")
    frames_path = path / "frames.parquet"
    try:
        table = pq.read_table(frames_path)
    except FileNotFoundError:
        raise RunDirectoryError(
            f"{frames_path} is missing; run `themescope ingest` first"
        ) from None
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise RunDirectoryError(f"{frames_path} is unreadable ({exc})") from exc
    columns = set(table.column_names)
    missing = {"frame_id", "time_s", "image", "text"} - columns
    if missing:
        raise RunDirectoryError(f"{frames_path} lacks the columns {', '.join(sorted(missing))}")
    rows = table.to_pylist()
    theme_of: dict[int, int] = {}
    for theme in themes_doc.themes:
        for frame_id in theme.frames:
            theme_of[frame_id] = theme.id
    rows.sort(key=lambda row: row["time_s"] if row["time_s"] is not None else 0.0)
    ingest = manifest.record("ingest", IngestRecord) or IngestRecord()
    video_input = manifest.inputs.get("video")
    duration_s = finite_float(ingest.video.duration_s if ingest.video else None) or finite_float(
        video_input.duration_s if video_input else None
    )
    times_s = np.array([float(row["time_s"] or 0.0) for row in rows])
    durations_s = timeline.frame_durations_s(
        times_s, every_s=finite_float(ingest.every_s), duration_s=duration_s
    )
    frames: list[_Frame] = []
    for row, time_s, seconds in zip(rows, times_s.tolist(), durations_s.tolist(), strict=True):
        frame_id = int(row["frame_id"])
        fallback = row.get("theme")
        frames.append(
            _Frame(
                frame_id=frame_id,
                time_s=time_s,
                end_s=time_s + seconds,
                image=str(row.get("image") or ""),
                text=clip_text(str(row.get("text") or "")),
                caption=clip_text(str(row.get("caption") or "")),
                theme=theme_of.get(frame_id, int(fallback) if fallback is not None else -1),
            )
        )
    if duration_s is None:
        duration_s = frames[-1].end_s if frames else 0.0
    view = _RunView(path, manifest, themes_doc, frames, float(duration_s))
    wanted = _thumbnail_ids(themes_doc, [f.frame_id for f in frames])
    for frame in frames:
        if frame.frame_id not in wanted:
            view.n_without_thumbnail += 1
            continue
        uri = thumbnail_data_uri(path / frame.image, thumb_width_px) if frame.image else None
        if uri is None:
            view.n_missing_images += 1
        else:
            view.thumbs[frame.frame_id] = uri
    return view


def _thumbnail_ids(themes_doc: ThemesDocument, frame_ids: list[int]) -> set[int]:
    """Choose the frames that get a thumbnail: all, or (long videos) those shown first."""
    if len(frame_ids) <= MAX_THUMBNAILS:
        return set(frame_ids)
    wanted: set[int] = set()
    for theme in themes_doc.themes:
        wanted.update(theme.representative_frames[:MAX_REPRESENTATIVE_FRAMES])
        for phrase in theme.phrases:
            wanted.update(phrase.evidence.frame_ids[:MAX_EVIDENCE_FRAMES])
    room = max(MAX_THUMBNAILS - len(wanted), 0)
    step = len(frame_ids) / room if room else math.inf
    wanted.update(frame_ids[int(i * step)] for i in range(room) if int(i * step) < len(frame_ids))
    return wanted


@dataclass
class _Span:
    index: int
    start_s: float
    end_s: float
    theme: int
    frame_ids: list[int]
    lines: list[str]


def _spans(view: _RunView) -> list[_Span]:
    """Merge consecutive frames of one theme into spans and attach their transcript lines.

    Each cue of ``cues.parquet`` goes to the span its start falls in, so every
    line of the transcript appears exactly once; without the cues file, the
    frames' aligned texts are used (consecutive repeats dropped).
    """
    times_s = np.array([frame.time_s for frame in view.frames])
    durations_s = np.array([frame.end_s - frame.time_s for frame in view.frames])
    spans: list[_Span] = []
    for index, run in enumerate(
        timeline.spans([frame.theme for frame in view.frames], times_s, durations_s)
    ):
        members = view.frames[run.first : run.stop]
        spans.append(
            _Span(index, run.start_s, run.end_s, run.label, [f.frame_id for f in members], [])
        )
        for frame in members:
            frame.span = index
    cues = _read_cues(view.path / "cues.parquet")
    if cues is not None and spans:
        starts = [span.start_s for span in spans]
        import bisect

        for start_s, text in cues:
            position = max(bisect.bisect_right(starts, start_s) - 1, 0)
            if text.strip():
                spans[position].lines.append(text.strip())
    else:
        by_id = {frame.frame_id: frame for frame in view.frames}
        for span in spans:
            for frame_id in span.frame_ids:
                text = by_id[frame_id].text.strip()
                if text and (not span.lines or span.lines[-1] != text):
                    span.lines.append(text)
    return spans


def _read_cues(path: Path) -> list[tuple[float, str]] | None:
    import pyarrow.parquet as pq

    if not path.is_file():
        return None
    try:
        table = pq.read_table(path, columns=["start_s", "text"])
    except Exception as exc:  # a broken optional file must not stop the report
        logger.warning("cannot read %s (%s); the transcript uses the frames' text", path, exc)
        return None
    rows = [
        (float(row["start_s"]), clip_text(str(row["text"] or "")))
        for row in table.to_pylist()
        if row["start_s"] is not None
    ]
    return sorted(rows, key=lambda row: row[0])


def _train_log(path: Path) -> dict[str, list[float | None]] | None:
    """Read train_log.csv into columns; None when absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        logger.warning("cannot read %s (%s); the loss curve is left out", path, exc)
        return None
    if not rows or "epoch" not in rows[0]:
        return None
    return {key: [finite_float(row.get(key)) for row in rows] for key in rows[0] if key}


def _loss_charts(log: Mapping[str, list[float | None]]) -> list[Markup]:
    epochs = [value if value is not None else math.nan for value in log["epoch"]]
    charts = []
    if "loss" in log:
        charts.append(
            plots.line_chart(
                [plots.Series("loss", epochs, log["loss"], plots.PALETTE[0])],
                x_label="epoch",
                integer_x=True,
                title="training loss",
                width_px=420,
                height_px=220,
            )
        )
    parts = [
        plots.Series(name, epochs, log[name], plots.PALETTE[i + 1])
        for i, name in enumerate(("image_mse", "text_mse", "kl"))
        if name in log and any(value for value in log[name])
    ]
    if parts:
        charts.append(
            plots.line_chart(
                parts,
                x_label="epoch",
                integer_x=True,
                title="loss terms",
                width_px=420,
                height_px=236,
            )
        )
    return charts


def _facts(view: _RunView) -> list[tuple[str, str]]:
    ingest, train = view.ingest, view.train
    video = ingest.video
    inputs = view.manifest.inputs
    video_input = inputs.get("video")
    facts = [
        ("video", video_input.path if video_input else "—"),
        ("duration", clock(view.duration_s) + f" ({view.duration_s:.1f} s)"),
        (
            "frames",
            f"{len(view.frames)} (one every {fmt_num(ingest.every_s)} s)"
            + (f"; {view.n_blank} black or blank, in no theme" if view.n_blank else ""),
        ),
        (
            "picture",
            f"{video.width if video else '—'}×{video.height if video else '—'} · "
            f"{fmt_num(video.fps if video else None)} fps · {(video and video.codec) or '—'}",
        ),
        ("language", ingest.lang or "—"),
        ("text source", ingest.text_source or "—"),
        ("text coverage", fmt_pct(ingest.text_coverage) + " of frames have text"),
        ("transcript cues", fmt_num(ingest.n_cues)),
    ]
    subtitles = inputs.get("subtitles")
    if subtitles is not None and subtitles.path:
        facts.append(("subtitles", subtitles.path))
    if train is not None:
        facts.extend(model_facts(train))
    facts.append(("themes", str(view.themes_doc.k)))
    codebook = codebook_summary(view.themes_doc)
    if codebook is not None:
        facts.append(("codebook", codebook))
    return facts


def _theme_cards(view: _RunView) -> list[dict[str, Any]]:
    by_id = {frame.frame_id: frame for frame in view.frames}
    cards = []
    for theme in view.themes:
        phrases: list[dict[str, Any]] = []
        for phrase in theme.phrases:
            evidence = phrase.evidence
            phrases.append(
                {
                    "text": phrase.text,
                    "gloss": shown_gloss(phrase.gloss, phrase.gloss_word_by_word),
                    "score": finite_float(phrase.score),
                    "supported": phrase.supported,
                    "frames": [
                        {"id": i, "time_s": by_id[i].time_s if i in by_id else None}
                        for i in evidence.frame_ids[:MAX_EVIDENCE_FRAMES]
                    ],
                    "n_frames": len(evidence.frame_ids),
                    "quotes": evidence.quotes[:6],
                    "captions": evidence.captions[:6],
                    "on_screen": evidence.on_screen[:6],
                    "kinds": [
                        kind
                        for kind, found in (
                            ("said", evidence.quotes),
                            ("on screen", evidence.on_screen),
                            ("caption", evidence.captions),
                        )
                        if found
                    ],
                    "support": finite_float(evidence.support),
                }
            )
        max_score = max((p["score"] for p in phrases if p["score"] is not None), default=0.0)
        representative = [
            {
                "id": i,
                "src": view.thumbs.get(i),
                "time_s": by_id[i].time_s if i in by_id else None,
                "text": by_id[i].text if i in by_id else "",
            }
            for i in theme.representative_frames[:MAX_REPRESENTATIVE_FRAMES]
        ]
        cards.append(
            {
                "id": theme.id,
                "label": theme_title(theme)[0],
                "label_gloss": theme_title(theme)[1],
                "codebook": codebook_line(theme),
                "share": finite_float(theme.share),
                "seconds": finite_float(theme.seconds),
                "n_frames": theme.n_frames,
                "n_spans": len(theme.spans),
                "phrases": phrases,
                "max_score": max_score if max_score > 0 else 1.0,
                "phrases_note": theme.phrases_note,
                "people": people_lines(theme),
                "representative": representative,
                "tagger": theme.tagger,
            }
        )
    return cards


def _script_data(view: _RunView) -> dict[str, Any]:
    themes = [
        {"id": t.id, "label": theme_title(t)[0], "color": plots.theme_color(t.id)}
        for t in view.themes
    ]
    if view.n_blank:
        themes.append({"id": -1, "label": BLANK_LABEL, "color": plots.theme_color(-1)})
    return {
        "themes": themes,
        "frames": [
            {
                "id": f.frame_id,
                "t0": round(finite_float(f.time_s) or 0.0, 3),
                "t1": round(finite_float(f.end_s) or 0.0, 3),
                "theme": f.theme,
                "text": f.text,
                "caption": f.caption,
                "span": f.span,
            }
            for f in view.frames
        ],
        "thumbs": {str(i): uri for i, uri in view.thumbs.items()},
    }


def build_report_html(path: Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> tuple[str, _RunView]:
    """Return the report page of the run at ``path`` and the data it was built from.

    This reads the run without taking its lock or recording a stage;
    :func:`render_report` is the stage that writes ``report.html``.
    """
    view = _load_run(path, thumb_width_px=thumb_width_px)
    spans = _spans(view)
    projection = view.themes_doc.projection
    points = projection.points
    map_svg = None
    notes = []
    if points and len(points) == len(view.frames):
        order = sorted(view.frames, key=lambda f: f.frame_id)
        if len(order) > MAX_MAP_POINTS:
            step = len(order) / MAX_MAP_POINTS
            keep = [int(i * step) for i in range(MAX_MAP_POINTS)]
            notes.append(
                f"The map shows an even sample of {MAX_MAP_POINTS} of {len(order)} frames."
            )
            order, points = [order[i] for i in keep], [points[i] for i in keep]
        map_svg = plots.scatter_map(points, [f.theme for f in order], [f.frame_id for f in order])
    if len(view.frames) > MAX_TIMELINE_SEGMENTS:
        segments = [
            plots.Segment(s.start_s, s.end_s, s.theme, s.frame_ids[0], s.index) for s in spans
        ]
        notes.append(
            f"The timeline draws one segment per theme span ({len(spans)}), not per frame; "
            "hovering shows the span's first frame."
        )
    else:
        segments = [
            plots.Segment(f.time_s, f.end_s, f.theme, f.frame_id, i)
            for i, f in enumerate(view.frames)
        ]
    if view.n_without_thumbnail:
        notes.append(
            f"{view.n_without_thumbnail} of {len(view.frames)} frames have no thumbnail in this "
            f"page (at most {MAX_THUMBNAILS} are embedded, the representative and evidence "
            "frames first)."
        )
    log = _train_log(path / "train_log.csv")
    recon_text_path = path / "text_reconstructions.txt"
    recon_text = None
    if recon_text_path.is_file():
        recon_text = recon_text_path.read_text(encoding="utf-8", errors="replace")
        if len(recon_text) > MAX_TEXT_CHARS:
            recon_text = recon_text[:MAX_TEXT_CHARS] + "\n… (truncated)"
    theme_labels = {t.id: theme_title(t)[0] for t in view.themes}
    if view.n_blank:
        theme_labels[-1] = BLANK_LABEL
    warnings = stage_warnings(view.manifest, view.themes_doc)
    if view.n_missing_images:
        warnings.append(
            {
                "stage": "report",
                "message": f"{view.n_missing_images} of {len(view.frames)} frame images are "
                "missing or unreadable; they are left out of the page",
            }
        )
    context = {
        "title": view.title,
        "run_version": view.manifest.version,
        "created": view.manifest.created,
        "facts": _facts(view),
        "settings": stage_settings(view.manifest),
        "backends": backend_rows(view.themes_doc.backends),
        "warnings": warnings,
        "cards": _theme_cards(view),
        "common": [
            f"{phrase.text} ({phrase.gloss})" if phrase.gloss else phrase.text
            for phrase in view.themes_doc.common
        ],
        "theme_labels": theme_labels,
        "blank": view.themes_doc.blank if view.n_blank else None,
        "timeline_svg": plots.timeline(segments, view.duration_s),
        "notes": notes,
        "duration_s": view.duration_s,
        "spans": spans,
        "map_svg": map_svg,
        "projection": projection,
        **k_selection_context(view.themes_doc.k_selection),
        **stability_context(view.themes_doc),
        "loss_charts": _loss_charts(log) if log else [],
        "recon_png": _embed_picture(path / "reconstructions.png"),
        "recon_text": recon_text,
        "data_json": json_for_script(_script_data(view)),
    }
    html = render_page("report.html.j2", context, script=read_asset("report.js"))
    return html, view


@dataclass(frozen=True)
class BuiltPage:
    """A report page and the counts its stage records.

    Attributes:
        html: The page.
        n_themes: Themes shown.
        n_frames: Frames of the run (or study).
        n_thumbnails: Frame thumbnails embedded.
        warnings: What the page had to leave out, for the stage's record.
    """

    html: str
    n_themes: int
    n_frames: int
    n_thumbnails: int
    warnings: list[str] = field(default_factory=list)


class ReportStage(Stage):
    """Write ``RUN/report.html`` (needs themes).

    The report is current while the report code and templates and the themes are
    unchanged; then it is skipped. A subclass changes the page by overriding :meth:`build`.

    Args:
        thumb_width_px: Width of the embedded frame thumbnails.
    """

    name = "report"
    needs = ("themes",)
    record = ReportRecord
    files = ("report.html",)
    command = "report"

    def __init__(self, thumb_width_px: int = THUMB_WIDTH_PX) -> None:
        self.thumb_width_px = thumb_width_px

    def check(self) -> None:
        """Refuse thumbnails too small to see."""
        if self.thumb_width_px < 16:
            raise ConfigError(f"thumb_width_px must be at least 16; got {self.thumb_width_px}")

    def settings(self) -> dict[str, Any]:
        """The template version and the thumbnail width."""
        return {"template_version": _template_version(), "thumb_width_px": self.thumb_width_px}

    def fingerprint_parts(self) -> Any:
        """The settings: a new template version rebuilds the report."""
        return self.settings()

    def build(self, path: Path) -> BuiltPage:
        """Return the report page of the run at ``path``."""
        html, view = build_report_html(path, thumb_width_px=self.thumb_width_px)
        warnings = []
        if view.n_missing_images:
            warnings.append(
                f"{view.n_missing_images} of {len(view.frames)} frame images are missing "
                f"or unreadable in {path}; the report leaves them out"
            )
        return BuiltPage(html, len(view.themes), len(view.frames), len(view.thumbs), warnings)

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Build the page and write it."""
        page = self.build(run.path)
        writer.path(self.files[0]).write_text(page.html, encoding="utf-8")
        for message in page.warnings:
            writer.warn(message)
        n_bytes = len(page.html.encode("utf-8"))
        writer.record = ReportRecord(
            bytes=n_bytes,
            n_themes=page.n_themes,
            n_frames=page.n_frames,
            n_thumbnails=page.n_thumbnails,
        )
        logger.info("report written to %s (%.1f MB)", run / self.files[0], n_bytes / 1e6)


def render_report(
    run: RunDirectory | str | Path,
    *,
    force: bool = False,
    thumb_width_px: int = THUMB_WIDTH_PX,
) -> StageResult:
    """Write ``RUN/report.html``: the report stage.

    Args:
        run: The run directory.
        force: Rebuild even when the report is current.
        thumb_width_px: Width of the embedded frame thumbnails.

    Returns:
        The stage's result; the page is ``RUN/report.html``.

    Raises:
        StageNotDoneError: The run has no finished themes stage.
        RunDirectoryError: A file of the run is missing or unreadable.
    """
    return run_stage(run, ReportStage(thumb_width_px), force=force)
