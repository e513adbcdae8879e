"""Exceptions raised by themescope, named for what failed.

Every :class:`ThemescopeError` is a problem the user can fix (bad input, a run
directory in the wrong state, a missing model file). The CLI prints its message
as one line on stderr and exits with status 2; anything else is a bug and exits 1.
"""

from __future__ import annotations

import errno
import os


class ThemescopeError(Exception):
    """Base class of errors caused by input or state the user controls."""


class ConfigError(ThemescopeError):
    """An option or configuration value is out of range or inconsistent."""


class CodebookError(ConfigError):
    """A codebook.toml cannot be applied to the themes of its folder."""


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


# Failures that only writing can meet, so the message can say "cannot write".
_WRITE_ERRORS = {
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "disk full",
    # EDQUOT is missing from Windows' errno table.
    getattr(errno, "EDQUOT", errno.ENOSPC): "disk quota exceeded",
}
_SHORT_REASONS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
}


def os_error_reason(exc: OSError) -> str:
    """The reason of an OSError, short and lower-case: "disk full", "permission denied".

    Example:
        >>> os_error_reason(OSError(errno.EROFS, "Read-only file system", "/runs/a"))
        'read-only file system'

    """
    code = exc.errno or 0
    reason = (
        _WRITE_ERRORS.get(code)
        or _SHORT_REASONS.get(code)
        or exc.strerror
        or str(exc)
        or "unknown error"
    )
    return reason[:1].lower() + reason[1:]


def describe_os_error(exc: OSError) -> str:
    """One line naming the path and the reason, e.g. ``cannot write /x: read-only file system``.

    Example:
        >>> describe_os_error(OSError(errno.ENOSPC, "No space left on device", "/runs/a"))
        'cannot write /runs/a: disk full'

    """
    writing = exc.errno in _WRITE_ERRORS
    verb = "cannot write" if writing else "cannot access"
    if exc.filename is None:
        return f"{verb}: {os_error_reason(exc)}" if writing else os_error_reason(exc)
    paths = " or ".join(str(path) for path in (exc.filename, exc.filename2) if path is not None)
    return f"{verb} {paths}: {os_error_reason(exc)}"
