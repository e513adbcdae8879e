"""themes.json and compare.json: typed round trips, versions, damage, and the committed schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import cli_error
from report_fixtures import CHINESE_PHRASE, build_compare, build_run
from study_fixtures import SAID_BY_BOTH, StudySpec, build_study
from themescope.compare_document import CompareDocument, read_compare, write_compare
from themescope.documents import (
    StabilityRecord,
    ThemesDocument,
    ThemeStabilityRecord,
    read_themes,
    write_themes,
)
from themescope.errors import DocumentError
from themescope.manifest import read_manifest
from themescope.schemas import SCHEMA_FILES, schema_text
from themescope.study_documents import read_study_themes, write_study

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "docs" / "schemas"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return build_run(tmp_path, name="us")


@pytest.fixture
def compare_dir(tmp_path: Path, run_dir: Path) -> Path:
    return build_compare(tmp_path, run_dir, build_run(tmp_path, name="cn", lang="zh"))


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_themes_round_trip_keeps_every_value_and_writes_readable_utf8(
    run_dir: Path, tmp_path: Path
) -> None:
    document = read_themes(run_dir / "themes.json")
    assert isinstance(document, ThemesDocument)
    assert document.themes[0].phrases[1].text == CHINESE_PHRASE
    assert document.themes[2].phrases[-1].supported is False
    assert document.k_selection.table[0].sizes == [6, 6, 6]
    target = tmp_path / "copy" / "themes.json"
    write_themes(target, document)
    assert read_themes(target) == document
    text = target.read_text(encoding="utf-8")
    assert CHINESE_PHRASE in text and text.endswith("}\n")
    assert text.startswith('{\n  "schema_version": 1,\n  "k": 3,')
    # The file holds the same JSON values the hand-built fixture wrote.
    assert json.loads(text) == json.loads((run_dir / "themes.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in target.parent.iterdir()) == ["themes.json"]  # no temp file left


def test_compare_round_trip(compare_dir: Path, tmp_path: Path) -> None:
    document = read_compare(compare_dir / "compare.json")
    assert isinstance(document, CompareDocument)
    assert document.per_run.a.shared[0].with_ == 0
    assert document.per_run.b.own[0].best_match is None
    assert document.matrices.text is None and document.matrices.combined[0][0] == 0.9
    target = tmp_path / "copy" / "compare.json"
    write_compare(target, document)
    assert read_compare(target) == document
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == json.loads((compare_dir / "compare.json").read_text(encoding="utf-8"))
    assert written["per_run"]["a"]["shared"][0]["with"] == 0  # the JSON key, not the attribute


def test_an_unknown_optional_field_is_ignored_so_older_readers_accept_newer_files(
    run_dir: Path,
) -> None:
    path = run_dir / "themes.json"
    _edit(path, lambda data: data["themes"][0].update(people=["Dr. Dana"], gloss="vaccines"))
    assert read_themes(path).themes[0].label == json.loads(path.read_text())["themes"][0]["label"]


def test_themes_json_from_before_stability_reads_and_stability_round_trips(
    run_dir: Path, tmp_path: Path
) -> None:
    path = run_dir / "themes.json"

    def written_before_stability(data: dict) -> None:
        data.pop("stability")
        for theme in data["themes"]:
            theme.pop("stability")

    _edit(path, written_before_stability)
    document = read_themes(path)
    assert document.stability is None and document.themes[0].stability is None
    document.stability = StabilityRecord(
        n_refits=2,
        seeds=[1, 2],
        mean_ari=0.7,
        min_ari=0.6,
        same_theme_jaccard=0.5,
        unstable_below=0.5,
        unstable=[1],
    )
    document.themes[1].stability = ThemeStabilityRecord(
        recurrence=0.0, mean_jaccard=0.3, unstable=True
    )
    target = tmp_path / "copy" / "themes.json"
    write_themes(target, document)
    again = read_themes(target)
    assert again == document and again.themes[1].stability.unstable  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("themes.json", read_themes),
        ("compare.json", read_compare),
        ("manifest.json", read_manifest),
    ],
)
def test_a_newer_schema_version_says_to_upgrade(
    run_dir: Path, compare_dir: Path, name: str, reader
) -> None:
    # One reader for every versioned file: the manifest speaks as the documents do.
    path = (compare_dir if name == "compare.json" else run_dir) / name
    _edit(path, lambda data: data.update(schema_version=7))
    with pytest.raises(DocumentError) as info:
        reader(path)
    newest = 3 if name == "compare.json" else 1
    assert str(info.value) == (
        f"{path} has schema_version 7; this themescope reads {newest}; upgrade themescope"
    )


def test_compare_json_of_schema_version_1_still_reads(compare_dir: Path) -> None:
    path = compare_dir / "compare.json"

    def to_version_1(data: dict) -> None:
        # what schema_version 1 held: no glosses, nothing said by both, no matching rule
        data.update(schema_version=1)
        del data["phrase_matching"], data["gloss_language"]
        for run in data["runs"].values():
            for theme in run["themes"]:
                del theme["label_gloss"]
                for phrase in theme["phrases"]:
                    del phrase["gloss"]
        for per_run in data["per_run"].values():
            for item in per_run["shared"] + per_run["own"]:
                item.pop("said_by_both", None), item.pop("with_label_gloss", None)
                del item["label_gloss"]
                for phrase in item["difference_phrases"]:
                    del phrase["gloss"], phrase["closest"], phrase["closest_gloss"]

    _edit(path, to_version_1)
    document = read_compare(path)
    assert document.schema_version == 1 and document.gloss_language is None
    assert document.per_run.a.shared[0].said_by_both == []
    assert document.runs.b.themes[0].phrases[0].gloss is None
    _edit(path, lambda data: data.update(schema_version=0))
    with pytest.raises(DocumentError, match=r"cannot read \(it reads 1, 2 and 3\); rerun"):
        read_compare(path)


def test_damaged_themes_json_names_the_file_and_the_fault(run_dir: Path) -> None:
    path = run_dir / "themes.json"
    rewrite = "rerun `themescope themes --force` to rewrite it"
    original = path.read_text(encoding="utf-8")
    cases = [
        (
            lambda data: data["themes"][0].update(share="a lot"),
            f"{path} is damaged: expected `float`, got `str` at `$.themes[0].share`; {rewrite}",
        ),
        (
            lambda data: data["themes"][1]["phrases"][0]["evidence"].pop("support"),
            f"{path} is damaged: object missing required field `support` at "
            f"`$.themes[1].phrases[0].evidence`; {rewrite}",
        ),
        (
            lambda data: data.pop("k"),
            f"{path} is damaged: object missing required field `k`; {rewrite}",
        ),
        (
            lambda data: data.update(schema_version=0),
            f"{path} has schema_version 0, which this themescope cannot read (it reads 1); "
            f"{rewrite}",
        ),
    ]
    for change, message in cases:
        path.write_text(original, encoding="utf-8")
        _edit(path, change)
        with pytest.raises(DocumentError) as info:
            read_themes(path)
        assert str(info.value) == message
    path.write_text('{"schema_version": 1, "k": 3', encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        read_themes(path)
    assert str(info.value) == f"{path} is unreadable (input data was truncated); {rewrite}"
    path.write_text("{k: 3}", encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        read_themes(path)
    assert str(info.value) == (
        f"{path} is unreadable (JSON is malformed: object keys must be strings (byte 1)); {rewrite}"
    )
    path.write_text('{"k": 3}', encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        read_themes(path)
    assert str(info.value) == (
        f"{path} is damaged: object missing required field `schema_version`; {rewrite}"
    )
    path.unlink()
    with pytest.raises(DocumentError) as info:
        read_themes(path)
    assert str(info.value) == f"{path} is missing; run `themescope themes` first"


def test_damaged_compare_json_names_the_file_and_the_fault(compare_dir: Path) -> None:
    path = compare_dir / "compare.json"
    _edit(path, lambda data: data["matching"][0].update(shared="yes"))
    with pytest.raises(DocumentError) as info:
        read_compare(path)
    assert str(info.value) == (
        f"{path} is damaged: expected `bool`, got `str` at `$.matching[0].shared`; "
        "rerun `themescope compare` to rewrite it"
    )


def test_cli_report_on_a_damaged_or_newer_themes_json_exits_2_with_one_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "themes.json"
    original = path.read_text(encoding="utf-8")
    _edit(path, lambda data: data.update(schema_version=2))
    assert cli_error(capsys, "report", str(run_dir)) == (
        f"{path} has schema_version 2; this themescope reads 1; upgrade themescope"
    )
    path.write_text(original, encoding="utf-8")
    _edit(path, lambda data: data["themes"][2].update(frames=None))
    assert cli_error(capsys, "report", str(run_dir)) == (
        f"{path} is damaged: expected `array`, got `null` at "
        "`$.themes[2].frames`; rerun `themescope themes --force` to rewrite it"
    )


@pytest.mark.parametrize("name", sorted(SCHEMA_FILES))
def test_committed_schema_is_generated_from_the_classes(name: str) -> None:
    committed = SCHEMA_DIR / name
    generated = schema_text(SCHEMA_FILES[name])
    current = committed.read_text(encoding="utf-8") if committed.is_file() else None
    assert current == generated, (
        f"docs/schemas/{name} is out of date with themescope.documents; "
        "regenerate it with `python scripts/gen_schemas.py` and commit it"
    )


def test_the_readme_example_of_themes_json_is_a_valid_document(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("`themes.json` (`schema_version` 1", 1)[1]
    example = example.split("```json\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "themes.json"
    path.write_text(example, encoding="utf-8")
    assert read_themes(path).themes[0].phrases[0].evidence.support == 0.4


def test_people_roles_and_word_by_word_glosses_round_trip_and_older_files_read_without_them(
    run_dir: Path, tmp_path: Path
) -> None:
    path = run_dir / "themes.json"
    older = read_themes(path)  # the fixture writes neither roles nor the flags
    assert older.themes[0].roles == {}
    assert older.themes[0].label_gloss_word_by_word is False
    assert older.themes[0].phrases[1].gloss_word_by_word is False

    def add(data):
        theme = data["themes"][0]
        theme["people"] = ["陈霞"]
        theme["roles"] = {"陈霞": {"text": "社区卫生服务中心", "gloss": "community health service"}}
        theme["phrases"][1]["gloss_word_by_word"] = True

    _edit(path, add)
    document = read_themes(path)
    assert document.themes[0].roles["陈霞"].gloss == "community health service"
    assert document.themes[0].phrases[1].gloss_word_by_word is True
    target = tmp_path / "copy" / "themes.json"
    write_themes(target, document)
    assert read_themes(target) == document


def test_what_groups_both_say_round_trips_and_older_study_files_read_without_it(
    tmp_path: Path,
) -> None:
    path = build_study(tmp_path, StudySpec()) / "themes.json"
    document = read_study_themes(path)
    pair = document.themes[0].said_by_both[0]
    assert [(g, p.text, p.gloss) for g, p in pair.phrases.items()] == [
        ("US", SAID_BY_BOTH[0], None),
        ("CN", SAID_BY_BOTH[1], SAID_BY_BOTH[2]),
    ]
    assert document.phrase_matching is not None
    assert document.phrase_matching.same_meaning_from == 0.3
    target = tmp_path / "copy" / "themes.json"
    write_study(target, document)
    assert read_study_themes(target) == document

    def drop(data):
        del data["phrase_matching"]
        for theme in data["themes"]:
            del theme["said_by_both"]

    _edit(path, drop)
    older = read_study_themes(path)
    assert older.phrase_matching is None
    assert all(theme.said_by_both == [] for theme in older.themes)
