"""Reading subtitles and transcripts: formats, encodings, leniency, clean-up, embedded streams."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from themescope.errors import ConfigError, SubtitleParseError, VideoOpenError
from themescope.media.transcripts import (
    Cue,
    build_transcript,
    clean_markup,
    read_embedded_subtitles,
    read_transcript,
)

SRT = """1
00:00:01,000 --> 00:00:03,000
<i>Good evening</i> and welcome.

2
00:00:03,500 --> 00:00:06,000
- Tonight: vaccines.
- In every city.

3
00:00:07,000 --> 00:00:09,250
{\\an8}[Music] The clinics open at nine.
"""

ZH_SRT = """1
00:00:01,000 --> 00:00:04,000
大家好，欢迎收看新闻联播。

2
00:00:05,000 --> 00:00:08,000
今天我们关注疫苗接种的最新进展。
"""

ZH_TW_SRT = """1
00:00:01,000 --> 00:00:04,000
大家好，歡迎收看新聞聯播。

2
00:00:05,000 --> 00:00:08,000
今天我們關注疫苗接種的最新進展。
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def texts(transcript) -> list[str]:
    return [c.text for c in transcript.cues]


# --------------------------------------------------------------------------- formats


def test_srt_cues_times_text_and_raw(tmp_path):
    t = read_transcript(write(tmp_path, "a.srt", SRT), duration_s=60.0)
    assert t.source == "srt"
    assert t.encoding == "utf-8"
    assert [(c.start_s, c.end_s) for c in t.cues] == [(1.0, 3.0), (3.5, 6.0), (7.0, 9.25)]
    assert texts(t) == [
        "Good evening and welcome.",
        "Tonight: vaccines. In every city.",
        "The clinics open at nine.",
    ]
    assert t.cues[0].text_raw == "<i>Good evening</i> and welcome."
    assert "[Music]" in t.cues[2].text_raw and "\\an8" in t.cues[2].text_raw
    assert t.n_skipped == 0 and t.warnings == []


def test_vtt_with_header_notes_ids_and_settings(tmp_path):
    vtt = """WEBVTT
Kind: captions

NOTE this block is a comment
and spans two lines

intro
00:01.000 --> 00:02.500 align:start position:10%
<v Anna>Hello <b>there</b></v>

00:00:03.000 --> 00:00:04.000
General &amp; Kenobi
"""
    t = read_transcript(write(tmp_path, "a.vtt", vtt), duration_s=None)
    assert t.source == "vtt"
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (1.0, 2.5, "Hello there"),
        (3.0, 4.0, "General & Kenobi"),
    ]


def test_ass_overrides_comments_and_drawings(tmp_path):
    ass = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\pos(10,20)\\i1}Breaking{\\i0} news\\Nfrom the capital
Comment: 0,0:00:02.00,0:00:03.00,Default,,0,0,0,,not spoken
Dialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\p1}m 0 0 l 100 0 100 100{\\p0}
Dialogue: 0,0:00:05.00,0:00:06.00,Default,,0,0,0,,Second line
"""  # noqa: E501
    t = read_transcript(write(tmp_path, "a.ass", ass), duration_s=None)
    assert t.source == "ass"
    assert texts(t) == ["Breaking news from the capital", "Second line"]
    assert t.cues[0].text_raw.startswith("{\\pos(10,20)")


def test_ass_one_bad_dialogue_line_is_skipped(tmp_path):
    ass = """[Script Info]
