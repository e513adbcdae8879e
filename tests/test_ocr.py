"""On-screen text: headlines and channel bugs of generated news, reuse, no network, bad input."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image, ImageDraw, ImageFont

from themescope.errors import ConfigError, ModelLoadError, ThemescopeError
from themescope.media import ocr
from themescope.media.frames import PyAVFrameSource
from themescope.media.ocr import (
    OnScreenText,
    OnScreenTextReader,
    TextLine,
    add_ocr_columns,
    bundled_model_dir,
    resolve_reader,
)
from themescope.synthetic import SyntheticVideo, find_cjk_font, generate_news_video

pytest.importorskip("rapidocr")

# Two stories of 6 s, a frame every 2 s: each headline in 3 frames, the bug in all 6.
VIDEO = {"duration_s": 12.0, "n_themes": 2, "width": 480, "height": 270, "fps": 5}
VIDEO |= {"segment_s": (6, 6), "preset": "ultrafast"}
REINSTALL = "reinstall the rapidocr package: pip install --force-reinstall rapidocr==3.10.0"


@pytest.fixture(scope="module")
def reader() -> OnScreenTextReader:
    return OnScreenTextReader().load()


def _frames(video: SyntheticVideo) -> tuple[list[np.ndarray], list[float]]:
    with PyAVFrameSource(video.video_path, every_s=2.0, height=None) as source:
        frames = list(source)
    return [f.image for f in frames], [f.time_s for f in frames]


def _headline_at(video: SyntheticVideo, time_s: float) -> str:
    return next(text for start, end, text in video.headlines if start <= time_s < end)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


@pytest.fixture(scope="module", params=["en", "zh"])
def news(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SyntheticVideo:
    if request.param == "zh" and find_cjk_font() is None:
        pytest.skip("no CJK font installed (fonts-noto-cjk)")
    out = tmp_path_factory.mktemp(f"ocr_{request.param}")
    return generate_news_video(out, lang=request.param, seed=3, **VIDEO)  # type: ignore[arg-type]


def test_headlines_are_read_and_the_channel_bug_is_boilerplate(
    reader: OnScreenTextReader, news: SyntheticVideo
) -> None:
    images, times = _frames(news)
    found = reader.read(images, times)
    assert len(found.frames) == len(images) == 6
    for frame in found.frames:
        assert _squash(frame.text) == _squash(_headline_at(news, frame.time_s)), frame
        # The bug is still among the frame's lines, above the headline (reading order).
        assert _squash(frame.lines[0].text) == _squash(news.channel_bug)
        x0, y0, x1, y1 = frame.lines[-1].box
        assert 0 <= x0 < x1 <= 480 and 0.7 * 270 <= y0 < y1 <= 0.86 * 270
    assert [_squash(b.text) for b in found.boilerplate] == [_squash(news.channel_bug)]
    assert found.boilerplate[0].n_frames == 6 and found.boilerplate[0].share == 1.0
    # Two headlines and the bug are recognised once each; the rest is reused.
    assert found.n_lines_recognized == 3
    assert found.n_frames_ocred + found.n_frames_reused == 6
    assert found.n_frames_reused >= 2


def test_reuse_gives_the_same_text_as_reading_every_frame(
    reader: OnScreenTextReader, news: SyntheticVideo
) -> None:
    images, times = (x[2:5] for x in _frames(news))  # both stories
    full = OnScreenTextReader(reuse=False)
    full.engine_ = reader.engine_  # the same models, loaded once
    everything = full.read(images, times)
    assert everything.n_frames_ocred == 3 and everything.n_lines_recognized == 6
    assert [f.text for f in everything.frames] == [
        f.text for f in reader.read(images, times).frames
    ]


def test_an_unchanged_frame_is_not_read_again(
    reader: OnScreenTextReader, news: SyntheticVideo
) -> None:
    image = _frames(news)[0][0]
    found = reader.read([image, image.copy(), image.copy()], [0.0, 2.0, 4.0])
    assert (found.n_frames_ocred, found.n_frames_reused) == (1, 2)
    assert [f.reused for f in found.frames] == [False, True, True]
    assert found.frames[0].lines == found.frames[2].lines


def test_no_network_is_used(news: SyntheticVideo, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access during OCR")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr("requests.Session.request", refuse)
    images, times = _frames(news)
    found = OnScreenTextReader().read(images[:1], times[:1])  # loads the models afresh
    # One frame: too few for boilerplate, so the bug is part of the text.
    assert _squash(found.frames[0].text) == _squash(news.channel_bug + _headline_at(news, times[0]))


def _text_frame(width: int, height: int, text: str) -> np.ndarray:
    img = Image.new("RGB", (width, height), (20, 40, 90))
    font_path = find_cjk_font()
    size = height // 12
    font = (
        ImageFont.truetype(str(font_path), size, index=2)
        if font_path is not None and font_path.name.startswith("NotoSansCJK")
        else ImageFont.load_default(size)
    )
    ImageDraw.Draw(img).text((width // 10, height * 3 // 4), text, font=font, fill=(255, 255, 255))
    return np.asarray(img)


def test_frames_without_text_noise_4k_and_one_pixel_high(reader: OnScreenTextReader) -> None:
    blank = np.full((270, 480, 3), 90, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (270, 480, 3), dtype=np.uint8)
    uhd = _text_frame(3840, 2160, "STORM WARNING")
    thin = np.full((1, 480, 3), 200, np.uint8)
    grey = _text_frame(480, 270, "PRICES RISE")[..., 0]
    found = reader.read([blank, noise, uhd, thin, grey], [0.0, 2.0, 4.0, 6.0, 8.0])
    assert found.frames[0].lines == ()
    assert all(line.confidence >= reader.min_confidence for line in found.frames[1].lines)
    assert _squash(found.frames[2].text) == "stormwarning"
    x0, y0, x1, y1 = found.frames[2].lines[0].box  # in pixels of the 4K frame
    assert 300 < x0 < 500 and 1500 < y0 < y1 < 1900 and x1 > 1500
    assert found.frames[3].lines == () and found.n_frames_too_small == 1
    assert _squash(found.frames[4].text) == "pricesrise"
    assert found.boilerplate == ()


def test_bad_images(reader: OnScreenTextReader, tmp_path: Path) -> None:
    with pytest.raises(ThemescopeError, match=r"^cannot read image .*missing\.jpg: "):
        reader.read([tmp_path / "missing.jpg"], [0.0])
    with pytest.raises(ValueError, match=r"expected an RGB image of shape \(height, width, 3\)"):
        reader.read([np.zeros((10, 10, 4), np.uint8)], [0.0])
    with pytest.raises(ValueError, match="got 1 images but 2 times"):
        reader.read([np.zeros((10, 10, 3), np.uint8)], [0.0, 1.0])


def test_images_read_from_files(reader: OnScreenTextReader, tmp_path: Path) -> None:
    path = tmp_path / "frame.jpg"
    Image.fromarray(_text_frame(480, 270, "PRICES RISE")).save(path, quality=90)
    assert _squash(reader.read([path], [0.0]).frames[0].text) == "pricesrise"


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    for name, _ in ocr.MODEL_FILES.values():
        shutil.copy(bundled_model_dir() / name, tmp_path / name)
    return tmp_path


def test_missing_model_file(model_copy: Path) -> None:
    rec = model_copy / ocr.MODEL_FILES["rec"][0]
    rec.unlink()
    with pytest.raises(ModelLoadError) as caught:
        OnScreenTextReader(model_dir=model_copy).load()
    assert str(caught.value) == f"OCR model file {rec} is missing; {REINSTALL}"


def test_corrupt_model_file(model_copy: Path) -> None:
    det = model_copy / ocr.MODEL_FILES["det"][0]
    data = bytearray(det.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = bytes(64)
    det.write_bytes(bytes(data))
    reader = OnScreenTextReader(model_dir=model_copy)
    with pytest.raises(ModelLoadError) as caught:
        reader.load()
    assert str(caught.value) == f"OCR model file {det} is corrupt (checksum mismatch); {REINSTALL}"
    assert reader.engine_ is None


def test_model_the_runtime_cannot_load(model_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    det = model_copy / ocr.MODEL_FILES["det"][0]
    det.write_bytes(b"not an onnx model")
    files = dict(ocr.MODEL_FILES)
    files["det"] = (det.name, hashlib.sha256(det.read_bytes()).hexdigest())
    monkeypatch.setattr(ocr, "MODEL_FILES", files)
    with pytest.raises(ModelLoadError) as caught:
        OnScreenTextReader(model_dir=model_copy).load()
    message = str(caught.value)
    assert message.startswith(f"cannot load the OCR models in {model_copy}: ")
    assert message.endswith(REINSTALL) and "\n" not in message


def test_parameters_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = OnScreenTextReader(det_max_side=640, detect_every=1, n_threads=1)
    # threads change the speed, not the text: they are no part of the reader's identity
    assert reader.get_params() == {
        "det_max_side": 640,
        "min_confidence": 0.5,
        "boilerplate_share": 0.5,
        "boilerplate_min_frames": 5,
        "drop_noise": True,
        "reuse": True,
        "detect_every": 1,
        "model_dir": None,
    }
    with pytest.raises(ConfigError) as caught:
        OnScreenTextReader(det_max_side=10).load()
    assert str(caught.value) == (
        "The 'det_max_side' parameter of OnScreenTextReader must be an int in the range "
        "[64, 4096]. Got 10 instead."
    )
    assert resolve_reader("auto", reader) is reader and resolve_reader("off", reader) is None
    with pytest.raises(ConfigError) as caught:
        resolve_reader("on")
    assert str(caught.value) == "--ocr must be one of auto, off. Got 'on' instead."
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    assert ocr.ocr_available() is False and resolve_reader("auto") is None


def _line(text: str, box: tuple[float, float, float, float]) -> TextLine:
    return TextLine(text, box, 0.9)


def test_boilerplate_needs_most_frames_and_the_same_place() -> None:
    clock, bug, headline = (10, 10, 60, 25), (400, 10, 470, 30), (20, 200, 300, 230)
    frames = []
    for i in range(10):
        lines = [_line(f"12:0{i}", clock), _line("TS NEWS", bug)]
        if i < 4:  # a headline in 40 % of the frames
            lines.append(_line("FLOODS HIT COAST", headline))
        if i == 9:  # the bug's words elsewhere, as content
            lines.append(_line("TS NEWS", headline))
        frames.append(tuple(lines))
    found = ocr._find_boilerplate(frames, share=0.5, min_frames=5)
    assert [(b.text, b.n_frames) for b in found] == [("12:00", 10), ("TS NEWS", 10)]
    assert ocr._is_boilerplate(_line("12:07", clock), found)
    assert not ocr._is_boilerplate(_line("TS NEWS", headline), found)
    # Too few frames for the minimum: nothing is boilerplate.
    assert ocr._find_boilerplate(frames[:4], share=0.5, min_frames=5) == []


def test_columns_for_frames_parquet(tmp_path: Path) -> None:
    lines = (_line("TS NEWS", (1.0, 2.0, 3.0, 4.0)), _line("FLOODS", (5.0, 6.0, 7.5, 8.0)))
    found = OnScreenText(
        frames=(
            ocr.FrameText(0.0, "FLOODS", lines, False),
            ocr.FrameText(2.0, "", (), True),
        ),
        boilerplate=(),
        n_frames_ocred=1,
        n_frames_reused=1,
        n_frames_too_small=0,
        n_lines_recognized=2,
        n_lines_reused=0,
        seconds=0.5,
    )
    table = pa.table({"time_s": [0.0, 2.0]})
    pq.write_table(add_ocr_columns(table, found), tmp_path / "frames.parquet")
    back = pq.read_table(tmp_path / "frames.parquet")
    assert back.schema.field("ocr_lines").type == pa.list_(
        pa.struct(
            [("text", pa.string()), ("box", pa.list_(pa.float32())), ("confidence", pa.float32())]
        )
    )
    rows = back.to_pylist()
    assert rows[0]["ocr_text"] == "FLOODS" and rows[1] == {
        "time_s": 2.0,
        "ocr_text": "",
        "ocr_lines": [],
    }
    assert rows[0]["ocr_lines"][1]["box"] == [5.0, 6.0, 7.5, 8.0]
    assert rows[0]["ocr_lines"][0]["confidence"] == pytest.approx(0.9)
    with pytest.raises(
        ValueError, match="the frames table has 1 rows but on-screen text was read for 2"
    ):
        add_ocr_columns(pa.table({"time_s": [0.0]}), found)
    assert found.to_record()["n_frames_with_text"] == 1


def test_readings_that_differ_by_a_letter_are_one_boilerplate_item() -> None:
    bug, headline = (10, 10, 200, 30), (20, 200, 300, 230)
    readings = ["CBS SATURDAY MORNING"] * 4 + ["CCBS SATURDAYIMOR", "CBS SATURDAY M0RNING"]
    stories = ["FLOODS HIT COAST"] * 3 + ["MARKETS FALL"] * 3
    frames = [
        (TextLine(text, bug, 0.9), _line(story, headline))
        for text, story in zip(readings, stories, strict=True)
    ]
    found = ocr._find_boilerplate(frames, share=0.5, min_frames=5)
    assert [(b.text, b.n_frames, b.share) for b in found] == [("CBS SATURDAY MORNING", 6, 1.0)]
    assert ocr._is_boilerplate(_line("CCBS SATURDAYIMOR", bug), found)
    # Another text at the bug's place, or the bug's text elsewhere, is not the bug.
    assert not ocr._is_boilerplate(_line("WEATHER CENTRE", bug), found)
    assert not ocr._is_boilerplate(_line("CBS SATURDAY MORNING", headline), found)


def test_the_best_reading_is_the_commonest_then_the_most_confident() -> None:
    bug = (10, 10, 200, 30)
    frames = [(TextLine("TSN NEWS", bug, 0.7),)] * 3 + [(TextLine("TS NEWS", bug, 0.99),)] * 3
    assert [b.text for b in ocr._find_boilerplate(frames, 0.5, 5)] == ["TS NEWS"]


def test_lines_that_are_no_words_are_left_out_of_the_text(reader: OnScreenTextReader) -> None:
    overlay = _text_frame(480, 270, "Press Esc to exit full screen")
    headline = _text_frame(480, 270, "PRICES RISE")
    found = reader.read([overlay, headline], [0.0, 2.0])
    assert [_squash(line.text) for line in found.frames[0].lines] == ["pressesctoexitfullscreen"]
    assert [f.text for f in found.frames] == ["", "PRICES RISE"]
    assert found.n_lines_noise == {"player overlay": 1}
    assert found.to_record()["n_lines_noise"] == {"player overlay": 1}
    keep = OnScreenTextReader(drop_noise=False)
    keep.engine_ = reader.engine_
    assert _squash(keep.read([overlay], [0.0]).frames[0].text) == "pressesctoexitfullscreen"
