"""The learning-rate range test, for users: :func:`lr_range_test`.

The sweep itself (:mod:`sklr._sweep`) sits below the estimators, which run
it for ``learning_rate="auto"``; this module adds what a user calls: the
estimator or Pipeline, preprocessing, and checked arguments.
"""

import inspect
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from sklr._base import BaseSKLR
from sklr._compat import Interval, validate_parameter_constraints
from sklr._sweep import LRRangeResult, sweep
from sklr.exceptions import LearningRateWarning

__all__ = ["LRRangeResult", "lr_range_test"]


def _final_estimator(estimator):
    """Split ``estimator`` into its preprocessing (a Pipeline or None) and sklr model."""
    if isinstance(estimator, Pipeline):
        preprocessing, final = _final_estimator(estimator.steps[-1][1])
        if preprocessing is not None:
            raise ValueError(
                "lr_range_test does not support a Pipeline nested as the last step "
                "of another; flatten it."
            )
        head = estimator[:-1] if len(estimator.steps) > 1 else None
        return head, final
    if not isinstance(estimator, BaseSKLR):
        raise ValueError(
            "lr_range_test needs an sklr estimator (e.g. sklr.MLPClassifier) or a "
            f"Pipeline whose last step is one, got {type(estimator).__name__}."
        )
    return None, estimator


_RANGE_TEST_CONSTRAINTS = {
    "start_lr": [Interval(Real, 0, None, closed="neither")],
    "end_lr": [Interval(Real, 0, None, closed="neither")],
    "num_steps": [Interval(Integral, 2, None, closed="left")],
    "smoothing": [Interval(Real, 0, 1, closed="left")],
    "divergence_factor": [Interval(Real, 1, None, closed="neither")],
    "random_state": ["random_state"],
}


# the smallest rise of the rate from one step of the sweep to the next: well
# above float32 resolution (1.2e-7), so that consecutive rates stay distinct
_MIN_STEP_GROWTH = 1e-6


def _check_sweep_range(start_lr, end_lr, num_steps):
    """Raise a ValueError unless the sweep's rates are normal, distinct floats."""
    tiny = np.finfo(np.float64).tiny
    if start_lr < tiny:
        raise ValueError(
            f"start_lr must be a normal float, at least {tiny:.4g}; got "
            f"start_lr={start_lr!r}, a subnormal float without full precision."
        )
    # logarithms: the ratio itself may overflow
    log_ratio = math.log(end_lr) - math.log(start_lr)
    if log_ratio > math.log(np.finfo(np.float64).max):
        raise ValueError(
            f"end_lr / start_lr must be a finite float, got end_lr={end_lr!r} and "
            f"start_lr={start_lr!r}, whose ratio overflows; narrow the range."
        )
    if log_ratio < (num_steps - 1) * math.log1p(_MIN_STEP_GROWTH):
        raise ValueError(
            f"end_lr / start_lr is too close to 1: got end_lr={end_lr!r} and "
            f"start_lr={start_lr!r}, a ratio of {end_lr / start_lr!r}. The rate "
            f"must rise by a factor of at least 1 + {_MIN_STEP_GROWTH:g} from one "
            f"step to the next, so the ratio must be at least (1 + "
            f"{_MIN_STEP_GROWTH:g}) ** (num_steps - 1) with num_steps={num_steps}."
        )


