"""Aligning cues to frames: window loses and repeats nothing, nearest follows the paper."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from themescope.errors import ConfigError
from themescope.media.align import ALIGN_SCHEMES, AlignedText, align
from themescope.media.language import join_texts
from themescope.media.transcripts import Cue


def cue(start_s: float, end_s: float, text: str, raw: str | None = None) -> Cue:
    return Cue(start_s, end_s, text, raw if raw is not None else text)


def frame_times(n: int, every_s: float = 2.0) -> list[float]:
    return [i * every_s for i in range(n)]


def words_of(aligned: list[AlignedText]) -> list[str]:
    return [w for a in aligned for w in a.text.split()]


def random_cues(rng: random.Random, n: int, duration_s: float) -> list[Cue]:
    vocab = ["vaccine", "clinic", "doctor", "city", "news", "today", "health", "plan"]
    cues = []
    t = 0.0
    for i in range(n):
        start = t + rng.uniform(0.0, 1.5)
        end = min(start + rng.uniform(0.3, 9.0), duration_s)
        words = [f"{rng.choice(vocab)}{i}_{k}" for k in range(rng.randint(1, 25))]
        cues.append(cue(start, end, " ".join(words)))
        t = end
    return cues


# --------------------------------------------------------------------------- window


def test_window_splits_a_long_cue_in_order_by_overlap():
    cues = [cue(0.0, 4.0, "one two three four")]
    out = align([0.0, 2.0, 4.0], cues, every_s=2.0)
    assert [a.text for a in out] == ["one", "two three", "four"]
    assert [a.cue_ids for a in out] == [(0,), (0,), (0,)]
    assert all(a.text_raw == "one two three four" for a in out)


@pytest.mark.parametrize("seed", range(5))
def test_window_loses_and_repeats_no_word(seed):
    rng = random.Random(seed)
    cues = random_cues(rng, 40, 200.0)
    times = frame_times(100)
    out = align(times, cues, every_s=2.0)
    assert len(out) == len(times)
    expected = [w for c in cues for w in c.text.split()]
    assert Counter(words_of(out)) == Counter(expected)
    # Non-overlapping cues in time order: the frames read the transcript in order.
    assert words_of(out) == expected


def test_window_with_overlapping_cues_keeps_each_word_once():
    cues = [cue(0.0, 5.0, "a1 a2 a3 a4 a5"), cue(1.0, 3.0, "b1 b2"), cue(2.5, 9.0, "c1 c2 c3")]
    out = align(frame_times(5), cues, every_s=2.0)
    expected = [w for c in cues for w in c.text.split()]
    assert Counter(words_of(out)) == Counter(expected)


def test_window_frame_texts_are_in_the_frame_window():
    cues = [cue(0.0, 1.0, "first"), cue(2.9, 3.4, "second"), cue(7.2, 7.9, "third")]
    out = align(frame_times(5), cues, every_s=2.0)
    # windows: [-inf,1) [1,3) [3,5) [5,7) [7,inf); "second" lies 0.1 s in window 1, 0.4 s in 2
    assert [a.text for a in out] == ["first", "", "second", "", "third"]
    assert out[1].cue_ids == (1,)  # touches window 1, but its only word went to frame 2
    assert out[1].text_raw == "second"


def test_window_with_uneven_frame_times():
    times = [0.0, 0.5, 3.0, 3.2, 10.0]
    cues = [cue(0.0, 10.0, "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9")]
    out = align(times, cues, every_s=2.0)
    # Boundaries at the midpoints 0.25, 1.75, 3.1, 6.6: shares 0.25, 1.5, 1.35, 3.5, 3.4 s.
    assert [len(a.text.split()) for a in out] == [0, 2, 1, 4, 3]
    assert words_of(out) == cues[0].text.split()


def test_window_cues_past_the_last_frame_go_to_it():
    cues = [cue(1.0, 2.0, "early"), cue(30.0, 32.0, "way past the end")]
    out = align(frame_times(3), cues, every_s=2.0)
    assert out[-1].text == "way past the end"
    assert words_of(out) == ["early", "way", "past", "the", "end"]


def test_window_zero_length_cue_goes_to_its_window():
    out = align(frame_times(3), [cue(2.2, 2.2, "blip")], every_s=2.0)
    assert [a.text for a in out] == ["", "blip", ""]


def test_window_chinese_split_by_words_and_joined_without_spaces():
    text = "今天我们关注疫苗接种的最新进展，全国各地的接种点已经开放。"
    cues = [cue(0.0, 6.0, text)]
    out = align(frame_times(3), cues, every_s=2.0)
    assert "".join(a.text for a in out) == text
    assert all(a.text for a in out)
    assert not any(a.text.startswith(("，", "。")) for a in out)  # punctuation stays with its word
    # jieba keeps words whole: no frame boundary inside 疫苗 or 接种.
    joined_with_bars = "|".join(a.text for a in out)
    assert "疫|苗" not in joined_with_bars and "接|种" not in joined_with_bars


def test_window_two_chinese_cues_in_one_frame_join_without_space():
    out = align([0.0], [cue(0.0, 1.0, "大家好"), cue(1.0, 2.0, "欢迎收看")], every_s=2.0)
    assert out[0].text == "大家好欢迎收看"
    out = align([0.0], [cue(0.0, 1.0, "hello"), cue(1.0, 2.0, "world")], every_s=2.0)
    assert out[0].text == "hello world"


def test_window_reproduces_mixed_text_via_join():
    cues = [cue(0.0, 2.0, "COVID-19 疫苗"), cue(2.0, 4.0, "vaccines work")]
    out = align(frame_times(3), cues, every_s=2.0)
    assert join_texts(a.text for a in out).replace(" ", "") == "COVID-19疫苗vaccineswork"


# --------------------------------------------------------------------------- nearest


def test_nearest_pairs_cue_with_closest_frame_and_active_frames():
    cues = [cue(0.9, 1.2, "short"), cue(3.1, 8.5, "long cue"), cue(9.0, 9.5, "late")]
    out = align(frame_times(5), cues, every_s=2.0)
    nearest = align(frame_times(5), cues, every_s=2.0, scheme="nearest")
    # short starts at 0.9: closest frame 0 (t=0) vs 1 (t=2): 0.9 < 1.1 -> frame 0
    assert nearest[0].text == "short"
    # long cue starts 3.1 -> closest frame 2 (t=4); also active at t=4, 6, 8 -> frames 2, 3, 4
    assert [a.text for a in nearest] == ["short", "", "long cue", "long cue", "long cue late"]
    assert nearest[4].cue_ids == (1, 2)
    assert out != nearest


def test_nearest_tie_goes_to_the_earlier_frame_and_past_end_to_last():
    cues = [cue(1.0, 1.5, "tie"), cue(50.0, 51.0, "after")]
    nearest = align(frame_times(3), cues, every_s=2.0, scheme="nearest")
    assert [a.text for a in nearest] == ["tie", "", "after"]


def test_nearest_repeats_long_cues_like_the_paper():
    cues = [cue(0.0, 10.0, "一段很长的中文句子")]
    nearest = align(frame_times(5), cues, every_s=2.0, scheme="nearest")
    assert [a.text for a in nearest] == ["一段很长的中文句子"] * 5


# --------------------------------------------------------------------------- shared


@pytest.mark.parametrize("scheme", ALIGN_SCHEMES)
def test_zero_cues_give_empty_texts(scheme):
    out = align(frame_times(4), [], every_s=2.0, scheme=scheme)
    assert out == [AlignedText("", "", ())] * 4


@pytest.mark.parametrize("scheme", ALIGN_SCHEMES)
def test_zero_frames(scheme):
    assert align([], [cue(0, 1, "x")], every_s=2.0, scheme=scheme) == []


@pytest.mark.parametrize("scheme", ALIGN_SCHEMES)
def test_text_raw_keeps_markup(scheme):
    out = align([0.0], [cue(0.0, 1.0, "Hello", "<i>Hello</i>")], every_s=2.0, scheme=scheme)
    assert out[0].text == "Hello" and out[0].text_raw == "<i>Hello</i>"


def test_bad_arguments():
    with pytest.raises(ConfigError, match="scheme"):
        align([0.0], [], every_s=2.0, scheme="closest")
    with pytest.raises(ConfigError, match="every_s"):
        align([0.0], [], every_s=0.0)
    with pytest.raises(ConfigError, match="increasing"):
        align([2.0, 0.0], [], every_s=2.0)
    with pytest.raises(ConfigError, match="finite"):
        align([float("nan")], [], every_s=2.0)
