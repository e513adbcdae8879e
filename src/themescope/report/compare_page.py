"""Render ``compare.html`` from a comparison's ``compare.json``.

The page reads the schema written by :mod:`themescope.themes.compare` (see its
docstring): both runs' themes side by side with their representative frames,
each similarity matrix (combined, visual, text, caption; whichever were
computed) as a heat map, the one-to-one matching, each run's shared and own
themes with the phrases that set them apart (and, for a shared theme, what both
sides say), every non-English phrase and label with its English gloss, and
whether — and why — the words of the two runs could be compared. A compare.json
of schema_version 1 (no glosses, nothing said by both) is shown with a warning
that says to rerun ``themescope compare``. The frames come from the two run
directories; when one cannot be found the page is still written, with a warning.

Example:
    >>> from themescope.report import render_compare
    >>> render_compare("runs/us-vs-cn")  # doctest: +SKIP
    PosixPath('runs/us-vs-cn/compare.html')

"""

from __future__ import annotations

import datetime as _dt
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
from markupsafe import Markup

from themescope._atomic import atomic_path
from themescope._version import __version__
from themescope.documents import (
    COMPARE_SCHEMA_VERSION,
    CompareDocument,
    CompareRun,
    DifferencePhrase,
    Matrices,
    Pair,
    PerRun,
    PhrasePair,
    read_compare,
)
from themescope.report import plots
from themescope.report._common import (
    THUMB_WIDTH_PX,
    content_security_policy,
    finite_float,
    fmt_setting,
    jinja_environment,
    read_asset,
    thumbnail_inside,
)
from themescope.report.render import BuiltPage, ReportStage

logger = logging.getLogger("themescope")

MAX_FRAMES_PER_THEME = 4
MATRIX_ORDER = ("combined", "visual", "text", "caption")


def _locate_run(raw_path: str, compare_dir: Path) -> Path | None:
    """Find a run named in compare.json: as written, or relative to the comparison folder."""
    if not raw_path:
        return None
    path = Path(raw_path)
    candidates = [path] if path.is_absolute() else [compare_dir / path, path]
    return next((c for c in candidates if (c / "themes.json").is_file()), None)


def _side(key: str, info: CompareRun, compare_dir: Path, width_px: int) -> dict[str, Any]:
    run_path = _locate_run(info.path, compare_dir)
    problem = None
    if run_path is None:
        problem = (
            f"run {key.upper()} ({info.path or 'no path given'}) not found; "
            "its frames are not shown"
        )
    themes = []
    for theme in info.themes:
        frames = []
        if run_path is not None:
            for relative in theme.representative_images[:MAX_FRAMES_PER_THEME]:
                uri = thumbnail_inside(run_path, relative, width_px)
                if uri is not None:
                    frames.append(uri)
        themes.append(
            {
                "id": theme.id,
                "label": theme.label or f"theme {theme.id}",
                "label_gloss": theme.label_gloss,
                "share": finite_float(theme.share),
                "seconds": finite_float(theme.seconds),
                "n_frames": theme.n_frames,
                "tagger": theme.tagger_backend,
                "phrases": [
                    {"text": phrase.text, "gloss": phrase.gloss} for phrase in theme.phrases[:10]
                ],
                "frames": frames,
            }
        )
    name = Path(info.video).name if info.video else Path(info.path).name or key
    return {
        "key": key,
        "name": name,
        "path": info.path or "—",
        "lang": info.lang or "—",
        "k": info.k,
        "n_frames": info.n_frames,
        "duration_s": finite_float(info.duration_s),
        "themes": themes,
        "labels": {t["id"]: t["label"] for t in themes},
        "label_glosses": {t["id"]: t["label_gloss"] for t in themes},
        "problem": problem,
    }


def _matrices(
    matrices: Matrices, sides: Mapping[str, Mapping[str, Any]], matched: set[tuple[int, int]]
) -> list[dict[str, Any]]:
    theme_a, theme_b = sides["a"]["themes"], sides["b"]["themes"]
    out = []
    for name in MATRIX_ORDER:
        values: list[list[float | None]] | None = getattr(matrices, name)
        if not values:
            continue
        rows = [[finite_float(cell) for cell in row] for row in values]
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
        out.append({"name": name, "rows": table, "columns": columns})
    return out


def _differences(items: list[DifferencePhrase]) -> list[dict[str, Any]]:
    return [
        {
            "text": item.text,
            "gloss": item.gloss,
            # rounded down: a difference is below the threshold (0.2996 < 0.3), and shown
            # as "0.30" it would read as reaching it
            "similarity": _floor2(finite_float(item.similarity_to_other)),
            "closest": item.closest,
            "closest_gloss": item.closest_gloss,
        }
        for item in items
    ]


def _floor2(value: float | None) -> float | None:
    return None if value is None else math.floor(value * 100) / 100


def _pairs(items: list[PhrasePair]) -> list[dict[str, Any]]:
    return [
        {
            "text": item.text,
            "gloss": item.gloss,
            "other": item.other,
            "other_gloss": item.other_gloss,
            "similarity": finite_float(item.similarity),
        }
        for item in items
    ]


