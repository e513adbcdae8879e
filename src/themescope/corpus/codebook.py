"""A study's statistics under the researcher's codebook, without reclustering.

The study's themes stage measures the groups from the frames' theme labels
(:mod:`themescope.corpus.themes`); here the same functions are run on the labels the
codebook maps them to (merged themes to their target, dropped ones to -1, like black
frames), so shares, intervals, tests, group phrases, timelines, shares over time and
covariate effects are those of the researcher's themes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from themescope.corpus import themes as study_themes
from themescope.corpus.metadata import by_metadata, write_effects
from themescope.documents import CodebookRecord
from themescope.errors import CodebookError
from themescope.rundir import Pipeline, RunDirectory, StageWriter, run_stage
from themescope.study_documents import (
    GroupPhraseRecord,
    SaidByBothRecord,
    StudyThemesDocument,
)
from themescope.themes.codebook import (
    AUTOMATIC_NAME,
    CODEBOOK_NAME,
    Codebook,
    CodebookStage,
    ThemesDocument,
    automatic_column,
    merged_theme,
    write_codebook,
)


class StudyCodebookStage(CodebookStage):
    """Apply ``STUDY/codebook.toml``: the study's themes and statistics (needs themes).

    Also rewrites ``effects.csv`` with the researcher's themes.
    """

    files = ("themes.json", AUTOMATIC_NAME, "frames.parquet", "effects.csv")
    command = "corpus"
    kinds = ("study",)

    def read(self, path: Path) -> ThemesDocument:
        """Read the automatic STUDY/themes.json."""
        from themescope.study_documents import read_study_themes

        return read_study_themes(path)

    def write(self, path: Path, document: ThemesDocument) -> None:
        """Write a study's themes.json."""
        from themescope.study_documents import write_study

        assert isinstance(document, StudyThemesDocument)  # read by read()
        write_study(path, document)

    def apply(
        self, run: RunDirectory, codebook: Codebook, automatic: ThemesDocument, writer: StageWriter
    ) -> tuple[ThemesDocument, np.ndarray]:
        """The study's themes and statistics under ``codebook`` (writes effects.csv)."""
        assert isinstance(automatic, StudyThemesDocument)  # read by read()
        return apply_to_study(run, codebook, automatic, writer)


def codebook_stage(run: RunDirectory) -> CodebookStage:
    """The codebook stage of ``run``'s kind (a study's or a single run's)."""
    kind = StudyCodebookStage if run.study else CodebookStage
    return kind(run / CODEBOOK_NAME)


def open_folder(folder: str | Path) -> RunDirectory:
    """Open a run's or a study's folder as its kind."""
    return RunDirectory(folder, kind="study" if RunDirectory(folder).is_study() else "run")


def apply_if_present(folder: str | Path) -> None:
    """Apply ``FOLDER/codebook.toml`` when there is one (before a report is rebuilt)."""
    run = open_folder(folder)
    if (run / CODEBOOK_NAME).is_file():
        # The report comes after it: a codebook applied for the first time invalidates it.
        run_stage(run, codebook_stage(run), order=("themes", "codebook", "report"))


def codebook(
    folder: str | Path, *, apply: bool = False, force: bool = False
) -> tuple[Path, dict[str, str]]:
    """Write ``FOLDER/codebook.toml``, or apply it (``apply``) and rebuild the report.

    Returns the codebook's path and, when applied, each stage's status.

    Example:
        >>> path, _ = codebook("study")  # doctest: +SKIP
        >>> codebook("study", apply=True)  # after editing study/codebook.toml  # doctest: +SKIP

    Raises:
        ThemescopeError: Not a finished run or study, a codebook already there (without
            ``force``), or one that cannot be applied (nothing is written then).
    """
    from themescope.documents import read_themes
    from themescope.report.render import ReportStage
    from themescope.report.study_page import StudyReportStage
    from themescope.study_documents import read_study_themes

    run = open_folder(folder)
    run.require("themes")
    path = run / CODEBOOK_NAME
    if apply:
        report = StudyReportStage() if run.study else ReportStage()
        return path, Pipeline([codebook_stage(run), report]).run(run)
    if path.exists() and not force:
        raise CodebookError(
            f"{path} already exists: edit it and run `themescope codebook {run.path} --apply`, "
            "or pass --force to write it anew from the automatic themes"
        )
    source = run / AUTOMATIC_NAME
    automatic = (read_study_themes if run.study else read_themes)(
        source if source.is_file() else run / "themes.json"
    )
    groups = [group.name for group in getattr(automatic, "groups", [])]
    write_codebook(path, automatic, groups)
    return path, {}


