"""The PyAV frame sampler: times, seeking, rotation, damaged files and bad input.

Test videos are built here: every frame draws its own index as 10 black/white
blocks, so a test can read back which frame the sampler returned.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest

from themescope.errors import ConfigError, VideoDecodeError, VideoOpenError
from themescope.media import frames as frames_mod
from themescope.media.frames import (
    MAX_SAMPLED_FRAMES,
    PyAVFrameSource,
    SampledFrame,
    VideoInfo,
    check_sampling_plan,
    probe_video,
    sample_times,
)
from themescope.media.transcripts import read_embedded_subtitles

W, H = 320, 180
N_BITS = 10


def _index_image(i: int) -> np.ndarray:
    img = np.full((H, W, 3), 128, np.uint8)
    for b in range(N_BITS):
        img[: H // 2, b * 32 : (b + 1) * 32] = 255 if (i >> b) & 1 else 0
    # An asymmetric marker (top-left corner) tells the orientation.
    img[H - 30 :, :40] = (255, 0, 0)
    return img


def _read_index(img: np.ndarray) -> int:
    h, w = img.shape[:2]
    block = w / N_BITS
    grey = img.mean(axis=2)
    value = 0
    for b in range(N_BITS):
        x0, x1 = int(b * block + block * 0.25), int((b + 1) * block - block * 0.25)
        if grey[int(h * 0.05) : int(h * 0.45), x0:x1].mean() > 128:
            value |= 1 << b
    return value


def _write_indexed(
    path: Path,
    times_s: np.ndarray,
    *,
    fmt: str | None = None,
    gop: int = 20,
    rotation_deg: int = 0,
    faststart: bool = False,
    preset: str = "ultrafast",
) -> Path:
    """Encode one frame per time in ``times_s`` (seconds, any spacing), frame i showing i."""
    time_base = Fraction(1, 1000)
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format=fmt, options=options) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = time_base
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {
            "preset": preset,
            "keyint_min": str(gop),
            "sc_threshold": "0",
            "qp": "10",
        }
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        for i, t in enumerate(times_s):
            frame = av.VideoFrame.from_ndarray(_index_image(i), format="rgb24")
            frame.pts = round(float(t) / time_base)
            frame.time_base = time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _sample(path: Path, **kwargs: object) -> tuple[list[SampledFrame], PyAVFrameSource]:
    kwargs.setdefault("height", None)
    with PyAVFrameSource(path, **kwargs) as source:  # type: ignore[arg-type]
        return list(source), source


def _expected_index(times_s: np.ndarray, requested_s: float) -> int:
    """The first frame at or after the requested time (the last frame past the end)."""
    i = int(np.searchsorted(times_s, requested_s - 1e-6))
    return min(i, len(times_s) - 1)


@pytest.fixture(scope="module")
def cfr_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    times = np.arange(300) / 10.0  # 30 s at 10 fps, keyframe every 2 s
    return _write_indexed(tmp_path_factory.mktemp("cfr") / "cfr.mp4", times), times


def test_sample_times() -> None:
    assert sample_times(5.0, 2.0) == [0.0, 2.0, 4.0]
    assert sample_times(4.0, 2.0) == [0.0, 2.0]
    assert sample_times(1.0, 10.0) == [0.0]
    with pytest.raises(ConfigError):
        sample_times(10.0, 0.0)


def test_probe_describes_the_video(cfr_video: tuple[Path, np.ndarray]) -> None:
    path, _ = cfr_video
    info = probe_video(path)
    assert isinstance(info, VideoInfo)
    assert info.duration_s == pytest.approx(30.0, abs=0.05)
    assert (info.width, info.height) == (W, H)
    assert info.fps == pytest.approx(10.0)
    assert (info.rotation_deg, info.codec, info.start_s) == (0, "h264", 0.0)
    assert not info.has_audio
    assert info.n_subtitle_streams == 0


@pytest.mark.parametrize("every_s", [2.0, 0.7, 3.3, 7.0])
@pytest.mark.parametrize("threads", [1, 0])
def test_frames_are_the_ones_at_or_after_each_requested_time(
    cfr_video: tuple[Path, np.ndarray], every_s: float, threads: int
) -> None:
    path, times = cfr_video
    frames, source = _sample(path, every_s=every_s, threads=threads)
    assert [f.requested_s for f in frames] == sample_times(30.0, every_s)
    for f in frames:
        expected = _expected_index(times, f.requested_s)
        assert _read_index(f.image) == expected, f.requested_s
        assert f.time_s == pytest.approx(times[expected], abs=1e-6)
        assert f.image.dtype == np.uint8 and f.image.shape == (H, W, 3)
    assert source.n_corrupt_packets == 0
    assert source.stopped_at_s is None


def test_workers_reach_every_keyframe_interval_of_a_clean_video(
    cfr_video: tuple[Path, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Targets between keyframes are decoded forward by the workers, the main decoder
    # decodes nothing (it would be a frame-threaded decoder using the cores unevenly).
    path, times = cfr_video
    decoded_by_main: list[float] = []
    frames_of = PyAVFrameSource._frames

    def spy(self: PyAVFrameSource, container: object, stream: object, cursor: object):  # type: ignore[no-untyped-def]
        for time_s, frame in frames_of(self, container, stream, cursor):  # type: ignore[arg-type]
            if cursor is self._main:
                decoded_by_main.append(time_s)
            yield time_s, frame

    monkeypatch.setattr(PyAVFrameSource, "_frames", spy)
    frames, source = _sample(path, every_s=0.7, threads=2)
    assert decoded_by_main == []
    assert [_read_index(f.image) for f in frames] == [
        _expected_index(times, f.requested_s) for f in frames
    ]
    assert source.n_corrupt_packets == 0


def test_never_returns_the_keyframe_a_seek_lands_on(tmp_path: Path) -> None:
    # Keyframes every 5 s, targets 1 s after each one: a seek lands 10 frames early.
    times = np.arange(400) / 10.0
    path = _write_indexed(tmp_path / "gop50.mp4", times, gop=50)
    with PyAVFrameSource(path, every_s=6.0, height=None) as source:
        frames = list(source)
    for f in frames:
        assert _read_index(f.image) == _expected_index(times, f.requested_s)


@pytest.mark.parametrize("every_s", [0.7, 1.3, 2.5, 5.0])
def test_b_frames_reordered_and_skipped_still_give_exact_frames(
    tmp_path_factory: pytest.TempPathFactory, every_s: float
) -> None:
    # veryfast uses B-frames (some of them non-reference, which the sampler lets the
    # decoder drop before each target) and the MP4 index holds decoding times.
    path = tmp_path_factory.getbasetemp() / "bframes.mp4"
    times = np.arange(300) / 10.0
    if not path.exists():
        _write_indexed(path, times, gop=25, preset="veryfast")
    with av.open(str(path)) as container:
        packets = list(container.demux(video=0))
        assert any(p.pts is not None and p.dts is not None and p.pts > p.dts for p in packets)
    for threads in (1, 0):
        frames, _ = _sample(path, every_s=every_s, threads=threads)
        assert [f.requested_s for f in frames] == sample_times(30.0, every_s)
        for f in frames:
            assert _read_index(f.image) == _expected_index(times, f.requested_s), f.requested_s


def test_variable_frame_rate_uses_timestamps(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.03, 0.25, 300))
    times -= times[0]
    path = _write_indexed(tmp_path / "vfr.mp4", times)
    frames, _ = _sample(path, every_s=1.5)
    assert len(frames) == len(sample_times(probe_video(path).duration_s, 1.5))
    for f in frames:
        expected = _expected_index(times, f.requested_s)
        assert _read_index(f.image) == expected
        assert f.time_s == pytest.approx(times[expected], abs=1e-3)


@pytest.mark.parametrize("fmt,suffix", [("mpegts", ".ts"), (None, ".mp4")])
def test_non_zero_start_time_is_subtracted(tmp_path: Path, fmt: str | None, suffix: str) -> None:
    times = np.arange(200) / 10.0 + 5.0
    path = _write_indexed(tmp_path / f"start{suffix}", times, fmt=fmt)
    frames, source = _sample(path, every_s=2.0)
    assert source.info.start_s == pytest.approx(5.0, abs=1e-3)
    assert [f.requested_s for f in frames] == sample_times(20.0, 2.0)
    for f in frames:
        assert _read_index(f.image) == round(f.requested_s * 10)
        assert f.time_s == pytest.approx(f.requested_s, abs=1e-3)


def _write_with_subtitles(path: Path, video_start_s: float, cues: list[tuple[float, str]]) -> Path:
    """Indexed frames at 10 fps from ``video_start_s``, plus a SubRip stream of 1 s cues.

    Cue times are absolute container timestamps, like the frames'.
    """
    time_base = Fraction(1, 1000)
    with av.open(str(path), "w", format="matroska") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        video.codec_context.time_base = time_base
        video.codec_context.options = {"preset": "ultrafast", "qp": "10"}
        subtitles = container.add_stream("subrip")
        subtitles.time_base = time_base
        # FFmpeg's SubRip encoder refuses to open without a header, though Matroska ignores it.
        subtitles.codec_context.subtitle_header = b"[Script Info]\nScriptType: v4.00+\n"
        for start_s, text in cues:
            packet = av.Packet(text.encode())
            packet.stream = subtitles
            packet.pts = packet.dts = round(start_s / time_base)
            packet.duration = round(1.0 / time_base)
            packet.time_base = time_base
            container.mux(packet)
        for i in range(100):
            frame = av.VideoFrame.from_ndarray(_index_image(i), format="rgb24")
            frame.pts = round((video_start_s + i / 10) / time_base)
            frame.time_base = time_base
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    return path


def test_frames_and_embedded_subtitles_share_one_origin(tmp_path: Path) -> None:
    # The video starts at 5 s; a cue before it makes the container start at 4.5 s. Both
    # the frames and the cues must be measured from the video's first timestamp.
    cues = [(4.5, "before the video"), (7.0, "frame 20"), (11.0, "frame 60")]
    path = _write_with_subtitles(tmp_path / "offset.mkv", 5.0, cues)
    with av.open(str(path)) as container:
        assert container.start_time == 4_500_000
        assert frames_mod.stream_start_s(container, container.streams.video[0]) == 5.0
    frames, _ = _sample(path, every_s=2.0)
    transcript = read_embedded_subtitles(path, duration_s=10.0)
    assert transcript is not None
    for cue in transcript.cues:
        if cue.text.startswith("frame "):
            frame = next(f for f in frames if f.requested_s == pytest.approx(cue.start_s))
            assert _read_index(frame.image) == int(cue.text.split()[1])
    assert {c.text: c.start_s for c in transcript.cues if c.text.startswith("frame")} == {
        "frame 20": pytest.approx(2.0),
        "frame 60": pytest.approx(6.0),
    }


def test_stream_start_falls_back_to_the_container() -> None:
    stream = SimpleNamespace(start_time=None, time_base=Fraction(1, 90_000))
    container = SimpleNamespace(start_time=1_400_000)
    assert frames_mod.stream_start_s(container, stream) == pytest.approx(1.4)
    assert frames_mod.stream_start_s(SimpleNamespace(start_time=None), stream) == 0.0
    stream.start_time = 450_000
    assert frames_mod.stream_start_s(container, stream) == pytest.approx(5.0)


def test_mpegts_without_index_seeks_by_estimate_and_checks(tmp_path: Path) -> None:
    times = np.arange(600) / 10.0
    path = _write_indexed(tmp_path / "long.ts", times, fmt="mpegts", gop=30)
    frames, _ = _sample(path, every_s=9.0)
    assert [_read_index(f.image) for f in frames] == [round(f.requested_s * 10) for f in frames]


@pytest.mark.parametrize("rotation_deg", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path: Path, rotation_deg: int) -> None:
    times = np.arange(30) / 10.0
    path = _write_indexed(tmp_path / "rot.mp4", times, rotation_deg=rotation_deg)
    info = probe_video(path)
    assert info.rotation_deg == rotation_deg
    portrait = rotation_deg in (90, 270)
    assert (info.width, info.height) == ((H, W) if portrait else (W, H))
    frames, _ = _sample(path, every_s=1.0)
    image = frames[1].image
    assert image.shape[:2] == ((W, H) if portrait else (H, W))
    # The red marker sits in the coded frame's bottom-left corner; rotating
    # counter-clockwise (the display matrix's direction, as FFmpeg's autorotate does)
    # moves it to the bottom-right (90), top-right (180) or top-left (270).
    red = (image[..., 0] > 200) & (image[..., 1] < 60)
    ys, xs = np.nonzero(red)
    h, w = image.shape[:2]
    corner = ("top" if ys.mean() < h / 2 else "bottom", "left" if xs.mean() < w / 2 else "right")
    assert (
        corner
        == {90: ("bottom", "right"), 180: ("top", "right"), 270: ("top", "left")}[rotation_deg]
    )
    unrotated = np.rot90(image, k=-rotation_deg // 90)
    assert _read_index(unrotated) == 10


def test_height_scales_keeping_aspect(cfr_video: tuple[Path, np.ndarray]) -> None:
    path, _ = cfr_video
    frames, _ = _sample(path, every_s=10.0, height=90)
    assert {f.image.shape for f in frames} == {(90, 160, 3)}
    assert [_read_index(f.image) for f in frames] == [0, 100, 200]
    # Never upscaled.
    frames, _ = _sample(path, every_s=10.0, height=720)
    assert {f.image.shape for f in frames} == {(H, W, 3)}


def test_every_longer_than_the_video_still_gives_the_first_frame(
    cfr_video: tuple[Path, np.ndarray],
) -> None:
    path, _ = cfr_video
    frames, _ = _sample(path, every_s=100.0)
    assert [(f.requested_s, f.time_s, _read_index(f.image)) for f in frames] == [(0.0, 0.0, 0)]


@pytest.mark.parametrize("every_s", [0.0, -2.0, float("nan")])
def test_every_must_be_positive(cfr_video: tuple[Path, np.ndarray], every_s: float) -> None:
    with pytest.raises(ConfigError, match="every_s must be a positive number of seconds"):
        PyAVFrameSource(cfr_video[0], every_s=every_s)


def _info(duration_s: float, fps: float) -> VideoInfo:
    return VideoInfo(Path("v.mp4"), duration_s, W, H, fps, 0, "h264", 0.0, False, 0)


@pytest.mark.parametrize(
    ("every_s", "fps", "message"),
    [
        (
            0.05,
            10.0,
            "--every 0.05 s is shorter than the video's frame interval (0.1 s at 10 fps) "
            "and would repeat frames; choose --every 0.1 or more",
        ),
        (
            0.03,
            29.97,
            "--every 0.03 s is shorter than the video's frame interval (0.03337 s at 29.97 fps) "
            "and would repeat frames; choose --every 0.0334 or more",
        ),
    ],
)
def test_every_below_the_frame_interval_is_refused(
    every_s: float, fps: float, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        check_sampling_plan(_info(60.0, fps), every_s)
    assert str(error.value) == message
    suggested = float(message.rsplit("--every ", 1)[1].split()[0])
    check_sampling_plan(_info(60.0, fps), suggested)


@pytest.mark.parametrize(("every_s", "fps"), [(0.1, 10.0), (0.033, 29.97), (0.001, 0.0)])
def test_every_at_the_frame_interval_or_with_an_unknown_rate_is_accepted(
    every_s: float, fps: float
) -> None:
    check_sampling_plan(_info(20.0, fps), every_s)


def test_a_plan_over_the_frame_cap_is_refused_and_the_suggestion_fits() -> None:
    thirty_hours = _info(30 * 3600.0, 25.0)
    with pytest.raises(ConfigError) as error:
        check_sampling_plan(thirty_hours, 2.0)
    assert str(error.value) == (
        "--every 2 s would sample 54,000 frames from 108000.0 s of video, more than the "
        "50,000 a run can hold; choose --every 2.16 or more"
    )
    check_sampling_plan(thirty_hours, 2.16)
    assert len(sample_times(thirty_hours.duration_s, 2.16)) <= MAX_SAMPLED_FRAMES


def test_the_issues_every_0_001_is_refused_before_any_decoding() -> None:
    # 60 s at an unknown frame rate: only the cap can stop 60,000 frames.
    with pytest.raises(ConfigError, match="would sample 60,000 frames"):
        check_sampling_plan(_info(60.0, 0.0), 0.001)


def _corrupt_packets(src: Path, dst: Path, indices: list[int]) -> None:
    """Overwrite the payload of the given video packets with random bytes."""
    with av.open(str(src)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(1)
    for i in indices:
        pos, size = packets[i]
        data[pos : pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))


def test_corrupt_packets_are_skipped_and_counted(tmp_path: Path) -> None:
    times = np.arange(600) / 10.0
    clean = _write_indexed(tmp_path / "clean.mp4", times, gop=600)  # decode forward throughout
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clean, damaged, [100, 250, 400])
    frames, source = _sample(damaged, every_s=2.0)
    assert source.n_corrupt_packets == 3
    assert source.stopped_at_s is None
    assert [f.requested_s for f in frames] == sample_times(60.0, 2.0)
    assert all(f.time_s >= f.requested_s - 1e-6 for f in frames)
    # Before the first damaged packet every frame is exact (after it, frames predicted
    # from a lost reference are concealed by the decoder, as in any player).
    early = [f for f in frames if f.requested_s < 10.0]
    assert [_read_index(f.image) for f in early] == [round(f.requested_s * 10) for f in early]


def test_workers_leave_corrupt_intervals_to_the_main_decoder(tmp_path: Path) -> None:
    # Keyframes every 2 s: workers decode the intervals, and give the damaged ones back
    # to the main decoder, which counts what it skips as it does without workers.
    times = np.arange(600) / 10.0
    clean = _write_indexed(tmp_path / "clean.mp4", times, gop=20)
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clean, damaged, [105, 255, 405])
    parallel, with_workers = _sample(damaged, every_s=0.7, threads=2)
    serial, alone = _sample(damaged, every_s=0.7, threads=1)
    assert with_workers.n_corrupt_packets == alone.n_corrupt_packets == 3
    assert with_workers.stopped_at_s is None
    assert [(f.requested_s, f.time_s) for f in parallel] == [
        (f.requested_s, f.time_s) for f in serial
    ]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(parallel, serial, strict=True))
    # Frames in the intervals without damage are exact.
    clean_frames = [f for f in parallel if f.requested_s // 2 * 2 not in (10.0, 24.0, 40.0)]
    assert [_read_index(f.image) for f in clean_frames] == [
        _expected_index(times, f.requested_s) for f in clean_frames
    ]


def test_too_many_failures_in_a_row_stop_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("themescope.media.frames.sampler.MAX_CONSECUTIVE_DECODE_FAILURES", 2)
    times = np.arange(300) / 10.0
    clean = _write_indexed(tmp_path / "clean.mp4", times, gop=300)
    damaged = tmp_path / "damaged.mp4"
    _corrupt_packets(clean, damaged, list(range(150, 160)))
    frames, source = _sample(damaged, every_s=2.0)
    assert source.n_corrupt_packets >= 2
    assert source.stopped_at_s == pytest.approx(14.9, abs=0.05)
    assert [f.requested_s for f in frames] == sample_times(15.0, 2.0)


def test_truncated_file_keeps_what_decodes(tmp_path: Path) -> None:
    times = np.arange(600) / 10.0
    full = _write_indexed(tmp_path / "full.mp4", times, faststart=True)
    truncated = tmp_path / "truncated.mp4"
    data = full.read_bytes()
    truncated.write_bytes(data[: int(len(data) * 0.5)])
    frames, source = _sample(truncated, every_s=2.0)
    assert source.info.duration_s == pytest.approx(60.0, abs=0.1)  # the index still says 60 s
    assert source.stopped_at_s is not None and 20.0 < source.stopped_at_s < 40.0
    assert 10 < len(frames) < 20
    assert frames[-1].time_s <= source.stopped_at_s
    assert [_read_index(f.image) for f in frames] == [round(f.requested_s * 10) for f in frames]


def test_nothing_decodable_raises(tmp_path: Path) -> None:
    times = np.arange(100) / 10.0
    clean = _write_indexed(tmp_path / "clean.mp4", times, gop=100, faststart=True)
    data = bytearray(clean.read_bytes())
    # Keep the header (moov) and destroy all of the media data.
    mdat = data.find(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(bytes(data))
    with pytest.raises(VideoDecodeError, match=r"no frame could be decoded from .*broken\.mp4"):
        _sample(broken, every_s=2.0)


def test_stopping_early_does_not_hang(cfr_video: tuple[Path, np.ndarray]) -> None:
    path, _ = cfr_video
    outcome: list[object] = []

    def work() -> None:
        for _ in range(3):
            with PyAVFrameSource(path, every_s=0.5, threads=0) as source:
                iterator = iter(source)
                outcome.append(_read_index(next(iterator).image))
                outcome.append(_read_index(next(iterator).image))
            # The generator outlives the container: closing it must be harmless too.
            iterator.close()  # type: ignore[attr-defined]

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "decoder did not shut down"
    assert outcome == [0, 5] * 3


def test_stopping_early_with_keyframe_grabs_in_flight_leaves_no_threads(
    cfr_video: tuple[Path, np.ndarray],
) -> None:
    path, _ = cfr_video
    before = {t.name for t in threading.enumerate()}
    with PyAVFrameSource(path, every_s=2.0, threads=4) as source:
        iterator = iter(source)
        first = [next(iterator) for _ in range(3)]
    assert [_read_index(f.image) for f in first] == [0, 20, 40]
    leftover = {t.name for t in threading.enumerate()} - before
    assert not [name for name in leftover if name.startswith("themescope-decode")]
    # A complete run with 4 workers returns the same frames as one thread.
    parallel, _ = _sample(path, every_s=2.0, threads=4)
    serial, _ = _sample(path, every_s=2.0, threads=1)
    assert [f.time_s for f in parallel] == [f.time_s for f in serial]
    assert all(np.array_equal(a.image, b.image) for a, b in zip(parallel, serial, strict=True))


def test_info_needs_an_open_source(cfr_video: tuple[Path, np.ndarray]) -> None:
    source = PyAVFrameSource(cfr_video[0])
    with pytest.raises(RuntimeError, match="not open"):
        _ = source.info


# -- bad input ---------------------------------------------------------------------------


def _audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = 16000
            frame.pts = i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def _zero_duration(path: Path) -> Path:
    """A valid one-frame MP4 whose headers all say its duration is 0."""
    one = _write_indexed(path.with_name("one.mp4"), np.array([0.0]))
    data = bytearray(one.read_bytes())
    for box, offset in ((b"mvhd", 16), (b"mdhd", 16), (b"tkhd", 20)):
        i = data.find(box) + 4 + offset
        data[i : i + 4] = bytes(4)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d: d / "missing.mp4", r"^video not found: .*missing\.mp4$"),
        (
            lambda d: (d / "folder.mp4").mkdir() or d / "folder.mp4",
            r"^video path is a directory, not a file: .*folder\.mp4$",
        ),
        (
            lambda d: (d / "notes.mp4").write_text("not a video\n") and d / "notes.mp4",
            r"^cannot read .*notes\.mp4 as a video \(FFmpeg: Invalid data found when processing "
            r"input\)$",
        ),
        (
            lambda d: _audio_only(d / "audio.m4a"),
            r"^no video stream in .*audio\.m4a \(it holds 1 audio stream\(s\)\)$",
        ),
        (
            lambda d: (d / "empty.mp4").write_bytes(b"") or d / "empty.mp4",
            r"^video file is empty \(0 bytes\): .*empty\.mp4$",
        ),
        (lambda d: _zero_duration(d / "zero.mp4"), r"^video has zero duration: .*zero\.mp4$"),
    ],
    ids=["missing", "directory", "text-file", "audio-only", "zero-length", "zero-duration"],
)
def test_bad_input_gets_a_clear_error(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    with pytest.raises(VideoOpenError, match=message):
        probe_video(path)
    with pytest.raises(VideoOpenError, match=message), PyAVFrameSource(path):
        pass


def test_av_errors_are_chained(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("not a video\n")
    with pytest.raises(VideoOpenError) as info:
        probe_video(path)
    assert isinstance(info.value.__cause__, av.error.FFmpegError)


def test_synthetic_video_samples_cleanly(synthetic_video_en) -> None:  # type: ignore[no-untyped-def]
    with PyAVFrameSource(synthetic_video_en.video_path, every_s=2.0, height=90) as source:
        frames = list(source)
        assert source.info.duration_s == pytest.approx(synthetic_video_en.duration_s, abs=0.1)
    assert len(frames) == 40
    assert all(f.time_s == pytest.approx(f.requested_s, abs=1e-3) for f in frames)
    assert {f.image.shape for f in frames} == {(90, 160, 3)}
