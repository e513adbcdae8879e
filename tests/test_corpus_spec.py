"""Reading a corpus: CSV, TOML and YAML manifests, folders, and every bad input refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from themescope.corpus.covariates import read_covariates
from themescope.corpus.spec import CorpusSpec, read_corpus
from themescope.errors import ConfigError

# read_corpus never decodes a video, so a few bytes stand in for one.
DUMMY = b"not really a video"


def _touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(DUMMY)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """tmp_path/media with two US and two CN videos, subtitles beside all but one."""
    root = tmp_path / "media"
    _touch(
        root / "us" / "cnn 01.mp4",
        root / "us" / "cnn 01.srt",
        root / "us" / "fox_01.mp4",
        root / "us" / "fox_01.srt",
        root / "cn" / "xwlb_01.mp4",
        root / "cn" / "xwlb_01.srt",
        root / "cn" / "xwlb_02.mp4",
    )
    return root


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        read_corpus(path)
    message = str(info.value)
    assert "\n" not in message, "an error is one line"
    return message


# --------------------------------------------------------------------------- formats


def test_csv_manifest(media: Path) -> None:
    manifest = _write(
        media / "corpus.csv",
        "video,subtitles,group,lang,date,programme\n"
        "us/cnn 01.mp4,us/cnn 01.srt,US,en-US,2020-01-01,Evening News\n"
        "\n"
        "cn/xwlb_01.mp4,,CN,zh-CN,2020-01-02,新闻联播\n"
        f"{media / 'us' / 'fox_01.mp4'},,US,,2020-01-03,\n",
    )
    spec = read_corpus(manifest)
    assert spec.source == manifest
    assert spec.warnings == ()
    first, second, third = spec.videos
    assert first.video == (media / "us" / "cnn 01.mp4").resolve()
    assert first.subtitles == (media / "us" / "cnn 01.srt").resolve()
    assert (first.group, first.lang, first.row) == ("US", "en", 2)
    assert first.metadata == {"date": "2020-01-01", "programme": "Evening News"}
    # The blank line is skipped; rows keep the numbers a spreadsheet shows.
    assert (second.subtitles, second.lang, second.row) == (None, "zh", 4)
    assert second.metadata["programme"] == "新闻联播"
    assert (third.video.is_absolute(), third.lang, third.row) == (True, None, 5)
    assert third.metadata == {"date": "2020-01-03", "programme": ""}
    assert [v.id for v in spec.videos] == ["us__cnn-01", "cn__xwlb_01", "us__fox_01"]
    assert {g: [v.id for v in vs] for g, vs in spec.groups().items()} == {
        "US": ["us__cnn-01", "us__fox_01"],
        "CN": ["cn__xwlb_01"],
    }


def test_csv_as_spreadsheets_write_it(media: Path) -> None:
    # A byte-order mark, semicolons, column names in any case, "subtitle" for "subtitles".
    manifest = media / "corpus.csv"
    text = "Video;Subtitle;Group;Language;Note\r\nus/fox_01.mp4;us/fox_01.srt;US;auto;a, b\r\n"
    manifest.write_bytes(text.encode("utf-8-sig"))
    (video,) = read_corpus(manifest).videos
    assert video.subtitles == (media / "us" / "fox_01.srt").resolve()
    assert (video.group, video.lang, video.metadata) == ("US", None, {"Note": "a, b"})


def test_toml_manifest(media: Path) -> None:
    manifest = _write(
        media / "corpus.toml",
        """
[[videos]]
video = "us/cnn 01.mp4"
subtitles = "us/cnn 01.srt"
group = "US"
lang = "en"
date = 2020-01-01
episode = 12
rerun = false

