"""Learning-rate schedules: multipliers of the base rate over training.

A schedule maps *progress*, the fractional epoch ``epoch + batch /
n_batches`` with batches counted from 0, to a multiplier of the base
learning rate. Measuring progress in epochs means a schedule parameter keeps
its meaning when ``batch_size`` changes. Calls are vectorized so the engine
evaluates all steps of an epoch at once.

Schedules hold no training state. A loss-aware schedule (one that says
``watches_loss = True``, such as :class:`ReduceOnPlateau`) keeps its state in
an object created by :meth:`Schedule.init_state` and advanced by
:meth:`Schedule.observe`, both owned by the engine.

Writing a schedule: subclass :class:`Schedule`, store the constructor
arguments unchanged, declare ``_parameter_constraints`` and implement
``__call__``; register a name with ``SCHEDULE_ALIASES.register(name,
instance, summary)``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator

from sklr._compat import Interval, StrOptions, validate_params
from sklr._registry import Registry

__all__ = [
    "SCHEDULE_ALIASES",
    "Constant",
    "CosineAnnealing",
    "CyclicLR",
    "ExponentialDecay",
    "InverseScaling",
    "OneCycle",
    "ReduceOnPlateau",
    "Schedule",
    "StepDecay",
    "Warmup",
    "resolve_schedule",
]

_FRACTION = Interval(Real, 0, 1, closed="both")
_DECAY = Interval(Real, 0, 1, closed="right")


def _progress(progress):
    """Return ``progress`` as a float64 array (0-d for a scalar)."""
    return np.asarray(progress, dtype=np.float64)


def _horizon(n_epochs, schedule):
    """Return the training horizon, or raise if the caller gave none."""
    if n_epochs is None:
        raise ValueError(
            f"{type(schedule).__name__} needs the training horizon: pass "
            "n_epochs (the number of epochs training will run)."
        )
    return n_epochs


def _cosine_ramp(fraction, start, end):
    """Cosine interpolation from ``start`` at 0 to ``end`` at 1."""
    return end + (start - end) * (1 + np.cos(np.pi * fraction)) / 2


class Schedule(BaseEstimator):
    """Base class of sklr learning-rate schedules.

    Subclasses store their constructor arguments unchanged, declare
    ``_parameter_constraints`` and implement :meth:`__call__`.

    Attributes
    ----------
    watches_loss : bool
        Whether the schedule follows the monitored loss through
        :meth:`observe` (and so cannot be previewed without training).
    """

    _parameter_constraints: dict = {}
    watches_loss = False

    def __call__(self, progress, n_epochs=None, state=None):
        """Return the learning-rate multiplier at ``progress``.

        Parameters
        ----------
        progress : float or ndarray
            Fractional epoch ``epoch + batch / n_batches``.
        n_epochs : int, default=None
            Training horizon in epochs, for schedules that need one.
        state : object, default=None
            State from :meth:`init_state` / :meth:`observe`, for loss-aware
            schedules.

        Returns
        -------
        multiplier : float or ndarray
            Same shape as ``progress``.
        """
        raise NotImplementedError

    def validate(self):
        """Check the hyperparameters and return ``self``; raise ``InvalidParameterError``."""
        validate_params(self)
        return self

    def init_state(self):
        """Return the state of a new training run.

        Returns
        -------
        state : None
            Pure schedules have no state.
        """
        return None

    def observe(self, state, loss):
        """Update the state with the monitored loss at the end of an epoch.

        Parameters
        ----------
        state : object
            Current state.
        loss : float
            Monitored loss of the epoch (lower is better).

        Returns
        -------
        state : object
            The new state; unchanged for pure schedules.
        """
        return state


class Constant(Schedule):
    """Keep the base learning rate: the multiplier is always 1."""

    def __call__(self, progress, n_epochs=None, state=None):
        return np.ones_like(_progress(progress))[()]


class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    The multiplier is ``gamma ** floor(progress / step_size)``.

    Parameters
    ----------
    step_size : float, default=10
        Epochs between decays, > 0.
    gamma : float, default=0.5
        Decay factor in (0, 1].
    """

    _parameter_constraints = {
        "step_size": [Interval(Real, 0, None, closed="neither")],
        "gamma": [_DECAY],
    }

    def __init__(self, step_size=10, gamma=0.5):
        self.step_size = step_size
        self.gamma = gamma

    def __call__(self, progress, n_epochs=None, state=None):
        return (self.gamma ** np.floor(_progress(progress) / self.step_size))[()]


class ExponentialDecay(Schedule):
    """Decay the rate smoothly by ``gamma`` per epoch.

    The multiplier is ``gamma ** progress``.

    Parameters
    ----------
    gamma : float, default=0.95
        Decay factor per epoch, in (0, 1].
    """

    _parameter_constraints = {"gamma": [_DECAY]}

    def __init__(self, gamma=0.95):
        self.gamma = gamma

    def __call__(self, progress, n_epochs=None, state=None):
        return (self.gamma ** _progress(progress))[()]


