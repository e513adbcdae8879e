"""Read the words spoken in a video: subtitle files, transcripts and embedded streams.

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

:func:`read_embedded_subtitles` reads a text subtitle stream (mov_text, SubRip,
ASS, WebVTT) muxed into the video container.

Whatever the source, cues go through the same clean-up (:func:`build_transcript`):

* Leniency: a cue that cannot be read is skipped and counted in
  ``Transcript.n_skipped`` with a warning; only a file in which *nothing* can
  be read raises :class:`~themescope.errors.SubtitleParseError`.
* An empty file, or one without any cue, is not an error: it gives an empty
  :class:`Transcript` with a warning, and the caller goes on image-only.
* Cues out of order are sorted (with a warning); overlapping cues are kept.
  Cues with a negative start are moved to 0, cues ending before they start are
  skipped, zero-length cues are extended to the next cue's start (at most
  :data:`ZERO_LENGTH_CUE_S`). Cues starting at or after ``duration_s`` are
  dropped and cues running past it are clipped, with a warning giving the counts.
* Markup is stripped from ``Cue.text`` by :func:`clean_markup`; ``Cue.text_raw``
  keeps the original. Cues with no words left (``[Music]``) are dropped.
* YouTube's automatic captions repeat each line in the next cue ("a b c", then
  "b c d e"). When a file shows that pattern (see :func:`build_transcript`),
  the repeated words are removed from the later cue, only between cues that
  follow each other in time. ``Transcript.n_deduplicated`` counts them.

Warnings are returned in ``Transcript.warnings`` rather than logged, so that
the ingest stage records each one once in the run manifest.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import itertools
import json
import logging
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from themescope.errors import ConfigError, SubtitleParseError, VideoOpenError
from themescope.media.frames import stream_start_s
from themescope.media.language import is_cjk

logger = logging.getLogger("themescope")

SOURCES = ("srt", "vtt", "ass", "youtube-json", "youtube-csv", "plain-text", "embedded", "asr")

#: Length given to a cue whose end equals its start when no later cue bounds it
#: (the paper's English segments were about 2 s apart).
ZERO_LENGTH_CUE_S = 2.0
#: Two cues are adjacent in time (rolling captions) when the second starts at most
#: this long after the first ends.
ROLLING_GAP_S = 0.5
#: Share of adjacent cue pairs that must repeat words for a file to count as
#: rolling captions; below it repeated words are taken as really said twice.
ROLLING_MIN_SHARE = 0.5
#: Fewest repeating pairs that make a file rolling captions.
ROLLING_MIN_PAIRS = 2
#: Fewest repeated words removed between two cues, unless the whole earlier cue
#: is repeated: one shared word ("that" / "that is") is common in normal speech.
ROLLING_MIN_WORDS = 2
#: How many skip reasons a warning quotes before summarizing the rest.
N_REASONS_QUOTED = 3

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
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# UTF-16 without a byte-order mark is recognised by where its NUL bytes fall in the
# first _UTF16_SNIFF_BYTES: at one parity in at least _UTF16_NUL_SHARE of the
# characters (a few words of English among Chinese still count), at the other in at
# most _UTF16_STRAY_NUL_SHARE (U+0100, U+0200 ... are rare), and the decoded text
# must be _UTF16_PRINTABLE_SHARE printable.
_UTF16_SNIFF_BYTES = 4096
_UTF16_NUL_SHARE = 0.3
_UTF16_STRAY_NUL_SHARE = 0.02
_UTF16_PRINTABLE_SHARE = 0.95
_EAST_ASIAN_CANDIDATES = ("gb18030", "big5", "cp949", "shift_jis", "euc_jp")
_EAST_ASIAN_CODECS = frozenset(
    (*_EAST_ASIAN_CANDIDATES, "big5hkscs", "cp950", "euc_kr", "johab", "cp932", "iso2022_jp", "hz")
)
# The most frequent characters of news Chinese (simplified and traditional
# forms), Japanese kana and Korean syllables: a correct decoding is full of them.
_COMMON_CJK = frozenset(
    "的一是不了在人有我他这個个们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能"
    "而子那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同"
    "现現当當没沒动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日军軍"
    "者意无無力它与與长長把机機十民第公此已工使情明性知全三又关關点點正业業外将將两兩高间間由"
    "问問很最重并並物手应應战戰向头頭文体體政美相见見被利什二等产產或新己制身果加西月话話合回"
    "特代内內信表化老给給世位次度门門任常先海通教儿兒原东東声聲提立及比员員解水名真论論处處走"
    "义義各入几幾口认認条條平系气氣题題活更别別打女变變四总總何电電数數安少报報才结結反受目太"
    "量再感建务務做接必场場件计計管期市直资資命山金指许許统統区區保至队隊形社便空决決治展马馬"
    "科司五基书書非则則听聽白界达達光放强強即像难難且权權思王完设設式色路记記南品住告类類求据"
    "據程北边邊死张張该該交规規万萬取格望觉覺领領共确確传傳师師观觀清今院让讓识識带帶导導争爭"
    "运運风風步改收根造言联聯持组組每济濟车車亲親极極服快办辦议議往元英士证證近失转轉令准準"
    "始存未远遠叫台单單影具字爱愛击擊流备備兵连連调調深商算质質团團集百需价價花党黨华華城级級"
    "整府离離况況请請技际際约約示复復病息究线線似官火断斷精满滿支视視消越器容照须須九增研写寫"
    "称稱企八功吗嗎包片史委查轻輕易早除农農找装裝广廣显顯图圖念六引历歷首医醫局突专專费費号號"
    "周较較注语語考落青随隨选選列武红紅响響虽雖推势勢希古众眾构構房半节節土投案黑维維革划劃致"
    "律足态態护護七兴興派孩验驗责責营營星够夠章音跟志底站严嚴例防族供效续續施留讲講型料终終答"
    "紧緊黄黃疫苗接新闻聞播今天欢歡迎收看气候候早晚情况病毒健康医院市场经济政府总统記者报道"
    "，。？！、：；“”‘’（）《》…"
    "のにはをたがでてとしれさかなるいもうありすこまっ"
    "이다는의에가을고하서한지기로도를으나사대리와수게아자주해시보정인어니일그것우전들여부제만"
)
# charset-normalizer names GBK text "gb18030" or "gbk"; gb18030 decodes both.
_ENCODING_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}


@dataclass(frozen=True)
class Cue:
    """One timed piece of transcript.

    Attributes:
        start_s: Start, in seconds from the video stream's first timestamp.
        end_s: End in seconds (> ``start_s``).
        text: The words, markup stripped and whitespace collapsed.
        text_raw: The text as it was in the source, markup included.

    Example:
        >>> Cue(1.0, 2.5, "Hello world", "<i>Hello</i> world").text
        'Hello world'

    """

    start_s: float
    end_s: float
    text: str
    text_raw: str


@dataclass
class Transcript:
    """The cues of a video, in time order, and what reading them took.

    Attributes:
        cues: Cues sorted by start time (overlaps allowed).
        source: One of :data:`SOURCES`.
        encoding: The text encoding the file was read with (None for streams
            and speech recognition).
        n_skipped: Cues that could not be read and were left out.
        n_deduplicated: Cues whose rolling-caption repeat was removed (or that
            were dropped as a repeat).
        warnings: One line per problem met, for the run manifest.

    Example:
        >>> t = read_transcript("talk.srt", duration_s=120.0)  # doctest: +SKIP
        >>> [c.text for c in t.cues[:2]]  # doctest: +SKIP
        ['Good evening.', 'Tonight: vaccines.']

    """

    cues: list[Cue]
    source: str
    encoding: str | None = None
    n_skipped: int = 0
    n_deduplicated: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Parsed:
    """What a format parser hands to :func:`build_transcript`."""

    cues: list[tuple[float, float, str]] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- markup

_ASS_BLOCK_RE = re.compile(r"\{[^{}]*\}")
_ASS_BREAK_RE = re.compile(r"\\[Nnh]")
_VTT_TIMESTAMP_TAG_RE = re.compile(r"<\d{1,2}(?::\d{2}){1,2}[.,]\d{1,3}>")
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|</>")
_SOUND_TAG_RE = re.compile(r"\[[^\[\]]*\]|【[^【】]*】|［[^［］]*］|♪|♫|♬")
_SPEAKER_DASH_RE = re.compile(r"^\s*(?:>>+|--?|[–—])\s*")
_SPEAKER_LABEL_RE = re.compile(r"^\s*[A-Z][A-Z0-9 .'’-]{1,30}:\s+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_WS_RE = re.compile(r"\s+")
_MARKUP_CHARS_RE = re.compile(r"[<>{}]")
# Rounds of tag and entity removal after which markup is taken to be hostile: real
# subtitles need two (an escaped tag: unescape, then strip).
_MAX_MARKUP_ROUNDS = 8


def clean_markup(text: str) -> str:
    r"""Return the spoken words of a cue, without markup.

    Removes HTML-style tags (``<i>``, ``<font color=..>``, WebVTT ``<c>``,
    ``<v Speaker>`` and inline ``<00:00:01.500>`` timestamps), ASS override and
    positioning blocks (``{\an8}``, ``{\pos(10,20)}``, ``{\i1}``), ASS line
    breaks (``\N``, ``\n``, ``\h``), HTML entities (``&amp;`` becomes ``&``),
    sound tags in square brackets (``[Music]``, ``【音乐】``) and music signs, and
    at the start of each line speaker dashes (``- ``, ``-- ``, ``–``), caption
    speaker markers (``>>``) and upper-case speaker labels (``JOHN:``).
    Whitespace is collapsed to single spaces.

    Tags and entities are removed until none is left, so that neither an escaped
    tag (``&lt;b&gt;``) nor a tag hidden inside another (``<scr<b>ipt>``) comes
    out as a tag; the result is a fixed point (cleaning it again changes nothing).

    Example:
        >>> clean_markup(r"{\an8}<i>- Hello</i>\N- [Music] &amp; you")
        'Hello & you'
        >>> clean_markup("&lt;scr<b>ipt&gt;alert(1)")
        'alert(1)'

    """
    text = _strip_tags_and_entities(text)
    text = _SOUND_TAG_RE.sub(" ", text)
    lines = []
    for line in text.splitlines():
        line = _SPEAKER_DASH_RE.sub("", line)
        line = _SPEAKER_LABEL_RE.sub("", line)
        lines.append(line)
    return _WS_RE.sub(" ", " ".join(lines)).strip()


def _strip_tags_and_entities(text: str) -> str:
    for _ in range(_MAX_MARKUP_ROUNDS):
        stripped = _ASS_BLOCK_RE.sub("", text)
        stripped = _ASS_BREAK_RE.sub("\n", stripped)
        stripped = _VTT_TIMESTAMP_TAG_RE.sub("", stripped)
        stripped = _HTML_TAG_RE.sub("", stripped)
        stripped = html.unescape(stripped)
        stripped = _INVISIBLE_RE.sub("", stripped)
        if stripped == text:
            return text
        text = stripped
    # Nested deeper than any real subtitle: drop every angle bracket and brace left,
    # which no entity can bring back, rather than loop once per level.
    return _MARKUP_CHARS_RE.sub("", text)


# --------------------------------------------------------------------------- encoding


def codec_name(encoding: str) -> str:
    """Return Python's name of the codec ``encoding`` names (``latin-1`` → ``iso8859-1``).

    Raises:
        ConfigError: No codec has that name.
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError as ex:
        raise ConfigError(f"unknown subtitle encoding {encoding!r}") from ex


