"""What a corpus study reads: its videos, their subtitles, groups and metadata.

:func:`read_corpus` takes a manifest file or a folder and returns a :class:`CorpusSpec`.
It checks everything that can be checked without decoding a video (files exist, no
video is listed twice, every video has a group, values are text), so that a study
refuses bad input in one line before any work starts.

A **manifest** lists one video per row, in any of three formats:

* CSV (UTF-8, a byte-order mark is tolerated; a header row; commas, or semicolons or
  tabs as some spreadsheets write them)::

      video,subtitles,group,lang,date
      us/cnn_0101.mp4,us/cnn_0101.srt,US,en,2020-01-01
      cn/xwlb_0101.mp4,,CN,zh,2020-01-01

* TOML, one ``[[videos]]`` table per video::

      [[videos]]
      video = "us/cnn_0101.mp4"
      group = "US"
      date = 2020-01-01

* YAML, a list of mappings, or the same list under ``videos:``.

Columns: ``video`` (required), ``group`` (required: a country, a channel),
``subtitles`` (optional: without it the video's embedded subtitle stream or speech
recognition gives the text, as in a single-video run) and ``lang`` (optional: ``en`` or
``zh`` or a variant such as ``zh-CN``; empty or ``auto`` detects it from the text).
Column names are matched without regard to case; ``subtitle`` and ``language`` are read
as ``subtitles`` and ``lang``. Every other column is kept, as text, in
:attr:`CorpusVideo.metadata`. Relative paths resolve against the manifest's folder.
A ``date`` column (any ISO 8601 date, ``2020-01-31``, or date and time,
``2020-01-31T19:00``) dates the videos for the themes' shares over time: every row
needs one, all in one of the two forms (:func:`themescope.corpus.covariates.check_dates`).

A **folder** instead of a manifest holds one sub-folder per group, named for it::

    corpus/US/cnn_0101.mp4   corpus/US/cnn_0101.srt
    corpus/CN/xwlb_0101.mp4  corpus/CN/xwlb_0101.zh.vtt

Every video with a subtitle file of the same stem beside it is read (a language tag
before the extension, as yt-dlp writes it, is allowed and sets ``lang``); a video
without one is skipped with a warning. Videos directly in the folder are refused
rather than skipped: a study that quietly leaves out some of its material compares
the wrong thing, and with no sub-folder there is no group to put them in.

Example:
    >>> spec = read_corpus("study/corpus.csv")  # doctest: +SKIP
    >>> {group: len(videos) for group, videos in spec.groups().items()}  # doctest: +SKIP
    {'US': 30, 'CN': 30}

"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from themescope.corpus.covariates import N_QUOTED, check_dates
from themescope.errors import ConfigError
from themescope.media.language import is_chinese

#: File extensions taken for videos in a folder (a manifest may name any file).
VIDEO_EXTENSIONS = (
    ".mp4",
    ".mkv",
    ".mov",
    ".webm",
    ".avi",
    ".ts",
    ".m4v",
    ".mpg",
    ".mpeg",
    ".flv",
    ".wmv",
)
#: Extensions of the subtitle and transcript files themescope reads
#: (see :mod:`themescope.media.transcripts`), in order of preference when a video
#: has several beside it.
SUBTITLE_EXTENSIONS = (
    ".srt",
    ".vtt",
    ".webvtt",
    ".ass",
    ".ssa",
    ".json",
    ".json3",
    ".txt",
    ".text",
    ".csv",
)
#: The columns with a meaning; any other column is metadata.
COLUMNS = ("video", "subtitles", "group", "lang")
#: Longest part (group or file stem) of a video id, in UTF-8 bytes: two parts and a
#: suffix stay well under the 255 bytes a file name may take.
MAX_ID_PART_BYTES = 60

# What YAML writes for no value, which its base loader leaves as text.
_YAML_NULLS = ("~", "null", "Null", "NULL")
_ALIASES = {"subtitle": "subtitles", "language": "lang"}
_MANIFEST_SUFFIXES = (".csv", ".tsv", ".toml", ".yaml", ".yml")
# A language code as BCP 47 or ISO 639 writes it: "en", "zho", "zh-Hans-CN", "en_US".
_LANG_CODE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*", re.IGNORECASE)
_LANG_NAMES = {
    "english": "en",
    "chinese": "zh",
    "mandarin": "zh",
    "英语": "en",
    "英文": "en",
    "中文": "zh",
    "汉语": "zh",
    "普通话": "zh",
}
# Several problems of one of these kinds make one message that lists them briefly.
_PLURALS = {
    "missing-video": "video files do not exist",
    "missing-subtitles": "subtitle files do not exist",
    "duplicate": "videos are listed twice",
}


@dataclass(frozen=True)
class CorpusVideo:
    """One video of a corpus, as its manifest row (or folder) describes it.

    Attributes:
        id: Unique, file-system-safe name of the video in the study (its folder is
            ``study/videos/<id>``): the group's and the file stem's slugs joined by
            ``__``; a repeated id gets ``-2``, ``-3``... in manifest order, so ids stay
            the same when rows are added at the end.
        video: Absolute, resolved path of the video file.
        subtitles: Absolute, resolved path of its subtitle file, or None to use the
            embedded subtitle stream or speech recognition.
        group: The group (country, channel) as written.
        lang: ``"en"`` or ``"zh"``, or None to detect the language from the text.
        metadata: Every other column, as text (``""`` where a row has no value), in the
            manifest's column order; the same keys for every video of a corpus.
        row: Where the video is listed, for messages: the row number a spreadsheet shows
            for a CSV manifest (the header is row 1), the entry's position (from 1) in a
            TOML or YAML manifest, the video's position in a folder.

    """

    id: str
    video: Path
    subtitles: Path | None
    group: str
    lang: str | None
    metadata: dict[str, str] = field(hash=False)
    row: int


@dataclass(frozen=True)
class CorpusSpec:
    """The videos of a corpus study, checked, in manifest order.

    Attributes:
        source: The manifest file or folder read (absolute).
        videos: One entry per video.
        warnings: What was skipped or looks wrong without stopping the study, one line
            each (the caller records them; nothing is logged here).

    Example:
        >>> spec = read_corpus("corpus/")  # doctest: +SKIP
        >>> spec.videos[0].id, spec.videos[0].group  # doctest: +SKIP
        ('us__cnn_0101', 'US')

    """

    source: Path
    videos: tuple[CorpusVideo, ...]
    warnings: tuple[str, ...]

    def groups(self) -> dict[str, list[CorpusVideo]]:
        """Return the videos of each group, groups in order of first appearance."""
        groups: dict[str, list[CorpusVideo]] = {}
        for video in self.videos:
            groups.setdefault(video.group, []).append(video)
        return groups


def read_corpus(path: str | os.PathLike[str]) -> CorpusSpec:
    """Read and check a corpus manifest (CSV, TOML, YAML) or folder of videos.

    Nothing is decoded: only names, paths and values are checked.

    Args:
        path: A ``.csv``/``.tsv``, ``.toml`` or ``.yaml``/``.yml`` manifest, or a folder
            holding one sub-folder of videos per group (see the module docstring).

    Returns:
        The corpus's videos and the warnings met.

    Raises:
        ConfigError: In one line naming the file and the rows: the manifest is missing,
            not UTF-8 or unparsable; it has no ``video`` or ``group`` column or no
            videos; rows name files that do not exist, list a video twice, have an
            empty group, a value that is not text, a number or a date, or a ``lang``
            that is not a language code themescope takes; a ``date`` column has an
            empty value, one that is not an ISO date, or dates and date-times mixed.
            A folder holds videos outside group sub-folders, or no video with subtitles.

    Example:
        >>> spec = read_corpus("corpus.csv")  # doctest: +SKIP
        >>> spec.videos[0].video  # doctest: +SKIP
        PosixPath('/data/news/us/cnn_0101.mp4')

    """
    source = Path(path).expanduser().absolute()
    if source.is_dir():
        return _read_folder(source)
    if not source.exists():
        raise ConfigError(f"corpus manifest or folder {source} does not exist")
    suffix = source.suffix.lower()
    if suffix not in _MANIFEST_SUFFIXES:
        raise ConfigError(
            f"corpus manifest {source} must end in .csv, .tsv, .toml, .yaml or .yml, "
            "or be a folder with one sub-folder of videos per group"
        )
    try:
        text = source.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"corpus manifest {source} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read corpus manifest {source}: {exc.strerror}") from exc
    if not text.strip():
        raise ConfigError(f"corpus manifest {source} is empty; list one video per row")
    if suffix in (".csv", ".tsv"):
        rows = _csv_rows(source, text)
    elif suffix == ".toml":
        rows = _toml_rows(source, text)
    else:
        rows = _yaml_rows(source, text)
    return _check_rows(source, rows)


# --------------------------------------------------------------------------- manifests

# A manifest row before checking: (row number, {column as written: value as parsed}).
_Row = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class _Problem:
    row: int
    kind: str
    text: str  # alone: "row 3: <text>"
    brief: str  # among several of one kind: "row 3 (a.mp4)"


def _column(name: str) -> str:
    """The column ``name`` stands for: one of :data:`COLUMNS`, or itself (metadata)."""
    key = name.strip()
    lower = key.lower()
    return lower if lower in COLUMNS else _ALIASES.get(lower, key)


def _csv_rows(source: Path, text: str) -> list[_Row]:
    records = _csv_records(source, text)
    header = [name.strip() for name in records[0]]
    named = [i for i, name in enumerate(header) if name]
    _check_header(source, [header[i] for i in named])
    rows: list[_Row] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(value.strip() for value in record):
            continue  # a blank line, or a row of empty cells a spreadsheet left behind
        for i, value in enumerate(record):
            if value.strip() and (i >= len(header) or not header[i]):
                raise ConfigError(
                    f"corpus manifest {source} row {number}: value {value.strip()!r} in "
                    f"column {i + 1}, which has no name in the header row"
                )
        cells = record + [""] * (len(header) - len(record))
        rows.append((number, {header[i]: cells[i] for i in named}))
    if not rows:
        raise ConfigError(f"corpus manifest {source} lists no videos (only a header row)")
    return rows


def _csv_records(source: Path, text: str) -> list[list[str]]:
    """All records of ``text``, split by the delimiter whose header has a video column."""
    first_line = text.lstrip("\r\n").splitlines()[0]
    # Spreadsheets set to a decimal comma write semicolons; .tsv files and copies out
    # of a spreadsheet use tabs.
    delimiter = next(
        (
            d
            for d in (",", ";", "\t")
            if any(_column(name) == "video" for name in next(csv.reader([first_line], delimiter=d)))
        ),
        ",",
    )
    # Strict, so that a stray quote is an error rather than a cell that swallows the rows
    # after it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ConfigError(
            f"corpus manifest {source} is not valid CSV: {exc} (line {reader.line_num})"
        ) from exc
    while records and not any(value.strip() for value in records[0]):
        records.pop(0)
    if not records:
        raise ConfigError(f"corpus manifest {source} is empty; list one video per row")
    return records


def _check_header(source: Path, names: list[str]) -> None:
    seen = _check_keys(source, names)
    for required in ("video", "group"):
        if required not in seen:
            raise ConfigError(
                f"corpus manifest {source} has no {required!r} column "
                f"(its columns: {', '.join(names) or 'none'}); "
                "the columns are video, group, and optionally subtitles, lang and metadata"
            )


def _toml_rows(source: Path, text: str) -> list[_Row]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"corpus manifest {source} is not valid TOML: {exc}") from exc
    other = [key for key in document if key != "videos"]
    if other:
        raise ConfigError(
            f"corpus manifest {source} has an unknown top-level key {other[0]!r}; "
            "list each video in a [[videos]] table"
        )
    videos = document.get("videos")
    if not isinstance(videos, list):
        raise ConfigError(
            f"corpus manifest {source} must list each video in a [[videos]] table "
            "(video = ..., group = ...)"
        )
    return _entry_rows(source, videos, "table")


def _yaml_rows(source: Path, text: str) -> list[_Row]:
    import yaml

    try:
        # Every scalar as written (the base loader, as safe as safe_load, builds only
        # strings, lists and dicts): metadata is text, and a country code such as NO must
        # not turn into false, nor an episode 012 into 10.
        document = yaml.load(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"corpus manifest {source} is not valid YAML: {problem}{where}") from exc
    if isinstance(document, dict) and list(document) == ["videos"]:
        document = document["videos"]
    if not isinstance(document, list):
        raise ConfigError(
            f"corpus manifest {source} must be a list of videos (mappings with video, "
            "group, ...), or that list under 'videos:'"
        )
    rows = _entry_rows(source, document, "mapping")
    return [
        (number, {key: None if value in _YAML_NULLS else value for key, value in raw.items()})
        for number, raw in rows
    ]


def _entry_rows(source: Path, entries: list[Any], kind: str) -> list[_Row]:
    """Rows of a TOML or YAML manifest: one per entry, numbered from 1."""
    if not entries:
        raise ConfigError(f"corpus manifest {source} lists no videos")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ConfigError(
                f"corpus manifest {source} row {number}: a video must be a {kind} of "
                f"column: value; got {_type_name(entry)}"
            )
        _check_keys(source, [str(key) for key in entry], number)
    names = list(dict.fromkeys(_column(str(key)) for entry in entries for key in entry))
    for required in ("video", "group"):
        if required not in names:
            raise ConfigError(
                f"corpus manifest {source} has no {required!r} column: no entry names one"
            )
    return [
        (number, {str(key): value for key, value in entry.items()})
        for number, entry in enumerate(entries, start=1)
    ]


def _check_keys(source: Path, keys: list[str], row: int | None = None) -> dict[str, str]:
    """Return each column's key as written; refuse a column named twice (in a header or a row)."""
    where = "" if row is None else f" row {row}"
    seen: dict[str, str] = {}
    for key in keys:
        column = _column(key)
        if column in seen:
            raise ConfigError(
                f"corpus manifest {source}{where} names the {column!r} column twice "
                f"({seen[column]!r} and {key!r})"
            )
        seen[column] = key
    return seen


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a table (mapping)"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _scalar_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    return "a number" if isinstance(value, int | float) else "a date"


