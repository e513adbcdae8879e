"""themescope: explained, comparable themes of videos from their frames and spoken words.

The stages live in subpackages that follow the pipeline: :mod:`themescope.media`
(frames, transcripts, alignment), :mod:`themescope.model` (the CRVAE),
:mod:`themescope.themes` (clustering, interpretation, comparison) and
:mod:`themescope.report`. :mod:`themescope.rundir` owns the on-disk contract.
Importing the package does no work: heavy libraries load with the stage that needs them.
"""

__version__ = "0.1.0"

from themescope.pipeline import Result, Summarizer

__all__ = ["Result", "Summarizer", "__version__"]