def _decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """Return the text of ``data`` and the codec name it was decoded with."""
    if encoding is not None:
        codec = codec_name(encoding)
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as ex:
            raise SubtitleParseError(
                f"{path} is not valid {encoding}: byte {ex.start} "
                f"({data[ex.start : ex.start + 1]!r}) cannot be decoded; "
                "leave the encoding out to detect it"
            ) from ex
        return text.removeprefix("\ufeff"), codec
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec).removeprefix("\ufeff"), codec
            except UnicodeDecodeError:
                break
    # Before UTF-8: UTF-16 text in a Latin script is valid UTF-8 too, full of NULs.
    sniffed = _utf16_without_bom(data)
    if sniffed is not None:
        return sniffed
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise SubtitleParseError(
            f"{path} is not text in any encoding charset-normalizer knows (a binary file?); "
            "give the encoding explicitly if it is text"
        )
    codec = codecs.lookup(best.encoding).name
    codec = _ENCODING_ALIASES.get(codec, codec)
    if codec in _EAST_ASIAN_CODECS:
        codec = _best_east_asian(data, codec)
    return data.decode(codec, errors="replace").removeprefix("\ufeff"), codec


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Return the text and codec of UTF-16 ``data`` without a byte-order mark, else None.

    Text in a Latin script has a NUL as the high byte of nearly every character:
    at odd offsets in little-endian, at even offsets in big-endian, and almost
    never at the other parity. A decoding is accepted only if it is clean and
    printable, so binary data full of zeros is not taken for text.
    """
    sample = data[:_UTF16_SNIFF_BYTES]
    if len(sample) < 4 or len(data) % 2:
        return None
    n_pairs = len(sample) // 2
    nul_even = sample[0::2].count(0) / n_pairs
    nul_odd = sample[1::2].count(0) / n_pairs
    if nul_odd >= _UTF16_NUL_SHARE and nul_even <= _UTF16_STRAY_NUL_SHARE:
        codec = "utf-16-le"
    elif nul_even >= _UTF16_NUL_SHARE and nul_odd <= _UTF16_STRAY_NUL_SHARE:
        codec = "utf-16-be"
    else:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    n_printable = sum(char.isprintable() or char.isspace() for char in text[:_UTF16_SNIFF_BYTES])
    if "\x00" in text or n_printable < _UTF16_PRINTABLE_SHARE * min(len(text), _UTF16_SNIFF_BYTES):
        return None
    return text, codec


def _best_east_asian(data: bytes, guess: str) -> str:
    """Return the East Asian codec whose decoding of ``data`` reads most like real text.

    charset-normalizer needs a few hundred characters to tell GBK from Big5 or
    Korean: a short GBK file ("大家好") comes back as Big5 or CP949. Each
    candidate that decodes the bytes cleanly is scored by the share of its
    non-ASCII characters that are among the most frequent characters of
    Chinese, Japanese and Korean; a wrong codec yields rare characters.
    """
    best_codec, best_score = guess, -1.0
    for codec in dict.fromkeys((guess, *_EAST_ASIAN_CANDIDATES)):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        wide = [c for c in text if ord(c) > 0x7F]
        score = sum(c in _COMMON_CJK for c in wide) / len(wide) if wide else 0.0
        if score > best_score:
            best_codec, best_score = codec, score
    if best_codec != guess:
        logger.debug("encoding %s read better than charset-normalizer's %s", best_codec, guess)
    return best_codec


# --------------------------------------------------------------------------- sniffing


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


# --------------------------------------------------------------------------- parsers


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


# --------------------------------------------------------------------------- clean-up


def _units(text: str) -> list[str]:
    """Split cleaned text into units: CJK characters one by one, other words at spaces."""
    units: list[str] = []
    for word in text.split():
        run = ""
        for char in word:
            if is_cjk(char):
                if run:
                    units.append(run)
                    run = ""
                units.append(char)
            else:
                run += char
        if run:
            units.append(run)
    return units


def _normal(unit: str) -> str:
    """Return ``unit`` as compared for rolling-caption repeats (case and punctuation ignored)."""
    return unit.casefold().strip(".,!?;:'\"()-…，。？！、；：“”‘’")


def _overlap(prev_units: Sequence[str], next_units: Sequence[str]) -> int:
    """Return how many leading units of ``next_units`` repeat the tail of ``prev_units``."""
    prev_norm = [_normal(u) for u in prev_units]
    next_norm = [_normal(u) for u in next_units]
    for k in range(min(len(prev_norm), len(next_norm)), 0, -1):
        if prev_norm[-k:] == next_norm[:k]:
            if k >= ROLLING_MIN_WORDS or k == len(prev_norm):
                return k
            return 0
    return 0


def _drop_units(text: str, k: int) -> str:
    """Return ``text`` without its first ``k`` units, keeping the rest's spacing."""
    pos = 0
    for unit in _units(text)[:k]:
        pos = text.index(unit, pos) + len(unit)
    return text[pos:].strip()


