r"""What the pages share: templates, escaping, formats, images, and the run facts they show.

The run report, the comparison page and the study report are rendered from the
same templates folder with the same Jinja environment (autoescaping on), the same
Content-Security-Policy and the same thumbnail encoding, and show a run's
warnings, settings, backends and choice of k the same way;
:mod:`themescope.report.render`, :mod:`themescope.report.compare_page` and
:mod:`themescope.report.study_page` import these and nothing private of each other.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import io
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from markupsafe import Markup

from themescope._version import __version__
from themescope.documents import BackendsRecord, KSelectionRecord, ThemeRecord, ThemesDocument
from themescope.manifest import Manifest, TrainRecord
from themescope.report import plots

logger = logging.getLogger("themescope")

TEMPLATE_DIR = Path(__file__).parent / "templates"
THUMB_WIDTH_PX = 160
"""Width of the embedded frame thumbnails; 160 px JPEGs keep a 400-frame report near 2 MB."""
THUMB_JPEG_QUALITY = 72


def json_for_script(data: Any) -> Markup:
    r"""Serialise ``data`` for a ``<script type="application/json">`` block.

    ``<``, ``>`` and ``&`` become ``\\u`` escapes, so no text (``</script>``,
    ``<!--``) can end the block or open a new element; JSON.parse restores them.
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)


def content_security_policy(script: str | None) -> str:
    """Content-Security-Policy: no network at all; only this page's own inline script runs.

    Args:
        script: The page's one inline script; None for a page without script (none runs).
    """
    allowed = "'none'"
    if script is not None:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        allowed = f"'sha256-{digest}'"
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src {allowed}; base-uri 'none'; form-action 'none'"
    )


def read_asset(name: str) -> str:
    """Return the text of a file in the templates folder (a script or style sheet to inline)."""
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def jinja_environment() -> Any:
    """Return the Jinja environment of both pages: autoescaped, strict, with their filters."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clock"] = clock
    env.filters["pct"] = fmt_pct
    env.filters["num"] = fmt_num
    env.filters["color"] = plots.theme_color
    return env


def render_page(template: str, context: Mapping[str, Any], *, script: str | None = None) -> str:
    """Render one of the pages from ``template``: ``context`` and what every page carries.

    That is the themescope version and the time of writing shown on the page, the inlined
    style sheet, and the Content-Security-Policy that lets only ``script`` run (the page's
    one inline script, handed to the template as ``script``; None for a page without one).
    """
    framing: dict[str, Any] = {
        "tool_version": __version__,
        "generated": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "css": Markup(read_asset("report.css")),
        "csp": content_security_policy(script),
    }
    if script is not None:
        framing["script"] = Markup(script)
    html: str = jinja_environment().get_template(template).render(**context, **framing)
    return html


def clock(seconds: Any) -> str:
    """Format seconds as ``m:ss`` (or ``h:mm:ss``); ``—`` when unknown."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """Format a share as a percentage; ``—`` when unknown."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_num(value: Any, digits: int = 3) -> str:
    """Format a number with ``digits`` significant digits; ``—`` when unknown or not finite."""
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "—"
    return str(value)


