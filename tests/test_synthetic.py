"""The synthetic news-video generator: truth, subtitles, looks, determinism."""

from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from helpers import cli_error, run_cli
from themescope.errors import ConfigError
from themescope.media.frames import PyAVFrameSource, probe_video
from themescope.synthetic import SyntheticVideo, generate_news_video, read_headlines, read_truth

SMALL = {"duration_s": 24.0, "n_themes": 3, "width": 160, "height": 90, "segment_s": (4, 8)}


def _segments(truth: np.ndarray) -> list[tuple[int, int, int]]:
    cuts = [0, *list(np.nonzero(np.diff(truth))[0] + 1), len(truth)]
    return [(int(a), int(b), int(truth[a])) for a, b in itertools.pairwise(cuts)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_files_other_seed_other_video(tmp_path: Path) -> None:
    a = generate_news_video(tmp_path / "a", seed=7, preset="ultrafast", **SMALL)  # type: ignore[arg-type]
    b = generate_news_video(tmp_path / "b", seed=7, preset="ultrafast", **SMALL)  # type: ignore[arg-type]
    c = generate_news_video(tmp_path / "c", seed=8, preset="ultrafast", **SMALL)  # type: ignore[arg-type]
    for attr in ("video_path", "subtitles_path", "truth_path"):
        assert _sha(getattr(a, attr)) == _sha(getattr(b, attr)), attr
    assert _sha(a.subtitles_path) != _sha(c.subtitles_path)
    assert _sha(a.video_path) != _sha(c.video_path)


def test_other_looks_draw_the_same_stories_differently(tmp_path: Path) -> None:
    a = generate_news_video(tmp_path / "a", seed=7, preset="ultrafast", **SMALL)  # type: ignore[arg-type]
    b = generate_news_video(tmp_path / "b", seed=7, preset="ultrafast", looks=(2, 0, 1), **SMALL)  # type: ignore[arg-type]
    assert _sha(a.subtitles_path) == _sha(b.subtitles_path)
    assert _sha(a.truth_path) == _sha(b.truth_path) and a.headlines == b.headlines
    assert _sha(a.video_path) != _sha(b.video_path)
    # story k of video B is drawn as story looks[k] of video A: the mean colour of a
    # frame of story 0 in B is that of a frame of story 2 in A
    truth = read_truth(a.truth_path)
    with (
        PyAVFrameSource(a.video_path, every_s=1.0, height=18) as source_a,
        PyAVFrameSource(b.video_path, every_s=1.0, height=18) as source_b,
    ):
        colour_a = [f.image.reshape(-1, 3).mean(axis=0) for f in source_a]
        colour_b = [f.image.reshape(-1, 3).mean(axis=0) for f in source_b]
    first = {k: int(np.nonzero(truth == k)[0][0]) for k in range(3)}
    for k, look in enumerate((2, 0, 1)):
        distance = {j: np.linalg.norm(colour_b[first[k]] - colour_a[first[j]]) for j in range(3)}
        assert min(distance, key=distance.__getitem__) == look


def test_video_matches_the_request(tmp_path: Path) -> None:
    video = generate_news_video(
        tmp_path, seed=1, fps=12, keyframe_every_s=1.5, preset="ultrafast", **SMALL
    )  # type: ignore[arg-type]
    info = probe_video(video.video_path)
    assert (info.width, info.height, info.codec) == (160, 90, "h264")
    assert info.fps == pytest.approx(12)
    assert info.duration_s == pytest.approx(24.0, abs=0.1)
    assert video.duration_s == 24.0
    import av

    with av.open(str(video.video_path)) as container:
        stream = container.streams.video[0]
        keyframes = [
            float(p.pts * stream.time_base) for p in container.demux(stream) if p.is_keyframe
        ]
    assert keyframes == pytest.approx(list(np.arange(0, 24, 1.5)))


def test_truth_covers_every_second_and_themes_alternate(
    synthetic_video_en: SyntheticVideo,
) -> None:
    truth = read_truth(synthetic_video_en.truth_path)
    assert truth.shape == (80,)
    assert set(truth.tolist()) == {0, 1, 2, 3}
    segments = _segments(truth)
    assert len(segments) >= 5
    assert all(a[2] != b[2] for a, b in itertools.pairwise(segments))
    # Segments of 8–16 s, except the last one, cut by the end of the video.
    assert all(8 <= end - start <= 16 for start, end, _ in segments[:-1])


def _cue_theme(truth: np.ndarray, event: pysubs2.SSAEvent) -> int:
    themes = set(truth[int(event.start // 1000) : int(np.ceil(event.end / 1000))].tolist())
    assert len(themes) == 1, "a cue straddles two segments"
    return themes.pop()


def test_english_subtitles_use_their_themes_words(synthetic_video_en: SyntheticVideo) -> None:
    video = synthetic_video_en
    truth = read_truth(video.truth_path)
    subs = pysubs2.load(str(video.subtitles_path), encoding="utf-8")
    assert len(subs) >= 20
    word_theme = {w: k for k, words in video.theme_words.items() for w in words}
    seen: dict[int, set[str]] = {k: set() for k in video.theme_words}
    previous_end = 0
    for event in subs:
        assert 500 <= event.end - event.start <= 4000
        assert event.start >= previous_end  # in order, no overlap
        previous_end = event.end
        theme = _cue_theme(truth, event)
        words = re.findall(r"[a-z]+", event.plaintext.lower())
        assert 8 <= len(words) <= 15
        for word in words:
            if word in word_theme:
                assert word_theme[word] == theme, (word, event.plaintext)
                seen[theme].add(word)
    assert all(len(words) >= 5 for words in seen.values())
    assert subs[-1].end <= video.duration_s * 1000


def test_chinese_subtitles_are_utf8_chinese_with_theme_words(
    synthetic_video_zh: SyntheticVideo,
) -> None:
    video = synthetic_video_zh
    assert video.lang == "zh"
    raw = video.subtitles_path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    truth = read_truth(video.truth_path)
    subs = pysubs2.load(str(video.subtitles_path), encoding="utf-8")
    hits = {k: 0 for k in video.theme_words}
    for event in subs:
        text = event.plaintext
        assert re.fullmatch(r"[\u4e00-\u9fff，。]+", text), text
        theme = _cue_theme(truth, event)
        hits[theme] += sum(text.count(w) for w in video.theme_words[theme])
    assert all(n >= 10 for n in hits.values()), hits


def test_looks_are_distinct_per_theme_and_vary_within(synthetic_video_en: SyntheticVideo) -> None:
    truth = read_truth(synthetic_video_en.truth_path)
    with PyAVFrameSource(synthetic_video_en.video_path, every_s=1.0, height=18) as source:
        frames = list(source)
    features = np.stack([f.image.astype(np.float32).ravel() / 255 for f in frames])
    labels = np.array([truth[int(f.time_s)] for f in frames])
    distances = np.linalg.norm(features[:, None] - features[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    # Leave-one-out nearest neighbour recovers the theme of (nearly) every frame...
    accuracy = float(np.mean(labels[distances.argmin(axis=1)] == labels))
    assert accuracy >= 0.9
    # ...yet frames of one theme are not copies of each other.
    for k in range(4):
        members = features[labels == k]
        assert np.std(members, axis=0).mean() > 0.01
    # Frames of one theme are on average closer to each other than to other themes.
    same = distances[(labels[:, None] == labels[None]) & np.isfinite(distances)].mean()
    other = distances[labels[:, None] != labels[None]].mean()
    assert other > 1.3 * same


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"lang": "fr"}, "lang must be 'en' or 'zh'"),
        ({"n_themes": 0}, "n_themes must be between 1 and 6"),
        ({"n_themes": 7}, "n_themes must be between 1 and 6"),
        ({"width": 161}, "width and height must be even"),
        ({"duration_s": 1.0}, "duration_s must be at least 2 seconds"),
        ({"n_themes": 2, "looks": (0, 0)}, r"looks must give 2 different looks in 0..5"),
        ({"n_themes": 2, "looks": (0, 6)}, r"looks must give 2 different looks in 0..5"),
        ({"n_themes": 2, "looks": (1,)}, r"looks must give 2 different looks in 0..5"),
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        generate_news_video(tmp_path, **kwargs)


def test_read_truth_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text("second,theme\n1,2\n0,1\n2,0\n")
    assert read_truth(path).tolist() == [1, 2, 0]


def test_demo_data_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["demo-data", "--out", str(tmp_path), "--lang", "zh", "--minutes", "0.2"]
    args += ["--themes", "2", "--width", "64", "--height", "36", "--fps", "5", "--seed", "3"]
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert "wrote 12 s video with 2 themes (zh)" in out
    assert out.splitlines()[-1] == (
        f"next: themescope summarize {tmp_path / 'news_zh.mp4'} --subtitles "
        f"{tmp_path / 'news_zh.srt'} --out {tmp_path / 'run'}"
    )
    truth = read_truth(tmp_path / "news_zh.truth.csv")
    assert truth.shape == (12,) and set(truth.tolist()) <= {0, 1}
    assert probe_video(tmp_path / "news_zh.mp4").duration_s == pytest.approx(12.0, abs=0.3)
    assert pysubs2.load(str(tmp_path / "news_zh.srt"), encoding="utf-8")

    refused = cli_error(capsys, "demo-data", "--out", str(tmp_path), "--themes", "9")
    assert "n_themes must be between 1 and 6; got 9" in refused


def test_headlines_follow_the_stories_and_the_bug_stays(synthetic_video_zh: SyntheticVideo) -> None:
    video = synthetic_video_zh
    truth = read_truth(video.truth_path)
    per_second = read_headlines(video.truth_path)
    assert len(per_second) == len(truth)
    assert [(a, b) for a, b, _ in video.headlines] == [(a, b) for a, b, _ in _segments(truth)]
    for (start, end, text), (_, _, theme) in zip(video.headlines, _segments(truth), strict=True):
        assert set(per_second[start:end]) == {text}
        # Written in the video's language, from the words of the story's theme.
        assert re.fullmatch(r"[\u4e00-\u9fff]+", text), text
        assert sum(text.count(w) for w in video.theme_words[theme]) >= 3
    assert all(a[2] != b[2] for a, b in itertools.pairwise(video.headlines))
    assert video.channel_bug == "新闻台"


def test_without_a_cjk_font_chinese_headlines_fall_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("themescope.synthetic.find_cjk_font", lambda: None)
    video = generate_news_video(tmp_path, lang="zh", seed=2, preset="ultrafast", **SMALL)  # type: ignore[arg-type]
    assert "no CJK font found (install fonts-noto-cjk)" in caplog.text
    assert video.channel_bug == "TS NEWS"
    assert all(re.fullmatch(r"[A-Z ]+", text) for _, _, text in video.headlines)
    # The subtitles stay Chinese.
    assert re.search(r"[\u4e00-\u9fff]", video.subtitles_path.read_text(encoding="utf-8"))
