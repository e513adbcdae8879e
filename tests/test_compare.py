"""themescope compare: generated English and Chinese runs analysed jointly, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest

from report_fixtures import build_compare, build_run
from test_model_support import tiny_config
from themescope._cli import main
from themescope.compare_document import CompareDocument, JointCompareDocument, read_compare
from themescope.corpus.compare import compare_runs
from themescope.manifest import CompareRecord
from themescope.media.config import IngestConfig
from themescope.media.ingest import IngestStage
from themescope.model.config import MULTILINGUAL
from themescope.rundir import RunDirectory, run_stage
from themescope.synthetic import SyntheticVideo, generate_language_pair
from themescope.themes.config import ThemesConfig
from themescope.themes.phrase_match import SAME_MEANING_SIMILARITY

TINY_VIDEO = {"width": 160, "height": 90, "fps": 5, "segment_s": (4, 8), "preset": "ultrafast"}
TINY = {"train": tiny_config(word_vectors=MULTILINGUAL), "themes": ThemesConfig(k_range=(2, 4))}


def _ingest(root: Path, name: str, video: SyntheticVideo) -> Path:
    run = RunDirectory(root / name)
    run_stage(run, IngestStage(video.video_path, video.subtitles_path, IngestConfig(ocr="off")))
    return run.path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An English run of stories 0-2 and a Chinese run of stories 1-3 (only ingested)."""
    root = tmp_path_factory.mktemp("runs")
    videos = generate_language_pair(root, duration_s=40.0, **TINY_VIDEO)
    return _ingest(root, "us", videos["en"]), _ingest(root, "cn", videos["zh"])


