"""Groups side by side: shares with intervals, the difference test, and each group's phrases.

Studies are simulated per video (a theme mixture per group plus per-video noise),
so no video is decoded.
"""

from __future__ import annotations

import datetime
import re
import time

import numpy as np
import pytest

from themescope.corpus.covariates import Covariate
from themescope.corpus.effects import (
    Effect,
    Term,
    covariate_effects,
    design_matrix,
    effect_sentence,
    shares_over_time,
    time_bin,
    time_unit,
)
from themescope.corpus.stats import (
    TooFewGroupsError,
    _holm,
    group_difference_test,
    group_phrases,
    group_shares,
)
from themescope.synthetic import (
    DEFAULT_COVARIATE,
    DEFAULT_GROUPS,
    DEFAULT_TREND,
    _video_mixtures,
    _video_targets,
)

# Themes: 0 economy, 1 health, 2 everything else.
TRUTH = {"A": [0.50, 0.30, 0.20], "B": [0.05, 0.30, 0.65]}


def simulate(rng, truth=TRUTH, n_videos=6, noise=0.03, frames=240, seconds_per_frame=1.0):
    """Per-frame arrays of a study: each video's mixture is its group's plus noise."""
    video, theme, seconds, video_group = [], [], [], {}
    for group, mixture in truth.items():
        for i in range(n_videos):
            name = f"{group}{i}"
            video_group[name] = group
            mix = np.clip(np.array(mixture) + rng.normal(0, noise, len(mixture)), 0.001, None)
            counts = np.round(mix / mix.sum() * frames).astype(int)
            video += [name] * int(counts.sum())
            theme += np.repeat(np.arange(len(mixture)), counts).tolist()
            seconds += [seconds_per_frame] * int(counts.sum())
    return np.array(video), np.array(theme), np.array(seconds), video_group


def test_target_study_shares_and_difference_test():
    # Seed 0 is a usual study: all six intervals hold the truth in 8 of the first 12
    # seeds (each interval in ~94 %; the next test checks that rate).
    video, theme, seconds, groups = simulate(np.random.default_rng(0))
    shares = group_shares(video, theme, seconds, groups, 3, seed=0)
    assert shares.groups == ("A", "B")
    assert shares.warnings == ()
    for group, truth in TRUTH.items():
        row = shares.shares[group]
        assert sum(s.share for s in row) == pytest.approx(1.0)
        for interval, true_share in zip(row, truth, strict=True):
            assert interval.low <= interval.share <= interval.high
            assert interval.low <= true_share <= interval.high
            assert abs(interval.share - true_share) < 0.05

    test = group_difference_test(video, theme, seconds, groups, 3, seed=0)
    assert test.exact and test.n_permutations == 924  # 12 videos into two groups of six
    assert test.p_value < 0.05
    assert test.theme_p_values_adjusted[0] < 0.05  # economy
    assert test.theme_p_values_adjusted[1] >= 0.05  # health
    assert test.correction == "Holm"
    assert "Holm" in test.method and "924" in test.method
    assert test.warnings == ()


def test_intervals_hold_the_truth_at_about_their_level():
    rng = np.random.default_rng(3)
    n_studies = 100
    held = np.zeros((2, 3))
    for study in range(n_studies):
        video, theme, seconds, groups = simulate(rng)
        shares = group_shares(video, theme, seconds, groups, 3, n_bootstrap=500, seed=study)
        for i, (group, truth) in enumerate(TRUTH.items()):
            for t, interval in enumerate(shares.shares[group]):
                held[i, t] += interval.low <= truth[t] <= interval.high
    # Nominal 95 %; a plain percentile interval holds it only ~88 % of the time with six videos.
    assert (held / n_studies).min() >= 0.88


def test_bootstrap_is_over_videos_not_frames():
    # Two videos all in theme 0, two all in theme 1: frames within a video agree,
    # so the interval must reflect four videos, not thousands of frames.
    video = np.repeat(["a", "b", "c", "d"], 1000)
    theme = np.repeat([0, 0, 1, 1], 1000)
    shares = group_shares(video, theme, np.ones(4000), dict.fromkeys("abcd", "G"), 2, seed=0)
    interval = shares.shares["G"][0]
    assert interval.share == 0.5
    assert interval.high - interval.low > 0.5


