"""Preview of learning-rate schedules, without training."""

from numbers import Integral, Real

import numpy as np

from sklr.inspection._loss_curve import (
    _curve_colors,
    _format_value,
    _get_axes,
    _place_legend,
)
from sklr.schedules import resolve_schedule

# two curves that agree on this share of the steps are drawn so both show
_OVERLAP_SHARE = 0.05


def _is_loss_aware(schedule):
    """Whether the schedule's value depends on the loss it observes."""
    return bool(getattr(schedule, "watches_loss", False))


def _overlap_groups(learning_rates):
    """Group curves that coincide over a stretch, in drawing order.

    Two curves coincide where their rates agree to a relative 1e-9; they
    overlap when that holds on at least ``_OVERLAP_SHARE`` of the steps (and
    two steps), so that a single crossing does not count. Groups are the
    connected sets of overlapping curves.
    """
    n_curves = len(learning_rates)
    parent = list(range(n_curves))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for j in range(n_curves):
        b = np.asarray(learning_rates[j], dtype=float)
        for i in range(j):
            a = np.asarray(learning_rates[i], dtype=float)
            same = np.isclose(a, b, rtol=1e-9, atol=0)
            if same.sum() >= max(2, _OVERLAP_SHARE * len(same)):
                parent[root(j)] = root(i)
    groups = {}
    for i in range(n_curves):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _overlap_styles(learning_rates):
    """Line style, width and z-order of each curve, so that none hides another.

    In each group of coinciding curves (see :func:`_overlap_groups`) the
    first is solid and wide; the others are drawn on top with dashes that
    take turns along the line, so that every colour shows, the solid one in
    the gaps.
    """
    styles = [{"linestyle": "-", "linewidth": 1.5, "zorder": 2.0}
              for _ in learning_rates]
    for group in _overlap_groups(learning_rates):
        if len(group) < 2:
            continue
        size = len(group)
        styles[group[0]] = {"linestyle": "-", "linewidth": 2.5, "zorder": 2.0}
        for m, i in enumerate(group[1:], start=1):
            # in a period of 3 * size line widths, the offsets put the dashes
            # of the members 1, 2, ... at [0, 3), [3 size - 3, 3 size), ...,
            # leaving [3, 6) to the solid curve underneath
            styles[i] = {
                "linestyle": ((3 * (m - 1)) % (3 * size), (3, 3 * (size - 1))),
                "linewidth": 2.0,
                "zorder": 2.0 + 0.01 * m,
            }
    return styles


class ScheduleDisplay:
    """Learning rate against the epoch for one or several schedules.

    Build it with :meth:`from_schedule`, which evaluates the schedules the
    way training would, step by step, without fitting anything. Curves that
    coincide over a stretch (``"constant"`` and ``"plateau"`` in a preview,
    ``"cosine"`` and ``"warmup_cosine"`` after the warm-up) stay visible:
    the first is drawn solid and wide, the others on top of it with dashes
    that take turns.

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
            Draw a legend naming every schedule, where it covers no curve
            (beside the axes if there is none, or if it has more than eight
            entries and the display created the figure).

        Returns
        -------
        self : ScheduleDisplay
        """
        new_figure = ax is None
        ax = _get_axes(ax, "ScheduleDisplay.plot")
        colors = _curve_colors(len(self.learning_rates))
        styles = _overlap_styles(self.learning_rates)
        self.lines_ = [
            ax.plot(self.epochs, rate, drawstyle="steps-post", label=label,
                    color=color, **style)[0]
            for rate, label, color, style in zip(
                self.learning_rates, self.labels, colors, styles)
        ]
        ax.set_yscale(yscale)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"learning rate{' (log scale)' if yscale == 'log' else ''}")
        ax.set_title(
            "Learning-rate schedule" if len(self.lines_) == 1
            else "Learning-rate schedules"
        )
        if legend:
            handles, texts = ax.get_legend_handles_labels()
            # long handles, so that the dash patterns show
            _place_legend(ax, handles, texts, data_axes=[ax], new_figure=new_figure,
                          handlelength=3.5)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