def lr_range_test(estimator, X, y, *, start_lr=1e-7, end_lr=10.0, num_steps=100,
                  smoothing=0.8, divergence_factor=4.0, sample_weight=None,
                  random_state=None):
    """Run the learning-rate range test and suggest a learning rate.

    A clone of ``estimator`` is trained from its initial weights for up to
    ``num_steps`` minibatches while the learning rate grows exponentially
    from ``start_lr`` to ``end_lr`` (step ``i`` uses ``start_lr *
    (end_lr / start_lr) ** (i / (num_steps - 1))``). The loss of every
    minibatch is recorded and smoothed by an exponential moving average;
    the test stops early once the smoothed loss exceeds
    ``divergence_factor`` times its lowest value or is not finite. The
    estimator's optimizer, penalty, batch size and model are used as
    configured; its schedule is replaced by the sweep and its stopping rule
    is off.

    The suggested rate is the rate of **steepest descent**, once the loss
    has clearly descended:

    * *Noise.* The standard deviation of the noise of the minibatch losses
      is estimated robustly from the raw losses (from the median absolute
      second difference, which ignores a smooth trend and the blow-up at the
      end), and from it that of the smoothed loss at every step and that of
      the initial level: the median of the raw losses of the first tenth of
      the steps (at least three), raised to the loss of the best constant
      prediction on the training data if below it.
    * *Clear descent.* The loss has clearly descended at a step past the
      first tenth where the smoothed loss lies more than four standard
      deviations of that noise below the initial level and, unless the model
      is linear without intercept, also below the loss of the best constant
      prediction: a fall only as far as that learns nothing from the
      features (an MLP's random initial output starts the loss higher).
    * *Steepest descent.* The slope of the raw loss against
      ``log10(learning_rate)`` is fitted by least squares over half a decade
      of rates on each side of every step (at least two steps, at most an
      eighth of them). The suggestion is the rate with the most negative
      slope among the steps that come before the lowest clearly descended
      smoothed loss and at which the smoothed loss has already fallen from
      the initial level a fifth of the way to that lowest, and by at least
      one standard deviation of the noise.

    If the loss did not clearly descend, the curve shows no steepest
    descent: the suggestion is the estimator's default learning rate, or,
    if smaller, one tenth of the largest rate at which the smoothed loss was
    still within four standard deviations of its lowest value (the rate
    where it starts to rise), and a
    :class:`~sklr.exceptions.LearningRateWarning` says so. (If the loss
    clearly descended but at none of those steps with a falling slope, the
    suggestion is that tenth, without a warning.) Slopes over a
    decade and the noise thresholds keep minibatch noise from being taken
    for descent. The steepest-descent rate is a safe choice for long
    training; with few epochs a rate a few times larger may train faster.
    Minibatches that are too small for the noise of the data hide the
    descent: a larger ``batch_size`` makes it visible.

    For an optimizer that sets its own step size (DoG, Prodigy, whose
    ``learning_rate_free`` is True; see :ref:`learning-rate-free`), the
    estimator's ``learning_rate`` is a factor on that step size, in units
    of the estimator's default rate (the default means the optimizer's own
    estimate). The test sweeps ``learning_rate`` in those units, as the
    fitted ``learning_rate_`` reports it, so the suggestion is a value to
    set as for any optimizer. The optimizer's estimate grows during the
    sweep as it does at the start of a fit, so the curve shows the
    factor's effect on early training.

    Parameters
    ----------
    estimator : sklr estimator or Pipeline
        An sklr estimator, or a :class:`~sklearn.pipeline.Pipeline` whose
        last step is one; the preceding steps are fitted on ``X`` and the
        test runs on the transformed data. It is not modified.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    start_lr : float, default=1e-7
        Learning rate of the first step, > 0.
    end_lr : float, default=10.0
        Learning rate of the last step, > ``start_lr``.
    num_steps : int, default=100
        Number of minibatch steps of the sweep, >= 2; the data are cycled
        through as often as needed.
    smoothing : float, default=0.8
        Decay of the exponential moving average of the loss, in [0, 1):
        each step keeps this share of the running average; 0 disables
        smoothing.
    divergence_factor : float, default=4.0
        Stop once the smoothed loss exceeds this multiple of its lowest
        value, > 1.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights, passed to the sklr estimator.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the minibatch order; None uses the
        estimator's own ``random_state``.

    Returns
    -------
    result : LRRangeResult
        ``learning_rates``, ``losses`` (smoothed), ``raw_losses``,
        ``suggested_learning_rate``; plot it with
        :meth:`sklr.inspection.LRRangeDisplay.from_result`.

    Raises
    ------
    ValueError
        If ``start_lr >= end_lr``, a bound is not positive and finite,
        ``start_lr`` is subnormal, ``end_lr / start_lr`` overflows or is too
        close to 1 for the rate to rise by a factor of at least ``1 + 1e-6``
        per step, ``num_steps < 2``, or ``estimator`` is neither an sklr
        estimator nor a Pipeline ending in one.

    Warns
    -----
    LearningRateWarning
        If the loss showed no clear descent.

    See Also
    --------
    sklr.inspection.LRRangeDisplay : Plot of the test.
    sklr.diagnostics.diagnose : Judge the learning rate of a fitted estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklr import LogisticClassifier
    >>> from sklr.lr_finder import lr_range_test
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(),
    ...                       LogisticClassifier(optimizer="sgd", random_state=0))
    >>> result = lr_range_test(model, X, y)
    >>> f"{result.suggested_learning_rate:.2g}"
    '0.066'
    >>> model.set_params(
    ...     logisticclassifier__learning_rate=result.suggested_learning_rate
    ... ).fit(X, y).score(X, y) > 0.98
    True
    """
    validate_parameter_constraints(
        _RANGE_TEST_CONSTRAINTS,
        {"start_lr": start_lr, "end_lr": end_lr, "num_steps": num_steps,
         "smoothing": smoothing, "divergence_factor": divergence_factor,
         "random_state": random_state},
        caller_name="lr_range_test",
    )
    if not start_lr < end_lr:
        raise ValueError(
            f"start_lr must be smaller than end_lr, got start_lr={start_lr} and "
            f"end_lr={end_lr}."
        )
    _check_sweep_range(start_lr, end_lr, num_steps)
    preprocessing, final = _final_estimator(estimator)
    if preprocessing is not None:
        X = clone(preprocessing).fit_transform(X, y)
    model = clone(final)
    # a float rate keeps _plan from running the test itself ("auto")
    model.set_params(learning_rate=start_lr, tol=None, early_stopping=False,
                     warm_start=False)
    if random_state is not None:
        model.set_params(random_state=random_state)
    default = inspect.signature(type(final)).parameters["learning_rate"].default
    result, descended = sweep(model._plan(X, y, sample_weight), start_lr, end_lr,
                              num_steps, smoothing, divergence_factor, fallback=default)
    if not descended:
        warnings.warn(
            "lr_range_test found no clear descent of the loss (it never fell "
            "clearly below both its initial level and the loss of a constant "
            "prediction, given the minibatch noise), so the curve shows no "
            "steepest descent; suggesting learning_rate="
            f"{result.suggested_learning_rate:.3g} (the estimator's default is "
            f"{default:g}). Larger minibatches (batch_size) make a descent easier "
            "to see.", LearningRateWarning, stacklevel=2)
    return result