def test_shares_are_airtime_weighted():
    # Video a: one 1 s frame in theme 0 and one in theme 1; video b: one 2 s frame in theme 0.
    out = group_shares(["a", "a", "b"], [0, 1, 0], [1.0, 1.0, 2.0], {"a": "G", "b": "G"}, k=2)
    assert [s.share for s in out.shares["G"]] == [0.75, 0.25]


def test_shares_and_test_are_deterministic_for_a_seed():
    video, theme, seconds, groups = simulate(np.random.default_rng(1))
    assert group_shares(video, theme, seconds, groups, 3, seed=5) == group_shares(
        video, theme, seconds, groups, 3, seed=5
    )
    first = group_difference_test(video, theme, seconds, groups, 3, n_permutations=200, seed=5)
    again = group_difference_test(video, theme, seconds, groups, 3, n_permutations=200, seed=5)
    assert first == again


def test_random_permutations_when_assignments_are_many():
    video, theme, seconds, groups = simulate(np.random.default_rng(0))
    test = group_difference_test(video, theme, seconds, groups, 3, n_permutations=200, seed=0)
    assert not test.exact and test.n_permutations == 200
    assert "200 random permutations" in test.method
    # p = (1 + #perm >= observed) / (1 + n): the economy gap is never reached by chance.
    assert test.p_value == pytest.approx(1 / 201)
    assert test.theme_p_values[0] == pytest.approx(1 / 201)
    assert test.theme_p_values_adjusted[0] == pytest.approx(3 / 201)
    assert test.theme_p_values[1] > 0.05


def test_statistic_is_the_weighted_distance_to_the_pooled_shares():
    rng = np.random.default_rng(4)
    truth = {"A": [0.5, 0.3, 0.2], "B": [0.1, 0.3, 0.6], "C": [0.3, 0.4, 0.3]}
    video, theme, seconds, groups = simulate(rng, truth=truth, n_videos=3)
    seconds = seconds * np.where(np.char.startswith(video, "C"), 2.0, 1.0)  # C counts double
    test = group_difference_test(video, theme, seconds, groups, 3, n_permutations=100)
    total = seconds.sum()
    pooled = np.bincount(theme, weights=seconds, minlength=3) / total
    expected, expected_theme = 0.0, np.zeros(3)
    for group in truth:
        mine = np.char.startswith(video, group)
        weight = seconds[mine].sum() / total
        share = np.bincount(theme[mine], weights=seconds[mine], minlength=3) / seconds[mine].sum()
        expected += weight * 0.5 * np.abs(share - pooled).sum()
        expected_theme += weight * np.abs(share - pooled)
    assert test.groups == ("A", "B", "C")
    assert test.statistic == pytest.approx(expected)
    assert test.theme_statistics == pytest.approx(expected_theme.tolist())


def test_two_group_statistic_is_twice_weighted_total_variation():
    video, theme, seconds, groups = simulate(np.random.default_rng(5), n_videos=3)
    test = group_difference_test(video, theme, seconds, groups, 3)
    a = np.char.startswith(video, "A")
    w_a = seconds[a].sum() / seconds.sum()
    p_a = np.bincount(theme[a], weights=seconds[a], minlength=3) / seconds[a].sum()
    p_b = np.bincount(theme[~a], weights=seconds[~a], minlength=3) / seconds[~a].sum()
    tv = 0.5 * np.abs(p_a - p_b).sum()
    assert test.statistic == pytest.approx(2 * w_a * (1 - w_a) * tv)


def test_few_videos_warn_that_no_p_value_can_be_small():
    video, theme, seconds, groups = simulate(np.random.default_rng(6), n_videos=3)
    test = group_difference_test(video, theme, seconds, groups, 3)
    # 20 assignments of 6 videos into 3 + 3; swapping the groups gives the same
    # statistic, so the smallest p-value is 2 / 20.
    assert test.exact and test.n_permutations == 20
    assert test.p_value == pytest.approx(0.1)
    assert any("no p-value can fall below 0.1" in w for w in test.warnings)


