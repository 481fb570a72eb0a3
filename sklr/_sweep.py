"""The learning-rate sweep: the engine half of the LR range test and ``"auto"``.

The range test (Leslie Smith, "Cyclical Learning Rates for Training Neural
Networks", 2017; the "LR finder" of fastai and PyTorch Lightning) trains a
model from its initial weights while the learning rate grows exponentially,
one minibatch at a time, and records the loss of every step. Where the loss
falls fastest the rate is large enough to make progress and still small
enough to be stable; where it turns up the rate is too large.

The sweep needs only the engine and a schedule, so it sits below the
estimators: ``fit`` runs it for ``learning_rate="auto"`` on the plan it is
about to train, and :func:`sklr.lr_finder.lr_range_test` runs it for users.
"""

import copy
import dataclasses
import math
from numbers import Integral, Real

import numpy as np

from sklr._compat import Interval
from sklr._engine import Stack, batch_size_for
from sklr.schedules import Schedule

__all__ = ["AUTO_SWEEP", "LRRangeResult", "auto_learning_rate", "sweep"]

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
        # rint: progress * n_batches is the step index up to rounding error
        step = np.rint(np.asarray(progress, dtype=np.float64) * self.n_batches)
        return (self.growth ** step)[()]


@dataclasses.dataclass
class LRRangeResult:
    """What an LR range test recorded, and the rate it suggests.

    Plot one with :meth:`sklr.inspection.LRRangeDisplay.from_result`.

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
        The rate of steepest descent; see :func:`sklr.lr_range_test` for the
        rule.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_learning_rate: float


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
    """The rule documented in :func:`sklr.lr_range_test`."""
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


def sweep(plan, start_lr, end_lr, num_steps, smoothing, divergence_factor):
    """Run the range test on ``plan``'s training data through the engine's loop.

    The plan's schedule is replaced by the exponential sweep, its stopping
    rule is off and a divergence stops it; see :func:`sklr.lr_range_test`
    for the parameters.

    Returns
    -------
    result : LRRangeResult
    """
    n_samples = plan.data.Y.shape[0]
    batch_size = batch_size_for(plan.batch_size, n_samples)
    n_batches = math.ceil(n_samples / batch_size)
    growth = (end_lr / start_lr) ** (1 / (num_steps - 1))
    member = dataclasses.replace(
        plan.member, learning_rate=start_lr,
        schedule=_ExponentialSweep(growth, n_batches), on_divergence="stop", tol=None,
    )
    stack = Stack.from_plans([dataclasses.replace(plan, member=member,
                                                  batch_size=batch_size)])
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
    # the sweep watches training minibatches only
    data = dataclasses.replace(plan.data, X_val=None, Y_val=None,
                               sample_weight_val=None, scorer=None)
    stack.train(data, n_epochs, horizon=n_epochs, stopping=False, on_step=on_step)
    rates, raw, smoothed = np.array(rates), np.array(raw), np.array(smoothed)
    return LRRangeResult(rates, smoothed, raw, _suggest(rates, raw, smoothed))


def auto_learning_rate(plan, fallback=None):
    """Choose the learning rate for ``learning_rate="auto"`` by a range test.

    Called by ``fit`` on the plan it is about to train, so inside
    cross-validation each fold chooses its own rate from its own training
    data (with ``early_stopping``, from the training part of the split). The
    test is :func:`sklr.lr_range_test` with its defaults (100 steps from
    1e-7 to 10), on minibatches of ``max(32, n_samples // 100)`` samples but
    never more than the estimator's batch size, from the initial weights and
    with the minibatch order the fit itself will use; the plan's random
    state is not advanced.

    Cost: at most 100 minibatches, stopping early once the loss diverges.
    That is at most one pass over the data once there are 3,200 samples or
    more, and at most 3,200 sample-gradients on smaller data sets, where one
    pass would give too few, too noisy steps to show where the loss falls
    fastest. A rate found on small minibatches can be conservative for plain
    SGD trained on much larger ones.

    Parameters
    ----------
    plan : TrainingPlan
        The plan of the fit; it is not modified.
    fallback : float, default=None
        The estimator's default learning rate.

    Returns
    -------
    learning_rate : float
        The suggested learning rate.
    """
    n_samples = plan.data.Y.shape[0]
    batch_size = min(batch_size_for(plan.batch_size, n_samples),
                     max(AUTO_MIN_BATCH, n_samples // AUTO_SWEEP["num_steps"]))
    # a copy: the sweep draws the fit's initial weights without consuming them
    member = dataclasses.replace(
        plan.member, random_state=copy.deepcopy(plan.member.random_state))
    result = sweep(dataclasses.replace(plan, member=member, batch_size=batch_size),
                   **AUTO_SWEEP)
    return result.suggested_learning_rate
