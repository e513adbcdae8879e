"""Speech recognition with faster-whisper, from a local model folder only.

faster-whisper is optional (``pip install 'themescope[asr]'``) and imported only
when :func:`transcribe` runs. The model is a CTranslate2 conversion of Whisper
(for example Systran/faster-whisper-small, or the output of
``ct2-transformers-converter --model openai/whisper-small --copy_files
tokenizer.json preprocessor_config.json --output_dir DIR``) that the user has
already on disk: nothing is ever downloaded. The folder must hold
``tokenizer.json`` too, because faster-whisper fetches a tokenizer from the
Hugging Face hub when it is missing.

Audio is decoded with PyAV to 16 kHz mono float32 and handed to the model as an
array, so any container PyAV reads works; cue times are measured from the video
stream's first timestamp, like frame times.

faster-whisper runs in a child process (:mod:`themescope.media._asr_worker`),
never in the caller's: CTranslate2 and torch each bundle oneDNN with the same
symbols, and a process that has multiplied matrices with both can crash at exit
(exit status 139 after a successful run). A fresh ``python`` process rather than
:mod:`multiprocessing` runs it, because the "spawn" start method imports the
caller's ``__main__`` again in the child, which would load torch there too and
fails outright in scripts without an ``if __name__ == "__main__"`` guard.

Example:
    >>> t = transcribe("news.mp4", "models/faster-whisper-small", lang="zh")  # doctest: +SKIP
    >>> t.source, t.cues[0].text  # doctest: +SKIP
    ('asr', '大家好')

"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from themescope import errors
from themescope._progress import track
from themescope.errors import (
    BackendError,
    ConfigError,
    ModelLoadError,
    ThemescopeError,
    VideoDecodeError,
    VideoOpenError,
)
from themescope.media.frames.probe import stream_start_s
from themescope.media.transcripts.cues import Transcript, build_transcript

logger = logging.getLogger("themescope")

#: Whisper's input sampling rate.
SAMPLE_RATE_HZ = 16_000
#: Files a CTranslate2 Whisper folder must hold (one of each tuple).
REQUIRED_MODEL_FILES = (("model.bin",), ("tokenizer.json",), ("vocabulary.json", "vocabulary.txt"))
INSTALL_HINT = "pip install 'themescope[asr]'  (or: pip install faster-whisper)"
DEVICES = ("auto", "cpu", "cuda")
NOT_INSTALLED = f"speech recognition needs faster-whisper, which is not installed: {INSTALL_HINT}"


def check_model_dir(model_path: str | Path) -> Path:
    """Return ``model_path`` if it looks like a faster-whisper model folder, else raise.

    Raises:
        ModelLoadError: The path is missing, not a folder, or lacks one of
            :data:`REQUIRED_MODEL_FILES`.

    """
    path = Path(model_path).expanduser()
    if not path.exists():
        raise ModelLoadError(
            f"speech recognition model folder {path} does not exist (no download is attempted)"
        )
    if not path.is_dir():
        raise ModelLoadError(
            f"speech recognition model {path} must be a folder (a CTranslate2 Whisper model)"
        )
    for names in REQUIRED_MODEL_FILES:
        if not any((path / name).is_file() for name in names):
            raise ModelLoadError(
                f"{path} is not a CTranslate2 Whisper model folder: no {' or '.join(names)}; "
                "convert one with "
                "ct2-transformers-converter --model openai/whisper-small "
                "--copy_files tokenizer.json preprocessor_config.json --output_dir DIR"
            )
    return path


def load_audio(video_path: str | Path) -> tuple[np.ndarray, float]:
    """Decode the first audio stream of a file to 16 kHz mono float32.

    Corrupt packets are skipped (counted in the log) rather than ending the
    decode.

    Args:
        video_path: Any file PyAV can open.

    Returns:
        ``(samples, offset_s)``: the samples, shape (n_samples,), and the time of
        the first sample in seconds from the video stream's first timestamp.

    Raises:
        VideoOpenError: The file is missing or cannot be opened.
        VideoDecodeError: The file has no audio stream or no audio decodes.

    """
    import av

    path = Path(video_path)
    if not path.is_file():
        raise VideoOpenError(f"video file {path} does not exist or is not a file")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as ex:
        raise VideoOpenError(f"cannot open {path}: {ex}") from ex
    with container:
        if not container.streams.audio:
            raise VideoDecodeError(
                f"{path} has no audio stream, so there is no speech to recognise"
            )
        stream = container.streams.audio[0]
        video = container.streams.video
        video_start_s = stream_start_s(container, video[0]) if video else 0.0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE_HZ)
        chunks: list[np.ndarray] = []
        first_s: float | None = None
        n_corrupt = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                n_corrupt += 1
                continue
            for frame in frames:
                if first_s is None and frame.time is not None:
                    first_s = float(frame.time)
                for resampled in resampler.resample(frame):
                    chunks.append(resampled.to_ndarray().reshape(-1))
        for resampled in resampler.resample(None):
            chunks.append(resampled.to_ndarray().reshape(-1))
    if n_corrupt:
        logger.warning("%s: skipped %d corrupt audio packet(s)", path, n_corrupt)
    samples = (
        np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    )
    if samples.size == 0:
        raise VideoDecodeError(f"no audio could be decoded from {path}")
    offset_s = (first_s if first_s is not None else video_start_s) - video_start_s
    logger.info("decoded %.1f s of audio from %s", samples.size / SAMPLE_RATE_HZ, path)
    return samples, offset_s


def transcribe(
    video_path: str | Path,
    model_path: str | Path,
    *,
    lang: str | None = None,
    device: str = "auto",
    compute_type: str = "default",
    beam_size: int = 5,
    temperature: float | tuple[float, ...] = 0.0,
    seed: int = 0,
) -> Transcript:
    """Recognise the speech of a video with a local faster-whisper model.

    The recognition runs in a child process (see the module docstring); this
    process never loads CTranslate2.

    Args:
        video_path: The video (or audio) file.
        model_path: A CTranslate2 Whisper model folder (see the module docstring).
        lang: Language code ("en", "zh") or None / "auto" to let Whisper detect it.
        device: "auto", "cpu" or "cuda".
        compute_type: CTranslate2 compute type ("default", "int8", "float16", ...).
        beam_size: Beam width of the decoder.
        temperature: 0.0 decodes deterministically (beam search). A tuple such
            as ``(0.0, 0.2, 0.4, 0.6, 0.8, 1.0)`` enables Whisper's fallback to
            sampling on segments that decode badly; the sampling is seeded.
        seed: Seed of CTranslate2's sampling (used only with a temperature > 0).

    Returns:
        A transcript with source "asr", one cue per recognised segment.

    Raises:
        ModelLoadError: faster-whisper is not installed, or the model folder is
            missing, incomplete or cannot be loaded.
        VideoOpenError, VideoDecodeError: The file cannot be read or has no audio.
        ConfigError: ``device``, ``beam_size`` or the language is invalid.
        BackendError: The worker process died (killed, or crashed) before it
            finished.

    """
    if device not in DEVICES:
        raise ConfigError(f"ASR device must be one of {', '.join(DEVICES)}; got {device!r}")
    if beam_size < 1:
        raise ConfigError(f"beam_size must be at least 1, got {beam_size}")
    model_dir = check_model_dir(model_path)
    # find_spec looks without importing: importing faster-whisper here would load
    # CTranslate2 into this process, which is what the worker exists to avoid.
    if importlib.util.find_spec("faster_whisper") is None:
        raise ModelLoadError(NOT_INSTALLED)
    request = {
        "video_path": str(video_path),
        "model_dir": str(model_dir),
        "lang": None if lang in (None, "auto", "und") else lang,
        "device": device,
        "compute_type": compute_type,
        "beam_size": beam_size,
        "temperature": temperature,
        "seed": seed,
        "log_level": logger.getEffectiveLevel(),
    }
    logger.info("recognising speech in %s with %s on %s", video_path, model_dir, device)
    done: dict[str, Any] = {}
    raw = list(track(_run_worker(request, done), "Recognising speech"))
    logger.info(
        "speech recognition: %d segment(s), language %s (p=%.2f)",
        len(raw),
        done["language"],
        done["language_probability"],
    )
    return build_transcript(
        raw,
        source="asr",
        duration_s=done["duration_s"],
        label=f"speech recognition of {video_path}",
    )


def _worker_command() -> list[str]:
    # Put this copy of themescope on the worker's path when a fresh interpreter
    # would not find it (a notebook that appended ../src to sys.path, say), but
    # leave the path alone otherwise: a site-packages folder in front of the
    # standard library could shadow it.
    package_root = str(Path(__file__).resolve().parents[2])
    bootstrap = (
        "import sys\n"
        "if sys.argv[1] not in sys.path:\n"
        "    sys.path.insert(0, sys.argv[1])\n"
        "from themescope.media._asr_worker import main\n"
        "main()\n"
    )
    return [sys.executable, "-X", "faulthandler", "-c", bootstrap, package_root]


def _run_worker(
    request: dict[str, Any], done: dict[str, Any]
) -> Iterator[tuple[float, float, str]]:
    """Run the worker on ``request``; yield its segments and fill ``done`` with its summary.

    The worker's log records are logged here again. Whatever ends this
    generator early (an error, Ctrl-C) kills the worker.
    """
    with subprocess.Popen(
        _worker_command(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    ) as proc:
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None  # both are PIPE
        try:
            # A worker that died at start closes the pipe; its exit status tells why.
            with contextlib.suppress(BrokenPipeError):
                stdin.write(json.dumps(request) + "\n")
                stdin.flush()
            for line in stdout:
                message = json.loads(line)
                if "segment" in message:
                    start_s, end_s, text = message["segment"]
                    yield float(start_s), float(end_s), str(text)
                elif "log" in message:
                    level, text = message["log"]
                    logger.log(level, "%s", text)
                elif "error" in message:
                    raise _worker_error(message["error"])
                else:
                    done.update(message["done"])
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            raise
    if not done or returncode != 0:
        raise BackendError(
            f"speech recognition failed: its worker process {_how_it_ended(returncode)} "
            "before it finished (see the messages above, if any)"
        )


def _worker_error(error: dict[str, Any]) -> Exception:
    cls = getattr(errors, error["type"] or "", None)
    if isinstance(cls, type) and issubclass(cls, ThemescopeError):
        return cls(error["message"])
    logger.debug("speech recognition worker traceback:\n%s", error.get("traceback", ""))
    return RuntimeError(f"speech recognition worker failed: {error['message']}")


def _how_it_ended(returncode: int) -> str:
    if returncode >= 0:
        return f"exited with status {returncode}"
    try:
        return f"was killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"was killed by signal {-returncode}"
