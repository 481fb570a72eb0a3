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
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.optimize import minimize

from sklr._compat import Interval
from sklr._engine import Stack, batch_size_for
from sklr.exceptions import LearningRateWarning
from sklr.schedules import Schedule

__all__ = ["AUTO_SWEEP", "LRRangeResult", "auto_learning_rate", "sweep"]

# learning_rate="auto": lr_range_test's default sweep, on minibatches of at
# least AUTO_MIN_BATCH samples (see auto_learning_rate)
AUTO_SWEEP = {"start_lr": 1e-7, "end_lr": 10.0, "num_steps": 100, "smoothing": 0.8,
              "divergence_factor": 4.0}
AUTO_MIN_BATCH = 100

# a fall counts as descent once it exceeds this many standard deviations of
# its noise: noise alone then passes for descent in a few sweeps in a
# thousand (three would let through about one in fifty)
_CLEAR = 4.0


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
        moving average), in the units of the target as ``loss_curve_``.
    raw_losses : ndarray of shape (n_steps,)
        Minibatch loss of each step, computed before the step's update.
    suggested_learning_rate : float
        The rate of steepest descent, or the estimator's default rate when
        the loss showed no clear descent; see :func:`sklr.lr_range_test` for
        the rule.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggested_learning_rate: float


def _local_slopes(x, y, half_width):
    """Least-squares slope of ``y`` against ``x`` over ``half_width`` points each side."""
    n = len(x)
    index = np.arange(n)
    low = np.maximum(0, index - half_width)
    high = np.minimum(n, index + half_width + 1)
    count = high - low
    # centred first: the window sums below then lose no digits to cancellation
    x = x - x.mean()
    y = y - y.mean()

    def window_sums(values):
        total = np.concatenate(([0.0], np.cumsum(values)))
        return total[high] - total[low]

    sum_x, sum_y = window_sums(x), window_sums(y)
    return ((window_sums(x * y) - sum_x * sum_y / count)
            / (window_sums(x * x) - sum_x * sum_x / count))


def _noise(raw_losses):
    """Standard deviation of the minibatch noise of ``raw_losses``.

    Second differences cancel a trend that is locally linear in the step, and
    their median absolute value ignores the few steps where the loss turns or
    blows up: independent noise of standard deviation ``s`` gives second
    differences of standard deviation ``s * sqrt(6)``, whose median absolute
    value is 0.6745 times that.
    """
    return float(np.median(np.abs(np.diff(raw_losses, 2)))) / (0.6745 * np.sqrt(6))


def _smoothing_gain(n_steps, smoothing):
    """Standard deviation of the smoothed loss of each step, per unit of raw noise.

    The bias-corrected moving average of step ``t`` (from 1) weighs the raw
    losses by ``(1 - b) * b**i / (1 - b**t)``, ``i < t``, with ``b =
    smoothing``: as noisy as a raw loss at the first step, and ``(1 - b) /
    (1 + b)`` times as noisy (in variance) after many steps.
    """
    decay = smoothing ** np.arange(1, n_steps + 1)
    return np.sqrt((1 - smoothing) * (1 + decay) / ((1 + smoothing) * (1 - decay)))


def _constant_loss(loss, Y, sample_weight):
    """The lowest loss of a constant raw output, one per output.

    That is what a model that learns nothing from the features reaches. The
    losses are convex in the raw output, so a quasi-Newton search over the
    constants finds it in a few steps, each one vectorized pass over ``Y``
    (the iteration cap bounds the case of a class without weight, whose
    best constant is infinite).
    """
    w = sample_weight / sample_weight.sum()
    Y = np.asarray(Y, dtype=np.float64)

    def objective(constant):
        value, gradient = loss(np.broadcast_to(constant, (1, *Y.shape)).copy(), Y, w)
        return float(value[0]), gradient[0].sum(axis=0)

    return float(minimize(objective, np.zeros(Y.shape[1]), jac=True, method="BFGS",
                          options={"maxiter": 50}).fun)