class InverseScaling(Schedule):
    """Decay the rate as an inverse power of the epoch.

    The multiplier is ``(1 + progress) ** -power_t``, scikit-learn's
    ``"invscaling"`` with epochs in place of samples.

    Parameters
    ----------
    power_t : float, default=0.5
        Exponent, >= 0.
    """

    _parameter_constraints = {"power_t": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def __call__(self, progress, n_epochs=None, state=None):
        return ((1 + _progress(progress)) ** -self.power_t)[()]


class CosineAnnealing(Schedule):
    """Anneal the rate along half a cosine, from 1 to ``min_factor``.

    With horizon ``N``, the multiplier is ``min_factor + (1 - min_factor) *
    (1 + cos(pi * min(progress / N, 1))) / 2``.

    Parameters
    ----------
    min_factor : float, default=0.0
        Multiplier reached at the horizon, in [0, 1].
    n_epochs : int, default=None
        Horizon in epochs; None uses the training horizon passed by the
        caller (the estimator's ``max_iter``).
    """

    _parameter_constraints = {
        "min_factor": [_FRACTION],
        "n_epochs": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, min_factor=0.0, n_epochs=None):
        self.min_factor = min_factor
        self.n_epochs = n_epochs

    def __call__(self, progress, n_epochs=None, state=None):
        horizon = _horizon(
            self.n_epochs if self.n_epochs is not None else n_epochs, self
        )
        fraction = np.minimum(_progress(progress) / horizon, 1.0)
        return _cosine_ramp(fraction, 1.0, self.min_factor)[()]


class Warmup(Schedule):
    """Rise linearly from ``start_factor`` into a wrapped schedule.

    For ``progress < warmup_epochs`` the wrapped schedule's value is
    multiplied by ``start_factor + (1 - start_factor) * progress /
    warmup_epochs``; afterwards it is used unchanged (it is not shifted in
    time).

    Parameters
    ----------
    schedule : Schedule, default=None
        Wrapped schedule; None means :class:`Constant`. Its parameters are
        tunable as ``schedule__<name>``.
    warmup_epochs : float, default=5
        Length of the warm-up in epochs, > 0.
    start_factor : float, default=0.1
        Multiplier of the wrapped schedule at the start, in [0, 1].
    """

    _parameter_constraints = {
        "schedule": [Schedule, None],
        "warmup_epochs": [Interval(Real, 0, None, closed="neither")],
        "start_factor": [_FRACTION],
    }

    def __init__(self, schedule=None, warmup_epochs=5, start_factor=0.1):
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.start_factor = start_factor

    def _inner(self):
        return self.schedule if self.schedule is not None else Constant()

    @property
    def watches_loss(self):
        return self._inner().watches_loss

    def validate(self):
        """Check the hyperparameters, the wrapped schedule's too; return ``self``."""
        super().validate()
        self._inner().validate()
        return self

    def __call__(self, progress, n_epochs=None, state=None):
        progress = _progress(progress)
        ramp = self.start_factor + (1 - self.start_factor) * np.minimum(
            progress / self.warmup_epochs, 1.0
        )
        return (ramp * self._inner()(progress, n_epochs, state))[()]

    def init_state(self):
        return self._inner().init_state()

    def observe(self, state, loss):
        return self._inner().observe(state, loss)


class OneCycle(Schedule):
    """The one-cycle policy: a cosine rise to the base rate, then annealing.

    Over the horizon ``N``, the multiplier starts at ``1 / div_factor``,
    rises along a cosine to 1 at ``pct_start * N`` and falls along a cosine
    to ``1 / (div_factor * final_div_factor)`` at ``N``, where it stays.

    Parameters
    ----------
    pct_start : float, default=0.3
        Fraction of the horizon spent rising, in (0, 1).
    div_factor : float, default=25.0
        The start multiplier is ``1 / div_factor``; >= 1.
    final_div_factor : float, default=1e4
        The final multiplier is ``1 / (div_factor * final_div_factor)``;
        >= 1.
    """

    _parameter_constraints = {
        "pct_start": [Interval(Real, 0, 1, closed="neither")],
        "div_factor": [Interval(Real, 1, None, closed="left")],
        "final_div_factor": [Interval(Real, 1, None, closed="left")],
    }

    def __init__(self, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor

    def __call__(self, progress, n_epochs=None, state=None):
        horizon = _horizon(n_epochs, self)
        progress = _progress(progress)
        peak = self.pct_start * horizon
        initial = 1 / self.div_factor
        final = initial / self.final_div_factor
        rise = _cosine_ramp(np.minimum(progress / peak, 1.0), initial, 1.0)
        fall_fraction = np.clip((progress - peak) / (horizon - peak), 0.0, 1.0)
        fall = _cosine_ramp(fall_fraction, 1.0, final)
        return np.where(progress < peak, rise, fall)[()]


class CyclicLR(Schedule):
    """Cycle the rate along a triangle between ``min_factor`` and a maximum.

    Each cycle of ``period`` epochs rises linearly from ``min_factor`` to the
    maximum at its middle and falls back. The maximum is 1 for
    ``"triangular"``; for ``"triangular2"`` the amplitude ``1 - min_factor``
    halves every cycle; for ``"exp_range"`` it is scaled by ``gamma **
    progress``.

    Parameters
    ----------
    min_factor : float, default=0.1
        Lowest multiplier, in [0, 1].
    period : float, default=10.0
        Length of one full cycle in epochs, > 0.
    mode : {"triangular", "triangular2", "exp_range"}, default="triangular"
        How the amplitude changes over cycles.
    gamma : float, default=0.99
        Amplitude decay per epoch for ``"exp_range"``, in (0, 1].
    """

    _parameter_constraints = {
        "min_factor": [_FRACTION],
        "period": [Interval(Real, 0, None, closed="neither")],
        "mode": [StrOptions({"triangular", "triangular2", "exp_range"})],
        "gamma": [_DECAY],
    }

    def __init__(self, min_factor=0.1, period=10.0, mode="triangular", gamma=0.99):
        self.min_factor = min_factor
        self.period = period
        self.mode = mode
        self.gamma = gamma

    def __call__(self, progress, n_epochs=None, state=None):
        progress = _progress(progress)
        cycles = progress / self.period
        cycle = np.floor(cycles)
        triangle = 1 - np.abs(2 * (cycles - cycle) - 1)
        if self.mode == "triangular2":
            triangle = triangle / 2**cycle
        elif self.mode == "exp_range":
            triangle = triangle * self.gamma**progress
        return (self.min_factor + (1 - self.min_factor) * triangle)[()]


class ReduceOnPlateau(Schedule):
    """Cut the rate by ``factor`` when the monitored loss stops improving.

    An epoch improves when its loss is below ``best - min_delta * |best|``
    (``min_delta`` is relative). After more than ``patience`` epochs in a row
    without improvement the multiplier is multiplied by ``factor`` and the
    count restarts. A non-finite loss never improves.

    Parameters
    ----------
    factor : float, default=0.1
        Reduction factor, in (0, 1).
    patience : int, default=10
        Epochs without improvement tolerated before a reduction, >= 0.
    min_delta : float, default=1e-4
        Relative improvement that counts, >= 0.
    """

    _parameter_constraints = {
        "factor": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 0, None, closed="left")],
        "min_delta": [Interval(Real, 0, None, closed="left")],
    }
    watches_loss = True

    def __init__(self, factor=0.1, patience=10, min_delta=1e-4):
        self.factor = factor
        self.patience = patience
        self.min_delta = min_delta

    def __call__(self, progress, n_epochs=None, state=None):
        multiplier = 1.0 if state is None else state["multiplier"]
        return np.full(np.shape(progress), multiplier, dtype=np.float64)[()]

    def init_state(self):
        return {"best": np.inf, "bad_epochs": 0, "multiplier": 1.0}

    def observe(self, state, loss):
        best, bad_epochs = state["best"], state["bad_epochs"]
        multiplier = state["multiplier"]
        # Written out because inf - min_delta * inf is NaN.
        threshold = best - self.min_delta * abs(best) if np.isfinite(best) else best
        if np.isfinite(loss) and loss < threshold:
            best, bad_epochs = float(loss), 0
        else:
            bad_epochs += 1
            if bad_epochs > self.patience:
                multiplier *= self.factor
                bad_epochs = 0
        return {"best": best, "bad_epochs": bad_epochs, "multiplier": multiplier}