def test_too_few_random_permutations_warn():
    video, theme, seconds, groups = simulate(np.random.default_rng(6))
    test = group_difference_test(video, theme, seconds, groups, 3, n_permutations=9)
    assert any("9 permutations: no p-value can fall below 0.1" in w for w in test.warnings)


def test_group_of_one_video_has_no_interval_and_warns():
    video = np.array(["a", "a", "b", "c", "c"])
    theme = np.array([0, 1, 1, 0, 0])
    groups = {"a": "US", "b": "US", "c": "CN"}
    shares = group_shares(video, theme, np.ones(5), groups, 2)
    assert [(s.share, s.low, s.high) for s in shares.shares["CN"]] == [
        (1.0, None, None),
        (0.0, None, None),
    ]
    assert shares.shares["US"][0].low is not None
    assert shares.warnings == ("group CN has one video: no interval for its shares",)
    test = group_difference_test(video, theme, np.ones(5), groups, 2)
    assert any("group CN has one video" in w for w in test.warnings)


def test_theme_without_frames_and_video_without_airtime():
    video, theme, seconds, groups = simulate(np.random.default_rng(8))
    theme = theme.copy()
    theme[theme == 2] = 3  # no frame falls in theme 2 of k = 5; theme 4 is empty too
    seconds = seconds.copy()
    seconds[video == "A0"] = 0.0  # a video of zero airtime
    groups = {**groups, "B9": "B", "Z0": "Z"}  # a video without frames; a group without airtime
    shares = group_shares(video, theme, seconds, groups, 5, seed=0)
    assert shares.groups == ("A", "B")
    assert shares.warnings[:3] == (
        "video A0 has no airtime (no frames, or frames of 0 s): left out",
        "video B9 has no airtime (no frames, or frames of 0 s): left out",
        "video Z0 has no airtime (no frames, or frames of 0 s): left out",
    )
    assert shares.warnings[3] == "group Z has no video with airtime: left out"
    for group in shares.groups:
        assert [(s.share, s.low, s.high) for s in shares.shares[group][2::2]] == [
            (0.0, 0.0, 0.0)
        ] * 2
        assert sum(s.share for s in shares.shares[group]) == pytest.approx(1.0)
    test = group_difference_test(video, theme, seconds, groups, 5)
    assert test.n_permutations == 462  # 11 videos into 5 + 6
    assert test.theme_p_values[2] == test.theme_p_values[4] == 1.0
    assert test.theme_p_values_adjusted[2] == test.theme_p_values_adjusted[4] == 1.0
    assert "over the 3 themes with airtime" in test.method
    # Holm over the three themes with airtime only.
    assert test.theme_p_values_adjusted[0] == pytest.approx(min(1.0, 3 * test.theme_p_values[0]))


def test_one_group_has_shares_but_no_test():
    video, theme, seconds, groups = simulate(np.random.default_rng(9), truth={"A": TRUTH["A"]})
    shares = group_shares(video, theme, seconds, groups, 3)
    assert shares.groups == ("A",)
    with pytest.raises(TooFewGroupsError, match="only A"):
        group_difference_test(video, theme, seconds, groups, 3)
    assert issubclass(TooFewGroupsError, ValueError)


@pytest.mark.parametrize(
    ("video", "theme", "seconds", "message"),
    [
        (["a", "b"], [0], [1.0, 1.0], "one length"),
        (["a", "b"], [0, 3], [1.0, 1.0], r"0\.\.2"),
        (["a", "b"], [0, 1], [1.0, -1.0], ">= 0"),
        (["a", "b"], [0, 1], [1.0, np.nan], "finite"),
        (["a", "x"], [0, 1], [1.0, 1.0], "no group: x"),
        (["a", "b"], [0.0, 1.0], [1.0, 1.0], "integers"),
        (["a", "b"], [0, 1], [0.0, 0.0], "no video has airtime"),
    ],
)
def test_bad_input_is_a_clear_value_error(video, theme, seconds, message):
    with pytest.raises(ValueError, match=message):
        group_shares(video, theme, seconds, {"a": "US", "b": "CN"}, 3)


def test_holm():
    assert _holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert _holm(np.array([0.5, 0.9])).tolist() == [1.0, 1.0]
    assert _holm(np.array([0.02])).tolist() == [0.02]


