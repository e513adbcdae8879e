"""One reader for every versioned JSON file themescope writes, with one voice for its errors.

``manifest.json``, ``themes.json`` and ``compare.json`` each carry
``schema_version`` and decode into :mod:`msgspec` structs. Reading any of them
fails the same way, in one line naming the file:

- missing: "... is missing; run `themescope themes` first";
- from a newer themescope: "... has schema_version 7; this themescope reads 1;
  upgrade themescope" (a :class:`~themescope.errors.NewerDocumentError`, which
  nothing writes over);
- from an older layout this one cannot read: "... has schema_version 0, which
  this themescope cannot read (it reads 1); <how to rewrite it>";
- not JSON: "... is unreadable (input data was truncated); <how to rewrite it>";
- JSON of the wrong shape: "... is damaged: expected `float`, got `str` at
  `$.themes[0].share`; <how to rewrite it>".

A file without ``schema_version`` is decoded as it is: the document type decides
whether the field is required (``themes.json``) or defaults to the current
version (a hand-made ``manifest.json``).

Example:
    >>> read_versioned(path, Manifest, 1, missing="run ...", rewrite="rerun ...")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import msgspec

from themescope.errors import DocumentError, NewerDocumentError

S = TypeVar("S", bound=msgspec.Struct)


class _Header(msgspec.Struct):
    schema_version: int | None = None


def read_versioned(
    path: Path,
    document_type: type[S],
    version: int | tuple[int, ...],
    *,
    missing: str,
    rewrite: str,
) -> S:
    """Read and validate one versioned JSON file (errors as in the module docstring).

    Args:
        path: The file.
        document_type: The struct it decodes into.
        version: The ``schema_version`` this themescope writes and reads, or every version
            it reads (the newest is the one it writes).
        missing: What to do when the file is missing ("run `themescope themes` first").
        rewrite: How to write the file anew when it is damaged or too old.

    Raises:
        DocumentError: The file is missing, unreadable, damaged or of another version.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing; {missing}") from None
    except OSError as exc:
        raise DocumentError(f"{path} is unreadable ({exc.strerror or exc})") from exc
    reads = (version,) if isinstance(version, int) else version
    try:
        found = msgspec.json.decode(raw, type=_Header).schema_version
        if found is not None and found > max(reads):
            raise NewerDocumentError(
                f"{path} has schema_version {found}; this themescope reads {max(reads)}; "
                "upgrade themescope"
            )
        if found is not None and found not in reads:
            raise DocumentError(
                f"{path} has schema_version {found}, which this themescope cannot read "
                f"(it reads {_listed(reads)}); {rewrite}"
            )
        return msgspec.json.decode(raw, type=document_type)
    except msgspec.ValidationError as exc:
        raise damaged(path, exc, rewrite) from exc
    except msgspec.DecodeError as exc:
        raise DocumentError(f"{path} is unreadable ({decode_error_text(exc)}); {rewrite}") from exc


def damaged(path: Path, exc: msgspec.ValidationError, rewrite: str) -> DocumentError:
    """Return the error for a file whose JSON has the wrong shape (for readers in two steps)."""
    return DocumentError(f"{path} is damaged: {decode_error_text(exc)}; {rewrite}")


def decode_error_text(exc: Exception) -> str:
    """Return msgspec's message to go inside ours ("expected `float`, got `str` at `$.k`")."""
    text = str(exc).replace(" - at ", " at ")
    # Lower-case its first word, but not an acronym ("JSON is malformed").
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _listed(versions: tuple[int, ...]) -> str:
    """``1``, ``1 and 2``, ``1, 2 and 3``."""
    *first, last = map(str, versions)
    return f"{', '.join(first)} and {last}" if first else last
