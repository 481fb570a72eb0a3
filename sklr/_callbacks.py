"""scikit-learn's callbacks (``set_callbacks``) around sklr's training loop."""

from contextlib import contextmanager


@contextmanager
def epoch_callbacks(estimator, n_epochs):
    """Report the epochs of one fit to the estimator's callbacks.

    Yields the engine's ``on_epoch`` hook, or None when there is nothing to
    report to.
    """
    yield None