def test_sixty_videos_take_milliseconds():
    rng = np.random.default_rng(0)
    n_videos, k = 60, 12
    video = np.repeat([f"v{i}" for i in range(n_videos)], 200)
    theme = rng.integers(0, k, size=video.size)
    groups = {f"v{i}": "ABCD"[i % 4] for i in range(n_videos)}
    group_shares(video, theme, np.ones(video.size), groups, k)  # imports, caches
    start = time.perf_counter()
    group_shares(video, theme, np.ones(video.size), groups, k, n_bootstrap=1000)
    group_difference_test(video, theme, np.ones(video.size), groups, k, n_permutations=1000)
    # Milliseconds on an idle machine; the bound leaves room for a loaded one.
    assert time.perf_counter() - start < 1.0


US_TRADE = [
    "The new trade tariffs hit farmers in Iowa.",
    "Trade tariffs raise prices for the new season, the ministry said.",
    "Officials said the trade tariffs would stay in place.",
    "The health ministry reports new vaccine doses.",
    "Farmers fear the trade tariffs and the new rules.",
    "Trade tariffs and the new health plan were debated.",
    "The vaccine campaign continues.",
    "Trade tariffs again dominate the talks in the new week.",
    "Talks on trade tariffs stall.",
    "Soybean exports fall as trade tariffs bite.",
    "Soybean exports dropped again.",
    "Trade tariffs on steel were doubled.",
    "Steel makers welcome the trade tariffs.",
    "Economists warn that trade tariffs cost jobs.",
    "Trade tariffs are the main story at the port.",
]
OTHER_HEALTH = [
    "The health ministry reports new vaccine doses.",
    "The vaccine campaign continues in the new year.",
    "Hospitals expand the vaccine campaign.",
    "The health ministry opens new clinics.",
    "Tariffs were mentioned once.",
    "The vaccine campaign is new, and the new clinics are open.",
    "A vaccine campaign for the elderly starts.",
]
ZH_TRADE = [
    "贸易关税的话会影响农民。",
    "贸易关税继续提高，新的措施出台。",
    "农民担心贸易关税。",
    "贸易关税的话，新的情况。",
    "卫生部门推进疫苗接种。",
    "贸易关税问题引起关注。",
    "贸易关税谈判继续。",
    "钢铁企业欢迎贸易关税。",
    "经济学家说贸易关税影响就业。",
    "港口的贸易关税成为主要新闻。",
    "大豆出口因贸易关税下降。",
    "医院扩大疫苗接种。",
]
FILLERS = {"the", "new", "的话", "新", "说"}


def test_a_group_saying_a_phrase_more_gets_it_first():
    out = group_phrases({"US": US_TRADE, "EU": OTHER_HEALTH}, {"US": "en", "EU": "en"})
    assert list(out) == ["US", "EU"]
    phrase, z, count = out["US"][0]
    assert phrase == "trade tariffs" and count == 12 and z >= 1.645
    assert out["EU"][0][0] == "vaccine campaign"
    # "tariffs", held by the listed "trade tariffs", is not listed again.
    assert all(p != "tariffs" for p, _, _ in out["US"])
    # Best first.
    assert [z for _, z, _ in out["US"]] == sorted((z for _, z, _ in out["US"]), reverse=True)


def test_groups_in_different_languages_each_get_their_own_phrases():
    out = group_phrases({"US": US_TRADE, "CN": ZH_TRADE})
    assert out["US"][0][0] == "trade tariffs"
    assert out["CN"][0][0] == "贸易关税"


def test_fillers_and_stop_words_are_never_phrases():
    # "new" in every other sentence, "的话" in every third: common, yet no phrase.
    chatty = [*US_TRADE, "The new port opens.", "A new deal, a new plan.", "New talks."]
    outs = [
        group_phrases({"US": chatty, "EU": OTHER_HEALTH}, min_z=-np.inf, min_count=1),
        group_phrases({"US": chatty, "CN": ZH_TRADE}, min_z=-np.inf, min_count=1),
        group_phrases({"US": chatty, "EU": OTHER_HEALTH, "CN": ZH_TRADE}),
    ]
    listed = {p for out in outs for phrases in out.values() for p, _, _ in phrases}
    assert listed  # something is listed, and none of it is filler
    assert not listed & FILLERS


