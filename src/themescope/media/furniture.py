"""Station furniture and OCR noise: on-screen text that says nothing about the programme.

On real broadcasts much of what the recogniser reads is not a headline: a channel
bug read a little differently frame to frame, map names cut by the frame's edge
("th Bay", "Londo"), two-letter misreads of graphics ("RI", "OI"), a video player's
own overlay captured with the picture ("Press Esc to exit full screen"). Used as
phrases or labels, such lines make a theme read as noise. This module decides:

- whether two readings are the same text (:func:`same_text`): their normalised forms
  (:func:`normalized`) match by at least :data:`SAME_TEXT_RATIO` (difflib's ratio),
  which groups the readings of one bug or promo into one boilerplate item;
- why a line is no words (:func:`noise_reason`), in this order: recognised with a
  confidence under :data:`MIN_WORDS_CONFIDENCE`; a player's overlay
  (:data:`PLAYER_OVERLAYS`); cut by the frame's edge (its box within
  :data:`EDGE_PX` of a side); a fragment (a line without Chinese of at most
  :data:`MAX_FRAGMENT_LETTERS` letters); not words (over half of its Latin tokens
  are neither words of the language, Zipf ≥ :data:`MIN_WORD_ZIPF` in wordfreq, nor
  words of the transcript).

Chinese lines are judged by confidence, overlay and edge only: a misread Chinese
character is still a character, and two characters are a whole word (新冠).

Ads, station IDs, promos and bumpers are found per frame (:func:`find_promos`),
conservatively, since marking a story's frames would hide them from its theme: a
frame is one when nothing is said over it, it is not black or blank, none of its
on-screen words is said anywhere in the programme, and its picture or one of its
on-screen lines comes back at least :data:`PROMO_MIN_GAP_S` later or earlier over
another such silent frame. An ad with a voice-over is thus not found; a weather
map shown again while the presenter speaks is not taken for one.

Example:
    >>> same_text("CBS SATURDAY MORNING", "CCBS SATURDAYIMOR")
    True
    >>> noise_reason("Press Esc to exit full screer", (206, 77, 332, 93), 0.97, (540, 360))
    'player overlay'
    >>> noise_reason("Londo", (501, 193, 539, 212), 1.0, (540, 360))
    "cut by the frame's edge"
    >>> noise_reason("FLOODS HIT COAST", (20, 200, 300, 230), 0.95, (540, 360)) is None
    True
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence

import numpy as np

from themescope.media.background import has_background, zipf
from themescope.media.language import contains_han, is_chinese

SAME_TEXT_RATIO = 0.8
"""Readings whose normalised forms match at least this much (difflib's ratio, 0–1) are
one text: "CBS SATURDAY MORNING" and "CCBS SATURDAYIMOR" score 0.82, "TS NEWS" and
"TSN NEWS" 0.92; "FLOODS HIT COAST" and "FIRES HIT COAST" 0.74."""

MIN_WORDS_CONFIDENCE = 0.8
"""Lines recognised with a lower confidence are misreads more often than words (on the
CAIS clips a map's "ay" at 0.75; their headlines and captions read at 0.9 and over)."""

EDGE_PX = 2.0
"""A box this close to a side of the frame (pixels) holds text the frame cuts off."""

MAX_FRAGMENT_LETTERS = 3
"""A line without Chinese of at most this many letters is a fragment ("OI", "MI", "Bay"):
too short to tell a topic from a misread or a logo."""

MIN_WORD_ZIPF = 1.5
"""Zipf frequency from which a token is a word of the language: wordfreq lists many
misreads and fragments at lower frequencies ("ccbs" 1.2), real place names such as
Kenora (2.0) above."""

PLAYER_OVERLAYS = (
    "Press Esc to exit full screen",
    "Exit full screen",
    "Skip Ad",
    "Tap to unmute",
    "Click to unmute",
    "Watch on YouTube",
)
"""A video player's own text, captured with the picture by screen recordings."""

NOISE_REASONS = (
    "low confidence",
    "player overlay",
    "cut by the frame's edge",
    "fragment",
    "not words",
)
"""Every reason :func:`noise_reason` gives, in the order it checks them."""

PROMO_MIN_GAP_S = 20.0
"""A picture or line recurs when it is shown again at least this many seconds apart."""

PROMO_PICTURE_DIFF = 6.0
"""Two frames show the same picture when their 32x18 greyscale thumbnails differ by at
most this many grey levels (0-255) on average. A re-run bumper differs by JPEG noise, but
so does a set shown again: on the joined CAIS broadcast one weather map or one talk-show
studio in two clips differs by 1-3. The picture alone thus tells nothing; silence and
on-screen words nobody says are what mark a promo."""

PROMO_THUMBNAIL = (32, 18)
"""Width and height of the thumbnails :func:`find_promos` compares."""

_LATIN_TOKEN = re.compile(r"[^\W\d_]+")


def normalized(text: str) -> str:
    """Text as compared between readings: NFKC, case-folded, digits as '#', no spaces or marks."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\d", "#", text)
    return "".join(ch for ch in text if ch.isalnum() or ch == "#")


def same_text(a: str, b: str) -> bool:
    """Whether two readings are one text read a little differently (see :data:`SAME_TEXT_RATIO`)."""
    return same_key(normalized(a), normalized(b))


def same_key(key_a: str, key_b: str) -> bool:
    """:func:`same_text` of two texts already :func:`normalized` (to normalise each once)."""
    if not key_a or not key_b:
        return False
    if key_a == key_b:
        return True
    # The upper bounds first, the cheapest (lengths alone) before building a matcher:
    # most pairs are nowhere near alike.
    if 2 * min(len(key_a), len(key_b)) < SAME_TEXT_RATIO * (len(key_a) + len(key_b)):
        return False
    matcher = difflib.SequenceMatcher(None, key_a, key_b, autojunk=False)
    return matcher.quick_ratio() >= SAME_TEXT_RATIO and matcher.ratio() >= SAME_TEXT_RATIO


def noise_reason(
    text: str,
    box: tuple[float, float, float, float],
    confidence: float,
    frame_size: tuple[int, int],
    known_words: Collection[str] = frozenset(),
    lang: str = "en",
) -> str | None:
    """Return why a line read on screen is no words (see the module docstring), or None.

    Args:
        text: The line as read.
        box: ``(x0, y0, x1, y1)`` in pixels of the frame.
        confidence: The recogniser's confidence in [0, 1].
        frame_size: ``(width, height)`` of the frame, pixels.
        known_words: Words of the transcript, case-folded: a name said in the programme
            is a word even where general language does not know it.
        lang: The run's language, for the word list (Latin tokens of a language wordfreq
            does not know, or of a Chinese run, are looked up in English).
    """
    if confidence < MIN_WORDS_CONFIDENCE:
        return "low confidence"
    key = normalized(text)
    if any(same_key(key, overlay) for overlay in _overlay_keys()):
        return "player overlay"
    width, height = frame_size
    x0, y0, x1, y1 = box
    if x0 <= EDGE_PX or y0 <= EDGE_PX or x1 >= width - EDGE_PX or y1 >= height - EDGE_PX:
        return "cut by the frame's edge"
    if contains_han(text):
        return None
    tokens = _latin_words(text)
    if sum(len(t) for t in tokens) <= MAX_FRAGMENT_LETTERS:
        return "fragment"
    words = [t for t in tokens if len(t) > 1]
    unknown = [t for t in words if t not in known_words and not _is_word(t, lang)]
    if 2 * len(unknown) > len(words):
        return "not words"
    return None


@functools.cache
def _overlay_keys() -> tuple[str, ...]:
    return tuple(normalized(overlay) for overlay in PLAYER_OVERLAYS)


def transcript_words(texts: Iterable[str]) -> frozenset[str]:
    """The case-folded Latin words of a transcript's texts, for :func:`noise_reason`."""
    return frozenset(word for text in texts for word in _latin_words(text))


def _latin_words(text: str) -> list[str]:
    return [t.casefold() for t in _LATIN_TOKEN.findall(unicodedata.normalize("NFKC", text))]


def _is_word(token: str, lang: str) -> bool:
    base = lang if has_background(lang) and not is_chinese(lang) else "en"
    return zipf(token, base) >= MIN_WORD_ZIPF


def promo_thumbnail(image: np.ndarray) -> np.ndarray:
    """The small greyscale picture of an RGB frame that :func:`find_promos` compares."""
    from PIL import Image

    small = Image.fromarray(image).convert("L").resize(PROMO_THUMBNAIL, Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32)


def find_promos(
    times_s: Sequence[float],
    speech: Sequence[str],
    blank: Sequence[bool],
    thumbnails: Sequence[np.ndarray],
    screen_texts: Sequence[str],
) -> list[bool]:
    """Return which frames show an ad, a station ID, a promo or a bumper (module docstring).

    Args:
        times_s: Time of each frame, seconds.
        speech: The transcript text aligned to each frame ("" where nothing is said).
        blank: Whether each frame is black or blank (never a promo: it is left out already).
        thumbnails: Each frame's :func:`promo_thumbnail`.
        screen_texts: Each frame's on-screen text, boilerplate and noise left out,
            lines joined by newlines.

    Returns:
        One flag per frame; all False when nothing is said in the whole programme
        (silence then tells nothing).
    """
    if not any(text.strip() for text in speech):
        return [False] * len(times_s)
    spoken = transcript_words(speech)
    silent = [
        i
        for i, (text, is_blank, screen) in enumerate(zip(speech, blank, screen_texts, strict=True))
        if not text.strip() and not is_blank and not _said(screen, spoken, speech)
    ]
    marked = [False] * len(times_s)
    for a, i in enumerate(silent):
        for j in silent[a + 1 :]:
            if abs(times_s[j] - times_s[i]) < PROMO_MIN_GAP_S:
                continue
            if _same_picture(thumbnails[i], thumbnails[j]) or _same_line(
                screen_texts[i], screen_texts[j]
            ):
                marked[i] = marked[j] = True
    return marked


def _said(screen: str, spoken: frozenset[str], speech: Sequence[str]) -> bool:
    """Whether any of the on-screen words is said somewhere in the programme."""
    if any(word in spoken for word in _latin_words(screen) if len(word) > 1):
        return True
    han = "".join(ch for ch in screen if contains_han(ch))
    pairs = {han[k : k + 2] for k in range(len(han) - 1)}
    return any(pair in text for text in speech for pair in pairs)


def _same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and float(np.abs(a - b).mean()) <= PROMO_PICTURE_DIFF


def _same_line(a: str, b: str) -> bool:
    lines_b = [line for line in b.split("\n") if line.strip()]
    return any(same_text(x, y) for x in a.split("\n") if x.strip() for y in lines_b)
