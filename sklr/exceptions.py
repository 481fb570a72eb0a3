"""Warnings and errors raised by sklr."""

from sklearn.exceptions import ConvergenceWarning

__all__ = ["DivergenceError", "DivergenceWarning", "LearningRateWarning"]


class DivergenceWarning(ConvergenceWarning):
    """Training diverged and was recovered by backing off or stopping.

    Emitted when ``on_divergence`` is ``"backoff"`` or ``"stop"``. The message
    names the learning rate that diverged.
    """


class DivergenceError(ArithmeticError):
    """Training diverged and ``on_divergence="raise"`` was requested.

    The message names the learning rate and epoch and suggests a remedy.
    """


class LearningRateWarning(ConvergenceWarning):
    """The learning rate looks wrong, though training neither diverged nor failed.

    Emitted when a fit stopped because the loss stopped moving while it had
    barely fallen from its first value (the rate may be too low), and when
    ``learning_rate="auto"`` found no clear descent in its sweep and used
    the default rate instead. The message names the rate.
    """
