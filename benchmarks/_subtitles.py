"""The cues of the real SRT and WebVTT files that the benchmarks cut and join."""

from __future__ import annotations

import re
from pathlib import Path

# SRT writes "00:01:02,500", WebVTT "01:02.500" (the hours optional).
CUE_TIME = re.compile(r"(?:(\d+):)?(\d+):(\d+)[,.](\d+)\s*-->\s*(?:(\d+):)?(\d+):(\d+)[,.](\d+)")


def _seconds(h: str | None, m: str, s: str, fraction: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(fraction) / 10 ** len(fraction)


def read_cues(path: Path) -> list[tuple[float, float, list[str]]]:
    """The (start_s, end_s, text lines) of each cue of an SRT or WebVTT file.

    A cue's number or id before its times, and the settings after them, are dropped;
    blocks without times (WebVTT's header and notes) are skipped.
    """
    cues = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8-sig")):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            match = CUE_TIME.search(line)
            if match:
                g = match.groups()
                cues.append((_seconds(*g[:4]), _seconds(*g[4:]), lines[i + 1 :]))
                break
    return cues


def srt_time(t: float) -> str:
    """``t`` seconds as an SRT time, "HH:MM:SS,mmm"."""
    ms = round(t * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def cut_srt(source: Path, target: Path, duration_s: float) -> int:
    """Copy the cues of ``source`` that start before ``duration_s``; return how many."""
    blocks = []
    for start, cue_end, lines in read_cues(source):
        end = min(cue_end, duration_s)
        text = "\n".join(lines).strip()
        if start < end and text:
            blocks.append(f"{srt_time(start)} --> {srt_time(end)}\n{text}\n")
    target.write_text("\n".join(f"{i}\n{b}" for i, b in enumerate(blocks, 1)), encoding="utf-8")
    return len(blocks)