def fmt_setting(value: Any) -> str:
    """Show a config value compactly (JSON for lists and dicts, at most 300 characters)."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, float):
        text = fmt_num(value, 6)
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def thumbnail_data_uri(path: Path, width_px: int) -> str | None:
    """Return a JPEG thumbnail of ``path`` as a data URI, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            # draft() lets libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster for thumbnails.
            image.draft("RGB", (width_px, max(1, width_px * image.height // max(image.width, 1))))
            rgb = image.convert("RGB")
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        logger.debug("cannot read %s: %s", path, exc)
        return None
    if rgb.width > width_px:
        height_px = max(1, round(rgb.height * width_px / rgb.width))
        rgb = rgb.resize((width_px, height_px), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    rgb.save(buffer, format="JPEG", quality=THUMB_JPEG_QUALITY, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnail_inside(root: Path, relative: str, width_px: int) -> str | None:
    """Thumbnail of an image named relative to ``root``; paths that leave ``root`` are refused.

    The paths come from files a user may have edited or received (compare.json,
    frames.parquet), so a page never embeds a file from elsewhere on the disk.
    """
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        logger.warning("%s names an image outside it: %s; not shown", root, relative)
        return None
    return thumbnail_data_uri(target, width_px)


def shown_gloss(gloss: str | None, word_by_word: bool) -> str | None:
    """A gloss as the page shows it: "≈ " before a word-by-word gloss, which may mislead."""
    return f"≈ {gloss}" if gloss and word_by_word else gloss


def theme_title(theme: ThemeRecord) -> tuple[str, str | None]:
    """A theme's heading and the gloss shown beside it.

    The researcher's label (codebook.toml) heads the theme when it differs from the
    automatic one, whose gloss then goes with it in :func:`codebook_line`.
    """
    gloss = shown_gloss(theme.label_gloss, theme.label_gloss_word_by_word)
    if theme.researcher_label and theme.researcher_label != theme.label:
        return theme.researcher_label, None
    return theme.label or f"theme {theme.id}", gloss


def codebook_line(theme: ThemeRecord) -> str | None:
    """What the researcher's codebook made of a theme: the automatic label, merges, note."""
    parts = []
    if theme.researcher_label and theme.researcher_label != theme.label:
        gloss = shown_gloss(theme.label_gloss, theme.label_gloss_word_by_word)
        parts.append(f"automatic label: {theme.label}" + (f" ({gloss})" if gloss else ""))
    if theme.merges:
        ids = ", ".join(str(t) for t in theme.merges)
        parts.append(f"merges automatic theme{'s' if len(theme.merges) > 1 else ''} {ids}")
    if theme.note:
        parts.append(f"note: {theme.note}")
    return " · ".join(parts) or None


def codebook_summary(document: ThemesDocument) -> str | None:
    """One sentence on the codebook the themes follow (None for automatic themes)."""
    codebook = document.codebook
    if codebook is None:
        return None
    merged = sum(len(theme.merges) for theme in document.themes)
    text = (
        f"The themes follow the researcher's {codebook.path} (sha256 {codebook.sha256[:12]}): "
        f"{len(document.themes)} themes, {merged} automatic theme{'s' if merged != 1 else ''} "
        "merged into others"
    )
    if codebook.dropped:
        ids = ", ".join(str(t) for t in codebook.dropped)
        text += (
            f"; theme{'s' if len(codebook.dropped) > 1 else ''} {ids} dropped: "
            f"{fmt_pct(codebook.dropped_share, 1)} of the airtime set aside, like black frames"
        )
    return text + "."


def people_lines(theme: ThemeRecord) -> list[str]:
    """Each person of a theme as the page shows them: "Name — role (gloss)"."""
    lines = []
    for name in theme.people:
        # Names are recorded lower-cased (matched case-insensitively); a title reads them.
        line = name.title()
        role = theme.roles.get(name)
        if role is not None:
            gloss = shown_gloss(role.gloss, role.gloss_word_by_word)
            line += f" — {role.text}" + (f" ({gloss})" if gloss else "")
        lines.append(line)
    return lines


def finite_float(value: Any) -> float | None:
    """Return ``value`` as a finite float, or None when it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- run facts


_K_METRICS = (
    ("mean_dist_to_centroid", "mean distance to centroid (elbow)"),
    ("mean_centroid_dist", "mean distance between centroids"),
    ("silhouette", "silhouette"),
)


def _k_charts(selection: KSelectionRecord) -> list[Markup]:
    """The small charts of the k choice: its combined score, each metric, the stability."""
    table = [msgspec.structs.asdict(row) for row in selection.table]
    if not table:
        return []
    ks = [float(row["k"]) for row in table]

    def column(key: str) -> list[float | None]:
        return [finite_float(row[key]) for row in table]

    def chart(title: str, *series: plots.Series) -> Markup:
        # Every k chart is drawn alike: k on the x axis, the chosen k marked.
        return plots.line_chart(
            series,
            x_label="k",
            title=title,
            mark_x=float(selection.chosen),
            integer_x=True,
            width_px=260,
            height_px=180,
        )

    charts = [
        chart(title, plots.Series(key, ks, column(key), plots.PALETTE[i]))
        for i, (key, title) in enumerate(_K_METRICS)
    ]
    if any(value is not None for value in column("score")):
        charts.insert(
            0,
            chart(
                "combined score (the choice)", plots.Series("score", ks, column("score"), "#333333")
            ),
        )
    charts.append(
        chart(
            "stability",
            plots.Series("bootstrap", ks, column("bootstrap_stability"), plots.PALETTE[3]),
            plots.Series("large clusters", ks, column("large_cluster_stability"), plots.PALETTE[4]),
        )
    )
    return charts


_K_COLUMNS = (
    "k",
    "mean_dist_to_centroid",
    "mean_centroid_dist",
    "silhouette",
    "bootstrap_stability",
    "large_cluster_stability",
)


def _k_table(selection: KSelectionRecord) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows of the k-selection table: the fixed columns, then the other metrics any row has."""
    rows = [msgspec.structs.asdict(row) for row in selection.table]
    extra: list[str] = []
    for row in rows:
        for key, value in row.items():
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and key not in _K_COLUMNS and key not in extra:
                extra.append(key)
    table = [
        {key: row[key] for key in _K_COLUMNS}
        | {"sizes": row["sizes"], "extra": [row[key] for key in extra]}
        for row in rows
    ]
    return extra, table


def backend_rows(backends: BackendsRecord) -> list[dict[str, str]]:
    """The components of the themes stage as rows of kind, name and detail."""
    translator = backends.translator
    rows = [
        ("captioner", backends.captioner.name, backends.captioner.model),
        ("cluster", backends.cluster, None),
        ("embedder", backends.embedder.name, backends.embedder.path),
        ("tagger", backends.tagger.name, backends.tagger.model),
        ("translator", "none", None)
        if translator is None
        else ("translator", translator.name, translator.model),
    ]
    return [
        {"kind": kind, "name": name or "—", "detail": detail or ""} for kind, name, detail in rows
    ]


def stage_warnings(manifest: Manifest, themes_doc: ThemesDocument) -> list[dict[str, str]]:
    """Every stage's warnings (stage order), then those of themes.json not already listed."""
    seen: set[str] = set()
    found: list[dict[str, str]] = []
    for name, record in manifest.stages.items():
        for message in record.warnings:
            if message not in seen:
                seen.add(message)
                found.append({"stage": name, "message": message})
    for message in themes_doc.warnings:
        if message not in seen:
            seen.add(message)
            found.append({"stage": "themes", "message": message})
    return found


def stage_settings(manifest: Manifest) -> list[dict[str, Any]]:
    """Each stage's settings as rows for the settings tables, with its time."""
    out = []
    for name, values in manifest.config.items():
        rows = [(key, fmt_setting(value)) for key, value in values.items()]
        record = manifest.record(name)
        out.append(
            {
                "stage": name,
                "rows": rows,
                "seconds": record.seconds if record else None,
                "finished": record.finished if record else None,
            }
        )
    return out


def k_selection_context(selection: KSelectionRecord) -> dict[str, Any]:
    """What the ``_k_selection.html.j2`` section needs: the choice, its table and charts."""
    extra, table = _k_table(selection)
    return {
        "selection": selection,
        "k_extra": [key.replace("_", " ") for key in extra],
        "k_table": table,
        "k_charts": _k_charts(selection),
    }


def stability_context(document: ThemesDocument) -> dict[str, Any]:
    """What the ``_stability.html.j2`` section and the theme cards show of the seed refits.

    ``stability_by_theme`` gives a card its row (none when stability was not measured).
    """
    stability = document.stability
    rows = []
    if stability is not None:
        for theme in document.themes:
            if theme.stability is not None:
                rows.append(
                    {
                        "id": theme.id,
                        "label": theme.label,
                        "came_back": round(theme.stability.recurrence * stability.n_refits),
                        "mean_jaccard": theme.stability.mean_jaccard,
                        "unstable": theme.stability.unstable,
                    }
                )
    return {
        "stability": stability,
        "stability_rows": rows,
        "stability_by_theme": {row["id"]: row for row in rows},
        "k_chosen": document.k,
        "k_auto": document.k_selection.method == "auto",
    }


def model_facts(train: TrainRecord) -> list[tuple[str, str]]:
    """The trained model in two facts: what it is and how well it reconstructs."""
    return [
        (
            "model",
            f"{train.preset or '—'} preset · {fmt_num(train.epochs)} epochs"
            f"{' (stopped early)' if train.stopped_early else ''} · "
            f"{fmt_num(train.n_params)} parameters · {train.device or '—'}",
        ),
        (
            "reconstruction",
            f"image PSNR {fmt_num(train.psnr_db)} dB · "
            f"text cosine {fmt_num(train.text_cosine)} · "
            f"unknown words {fmt_pct(train.unknown_word_rate, 1)}",
        ),
    ]


__all__ = [
    "TEMPLATE_DIR",
    "THUMB_JPEG_QUALITY",
    "THUMB_WIDTH_PX",
    "backend_rows",
    "clock",
    "content_security_policy",
    "finite_float",
    "fmt_num",
    "fmt_pct",
    "fmt_setting",
    "jinja_environment",
    "json_for_script",
    "k_selection_context",
    "model_facts",
    "read_asset",
    "stability_context",
    "stage_settings",
    "stage_warnings",
    "thumbnail_data_uri",
    "thumbnail_inside",
]
