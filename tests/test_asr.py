"""Speech recognition: clear errors without faster-whisper or a model, audio decoding, and a
real run of faster-whisper on a tiny Whisper model built here (when faster-whisper is installed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from themescope.errors import ConfigError, ModelLoadError, VideoDecodeError, VideoOpenError
from themescope.media.asr import SAMPLE_RATE_HZ, check_model_dir, load_audio, transcribe


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def make_video(
    path: Path, *, audio: bool, duration_s: float = 2.0, audio_delay_s: float = 0.0
) -> Path:
    cmd = [
        _ffmpeg(),
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"color=c=gray:s=64x48:d={duration_s}:r=5",
    ]
    if audio:
        if audio_delay_s:
            cmd += ["-itsoffset", str(audio_delay_s)]
        cmd += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={duration_s}"]
        cmd += ["-c:a", "aac", "-ac", "2"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return path


def fake_model_dir(path: Path) -> Path:
    """A folder with the right file names but no real model in it."""
    path.mkdir()
    (path / "model.bin").write_bytes(b"not a ctranslate2 model")
    (path / "tokenizer.json").write_text("{}")
    (path / "vocabulary.json").write_text("[]")
    return path


# --------------------------------------------------------------------------- model folder


def test_missing_model_path(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        check_model_dir(tmp_path / "whisper-small")


def test_model_path_is_a_file(tmp_path):
    file = tmp_path / "model.bin"
    file.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="must be a folder"):
        check_model_dir(file)


@pytest.mark.parametrize("missing", ["model.bin", "tokenizer.json", "vocabulary.json"])
def test_incomplete_model_dir(tmp_path, missing):
    model = fake_model_dir(tmp_path / "m")
    (model / missing).unlink()
    with pytest.raises(
        ModelLoadError, match=rf"not a CTranslate2 Whisper model folder: no {missing}"
    ):
        check_model_dir(model)


def test_transcribe_checks_model_before_anything(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        transcribe(tmp_path / "no-video.mp4", tmp_path / "no-model")


def test_faster_whisper_not_installed(tmp_path, monkeypatch):
    # None in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "faster_whisper", None)
    model = fake_model_dir(tmp_path / "m")
    with pytest.raises(
        ModelLoadError, match=r"faster-whisper, which is not installed: pip install"
    ):
        transcribe(tmp_path / "v.mp4", model)


def test_bad_device_and_beam(tmp_path):
    with pytest.raises(ConfigError, match="device"):
        transcribe(tmp_path / "v.mp4", tmp_path, device="tpu")
    with pytest.raises(ConfigError, match="beam_size"):
        transcribe(tmp_path / "v.mp4", tmp_path, beam_size=0)


# --------------------------------------------------------------------------- audio


def test_load_audio_16k_mono_float32(tmp_path):
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=2.0)
    samples, offset_s = load_audio(video)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert samples.size == pytest.approx(2.0 * SAMPLE_RATE_HZ, rel=0.03)
    assert abs(offset_s) < 0.05
    spectrum = np.abs(np.fft.rfft(samples))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE_HZ / samples.size
    assert peak_hz == pytest.approx(440, abs=5)


def test_load_audio_offset_from_video_start(tmp_path):
    video = make_video(tmp_path / "late.mp4", audio=True, duration_s=2.0, audio_delay_s=0.5)
    _, offset_s = load_audio(video)
    assert offset_s == pytest.approx(0.5, abs=0.05)


def test_no_audio_stream(tmp_path):
    video = make_video(tmp_path / "silent.mp4", audio=False)
    with pytest.raises(VideoDecodeError, match="no audio stream"):
        load_audio(video)


def test_missing_or_unreadable_video(tmp_path):
    with pytest.raises(VideoOpenError, match="does not exist"):
        load_audio(tmp_path / "nope.mp4")
    bogus = tmp_path / "text.mp4"
    bogus.write_text("not a video")
    with pytest.raises(VideoOpenError):
        load_audio(bogus)


# --------------------------------------------------------------------------- with faster-whisper


def test_not_a_model_with_faster_whisper_installed(tmp_path):
    pytest.importorskip("faster_whisper")
    video = make_video(tmp_path / "a.mp4", audio=True)
    model = fake_model_dir(tmp_path / "m")
    with pytest.raises(ModelLoadError, match="cannot load the Whisper model"):
        transcribe(video, model, device="cpu")


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory) -> Path:
    """Convert a randomly initialised 1-layer Whisper with a 27-letter vocabulary to CTranslate2."""
    pytest.importorskip("faster_whisper")
    ctranslate2 = pytest.importorskip("ctranslate2")
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, WhisperConfig, WhisperForConditionalGeneration

    root = tmp_path_factory.mktemp("tiny_whisper")
    vocab = {ch: i for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz ")}
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]
    for token in specials:
        vocab[token] = len(vocab)
    for i in range(1501):  # timestamp tokens 0.00 .. 30.00 s follow <|notimestamps|>
        vocab[f"<|{i * 0.02:.2f}|>"] = len(vocab)
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<|endoftext|>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens(specials)
    hf_dir = root / "hf"
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", unk_token="<|endoftext|>"
    ).save_pretrained(hf_dir)
    eot = vocab["<|endoftext|>"]
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=80,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        decoder_start_token_id=vocab["<|startoftranscript|>"],
        eos_token_id=eot,
        pad_token_id=eot,
        bos_token_id=eot,
    )
    torch.manual_seed(0)
    WhisperForConditionalGeneration(config).save_pretrained(hf_dir)
    ct2_dir = root / "ct2"
    converter = ctranslate2.converters.TransformersConverter(
        str(hf_dir), copy_files=["tokenizer.json"]
    )
    converter.convert(str(ct2_dir))
    assert json.loads((ct2_dir / "config.json").read_text())["lang_ids"] == []  # English-only
    return ct2_dir


@pytest.mark.slow
def test_transcribe_with_a_tiny_local_model(tmp_path, tiny_whisper):
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=3.0)
    t = transcribe(video, tiny_whisper, device="cpu", beam_size=1)
    assert t.source == "asr" and t.encoding is None
    # A random model says nonsense, but it says it inside the audio's 3 seconds, in order.
    assert t.cues, "the tiny model produced no segment"
    assert all(0.0 <= c.start_s < c.end_s <= 3.0 + 0.05 for c in t.cues)
    assert [c.start_s for c in t.cues] == sorted(c.start_s for c in t.cues)
    assert all(set(c.text) <= set("abcdefghijklmnopqrstuvwxyz ") for c in t.cues)
    again = transcribe(video, tiny_whisper, device="cpu", beam_size=1)
    assert [c.text for c in again.cues] == [c.text for c in t.cues]  # deterministic
