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

Example:
    >>> t = transcribe("news.mp4", "models/faster-whisper-small", lang="zh")  # doctest: +SKIP
    >>> t.source, t.cues[0].text  # doctest: +SKIP
    ('asr', '大家好')

"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from themescope._progress import track
from themescope.errors import ConfigError, ModelLoadError, VideoDecodeError, VideoOpenError
from themescope.media.transcripts import Transcript, build_transcript

logger = logging.getLogger("themescope")

#: Whisper's input sampling rate.
SAMPLE_RATE_HZ = 16_000
#: Files a CTranslate2 Whisper folder must hold (one of each tuple).
REQUIRED_MODEL_FILES = (("model.bin",), ("tokenizer.json",), ("vocabulary.json", "vocabulary.txt"))
INSTALL_HINT = "pip install 'themescope[asr]'  (or: pip install faster-whisper)"
DEVICES = ("auto", "cpu", "cuda")


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
        video_start_s = 0.0
        if container.streams.video:
            video = container.streams.video[0]
            if video.start_time is not None and video.time_base is not None:
                video_start_s = float(video.start_time * video.time_base)
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
        ConfigError: ``device`` or ``beam_size`` is invalid.

    """
    if device not in DEVICES:
        raise ConfigError(f"ASR device must be one of {', '.join(DEVICES)}; got {device!r}")
    if beam_size < 1:
        raise ConfigError(f"beam_size must be at least 1, got {beam_size}")
    model_dir = check_model_dir(model_path)
    try:
        import ctranslate2
        from faster_whisper import WhisperModel
    except ImportError as ex:
        raise ModelLoadError(
            f"speech recognition needs faster-whisper, which is not installed: {INSTALL_HINT}"
        ) from ex
    samples, offset_s = load_audio(video_path)
    try:
        model = WhisperModel(
            str(model_dir), device=device, compute_type=compute_type, local_files_only=True
        )
    except (RuntimeError, ValueError, OSError) as ex:
        raise ModelLoadError(f"cannot load the Whisper model in {model_dir}: {ex}") from ex
    language = None if lang in (None, "auto", "und") else lang
    logger.info("recognising speech in %s with %s on %s", video_path, model_dir, device)
    ctranslate2.set_random_seed(seed)
    try:
        segments, info = model.transcribe(
            samples, language=language, beam_size=beam_size, temperature=temperature
        )
        raw = [
            (offset_s + float(seg.start), offset_s + float(seg.end), seg.text.strip())
            for seg in track(segments, "Recognising speech")
        ]
    except ValueError as ex:  # faster-whisper rejects unknown language codes this way
        raise ConfigError(f"speech recognition failed for language {lang!r}: {ex}") from ex
    logger.info(
        "speech recognition: %d segment(s), language %s (p=%.2f)",
        len(raw),
        info.language,
        info.language_probability,
    )
    duration_s = offset_s + samples.size / SAMPLE_RATE_HZ
    return build_transcript(
        raw, source="asr", duration_s=duration_s, label=f"speech recognition of {video_path}"
    )
