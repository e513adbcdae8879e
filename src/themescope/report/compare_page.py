"""Render ``compare.html`` from a comparison's ``compare.json``.

The page reads the schema written by :mod:`themescope.themes.compare` (see its
docstring): both runs' themes side by side with their representative frames,
each similarity matrix (combined, visual, text, caption; whichever were
computed) as a heat map, the one-to-one matching, each run's shared and own
themes with the phrases that set them apart, and whether — and why — the words
of the two runs could be compared. The frames come from the two run
directories; when one cannot be found the page is still written, with a warning.

Example:
    >>> from themescope.report import render_compare
    >>> render_compare("runs/us-vs-cn")  # doctest: +SKIP
    PosixPath('runs/us-vs-cn/compare.html')

"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from markupsafe import Markup

from themescope import __version__
from themescope.errors import RunDirectoryError
from themescope.report import plots
from themescope.report._common import (
    THUMB_WIDTH_PX,
    content_security_policy,
    finite_float,
    fmt_setting,
    jinja_environment,
    read_asset,
    read_json_object,
    thumbnail_data_uri,
)
from themescope.rundir import atomic_path

logger = logging.getLogger("themescope")

MAX_FRAMES_PER_THEME = 4
MATRIX_ORDER = ("combined", "visual", "text", "caption")


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [item for item in value if isinstance(item, Mapping)]
    return []


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _locate_run(raw_path: Any, compare_dir: Path) -> Path | None:
    """Find a run named in compare.json: as written, or relative to the comparison folder."""
    if not raw_path:
        return None
    path = Path(str(raw_path))
    candidates = [path] if path.is_absolute() else [compare_dir / path, path]
    return next((c for c in candidates if (c / "themes.json").is_file()), None)


def _frame_images(run_path: Path) -> dict[int, str]:
    """Map frame ids to image paths from frames.parquet (for compare.json without image paths)."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(run_path / "frames.parquet", columns=["frame_id", "image"])
    except Exception as exc:  # an optional lookup: a broken table only costs the thumbnails
        logger.warning("cannot read %s (%s)", run_path / "frames.parquet", exc)
        return {}
    return {int(r["frame_id"]): str(r["image"]) for r in table.to_pylist() if r["image"]}


def _thumbnail_inside(run_path: Path, relative: str, width_px: int) -> str | None:
    """Thumbnail of an image of the run; paths that leave the run directory are refused."""
    target = (run_path / relative).resolve()
    if not target.is_relative_to(run_path.resolve()):
        logger.warning("compare.json names an image outside its run: %s", relative)
        return None
    return thumbnail_data_uri(target, width_px)


def _side(key: str, info: Mapping[str, Any], compare_dir: Path, width_px: int) -> dict[str, Any]:
    raw_path = info.get("path")
    run_path = _locate_run(raw_path, compare_dir)
    problem = None
    if run_path is None:
        problem = (
            f"run {key.upper()} ({raw_path or 'no path given'}) not found; its frames are not shown"
        )
    images_by_id: dict[int, str] | None = None
    themes = []
    for theme in _mappings(info.get("themes")):
        theme_id = _int(theme.get("id"))
        images = [str(i) for i in theme.get("representative_images") or []]
        if not images and run_path is not None:
            if images_by_id is None:
                images_by_id = _frame_images(run_path)
            ids = [_int(i) for i in theme.get("representative_frames") or []]
            images = [images_by_id[i] for i in ids if i is not None and i in images_by_id]
        frames = []
        if run_path is not None:
            for relative in images[:MAX_FRAMES_PER_THEME]:
                uri = _thumbnail_inside(run_path, relative, width_px)
                if uri is not None:
                    frames.append(uri)
        phrases = []
        for phrase in theme.get("phrases") or []:
            if isinstance(phrase, Mapping):
                phrases.append(str(phrase.get("text", "")))
            elif phrase is not None:
                phrases.append(str(phrase))
        themes.append(
            {
                "id": theme_id if theme_id is not None else -1,
                "label": str(theme.get("label") or f"theme {theme_id}"),
                "share": finite_float(theme.get("share")),
                "seconds": finite_float(theme.get("seconds")),
                "n_frames": _int(theme.get("n_frames")),
                "tagger": str(theme.get("tagger_backend") or ""),
                "phrases": phrases[:10],
                "frames": frames,
            }
        )
    video = info.get("video")
    name = Path(str(video)).name if video else Path(str(raw_path)).name if raw_path else key
    return {
        "key": key,
        "name": name,
        "path": str(raw_path or "—"),
        "lang": str(info.get("lang") or "—"),
        "k": _int(info.get("k")),
        "n_frames": _int(info.get("n_frames")),
        "duration_s": finite_float(info.get("duration_s")),
        "themes": themes,
        "labels": {t["id"]: t["label"] for t in themes},
        "problem": problem,
    }