def _as_text(value: Any) -> str | None:
    """``value`` as metadata text, or None for a type a table cell cannot hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as TOML writes it
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return None


def _language(text: str) -> tuple[str | None, str | None]:
    """(``"en"``, ``"zh"`` or None to detect, the problem with ``text`` or None)."""
    if text.lower() in ("", "auto", "und"):
        return None, None
    if not _LANG_CODE.fullmatch(text):
        name = _LANG_NAMES.get(text.casefold())
        hint = f" (write {name!r})" if name else ""
        return None, (
            f"lang {text!r} is not a language code{hint}; give en or zh, or leave it "
            "empty to detect the language from the text"
        )
    code = text.lower().replace("_", "-")
    if is_chinese(code):
        return "zh", None
    if code.split("-")[0] in ("en", "eng"):
        return "en", None
    return None, (
        f"lang {text!r} is not one themescope reads (en or zh); leave it empty to detect "
        "the language from the text"
    )


def _resolve(base: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return (path if path.is_absolute() else base / path).resolve()


def _check_rows(source: Path, rows: list[_Row]) -> CorpusSpec:
    """Turn parsed rows into videos, or raise one error naming every problem found."""
    base = source.parent
    problems: list[_Problem] = []
    # Videos without their ids yet (made once all rows are in), stems of the names as written.
    found: list[tuple[CorpusVideo, str]] = []
    first_row: dict[str, int] = {}
    for number, raw in rows:
        values: dict[str, str] = {}
        for key, value in raw.items():
            text = _as_text(value)
            if text is None:
                problems.append(
                    _Problem(
                        number,
                        "type",
                        f"column {key.strip()!r} holds {_type_name(value)}, an unknown column "
                        "type; give text, a number or a date",
                        f"row {number} ({key.strip()})",
                    )
                )
                text = ""
            elif _column(key) == "group" and not isinstance(value, str) and value is not None:
                # A TOML group = 5 would silently become the group "5" (the README promises
                # a value that is not text is refused); YAML and CSV cells are always text.
                problems.append(
                    _Problem(
                        number,
                        "type",
                        f"the group is {_scalar_kind(value)} ({text}), not text; write it in "
                        f'quotes: {key.strip()} = "{text}"',
                        f"row {number} (group)",
                    )
                )
            values[_column(key)] = text
        video_text = values.pop("video", "")
        subtitles_text = values.pop("subtitles", "")
        group = values.pop("group", "")
        lang, lang_problem = _language(values.pop("lang", ""))
        if lang_problem:
            problems.append(_Problem(number, "lang", lang_problem, f"row {number}"))
        if not group:
            problems.append(
                _Problem(
                    number,
                    "group",
                    "the group is empty; every video needs one (a country, a channel)",
                    f"row {number}",
                )
            )
        if not video_text:
            problems.append(_Problem(number, "video", "no video file is named", f"row {number}"))
            continue
        if Path(video_text).suffix.lower() in SUBTITLE_EXTENSIONS:
            problems.append(
                _Problem(
                    number,
                    "swapped",
                    f"video {video_text!r} is a subtitle file; are the video and subtitles "
                    "columns swapped?",
                    f"row {number}",
                )
            )
        video = _resolve(base, video_text)
        problems.extend(_file_problems(number, video, "video"))
        subtitles = _resolve(base, subtitles_text) if subtitles_text else None
        if subtitles is not None:
            problems.extend(_file_problems(number, subtitles, "subtitles"))
        key = os.path.normcase(str(video))
        if key in first_row:
            earlier = first_row[key]
            problems.append(
                _Problem(
                    number,
                    "duplicate",
                    f"lists the same video file as row {earlier}: {video}",
                    f"rows {earlier} and {number} ({video.name})",
                )
            )
        else:
            first_row[key] = number
        found.append((CorpusVideo("", video, subtitles, group, lang, values, number), video_text))
    if problems:
        raise ConfigError(_problems_message(source, problems))
    columns = list(dict.fromkeys(key for video, _ in found for key in video.metadata))
    check_dates(source, [(video.row, video.metadata) for video, _ in found], columns)
    # The stem as written: a symlink may point at a file named for its content.
    ids = _video_ids([(video.group, Path(name).stem) for video, name in found])
    videos = tuple(
        dataclasses.replace(
            video, id=video_id, metadata={c: video.metadata.get(c, "") for c in columns}
        )
        for video_id, (video, _) in zip(ids, found, strict=True)
    )
    return CorpusSpec(source=source, videos=videos, warnings=tuple(_group_warnings(videos)))


def _file_problems(row: int, path: Path, column: str) -> Iterator[_Problem]:
    noun = "video" if column == "video" else "subtitle"
    if not path.exists():
        yield _Problem(
            row, f"missing-{column}", f"{noun} file {path} does not exist", f"row {row} ({path})"
        )
    elif not path.is_file():
        yield _Problem(row, column, f"{noun} path {path} is not a file", f"row {row}")


def _problems_message(source: Path, problems: list[_Problem]) -> str:
    problems = sorted(problems, key=lambda p: p.row)
    if len(problems) == 1:
        return f"corpus manifest {source} row {problems[0].row}: {problems[0].text}"
    more = f" and {len(problems) - N_QUOTED} more" if len(problems) > N_QUOTED else ""
    kinds = {p.kind for p in problems}
    if len(kinds) == 1 and problems[0].kind in _PLURALS:
        briefs = ", ".join(p.brief for p in problems[:N_QUOTED])
        return (
            f"corpus manifest {source}: {len(problems)} {_PLURALS[problems[0].kind]}: "
            f"{briefs}{more}"
        )
    # Problems are told apart by " | ": their own texts may hold semicolons.
    quoted = " | ".join(f"row {p.row}: {p.text}" for p in problems[:N_QUOTED])
    return f"corpus manifest {source}: {len(problems)} problems: {quoted}{more}"


def _group_warnings(videos: tuple[CorpusVideo, ...]) -> Iterator[str]:
    by_case: dict[str, list[str]] = {}
    for group in dict.fromkeys(video.group for video in videos):
        by_case.setdefault(group.casefold(), []).append(group)
    for spellings in by_case.values():
        if len(spellings) > 1:
            names = " and ".join(repr(name) for name in spellings)
            yield f"groups {names} differ only in case; they are kept apart as separate groups"


# --------------------------------------------------------------------------- ids


def _slug(text: str, empty: str) -> str:
    """A lower-case, file-system-safe form of ``text`` (letters of any script are kept)."""
    slug = re.sub(r"[^\w.-]+", "-", unicodedata.normalize("NFC", text).casefold())
    slug = slug.strip(".-_")
    while len(slug.encode("utf-8")) > MAX_ID_PART_BYTES:
        slug = slug[:-1]
    return slug.rstrip(".-_") or empty


def _video_ids(keys: list[tuple[str, str]]) -> list[str]:
    """One id per (group, file stem), unique, repeats numbered in order."""
    ids: list[str] = []
    taken: set[str] = set()
    for group, stem in keys:
        base = f"{_slug(group, 'group')}__{_slug(stem, 'video')}"
        video_id, n = base, 1
        while video_id in taken:
            n += 1
            video_id = f"{base}-{n}"
        taken.add(video_id)
        ids.append(video_id)
    return ids


# --------------------------------------------------------------------------- folders


def _visible(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` that are not hidden, sorted by name."""
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _is_video(entry: os.DirEntry[str]) -> bool:
    return entry.is_file() and Path(entry.name).suffix.lower() in VIDEO_EXTENSIONS