ScriptType: v4.00+

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,first
Dialogue: 0,zero,0:00:03.00,Default,,0,0,0,,broken
Dialogue: 0,0:00:04.00,0:00:05.00,Default,,0,0,0,,third
"""
    t = read_transcript(write(tmp_path, "a.ssa", ass), duration_s=None)
    assert texts(t) == ["first", "third"]
    assert t.n_skipped == 1
    assert "line 7" in t.warnings[0]


def test_youtube_json_list(tmp_path):
    items = [
        {"text": "first part", "start": 0.0, "duration": 2.0},
        {"text": "second part", "start": 2.0, "duration": 2.5},
    ]
    t = read_transcript(write(tmp_path, "t.json", json.dumps(items)), duration_s=None)
    assert t.source == "youtube-json"
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (0.0, 2.0, "first part"),
        (2.0, 4.5, "second part"),
    ]


def test_youtube_json3_events(tmp_path):
    data = {
        "events": [
            {"tStartMs": 0, "dDurationMs": 5000, "id": 1, "wpWinPosId": 1},  # window, no text
            {"tStartMs": 500, "dDurationMs": 2000, "segs": [{"utf8": "hello"}, {"utf8": " world"}]},
            {"tStartMs": 2500, "dDurationMs": 1000, "segs": [{"utf8": "\n"}]},
            {"tStartMs": 3000, "dDurationMs": 1500, "segs": [{"utf8": "again"}]},
        ]
    }
    t = read_transcript(write(tmp_path, "t.json3", json.dumps(data)), duration_s=None)
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (0.5, 2.5, "hello world"),
        (3.0, 4.5, "again"),
    ]


def test_youtube_json_bad_item_skipped_and_wrong_shape_fails(tmp_path):
    items = [{"text": "ok", "start": 1, "duration": 1}, {"text": "no start", "duration": 1}]
    t = read_transcript(write(tmp_path, "t.json", json.dumps(items)), duration_s=None)
    assert texts(t) == ["ok"] and t.n_skipped == 1
    with pytest.raises(SubtitleParseError, match="expected a list of"):
        read_transcript(write(tmp_path, "u.json", json.dumps({"foo": 1})), duration_s=None)
    with pytest.raises(SubtitleParseError, match="not valid JSON"):
        read_transcript(write(tmp_path, "v.json", "[{broken"), duration_s=None)


def test_youtube_csv_any_column_order(tmp_path):
    csv_text = 'start,duration,text\n0.0,2.0,"hello, world"\n2.0,1.5,second\n3.5,oops,bad\n'
    t = read_transcript(write(tmp_path, "t.csv", csv_text), duration_s=None)
    assert t.source == "youtube-csv"
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (0.0, 2.0, "hello, world"),
        (2.0, 3.5, "second"),
    ]
    assert t.n_skipped == 1 and "row 4" in t.warnings[0]


def test_csv_without_the_columns_fails(tmp_path):
    with pytest.raises(SubtitleParseError, match="text,start,duration"):
        read_transcript(write(tmp_path, "t.csv", "a,b\n1,2\n"), duration_s=None)


def test_plain_text_spread_evenly(tmp_path):
    lines = "第一段文字\n\n第二段文字\n第三段文字\n第四段文字\n"
    t = read_transcript(write(tmp_path, "zh.txt", lines), duration_s=40.0)
    assert t.source == "plain-text"
    assert [(c.start_s, c.end_s) for c in t.cues] == [(0, 10), (10, 20), (20, 30), (30, 40)]
    assert texts(t)[1] == "第二段文字"


def test_plain_text_needs_duration(tmp_path):
    with pytest.raises(SubtitleParseError, match="duration"):
        read_transcript(write(tmp_path, "zh.txt", "一\n二\n"), duration_s=None)


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("a.txt", "{1}{25}hello\n{30}{50}world\n", "MICRODVD"),
        (
            "a.xml",
            '<tt xmlns="http://www.w3.org/ns/ttml"><body><p begin="1s">hi</p></body></tt>',
            "TTML",
        ),
        ("a.smi", "<SAMI><BODY><SYNC Start=1000><P>hi</SYNC></BODY></SAMI>", "SAMI"),
        ("a.sbv", "0:00:01.000,0:00:03.000\nhello\n", ".sbv file"),
    ],
)
def test_unsupported_formats_are_refused_not_read_as_plain_text(tmp_path, name, content, found):
    with pytest.raises(SubtitleParseError, match=rf"{name}.*{found}.*does not read"):
        read_transcript(write(tmp_path, name, content), duration_s=10.0)


def test_plain_text_that_resembles_tmp_is_still_plain_text(tmp_path):
    t = read_transcript(
        write(tmp_path, "notes.txt", "00:01:02:hello\n00:01:05:there\n"), duration_s=10.0
    )
    assert t.source == "plain-text" and len(t.cues) == 2


def test_content_wins_over_extension(tmp_path):
    t = read_transcript(write(tmp_path, "really_srt.txt", SRT), duration_s=None)
    assert t.source == "srt" and len(t.cues) == 3


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("content", "codec", "expected_encoding"),
    [
        (ZH_SRT, "gbk", "gb18030"),
        (ZH_SRT, "gb18030", "gb18030"),
        (ZH_TW_SRT, "big5", "big5"),
        (ZH_SRT, "utf-16", "utf-16"),  # little-endian with BOM
        (ZH_SRT, "utf-16-be-bom", "utf-16"),
        (ZH_SRT, "utf-16-le", "utf-16-le"),  # no BOM
        (ZH_SRT, "utf-16-be", "utf-16-be"),
        (SRT, "utf-16-le", "utf-16-le"),  # no BOM, and valid UTF-8 too (full of NULs)
        (SRT, "utf-16-be", "utf-16-be"),
        (ZH_SRT, "utf-8-sig", "utf-8-sig"),
        (ZH_SRT, "utf-8", "utf-8"),
    ],
)
def test_encodings_detected(tmp_path, caplog, content, codec, expected_encoding):
    if codec == "utf-16-be-bom":
        data = b"\xfe\xff" + content.encode("utf-16-be")
    else:
        data = content.encode(codec)
    with caplog.at_level(logging.INFO, logger="themescope"):
        t = read_transcript(write(tmp_path, "sub.srt", data), duration_s=None)
    assert t.encoding == expected_encoding
    expected = read_transcript(write(tmp_path, "ref.srt", content), duration_s=None)
    assert texts(t) == texts(expected)
    assert not t.cues[0].text_raw.startswith("\ufeff")
    assert any(expected_encoding in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("text", "codec", "expected_encoding"),
    [
        ("大家好", "gbk", "gb18030"),  # charset-normalizer alone says Big5
        ("疫苗接种", "gbk", "gb18030"),  # ... or CP949 (Korean)
        ("今天天气很好。", "gbk", "gb18030"),
        ("疫苗接種", "big5", "big5"),  # ... or Johab
        ("新聞聯播開始了", "big5", "big5"),
    ],
)
def test_short_chinese_files_decoded_right(tmp_path, text, codec, expected_encoding):
    srt = f"1\n00:00:01,000 --> 00:00:02,000\n{text}\n"
    t = read_transcript(write(tmp_path, "short.srt", srt.encode(codec)), duration_s=None)
    assert t.encoding == expected_encoding and texts(t) == [text]


def test_bom_never_leaks_into_plain_text(tmp_path):
    data = "first line\nsecond line\n".encode("utf-8-sig")
    t = read_transcript(write(tmp_path, "t.txt", data), duration_s=10.0)
    assert texts(t) == ["first line", "second line"]
    assert t.cues[0].text_raw == "first line"


def test_encoding_override(tmp_path):
    path = write(tmp_path, "zh.srt", ZH_SRT.encode("gbk"))
    t = read_transcript(path, duration_s=None, encoding="gbk")
    assert t.encoding == "gbk" and texts(t)[0] == "大家好，欢迎收看新闻联播。"
    with pytest.raises(SubtitleParseError, match="not valid utf-8"):
        read_transcript(path, duration_s=None, encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown subtitle encoding"):
        read_transcript(path, duration_s=None, encoding="klingon-8")


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "data",
    [
        SRT.encode("utf-32-le"),  # no BOM: NULs at both parities
        SRT.encode("utf-16-le")[:-1],  # UTF-16 cut in the middle of a character
        b"\x00" * 64,
    ],
    ids=["utf-32-le", "utf-16-le-cut", "zeros"],
)
def test_nul_bytes_that_are_not_utf16_name_the_encoding_option(tmp_path, data):
    path = write(tmp_path, "odd.srt", data)
    with pytest.raises(SubtitleParseError) as error:
        read_transcript(path, duration_s=None)
    assert str(error.value) == (
        f"{path} holds NUL bytes: binary data, or UTF-16 text that could not be detected; "
        "if it is text, give its encoding, e.g. --subtitle-encoding utf-16-le"
    )


def test_binary_zeros_at_one_parity_are_not_taken_for_utf16(tmp_path):
    # Little-endian 16-bit samples of a quiet sound: NUL high bytes, unprintable low bytes.
    samples = bytes(b for i in range(512) for b in (i % 7, 0))
    with pytest.raises(SubtitleParseError, match="holds NUL bytes"):
        read_transcript(write(tmp_path, "audio.srt", samples), duration_s=None)


def test_missing_directory_and_binary(tmp_path):
    with pytest.raises(SubtitleParseError, match="does not exist"):
        read_transcript(tmp_path / "nope.srt", duration_s=None)
    with pytest.raises(SubtitleParseError, match="directory"):
        read_transcript(tmp_path, duration_s=None)
    noise = bytes(range(256)) * 8
    with pytest.raises(SubtitleParseError, match=r"nope\.srt|binary|not text"):
        read_transcript(write(tmp_path, "noise.srt", noise), duration_s=None)


@pytest.mark.parametrize("content", ["", "\n  \n", "\ufeff"])
def test_empty_file_gives_empty_transcript_with_warning(tmp_path, content):
    t = read_transcript(write(tmp_path, "e.srt", content), duration_s=10.0)
    assert t.cues == []
    assert t.warnings and "image only" in t.warnings[0]


def test_vtt_header_only_is_empty_not_an_error(tmp_path):
    t = read_transcript(write(tmp_path, "e.vtt", "WEBVTT\n\n"), duration_s=10.0)
    assert t.cues == [] and t.source == "vtt" and t.warnings


def test_one_bad_cue_is_skipped(tmp_path):
    srt = SRT.replace("00:00:03,500 --> 00:00:06,000", "00:00:03,500 --> 00:xx:06,000")
    t = read_transcript(write(tmp_path, "a.srt", srt), duration_s=None)
    assert texts(t) == ["Good evening and welcome.", "The clinics open at nine."]
    assert t.n_skipped == 1
    assert "line 6" in t.warnings[0] and "00:xx:06,000" in t.warnings[0]


def test_srt_timings_without_milliseconds_or_hours(tmp_path):
    srt = "1\n00:00:01 --> 00:00:02\nno millis\n\n2\n01:02,500 --> 01:04,000\nno hours\n"
    t = read_transcript(write(tmp_path, "loose.srt", srt), duration_s=None)
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (1.0, 2.0, "no millis"),
        (62.5, 64.0, "no hours"),
    ]


def test_srt_without_blank_lines_between_cues(tmp_path):
    srt = "1\n00:00:01,000 --> 00:00:02,000\nHello\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n"
    t = read_transcript(write(tmp_path, "tight.srt", srt), duration_s=None)
    assert [(c.start_s, c.text) for c in t.cues] == [(1.0, "Hello"), (3.0, "World")]


def test_blank_line_inside_a_cue_keeps_the_text(tmp_path):
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\nfirst line\n\nsecond line\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nnext\n"
    )
    t = read_transcript(write(tmp_path, "gap.srt", srt), duration_s=None)
    assert texts(t) == ["first line second line", "next"] and t.n_skipped == 0


def test_malformed_file_fails_naming_file_and_format(tmp_path):
    bad = "1\n00:00:01 --> soon\nhello\n\n2\nlater --> never\nworld\n"
    path = write(tmp_path, "bad.srt", bad)
    with pytest.raises(SubtitleParseError, match=r"bad\.srt.*expected SubRip"):
        read_transcript(path, duration_s=None)
    with pytest.raises(SubtitleParseError, match=r"notimed\.srt"):
        read_transcript(write(tmp_path, "notimed.srt", "just words\nmore words\n"), duration_s=None)


def test_overlapping_and_out_of_order_cues_sorted_and_kept(tmp_path):
    srt = """1