def apply_to_study(
    run: RunDirectory, codebook: Codebook, automatic: StudyThemesDocument, writer: StageWriter
) -> tuple[StudyThemesDocument, np.ndarray]:
    """The study's themes.json and frame labels under ``codebook``."""
    import pyarrow.parquet as pq

    table = pq.read_table(run / "frames.parquet")
    auto = np.asarray(table.column(automatic_column(run)).to_numpy(zero_copy_only=False), np.int64)
    labels = codebook.map(auto)
    kept = codebook.kept
    # The statistics number themes 0..m-1; the researcher's keep their automatic ids.
    compact = np.full(len(labels), -1, dtype=np.int64)
    for index, theme in enumerate(kept):
        compact[labels == theme] = index
    videos = [str(v) for v in table.column("video").to_pylist()]
    groups = [str(g) for g in table.column("group").to_pylist()]
    seconds = np.asarray(table.column("seconds").to_numpy(zero_copy_only=False), float)
    times_s = np.asarray(table.column("time_s").to_numpy(zero_copy_only=False), float)
    video_group = dict(zip(videos, groups, strict=True))
    statistics = _statistics(run)
    seed = int(statistics["seed"])
    on = np.flatnonzero(compact >= 0)
    on_videos = [videos[i] for i in on]
    m = len(kept)
    measured = study_themes.measure_groups(
        videos, compact, seconds, video_group, m, writer, seed, statistics
    )
    by_id = {theme.id: theme for theme in automatic.themes}
    total = float(seconds[on].sum())
    glosses = study_themes.group_phrase_glosses(automatic)
    themes = []
    for index, theme in enumerate(kept):
        fields: dict[str, Any] = merged_theme(codebook, by_id, theme)
        rows = np.flatnonzero(labels == theme)
        fields.update(
            study_themes.airtime(rows, videos, seconds, total),
            group_shares=measured.share_records(index),
            group_p_value=measured.p_value(index),
        )
        if fields["merges"]:
            members = [by_id[i] for i in (theme, *fields["merges"]) if i in by_id]
            both = [pair for member in members for pair in member.said_by_both]
            fields["said_by_both"] = both
            fields["group_phrases"] = _group_phrases(table, rows, groups, glosses, both)
        themes.append(msgspec.structs.replace(by_id[theme], **fields))
    labels_by_index = {i: theme.researcher_label or theme.label for i, theme in enumerate(themes)}
    over_time, effects = by_metadata(
        run,
        on_videos,
        compact[on],
        seconds[on],
        video_group,
        labels_by_index,
        writer,
        seed=seed,
        n_bootstrap=int(statistics["n_bootstrap"]),
        level=float(statistics["level"]),
        covariate_names=tuple(statistics["covariates"]),
    )
    if over_time is not None:
        for point in over_time.shares:
            point.theme = kept[point.theme]
    if effects is not None:
        for effect in effects.effects:
            effect.theme = kept[effect.theme]
        write_effects(writer.path("effects.csv"), effects, themes)
    timelines = study_themes._timelines(videos, groups, compact, times_s, seconds, m)
    for record in timelines:
        record.spans = [(start, end, kept[t] if t >= 0 else -1) for start, end, t in record.spans]
    dropped = [t for t in sorted(by_id) if codebook.target[t] == -1]
    dropped_rows = np.flatnonzero((auto >= 0) & (labels < 0))
    dropped_seconds = float(seconds[dropped_rows].sum())
    themed_seconds = total + dropped_seconds
    document = msgspec.structs.replace(
        automatic,
        themes=themes,
        k=len(themes),
        group_test=measured.test_record(),
        videos=timelines,
        over_time=over_time,
        effects=effects,
        codebook=CodebookRecord(
            path=CODEBOOK_NAME,
            sha256=codebook.sha256,
            dropped=dropped,
            dropped_frames=[int(i) for i in dropped_rows],
            dropped_share=round(dropped_seconds / themed_seconds, 4) if themed_seconds else 0.0,
            dropped_seconds=round(dropped_seconds, 3),
        ),
    )
    return document, labels


def _statistics(run: RunDirectory) -> dict[str, Any]:
    """The seed and statistics' settings the themes stage recorded in the manifest."""
    config: dict[str, Any] = run.read_manifest().config.get("themes", {})
    statistics: dict[str, Any] = config.get("statistics", {})
    return {"seed": config.get("seed", 0), **statistics}


def _group_phrases(
    table: Any,
    rows: np.ndarray,
    groups: list[str],
    glosses: dict[str, str | None],
    said_by_both: list[SaidByBothRecord],
) -> dict[str, list[GroupPhraseRecord]]:
    """Each group's phrases in a merged theme, glossed as the automatic themes' were.

    A phrase its member themes found said by both groups, each in its own language,
    stays out: matching anew would load the phrase embedder.
    """
    column = table.column_names

    def texts(name: str) -> list[str]:
        return [t or "" for t in table.column(name).to_pylist()] if name in column else []

    n = table.num_rows
    found = study_themes._group_phrases(
        rows,
        groups,
        texts("text"),
        texts("caption") or [""] * n,
        texts("ocr_text") or [""] * n,
        [lang or "und" for lang in table.column("lang").to_pylist()],
    )
    return study_themes.group_phrase_records(found, said_by_both, glosses)