def _groups(
    per_run: Pair[PerRun], sides: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for key, other, source in (("a", "b", per_run.a), ("b", "a", per_run.b)):
        labels, other_labels = sides[key]["labels"], sides[other]["labels"]
        glosses, other_glosses = sides[key]["label_glosses"], sides[other]["label_glosses"]
        shared = [
            {
                "id": item.theme,
                "label": item.label or labels.get(item.theme, f"theme {item.theme}"),
                "label_gloss": item.label_gloss or glosses.get(item.theme),
                "partner": item.with_,
                "partner_label": item.with_label or other_labels.get(item.with_),
                "partner_gloss": item.with_label_gloss or other_glosses.get(item.with_),
                "score": finite_float(item.score),
                "basis": item.difference_basis,
                "difference": _differences(item.difference_phrases),
                "both": _pairs(item.said_by_both),
            }
            for item in source.shared
        ]
        own = []
        for item in source.own:
            best = item.best_match
            own.append(
                {
                    "id": item.theme,
                    "label": item.label or labels.get(item.theme, f"theme {item.theme}"),
                    "label_gloss": item.label_gloss or glosses.get(item.theme),
                    "partner": best.theme if best else None,
                    "partner_label": other_labels.get(best.theme) if best else None,
                    "partner_gloss": other_glosses.get(best.theme) if best else None,
                    "score": finite_float(best.score) if best else None,
                    "basis": item.difference_basis,
                    "difference": _differences(item.difference_phrases),
                    "both": [],
                }
            )
        groups[key] = {"shared": shared, "own": own}
    return groups


def _context(doc: CompareDocument, compare_dir: Path, width_px: int) -> dict[str, Any]:
    sides = {
        "a": _side("a", doc.runs.a, compare_dir, width_px),
        "b": _side("b", doc.runs.b, compare_dir, width_px),
    }
    matching = [
        {
            "a": m.a,
            "b": m.b,
            "label_a": sides["a"]["labels"].get(m.a, "—"),
            "label_b": sides["b"]["labels"].get(m.b, "—"),
            "score": finite_float(m.score),
            "scores": list(msgspec.structs.asdict(m.scores).items()),
            "shared": m.shared,
        }
        for m in doc.matching
    ]
    matched = {(m.a, m.b) for m in doc.matching}
    methods = [
        {"name": m.name, "used": m.used, "basis": m.basis or "", "reason": m.reason}
        for m in doc.methods
    ]
    about = [("languages", f"A {doc.languages.a} · B {doc.languages.b}")]
    embedder = doc.embedder
    if embedder is not None:
        multilingual = "multilingual" if embedder.multilingual else "monolingual"
        reason = embedder.multilingual_reason
        about.append(
            (
                "phrase embedder",
                f"{embedder.name or embedder.path or '—'} ({multilingual})"
                + (f": {reason}" if reason else ""),
            )
        )
    space = doc.visual_space
    variance = finite_float(space.explained_variance)
    about.append(
        (
            "visual space",
            f"{space.features or '—'}; {space.n_components} components"
            + (f", {variance * 100:.0f}% of the variance" if variance is not None else ""),
        )
    )
    about.append(("shared from", fmt_setting(doc.threshold)))
    matching_rule = doc.phrase_matching
    if matching_rule is not None:
        about.append(
            (
                "phrases say the same",
                f"from {fmt_setting(matching_rule.same_meaning_from)}: {matching_rule.method}",
            )
        )
    about.append(("glosses", doc.gloss_language or "none"))
    warnings = list(doc.warnings)
    if doc.schema_version < COMPARE_SCHEMA_VERSION:
        warnings.append(
            f"compare.json has schema_version {doc.schema_version}, from an older themescope: "
            "its phrases carry no glosses, its difference phrases were not found by meaning "
            "across languages, and shared themes do not list what both sides say; rerun "
            "`themescope compare` to add them"
        )
    warnings += [side["problem"] for side in sides.values() if side["problem"]]
    return {
        "sides": sides,
        "matching": matching,
        "matrices": _matrices(doc.matrices, sides, matched),
        "groups": _groups(doc.per_run, sides),
        "text_comparable": doc.text_comparable,
        "text_reason": doc.text_comparable_reason,
        "methods": methods,
        "about": about,
        "created": doc.created,
        "warnings": warnings,
    }


def build_compare_html(compare_dir: Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> str:
    """Return the comparison page for ``compare_dir/compare.json`` (see :func:`render_compare`)."""
    doc = read_compare(compare_dir / "compare.json")
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
        DocumentError: ``compare.json`` is missing, damaged, or from a newer themescope.

    """
    compare_dir = Path(compare_dir)
    html = build_compare_html(compare_dir, thumb_width_px=thumb_width_px)
    target = compare_dir / "compare.html"
    with atomic_path(target) as tmp:
        tmp.write_text(html, encoding="utf-8")
        tmp.chmod(0o644)  # mkstemp creates 0600; the page is meant to be shared
    logger.info("comparison written to %s", target)
    return target


class CompareReportStage(ReportStage):
    """Write ``DIR/compare.html`` (needs the comparison's compare stage).

    The same stage as a run's report (current while the report code, templates and the
    comparison are unchanged), with the comparison's page.

    Args:
        thumb_width_px: Width of the embedded frame thumbnails.
    """

    needs = ("compare",)
    files = ("compare.html",)
    command = "compare"
    kinds = ("comparison",)

    def build(self, path: Path) -> BuiltPage:
        """Return the comparison page of the folder at ``path``."""
        html = build_compare_html(path, thumb_width_px=self.thumb_width_px)
        runs = read_compare(path / "compare.json").runs
        return BuiltPage(html, runs.a.k + runs.b.k, runs.a.n_frames + runs.b.n_frames, 0)
