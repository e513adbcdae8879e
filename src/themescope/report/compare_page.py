"""Render ``compare.html`` from a joint comparison's ``compare.json``.

The page leads with the answer to "what do these reports share, and where do they
differ": the shared themes (every run gives them at least ``min_share`` of its
airtime), each with every run's share, its frames, what the runs say alike (pairs
of phrases matched by meaning across languages) and what only one of them says;
then each run's own themes with what it says in them; then how the comparison was
made. Every non-English phrase and label shows its English gloss beside it, so a
reader needs one language. The frames are the comparison's own copies
(``videos/<run>/frames``), so the page needs nothing outside its folder. A
compare.json written by an older themescope (separately fitted themes matched one to
one) is refused with the command that rewrites it.

Example:
    >>> from themescope.report import render_compare
    >>> render_compare("runs/us-vs-cn")  # doctest: +SKIP
    PosixPath('runs/us-vs-cn/compare.html')
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from themescope._atomic import atomic_path
from themescope.compare_document import JointCompareDocument, JointPhrase, JointTheme, read_compare
from themescope.errors import DocumentError
from themescope.report._common import (
    THUMB_WIDTH_PX,
    fmt_setting,
    render_page,
    shown_gloss,
    thumbnail_inside,
)
from themescope.report.render import BuiltPage, ReportStage

logger = logging.getLogger("themescope")

MAX_FRAMES_PER_THEME = 4
MAX_PHRASES = 8


def read_joint(compare_dir: Path) -> JointCompareDocument:
    """Read ``compare.json``; refuse one of an older themescope with what to rerun.

    Raises:
        DocumentError: It is missing, damaged, newer, or matched separately fitted themes.
    """
    path = compare_dir / "compare.json"
    document = read_compare(path)
    if not isinstance(document, JointCompareDocument):
        raise DocumentError(
            f"{path} has schema_version {document.schema_version}, from an older themescope "
            "that matched separately fitted themes; rerun `themescope compare RUN_A RUN_B "
            f"--out {compare_dir}` to compare the runs jointly"
        )
    return document


def _phrases(items: list[JointPhrase]) -> list[dict[str, Any]]:
    return [
        {"text": p.text, "gloss": shown_gloss(p.gloss, p.gloss_word_by_word)}
        for p in items[:MAX_PHRASES]
    ]


def _theme(theme: JointTheme, names: list[str], root: Path, width_px: int) -> dict[str, Any]:
    frames = [
        uri
        for relative in theme.representative_images[:MAX_FRAMES_PER_THEME]
        if (uri := thumbnail_inside(root, relative, width_px)) is not None
    ]
    return {
        "id": theme.id,
        "label": theme.label or f"theme {theme.id}",
        "label_gloss": shown_gloss(theme.label_gloss, theme.label_gloss_word_by_word),
        "shares": [(name, theme.shares.get(name, 0.0)) for name in names],
        "frames": frames,
        "phrases": {name: _phrases(theme.phrases.get(name, [])) for name in names},
        "only": {name: _phrases(theme.only.get(name, [])) for name in names},
        "both": [
            {
                "sides": [
                    (name, p.text, shown_gloss(p.gloss, p.gloss_word_by_word))
                    for name, p in pair.phrases.items()
                ],
                "similarity": pair.similarity,
            }
            for pair in theme.said_by_both
        ],
        # The run that gives the theme most of its airtime: whose own theme it is.
        "owner": max(names, key=lambda name: theme.shares.get(name, 0.0)),
    }


def _context(doc: JointCompareDocument, compare_dir: Path, width_px: int) -> dict[str, Any]:
    names = [run.name for run in doc.runs]
    themes = [_theme(t, names, compare_dir, width_px) for t in doc.themes]
    shared = [t for t, raw in zip(themes, doc.themes, strict=True) if raw.shared]
    own = {
        name: [
            t
            for t, raw in zip(themes, doc.themes, strict=True)
            if not raw.shared and t["owner"] == name
        ]
        for name in names
    }
    about = [
        ("runs", "; ".join(f"{r.name}: {r.lang}, {r.n_frames} frames, {r.path}" for r in doc.runs)),
        ("shared from", f"{doc.min_share:.0%} of each run's airtime"),
        (
            "phrases say the same",
            f"from {fmt_setting(doc.phrase_matching.same_meaning_from)}: "
            f"{doc.phrase_matching.method}",
        ),
        ("glosses", _glosses(doc)),
    ]
    return {
        "names": names,
        "runs": doc.runs,
        "shared": shared,
        "own": own,
        "k": len(themes),
        "about": about,
        "created": doc.created,
        "warnings": list(doc.warnings),
    }


def _glosses(doc: JointCompareDocument) -> str:
    """The glosses' language and what made them: a reader must tell a translation from a gloss."""
    if doc.gloss_language is None:
        return "none"
    if doc.gloss_translator is None:
        return f"{doc.gloss_language}, from the CC-CEDICT dictionary"
    translator = doc.gloss_translator
    return f"{doc.gloss_language}, machine-translated by {translator.name} ({translator.model})"


def build_compare_html(compare_dir: Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> str:
    """Return the comparison page for ``compare_dir/compare.json`` (see :func:`render_compare`)."""
    return _built(compare_dir, thumb_width_px).html


def _built(compare_dir: Path, width_px: int) -> BuiltPage:
    doc = read_joint(compare_dir)
    context = _context(doc, compare_dir, width_px)
    html = render_page("compare.html.j2", context)
    shown = [*context["shared"], *(t for own in context["own"].values() for t in own)]
    return BuiltPage(
        html,
        len(doc.themes),
        sum(run.n_frames for run in doc.runs),
        sum(len(t["frames"]) for t in shown),
    )


def render_compare(compare_dir: str | Path, *, thumb_width_px: int = THUMB_WIDTH_PX) -> Path:
    """Write ``DIR/compare.html`` from ``DIR/compare.json`` and the frames in ``DIR``.

    Args:
        compare_dir: The comparison's folder (``themescope compare --out``).
        thumb_width_px: Width of the embedded frame thumbnails.

    Returns:
        The path of ``compare.html`` (written atomically).

    Raises:
        DocumentError: ``compare.json`` is missing, damaged, older or newer.
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
        return _built(path, self.thumb_width_px)
