"""Tidy exports of a study or a single run: the tables, their columns, and bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from report_fixtures import build_run
from study_fixtures import CHINESE_GLOSS, CHINESE_LABEL, GROUP_MIX, StudySpec, build_study
from themescope import export
from themescope._cli import main
from themescope.documents import read_themes
from themescope.errors import RunDirectoryError, StageNotDoneError
from themescope.manifest import Manifest
from themescope.rundir import RunDirectory
from themescope.study_documents import read_study_themes, write_study
from themescope.tables import THEME_COLUMNS


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_study(tmp_path_factory.mktemp("export"))


def test_a_study_exports_every_table_as_csv_and_parquet(study: Path, tmp_path: Path) -> None:
    out = tmp_path / "tables"
    result = export(study, out=out)
    assert result.tables == ("video_themes", "themes", "frames", "group_time", "effects")
    assert sorted(p.name for p in out.iterdir()) == [
        "effects.csv",
        "effects.parquet",
        "frames.parquet",
        "group_time.csv",
        "group_time.parquet",
        "themes.csv",
        "themes.parquet",
        "video_themes.csv",
        "video_themes.parquet",
    ]

    # video_themes: one row per video (with airtime) and theme, its metadata typed.
    table = pq.read_table(out / "video_themes.parquet")
    assert table.column_names == [
        "video", "group", "date", "programme", "outlet_type", "theme", "label", "share", "seconds",
    ]  # fmt: skip
    assert pa.types.is_timestamp(table.schema.field("date").type)
    rows = table.to_pylist()
    assert len(rows) == 7 * 3  # seven ingested videos (the failed one has no frames), k = 3
    us1 = [r for r in rows if r["video"] == "us-1"]
    assert [round(r["share"], 3) for r in us1] == list(GROUP_MIX["US"])
    assert [r["seconds"] for r in us1] == [24.0, 12.0, 4.0]
    assert us1[0]["date"].isoformat() == "2020-01-11T00:00:00"
    assert (us1[0]["outlet_type"], us1[1]["label"]) == ("state", CHINESE_LABEL)
    assert _csv(out / "video_themes.csv")[0]["video"] == "us-1"

    # themes: one row per theme, lists joined, each group's share and interval.
    themes = _csv(out / "themes.csv")
    document = read_study_themes(study / "themes.json")
    assert [int(t["id"]) for t in themes] == [t.id for t in document.themes]
    chinese = themes[1]
    assert (chinese["label"], chinese["label_gloss"]) == (CHINESE_LABEL, CHINESE_GLOSS)
    assert chinese["phrases"] == f"{CHINESE_LABEL} | market rally"
    assert chinese["glosses"] == f"{CHINESE_GLOSS} | "
    assert chinese["people"] == "王华庆"
    share = document.themes[1].group_shares["CN"]
    assert (float(chinese["share_CN"]), float(chinese["low_CN"]), float(chinese["high_CN"])) == (
        share.share,
        share.low,
        share.high,
    )
    # TW has one video: no interval, an empty cell (null in Parquet).
    assert (
        chinese["low_TW"] == ""
        and pq.read_table(out / "themes.parquet")["low_TW"][1].as_py() is None
    )
    assert float(chinese["p_value"]) == document.themes[1].group_p_value

    # group_time: the over_time document, tidy.
    group_time = pq.read_table(out / "group_time.parquet").to_pylist()
    assert len(group_time) == 7 * 3
    first = group_time[0]
    assert (first["group"], first["start"].isoformat(), first["unit"], first["theme"]) == (
        "US",
        "2020-01-11",
        "day",
        0,
    )
    effects = _csv(out / "effects.csv")
    assert [e["term"] for e in effects[:3]] == ["group=CN", "group=TW", "outlet_type=state"]
    assert (
        pq.read_table(out / "frames.parquet").num_rows
        == pq.read_table(study / "frames.parquet").num_rows
    )


def test_a_rerun_replaces_the_tables_and_drops_those_no_longer_made(
    tmp_path: Path,
) -> None:
    study = build_study(tmp_path)
    out = tmp_path / "tables"
    export(study, out=out)
    document = read_study_themes(study / "themes.json")
    document.over_time = None
    document.effects = None
    write_study(study / "themes.json", document)
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    result = export(study, out=out)
    assert result.tables == ("video_themes", "themes", "frames")
    assert not (out / "group_time.csv").exists() and not (out / "effects.parquet").exists()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging folder left"


def test_a_single_run_exports_its_themes_and_frames(tmp_path: Path) -> None:
    run = build_run(tmp_path)
    result = export(run, out=tmp_path / "tables")
    assert result.tables == ("themes", "frames")
    themes = _csv(tmp_path / "tables" / "themes.csv")
    document = read_themes(run / "themes.json")
    assert tuple(themes[0]) == THEME_COLUMNS
    assert THEME_COLUMNS[:7] == (
        "id",
        "label",
        "researcher_label",
        "label_gloss",
        "phrases",
        "glosses",
        "people",
    )
    assert {t["researcher_label"] for t in themes} == {""}  # no codebook
    assert [t["label"] for t in themes] == [t.label for t in document.themes]
    assert result.n_rows["frames"] == 18


def _export_error(capsys: pytest.CaptureFixture[str], path: Path, out: Path) -> str:
    with pytest.raises(SystemExit) as info:
        main(["export", str(path), "--out", str(out)])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    return lines[0]


def test_bad_folders_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tables"
    missing = tmp_path / "nowhere"
    assert _export_error(capsys, missing, out) == (
        f"themescope: error: {missing} does not exist; give the folder `themescope corpus` or "
        "`themescope summarize` wrote"
    )
    plain = tmp_path / "videos"
    plain.mkdir()
    assert _export_error(capsys, plain, out) == (
        f"themescope: error: {plain} is not a themescope study or run (no manifest.json); give "
        "the folder `themescope corpus` or `themescope summarize` wrote"
    )
    unfinished = build_study(tmp_path, StudySpec(groups={"US": 2}), name="unfinished")
    manifest = RunDirectory(unfinished).read_manifest()
    manifest.stages.pop("themes")
    RunDirectory(unfinished).write_manifest(manifest)
    assert _export_error(capsys, unfinished, out) == (
        f"themescope: error: {unfinished} is unfinished: its themes stage has not completed; run "
        f"`themescope corpus CORPUS --out {unfinished}` to finish it, then export"
    )
    run = build_run(tmp_path, name="run")
    manifest = RunDirectory(run).read_manifest()
    manifest.stages.pop("themes")
    RunDirectory(run).write_manifest(manifest)
    assert _export_error(capsys, run, out) == (
        f"themescope: error: {run} is unfinished: its themes stage has not completed; run "
        "`themescope themes` to finish it, then export"
    )
    assert not out.exists(), "nothing is written for a folder refused"


def test_the_python_api_raises_tool_errors(tmp_path: Path) -> None:
    run = build_run(tmp_path)
    (run / "themes.json").unlink()
    with pytest.raises(StageNotDoneError, match=r"themes\.json is missing"):
        export(run, out=tmp_path / "tables")
    RunDirectory(tmp_path / "empty").write_manifest(Manifest())
    with pytest.raises(StageNotDoneError, match="is unfinished"):
        export(tmp_path / "empty", out=tmp_path / "tables")
    study = build_study(tmp_path)
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(RunDirectoryError, match=r"is a file; give a folder for the tables"):
        export(study, out=tmp_path / "file")
