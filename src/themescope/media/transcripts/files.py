"""Read a subtitle or transcript file, whatever its format and encoding.

:func:`read_transcript` reads a file in any of these formats, found by content
first and file extension second:

==================  ==========================================================
source              what it is
==================  ==========================================================
``srt``             SubRip (``00:00:01,000 --> 00:00:02,500`` blocks)
``vtt``             WebVTT (``WEBVTT`` header; YouTube's rolling captions too)
``ass``             Advanced SubStation / SubStation Alpha (``[Script Info]``)
``youtube-json``    a list of ``{"text", "start", "duration"}`` objects (as
                    youtube-transcript-api writes), or YouTube's json3
                    ``{"events": [{"tStartMs", "dDurationMs", "segs"}]}``
``youtube-csv``     CSV with the columns ``text,start,duration`` (any order)
``plain-text``      one segment per line, spread evenly over the video (how
                    the paper timed its Chinese transcript; needs
                    ``duration_s``)
==================  ==========================================================
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from themescope import registry
from themescope.errors import SubtitleParseError
from themescope.media.transcripts.cues import (
    Transcript,
    _check_duration,
    _timing_problem,
    build_transcript,
)
from themescope.media.transcripts.encoding import _decode

logger = logging.getLogger("themescope")


_EXTENSION_FORMATS = {
    ".srt": "srt",
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".ass": "ass",
    ".ssa": "ass",
    ".json": "youtube-json",
    ".json3": "youtube-json",
    ".csv": "youtube-csv",
}
_EXPECTED = {
    "srt": "SubRip blocks like '1 / 00:00:01,000 --> 00:00:02,500 / text'",
    "vtt": "a 'WEBVTT' header followed by '00:01.000 --> 00:02.500' cues",
    "ass": "an [Events] section with 'Dialogue:' lines",
    "youtube-json": 'a list of {"text", "start", "duration"} objects or {"events": [...]}',
    "youtube-csv": "CSV with the columns text,start,duration",
    "plain-text": "one transcript segment per line",
}
_CSV_COLUMNS = ("text", "start", "duration")
# Subtitle formats pysubs2 may not recognise by content but that are not plain text.
_UNSUPPORTED_EXTENSIONS = (
    ".sub",
    ".smi",
    ".sami",
    ".ttml",
    ".dfxp",
    ".xml",
    ".sbv",
    ".lrc",
    ".stl",
)
_TIMING_RE = re.compile(r"-->")


@dataclass
class _Parsed:
    """What a format parser hands to :func:`build_transcript`."""

    cues: list[tuple[float, float, str]] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _sniff(text: str, path: Path) -> str:
    """Return the format of ``text`` (a key of :data:`_EXPECTED`), by content then extension."""
    suffix = path.suffix.lower()
    head = text.lstrip()
    if head.startswith("WEBVTT"):
        return "vtt"
    if "[Script Info]" in text or re.search(r"^\s*\[V4\+? Styles\]", text, re.M):
        return "ass"
    if re.search(r"^\s*\[Events\]", text, re.M) and "Dialogue:" in text:
        return "ass"
    if head.startswith(("[", "{")):
        try:
            json.loads(text)
            return "youtube-json"
        except ValueError:
            if suffix in (".json", ".json3"):
                return "youtube-json"
    if _TIMING_RE.search(text):
        return "vtt" if suffix in (".vtt", ".webvtt") else "srt"
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    header = {c.strip().lower() for c in next(csv.reader([first_line]), [])}
    if set(_CSV_COLUMNS) <= header:
        return "youtube-csv"
    expected = _EXTENSION_FORMATS.get(suffix)
    if expected is not None:
        return expected
    _refuse_other_formats(text, path)
    return "plain-text"


def _refuse_other_formats(text: str, path: Path) -> None:
    """Raise when ``text`` is in a subtitle format themescope does not read.

    Without this, its markup would be taken for a plain-text transcript.
    """
    from pysubs2.exceptions import Pysubs2Error
    from pysubs2.formats import autodetect_format

    try:
        other: str | None = autodetect_format(text)
    except Pysubs2Error:
        other = None
    # TMP and MPL2 lines ("00:01:02:text", "[10][20]text") could begin a plain
    # transcript, so they count only when the extension does not say plain text.
    suffix = path.suffix.lower()
    plain_suffix = suffix in ("", ".txt", ".text")
    if other in ("ttml", "sami", "microdvd") or (other in ("tmp", "mpl2") and not plain_suffix):
        found = f"{other.upper()} subtitles"
    elif suffix in _UNSUPPORTED_EXTENSIONS:
        found = f"a {suffix} file"
    else:
        return
    raise SubtitleParseError(
        f"{path} looks like {found}, which themescope does not read; convert it "
        "to SRT, WebVTT or ASS (for example with `python -m pysubs2 --to srt FILE`), or give "
        "YouTube JSON/CSV or plain text with one segment per line"
    )


def _parse_srt_vtt(text: str, fmt: str) -> _Parsed:
    """Parse SubRip or WebVTT block by block, so one bad block costs only itself.

    pysubs2 parses each block's timing line; the text lines are kept verbatim.
    """
    out = _Parsed()
    blocks: list[tuple[int, list[str]]] = []  # (first line number, lines)
    current: list[str] = []
    start_line = 1
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.strip():
            if not current:
                start_line = lineno
            current.append(line.rstrip())
        elif current:
            blocks.append((start_line, current))
            current = []
    if current:
        blocks.append((start_line, current))

    for first_line, lines in blocks:
        if fmt == "vtt" and re.match(r"(WEBVTT|NOTE|STYLE|REGION)\b", lines[0].strip()):
            continue
        timing_ats = [i for i, line in enumerate(lines) if "-->" in line]
        if not timing_ats:
            if len(lines) == 1 and lines[0].strip().isdigit():
                continue  # a lone cue number
            if out.cues and not lines[0].strip().isdigit():
                # A blank line inside a cue's text: the rest of the same cue.
                start, end, prev = out.cues[-1]
                out.cues[-1] = (start, end, prev + "\n" + "\n".join(lines))
                continue
            out.skip_reasons.append(f"line {first_line}: text without a timing line")
            continue
        # Several timing lines in one block: the blank lines between cues are missing.
        for n, timing_at in enumerate(timing_ats):
            text_end = timing_ats[n + 1] if n + 1 < len(timing_ats) else len(lines)
            text_lines = lines[timing_at + 1 : text_end]
            if text_end < len(lines) and text_lines and text_lines[-1].strip().isdigit():
                text_lines = text_lines[:-1]  # the next cue's number
            cue = _srt_vtt_cue(lines[timing_at], text_lines, fmt)
            if cue is None:
                line = lines[timing_at].strip()
                out.skip_reasons.append(
                    f"line {first_line + timing_at}: unreadable timing {line!r}"
                )
            else:
                out.cues.append(cue)
    return out


def _srt_vtt_cue(timing: str, text_lines: list[str], fmt: str) -> tuple[float, float, str] | None:
    """Return one cue from its timing line and text lines, or None when the timing is unreadable."""
    import pysubs2

    # pysubs2 and the loose pattern read "-00:00:05,000" as 5 s: the signs are taken off
    # here and put back below, so that a negative time is moved to 0 or refused as such.
    signs = _TIMING_SIGNS_RE.match(timing)
    if signs is not None:
        timing = signs["start"] + signs["end"]
    start_sign = -1.0 if signs is not None and signs["start_minus"] else 1.0
    end_sign = -1.0 if signs is not None and signs["end_minus"] else 1.0
    # pysubs2 reads the timing line only: YouTube's inline word timestamps
    # ("to<00:00:03.000><c> the</c><00:00:03.500>") would look like a second one.
    block = timing + "\nx\n"
    if fmt == "vtt":
        block = "WEBVTT\n\n" + block
    raw = "\n".join(line.strip() for line in text_lines)
    try:
        events = pysubs2.SSAFile.from_string(block, format_=fmt).events
    except Exception as ex:  # pysubs2 raises plain ValueError/IndexError on bad input
        logger.debug("pysubs2 could not read the timing line %r: %s", timing, ex)
        events = []
    if len(events) == 1:
        start_s, end_s = events[0].start / 1000.0, events[0].end / 1000.0
    else:
        # Timings pysubs2 rejects but that are unambiguous: no milliseconds
        # ("00:00:01 --> 00:00:02") or no hours in SubRip ("01:02,500 --> ...").
        match = _LOOSE_TIMING_RE.match(timing)
        if match is None:
            return None
        start_s, end_s = _loose_seconds(match["start"]), _loose_seconds(match["end"])
    return start_sign * start_s, end_sign * end_s, raw


_TIMING_SIGNS_RE = re.compile(
    r"(?P<start_minus>\s*-(?=\s*\d))?(?P<start>.*?-->)(?P<end_minus>\s*-(?=\s*\d))?(?P<end>.*)",
    re.DOTALL,
)


_LOOSE_TIME = r"(?:\d{1,2}:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_LOOSE_TIMING_RE = re.compile(
    rf"\s*(?P<start>{_LOOSE_TIME})\s*-->\s*(?P<end>{_LOOSE_TIME})(?:\s|$)"
)


def _loose_seconds(stamp: str) -> float:
    """Return seconds from "[hh:]mm:ss[.mmm]" (comma or dot before the fraction)."""
    clock, _, fraction = stamp.replace(",", ".").partition(".")
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (float("0." + fraction) if fraction else 0.0)


def _parse_ass(text: str) -> _Parsed:
    """Parse ASS/SSA with pysubs2; when the file fails as a whole, retry line by line."""
    # pysubs2 tells ASS from SSA by the styles section, which some files leave out.
    if re.search(r"V4\+ Styles|ScriptType:\s*v4\.00\+", text, re.I):
        fmt = "ass"
    elif re.search(r"V4 Styles|ScriptType:\s*v4\.00\b", text, re.I):
        fmt = "ssa"
    else:
        fmt = "ass"
    with warnings.catch_warnings():
        # pysubs2 warns when a margin or layer field is not a number and uses 0;
        # those fields only place text on screen, so the words are unaffected.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _parse_ass_events(text, fmt)


def _parse_ass_events(text: str, fmt: str) -> _Parsed:
    """Read the events of an ASS (``fmt`` "ass") or SSA ("ssa") file."""
    import pysubs2

    out = _Parsed()
    try:
        events = list(pysubs2.SSAFile.from_string(text, format_=fmt).events)
    except Exception as whole_ex:
        logger.debug(
            "pysubs2 could not read the file in one go (%s); reading line by line", whole_ex
        )
        lines = text.split("\n")
        header = "\n".join(line for line in lines if not line.lstrip().startswith("Dialogue:"))
        events = []
        for lineno, line in enumerate(lines, 1):
            if not line.lstrip().startswith("Dialogue:"):
                continue
            try:
                one = pysubs2.SSAFile.from_string(header + "\n" + line + "\n", format_=fmt)
                events.extend(one.events)
            except Exception as ex:
                out.skip_reasons.append(f"line {lineno}: {ex}")
    for event in events:
        if event.is_comment or event.is_drawing:
            continue
        out.cues.append((event.start / 1000.0, event.end / 1000.0, event.text))
    return out


def _number(value: Any) -> float:
    """Return ``value`` as a finite float or raise ValueError."""
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def _parse_youtube_json(text: str, path: Path) -> _Parsed:
    """Parse youtube-transcript-api's list or YouTube's json3 ``events`` object."""
    try:
        data = json.loads(text)
    except ValueError as ex:
        raise SubtitleParseError(
            f"{path} is not valid JSON ({ex}); expected {_EXPECTED['youtube-json']}"
        ) from ex
    out = _Parsed()
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        for i, event in enumerate(data["events"]):
            if not isinstance(event, dict) or "segs" not in event:
                continue  # json3 window and style events carry no text
            try:
                start_s = _number(event["tStartMs"]) / 1000.0
                duration_s = _number(event.get("dDurationMs", 0)) / 1000.0
                words = "".join(str(seg.get("utf8", "")) for seg in event["segs"])
            except (KeyError, TypeError, ValueError, AttributeError) as ex:
                out.skip_reasons.append(f"event {i}: {ex!s}")
                continue
            if words.strip():
                out.cues.append((start_s, start_s + duration_s, words))
        return out
    if isinstance(data, dict):
        # youtube-transcript-api's JSONFormatter wraps nothing, but some tools nest the list.
        for key in ("transcript", "snippets", "segments"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list):
        raise SubtitleParseError(
            f"{path} holds JSON of another shape; expected {_EXPECTED['youtube-json']}"
        )
    for i, item in enumerate(data):
        try:
            start_s = _number(item["start"])
            duration_s = (
                _number(item["duration"]) if "duration" in item else _number(item["end"]) - start_s
            )
            words = item["text"]
            if not isinstance(words, str):
                raise TypeError(f"text is {type(words).__name__}")
        except (KeyError, TypeError, ValueError) as ex:
            out.skip_reasons.append(f"item {i}: missing or bad {ex!s}")
            continue
        out.cues.append((start_s, start_s + duration_s, words))
    return out


def _parse_csv(text: str, path: Path) -> _Parsed:
    """Parse a CSV transcript with the columns text, start, duration (any order, any case)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    if not set(_CSV_COLUMNS) <= columns.keys():
        raise SubtitleParseError(
            f"{path} has the CSV columns {header}; expected {_EXPECTED['youtube-csv']}"
        )
    out = _Parsed()
    for rowno, row in enumerate(reader, 2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            start_s = _number(row[columns["start"]])
            duration_s = _number(row[columns["duration"]])
            words = row[columns["text"]]
        except (IndexError, ValueError) as ex:
            out.skip_reasons.append(f"row {rowno}: {ex}")
            continue
        out.cues.append((start_s, start_s + duration_s, words))
    return out


def _parse_plain(text: str, path: Path, duration_s: float | None) -> _Parsed:
    """Spread one segment per non-empty line evenly over ``duration_s``."""
    segments = [line.strip() for line in text.split("\n") if line.strip()]
    if duration_s is None:
        raise SubtitleParseError(
            f"{path} is a plain-text transcript (no timings): the video's duration is needed "
            f"to spread its {len(segments)} lines over it"
        )
    step_s = duration_s / len(segments) if segments else 0.0
    out = _Parsed()
    out.cues = [(i * step_s, (i + 1) * step_s, line) for i, line in enumerate(segments)]
    return out


# A transcript format parses a file's decoded text into cues: (text, path, duration_s) -> _Parsed.
# _sniff names the format, by content and then by extension.
for _fmt, _parse in {
    "srt": lambda text, path, duration_s: _parse_srt_vtt(text, "srt"),
    "vtt": lambda text, path, duration_s: _parse_srt_vtt(text, "vtt"),
    "ass": lambda text, path, duration_s: _parse_ass(text),
    "youtube-json": lambda text, path, duration_s: _parse_youtube_json(text, path),
    "youtube-csv": lambda text, path, duration_s: _parse_csv(text, path),
    "plain-text": _parse_plain,
}.items():
    registry.register("transcript format", _fmt, _parse, help=_EXPECTED[_fmt])


def read_transcript(
    path: str | Path, *, duration_s: float | None, encoding: str | None = None
) -> Transcript:
    """Read a subtitle or transcript file into a :class:`Transcript`.

    Args:
        path: An SRT, WebVTT, ASS/SSA, YouTube JSON/CSV or plain-text file (see
            the module docstring for how the format is chosen).
        duration_s: The video's duration in seconds: cues past it are dropped
            or clipped, and a plain-text transcript is spread over it. None is
            allowed for timed formats.
        encoding: A Python codec name that overrides detection (for example
            "gbk" or "big5").

    Returns:
        The transcript; empty (with a warning) when the file holds no cue.

    Raises:
        SubtitleParseError: The file is missing, not text, or no cue in it can
            be read.
        ConfigError: ``encoding`` is unknown or ``duration_s`` is not positive.

    Example:
        >>> t = read_transcript("news.zh.txt", duration_s=180.0)  # doctest: +SKIP
        >>> t.source, t.encoding  # doctest: +SKIP
        ('plain-text', 'gb18030')

    """
    path = Path(path)
    _check_duration(duration_s)
    if not path.exists():
        raise SubtitleParseError(f"subtitle file {path} does not exist")
    if path.is_dir():
        raise SubtitleParseError(f"subtitle path {path} is a directory, not a file")
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise SubtitleParseError(f"cannot read subtitle file {path}: {ex.strerror}") from ex
    suffix = path.suffix.lower()
    text, codec = _decode(data, path, encoding)
    logger.info("reading %s as %s text", path, codec)
    if "\x00" in text:
        raise SubtitleParseError(
            f"{path} holds NUL bytes: binary data, or UTF-16 text that could not be "
            "detected; if it is text, give its encoding, e.g. --subtitle-encoding utf-16-le"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    label = str(path)
    if not text.strip():
        source = _EXTENSION_FORMATS.get(suffix, "plain-text")
        return Transcript(
            [], source, codec, warnings=[f"{label} is empty; continuing without text (image only)"]
        )

    fmt = _sniff(text, path)
    parsed: _Parsed = registry.get("transcript format", fmt).factory(text, path, duration_s)
    placed = [_timing_problem(i, start, end) for i, (start, end, _) in enumerate(parsed.cues)]
    if (parsed.cues or parsed.skip_reasons) and all(placed):
        # Cues of which none could be read or placed in time, in any format: the file, not
        # a cue, is broken. (A header alone holds no cue, and a cue of sound tags only is
        # read and yields no words: both go on without text.)
        problems = [*parsed.skip_reasons, *filter(None, placed)]
        detail = f" ({problems[0]})" if problems else ""
        raise SubtitleParseError(
            f"no cue in {path} could be read{detail}; expected {_EXPECTED[fmt]}"
        )
    return build_transcript(
        parsed.cues,
        source=fmt,
        duration_s=duration_s,
        encoding=codec,
        skip_reasons=parsed.skip_reasons,
        warnings=parsed.warnings,
        label=label,
    )
