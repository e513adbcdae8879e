"""Exceptions raised by themescope, named for what failed.

Every :class:`ThemescopeError` is a problem the user can fix (bad input, a run
directory in the wrong state, a missing model file). The CLI prints its message
as one line on stderr and exits with status 2; anything else is a bug and exits 1.
"""

from __future__ import annotations

import os


class ThemescopeError(Exception):
    """Base class of errors caused by input or state the user controls."""


class ConfigError(ThemescopeError):
    """An option or configuration value is out of range or inconsistent."""


class VideoOpenError(ThemescopeError):
    """The video file cannot be opened or holds no decodable video stream."""


class VideoDecodeError(ThemescopeError):
    """The video opened but no frame could be decoded from it."""


class SubtitleParseError(ThemescopeError):
    """A subtitle or transcript file cannot be read at all."""


class RunDirectoryError(ThemescopeError):
    """The run directory is missing, belongs to something else, or is locked."""


class StageNotDoneError(RunDirectoryError):
    """A stage needs the output of an earlier stage that has not been run."""


class RunLockedError(RunDirectoryError):
    """Another themescope process is working on the same run directory."""


class DocumentError(RunDirectoryError):
    """manifest.json, themes.json or compare.json is missing, damaged, or from another version."""


class CheckpointError(ThemescopeError):
    """A checkpoint is corrupt or was written with an incompatible configuration.

    Its message ends with advice that holds for every command (delete the folder);
    ``summarize``, which starts over by itself, logs only :attr:`problem`.

    Attributes:
        problem: What is wrong with the checkpoint, without the advice.
    """

    def __init__(self, problem: str, folder: str | os.PathLike[str] | None = None) -> None:
        self.problem = problem
        advice = f"; delete {folder} to train from the start" if folder is not None else ""
        super().__init__(problem + advice)


class ModelLoadError(ThemescopeError):
    """A local model (embedder, captioner, LLM, ASR, word vectors) cannot be loaded."""


class TrainingError(ThemescopeError):
    """Training cannot go on (for example the loss became NaN or infinite)."""


class BackendError(ThemescopeError):
    """An external backend (an LLM server, say) failed in a way no retry could fix."""


class NewerDocumentError(DocumentError):
    """A file was written by a newer themescope: it is refused, and never written over."""
