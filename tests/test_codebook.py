"""The researcher's codebook (issue 17, part 1): labels, merges and drops, no retraining.

A tiny two-group study is fitted once; each test works on a copy. Merging two themes
gives each group the share of their union, computed here from the frames; a dropped
theme's airtime is set aside like black frames; labels show in themes.json, the
report and the export; nothing upstream of the codebook reruns. Bad codebooks are
refused in one line on a hand-built study, before anything is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from report_fixtures import build_run
from study_fixtures import build_study
from test_corpus import TINY_VIDEO, tiny_study
from themescope._cli import main
from themescope.corpus.codebook import codebook
from themescope.documents import read_themes
from themescope.rundir import RunDirectory, sha256_file
from themescope.study_documents import read_study_themes
from themescope.synthetic import SyntheticCorpus, generate_corpus
from themescope.tables import export


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyntheticCorpus]:
    """A study of two groups of two 24 s videos, and its corpus."""
    out = tmp_path_factory.mktemp("codebook")
    corpus = generate_corpus(out / "corpus", n_per_group=2, duration_s=24.0, seed=3, **TINY_VIDEO)  # type: ignore[arg-type]
    tiny_study(workers=2).run(corpus.manifest_path, out=out / "study")
    return out / "study", corpus


@pytest.fixture
def study(fitted: tuple[Path, SyntheticCorpus], tmp_path: Path) -> Path:
    copy = tmp_path / "study"
    shutil.copytree(fitted[0], copy)
    return copy


def _upstream(study: Path) -> dict[str, tuple[str | None, str | None]]:
    manifest = RunDirectory(study, kind="study").read_manifest()
    return {
        name: (manifest.stages[name].finished, manifest.stages[name].fingerprint)
        for name in ("ingest", "train", "themes")
    }


def _group_share(frames: dict[str, list], group: str, themes: set[int]) -> float:
    """A group's share of ``themes``: their seconds over its themed seconds, from frames."""
    seconds = np.array(frames["seconds"], float)
    auto = np.array(frames["auto_theme"])
    mine = (np.array(frames["group"]) == group) & (auto >= 0)
    return float(seconds[mine & np.isin(auto, list(themes))].sum() / seconds[mine].sum())


def test_merging_two_themes_gives_the_share_of_their_union_and_nothing_upstream_reruns(
    study: Path, fitted: tuple[Path, SyntheticCorpus]
) -> None:
    before = _upstream(study)
    path, statuses = codebook(study)
    assert path == study / "codebook.toml" and statuses == {}
    automatic = read_study_themes(study / "themes.json")
    assert f"k = {automatic.k}" in path.read_text(encoding="utf-8")
    path.write_text(
        f'k = {automatic.k}\n[[themes]]\nid = 0\nlabel = "Health and weather"\n'
        '\n[[themes]]\nid = 1\nmerge_into = 0\nnote = "same studio"\n',
        encoding="utf-8",
    )

    assert codebook(study, apply=True)[1] == {"codebook": "ran", "report": "ran"}
    document = read_study_themes(study / "themes.json")
    frames = pq.read_table(study / "frames.parquet").to_pydict()
    merged = document.themes[0]
    assert (merged.id, merged.merges, merged.note) == (0, [1], None)
    assert (merged.label, merged.researcher_label) == (
        automatic.themes[0].label,
        "Health and weather",
    )
    assert [t.id for t in document.themes] == [0, *range(2, automatic.k)]
    for group, share in merged.group_shares.items():
        assert share.share == round(_group_share(frames, group, {0, 1}), 4)
    assert merged.n_frames == automatic.themes[0].n_frames + automatic.themes[1].n_frames
    assert sorted(set(frames["theme"])) == [0, *range(2, automatic.k)]
    assert all(v.spans and all(t != 1 for *_, t in v.spans) for v in document.videos)

    # Provenance: the codebook's hash; nothing upstream ran again.
    record = RunDirectory(study, kind="study").read_manifest().stages["codebook"]
    assert record.sha256 == sha256_file(path) == document.codebook.sha256  # type: ignore[attr-defined,union-attr]
    assert _upstream(study) == before

    # Any later run of the study keeps the codebook, and redoes nothing.
    result = tiny_study(workers=2).run(fitted[1].manifest_path, out=study)
    assert set(result.stages.values()) == {"skipped"} and "codebook" in result.stages
    assert result.themes[0].label == "Health and weather"

    # An edited codebook is applied to the automatic themes again, not to the merged ones.
    path.write_text(f'k = {automatic.k}\n[[themes]]\nid = 0\nlabel = "Weather"\n', "utf-8")
    assert codebook(study, apply=True)[1] == {"codebook": "ran", "report": "ran"}
    again = read_study_themes(study / "themes.json")
    assert [t.id for t in again.themes] == list(range(automatic.k)) and not again.themes[0].merges
    assert again.themes[1].group_shares == automatic.themes[1].group_shares
    assert _upstream(study) == before


