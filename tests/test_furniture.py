"""Station furniture and OCR noise: which on-screen lines are no words (media.furniture)."""

from __future__ import annotations

import numpy as np
import pytest

from themescope.media.furniture import (
    PROMO_THUMBNAIL,
    find_promos,
    noise_reason,
    same_text,
    transcript_words,
)

FRAME = (540, 360)
"""Width and height of a stored 360p frame of a 720×480 broadcast."""
MIDDLE = (120.0, 200.0, 300.0, 230.0)
"""A box well inside the frame."""


@pytest.mark.parametrize(
    ("text", "box", "confidence", "reason"),
    [
        # Lines read on the joined CAIS broadcast.
        ("Press Esc to exit full screer", (206, 77, 332, 93), 0.97, "player overlay"),
        ("PRESS ESC TO EXIT FULL SCREEN", MIDDLE, 0.99, "player overlay"),
        ("Londo", (501, 193, 539, 212), 1.0, "cut by the frame's edge"),
        ("lerBay", (0, 73, 44, 91), 0.99, "cut by the frame's edge"),
        ("RI", (0, 32, 539, 253), 0.82, "cut by the frame's edge"),
        ("OI", MIDDLE, 0.99, "fragment"),
        ("ngth", (0, 150, 40, 170), 0.95, "cut by the frame's edge"),
        ("TSN", MIDDLE, 0.94, "fragment"),
        ("Saul!", MIDDLE, 0.75, "low confidence"),
        ("ngth", MIDDLE, 0.95, "not words"),
        ("montr", MIDDLE, 0.95, "not words"),
        ("Petrtiorough", MIDDLE, 0.91, "not words"),
        ("CCBS SATURDAYIMOR", MIDDLE, 0.9, "not words"),
        # Headlines and captions are words.
        ("Partly Cloudy", MIDDLE, 0.99, None),
        ("WINTER STORM WARNING", MIDDLE, 0.95, None),
        ("Wind: SSW 27-37 km/h", MIDDLE, 0.99, None),
        ("Parry Sound", MIDDLE, 0.93, None),
        ("疫苗接种", MIDDLE, 0.95, None),
        ("新冠", MIDDLE, 0.95, None),
    ],
)
def test_why_a_line_is_no_words(
    text: str, box: tuple[float, float, float, float], confidence: float, reason: str | None
) -> None:
    assert noise_reason(text, box, confidence, FRAME) == reason


def test_a_name_said_in_the_programme_is_a_word() -> None:
    known = transcript_words(["DENISE ANDREACCHI IS IN FOR A MORE LINE TODAY."])
    assert "andreacchi" in known
    assert noise_reason("ANDREACCHI", MIDDLE, 0.95, FRAME) == "not words"
    assert noise_reason("ANDREACCHI", MIDDLE, 0.95, FRAME, known) is None


def test_readings_of_one_text() -> None:
    assert same_text("CBS SATURDAY MORNING", "CCBS SATURDAYIMOR")
    assert same_text("12:07", "12:15")  # a clock: digits are one symbol
    assert not same_text("FLOODS HIT COAST", "MARKETS FALL")
    assert not same_text("", "")


def _pictures(n: int) -> list[np.ndarray]:
    """``n`` clearly different thumbnails."""
    return [np.full(PROMO_THUMBNAIL[::-1], 20.0 * i, np.float32) for i in range(n)]


def test_a_silent_picture_shown_again_is_a_promo() -> None:
    times = [0.0, 2.0, 4.0, 30.0, 32.0, 60.0]
    speech = ["storm warning tonight", "", "snow expected", "", "the storm moves east", ""]
    pictures = _pictures(6)
    pictures[3] = pictures[1] + 2.0  # the bumper again, JPEG noise aside
    screen = ["", "", "", "", "", ""]
    blank = [False] * 6
    assert find_promos(times, speech, blank, pictures, screen) == [
        False,
        True,
        False,
        True,
        False,
        False,
    ]
    # Shown again within 20 s: one shot, not a recurring bumper.
    assert not any(find_promos([0.0, 2.0, 4.0, 6.0, 8.0, 10.0], speech, blank, pictures, screen))
    # Said over it: content (a weather map shown again while the presenter speaks).
    said = ["storm warning", "the map again", "snow", "the map", "east", ""]
    assert not any(find_promos(times, said, blank, pictures, screen))
    # No transcript at all: silence tells nothing.
    assert not any(find_promos(times, [""] * 6, blank, pictures, screen))


def test_a_silent_line_shown_again_is_a_promo_unless_its_words_are_said() -> None:
    times = [0.0, 2.0, 30.0, 32.0]
    pictures = _pictures(4)
    speech = ["the vote is today", "", "", "turnout is high"]
    promo = ["", "TEMPUR-PEDIC\nSLEEP BETTER", "TEMPUR-PEDIC", ""]
    assert find_promos(times, speech, [False] * 4, pictures, promo) == [False, True, True, False]
    headline = ["", "VOTE TODAY", "VOTE TODAY", ""]
    assert not any(find_promos(times, speech, [False] * 4, pictures, headline))
    # Black frames are no promos: they are left out as black already.
    assert not any(find_promos(times, speech, [False, True, True, False], pictures, promo))


def test_the_promo_warning_names_the_stretches() -> None:
    from themescope.media.ingest import promo_warning

    times = [0.0, 2.0, 4.0, 30.0, 32.0, 60.0]
    assert promo_warning(times, [False, True, False, True, True, False], 2.0) == (
        "3 of 6 frames look like ads, station IDs, promos or bumpers (2–4 s, 30–60 s: a "
        "picture or text shown again with nothing said over it): their on-screen text "
        "describes no theme"
    )
