r"""On-screen text (headlines, captions, name straps) read from sampled frames, offline.

:class:`OnScreenTextReader` wraps rapidocr (PP-OCRv6 small text detection and
recognition for Chinese and English, run by onnxruntime). Both models are inside the
rapidocr wheel; the reader names the files explicitly, checks their checksums and never
lets rapidocr fetch anything (it would download a model whose file is missing or whose
checksum differs). The text-angle classifier is not used: broadcast text is upright.

Reading every frame blindly would be slow, so the reader reuses what it already read:

- A frame whose 1/4-size greyscale thumbnail barely differs from that of the last frame
  the detector saw (:data:`CHANGED_PIXEL_SHARE`) gets that frame's lines without
  detection or recognition (a static shot, a weather map, a studio).
- So does a frame in which every line of the last detected frame is still shown (same
  pixels at the same place: a headline band while the camera moves), unless the detector
  last ran ``detect_every`` frames ago (text appearing beside text that stays is found at
  most that late).
- Otherwise the detector finds the text boxes (at most ``det_max_side`` pixels on the long
  side), and a box whose place and pixels match a line read recently (a channel logo, a
  headline back after a cut) reuses that line's text; only new or changed boxes are
  recognised, in one batch per frame, from the full-size frame.

Text that stays on screen for most of the video (a channel bug, a programme logo, a clock)
is *boilerplate*: the same text at about the same place in at least ``boilerplate_share``
of the frames and at least ``boilerplate_min_frames`` frames, where readings that differ
by a misread letter or two are the same text
(:func:`~themescope.media.furniture.same_text`; digits count as one symbol, so a clock
is one text). It is listed once in :attr:`OnScreenText.boilerplate`, as its commonest
reading, and left out of each frame's ``text``; the frame's ``lines`` still hold it. So
are lines that are no words (misreads, fragments, text cut by the frame's edge, a video
player's overlay: :func:`~themescope.media.furniture.noise_reason`).

Storage in ``frames.parquet`` (written by :func:`add_ocr_columns`, one row per frame):

- ``ocr_text`` (string): the frame's lines that are neither boilerplate nor noise, in reading order
  (top to bottom, then left to right), joined by ``"\n"``; ``""`` when there are none.
- ``ocr_lines`` (list<struct<text: string, box: list<float32>, confidence: float32>>):
  every line read in the frame, boilerplate included, in reading order; ``box`` is
  ``[x0, y0, x1, y1]`` in pixels of the stored frame (origin top-left), ``confidence`` the
  recogniser's mean character probability in [0, 1].

Example:
    >>> reader = OnScreenTextReader()
    >>> found = reader.read([frame_a, frame_b], [0.0, 2.0])  # doctest: +SKIP
    >>> found.frames[0].text, [b.text for b in found.boilerplate]  # doctest: +SKIP
    ('WIND CLIMATE STORM', ['TS NEWS'])
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from themescope import _progress, registry
from themescope.components import Component
from themescope.devices import usable_cores
from themescope.errors import ConfigError, ModelLoadError, ThemescopeError
from themescope.media.furniture import (
    NOISE_REASONS,
    noise_reason,
    normalized,
    same_key,
    same_text,
    transcript_words,
)

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("themescope")

PACKAGE = "rapidocr==3.10.0"
"""The pinned OCR package whose bundled models the reader uses (named in repair hints)."""

NOT_INSTALLED = f"on-screen text not read: rapidocr is not installed (pip install {PACKAGE})"
"""The warning a run records when ``--ocr auto`` finds no OCR package."""

MODEL_FILES = {
    "det": (
        "PP-OCRv6_det_small.onnx",
        "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
    ),
    "rec": (
        "PP-OCRv6_rec_small.onnx",
        "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
    ),
}
"""File name and SHA-256 of the detection and recognition models inside the rapidocr wheel."""

MIN_FRAME_PX = 16
"""Frames with a side shorter than this cannot hold legible text and are not read."""

MIN_LINE_CHARS = 2
"""Lines with fewer letters or digits are dropped: on real footage a lone character is
nearly always a misread edge (a map marker read as "I" or "0"), never a headline."""

THUMBNAIL_SCALE = 4
PIXEL_CHANGE_LEVEL = 16
CHANGED_PIXEL_SHARE = 0.002
"""A frame is unchanged when under 0.2 % of its 1/4-size greyscale thumbnail's pixels differ
by more than 16 grey levels from the last detected frame's: a digit changing in a clock
changes about that much, camera noise and JPEG artefacts far less."""

BOX_IOU_TO_REUSE = 0.6
CORE_MARGIN = 0.2
SAME_PIXELS_MAX_DIFF = 10.0
"""A detected box reuses a line read before when the boxes overlap by IoU >= 0.6 and the
frame's grey pixels in the old box's core (the box less 20 % of its height on every side,
since the detector's margin shows the moving background) differ from the old ones by at
most 10 grey levels on average. The comparison is at the old box's place, not of rescaled
crops, so a detector box that moves by a pixel or two does not count as a change."""

RECENT_LINES = 256
"""How many recently read lines are kept for reuse (shots cutting back and forth)."""

BOILERPLATE_BOX_IOU = 0.5


@dataclass(frozen=True)
class TextLine:
    """One line of text read in a frame.

    Attributes:
        text: The recognised text.
        box: ``(x0, y0, x1, y1)`` in pixels of the frame that was read.
        confidence: The recogniser's confidence in [0, 1].
    """

    text: str
    box: tuple[float, float, float, float]
    confidence: float


@dataclass(frozen=True)
class FrameText:
    """The on-screen text of one frame.

    Attributes:
        time_s: Time of the frame in the video.
        text: Lines that are neither boilerplate nor noise, in reading order, joined by
            newlines.
        lines: Every line read, boilerplate included, in reading order.
        reused: True when the frame looked unchanged and took the previous frame's lines.
    """

    time_s: float
    text: str
    lines: tuple[TextLine, ...]
    reused: bool


@dataclass(frozen=True)
class BoilerplateText:
    """Text on screen for most of the video (a channel bug, a programme logo, a clock).

    Attributes:
        text: The text, as read most often.
        box: Its usual place, ``(x0, y0, x1, y1)`` in pixels (the median of its boxes).
        n_frames: In how many frames it was read.
        share: ``n_frames`` over the number of frames read.
    """

    text: str
    box: tuple[float, float, float, float]
    n_frames: int
    share: float


@dataclass(frozen=True)
class OnScreenText:
    """What :meth:`OnScreenTextReader.read` found in a sequence of frames.

    Attributes:
        frames: One entry per input frame, in input order.
        boilerplate: Text on screen for most of the video, each listed once.
        n_frames_ocred: Frames the text detector ran on.
        n_frames_reused: Frames that looked unchanged and reused the previous result.
        n_frames_too_small: Frames with a side under :data:`MIN_FRAME_PX` (no text read).
        n_lines_recognized: Text boxes the recogniser read.
        n_lines_reused: Text boxes that reused a line read before (same place, same pixels).
        n_lines_noise: Lines left out of the frames' text as no words, by reason
            (:func:`themescope.media.furniture.noise_reason`; each line once per frame).
        seconds: Wall time of the reading, model loading included.
    """

    frames: tuple[FrameText, ...]
    boilerplate: tuple[BoilerplateText, ...]
    n_frames_ocred: int
    n_frames_reused: int
    n_frames_too_small: int
    n_lines_recognized: int
    n_lines_reused: int
    seconds: float
    n_lines_noise: dict[str, int] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """Return the run-level summary to store in the manifest (JSON-serialisable)."""
        return {
            "n_frames_ocred": self.n_frames_ocred,
            "n_frames_reused": self.n_frames_reused,
            "n_frames_too_small": self.n_frames_too_small,
            "n_lines_recognized": self.n_lines_recognized,
            "n_lines_reused": self.n_lines_reused,
            "n_frames_with_text": sum(1 for f in self.frames if f.text),
            "boilerplate": [
                {
                    "text": b.text,
                    "box": [round(v, 1) for v in b.box],
                    "n_frames": b.n_frames,
                    "share": round(b.share, 3),
                }
                for b in self.boilerplate
            ],
            "n_lines_noise": dict(self.n_lines_noise),
            "seconds": round(self.seconds, 3),
        }


def ocr_available() -> bool:
    """Return True when the OCR library and its runtime are installed (``--ocr auto`` is on)."""
    return all(importlib.util.find_spec(name) is not None for name in ("rapidocr", "onnxruntime"))


def resolve_reader(
    mode: str, reader: OnScreenTextReader | None = None
) -> OnScreenTextReader | None:
    """Return the loaded reader that ``--ocr MODE`` asks for, or None when no text is read.

    ``"off"`` reads nothing. ``"auto"`` uses ``reader`` (by default the first registered
    OCR reader that can run here, with its defaults: an :class:`OnScreenTextReader` when
    rapidocr is installed; None when none can). The reader is loaded here, so a broken
    install fails before any frame is sampled.

    Raises:
        ConfigError: ``mode`` is not one of :data:`~themescope.media.config.OCR_MODES`.
        ModelLoadError: A model file is missing or corrupt, or ``reader`` was given but
            rapidocr is not installed.
    """
    from themescope.media.config import OCR_MODES

    if mode not in OCR_MODES:
        raise ConfigError(f"--ocr must be one of {', '.join(OCR_MODES)}. Got {mode!r} instead.")
    if mode == "off":
        return None
    if reader is None:
        readers = (registry.get("ocr reader", name) for name in registry.names("ocr reader"))
        usable = next((found for found in readers if found.available().ok), None)
        if usable is None:
            return None
        reader = usable.factory()
    return reader.load()


def bundled_model_dir() -> Path:
    """Return the folder of the models inside the installed rapidocr package.

    Raises:
        ModelLoadError: rapidocr is not installed.
    """
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise ModelLoadError(f"on-screen text needs the rapidocr package: pip install {PACKAGE}")
    return Path(spec.origin).parent / "models"


class OnScreenTextReader(Component):
    """Reads the text shown in video frames (English and Chinese), reusing what did not change.

    Args:
        det_max_side: Longest side, in pixels, of the image the text detector sees
            (frames are scaled down to it; text is recognised from the full-size frame).
        min_confidence: Lines recognised with a lower confidence are dropped.
        boilerplate_share: Share of frames (0–1] a text must appear in to be boilerplate.
        boilerplate_min_frames: Fewest frames a text must appear in to be boilerplate.
        drop_noise: Leave lines that are no words (misreads, fragments, text cut by the
            frame's edge, a player's overlay: :func:`~themescope.media.furniture.noise_reason`)
            out of each frame's ``text``, as boilerplate is; False keeps them there.
        reuse: Reuse unchanged frames and boxes (False reads every frame in full).
        detect_every: The detector runs at least on every ``detect_every``-th frame; in
            between, a frame where every line of the last detected frame is still shown
            (same pixels at the same place) reuses those lines. Text that appears beside
            text that stays is thus found up to ``detect_every - 1`` frames late; 1 runs
            the detector on every frame that changed.
        n_threads: onnxruntime threads per model; None: the usable cores
            (:func:`themescope.devices.usable_cores`; onnxruntime alone counts the host's).
        model_dir: Folder holding the model files of :data:`MODEL_FILES`; None uses the
            ones inside the installed rapidocr package.

    Example:
        >>> reader = OnScreenTextReader(det_max_side=512)
        >>> found = reader.read(["frames/000000.jpg"], [0.0])  # doctest: +SKIP
        >>> found.frames[0].lines[0].text  # doctest: +SKIP
        'SUMMER COVID SURGE'
    """

    engine_: Any = None
    """The loaded rapidocr engine (set by :meth:`load`)."""

    def __init__(
        self,
        *,
        det_max_side: int = 512,
        min_confidence: float = 0.5,
        boilerplate_share: float = 0.5,
        boilerplate_min_frames: int = 5,
        drop_noise: bool = True,
        reuse: bool = True,
        detect_every: int = 3,
        n_threads: int | None = None,
        model_dir: str | Path | None = None,
    ) -> None:
        self.det_max_side = det_max_side
        self.min_confidence = min_confidence
        self.boilerplate_share = boilerplate_share
        self.boilerplate_min_frames = boilerplate_min_frames
        self.drop_noise = drop_noise
        self.reuse = reuse
        self.detect_every = detect_every
        self.n_threads = n_threads
        self.model_dir = model_dir

    def get_params(self) -> dict[str, Any]:
        """The parameters that decide what is read: all but ``n_threads``.

        Threads change how fast the models run, not the text they read, so a run read with
        one thread (a study's parallel worker) is as current as one read with every core.
        """
        params = super().get_params()
        params.pop("n_threads", None)
        return params

    def _check_params(self) -> None:
        # Each parameter, what breaks its rule, and the rule in words; checked in order.
        rules: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
            ("det_max_side", lambda v: not 64 <= v <= 4096, "an int in the range [64, 4096]"),
            ("min_confidence", lambda v: not 0.0 <= v <= 1.0, "in [0, 1]"),
            ("boilerplate_share", lambda v: not 0.0 < v <= 1.0, "in (0, 1]"),
            ("detect_every", lambda v: v < 1, ">= 1"),
            ("boilerplate_min_frames", lambda v: v < 1, ">= 1"),
        )
        for name, breaks, rule in rules:
            value = getattr(self, name)
            if breaks(value):
                raise ConfigError(
                    f"The '{name}' parameter of OnScreenTextReader must be {rule}. "
                    f"Got {value} instead."
                )

    def load(self) -> OnScreenTextReader:
        """Check and load the models (done by :meth:`read` when needed); return self.

        Raises:
            ConfigError: A parameter is out of range.
            ModelLoadError: rapidocr is not installed, or a model file is missing or corrupt.
        """
        if self.engine_ is not None:
            return self
        self._check_params()
        folder = Path(self.model_dir) if self.model_dir is not None else bundled_model_dir()
        paths = {
            task: _checked_model(folder / name, sha) for task, (name, sha) in MODEL_FILES.items()
        }
        try:
            from rapidocr import RapidOCR
        except ImportError as exc:
            raise ModelLoadError(
                f"on-screen text needs the rapidocr package: pip install {PACKAGE} ({exc})"
            ) from exc
        threads = usable_cores() if self.n_threads is None else int(self.n_threads)
        params = {
            "Global.use_cls": False,
            "Global.log_level": "error",
            # Explicit paths: with them rapidocr never looks for (or downloads) a model.
            "Det.model_path": str(paths["det"]),
            "Rec.model_path": str(paths["rec"]),
            "Det.limit_type": "max",
            "Det.limit_side_len": int(self.det_max_side),
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        try:
            engine = RapidOCR(params=params)
            # Load both models now, so that a broken file fails here and not mid-video.
            engine.recognize_txt([np.zeros((48, 96, 3), np.uint8)])
            engine(np.zeros((64, 64, 3), np.uint8), use_det=True, use_cls=False, use_rec=False)
        except Exception as exc:
            raise ModelLoadError(
                f"cannot load the OCR models in {folder}: {type(exc).__name__}; "
                f"reinstall the rapidocr package: pip install --force-reinstall {PACKAGE}"
            ) from exc
        self.engine_ = engine
        return self

    def read(
        self,
        images: Sequence[np.ndarray | str | Path],
        times_s: Sequence[float],
        *,
        transcript: Sequence[str] = (),
        lang: str = "en",
    ) -> OnScreenText:
        """Read the on-screen text of each frame, in order.

        Args:
            images: RGB frames, arrays of shape (height, width, 3) uint8 (greyscale
                (height, width) is accepted), or paths of image files.
            times_s: Time of each frame in seconds, same length as ``images``.
            transcript: The programme's words (cue texts): a name said there is a word
                on screen too, even where general language does not know it.
            lang: The programme's language (which word list tells words from misreads).

        Returns:
            The text of every frame, the boilerplate, and how much work was reused.

        Raises:
            ValueError: ``images`` and ``times_s`` differ in length, or an array is not an image.
            ThemescopeError: An image file cannot be read.
            ModelLoadError: See :meth:`load`.
        """
        if len(images) != len(times_s):
            raise ValueError(f"got {len(images)} images but {len(times_s)} times")
        started = time.perf_counter()
        self.load()
        state = _ReadState()
        raw: list[tuple[tuple[TextLine, ...], bool]] = []
        sizes: list[tuple[int, int]] = []
        for image in _progress.track(images, "reading on-screen text", len(images)):
            rgb = _as_rgb(image)
            sizes.append((rgb.shape[1], rgb.shape[0]))
            raw.append(self._read_one(rgb, state))
        boilerplate = _find_boilerplate(
            [lines for lines, _ in raw], self.boilerplate_share, self.boilerplate_min_frames
        )
        known = transcript_words(transcript)
        noise: dict[str, int] = dict.fromkeys(NOISE_REASONS, 0)
        frames = []
        for (lines, reused), t, size in zip(raw, times_s, sizes, strict=True):
            kept = []
            for line in lines:
                if _is_boilerplate(line, boilerplate):
                    continue
                reason = (
                    noise_reason(line.text, line.box, line.confidence, size, known, lang)
                    if self.drop_noise
                    else None
                )
                if reason is None:
                    kept.append(line.text)
                else:
                    noise[reason] += 1
            frames.append(FrameText(float(t), "\n".join(kept), lines, reused))
        found = OnScreenText(
            frames=tuple(frames),
            boilerplate=tuple(boilerplate),
            n_frames_ocred=state.n_ocred,
            n_frames_reused=state.n_reused,
            n_frames_too_small=state.n_too_small,
            n_lines_recognized=state.n_recognized,
            n_lines_reused=state.n_lines_reused,
            seconds=time.perf_counter() - started,
            n_lines_noise={reason: n for reason, n in noise.items() if n},
        )
        logger.info(
            "read on-screen text of %d frames in %.1f s (%d detected, %d reused; "
            "%d lines recognised, %d reused; %d boilerplate; %d lines no words)",
            len(frames),
            found.seconds,
            found.n_frames_ocred,
            found.n_frames_reused,
            found.n_lines_recognized,
            found.n_lines_reused,
            len(boilerplate),
            sum(noise.values()),
        )
        return found

    def _read_one(self, rgb: np.ndarray, state: _ReadState) -> tuple[tuple[TextLine, ...], bool]:
        height, width = rgb.shape[:2]
        if min(height, width) < MIN_FRAME_PX:
            state.n_too_small += 1
            state.previous = None
            return (), False
        grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.int16)
        thumbnail = _thumbnail(grey)
        previous = state.previous
        if (
            self.reuse
            and previous is not None
            and (
                _unchanged(thumbnail, previous.thumbnail)
                or (
                    previous.n_skipped < self.detect_every - 1
                    and previous.shown
                    and all(_same_pixels(grey, known) for known in previous.shown)
                )
            )
        ):
            previous.n_skipped += 1
            state.n_reused += 1
            return previous.lines, True
        bgr = np.ascontiguousarray(rgb[..., ::-1])
        detected = self.engine_(bgr, use_det=True, use_cls=False, use_rec=False)
        quads = getattr(detected, "boxes", None)
        state.n_ocred += 1
        boxes = [_bounding_box(q, width, height) for q in (quads if quads is not None else [])]
        boxes = [b for b in boxes if b[2] - b[0] >= 2 and b[3] - b[1] >= 2]
        read: list[_Remembered | None] = [None] * len(boxes)
        to_read: list[int] = []
        for i, box in enumerate(boxes):
            read[i] = state.match(grey, box) if self.reuse else None
            if read[i] is None:
                to_read.append(i)
            else:
                state.n_lines_reused += 1
        if to_read:
            recognized = self.engine_.recognize_txt([_crop(bgr, boxes[i]) for i in to_read])
            state.n_recognized += len(to_read)
            for i, text, score in zip(to_read, recognized.txts, recognized.scores, strict=True):
                read[i] = state.remember(grey, str(text).strip(), boxes[i], float(score))
        shown = [
            (TextLine(known.text, box, known.confidence), known)
            for box, known in zip(boxes, read, strict=True)
            if known is not None
            and known.confidence >= self.min_confidence
            and sum(ch.isalnum() for ch in known.text) >= MIN_LINE_CHARS
        ]
        lines = tuple(_reading_order([line for line, _ in shown]))
        state.previous = _Detected(thumbnail, lines, [known for _, known in shown])
        return lines, False


registry.register(
    "ocr reader",
    "rapidocr",
    OnScreenTextReader,
    # ocr_available is looked up at each call, so a test can stand in for a machine without it.
    available=lambda: (
        None if ocr_available() else f"needs rapidocr and onnxruntime: pip install {PACKAGE}"
    ),
    help="PP-OCRv6 small (Chinese and English) from the rapidocr wheel, on onnxruntime.",
)


@dataclass
class _Remembered:
    """A line read in an earlier frame, with the pixels of its text's core at its place."""

    text: str
    box: tuple[float, float, float, float]
    confidence: float
    core: tuple[int, int, int, int]
    pixels: np.ndarray


@dataclass
class _Detected:
    """The last frame the detector ran on."""

    thumbnail: np.ndarray
    lines: tuple[TextLine, ...]
    shown: list[_Remembered]
    n_skipped: int = 0


class _ReadState:
    """Counts and the recently read lines of one :meth:`OnScreenTextReader.read` call."""

    def __init__(self) -> None:
        self.previous: _Detected | None = None
        self.recent: list[_Remembered] = []
        self.n_ocred = self.n_reused = self.n_too_small = 0
        self.n_recognized = self.n_lines_reused = 0

    def match(self, grey: np.ndarray, box: tuple[float, ...]) -> _Remembered | None:
        for known in reversed(self.recent):
            if _iou(box, known.box) >= BOX_IOU_TO_REUSE and _same_pixels(grey, known):
                return known
        return None

    def remember(
        self, grey: np.ndarray, text: str, box: tuple[float, float, float, float], score: float
    ) -> _Remembered:
        core = _core(box)
        x0, y0, x1, y1 = core
        known = _Remembered(text, box, score, core, grey[y0:y1, x0:x1].copy())
        self.recent.append(known)
        del self.recent[:-RECENT_LINES]
        return known


def _core(box: tuple[float, ...]) -> tuple[int, int, int, int]:
    """The inner part of a detected box, where the letters are (the detector adds a margin)."""
    x0, y0, x1, y1 = _pixel_box(box)
    margin = int(CORE_MARGIN * (y1 - y0))
    if x1 - x0 > 2 * margin + 1 and y1 - y0 > 2 * margin + 1:
        return x0 + margin, y0 + margin, x1 - margin, y1 - margin
    return x0, y0, x1, y1


def _same_pixels(grey: np.ndarray, known: _Remembered) -> bool:
    """Whether the frame shows the same pixels as ``known`` where its letters were."""
    x0, y0, x1, y1 = known.core
    now = grey[y0:y1, x0:x1]
    if now.shape != known.pixels.shape or now.size == 0:
        return False
    return float(np.abs(now - known.pixels).mean()) <= SAME_PIXELS_MAX_DIFF


def _checked_model(path: Path, sha256: str) -> Path:
    hint = f"reinstall the rapidocr package: pip install --force-reinstall {PACKAGE}"
    if not path.is_file():
        raise ModelLoadError(f"OCR model file {path} is missing; {hint}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise ModelLoadError(f"OCR model file {path} is corrupt (checksum mismatch); {hint}")
    return path


def _as_rgb(image: np.ndarray | str | Path) -> np.ndarray:
    if isinstance(image, str | Path):
        try:
            with Image.open(image) as opened:
                return np.asarray(opened.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise ThemescopeError(f"cannot read image {image}: {exc}") from exc
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"expected an RGB image of shape (height, width, 3); got {array.shape}")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def _thumbnail(grey: np.ndarray) -> np.ndarray:
    height, width = grey.shape
    size = (max(1, width // THUMBNAIL_SCALE), max(1, height // THUMBNAIL_SCALE))
    small = Image.fromarray(grey.astype(np.uint8)).resize(size, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.int16)


def _unchanged(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    changed = np.count_nonzero(np.abs(a - b) > PIXEL_CHANGE_LEVEL)
    return bool(changed <= CHANGED_PIXEL_SHARE * a.size)


def _bounding_box(quad: Any, width: int, height: int) -> tuple[float, float, float, float]:
    points = np.asarray(quad, dtype=np.float32).reshape(-1, 2)
    x0, y0 = np.clip(points.min(axis=0), 0, (width, height))
    x1, y1 = np.clip(points.max(axis=0), 0, (width, height))
    return float(x0), float(y0), float(x1), float(y1)


def _pixel_box(box: tuple[float, ...]) -> tuple[int, int, int, int]:
    return math.floor(box[0]), math.floor(box[1]), math.ceil(box[2]), math.ceil(box[3])


def _crop(image: np.ndarray, box: tuple[float, ...]) -> np.ndarray:
    x0, y0, x1, y1 = _pixel_box(box)
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _ious(box: tuple[float, ...], boxes: np.ndarray) -> np.ndarray:
    """:func:`_iou` of ``box`` with each row of ``boxes`` (shape (n, 4)) at once."""
    w = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    h = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = (box[2] - box[0]) * (box[3] - box[1]) + areas - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Top to bottom; lines overlapping vertically by half form a row, read left to right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda x: (x.box[1] + x.box[3]) / 2):
        if rows:
            last = rows[-1][-1].box
            overlap = min(last[3], line.box[3]) - max(last[1], line.box[1])
            if overlap >= 0.5 * min(last[3] - last[1], line.box[3] - line.box[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [line for row in rows for line in sorted(row, key=lambda x: x.box[0])]


@dataclass
class _Candidate:
    box: tuple[float, ...]
    key: str
    boxes: list[tuple[float, ...]]
    texts: list[str]
    confidences: list[float]
    frames: set[int]


def _find_boilerplate(
    frames: list[tuple[TextLine, ...]], share: float, min_frames: int
) -> list[BoilerplateText]:
    """Text at about the same place in most frames, its readings grouped (module docstring).

    A line joins the first candidate whose first box it overlaps (IoU >= 0.5) and
    whose first reading it matches (:func:`~themescope.media.furniture.same_text`), so
    a bug read "CBS SATURDAY MORNING" in one frame and "CCBS SATURDAYIMOR" in the next
    is one item; its text is the reading seen most often, ties going to the more
    confident one.
    """
    n_frames = len(frames)
    if n_frames == 0:
        return []
    candidates: list[_Candidate] = []
    # The candidates' first boxes, grown by doubling: a 13-minute video has thousands of
    # candidates, and testing each one's place in Python took seconds.
    places = np.empty((64, 4), dtype=np.float64)
    for index, lines in enumerate(frames):
        for line in lines:
            key = normalized(line.text)
            if not key:
                continue
            overlapping = np.flatnonzero(
                _ious(line.box, places[: len(candidates)]) >= BOILERPLATE_BOX_IOU
            )
            candidate = next(
                (candidates[i] for i in overlapping if same_key(key, candidates[i].key)),
                None,
            )
            if candidate is None:
                candidate = _Candidate(line.box, key, [], [], [], set())
                if len(candidates) == len(places):
                    places = np.concatenate([places, np.empty_like(places)])
                places[len(candidates)] = line.box
                candidates.append(candidate)
            candidate.boxes.append(line.box)
            candidate.texts.append(line.text)
            candidate.confidences.append(line.confidence)
            candidate.frames.add(index)
    needed = max(min_frames, math.ceil(share * n_frames))
    found = []
    for candidate in candidates:
        if len(candidate.frames) < needed:
            continue
        readings: dict[str, list[float]] = {}
        for text, confidence in zip(candidate.texts, candidate.confidences, strict=True):
            readings.setdefault(text, []).append(confidence)
        best = max(sorted(readings), key=lambda t: (len(readings[t]), float(np.mean(readings[t]))))
        box = np.median(np.asarray(candidate.boxes, dtype=np.float64), axis=0)
        found.append(
            BoilerplateText(
                text=best,
                box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                n_frames=len(candidate.frames),
                share=len(candidate.frames) / n_frames,
            )
        )
    return sorted(found, key=lambda b: (-b.n_frames, b.text))


def _is_boilerplate(line: TextLine, boilerplate: Sequence[BoilerplateText]) -> bool:
    return any(
        _iou(line.box, b.box) >= BOILERPLATE_BOX_IOU and same_text(line.text, b.text)
        for b in boilerplate
    )


def ocr_schema_fields() -> list[pa.Field]:
    """Return the ``ocr_text`` and ``ocr_lines`` fields of ``frames.parquet``."""
    import pyarrow as pa

    line = pa.struct(
        [
            pa.field("text", pa.string()),
            pa.field("box", pa.list_(pa.float32())),
            pa.field("confidence", pa.float32()),
        ]
    )
    return [pa.field("ocr_text", pa.string()), pa.field("ocr_lines", pa.list_(line))]


def add_ocr_columns(table: pa.Table, found: OnScreenText) -> pa.Table:
    """Return ``table`` (one row per frame, same order) with ``ocr_text`` and ``ocr_lines``.

    Raises:
        ValueError: ``table`` and ``found`` have different numbers of frames.
    """
    import pyarrow as pa

    if table.num_rows != len(found.frames):
        raise ValueError(
            f"the frames table has {table.num_rows} rows but on-screen text was read "
            f"for {len(found.frames)} frames"
        )
    text_field, lines_field = ocr_schema_fields()
    texts = pa.array([f.text for f in found.frames], type=text_field.type)
    lines = pa.array(
        [
            [
                {"text": line.text, "box": list(line.box), "confidence": line.confidence}
                for line in f.lines
            ]
            for f in found.frames
        ],
        type=lines_field.type,
    )
    for name in (text_field.name, lines_field.name):
        if name in table.column_names:
            table = table.remove_column(table.column_names.index(name))
    return table.append_column(text_field, texts).append_column(lines_field, lines)
