"""The learning-rate range test and ``learning_rate="auto"``.

The range test (Leslie Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017; the "LR finder" of fastai and PyTorch Lightning) trains a
model from its initial weights while the learning rate grows exponentially,
one minibatch at a time, and records the loss of every step. Where the loss
falls fastest the rate is large enough to make progress and still small
enough to be stable; where it turns up the rate is too large.

The test trains through the engine's one loop (:class:`sklr._engine.Stack`):
it only swaps the estimator's schedule for an exponential sweep and watches
the steps through the loop's ``on_step`` hook.
"""

import copy
import dataclasses
import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from sklr._base import BaseSKLR
from sklr._compat import Interval, validate_parameter_constraints
from sklr._engine import MemberConfig, Stack, TrainingData
from sklr.optimizers import resolve_optimizer
from sklr.schedules import Schedule

__all__ = ["LRRangeResult", "auto_learning_rate", "lr_range_test"]

# learning_rate="auto": lr_range_test's default sweep, on minibatches of at
# least AUTO_MIN_BATCH samples (see auto_learning_rate)
AUTO_SWEEP = {"start_lr": 1e-7, "end_lr": 10.0, "num_steps": 100, "smoothing": 0.8,
              "divergence_factor": 4.0}
AUTO_MIN_BATCH = 32


class _ExponentialSweep(Schedule):
    """Multiply the rate by ``growth`` every minibatch: ``growth ** step``.

    Progress is ``epoch + batch / n_batches``, so the step index is
    ``progress * n_batches``.

    Parameters
    ----------
    growth : float, default=1.0
        Factor between the rates of consecutive steps, > 0.
    n_batches : int, default=1
        Minibatches per epoch.
    """

    _parameter_constraints = {
        "growth": [Interval(Real, 0, None, closed="neither")],
        "n_batches": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, growth=1.0, n_batches=1):
        self.growth = growth
        self.n_batches = n_batches

    def __call__(self, progress, n_epochs=None, state=None):
        """Return ``growth ** step``; see :meth:`Schedule.__call__`.

        Parameters
        ----------
        progress, n_epochs, state
            As in :meth:`Schedule.__call__`.

        Returns
        -------
        multiplier : float or ndarray
            Same shape as ``progress``.
        """
        # rint: progress * n_batches is the step index up to rounding error
        step = np.rint(np.asarray(progress, dtype=np.float64) * self.n_batches)
        return (self.growth ** step)[()]


@dataclasses.dataclass
class LRRangeResult:
    """What an LR range test recorded, and the rate it suggests.

    Attributes
    ----------
    learning_rates : ndarray of shape (n_steps,)
        Learning rate of each step, growing exponentially.
    losses : ndarray of shape (n_steps,)
        Smoothed minibatch loss of each step (bias-corrected exponential
        moving average).
    raw_losses : ndarray of shape (n_steps,)
        Minibatch loss of each step, computed before the step's update.
    suggested_learning_rate : float
        The rate of steepest descent; see :func:`lr_range_test` for the rule.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_learning_rate: float

    def plot(self, ax=None):
        """Plot the loss against the learning rate, with the suggestion marked.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.

        Returns
        -------
        display : sklr.inspection.LRRangeDisplay
            The display, with ``ax_`` and ``figure_``.
        """
        from sklr.inspection import LRRangeDisplay

        return LRRangeDisplay.from_result(self, ax=ax)


def _batch_size(batch_size, n_samples):
    """The engine's minibatch size for ``batch_size`` and ``n_samples``."""
    return min(200, n_samples) if batch_size == "auto" else min(batch_size, n_samples)


def _local_slopes(x, y, half_width):
    """Least-squares slope of ``y`` against ``x`` over ``half_width`` points each side."""
    n = len(x)
    slopes = np.empty(n)
    for i in range(n):
        window = slice(max(0, i - half_width), min(n, i + half_width + 1))
        dx = x[window] - x[window].mean()
        slopes[i] = dx @ (y[window] - y[window].mean()) / (dx @ dx)
    return slopes


