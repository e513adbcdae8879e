"""Corpus mode: many videos in groups → one theme space and the groups side by side.

Example:
    >>> from themescope.corpus import Study
    >>> result = Study().run("corpus.csv", out="study")  # doctest: +SKIP
"""

from themescope.corpus.study import Study, StudyResult, StudyTheme

__all__ = ["Study", "StudyResult", "StudyTheme"]