00:00:05,000 --> 00:00:07,000
third

2
00:00:01,000 --> 00:00:04,000
first

3
00:00:03,000 --> 00:00:06,000
second overlapping
"""
    t = read_transcript(write(tmp_path, "o.srt", srt), duration_s=None)
    assert texts(t) == ["first", "second overlapping", "third"]
    assert [c.start_s for c in t.cues] == [1.0, 3.0, 5.0]
    assert any("out of order" in w for w in t.warnings)


def test_cues_past_the_end_dropped_or_clipped_with_counts(tmp_path):
    t = read_transcript(write(tmp_path, "a.srt", SRT), duration_s=8.0)
    assert texts(t) == [
        "Good evening and welcome.",
        "Tonight: vaccines. In every city.",
        "The clinics open at nine.",
    ]
    assert t.cues[-1].end_s == 8.0
    t = read_transcript(write(tmp_path, "a.srt", SRT), duration_s=5.0)
    assert len(t.cues) == 2 and t.cues[-1].end_s == 5.0
    label = tmp_path / "a.srt"
    assert (
        f"{label}: the video ends at 5.00 s; 1 cue(s) started after it and were dropped; "
        "1 cue(s) ran past it and were clipped"
    ) in t.warnings
    # A count of 0 is left out: "0 cue(s) ... were dropped" read as if some were.
    for duration_s, told in (
        (8.0, "1 cue(s) ran past it and were clipped"),
        (6.0, "1 cue(s) started after it and were dropped"),
    ):
        t = read_transcript(write(tmp_path, "a.srt", SRT), duration_s=duration_s)
        assert [w for w in t.warnings if "video ends" in w] == [
            f"{label}: the video ends at {duration_s:.2f} s; {told}"
        ]


@pytest.mark.parametrize(
    ("timing", "times", "warning"),
    [
        (
            "-00:00:05,000 --> 00:00:07,000",
            [(0.0, 7.0)],
            "1 cue(s) started before 0 s; moved to 0 s",
        ),
        ("-00:05,000 --> 00:07,000", [(0.0, 7.0)], "1 cue(s) started before 0 s; moved to 0 s"),
        ("00:00:01,000 --> 00:00:02,000", [(1.0, 2.0)], None),
    ],
)
def test_a_negative_srt_time_keeps_its_sign(
    tmp_path: Path, timing: str, times: list[tuple[float, float]], warning: str | None
) -> None:
    # pysubs2 reads "-00:00:05,000" as 5 s: the cue was placed at 5 s, and a reversed one
    # was reported as "starts (5.000 s)".
    path = write(tmp_path, "a.srt", f"1\n{timing}\nhello\n")
    t = read_transcript(path, duration_s=10.0)
    assert [(c.start_s, c.end_s) for c in t.cues] == times
    assert t.warnings == ([f"{path}: {warning}"] if warning else [])


@pytest.mark.parametrize(
    ("name", "content", "problem", "expected"),
    [
        (
            "a.srt",
            "1\n00:00:05,000 --> -00:00:03,000\nhello\n",
            "cue 1: ends (-3.000 s) before it starts (5.000 s)",
            "SubRip blocks like '1 / 00:00:01,000 --> 00:00:02,500 / text'",
        ),
        (
            "a.srt",
            "1\n-00:00:05,000 --> -00:00:03,000\nhello\n",
            "cue 1: ends before the video starts (-3.000 s)",
            "SubRip blocks like '1 / 00:00:01,000 --> 00:00:02,500 / text'",
        ),
        (
            "a.csv",
            "start,duration,text\n1,-2,hello\n",
            "cue 1: ends (-1.000 s) before it starts (1.000 s)",
            "CSV with the columns text,start,duration",
        ),
        (
            "a.csv",
            "start,duration,text\nx,y,hello\n",
            "row 2: could not convert string to float: 'x'",
            "CSV with the columns text,start,duration",
        ),
    ],
)
def test_a_file_with_no_readable_cue_is_refused_in_every_format(
    tmp_path: Path, name: str, content: str, problem: str, expected: str
) -> None:
    # A CSV whose every cue ran backwards went on image-only while such an SRT was refused.
    path = write(tmp_path, name, content)
    with pytest.raises(SubtitleParseError) as info:
        read_transcript(path, duration_s=10.0)
    assert str(info.value) == f"no cue in {path} could be read ({problem}); expected {expected}"


def test_a_csv_header_alone_is_empty_as_a_vtt_header_alone_is(tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "start,duration,text\n")
    t = read_transcript(path, duration_s=10.0)
    assert t.cues == []
    assert t.warnings == [f"{path}: no cues with text; continuing without text (image only)"]


def test_negative_reversed_and_zero_length_cues():
    t = build_transcript(
        [
            (-1.0, 1.0, "moved to zero"),
            (-3.0, -2.0, "before the video"),
            (4.0, 3.0, "reversed"),
            (5.0, 5.0, "zero length"),
            (6.0, 7.0, "next"),
            (9.0, 9.0, "last point"),
        ],
        source="srt",
        duration_s=10.0,
    )
    assert [(c.start_s, c.end_s, c.text) for c in t.cues] == [
        (0.0, 1.0, "moved to zero"),
        (5.0, 6.0, "zero length"),
        (6.0, 7.0, "next"),
        (9.0, 10.0, "last point"),
    ]
    assert t.n_skipped == 2
    assert any("moved to 0 s" in w for w in t.warnings)


# --------------------------------------------------------------------------- rolling captions

YOUTUBE_VTT = """WEBVTT
Kind: captions
Language: en

