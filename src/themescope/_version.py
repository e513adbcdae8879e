"""The version of themescope, recorded in every manifest, document and page it writes.

It lives apart from the package's ``__init__`` (which re-exports it) because that
imports the whole pipeline: the run directory and the report need the version, not
the pipeline above them.
"""

__version__ = "0.1.0"