def _is_rolling(cues: Sequence[tuple[float, float, str, str]]) -> bool:
    """Return True when enough time-adjacent cue pairs repeat words to be rolling captions."""
    n_adjacent = n_repeating = 0
    for (_, prev_end, prev_text, _), (start, _, text, _) in itertools.pairwise(cues):
        if start - prev_end > ROLLING_GAP_S:
            continue
        n_adjacent += 1
        if _overlap(_units(prev_text), _units(text)) > 0:
            n_repeating += 1
    return n_repeating >= max(ROLLING_MIN_PAIRS, ROLLING_MIN_SHARE * n_adjacent)


def _dedupe_rolling(
    cues: list[tuple[float, float, str, str]],
) -> tuple[list[tuple[float, float, str, str]], int]:
    """Remove the words each rolling cue repeats from the cue shown just before it."""
    out: list[tuple[float, float, str, str]] = []
    n_deduplicated = 0
    shown_before = ""  # the previous cue's full text, as it was on screen
    for start, end, text, raw in cues:
        shown = text
        if out and start - out[-1][1] <= ROLLING_GAP_S:
            k = _overlap(_units(shown_before), _units(text))
            if k:
                n_deduplicated += 1
                text = _drop_units(text, k)
                if not text:
                    # Nothing new: the cue only prolongs the one before.
                    prev_start, prev_end, prev_text, prev_raw = out[-1]
                    out[-1] = (prev_start, max(prev_end, end), prev_text, prev_raw)
                    shown_before = shown
                    continue
        out.append((start, end, text, raw))
        shown_before = shown
    return out, n_deduplicated