def _matrices(
    raw: Any, sides: Mapping[str, Mapping[str, Any]], matched: set[tuple[int, int]]
) -> list[dict[str, Any]]:
    if not isinstance(raw, Mapping):
        return []
    theme_a, theme_b = sides["a"]["themes"], sides["b"]["themes"]
    names = [n for n in MATRIX_ORDER if n in raw] + sorted(set(raw) - set(MATRIX_ORDER))
    out = []
    for name in names:
        values = raw.get(name)
        if not isinstance(values, Sequence) or isinstance(values, str) or not values:
            continue
        rows = [
            [finite_float(cell) for cell in row]
            for row in values
            if isinstance(row, Sequence) and not isinstance(row, str)
        ]
        n_columns = max((len(row) for row in rows), default=0)
        # Cosines on one fixed scale (negative ones as white) so that colours mean the
        # same in every matrix and every comparison.
        low, high = 0.0, 1.0
        columns = [
            {
                "id": theme_b[j]["id"] if j < len(theme_b) else j,
                "label": theme_b[j]["label"] if j < len(theme_b) else f"theme {j}",
            }
            for j in range(n_columns)
        ]
        table = []
        for i, row in enumerate(rows):
            a_id = theme_a[i]["id"] if i < len(theme_a) else i
            cells = [
                {
                    "value": value,
                    "b": columns[j]["id"],
                    "bg": plots.heat_color(value, low, high),
                    "fg": plots.heat_text_color(value, low, high),
                    "matched": (a_id, columns[j]["id"]) in matched,
                }
                for j, value in enumerate(row)
            ]
            label = theme_a[i]["label"] if i < len(theme_a) else f"theme {i}"
            table.append({"id": a_id, "label": label, "cells": cells})
        out.append({"name": str(name), "rows": table, "columns": columns})
    return out


