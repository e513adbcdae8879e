"""The ingest stage's settings, declared once (kept apart from the stage so the CLI loads fast)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from themescope._config import Settings, setting

LANG_CHOICES = ("auto", "en", "zh")
ALIGN_SCHEMES = ("window", "nearest")
OCR_MODES = ("auto", "off")


@dataclass(frozen=True)
class IngestConfig(Settings):
    """Settings of the ingest stage (each field's range and help are declared beside it).

    Example:
        >>> IngestConfig(every_s=1.0).every_s
        1.0
    """

    section: ClassVar[str] = "ingest"

    every_s: float = setting(
        2.0,
        kind="float",
        low=0,
        low_open=True,
        flag="--every",
        help="Seconds between sampled frames (the paper sampled every 2 s).",
    )
    frame_height: int = setting(
        360,
        kind="int",
        low=32,
        high=4320,
        flag="--frame-height",
        help="Height in pixels of the stored JPEG frames (360 leaves room for the model's "
        "120x200 input and the report's thumbnails).",
    )
    jpeg_quality: int = setting(
        90, kind="int", low=1, high=95, help="JPEG quality of the stored frames."
    )
    lang: str = setting(
        "auto",
        kind="str",
        choices=LANG_CHOICES,
        flag="--lang",
        help="Language of the text; auto detects it from the characters.",
    )
    align: str = setting(
        "window",
        kind="str",
        choices=ALIGN_SCHEMES,
        flag="--align",
        help="How text is given to frames: window (the words spoken in [t - every/2, "
        "t + every/2)) or nearest (the paper's).",
    )
    subtitle_encoding: str | None = setting(
        None,
        kind="str",
        optional=True,
        flag="--subtitle-encoding",
        help="Encoding of the subtitle file; none detects it.",
    )
    asr_model: str | None = setting(
        None,
        kind="path",
        optional=True,
        flag="--asr-model",
        help="Local faster-whisper model folder, used when no other text exists.",
    )
    embedded_subtitles: bool = setting(
        True,
        kind="bool",
        flag="--embedded-subtitles",
        help="Whether to read a subtitle stream from the container.",
    )
    n_threads: int = setting(
        0,
        kind="int",
        low=0,
        category="runtime",
        help="Threads for decoding and reading on-screen text (0: automatic, every core). "
        "A study's parallel workers take 1 each, so that they do not fight over the cores.",
    )
    ocr: str = setting(
        "auto",
        kind="str",
        choices=OCR_MODES,
        flag="--ocr",
        help="Read on-screen text (headlines, name straps) from the frames: auto when the "
        "rapidocr package is installed, off never.",
    )


__all__ = ["ALIGN_SCHEMES", "LANG_CHOICES", "OCR_MODES", "IngestConfig"]