def _reasons_warning(label: str, reasons: Sequence[str]) -> str:
    quoted = "; ".join(reasons[:N_REASONS_QUOTED])
    more = (
        f"; and {len(reasons) - N_REASONS_QUOTED} more" if len(reasons) > N_REASONS_QUOTED else ""
    )
    return f"{label}: skipped {len(reasons)} unreadable cue(s): {quoted}{more}"


def _timing_problem(index: int, start_s: float, end_s: float) -> str | None:
    """Why cue ``index`` (from 0) cannot be placed in the video, or None when it can."""
    if not (math.isfinite(start_s) and math.isfinite(end_s)):
        return f"cue {index + 1}: time is not a finite number"
    if end_s < start_s:
        return f"cue {index + 1}: ends ({end_s:.3f} s) before it starts ({start_s:.3f} s)"
    if start_s < 0 and end_s <= 0:
        return f"cue {index + 1}: ends before the video starts ({end_s:.3f} s)"
    return None


def build_transcript(
    raw_cues: Iterable[tuple[float, float, str]],
    *,
    source: str,
    duration_s: float | None,
    encoding: str | None = None,
    skip_reasons: Sequence[str] = (),
    warnings: Sequence[str] = (),
    label: str = "transcript",
) -> Transcript:
    """Turn raw ``(start_s, end_s, text_raw)`` triples into a clean :class:`Transcript`.

    This is the clean-up every source shares (see the module docstring). Rolling
    captions are recognised per file: when at least :data:`ROLLING_MIN_SHARE` of
    the pairs of cues that follow each other within :data:`ROLLING_GAP_S` repeat
    the earlier cue's last words at their start (two words or more, or the whole
    earlier cue), the repeats are removed; in any other file a phrase said twice
    stays twice. Repeats are never removed across a gap in time.

    Args:
        raw_cues: Cue times in seconds and the text as found in the source.
        source: One of :data:`SOURCES`.
        duration_s: Video duration; cues past it are dropped or clipped. None
            keeps all.
        encoding: Recorded in the result.
        skip_reasons: One line per cue the parser could not read.
        warnings: Warnings the parser already has.
        label: Names the input in warnings (usually the file path).

    Returns:
        The transcript, cues sorted by start time.

    Example:
        >>> rolling = [(0.0, 2.0, "a b c"), (2.0, 4.0, "b c d e"), (4.0, 6.0, "d e f")]
        >>> t = build_transcript(rolling, source="vtt", duration_s=None)
        >>> [c.text for c in t.cues], t.n_deduplicated
        (['a b c', 'd e', 'f'], 2)

    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    reasons = list(skip_reasons)
    out_warnings = list(warnings)
    n_moved_to_zero = n_no_words = 0
    kept: list[tuple[float, float, str, str]] = []
    for i, (start_s, end_s, raw) in enumerate(raw_cues):
        problem = _timing_problem(i, start_s, end_s)
        if problem is not None:
            reasons.append(problem)
            continue
        if start_s < 0:
            start_s = 0.0
            n_moved_to_zero += 1
        text = clean_markup(raw)
        if not text:
            n_no_words += 1
            continue
        kept.append((float(start_s), float(end_s), text, raw.strip()))
    if n_no_words:
        logger.debug(
            "%s: %d cue(s) without words (empty or sound tags only) left out", label, n_no_words
        )
    if n_moved_to_zero:
        out_warnings.append(f"{label}: {n_moved_to_zero} cue(s) started before 0 s; moved to 0 s")

    n_out_of_order = sum(1 for a, b in itertools.pairwise(kept) if b[0] < a[0])
    if n_out_of_order:
        out_warnings.append(
            f"{label}: {n_out_of_order} cue(s) were out of order; sorted by start time"
        )
    kept.sort(key=lambda c: (c[0], c[1]))

    # Zero-length cues (common in rolling captions) last until the next cue starts.
    n_zero = 0
    for i, (start_s, end_s, text, raw) in enumerate(kept):
        if end_s <= start_s:
            n_zero += 1
            later = [c[0] for c in kept[i + 1 :] if c[0] > start_s]
            end_s = (
                min(later[0], start_s + ZERO_LENGTH_CUE_S) if later else start_s + ZERO_LENGTH_CUE_S
            )
            kept[i] = (start_s, end_s, text, raw)
    if n_zero:
        logger.debug("%s: %d zero-length cue(s) extended", label, n_zero)

    n_overlapping = sum(1 for a, b in itertools.pairwise(kept) if b[0] < a[1])
    if n_overlapping:
        logger.info("%s: %d cue(s) overlap the one before; kept", label, n_overlapping)

    n_deduplicated = 0
    if _is_rolling(kept):
        kept, n_deduplicated = _dedupe_rolling(kept)
        logger.info(
            "%s: rolling captions; removed repeated words from %d cue(s)", label, n_deduplicated
        )

    if duration_s is not None:
        n_dropped = sum(1 for c in kept if c[0] >= duration_s)
        n_clipped = sum(1 for c in kept if c[0] < duration_s < c[1])
        kept = [(s, min(e, duration_s), t, r) for s, e, t, r in kept if s < duration_s]
        # Only the counts that are not 0: "0 cue(s) ... were dropped" reads as if some were.
        past_end = [
            f"{n} {what}"
            for n, what in (
                (n_dropped, "cue(s) started after it and were dropped"),
                (n_clipped, "cue(s) ran past it and were clipped"),
            )
            if n
        ]
        if past_end:
            out_warnings.append(
                f"{label}: the video ends at {duration_s:.2f} s; {'; '.join(past_end)}"
            )
    if reasons:
        out_warnings.insert(0, _reasons_warning(label, reasons))
    cues = [Cue(s, e, t, r) for s, e, t, r in kept]
    if not cues:
        out_warnings.append(f"{label}: no cues with text; continuing without text (image only)")
    return Transcript(
        cues=cues,
        source=source,
        encoding=encoding,
        n_skipped=len(reasons),
        n_deduplicated=n_deduplicated,
        warnings=out_warnings,
    )


# --------------------------------------------------------------------------- public readers


def _check_duration(duration_s: float | None) -> None:
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise ConfigError(f"duration_s must be a positive number of seconds, got {duration_s}")


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
    if fmt in ("srt", "vtt"):
        parsed = _parse_srt_vtt(text, fmt)
    elif fmt == "ass":
        parsed = _parse_ass(text)
    elif fmt == "youtube-json":
        parsed = _parse_youtube_json(text, path)
    elif fmt == "youtube-csv":
        parsed = _parse_csv(text, path)
    else:
        parsed = _parse_plain(text, path, duration_s)
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


def _ass_text(ass: str) -> str:
    """Return the Text field of an ffmpeg ASS event line ("ReadOrder,Layer,Style,...,Text")."""
    if ass.startswith("Dialogue:"):  # ffmpeg before 3.x: a whole Dialogue line, 9 fields first
        return ass.split(",", 9)[-1]
    return ass.split(",", 8)[-1]


def read_embedded_subtitles(
    video_path: str | Path, *, duration_s: float | None
) -> Transcript | None:
    """Read the first text subtitle stream muxed into a video container.

    Cue times are measured from the video stream's first timestamp, as frame
    times are, so a container whose streams start late keeps text and frames
    in step.

    Args:
        video_path: An MP4/MKV/MOV/WebM file.
        duration_s: The video's duration for dropping and clipping cues, or None.

    Returns:
        The transcript (source "embedded"), or None when the container holds no
        text subtitle stream (bitmap subtitles such as DVD or PGS are not text).

    Raises:
        VideoOpenError: The file cannot be opened as a media container.

    Example:
        >>> t = read_embedded_subtitles("interview.mkv", duration_s=600.0)  # doctest: +SKIP
        >>> t is None or t.source == "embedded"  # doctest: +SKIP
        True

    """
    import av
    from av.subtitles.subtitle import AssSubtitle

    path = Path(video_path)
    _check_duration(duration_s)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as ex:
        raise VideoOpenError(f"cannot open {path} to look for subtitle streams: {ex}") from ex
    with container:
        streams = [s for s in container.streams.subtitles if s.codec_context.codec.text_sub]
        n_bitmap = len(container.streams.subtitles) - len(streams)
        if not streams:
            if n_bitmap:
                logger.info("%s has only bitmap subtitle streams, which hold no text", path)
            return None
        stream = streams[0]
        logger.info(
            "reading embedded %s subtitle stream #%d (language %s) of %s",
            stream.codec_context.name,
            stream.index,
            stream.metadata.get("language", "unknown"),
            path,
        )
        video = container.streams.video
        video_start_s = stream_start_s(container, video[0]) if video else 0.0
        raw: list[tuple[float, float, str]] = []
        reasons: list[str] = []
        for packet in container.demux(stream):
            if packet.size == 0 or packet.pts is None or packet.time_base is None:
                continue
            packet_s = float(packet.pts * packet.time_base) - video_start_s
            try:
                subtitle = stream.codec_context.decode2(packet)
            except av.error.FFmpegError as ex:
                reasons.append(f"packet at {packet_s:.2f} s: {ex}")
                continue
            if subtitle is None:
                continue  # mov_text writes empty packets for gaps between cues
            texts = []
            for rect in subtitle.rects:
                if not isinstance(rect, AssSubtitle):
                    continue  # a bitmap rect inside a text stream carries no words
                if rect.type == b"ass":
                    texts.append(_ass_text(rect.ass.decode("utf-8", errors="replace")))
                else:
                    texts.append(rect.text.decode("utf-8", errors="replace"))
            start_s = packet_s + subtitle.start_display_time / 1000.0
            if packet.duration:
                end_s = packet_s + float(packet.duration * packet.time_base)
            else:
                end_s = packet_s + subtitle.end_display_time / 1000.0
            raw.append((start_s, end_s, "\n".join(t.replace("\\N", "\n") for t in texts)))
    return build_transcript(
        raw,
        source="embedded",
        duration_s=duration_s,
        skip_reasons=reasons,
        label=f"{path} (subtitle stream #{stream.index})",
    )
