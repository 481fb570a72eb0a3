"""Plots of training curves, schedules, searches and the LR range test.

The displays follow scikit-learn's conventions: ``from_*`` class methods
compute and draw, :meth:`plot` draws on given axes and returns the display,
which keeps ``ax_`` and ``figure_``. matplotlib is optional and imported only
when something is drawn (``pip install sklr[plot]``).
"""

from sklr.inspection._loss_curve import LossCurveDisplay
from sklr.inspection._lr_range import LRRangeDisplay
from sklr.inspection._schedule import ScheduleDisplay
from sklr.inspection._search_score import SearchScoreDisplay

__all__ = [
    "LRRangeDisplay",
    "LossCurveDisplay",
    "ScheduleDisplay",
    "SearchScoreDisplay",
]
