"""Warnings and errors raised by sklr."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["DivergenceError", "DivergenceWarning"]


class DivergenceWarning(ConvergenceWarning):
    """Training diverged and was recovered by backing off or stopping.

    Emitted when ``on_divergence`` is ``"backoff"`` or ``"stop"``. The message
    names the learning rate that diverged.
    """


class DivergenceError(ArithmeticError):
    """Training diverged and ``on_divergence="raise"`` was requested.

    The message names the learning rate and epoch and suggests a remedy.
    """