def test_a_dropped_theme_is_set_aside_like_black_frames(study: Path) -> None:
    automatic = read_study_themes(study / "themes.json")
    last = automatic.k - 1
    (study / "codebook.toml").write_text(f"[[themes]]\nid = {last}\ndrop = true\n", "utf-8")
    codebook(study, apply=True)
    document = read_study_themes(study / "themes.json")
    frames = pq.read_table(study / "frames.parquet").to_pydict()
    assert document.codebook is not None and document.codebook.dropped == [last]
    dropped = [i for i, t in enumerate(frames["auto_theme"]) if t == last]
    assert document.codebook.dropped_frames == dropped
    assert all(frames["theme"][i] == -1 for i in dropped)
    seconds = np.array(frames["seconds"], float)
    assert document.codebook.dropped_share == round(seconds[dropped].sum() / seconds.sum(), 4)
    assert last not in {t.id for t in document.themes}
    for group in document.groups:
        total = sum(t.group_shares[group.name].share for t in document.themes)
        assert total == pytest.approx(1.0, abs=1e-3)
    page = (study / "report.html").read_text(encoding="utf-8")
    assert f"theme {last} dropped:" in page and "set aside, like black frames" in page


def test_researcher_labels_show_beside_the_automatic_ones_in_report_and_export(
    study: Path, tmp_path: Path
) -> None:
    automatic = read_study_themes(study / "themes.json")
    (study / "codebook.toml").write_text('[[themes]]\nid = 1\nlabel = "Floods & <fire>"\n', "utf-8")
    # The report command applies an edited codebook before it rebuilds the page.
    with pytest.raises(SystemExit) as info:
        main(["report", str(study)])
    assert info.value.code == 0
    page = (study / "report.html").read_text(encoding="utf-8")
    assert "Floods &amp; &lt;fire&gt;" in page
    assert f"automatic label: {automatic.themes[1].label}" in page

    export(study, out=tmp_path / "tables")
    themes = pq.read_table(tmp_path / "tables" / "themes.parquet").to_pylist()
    assert [(t["label"], t["researcher_label"]) for t in themes][1] == (
        automatic.themes[1].label,
        "Floods & <fire>",
    )
    shares = pq.read_table(tmp_path / "tables" / "video_themes.parquet").to_pylist()
    assert {s["label"] for s in shares if s["theme"] == 1} == {"Floods & <fire>"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[themes]]\nid = 0\nmerge_into = 1\n[[themes]]\nid = 1\nmerge_into = 2\n"
            "[[themes]]\nid = 2\nmerge_into = 0\n",
            "codebook {path}: merges go round in a cycle (0 → 1 → 2 → 0); merge each theme "
            "into one that stays",
        ),
        (
            "[[themes]]\nid = 7\n",
            "codebook {path} names theme 7, which does not exist: the themes are 0–2",
        ),
        (
            "[[themes]]\nid = 0\nmerge_into = 9\n",
            "codebook {path} names theme 9, which does not exist: the themes are 0–2",
        ),
        (
            "[[themes]]\nid = 0\nmerge_into = 2\n[[themes]]\nid = 2\ndrop = true\n",
            "codebook {path}: theme 0 merges into theme 2, which is dropped; drop theme 0 "
            "too or merge it into another",
        ),
        (
            "k = 5\n[[themes]]\nid = 0\n",
            "codebook {path} is for 5 themes but this study has 3: it was written for another "
            "study or run, or before the themes were redone; write a new one with "
            "`themescope codebook FOLDER --force`",
        ),
        (
            '[[themes]]\nid = 0\ndrop = "yes"\n',
            "codebook {path}: theme 0's drop must be true or false, not 'yes'",
        ),
        (
            '[[themes]]\nid = 0\nlable = "x"\n',
            "codebook {path}: theme 0 has unknown key 'lable' (known: id, label, merge_into, "
            "drop, note)",
        ),
        (
            "[[themes]]\nid = 0\n[[themes]]\nid = 0\n",
            "codebook {path} lists theme 0 twice",
        ),
        (
            "id: 0\nlabel: economy\n",
            "codebook {path} is not TOML: Expected '=' after a key in a key/value pair "
            "(at line 1, column 3)",
        ),
    ],
)
def test_a_bad_codebook_is_refused_in_one_line_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    study = build_study(tmp_path)
    path = study / "codebook.toml"
    path.write_text(text, encoding="utf-8")
    before = {p.name: p.read_bytes() for p in study.iterdir() if p.is_file()}
    with pytest.raises(SystemExit) as info:
        main(["codebook", str(study), "--apply"])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"themescope: error: {message.format(path=path)}"
    ]
    assert {p.name: p.read_bytes() for p in study.iterdir() if p.is_file()} == before