00:00:00.000 --> 00:00:02.500 align:start position:0%
{SP}
good<00:00:00.400><c> evening</c><00:00:00.800><c> and</c><00:00:01.200><c> welcome</c>

00:00:02.500 --> 00:00:02.510 align:start position:0%
good evening and welcome
{SP}

00:00:02.510 --> 00:00:05.000 align:start position:0%
good evening and welcome
to<00:00:03.000><c> the</c><00:00:03.500><c> news</c>

00:00:05.000 --> 00:00:05.010 align:start position:0%
to the news
{SP}

00:00:05.010 --> 00:00:08.000 align:start position:0%
to the news
tonight<00:00:06.000><c> vaccines</c><00:00:06.500><c> reach</c><00:00:07.000><c> everyone</c>
""".replace("{SP}", " ")  # YouTube writes a line holding one space


def test_youtube_rolling_captions_deduplicated(tmp_path):
    t = read_transcript(write(tmp_path, "yt.vtt", YOUTUBE_VTT), duration_s=None)
    assert texts(t) == [
        "good evening and welcome",
        "to the news",
        "tonight vaccines reach everyone",
    ]
    assert t.n_deduplicated == 4
    words = " ".join(texts(t)).split()
    assert len(words) == len(set(words))  # nothing said twice survives
    # Merged duplicates extend the cue they repeat.
    assert t.cues[0].end_s == pytest.approx(2.51)
    assert "good evening and welcome" in t.cues[1].text_raw  # the original stays in text_raw


def test_rolling_overlap_longer_than_last_new_words():
    t = build_transcript(
        [(0, 2, "a b c d e"), (2, 4, "c d e f g"), (4, 6, "f g h i")], source="vtt", duration_s=None
    )
    assert texts(t) == ["a b c d e", "f g", "h i"]


def test_phrase_said_twice_in_ordinary_subtitles_is_kept():
    cues = [
        (0, 1.5, "No, no."),
        (1.5, 3, "No, no, no!"),
        (3, 5, "Please sit down."),
        (5, 7, "Now."),
    ]
    t = build_transcript(cues, source="srt", duration_s=None)
    assert texts(t) == ["No, no.", "No, no, no!", "Please sit down.", "Now."]
    assert t.n_deduplicated == 0


def test_rolling_file_keeps_repeats_after_a_gap_or_between_non_adjacent_cues():
    cues = [
        (0.0, 2.0, "we will win"),
        (2.0, 4.0, "we will win this fight"),  # rolling: overlap removed
        (4.0, 6.0, "this fight is long"),  # rolling: overlap removed
        (10.0, 12.0, "is long"),  # after a 4 s gap: really said again
        (12.0, 14.0, "is long and hard"),  # rolling again
        (14.0, 16.0, "and hard thank you"),  # rolling again
        (16.0, 18.0, "yes indeed"),
        (18.0, 20.0, "thank you"),  # repeats a non-adjacent cue
    ]
    t = build_transcript(cues, source="vtt", duration_s=None)
    assert texts(t) == [
        "we will win",
        "this fight",
        "is long",
        "is long",
        "and hard",
        "thank you",
        "yes indeed",
        "thank you",
    ]
    assert t.n_deduplicated == 4


def test_rolling_dedup_for_chinese_characters():
    cues = [(0, 2, "大家好欢迎"), (2, 4, "大家好欢迎收看新闻"), (4, 6, "收看新闻联播")]
    t = build_transcript(cues, source="vtt", duration_s=None)
    assert texts(t) == ["大家好欢迎", "收看新闻", "联播"]


# --------------------------------------------------------------------------- markup


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("<i>Hello</i> <b>there</b>", "Hello there"),
        ('<font color="#ff0000">red</font> text', "red text"),
        ("{\\an8}Top line", "Top line"),
        ("{\\pos(100,200)\\fs20\\c&H00FF00&}Styled{\\r} words", "Styled words"),
        ("first\\Nsecond\\nthird\\hfourth", "first second third fourth"),
        ("- Hello\n- Hi there", "Hello Hi there"),
        ("-- Where are you?", "Where are you?"),
        (">> REPORTER: The vote is today.", "The vote is today."),
        ("[Music] [Applause] we begin", "we begin"),
        ("♪ la la ♪", "la la"),
        ("【音乐】大家好", "大家好"),
        ("Tom &amp; Jerry &lt;3 &nbsp;ok", "Tom & Jerry <3 ok"),
        ("so<00:00:01.200><c> good</c>", "so good"),
        ("<v Anna>Hi</v>", "Hi"),
        ("well-known - not a dash", "well-known - not a dash"),
        ("\u200bzero\ufeffwidth", "zerowidth"),
    ],
)
def test_clean_markup(raw, clean):
    assert clean_markup(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "alert(1)"),
        ("<scr<script>ipt>alert(1)</scr</script>ipt>", "alert(1)"),
        ("&amp;lt;b&amp;gt;bold", "bold"),
        ("&lt;scr<b>ipt&gt;x", "x"),
        ("{{\\an8}\\an8}top", "top"),
    ],
)
def test_clean_markup_leaves_no_markup_behind(raw, clean):
    cleaned = clean_markup(raw)
    assert cleaned == clean
    assert clean_markup(cleaned) == cleaned


def test_markup_nested_past_the_round_limit_loses_its_brackets():
    raw = "<scr" * 40 + "<b>" + "ipt>" * 40 + "deep"
    cleaned = clean_markup(raw)
    assert "<" not in cleaned and ">" not in cleaned
    assert cleaned.endswith("deep")
    assert clean_markup(cleaned) == cleaned


def test_escaped_and_nested_tags_never_reach_cue_text(tmp_path):
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n&lt;script&gt;alert(1)&lt;/script&gt; hello\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\n<scr<script>ipt>alert(2)</scr</script>ipt> world\n"
    )
    t = read_transcript(write(tmp_path, "x.srt", srt), duration_s=None)
    assert texts(t) == ["alert(1) hello", "alert(2) world"]
    assert t.cues[0].text_raw == "&lt;script&gt;alert(1)&lt;/script&gt; hello"


def test_sound_tag_only_cues_are_dropped_but_kept_in_raw_when_with_words(tmp_path):
    srt = (
        "1\n00:00:01,000 --> 00:00:02,000\n[Music]\n\n"
        "2\n00:00:02,000 --> 00:00:03,000\n[Applause] thanks\n"
    )
    t = read_transcript(write(tmp_path, "m.srt", srt), duration_s=None)
    assert texts(t) == ["thanks"]
    assert t.cues[0].text_raw == "[Applause] thanks"


def test_cue_is_frozen():
    cue = Cue(0.0, 1.0, "a", "a")
    with pytest.raises(AttributeError):
        cue.text = "b"  # type: ignore[misc]


# --------------------------------------------------------------------------- embedded streams


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _mux(tmp_path: Path, out_name: str, sub_codec: str | None, extra: list[str] = ()) -> Path:
    srt = write(tmp_path, "in.srt", SRT)
    out = tmp_path / out_name
    cmd = [_ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=blue:s=64x48:d=12:r=5"]
    if sub_codec:
        cmd += ["-i", str(srt), "-c:s", sub_codec]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", *extra, str(out)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return out


@pytest.mark.parametrize(
    ("name", "codec", "extra"),
    [
        ("mov_text.mp4", "mov_text", []),
        ("srt.mkv", "srt", []),
        ("ass.mkv", "ass", []),
        # The container starts late: cue times must stay relative to the video's start.
        ("offset.mp4", "mov_text", ["-output_ts_offset", "1.5"]),
    ],
)
def test_embedded_subtitles(tmp_path, name, codec, extra):
    video = _mux(tmp_path, name, codec, extra)
    t = read_embedded_subtitles(video, duration_s=12.0)
    assert t is not None and t.source == "embedded"
    assert texts(t) == [
        "Good evening and welcome.",
        "Tonight: vaccines. In every city.",
        "The clinics open at nine.",
    ]
    starts = [c.start_s for c in t.cues]
    ends = [c.end_s for c in t.cues]
    assert starts == pytest.approx([1.0, 3.5, 7.0], abs=0.02)
    assert ends == pytest.approx([3.0, 6.0, 9.25], abs=0.02)


def test_embedded_subtitles_absent_gives_none(tmp_path):
    video = _mux(tmp_path, "plain.mp4", None)
    assert read_embedded_subtitles(video, duration_s=12.0) is None


def test_embedded_subtitles_clipped_to_duration(tmp_path):
    video = _mux(tmp_path, "clip.mkv", "srt")
    t = read_embedded_subtitles(video, duration_s=8.0)
    assert t is not None and t.cues[-1].end_s == 8.0 and t.warnings


def test_embedded_subtitles_not_a_video(tmp_path):
    with pytest.raises(VideoOpenError):
        read_embedded_subtitles(write(tmp_path, "fake.mp4", "not a video"), duration_s=None)
