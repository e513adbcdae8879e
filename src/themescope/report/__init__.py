"""The report stage: ``RUN/report.html``, a study's ``STUDY/report.html``, ``compare.html``.

Each is a single self-contained HTML file (thumbnails, charts and script inlined;
no network access allowed by their Content-Security-Policy).

Example:
    >>> from themescope.report import render_compare, render_report, render_study_report
    >>> render_report("runs/us")  # doctest: +SKIP
    PosixPath('runs/us/report.html')

"""

from themescope.report.compare_page import render_compare
from themescope.report.render import render_report
from themescope.report.study_page import render_study_report

__all__ = ["render_compare", "render_report", "render_study_report"]