def _suggest(learning_rates, raw_losses, losses, smoothing, baseline=np.inf,
             fallback=None):
    """The rule documented in :func:`sklr.lr_range_test`.

    Parameters
    ----------
    learning_rates, raw_losses, losses : ndarray of shape (n_steps,)
        The rate, the minibatch loss and its bias-corrected moving average at
        every step.
    smoothing : float
        The decay of that moving average.
    baseline : float, default=np.inf
        The loss of the best constant prediction (``np.inf``: none).
    fallback : float, default=None
        The rate to suggest when the loss shows no clear descent, unless the
        curve shows it too large.

    Returns
    -------
    learning_rate : float
        The suggested rate.
    descended : bool
        Whether the loss clearly descended.
    """
    n_steps = len(learning_rates)
    if n_steps < 3:
        # too few steps to tell descent from noise
        cap = float(learning_rates[np.argmin(losses)] / 10)
        return (cap if fallback is None else min(cap, fallback)), False
    head = max(3, n_steps // 10)
    noise = _noise(raw_losses)
    spread = noise * _smoothing_gain(n_steps, smoothing)
    # an initial model predicts no better than a constant, so a median of the
    # first steps below the baseline is noise
    initial = np.median(raw_losses[:head])
    if np.isfinite(baseline):
        initial = max(initial, baseline)
    # the noise of the smoothed loss and of the initial level (the variance of
    # a median is pi / 2 times that of a mean)
    margin = np.sqrt(spread**2 + np.pi / 2 * noise**2 / head)
    clear = losses < initial - _CLEAR * margin
    # the first steps make the initial level: a trend among them is no descent
    clear[:head] = False
    # falling only as far as a constant prediction learns nothing from the
    # features: an MLP's random initial output puts its first loss higher
    descended = bool((clear & (losses < baseline - _CLEAR * spread)).any())
    if descended:
        lowest = int(np.argmin(np.where(clear, losses, np.inf)))
        fall = initial - losses[lowest]
        # the steepest descent comes before the smoothed loss (which lags) has
        # fallen clearly: steps one noise margin down qualify
        descending = losses <= initial - np.maximum(fall / 5, margin)
        descending[lowest:] = False
        if descending.any():
            log_lr = np.log10(learning_rates)
            steps_per_decade = (n_steps - 1) / (log_lr[-1] - log_lr[0])
            half_width = int(np.clip(round(steps_per_decade / 2), 2,
                                     max(2, n_steps // 8)))
            slopes = _local_slopes(log_lr, raw_losses, half_width)
            if slopes[descending].min() < 0:
                return float(learning_rates[np.argmin(
                    np.where(descending, slopes, np.inf))]), True
    # no descent to read: stay a decade below the largest rate at which the
    # smoothed loss had not yet clearly risen above its lowest value
    lowest = int(np.argmin(losses))
    level = losses <= losses[lowest] + _CLEAR * np.hypot(spread, spread[lowest])
    cap = float(learning_rates[np.flatnonzero(level)[-1]] / 10)
    if descended or fallback is None:
        return cap, descended
    return min(cap, fallback), False


def sweep(plan, start_lr, end_lr, num_steps, smoothing, divergence_factor,
          fallback=None):
    """Run the range test on ``plan``'s training data through the engine's loop.

    The plan's schedule is replaced by the exponential sweep, its stopping
    rule is off and a divergence stops it; see :func:`sklr.lr_range_test`
    for the parameters and the suggestion rule.

    Parameters
    ----------
    plan : TrainingPlan
        The plan to sweep; it is not modified.
    start_lr, end_lr, num_steps, smoothing, divergence_factor
        As in :func:`sklr.lr_range_test`, already checked; the rates are
        the estimator's ``learning_rate`` values (``plan.member.rate_unit``
        converts them for a learning-rate-free optimizer), as are those of
        the result.
    fallback : float, default=None
        The rate to suggest when the loss shows no clear descent.

    Returns
    -------
    result : LRRangeResult
    descended : bool
        Whether the loss clearly descended; if not, the suggestion is
        ``fallback``, or a tenth of the rate at which the loss started to rise
        if that is smaller.
    """
    n_samples = plan.data.Y.shape[0]
    batch_size = batch_size_for(plan.batch_size, n_samples)
    n_batches = math.ceil(n_samples / batch_size)
    growth = (end_lr / start_lr) ** (1 / (num_steps - 1))
    member = dataclasses.replace(
        plan.member, learning_rate=start_lr / plan.member.rate_unit,
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
    # a linear model without intercept cannot predict a constant other than 0
    baseline = (_constant_loss(plan.loss, data.Y, data.sample_weight)
                if getattr(plan.model, "fit_intercept", True) else np.inf)
    suggestion, descended = _suggest(rates, raw, smoothed, smoothing, baseline,
                                     fallback)
    # reported in the user's units, as loss_curve_; the suggestion is scale-free
    scale = plan.loss_scale
    return LRRangeResult(rates, smoothed * scale, raw * scale, suggestion), descended


def auto_learning_rate(plan, fallback=None):
    """Choose the learning rate for ``learning_rate="auto"`` by a range test.

    Called by ``fit`` on the plan it is about to train, so inside
    cross-validation each fold chooses its own rate from its own training
    data (with ``early_stopping``, from the training part of the split). The
    test is :func:`sklr.lr_range_test` with its defaults (100 steps from
    1e-7 to 10, the same suggestion rule), on minibatches of ``max(100,
    n_samples // 100)`` samples but never more than the estimator's batch
    size, from the initial weights and with the minibatch order the fit
    itself will use; the plan's random state is not advanced.

    Cost: at most 100 minibatches, stopping early once the loss diverges.
    That is at most one pass over the data once there are 10,000 samples or
    more, and at most 10,000 sample-gradients on smaller data sets, where
    one pass would give too few, too noisy steps to show where the loss
    falls fastest. Minibatches of 100 samples or more keep the minibatch
    noise of the loss small enough to see the descent of most problems.

    When the sweep shows no clear descent (the smoothed loss never falls
    clearly below both its initial level and the loss of a constant
    prediction, given the noise of the minibatch losses), there is no
    steepest descent to read: the estimator's default rate ``fallback`` is
    used instead (or a tenth of the rate at which the loss started to rise,
    if that is smaller), with a :class:`~sklr.exceptions.LearningRateWarning`
    naming it.

    Parameters
    ----------
    plan : TrainingPlan
        The plan of the fit; it is not modified.
    fallback : float, default=None
        The estimator's default learning rate; None leaves the no-descent
        case to the curve alone.

    Returns
    -------
    learning_rate : float
        The chosen learning rate.
    """
    n_samples = plan.data.Y.shape[0]
    batch_size = min(batch_size_for(plan.batch_size, n_samples),
                     max(AUTO_MIN_BATCH, n_samples // AUTO_SWEEP["num_steps"]))
    # a copy: the sweep draws the fit's initial weights without consuming them
    member = dataclasses.replace(
        plan.member, random_state=copy.deepcopy(plan.member.random_state))
    result, descended = sweep(
        dataclasses.replace(plan, member=member, batch_size=batch_size),
        fallback=fallback, **AUTO_SWEEP)
    if not descended:
        warnings.warn(
            "learning_rate='auto': the learning-rate sweep found no clear descent "
            "of the training loss (it never fell clearly below both its initial "
            "level and the loss of a constant prediction, given the minibatch "
            f"noise); using learning_rate={result.suggested_learning_rate:.3g} "
            "instead.",
            LearningRateWarning, stacklevel=2)
    return result.suggested_learning_rate