def test_min_count_and_names():
    out = group_phrases({"US": US_TRADE, "EU": OTHER_HEALTH}, min_z=-np.inf, min_count=3)
    assert all(count >= 3 for phrases in out.values() for _, _, count in phrases)
    named = group_phrases({"US": US_TRADE, "EU": OTHER_HEALTH}, names={"iowa"})
    assert all("iowa" not in p for phrases in named.values() for p, _, _ in phrases)


def test_phrases_are_deterministic():
    texts = {"US": US_TRADE, "EU": OTHER_HEALTH, "CN": ZH_TRADE}
    assert group_phrases(texts) == group_phrases(texts)


def test_empty_text_gives_empty_lists():
    assert group_phrases({"US": [], "EU": [""]}) == {"US": [], "EU": []}
    assert group_phrases({"US": US_TRADE, "EU": []}) == {"US": [], "EU": []}
    assert group_phrases({"US": US_TRADE}) == {"US": []}
    assert group_phrases({}) == {}


# --------------------------------------------------------------------------- time, covariates


def _generated_study(n_per_group: int = 12, seconds: float = 240.0, seed: int = 0):
    """Per-video seconds per theme of the generator's corpus with its trend and covariate.

    The videos' mixtures are those generate_corpus gives its videos (no video is written):
    the groups' targets moved by the known trend and covariate effect, varied per video.
    """
    groups, dates, metadata, rows = [], [], [], []
    for g, group in enumerate(DEFAULT_GROUPS):
        targets = _video_targets(group, n_per_group, DEFAULT_TREND, DEFAULT_COVARIATE)
        mixtures = _video_mixtures(np.random.default_rng([seed, 3, g]), targets, n_per_group)
        for i, mixture in enumerate(mixtures):
            groups.append(group.name)
            dates.append(datetime.datetime(2024, 1, 1) + datetime.timedelta(days=7 * i))
            metadata.append(
                {
                    "date": dates[-1].date().isoformat(),
                    "outlet_type": DEFAULT_COVARIATE.levels[i % 2],
                }
            )
            rows.append(mixture * seconds)
    return np.array(rows), groups, dates, metadata


def test_shares_over_time_find_the_generators_trend():
    seconds, groups, dates, _ = _generated_study()
    found = shares_over_time(seconds, groups, dates, n_bootstrap=200)
    # Twelve weekly videos span 77 days: weekly bins, one video per group in each.
    assert found.unit == "week"
    assert found.bins[0] == datetime.date(2024, 1, 1) and len(found.bins) == 12
    health = DEFAULT_TREND.theme
    for group, rise in (("A", DEFAULT_TREND.rise), ("B", 0.0)):
        points = [s for s in found.shares if s.group == group and s.theme == health]
        assert [p.n_videos for p in points] == [1] * 12
        assert all(p.low is None for p in points), "one video per bin has no band"
        slope = np.polyfit(np.arange(12), [p.share for p in points], 1)[0]
        assert slope * 11 == pytest.approx(rise, abs=0.06)


def test_over_time_bins_by_the_span_with_a_band_over_the_bins_videos():
    day = datetime.datetime(2024, 3, 1)
    assert time_unit([day, day + datetime.timedelta(days=14)]) == "day"
    assert time_unit([day, day + datetime.timedelta(days=15)]) == "week"
    assert time_unit([day, day + datetime.timedelta(days=121)]) == "month"
    assert time_bin(datetime.datetime(2024, 3, 7, 19), "week") == datetime.date(2024, 3, 4)
    assert time_bin(datetime.datetime(2024, 3, 7), "month") == datetime.date(2024, 3, 1)
    dates = [day + datetime.timedelta(days=d) for d in (0, 3, 40, 41, 200)]
    seconds = np.array([[1.0, 1], [3, 1], [1, 0], [0, 1], [2, 2]])
    found = shares_over_time(seconds, ["A"] * 5, dates, n_bootstrap=200)
    assert found.unit == "month"
    assert [b.isoformat() for b in found.bins] == [
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
        "2024-06-01",
        "2024-07-01",
        "2024-08-01",
        "2024-09-01",
    ]
    march, april, september = (s for s in found.shares if s.theme == 0)
    # Airtime-weighted over the bin's two videos, with a band over them.
    assert (march.share, march.n_videos) == (pytest.approx(4 / 6), 2)
    assert march.low is not None and march.low <= march.share <= march.high
    assert (april.share, september.share, september.low) == (0.5, 0.5, None)