def test_an_edited_codebook_is_not_written_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = build_study(tmp_path)
    path = study / "codebook.toml"
    path.write_text('[[themes]]\nid = 0\nlabel = "mine"\n', encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["codebook", str(study)])
    assert info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"themescope: error: {path} already exists: edit it and run "
        f"`themescope codebook {study} --apply`, or pass --force to write it anew from the "
        "automatic themes"
    )
    assert 'label = "mine"' in path.read_text(encoding="utf-8")


def test_a_single_runs_codebook_labels_merges_and_drops_its_themes(tmp_path: Path) -> None:
    run = build_run(tmp_path)
    automatic = read_themes(run / "themes.json")
    (run / "codebook.toml").write_text(
        '[[themes]]\nid = 0\nlabel = "Studio"\n[[themes]]\nid = 1\nmerge_into = 0\n'
        "[[themes]]\nid = 2\ndrop = true\n",
        encoding="utf-8",
    )
    assert codebook(run, apply=True)[1] == {"codebook": "ran", "report": "ran"}
    document = read_themes(run / "themes.json")
    [studio] = document.themes
    assert (studio.label, studio.researcher_label, studio.merges) == (
        automatic.themes[0].label,
        "Studio",
        [1],
    )
    assert studio.frames == sorted(automatic.themes[0].frames + automatic.themes[1].frames)
    assert document.codebook is not None and document.codebook.dropped == [2]
    assert document.codebook.dropped_frames == automatic.themes[2].frames
    # Every frame's time is in the theme or set aside: nothing is lost or counted twice.
    assert studio.share + document.codebook.dropped_share == pytest.approx(1.0, abs=2e-4)
    page = (run / "report.html").read_text(encoding="utf-8")
    assert "Studio" in page and "merges automatic theme 1" in page
    assert "automatic label: &lt;script&gt;" in page
    export(run, out=tmp_path / "tables")
    themes = pq.read_table(tmp_path / "tables" / "themes.parquet").to_pylist()
    assert [(t["id"], t["researcher_label"]) for t in themes] == [(0, "Studio")]