def _suggest(learning_rates, raw_losses, losses):
    """The rule documented in :func:`lr_range_test`."""
    n_steps = len(learning_rates)
    lowest = int(np.argmin(losses))
    fallback = float(learning_rates[lowest] / 10)
    if n_steps < 3:
        return fallback
    log_lr = np.log10(learning_rates)
    steps_per_decade = (n_steps - 1) / (log_lr[-1] - log_lr[0])
    half_width = int(np.clip(round(steps_per_decade / 2), 2, max(2, n_steps // 8)))
    slopes = _local_slopes(log_lr, raw_losses, half_width)
    # minibatch noise at the start must not count as descent: only steps
    # where the loss has clearly left its initial level qualify
    initial = np.median(raw_losses[:max(3, n_steps // 10)])
    fall = initial - losses[lowest]
    descending = losses <= initial - fall / 5
    descending[lowest:] = False
    if not fall > 0 or not descending.any() or slopes[descending].min() >= 0:
        return fallback
    return float(learning_rates[np.argmin(np.where(descending, slopes, np.inf))])


def _sweep(data, model, loss, member, dtype, seed, batch_size, shuffle, start_lr,
           end_lr, num_steps, smoothing, divergence_factor):
    """Run the range test on prepared data through the engine's loop."""
    batch_size = _batch_size(batch_size, data.Y.shape[0])
    n_batches = math.ceil(data.Y.shape[0] / batch_size)
    growth = (end_lr / start_lr) ** (1 / (num_steps - 1))
    member = dataclasses.replace(
        member, learning_rate=start_lr, schedule=_ExponentialSweep(growth, n_batches),
        on_divergence="stop", tol=None,
    )
    stack = Stack(model, loss, [member], dtype, seed=seed, batch_size=batch_size,
                  shuffle=shuffle)
    rates, raw, smoothed = [], [], []
    average = 0.0

    def on_step(stack, step_losses, step_rates):
        nonlocal average
        rates.append(float(step_rates[0]))
        raw.append(float(step_losses[0]))
        average = smoothing * average + (1 - smoothing) * raw[-1]
        # bias correction: the average starts at 0, not at the first loss
        smoothed.append(average / (1 - smoothing ** len(raw)))
        return (len(raw) >= num_steps or not np.isfinite(smoothed[-1])
                or smoothed[-1] > divergence_factor * min(smoothed))

    n_epochs = math.ceil(num_steps / n_batches)
    stack.train(data, n_epochs, horizon=n_epochs, stopping=False, on_step=on_step)
    rates, raw, smoothed = np.array(rates), np.array(raw), np.array(smoothed)
    return LRRangeResult(rates, smoothed, raw, _suggest(rates, raw, smoothed))


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

    The suggested rate is the rate of **steepest descent**. The slope of
    the raw loss against ``log10(learning_rate)`` is fitted by least squares
    over half a decade of rates on each side of every step (at least two
    steps, at most an eighth of them). The suggestion is the rate with the
    most negative slope among the steps that come before the lowest
    smoothed loss and at which the smoothed loss has already fallen a fifth
    of the way from its initial level (the median of the first tenth of the
    steps) to its lowest. Fitting slopes over a decade, and skipping the
    steps before the loss has left its initial level, keep minibatch noise
    from being taken for descent. If the loss never fell, the suggestion is
    one tenth of the rate at the lowest smoothed loss. The steepest-descent
    rate is a safe choice for long training; with few epochs a rate a few
    times larger may train faster.

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
        ``suggested_learning_rate`` and ``plot()``.

    Raises
    ------
    ValueError
        If ``start_lr >= end_lr``, a bound is not positive, ``num_steps <
        2``, or ``estimator`` is neither an sklr estimator nor a Pipeline
        ending in one.

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
    preprocessing, final = _final_estimator(estimator)
    if preprocessing is not None:
        X = clone(preprocessing).fit_transform(X, y)
    model = clone(final)
    # a float rate keeps _prepare from running the test itself ("auto")
    model.set_params(learning_rate=start_lr, tol=None, early_stopping=False,
                     warm_start=False)
    if random_state is not None:
        model.set_params(random_state=random_state)
    data, network, loss, member, dtype = model._prepare(
        X, y, sample_weight, (None, None, None), continuing=False)
    return _sweep(data, network, loss, member, dtype, model._shuffle_seed,
                  model.batch_size, model.shuffle, start_lr, end_lr, num_steps,
                  smoothing, divergence_factor)


def auto_learning_rate(estimator, X, Y, sample_weight, rows=None):
    """Choose the learning rate for ``learning_rate="auto"`` by a range test.

    Called by ``fit`` with the validated training data, so inside
    cross-validation each fold chooses its own rate from its own training
    data (with ``early_stopping``, from the training part of the split). The
    test is :func:`lr_range_test` with its defaults (100 steps from 1e-7 to
    10), on minibatches of ``max(32, n_samples // 100)`` samples but never
    more than the estimator's batch size. It draws its initial weights and
    minibatch order from the estimator's ``random_state`` without advancing
    it, so it is deterministic and leaves the fit itself unchanged.

    Cost: at most 100 minibatches, stopping early once the loss diverges.
    That is at most one pass over the data once there are 3,200 samples or
    more, and at most 3,200 sample-gradients on smaller data sets, where one
    pass would give too few, too noisy steps to show where the loss falls
    fastest. A rate found on small minibatches can be conservative for plain
    SGD trained on much larger ones.

    Parameters
    ----------
    estimator : sklr estimator
        The estimator being fitted; only its hyperparameters and model and
        loss factories are used, and it is not modified.
    X : {ndarray, sparse matrix} of shape (n_rows, n_features)
        Validated data: the training samples, or those at ``rows``.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in the estimator's internal encoding.
    sample_weight : ndarray of shape (n_samples,)
        Sample weights (class weights included).
    rows : ndarray of shape (n_samples,), default=None
        Rows of ``X`` holding the training samples; ``None`` for all.

    Returns
    -------
    learning_rate : float
        The suggested learning rate.
    """
    n_samples = Y.shape[0]
    batch_size = min(_batch_size(estimator.batch_size, n_samples),
                     max(AUTO_MIN_BATCH, n_samples // AUTO_SWEEP["num_steps"]))
    # a copy: the test draws what fit will draw, without advancing the
    # estimator's RandomState (or the global one)
    random_state = copy.deepcopy(check_random_state(estimator.random_state))
    seed = random_state.randint(np.iinfo(np.int32).max)
    alpha_l2, alpha_l1 = estimator._penalty_strengths()
    # _sweep sets the learning rate and the schedule
    member = MemberConfig(
        learning_rate=1.0, optimizer=resolve_optimizer(estimator.optimizer),
        schedule=None, random_state=random_state, alpha_l2=alpha_l2,
        alpha_l1=alpha_l1, clip_norm=estimator.clip_norm,
    )
    data = TrainingData(X=X, Y=Y.astype(X.dtype, copy=False),
                        sample_weight=sample_weight, rows=rows)
    model = estimator._make_model(X.shape[1], Y.shape[1])
    result = _sweep(data, model, estimator._make_loss(), member, X.dtype, seed,
                    batch_size, estimator.shuffle, **AUTO_SWEEP)
    return result.suggested_learning_rate