def test_covariate_effects_find_the_generators_effect_and_trend():
    seconds, groups, _, metadata = _generated_study()
    covariates = (
        Covariate("date", "date"),
        Covariate("outlet_type", "categorical", DEFAULT_COVARIATE.levels),
    )
    design, terms = design_matrix(covariates, metadata, groups, "week")
    assert [t.name for t in terms] == ["group=B", "outlet_type=state", "date"]
    assert (terms[1].reference, terms[2].unit) == ("commercial", "week")
    shares = seconds / seconds.sum(axis=1, keepdims=True)
    effects, warnings = covariate_effects(shares, design, terms, n_bootstrap=300)
    assert warnings == []
    found = {(e.theme, e.term.name): e for e in effects}
    state = found[DEFAULT_COVARIATE.theme, "outlet_type=state"]
    assert state.significant and state.low < DEFAULT_COVARIATE.effect < state.high
    assert state.estimate == pytest.approx(DEFAULT_COVARIATE.effect, abs=0.03)
    economy_b = found[1, "group=B"]
    assert economy_b.significant and economy_b.estimate == pytest.approx(0.05 - 0.5, abs=0.05)
    # Health rises in group A only: 20 points over 11 weeks there, none in B, so about
    # 0.9 points a week on average over both (the model has no group-by-time term).
    assert found[DEFAULT_TREND.theme, "date"].estimate == pytest.approx(0.2 / 11 / 2, abs=0.005)
    # A theme nothing acts on has no significant covariate effect.
    assert not found[5, "outlet_type=state"].significant
    sentence = effect_sentence(state.term, state.estimate, state.low, state.high, "economy")
    assert re.fullmatch(
        r"Videos from outlet_type=state give theme 'economy' \d+(\.\d)? points "
        r"\(\d+(\.\d)?–\d+(\.\d)?\) more airtime than outlet_type=commercial",
        sentence,
    )
    # The same seed, the same intervals.
    again, _ = covariate_effects(shares, design, terms, n_bootstrap=300)
    assert again == effects


def test_covariates_that_follow_the_group_give_no_effects_and_say_why():
    covariates = (Covariate("outlet_type", "categorical", ("commercial", "state")),)
    metadata = [{"outlet_type": "state"}] * 3 + [{"outlet_type": "commercial"}] * 3
    design, terms = design_matrix(covariates, metadata, ["A"] * 3 + ["B"] * 3)
    effects, warnings = covariate_effects(np.full((6, 2), 0.5), design, terms)
    assert effects == []
    assert warnings == [
        "no covariate effects: 6 videos cannot tell apart the 2 terms (group=B, "
        "outlet_type=state) and a mean; some go together (a covariate that follows the "
        "group?) or there are too few videos"
    ]


def test_effect_sentences_for_numbers_and_dates():
    assert effect_sentence(Term("size"), 0.031, 0.012, 0.05, "Vaccines") == (
        "Each unit more of size gives theme 'Vaccines' 3.1 points (1.2–5.0) more airtime"
    )
    assert effect_sentence(Term("date", unit="week"), -0.12, -0.19, -0.05, "Vaccines") == (
        "Each week later gives theme 'Vaccines' 12 points (5–19) less airtime"
    )


def test_an_interval_whose_end_rounds_to_zero_is_not_called_significant():
    from themescope.corpus.metadata import _effect_record

    term = Term("date", unit="week")
    assert Effect(0, term, -0.25, -0.41, -0.00001).significant
    record = _effect_record(Effect(0, term, -0.25, -0.41, -0.00001), "Vaccines")
    assert (record.high, record.significant, record.sentence) == (0.0, False, None)
    record = _effect_record(Effect(0, term, -0.25, -0.41, -0.001), "Vaccines")
    assert record.significant
    assert record.sentence == "Each week later gives theme 'Vaccines' 25 points (0–41) less airtime"