def _holds_videos(folder: str) -> bool:
    return any(
        Path(name).suffix.lower() in VIDEO_EXTENSIONS
        for _, _, names in os.walk(folder)
        for name in names
    )


def _sidecars(video: str, names: list[str]) -> list[tuple[str, str | None]]:
    """Subtitle files beside ``video`` among ``names``: (name, language tag), best first.

    ``news.srt`` comes before ``news.en.vtt``; within each, extensions go in the order
    of :data:`SUBTITLE_EXTENSIONS`.
    """
    stem = Path(video).stem.casefold()
    found: list[tuple[int, int, str, str | None]] = []
    for name in names:
        path = Path(name)
        suffix = path.suffix.lower()
        if suffix not in SUBTITLE_EXTENSIONS:
            continue
        rank = SUBTITLE_EXTENSIONS.index(suffix)
        rest = path.stem.casefold()
        if rest == stem:
            found.append((0, rank, name, None))
        elif rest.startswith(stem + ".") and _LANG_CODE.fullmatch(rest[len(stem) + 1 :]):
            found.append((1, rank, name, Path(path.stem).suffix[1:]))
    return [(name, tag) for _, _, name, tag in sorted(found)]


def _count(items: list[str], noun: str) -> str:
    """``"3 videos (e.g. US/a.mp4)"``: how many ``items`` and the first of them."""
    if len(items) == 1:
        return f"1 {noun} ({items[0]})"
    return f"{len(items)} {noun}s (e.g. {items[0]})"


