"""themescope: explained, comparable themes of videos from their frames and spoken words.

The stages live in subpackages that follow the pipeline: :mod:`themescope.media`
(frames, transcripts, alignment), :mod:`themescope.model` (the CRVAE),
:mod:`themescope.themes` (clustering, interpretation, comparison) and
:mod:`themescope.report`. :mod:`themescope.rundir` owns the on-disk contract.
Importing the package does no work: heavy libraries load with the stage that needs them.
It does shorten OpenMP's busy waiting (:func:`themescope.devices.limit_openmp_spinning`),
which must happen before torch loads: import themescope before torch.
"""

from themescope._version import __version__
from themescope.devices import limit_openmp_spinning

limit_openmp_spinning()

from themescope.pipeline import Result, Summarizer  # noqa: E402
from themescope.tables import export  # noqa: E402

__all__ = ["Result", "Summarizer", "__version__", "export"]