SCHEDULE_ALIASES = Registry("schedule", Schedule)
"""The schedule names: the single list every estimator, doc table and test reads."""

for _name, _schedule, _summary in (
    ("constant", Constant(), "1"),
    ("step", StepDecay(), "``gamma ** floor(progress / step_size)``"),
    ("exponential", ExponentialDecay(), "``gamma ** progress``"),
    ("invscaling", InverseScaling(), "``(1 + progress) ** -power_t``"),
    ("cosine", CosineAnnealing(), "half a cosine from 1 to ``min_factor`` over "
     "``max_iter`` epochs"),
    ("warmup_cosine", Warmup(CosineAnnealing()), "a linear warm-up over 5 epochs, "
     "then the cosine"),
    ("onecycle", OneCycle(), "a rise to 1, then annealing far below the start"),
    ("cyclic", CyclicLR(), "triangles between ``min_factor`` and 1"),
    ("plateau", ReduceOnPlateau(), "times ``factor`` when the monitored loss "
     "stalls"),
):
    SCHEDULE_ALIASES.register(_name, _schedule, _summary)


def resolve_schedule(spec):
    """Turn a ``schedule`` hyperparameter into a validated schedule.

    Parameters
    ----------
    spec : str or Schedule
        A name from :data:`SCHEDULE_ALIASES` or a schedule object.

    Returns
    -------
    schedule : Schedule
        A new, validated schedule; an object ``spec`` is cloned so that the
        user's object is never modified or shared.

    Raises
    ------
    InvalidParameterError
        If ``spec`` is an unknown name, has an unsupported type, or has
        invalid hyperparameters.
    """
    return SCHEDULE_ALIASES.resolve(spec)