def _read_folder(folder: Path) -> CorpusSpec:
    entries = _visible(folder)
    loose = [e.name for e in entries if _is_video(e)]
    if loose:
        raise ConfigError(
            f"corpus folder {folder} holds {_count(loose, 'video')} directly in it, outside a "
            "group folder: put each group's videos in a sub-folder named for the group "
            f"({folder}/<group>/<video>), or list the videos and their groups in a manifest"
        )
    # (video as found, group, subtitles, lang) of every video kept, in folder order.
    kept: list[tuple[Path, str, Path, str | None]] = []
    skipped: dict[str, list[str]] = {
        "without": [],  # videos without subtitles
        "ambiguous": [],  # videos with several subtitle files
        "shared": [],  # subtitle files beside two videos (one video in two containers?)
        "deeper": [],  # folders below a group folder that hold videos
        "empty": [],  # sub-folders without videos
        "dropped": [],  # groups none of whose videos has subtitles
    }
    for group_entry in (e for e in entries if e.is_dir()):
        group, group_dir = group_entry.name, Path(group_entry.path)
        inside = _visible(group_dir)
        names = [e.name for e in inside if e.is_file()]
        skipped["deeper"] += [
            f"{group}/{e.name}" for e in inside if e.is_dir() and _holds_videos(e.path)
        ]
        video_names = [e.name for e in inside if _is_video(e)]
        if not video_names:
            skipped["empty"].append(group)
            continue
        used: dict[str, str] = {}
        n_before = len(kept)
        for name in video_names:
            sidecars = _sidecars(name, names)
            if not sidecars:
                skipped["without"].append(f"{group}/{name}")
                continue
            subtitles, tag = sidecars[0]
            if len(sidecars) > 1:
                skipped["ambiguous"].append(f"{group}/{name}: {subtitles} over {sidecars[1][0]}")
            if subtitles in used:
                skipped["shared"].append(f"{group}/{subtitles} by {used[subtitles]} and {name}")
            used.setdefault(subtitles, name)
            lang = _language(tag)[0] if tag else None
            kept.append((group_dir / name, group, (group_dir / subtitles).resolve(), lang))
        if len(kept) == n_before:
            skipped["dropped"].append(group)
    n_videos = len(kept) + len(skipped["without"])
    if n_videos == 0:
        raise ConfigError(
            f"corpus folder {folder} holds no videos in group sub-folders "
            f"({folder}/<group>/<video>, with {', '.join(VIDEO_EXTENSIONS)})"
        )
    if not kept:
        raise ConfigError(
            f"corpus folder {folder}: none of its {n_videos} videos has a subtitle file of the "
            f"same stem beside it (e.g. {skipped['without'][0]}); add .srt or .vtt files, or "
            "list the videos in a manifest (its subtitles column may be empty)"
        )
    ids = _video_ids([(group, video.stem) for video, group, _, _ in kept])
    videos = tuple(
        CorpusVideo(
            id=video_id,
            video=video.resolve(),
            subtitles=subtitles,
            group=group,
            lang=lang,
            metadata={},
            row=number,
        )
        for number, (video_id, (video, group, subtitles, lang)) in enumerate(
            zip(ids, kept, strict=True), start=1
        )
    )
    return CorpusSpec(source=folder, videos=videos, warnings=tuple(_folder_warnings(skipped)))


