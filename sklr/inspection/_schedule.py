"""Preview of learning-rate schedules, without training."""

from numbers import Integral, Real

import numpy as np

from sklr.inspection._loss_curve import _curve_colors, _format_value, _get_axes
from sklr.schedules import ReduceOnPlateau, Warmup, resolve_schedule


def _is_loss_aware(schedule):
    """Whether the schedule's value depends on the loss it observes."""
    while isinstance(schedule, Warmup):
        schedule = schedule.schedule
    return isinstance(schedule, ReduceOnPlateau)


class ScheduleDisplay:
    """Learning rate against the epoch for one or several schedules.

    Build it with :meth:`from_schedule`, which evaluates the schedules the
    way training would, step by step, without fitting anything.

    Parameters
    ----------
    epochs : ndarray of shape (n_steps,)
        Fractional epoch of every step, ``epoch + batch / n_batches``.
    learning_rates : list of ndarray of shape (n_steps,)
        Learning rate at every step, one array per schedule.
    labels : list of str
        Legend label of each schedule.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        One line per schedule.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure of the axes.

    See Also
    --------
    LossCurveDisplay : The learning rate actually used during a fit.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklr.inspection import ScheduleDisplay
    >>> display = ScheduleDisplay.from_schedule(
    ...     ["cosine", "onecycle"], n_epochs=50, learning_rate=0.1)
    """

    def __init__(self, *, epochs, learning_rates, labels):
        self.epochs = epochs
        self.learning_rates = learning_rates
        self.labels = labels

    @classmethod
    def from_schedule(
        cls,
        schedule,
        n_epochs,
        learning_rate=1.0,
        *,
        n_batches=10,
        ax=None,
        **kwargs,
    ):
        """Preview schedules over ``n_epochs`` epochs.

        The loss-aware ``"plateau"`` schedule (:class:`~sklr.schedules.ReduceOnPlateau`)
        only reacts to the loss during training; without one it stays
        flat, which its label says.

        Parameters
        ----------
        schedule : str, Schedule, list or dict
            A schedule name such as ``"cosine"``, a schedule object, a list
            of them, or a dict mapping legend labels to them.
        n_epochs : int
            Epochs to preview; also the training horizon (``max_iter``) of
            schedules that need one, such as ``"onecycle"``.
        learning_rate : float, default=1.0
            Base learning rate; with 1 the plot shows the multiplier.
        n_batches : int, default=10
            Minibatches per epoch, i.e. steps drawn per epoch.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : ScheduleDisplay

        Raises
        ------
        ValueError
            If ``n_epochs``, ``learning_rate`` or ``n_batches`` is invalid, or
            no schedule is given.
        sklearn.utils._param_validation.InvalidParameterError
            If a schedule is unknown or has invalid hyperparameters.
        """
        if not isinstance(n_epochs, Integral) or n_epochs < 1:
            raise ValueError(f"n_epochs must be an integer >= 1, got {n_epochs!r}.")
        if not isinstance(n_batches, Integral) or n_batches < 1:
            raise ValueError(f"n_batches must be an integer >= 1, got {n_batches!r}.")
        if not isinstance(learning_rate, Real) or not learning_rate > 0:
            raise ValueError(
                f"learning_rate must be a float > 0, got {learning_rate!r}."
            )
        if isinstance(schedule, dict):
            items = list(schedule.items())
        elif isinstance(schedule, list | tuple):
            items = [(_format_value(s), s) for s in schedule]
        else:
            items = [(_format_value(schedule), schedule)]
        if not items:
            raise ValueError("schedule is empty: give at least one schedule.")

        epochs = np.arange(n_epochs * n_batches) / n_batches
        rates, labels = [], []
        for label, spec in items:
            resolved = resolve_schedule(spec)
            multiplier = resolved(epochs, n_epochs=n_epochs, state=resolved.init_state())
            rates.append(learning_rate * np.broadcast_to(multiplier, epochs.shape))
            if _is_loss_aware(resolved):
                label = f"{label} (reacts to the loss; flat in a preview)"
            labels.append(str(label))
        display = cls(epochs=epochs, learning_rates=rates, labels=labels)
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, yscale="log", legend=True):
        """Draw the schedules.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        yscale : {"log", "linear"}, default="log"
            Scale of the learning-rate axis. The log scale shows decays over
            orders of magnitude; the linear one shows shapes as often drawn.
        legend : bool, default=True
            Draw a legend.

        Returns
        -------
        self : ScheduleDisplay
        """
        ax = _get_axes(ax, "ScheduleDisplay.plot")
        colors = _curve_colors(len(self.learning_rates))
        self.lines_ = [
            ax.plot(self.epochs, rate, drawstyle="steps-post", label=label,
                    color=color)[0]
            for rate, label, color in zip(self.learning_rates, self.labels, colors)
        ]
        ax.set_yscale(yscale)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"learning rate{' (log scale)' if yscale == 'log' else ''}")
        ax.set_title(
            "Learning-rate schedule" if len(self.lines_) == 1
            else "Learning-rate schedules"
        )
        if legend:
            ax.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
