"""Grids of learning rates."""

from numbers import Integral, Real

import numpy as np


def learning_rate_grid(low, high, n):
    """Return ``n`` learning rates spaced evenly on a log scale from ``low`` to ``high``.

    Parameters
    ----------
    low : float
        Smallest learning rate, > 0.
    high : float
        Largest learning rate, > ``low``.
    n : int
        Number of learning rates, >= 1. ``n=1`` gives ``[low]``, the end a
        search should start from when only one value fits the budget.

    Returns
    -------
    grid : ndarray of shape (n,)
        Increasing learning rates; the first is ``low`` and, for ``n >= 2``,
        the last is ``high``.

    Examples
    --------
    >>> from sklr.model_selection import learning_rate_grid
    >>> learning_rate_grid(1e-4, 1e-1, 4)
    array([0.0001, 0.001 , 0.01  , 0.1   ])
    """
    for name, value in (("low", low), ("high", high)):
        if (not isinstance(value, Real) or isinstance(value, bool)
                or not np.isfinite(value) or value <= 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low!r}, "
                         f"high={high!r}.")
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}.")
    if n == 1:
        return np.array([float(low)])
    grid = np.geomspace(low, high, num=int(n))
    # geomspace may round the end points; they are what the user typed
    grid[0], grid[-1] = low, high
    return grid
