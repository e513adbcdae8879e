"""Speech recognition: clear errors without faster-whisper or a model, audio decoding, and a
real run of faster-whisper on a tiny Whisper model built here (when faster-whisper is installed).

faster-whisper runs in a worker process so that CTranslate2 never shares a process with torch
(they crash together at exit). This module keeps the test process free of CTranslate2 too: it
checks for faster-whisper with find_spec, never importorskip, and converts the tiny model in a
subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from helpers import TINY_ENCODER_DECODER
from themescope.errors import (
    BackendError,
    ConfigError,
    ModelLoadError,
    VideoDecodeError,
    VideoOpenError,
)
from themescope.media import asr
from themescope.media.asr import SAMPLE_RATE_HZ, check_model_dir, load_audio, transcribe

needs_faster_whisper = pytest.mark.skipif(
    importlib.util.find_spec("faster_whisper") is None, reason="faster-whisper not installed"
)


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


@needs_faster_whisper
def test_not_a_model_with_faster_whisper_installed(tmp_path):
    video = make_video(tmp_path / "a.mp4", audio=True)
    model = fake_model_dir(tmp_path / "m")
    with pytest.raises(ModelLoadError, match="cannot load the Whisper model"):
        transcribe(video, model, device="cpu")


def convert_tiny_whisper(root: Path) -> Path:
    """Convert a randomly initialised 1-layer Whisper with a 27-letter vocabulary to CTranslate2.

    Runs in a subprocess (see :func:`tiny_whisper`): it loads CTranslate2 and torch together.
    """
    import ctranslate2
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, WhisperConfig, WhisperForConditionalGeneration

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
        **TINY_ENCODER_DECODER,
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


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory) -> Path:
    """The CTranslate2 folder of :func:`convert_tiny_whisper`, converted outside this process."""
    if importlib.util.find_spec("faster_whisper") is None:
        pytest.skip("faster-whisper not installed")
    root = tmp_path_factory.mktemp("tiny_whisper")
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_asr import convert_tiny_whisper
        convert_tiny_whisper(Path({str(root)!r}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return root / "ct2"


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


# --------------------------------------------------------------------------- the worker process


@pytest.mark.slow
def test_this_process_never_loads_ctranslate2(tmp_path, tiny_whisper):
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=2.0)
    assert transcribe(video, tiny_whisper, device="cpu", beam_size=1).cues
    assert "ctranslate2" not in sys.modules and "faster_whisper" not in sys.modules


@pytest.mark.slow
def test_torch_and_speech_recognition_in_one_process_exit_cleanly(tmp_path, tiny_whisper):
    # Before the worker, this script (torch matmuls around a transcription) ended with
    # exit status 139 after printing its result, in oneDNN's destructors.
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=2.0)
    script = textwrap.dedent(
        f"""
        import sys
        import torch
        from themescope.media.asr import transcribe
        a = torch.randn(512, 512)
        torch.nn.functional.linear(a, a).sum().item()
        (a @ a).sum().item()
        t = transcribe({str(video)!r}, {str(tiny_whisper)!r}, device="cpu", beam_size=1)
        (a @ a).sum().item()
        torch.nn.functional.linear(a, a).sum().item()
        print(len(t.cues), "ctranslate2" in sys.modules)
        """
    )
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stderr) == (0, "")
    n_cues, ctranslate2_loaded = done.stdout.split()
    assert int(n_cues) > 0 and ctranslate2_loaded == "False"


@pytest.mark.slow
def test_the_worker_exits_cleanly_run_after_run(tmp_path, tiny_whisper):
    # A worker that left through the C++ exit handlers died by SIGSEGV in CTranslate2's
    # oneDNN one time in three or four, after sending its results (issue 14): six clean runs
    # in a row happened about one time in ten.
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=2.0)
    texts = {
        tuple(c.text for c in transcribe(video, tiny_whisper, device="cpu", beam_size=1).cues)
        for _ in range(6)
    }
    assert len(texts) == 1


@needs_faster_whisper
def test_worker_errors_are_the_same_one_line_errors(tmp_path):
    model = fake_model_dir(tmp_path / "m")
    silent = make_video(tmp_path / "silent.mp4", audio=False)
    with pytest.raises(VideoDecodeError) as no_audio:
        transcribe(silent, model, device="cpu")
    assert str(no_audio.value) == (
        f"{silent} has no audio stream, so there is no speech to recognise"
    )
    with pytest.raises(VideoOpenError) as missing:
        transcribe(tmp_path / "nope.mp4", model, device="cpu")
    assert (
        str(missing.value) == f"video file {tmp_path / 'nope.mp4'} does not exist or is not a file"
    )


def _fake_worker(monkeypatch, code: str) -> None:
    """Make transcribe() start ``python -c code`` instead of the real worker."""
    command = [sys.executable, "-c", textwrap.dedent(code)]
    monkeypatch.setattr(asr, "_worker_command", lambda: command)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())


@pytest.mark.parametrize(
    ("code", "how"),
    [
        ("import sys; sys.exit(3)", "exited with status 3"),
        pytest.param(
            "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
            "was killed by SIGKILL",
            marks=pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
        ),
    ],
)
def test_a_dying_worker_is_one_clear_line(tmp_path, monkeypatch, code, how):
    _fake_worker(monkeypatch, code)
    with pytest.raises(BackendError) as ex:
        transcribe(tmp_path / "v.mp4", fake_model_dir(tmp_path / "m"))
    assert str(ex.value) == (
        f"speech recognition failed: its worker process {how} before it finished "
        "(see the messages above, if any)"
    )


def test_a_bug_in_the_worker_stays_a_bug(tmp_path, monkeypatch):
    _fake_worker(
        monkeypatch,
        """
        import json
        error = {"type": None, "message": "KeyError: 'x'", "traceback": "Traceback ..."}
        print(json.dumps({"error": error}))
        """,
    )
    with pytest.raises(RuntimeError, match=r"^speech recognition worker failed: KeyError: 'x'$"):
        transcribe(tmp_path / "v.mp4", fake_model_dir(tmp_path / "m"))


def test_an_interrupted_parent_ends_the_worker(monkeypatch):
    # The worker reports its pid as a segment, then would work for a minute.
    _fake_worker(
        monkeypatch,
        """
        import json, os, sys, time
        sys.stdin.readline()
        print(json.dumps({"segment": [0.0, 1.0, str(os.getpid())]}), flush=True)
        time.sleep(60)
        """,
    )
    segments = asr._run_worker({"log_level": 20}, {})
    _, _, pid = next(segments)
    with pytest.raises(KeyboardInterrupt):
        segments.throw(KeyboardInterrupt)
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int(pid), 0)


@pytest.mark.slow
def test_the_worker_stops_when_its_parent_is_gone(tmp_path, tiny_whisper):
    video = make_video(tmp_path / "a.mp4", audio=True, duration_s=2.0)
    request = {
        "video_path": str(video),
        "model_dir": str(tiny_whisper),
        "lang": None,
        "device": "cpu",
        "compute_type": "default",
        "beam_size": 1,
        "temperature": 0.0,
        "seed": 0,
        "log_level": 20,
    }
    # A parent that dies closes the worker's stdin, as this one does right after the request.
    worker = subprocess.run(
        asr._worker_command(),
        input=json.dumps(request) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 1
    assert '"done"' not in worker.stdout