[[videos]]
video = "cn/xwlb_01.mp4"
group = "CN"
lang = "zh-Hans"
date = 2020-01-02
""",
    )
    spec = read_corpus(manifest)
    us, cn = spec.videos
    assert us.metadata == {"date": "2020-01-01", "episode": "12", "rerun": "false"}
    # Every video has the same metadata keys, so they make one table.
    assert cn.metadata == {"date": "2020-01-02", "episode": "", "rerun": ""}
    assert (cn.subtitles, cn.lang, cn.row) == (None, "zh", 2)


@pytest.mark.parametrize("under_key", [False, True])
def test_yaml_manifest(media: Path, under_key: bool) -> None:
    entries = """
- video: us/fox_01.mp4
  subtitles: us/fox_01.srt
  group: US
  date: 2020-01-01
- {video: cn/xwlb_01.mp4, group: NO, lang: cmn, episode: 012, note: ~, date: 2020-01-02}
"""
    text = "videos:\n" + entries.replace("\n", "\n  ") if under_key else entries
    spec = read_corpus(_write(media / "corpus.yaml", text))
    fox, xwlb = spec.videos
    assert fox.metadata == {"date": "2020-01-01", "episode": "", "note": ""}
    # Values stay as written: no country code turns into a boolean, no number loses a digit.
    assert (xwlb.group, xwlb.lang, xwlb.row) == ("NO", "zh", 2)
    assert xwlb.metadata == {"date": "2020-01-02", "episode": "012", "note": ""}


def test_folder(media: Path) -> None:
    _touch(
        media / "cn" / "xwlb_03.mp4",
        media / "cn" / "xwlb_03.zh-CN.vtt",  # a language tag, as yt-dlp writes it
        media / ".cache" / "hidden.mp4",
        media / "notes" / "readme.txt",
    )
    spec = read_corpus(media)
    assert spec.source == media
    assert [(v.group, v.video.name, v.subtitles and v.subtitles.name) for v in spec.videos] == [
        ("cn", "xwlb_01.mp4", "xwlb_01.srt"),
        ("cn", "xwlb_03.mp4", "xwlb_03.zh-CN.vtt"),
        ("us", "cnn 01.mp4", "cnn 01.srt"),
        ("us", "fox_01.mp4", "fox_01.srt"),
    ]
    assert [v.lang for v in spec.videos] == [None, "zh", None, None]
    assert [v.row for v in spec.videos] == [1, 2, 3, 4]
    assert all(v.metadata == {} for v in spec.videos)
    assert list(spec.groups()) == ["cn", "us"]
    assert spec.warnings == (
        "skipped 1 video (cn/xwlb_02.mp4) with no subtitle file of the same stem beside it; "
        "list such videos in a manifest to use their embedded subtitles or speech recognition",
        "ignored 1 sub-folder (notes) that holds no videos",
    )


def test_folder_warns_what_it_leaves_out(media: Path) -> None:
    _touch(
        media / "us" / "fox_01.en.vtt",
        media / "us" / "extra" / "deep.mp4",
        media / "fr" / "f2.mp4",
        media / "fr" / "f1.mp4",
    )
    warnings = read_corpus(media).warnings
    assert warnings[0].startswith("skipped 3 videos (e.g. cn/xwlb_02.mp4) with no subtitle")
    assert "left out 1 group (fr): none of its videos has a subtitle file" in warnings
    assert (
        "1 video with several subtitle files beside it: the first by preference was used"
        in warnings[2].replace("(us/fox_01.mp4: fox_01.srt over fox_01.en.vtt) ", "")
    )
    assert "ignored the videos in 1 folder (us/extra) below the group folders" in warnings[3]


def test_folder_refuses_videos_outside_a_group_folder(media: Path) -> None:
    _touch(media / "loose.mp4", media / "loose.srt")
    message = _error(media)
    assert message.startswith(f"corpus folder {media} holds 1 video (loose.mp4) directly in it")
    assert "sub-folder named for the group" in message


@pytest.mark.parametrize(
    "files,message",
    [
        ([], "holds no videos in group sub-folders"),
        (["us/a.mp4", "us/b.mkv"], "none of its 2 videos has a subtitle file of the same stem"),
    ],
)
def test_folder_without_usable_videos(tmp_path: Path, files: list[str], message: str) -> None:
    _touch(*(tmp_path / f for f in files))
    (tmp_path / "empty").mkdir()
    assert message in _error(tmp_path)


def test_ids_are_safe_unique_and_stable(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        _touch(tmp_path / folder / "Same Name.mp4")
    _touch(tmp_path / "c" / "same-name-2.mp4", tmp_path / "c" / "中文 报道.mp4")
    rows = [
        "a/Same Name.mp4,US / Fox",
        "b/Same Name.mp4,US / Fox",
        "c/same-name-2.mp4,US / Fox",
        "c/中文 报道.mp4,中国",
    ]
    manifest = _write(tmp_path / "corpus.csv", "video,group\n" + "\n".join(rows) + "\n")
    ids = [v.id for v in read_corpus(manifest).videos]
    assert ids == [
        "us-fox__same-name",
        "us-fox__same-name-2",
        "us-fox__same-name-2-2",
        "中国__中文-报道",
    ]
    assert all(re.fullmatch(r"[\w.-]+", i) for i in ids)
    # Rows added at the end leave the ids before them as they were.
    _touch(tmp_path / "d" / "Same Name.mp4")
    _write(manifest, "video,group\n" + "\n".join([*rows, "d/Same Name.mp4,US / Fox"]) + "\n")
    assert [v.id for v in read_corpus(manifest).videos] == [*ids, "us-fox__same-name-3"]


def test_a_group_of_one_video_is_not_warned_about_here(media: Path) -> None:
    manifest = _write(media / "c.csv", "video,group\nus/fox_01.mp4,US\ncn/xwlb_01.mp4,CN\n")
    assert read_corpus(manifest).warnings == ()


def test_groups_differing_only_in_case_are_warned_about(media: Path) -> None:
    manifest = _write(media / "c.csv", "video,group\nus/fox_01.mp4,US\nus/cnn 01.mp4,us\n")
    spec = read_corpus(manifest)
    assert list(spec.groups()) == ["US", "us"]
    assert spec.warnings == (
        "groups 'US' and 'us' differ only in case; they are kept apart as separate groups",
    )


# --------------------------------------------------------------------------- bad input


def test_missing_manifest_and_unknown_format(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.csv") == (
        f"corpus manifest or folder {tmp_path / 'nope.csv'} does not exist"
    )
    assert "must end in .csv, .tsv, .toml, .yaml or .yml" in _error(
        _write(tmp_path / "c.xlsx", "x")
    )


def test_not_utf8(tmp_path: Path) -> None:
    manifest = tmp_path / "c.csv"
    manifest.write_bytes("video,group\na.mp4,中国\n".encode("gb18030"))
    assert (
        _error(manifest)
        == f"corpus manifest {manifest} is not UTF-8 text (byte 18); save it as UTF-8"
    )


_UNPARSABLE = [
    (
        "c.csv",
        'video,group\n"a.mp4"x,US\n',
        "is not valid CSV: ',' expected after '\"' (line 2)",
    ),
    ("c.csv", 'video,group\n"a.mp4,US\n', "is not valid CSV: unexpected end of data"),
    ("c.toml", "[[videos]]\nvideo = a.mp4\n", "is not valid TOML: Invalid value (at line 2"),
    ("c.yaml", "- video: a.mp4\n group: [US\n", "is not valid YAML:"),
    ("c.yaml", "video: a.mp4\n", "must be a list of videos (mappings with video, group, ...)"),
    ("c.toml", "[[video]]\nvideo = 'a.mp4'\n", "unknown top-level key 'video'; list each"),
    ("c.toml", "videos = 'a.mp4'\n", "must list each video in a [[videos]] table"),
    ("c.yaml", "- a.mp4\n", "row 1: a video must be a mapping of column: value; got a str"),
]
_EMPTY = [
    ("c.csv", "", "is empty; list one video per row"),
    ("c.csv", "\n,,\n", "is empty; list one video per row"),
    ("c.csv", "video,group\n,\n", "lists no videos (only a header row)"),
    ("c.toml", "videos = []\n", "lists no videos"),
    ("c.yaml", "[]\n", "lists no videos"),
    ("c.yaml", "# nothing yet\n", "must be a list of videos"),
]
_BAD_COLUMNS = [
    ("c.csv", "file,group\na.mp4,US\n", "has no 'video' column (its columns: file, group)"),
    (
        "c.csv",
        "video,country\na.mp4,US\n",
        "has no 'group' column (its columns: video, country)",
    ),
    ("c.toml", "[[videos]]\nvideo = 'a.mp4'\n", "has no 'group' column: no entry names one"),
    ("c.yaml", "- {path: a.mp4, group: US}\n", "has no 'video' column"),
    (
        "c.csv",
        "video,group,Group\na.mp4,US,CN\n",
        "names the 'group' column twice ('group' and 'Group')",
    ),
    (
        "c.yaml",
        "- {video: a.mp4, group: US, Group: CN}\n",
        "row 1 names the 'group' column twice ('group' and 'Group')",
    ),
    ("c.csv", "video,group,\na.mp4,US,x\n", "row 2: value 'x' in column 3, which has no name"),
]


@pytest.mark.parametrize("name,text,message", [*_UNPARSABLE, *_EMPTY, *_BAD_COLUMNS])
def test_a_bad_manifest_is_refused_naming_itself_and_the_fault(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    _touch(tmp_path / "a.mp4")  # the video exists: the manifest's own fault is found
    manifest = _write(tmp_path / name, text)
    error = _error(manifest)
    assert f"corpus manifest {manifest}" in error
    assert message in error


def test_missing_video_names_the_row_and_path(media: Path) -> None:
    manifest = _write(media / "c.csv", "video,group\nus/fox_01.mp4,US\nus/gone.mp4,US\n")
    assert _error(manifest) == (
        f"corpus manifest {manifest} row 3: video file {media / 'us' / 'gone.mp4'} does not exist"
    )


def test_several_missing_videos_are_counted_and_the_first_named(media: Path) -> None:
    rows = "".join(f"us/gone_{i}.mp4,US\n" for i in range(5))
    manifest = _write(media / "c.csv", "video,group\nus/fox_01.mp4,US\n" + rows)
    assert _error(manifest) == (
        f"corpus manifest {manifest}: 5 video files do not exist: "
        f"row 3 ({media / 'us' / 'gone_0.mp4'}), row 4 ({media / 'us' / 'gone_1.mp4'}), "
        f"row 5 ({media / 'us' / 'gone_2.mp4'}) and 2 more"
    )


def test_missing_subtitles_and_paths_that_are_no_files(media: Path) -> None:
    manifest = _write(media / "c.csv", "video,subtitles,group\nus/fox_01.mp4,us/x.srt,US\n")
    assert f"row 2: subtitle file {media / 'us' / 'x.srt'} does not exist" in _error(manifest)
    manifest = _write(media / "c.csv", "video,group\nus,US\n")
    assert f"row 2: video path {media / 'us'} is not a file" in _error(manifest)


def test_duplicate_row_names_both_rows(media: Path) -> None:
    manifest = _write(
        media / "c.csv",
        "video,group\nus/fox_01.mp4,US\ncn/xwlb_01.mp4,CN\n./us/../us/fox_01.mp4,CN\n",
    )
    assert _error(manifest) == (
        f"corpus manifest {manifest} row 4: lists the same video file as row 2: "
        f"{(media / 'us' / 'fox_01.mp4').resolve()}"
    )
    manifest = _write(media / "c.csv", "video,group\n" + "us/fox_01.mp4,US\n" * 3)
    assert _error(manifest) == (
        f"corpus manifest {manifest}: 2 videos are listed twice: "
        "rows 2 and 3 (fox_01.mp4), rows 2 and 4 (fox_01.mp4)"
    )


def test_empty_group(media: Path) -> None:
    manifest = _write(media / "c.csv", "video,group\nus/fox_01.mp4,US\ncn/xwlb_01.mp4,  \n")
    assert _error(manifest) == (
        f"corpus manifest {manifest} row 3: the group is empty; every video needs one "
        "(a country, a channel)"
    )
    manifest = _write(
        media / "c.yaml", "- {video: us/fox_01.mp4, group: US}\n- {video: cn/xwlb_01.mp4}\n"
    )
    assert "row 2: the group is empty" in _error(manifest)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("5", 'the group is a number (5), not text; write it in quotes: group = "5"'),
        ("true", 'the group is a boolean (true), not text; write it in quotes: group = "true"'),
        (
            "2020-01-01",
            'the group is a date (2020-01-01), not text; write it in quotes: group = "2020-01-01"',
        ),
    ],
)
def test_a_toml_group_that_is_not_text_is_refused(media: Path, value: str, message: str) -> None:
    # It ran as the group "5"; a group is a name (a country, a channel), never a number.
    manifest = _write(media / "c.toml", f"[[videos]]\nvideo = 'us/fox_01.mp4'\ngroup = {value}\n")
    assert _error(manifest) == f"corpus manifest {manifest} row 1: {message}"


@pytest.mark.parametrize(
    "name,text,type_name",
    [
        (
            "c.toml",
            "[[videos]]\nvideo = 'us/fox_01.mp4'\ngroup = 'US'\n[videos.extra]\nx = 1\n",
            "a table (mapping)",
        ),
        ("c.toml", "[[videos]]\nvideo = 'us/fox_01.mp4'\ngroup = 'US'\nextra = [1, 2]\n", "a list"),
        ("c.yaml", "- {video: us/fox_01.mp4, group: US, extra: [1, 2]}\n", "a list"),
        ("c.yaml", "- {video: us/fox_01.mp4, group: US, extra: {a: 1}}\n", "a table (mapping)"),
    ],
)
def test_unknown_column_type(media: Path, name: str, text: str, type_name: str) -> None:
    manifest = _write(media / name, text)
    assert _error(manifest) == (
        f"corpus manifest {manifest} row 1: column 'extra' holds {type_name}, an unknown column "
        "type; give text, a number or a date"
    )


@pytest.mark.parametrize(
    "lang,message",
    [
        ("english", "lang 'english' is not a language code (write 'en'); give en or zh"),
        ("12", "lang '12' is not a language code; give en or zh, or leave it empty"),
        ("fr", "lang 'fr' is not one themescope reads (en or zh); leave it empty to detect"),
    ],
)
def test_bad_language(media: Path, lang: str, message: str) -> None:
    manifest = _write(media / "c.csv", f"video,group,lang\nus/fox_01.mp4,US,{lang}\n")
    assert _error(manifest).startswith(f"corpus manifest {manifest} row 2: {message}")


def test_problems_of_several_kinds_in_one_line(media: Path) -> None:
    manifest = _write(
        media / "c.csv",
        "video,subtitles,group,lang\nus/fox_01.srt,us/fox_01.mp4,US,en\nus/gone.mp4,,,xx-\n",
    )
    message = _error(manifest)
    assert message.startswith(
        f"corpus manifest {manifest}: 4 problems: row 2: video 'us/fox_01.srt'"
    )
    assert "are the video and subtitles columns swapped?" in message
    assert message.endswith(" and 1 more")


def test_spec_is_plain_data(media: Path) -> None:
    spec = read_corpus(_write(media / "c.csv", "video,group,date\nus/fox_01.mp4,US,2020-01-31\n"))
    assert isinstance(spec, CorpusSpec)
    assert hash(spec.videos[0]) == hash(spec.videos[0])
    with pytest.raises(AttributeError):
        spec.videos[0].group = "CN"  # type: ignore[misc]


# --------------------------------------------------------------------------- dates, covariates

DATED = (
    "video,group,Date,outlet_type,size\n"
    "us/cnn 01.mp4,US,{0},state,1.5\n"
    "us/fox_01.mp4,US,{1},commercial,2\n"
    "cn/xwlb_01.mp4,CN,{2},state,3\n"
)


def test_dates_and_date_times_are_read(media: Path) -> None:
    days = read_corpus(
        _write(media / "c.csv", DATED.format("2020-01-01", "2020-01-08", "2020-02-01"))
    )
    assert [v.metadata["Date"] for v in days.videos] == ["2020-01-01", "2020-01-08", "2020-02-01"]
    times = DATED.format("2020-01-01T19:00", "2020-01-01 07:30:00", "2020-01-02T19:00+08:00")
    assert len(read_corpus(_write(media / "c.csv", times)).videos) == 3


@pytest.mark.parametrize(
    ("dates", "problem"),
    [
        (
            ("2020-01-01", "", ""),
            "has no date in rows 3, 4; give every video a date (2020-01-31) or remove the column",
        ),
        (
            ("2020-01-01", "01/08/2020", "2020-02-01"),
            "holds values that are not ISO dates in row 3; write 2020-01-31 or 2020-01-31T19:00",
        ),
        (
            ("2020-01-01", "2020-01-08T19:00", "2020-02-01"),
            "mixes dates and date-times: row 3 holds a date-time, the other rows a date; write "
            "them all one way",
        ),
    ],
    ids=["missing", "not-iso", "mixed"],
)
def test_a_bad_date_column_is_refused_naming_the_rows(
    media: Path, dates: tuple[str, str, str], problem: str
) -> None:
    manifest = _write(media / "c.csv", DATED.format(*dates))
    assert _error(manifest) == f"corpus manifest {manifest} column 'Date' {problem}"


def _covariates(media: Path, names: list[str], text: str = DATED) -> tuple:
    spec = read_corpus(_write(media / "c.csv", text))
    return read_covariates(names, [(v.row, v.metadata) for v in spec.videos], "c.csv")


def test_covariates_are_told_apart_by_kind(media: Path) -> None:
    text = DATED.format("2020-01-01", "2020-01-08", "2020-02-01")
    date, outlet, size = _covariates(media, ["date", "OUTLET_TYPE", "size", "date"], text)
    assert (date.name, date.kind) == ("Date", "date")
    assert (outlet.kind, outlet.levels) == ("categorical", ("commercial", "state"))
    assert (size.kind, size.levels) == ("numeric", ())


@pytest.mark.parametrize(
    ("names", "rows", "message"),
    [
        (
            ["outlet"],
            None,
            "covariate 'outlet' is not a metadata column of c.csv (its columns: Date, "
            "outlet_type, size)",
        ),
        (
            ["group"],
            None,
            "covariate 'group': every study's model holds the group already; name other "
            "columns of the corpus manifest",
        ),
        (
            ["outlet_type"],
            ("state", "state", "state"),
            "covariate 'outlet_type' has one value ('state') for all 3 videos of c.csv: it "
            "cannot explain a difference between them; leave it out",
        ),
        (
            ["outlet_type"],
            ("state", "commercial", "public"),
            "covariate 'outlet_type' has 3 different values for 3 videos of c.csv: as a "
            "category it gives every video a level of its own; leave it out or group its values",
        ),
        (
            ["outlet_type"],
            ("state", "", ""),
            "covariate 'outlet_type' is empty in rows 3, 4 of c.csv; give every video a value "
            "or leave the covariate out",
        ),
    ],
    ids=["unknown", "group", "one-value", "a-value-per-video", "empty"],
)
def test_a_bad_covariate_is_refused_in_one_line(
    media: Path, names: list[str], rows: tuple[str, str, str] | None, message: str
) -> None:
    text = DATED.format("2020-01-01", "2020-01-08", "2020-02-01")
    if rows is not None:
        for old, new in zip(("state,1.5", "commercial,2", "state,3"), rows, strict=True):
            text = text.replace(old, f"{new},{old.split(',')[1]}")
    with pytest.raises(ConfigError) as info:
        _covariates(media, names, text)
    assert str(info.value) == message
