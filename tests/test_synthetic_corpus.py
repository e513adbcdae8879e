"""Synthetic corpora: theme mixtures met by the plan, groups that differ as told, a manifest."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest

from helpers import cli_error, run_cli
from themescope.corpus.spec import read_corpus
from themescope.errors import ConfigError
from themescope.synthetic import (
    DEFAULT_COVARIATE,
    DEFAULT_GROUPS,
    DEFAULT_TREND,
    THEME_TOPICS,
    SyntheticGroup,
    _plan_mixture,
    _video_mixtures,
    _video_targets,
    generate_corpus,
    generate_news_video,
    read_group_shares,
    read_truth,
    theme_shares,
)

# Tiny videos: the files and the plan are what is tested, not the pictures.
TINY = {"width": 32, "height": 18, "fps": 1, "preset": "ultrafast"}


def _truth(segments: list[tuple[int, int, int]]) -> np.ndarray:
    return np.concatenate([np.full(end - start, theme) for start, end, theme in segments])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("group", DEFAULT_GROUPS, ids=lambda g: g.name)
@pytest.mark.parametrize("seed", range(5))
def test_plan_meets_the_mixture_and_neighbours_differ(group: SyntheticGroup, seed: int) -> None:
    segments = _plan_mixture(np.random.default_rng(seed), 240, np.array(group.mixture), (10, 30))
    truth = _truth(segments)
    assert truth.size == 240
    assert [s for s, _, _ in segments] == [0, *[e for _, e, _ in segments[:-1]]]
    # Met to the nearest second.
    assert np.abs(theme_shares(truth, 6) - group.mixture).max() <= 1 / 240
    assert all(a[2] != b[2] for a, b in itertools.pairwise(segments))
    # Segments keep the requested lengths; only a theme with less airtime than the
    # shortest segment gets one shorter.
    assert all(end - start <= 30 for start, end, _ in segments)
    assert all(end - start >= 10 for start, end, k in segments if group.mixture[k] * 240 >= 10)


def test_plan_of_a_dominant_theme_and_an_absent_one() -> None:
    mixture = np.array([0.9, 0.1, 0.0])
    segments = _plan_mixture(np.random.default_rng(0), 100, mixture, (5, 10))
    shares = theme_shares(_truth(segments), 3)
    assert shares.tolist() == pytest.approx([0.9, 0.1, 0.0])
    # Neighbours cannot all differ; the dominant theme comes in its longest segments.
    assert all(end - start <= 10 for start, end, _ in segments)
    assert sum(k == 0 for _, _, k in segments) == 9


def test_plan_is_deterministic_per_seed() -> None:
    mixture = np.array(DEFAULT_GROUPS[0].mixture)
    plan = [_plan_mixture(np.random.default_rng(s), 240, mixture, (10, 30)) for s in (1, 1, 2)]
    assert plan[0] == plan[1] != plan[2]


def test_video_mixtures_vary_around_the_group_and_keep_its_mean() -> None:
    target = np.array(DEFAULT_GROUPS[1].mixture)
    mixtures = _video_mixtures(np.random.default_rng(0), target, 6)
    assert mixtures.mean(axis=0) == pytest.approx(target, abs=1e-12)
    assert mixtures.sum(axis=1) == pytest.approx(np.ones(6))
    assert (mixtures >= 0).all()
    assert mixtures.std(axis=0).min() > 0.005
    assert _video_mixtures(np.random.default_rng(0), target, 1)[0] == pytest.approx(target)
    # A theme a group never shows stays at zero in every video.
    absent = _video_mixtures(np.random.default_rng(0), np.array([0.5, 0.5, 0.0]), 4)
    assert (absent[:, 2] == 0).all()


def test_default_corpus_groups_meet_their_shares(tmp_path: Path) -> None:
    # 2 groups x 6 four-minute videos, as the corpus study's check uses, at 1 frame/s.
    corpus = generate_corpus(tmp_path, seed=0, **TINY)  # type: ignore[arg-type]
    assert corpus.theme_names == THEME_TOPICS
    assert [(m.group, m.video.lang) for m in corpus.videos] == [("A", "en")] * 6 + [("B", "zh")] * 6
    for group in DEFAULT_GROUPS:
        members = [m for m in corpus.videos if m.group == group.name]
        # The shares written are those of the truth...
        for member in members:
            truth = read_truth(member.video.truth_path)
            assert member.shares == pytest.approx(theme_shares(truth, 6).tolist())
        assert corpus.shares[group.name] == pytest.approx(
            np.mean([m.shares for m in members], axis=0).tolist()
        )
        # ...which meet the group's target within 2 points, while videos vary around it.
        assert np.abs(np.array(corpus.shares[group.name]) - group.mixture).max() < 0.02
        assert np.std([m.shares[1] for m in members]) > 0.005
    written = read_group_shares(corpus.shares_path)
    assert written == {g: pytest.approx(shares, abs=1e-6) for g, shares in corpus.shares.items()}


def test_corpus_manifest_is_read_by_read_corpus(tmp_path: Path) -> None:
    corpus = generate_corpus(tmp_path, n_per_group=2, duration_s=20, segment_s=(2, 5), **TINY)  # type: ignore[arg-type]
    spec = read_corpus(corpus.manifest_path)
    assert spec.warnings == ()
    assert [v.id for v in spec.videos] == ["a__news_01", "a__news_02", "b__news_01", "b__news_02"]
    assert [v.lang for v in spec.videos] == ["en", "en", "zh", "zh"]
    for video, member in zip(spec.videos, corpus.videos, strict=True):
        assert video.video == member.video.video_path.resolve()
        assert video.subtitles == member.video.subtitles_path.resolve()
        assert video.group == member.group
        assert video.metadata == {
            "seed": str(member.seed),
            "truth": member.video.truth_path.relative_to(tmp_path).as_posix(),
            "date": member.date.isoformat(),
        }
    assert list(spec.groups()) == ["A", "B"]
    # The folder is a corpus too: every video has its subtitles beside it.
    assert [v.id for v in read_corpus(tmp_path).videos] == [v.id for v in spec.videos]


def test_corpus_is_deterministic_per_seed(tmp_path: Path) -> None:
    small = {"n_per_group": 1, "duration_s": 12, "segment_s": (2, 4), **TINY}
    a = generate_corpus(tmp_path / "a", seed=3, **small)  # type: ignore[arg-type]
    b = generate_corpus(tmp_path / "b", seed=3, **small)  # type: ignore[arg-type]
    c = generate_corpus(tmp_path / "c", seed=4, **small)  # type: ignore[arg-type]
    files = [p.relative_to(tmp_path / "a") for p in sorted((tmp_path / "a").rglob("*.*"))]
    assert len(files) == 2 + 2 * 3
    for name in files:
        assert _sha(tmp_path / "a" / name) == _sha(tmp_path / "b" / name), name
    assert a.shares == b.shares
    assert [m.seed for m in a.videos] != [m.seed for m in c.videos]


def test_custom_groups(tmp_path: Path) -> None:
    groups = [SyntheticGroup("us", "en", (1, 1)), SyntheticGroup("cn", "zh", (1, 3))]
    corpus = generate_corpus(
        tmp_path, groups=groups, n_per_group=1, duration_s=20, segment_s=(2, 5), **TINY
    )  # type: ignore[arg-type]
    assert corpus.theme_names == ("politics", "economy")
    assert corpus.shares == {"us": pytest.approx((0.5, 0.5)), "cn": pytest.approx((0.25, 0.75))}
    assert (tmp_path / "cn" / "news_01.mp4").is_file()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_per_group": 0}, "n_per_group must be at least 1; got 0"),
        ({"groups": []}, "groups must name at least one group"),
        ({"lang": "en"}, "generate_corpus sets lang, n_themes, seed, mixture, name"),
        ({"groups": [SyntheticGroup("a/b", "en", (1,))]}, "group name 'a/b' must be letters"),
        (
            {"groups": [SyntheticGroup("A", "en", (1,)), SyntheticGroup("a", "en", (1,))]},
            "groups 'A' and 'a' have the same name",
        ),
        ({"groups": [SyntheticGroup("A", "en", (1,))] * 2}, "groups 'A' and 'A' have the same"),
        (
            {"groups": [SyntheticGroup("A", "en", (1, 1)), SyntheticGroup("B", "en", (1,))]},
            "group 'B' has 1",
        ),
        ({"groups": [SyntheticGroup("A", "fr", (1,))]}, "lang must be 'en' or 'zh'"),
        ({"groups": [SyntheticGroup("A", "en", (1, -1))]}, "mixture shares must be >= 0"),
        ({"width": 33}, "width and height must be even"),
    ],
)
def test_bad_corpus_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_corpus(tmp_path, duration_s=10, **kwargs)
    assert not any(tmp_path.iterdir()), "nothing is written before every argument is checked"


def test_bad_mixture_of_one_video(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"mixture must give one share per theme \(4\); got 3"):
        generate_news_video(tmp_path, mixture=(1, 1, 1))
    with pytest.raises(ConfigError, match="mixture shares must be >= 0 and not all 0"):
        generate_news_video(tmp_path, n_themes=2, mixture=(0, 0))


def test_demo_data_corpus_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["demo-data", "--out", str(tmp_path), "--corpus", "--per-group", "1"]
    args += ["--minutes", "0.2", "--width", "32", "--height", "18", "--fps", "1"]
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert "wrote 2 videos of 12 s in groups A (en), B (zh)" in out
    # The user is told what to run next, ready to paste.
    assert out.splitlines()[-1] == (
        f"next: themescope corpus {tmp_path / 'corpus.csv'} --out {tmp_path / 'study'}"
    )
    assert len(read_corpus(tmp_path / "corpus.csv").videos) == 2
    assert set(read_group_shares(tmp_path / "truth_shares.csv")) == {"A", "B"}

    for extra, message in [
        (["--corpus", "--lang", "zh"], "--lang and --themes do not apply to --corpus"),
        (["--per-group", "2"], "--per-group applies only with --corpus"),
    ]:
        assert message in cli_error(capsys, "demo-data", "--out", str(tmp_path / "x"), *extra)


def test_a_trend_and_a_covariate_effect_are_met_and_keep_the_groups_on_target() -> None:
    n_videos = 6
    a, b = DEFAULT_GROUPS
    health, economy = DEFAULT_TREND.theme, DEFAULT_COVARIATE.theme
    for group in DEFAULT_GROUPS:
        targets = _video_targets(group, n_videos, DEFAULT_TREND, DEFAULT_COVARIATE)
        assert targets.sum(axis=1) == pytest.approx(np.ones(n_videos))
        assert targets.mean(axis=0) == pytest.approx(group.mixture)
        # Videos take the levels in turn: state (odd) against commercial (even).
        # (Without the trend, which moves the economy too in group A.)
        alone = _video_targets(group, n_videos, None, DEFAULT_COVARIATE)
        gap = alone[1::2, economy].mean() - alone[0::2, economy].mean()
        assert gap == pytest.approx(DEFAULT_COVARIATE.effect)
    rising = _video_targets(a, n_videos, DEFAULT_TREND, None)[:, health]
    assert rising[-1] - rising[0] == pytest.approx(DEFAULT_TREND.rise)
    assert np.all(np.diff(rising) > 0)
    assert _video_targets(b, n_videos, DEFAULT_TREND, None)[:, health] == pytest.approx(
        np.full(n_videos, 0.3)
    )
    # The drawn mixtures vary about the targets and keep their mean.
    mixtures = _video_mixtures(
        np.random.default_rng(0), _video_targets(a, 6, DEFAULT_TREND, None), 6
    )
    assert mixtures.mean(axis=0) == pytest.approx(a.mixture)
    assert np.polyfit(np.arange(6), mixtures[:, health], 1)[0] * 5 == pytest.approx(0.2, abs=0.1)


def test_corpus_dates_and_covariate_are_in_the_manifest(tmp_path: Path) -> None:
    corpus = generate_corpus(
        tmp_path,
        n_per_group=2,
        duration_s=20,
        segment_s=(2, 5),
        days_apart=3,
        trend=DEFAULT_TREND,
        covariate=DEFAULT_COVARIATE,
        **TINY,  # type: ignore[arg-type]
    )
    spec = read_corpus(corpus.manifest_path)
    assert [(v.metadata["date"], v.metadata["outlet_type"]) for v in spec.videos] == [
        ("2024-01-01", "commercial"),
        ("2024-01-04", "state"),
    ] * 2


def test_a_trend_in_a_group_the_corpus_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match="the trend's group 'C' is not one of the corpus's groups"
    ):
        generate_corpus(tmp_path, trend=DEFAULT_TREND.__class__("C", 3, 0.2), **TINY)  # type: ignore[arg-type]
