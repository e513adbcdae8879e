"""The speech-recognition worker: faster-whisper runs here, in a process of its own.

:func:`themescope.media.asr.transcribe` starts this module as a fresh Python
process; nothing else imports it. CTranslate2 and torch each bundle their own
oneDNN and export the same symbols, and a process that has run matrix
products in both may crash in oneDNN's destructors at exit (issue 8, finding
7). Keeping CTranslate2 out of the process that trains with torch removes the
crash, whatever the caller's ``__main__`` imports.

CTranslate2 alone crashes at exit too: its bundled oneDNN's C++ exit handlers died
by SIGSEGV in one worker in three or four, after the results had been sent (core
dumps: in ``~lru_primitive_cache_t`` destroying the encoder's convolution, and in
``~xbyak_gemm_t`` from the table of JIT GEMM kernels; issue 14). So the worker
leaves with ``os._exit`` once everything is written, flushed and closed: nothing
is left to lose, and no exit handler runs.

Protocol, one JSON object a line (JSON escapes all non-ASCII, so the pipe
encoding does not matter):

- stdin: one request line (the arguments of :func:`recognise`), then nothing.
  The parent keeps stdin open while it waits; end of file means the parent is
  gone, and the worker exits at once rather than recognising for nobody.
- stdout: ``{"log": [levelno, message]}`` for each record of the "themescope"
  logger, ``{"segment": [start_s, end_s, text]}`` for each recognised segment,
  then one ``{"done": {...}}`` or ``{"error": {"type": ..., "message": ...}}``.
  Whatever a library prints goes to stderr, so it cannot corrupt the stream.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TextIO

from themescope.errors import ConfigError, ModelLoadError, ThemescopeError
from themescope.media.asr import NOT_INSTALLED, SAMPLE_RATE_HZ, load_audio

logger = logging.getLogger("themescope")


def recognise(
    request: dict[str, Any], on_segment: Callable[[list[float | str]], None]
) -> dict[str, Any]:
    """Run faster-whisper on one file; see :func:`themescope.media.asr.transcribe`.

    Args:
        request: ``video_path``, ``model_dir`` (already checked), ``lang`` (a
            code or None to detect), ``device``, ``compute_type``,
            ``beam_size``, ``temperature`` (a number or a list) and ``seed``.
        on_segment: Called with ``[start_s, end_s, text]`` for each segment, in
            order, times measured from the video stream's first timestamp.

    Returns:
        ``duration_s`` (end of the audio, on the same clock), ``language`` and
        ``language_probability``.

    Raises:
        ModelLoadError: faster-whisper is missing or the model cannot be loaded.
        VideoOpenError, VideoDecodeError: The file cannot be read or has no audio.
        ConfigError: faster-whisper rejects the language.

    """
    try:
        import ctranslate2
        from faster_whisper import WhisperModel
    except ImportError as ex:
        raise ModelLoadError(NOT_INSTALLED) from ex
    samples, offset_s = load_audio(request["video_path"])
    model_dir = request["model_dir"]
    try:
        model = WhisperModel(
            model_dir,
            device=request["device"],
            compute_type=request["compute_type"],
            local_files_only=True,
        )
    except (RuntimeError, ValueError, OSError) as ex:
        raise ModelLoadError(f"cannot load the Whisper model in {model_dir}: {ex}") from ex
    temperature = request["temperature"]
    ctranslate2.set_random_seed(request["seed"])
    try:
        segments, info = model.transcribe(
            samples,
            language=request["lang"],
            beam_size=request["beam_size"],
            temperature=tuple(temperature) if isinstance(temperature, list) else temperature,
        )
        for seg in segments:
            on_segment([offset_s + float(seg.start), offset_s + float(seg.end), seg.text.strip()])
    except ValueError as ex:  # faster-whisper rejects unknown language codes this way
        raise ConfigError(
            f"speech recognition failed for language {request['lang']!r}: {ex}"
        ) from ex
    return {
        "duration_s": offset_s + samples.size / SAMPLE_RATE_HZ,
        "language": info.language,
        "language_probability": float(info.language_probability),
    }


class _ForwardLogs(logging.Handler):
    """Hands each log record to the parent, which logs it again through its own handlers."""

    def __init__(self, send: Callable[[str, Any], None]) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        self._send("log", [record.levelno, record.getMessage()])


def _exit_when_parent_goes() -> None:
    # os.read, not sys.stdin: a daemon thread blocked inside sys.stdin's lock can
    # abort the interpreter's shutdown.
    while os.read(0, 4096):
        pass
    os._exit(1)


def main() -> None:
    """Serve one request from stdin (see the module docstring)."""
    # The parent turns Ctrl-C into an error and ends this process; dying on our own
    # would race with it and print a second traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol: TextIO = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)

    def send(kind: str, value: Any) -> None:
        protocol.write(json.dumps({kind: value}) + "\n")
        protocol.flush()

    request = json.loads(sys.stdin.readline())
    threading.Thread(target=_exit_when_parent_goes, daemon=True).start()
    logger.addHandler(_ForwardLogs(send))
    logger.setLevel(request["log_level"])
    logger.propagate = False
    try:
        done = recognise(request, lambda segment: send("segment", segment))
    except ThemescopeError as ex:
        send("error", {"type": type(ex).__name__, "message": str(ex)})
    except Exception as ex:  # a bug: the parent reports it as one, with this traceback
        send(
            "error",
            {
                "type": None,
                "message": f"{type(ex).__name__}: {ex}",
                "traceback": traceback.format_exc(),
            },
        )
    else:
        send("done", done)
    protocol.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