def _differences(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        if isinstance(item, Mapping):
            out.append(
                {
                    "text": str(item.get("text", "")),
                    "similarity": finite_float(item.get("similarity_to_other")),
                }
            )
        elif item is not None:
            out.append({"text": str(item), "similarity": None})
    return out


def _groups(
    per_run: Any, sides: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, other in (("a", "b"), ("b", "a")):
        source = per_run.get(key) if isinstance(per_run, Mapping) else None
        source = source if isinstance(source, Mapping) else {}
        labels, other_labels = sides[key]["labels"], sides[other]["labels"]
        side: dict[str, list[dict[str, Any]]] = {"shared": [], "own": []}
        for kind in ("shared", "own"):
            for item in _mappings(source.get(kind)):
                theme_id = _int(item.get("theme"))
                if kind == "shared":
                    partner = _int(item.get("with"))
                    partner_label = item.get("with_label") or other_labels.get(partner)
                    score = finite_float(item.get("score"))
                else:
                    best = item.get("best_match")
                    best = best if isinstance(best, Mapping) else {}
                    partner = _int(best.get("theme"))
                    partner_label = other_labels.get(partner) if partner is not None else None
                    score = finite_float(best.get("score"))
                side[kind].append(
                    {
                        "id": theme_id,
                        "label": str(
                            item.get("label") or labels.get(theme_id, f"theme {theme_id}")
                        ),
                        "partner": partner,
                        "partner_label": str(partner_label) if partner_label else None,
                        "score": score,
                        "basis": str(item.get("difference_basis") or ""),
                        "difference": _differences(item.get("difference_phrases")),
                    }
                )
        groups[key] = side
    return groups


def _context(doc: Mapping[str, Any], compare_dir: Path, width_px: int) -> dict[str, Any]:
    runs = doc.get("runs")
    if not isinstance(runs, Mapping) or not all(isinstance(runs.get(k), Mapping) for k in "ab"):
        raise RunDirectoryError(
            f"{compare_dir / 'compare.json'} does not name the two runs it compares "
            "(expected 'runs': {'a': ..., 'b': ...})"
        )
    sides = {key: _side(key, runs[key], compare_dir, width_px) for key in ("a", "b")}
    matching = []
    for item in _mappings(doc.get("matching")):
        a, b = _int(item.get("a")), _int(item.get("b"))
        scores = item.get("scores")
        scores = scores if isinstance(scores, Mapping) else {}
        matching.append(
            {
                "a": a,
                "b": b,
                "label_a": sides["a"]["labels"].get(a, "—"),
                "label_b": sides["b"]["labels"].get(b, "—"),
                "score": finite_float(item.get("score")),
                "scores": [(str(k), finite_float(v)) for k, v in scores.items()],
                "shared": item.get("shared"),
            }
        )
    matched = {(m["a"], m["b"]) for m in matching if m["a"] is not None and m["b"] is not None}
    methods = [
        {
            "name": str(m.get("name", "")),
            "used": bool(m.get("used")),
            "basis": str(m.get("basis") or ""),
            "reason": str(m.get("reason") or ""),
        }
        for m in _mappings(doc.get("methods"))
    ]
    about = []
    languages = doc.get("languages")
    if isinstance(languages, Mapping):
        about.append(("languages", f"A {languages.get('a', '—')} · B {languages.get('b', '—')}"))
    embedder = doc.get("embedder")
    if isinstance(embedder, Mapping):
        multilingual = "multilingual" if embedder.get("multilingual") else "monolingual"
        reason = embedder.get("multilingual_reason")
        about.append(
            (
                "phrase embedder",
                f"{embedder.get('name') or embedder.get('path') or '—'} ({multilingual})"
                + (f": {reason}" if reason else ""),
            )
        )
    space = doc.get("visual_space")
    if isinstance(space, Mapping):
        variance = finite_float(space.get("explained_variance"))
        about.append(
            (
                "visual space",
                f"{space.get('features') or '—'}; {space.get('n_components', '—')} components"
                + (f", {variance * 100:.0f}% of the variance" if variance is not None else ""),
            )
        )
    if doc.get("threshold") is not None:
        about.append(("shared from", fmt_setting(doc.get("threshold"))))
    warnings = [str(w) for w in doc.get("warnings") or []]
    warnings += [side["problem"] for side in sides.values() if side["problem"]]
    comparable = doc.get("text_comparable")
    return {
        "sides": sides,
        "matching": matching,
        "matrices": _matrices(doc.get("matrices"), sides, matched),
        "groups": _groups(doc.get("per_run"), sides),
        "text_comparable": comparable if isinstance(comparable, bool) else None,
        "text_reason": doc.get("text_comparable_reason"),
        "methods": methods,
        "about": about,
        "created": doc.get("created"),
        "warnings": warnings,
    }


def build_compare_html(compare_dir: Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> str:
    """Return the comparison page for ``compare_dir/compare.json`` (see :func:`render_compare`)."""
    doc = read_json_object(compare_dir / "compare.json", "run `themescope compare` first")
    context = _context(doc, compare_dir, thumb_width_px)
    script = read_asset("compare.js")
    html: str = (
        jinja_environment()
        .get_template("compare.html.j2")
        .render(
            **context,
            tool_version=__version__,
            generated=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            css=Markup(read_asset("report.css")),
            script=Markup(script),
            csp=content_security_policy(script),
        )
    )
    return html


def render_compare(compare_dir: str | Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> Path:
    """Write ``DIR/compare.html`` from ``DIR/compare.json`` and the two runs it names.

    Args:
        compare_dir: The comparison's folder (``themescope compare --out``).
        thumb_width_px: Width of the embedded frame thumbnails.

    Returns:
        The path of ``compare.html`` (written atomically).

    Raises:
        RunDirectoryError: ``compare.json`` is missing, unreadable or names no runs.

    """
    compare_dir = Path(compare_dir)
    html = build_compare_html(compare_dir, thumb_width_px=thumb_width_px)
    target = compare_dir / "compare.html"
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
        tmp.chmod(0o644)  # mkstemp creates 0600; the page is meant to be shared
    logger.info("comparison written to %s", target)
    return target