def _folder_warnings(skipped: dict[str, list[str]]) -> Iterator[str]:
    if skipped["without"]:
        yield (
            f"skipped {_count(skipped['without'], 'video')} with no subtitle file of the same "
            "stem beside it; list such videos in a manifest to use their embedded subtitles "
            "or speech recognition"
        )
    if skipped["dropped"]:
        yield (
            f"left out {_count(skipped['dropped'], 'group')}: none of its videos has a "
            "subtitle file"
        )
    if skipped["ambiguous"]:
        yield (
            f"{_count(skipped['ambiguous'], 'video')} with several subtitle files beside it: "
            "the first by preference was used"
        )
    if skipped["shared"]:
        yield (
            f"{_count(skipped['shared'], 'subtitle file')} used by two videos (one video in two "
            "containers?); both videos are in the study"
        )
    if skipped["deeper"]:
        yield (
            f"ignored the videos in {_count(skipped['deeper'], 'folder')} below the group "
            "folders: a group's videos must sit directly in its folder"
        )
    if skipped["empty"]:
        yield f"ignored {_count(skipped['empty'], 'sub-folder')} that holds no videos"


__all__ = [
    "COLUMNS",
    "SUBTITLE_EXTENSIONS",
    "VIDEO_EXTENSIONS",
    "CorpusSpec",
    "CorpusVideo",
    "read_corpus",
]