def _fail(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def test_english_and_chinese_runs_share_themes_in_one_space(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "cmp"
    result = compare_runs(runs, out, device="cpu", **TINY)
    document = result.document
    assert result.stages == {
        "ingest": "ran",
        "train": "ran",
        "themes": "ran",
        "compare": "ran",
        "report": "ran",
    }
    assert [(run.name, run.lang) for run in document.runs] == [("us", "en"), ("cn", "zh")]
    shared = [theme for theme in document.themes if theme.shared]
    assert shared, [theme.shares for theme in document.themes]
    for theme in shared:
        assert theme.shares["us"] > 0 and theme.shares["cn"] > 0
    pairs = [pair for theme in shared for pair in theme.said_by_both]
    assert pairs
    for pair in pairs:
        assert set(pair.phrases) == {"us", "cn"} and pair.similarity >= SAME_MEANING_SIMILARITY
    # Every Chinese phrase carries its English gloss beside it.
    chinese = [p for theme in document.themes for p in theme.phrases["cn"]]
    assert chinese and all(p.gloss for p in chinese)
    # The frames live in the comparison's folder: it reads nothing from the runs any more.
    images = [image for theme in document.themes for image in theme.representative_images]
    assert images and all(image.startswith("videos/") for image in images)
    assert all((out / image).is_file() for image in images)
    # The page leads with what the runs share, each Chinese phrase with its gloss beside it.
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert page.index("What these reports share") < page.index("Where they differ")
    chinese_pair = pairs[0].phrases["cn"]
    assert f'{chinese_pair.text} <span class="gloss">({chinese_pair.gloss})</span>' in page
    record = RunDirectory(out, kind="comparison").read_manifest().record("compare", CompareRecord)
    assert record is not None and (record.n_runs, record.n_shared) == (2, len(shared))
    # A rerun skips every stage; a run ingested anew redoes the comparison.
    again = compare_runs(runs, out, device="cpu", **TINY)
    assert set(again.stages.values()) == {"skipped"}
    manifest = json.loads((runs[0] / "manifest.json").read_text())
    manifest["stages"]["ingest"]["fingerprint"] = "ingested anew"
    moved = tmp_path / "us"
    shutil.copytree(runs[0], moved)
    (moved / "manifest.json").write_text(json.dumps(manifest))
    assert compare_runs([moved, runs[1]], out, device="cpu", **TINY).stages["ingest"] == "ran"


def test_a_run_compared_with_itself_is_refused(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    us, _ = runs
    out = str(tmp_path / "cmp")
    assert _fail(["compare", str(us), str(us), "--out", out], capsys) == (
        f"themescope: error: run {us} is given twice: a run compared with itself"
    )
    copy = tmp_path / "copy"
    shutil.copytree(us, copy)
    assert _fail(["compare", str(us), str(copy), "--out", out], capsys) == (
        "themescope: error: runs us and copy ingested the same video with the same settings: "
        "a run compared with itself"
    )
    same_name = tmp_path / "elsewhere" / "us"
    shutil.copytree(us, same_name)
    assert _fail(["compare", str(us), str(same_name), "--out", out], capsys) == (
        "themescope: error: two runs are named 'us': a comparison names each run by its "
        "folder; rename one of the folders"
    )
    assert not (tmp_path / "cmp").exists()


def test_damaged_old_and_textless_runs_are_named(
    runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    us, cn = runs
    out = str(tmp_path / "cmp")
    damaged = tmp_path / "damaged"
    shutil.copytree(us, damaged)
    first = sorted((damaged / "frames").iterdir())[0]
    first.unlink()
    manifest = json.loads((damaged / "manifest.json").read_text())
    manifest["stages"]["ingest"]["fingerprint"] = "another ingest"
    (damaged / "manifest.json").write_text(json.dumps(manifest))
    n_frames = pq.read_metadata(damaged / "frames.parquet").num_rows
    rerun = "rerun `themescope ingest VIDEO --out {} --force` with this themescope"
    assert _fail(["compare", str(us), str(cn), str(damaged), "--out", out], capsys) == (
        f"themescope: error: run damaged is damaged: 1 of its {n_frames} frame images are "
        f"missing (first: {first}); {rerun.format(damaged)}"
    )
    old = tmp_path / "old"
    shutil.copytree(damaged, old)
    shutil.copy2(us / "frames" / first.name, old / "frames" / first.name)
    table = pq.read_table(old / "frames.parquet")
    pq.write_table(table.drop_columns(["lang"]), old / "frames.parquet")
    assert _fail(["compare", str(us), str(old), "--out", out], capsys) == (
        "themescope: error: run old was made by an older themescope (its frames.parquet lacks "
        f"lang): {rerun.format(old)}"
    )
    mute = tmp_path / "mute"
    shutil.copytree(damaged, mute)
    shutil.copy2(us / "frames" / first.name, mute / "frames" / first.name)
    table = pq.read_table(mute / "frames.parquet")
    for column in ("text", "ocr_text"):
        if column in table.column_names:
            index = table.column_names.index(column)
            table = table.set_column(index, column, [[""] * table.num_rows])
    pq.write_table(table, mute / "frames.parquet")
    assert _fail(["compare", str(us), str(mute), "--out", out], capsys) == (
        "themescope: error: run mute has no text (no subtitles, transcript or on-screen "
        "text): a comparison finds what the runs say; ingest its video with subtitles or --asr"
    )
    assert _fail(["compare", str(us), "--out", out], capsys) == (
        "themescope: error: a comparison needs at least two runs; got 1"
    )
    assert not (tmp_path / "cmp").exists()


def test_an_older_compare_json_still_reads(tmp_path: Path) -> None:
    out = build_compare(
        tmp_path, build_run(tmp_path, name="us"), build_run(tmp_path, name="cn", lang="zh")
    )
    document = read_compare(out / "compare.json")
    assert isinstance(document, CompareDocument) and document.schema_version == 2
    assert not isinstance(document, JointCompareDocument)


def _pair_page(folder: Path, themes: list) -> str:
    """The compare page of a us (English) and cn (Chinese) pair with ``themes``."""
    from themescope.compare_document import COMPARE_SCHEMA_VERSION, JointRun, write_compare
    from themescope.documents import PhraseMatching
    from themescope.report.compare_page import build_compare_html

    write_compare(
        folder / "compare.json",
        JointCompareDocument(
            schema_version=COMPARE_SCHEMA_VERSION,
            tool="themescope",
            version="test",
            created="2026-12-06T00:00:00+00:00",
            runs=[
                JointRun(
                    name=n,
                    path=f"/runs/{n}",
                    lang=lang,
                    ingest_fingerprint=n,
                    n_frames=2,
                    seconds=4.0,
                )
                for n, lang in (("us", "en"), ("cn", "zh"))
            ],
            min_share=0.05,
            themes=themes,
            phrase_matching=PhraseMatching(method="test", same_meaning_from=0.3, glosses=True),
            gloss_language="en",
            warnings=[],
        ),
    )
    return build_compare_html(folder)


def test_a_word_by_word_gloss_is_marked_on_the_page(tmp_path: Path) -> None:
    from themescope.compare_document import JointPhrase, JointTheme, SaidByBoth

    guessed = JointPhrase(text="角角落落", gloss="corner corner", gloss_word_by_word=True)
    known = JointPhrase(text="加强针", gloss="booster shot")
    theme = JointTheme(
        id=0,
        label="两山理念",
        label_gloss="two mountains idea",
        label_gloss_word_by_word=True,
        shares={"us": 0.5, "cn": 0.5},
        shared=True,
        n_frames=4,
        representative_images=[],
        phrases={"us": [JointPhrase(text="booster shot")], "cn": [known, guessed]},
        said_by_both=[
            SaidByBoth(
                phrases={"us": JointPhrase(text="booster shot"), "cn": known}, similarity=0.6
            )
        ],
        only={"us": [], "cn": [guessed]},
    )
    page = _pair_page(tmp_path, [theme])
    # A gloss pieced together from the parts of an unknown word may mislead: marked "≈".
    assert '角角落落 <span class="gloss">(≈ corner corner)</span>' in page
    assert "≈ two mountains idea" in page
    assert '加强针 <span class="gloss">(booster shot)</span>' in page
    assert "≈ booster shot" not in page
    assert "read it with care" not in page  # the shared theme has a phrase both say


def test_a_shared_theme_without_a_phrase_in_common_is_read_with_care(tmp_path: Path) -> None:
    from themescope.compare_document import JointPhrase, JointTheme

    theme = JointTheme(
        id=0,
        label="安吉 · visit zhongwei",
        shares={"us": 0.2, "cn": 0.3},
        shared=True,
        n_frames=4,
        representative_images=[],
        phrases={"us": [JointPhrase(text="visit zhongwei")], "cn": [JointPhrase(text="安吉")]},
        said_by_both=[],
        only={"us": [JointPhrase(text="visit zhongwei")], "cn": [JointPhrase(text="安吉")]},
    )
    page = _pair_page(tmp_path, [theme])
    assert "1 of 1 themes are in every report" in page
    assert "In 1 of them no phrase of one report means what a phrase of the other says" in page
    assert "read it with care" in page


def test_a_shared_theme_is_labelled_by_what_every_run_says() -> None:
    from themescope.compare_document import JointPhrase, JointTheme, SaidByBoth
    from themescope.themes.compare.stage import shared_label

    anji = JointPhrase(text="安吉", gloss="Anji County")
    theme = JointTheme(
        id=0,
        label="安吉",
        label_gloss="Anji County",
        shares={"cn": 0.2, "us": 0.1},
        shared=True,
        n_frames=9,
        representative_images=[],
        phrases={"cn": [anji], "us": [JointPhrase(text="rectifications")]},
        said_by_both=[],
        only={"cn": [anji], "us": [JointPhrase(text="rectifications")]},
    )
    # Only one run says 安吉: each run's best phrase, not one run's word for both.
    relabelled = shared_label(theme)
    assert (relabelled.label, relabelled.label_gloss) == ("安吉 · rectifications", "Anji County")
    viewers = SaidByBoth(
        phrases={
            "cn": JointPhrase(text="观众", gloss="audience"),
            "us": JointPhrase(text="viewers"),
        },
        similarity=0.41,
    )
    both = msgspec.structs.replace(theme, said_by_both=[viewers])
    assert (shared_label(both).label, shared_label(both).label_gloss) == (
        "观众 · viewers",
        "audience",
    )
    # A label every run says, and a theme of one run, keep their label.
    said = msgspec.structs.replace(theme, phrases={"cn": [anji], "us": [anji]})
    assert shared_label(said).label == "安吉"
    own = msgspec.structs.replace(theme, shared=False)
    assert shared_label(own) == own
