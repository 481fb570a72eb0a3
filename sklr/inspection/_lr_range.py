"""Plot of the learning-rate range test."""

import numpy as np

from sklr.inspection._loss_curve import _BACKOFF_COLOR, _final_estimator, _get_axes


class LRRangeDisplay:
    """Loss against the learning rate of an LR range test.

    The test trains with an exponentially growing learning rate and records
    the loss of every step until the loss blows up. A good learning rate lies
    on the steep descent, before the minimum; the suggested one is marked.
    Build it with :meth:`from_estimator` or :meth:`from_result`.

    Parameters
    ----------
    learning_rates : array-like of shape (n_steps,)
        Learning rate of every step.
    losses : array-like of shape (n_steps,)
        Loss of every step, usually smoothed.
    raw_losses : array-like of shape (n_steps,), default=None
        Unsmoothed loss of every step, drawn faintly behind ``losses``.
    suggested_learning_rate : float, default=None
        The suggested learning rate, marked with a vertical line.
    estimator_name : str, default=None
        Name of the estimator, for the title.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The loss curve.
    suggestion_line_ : matplotlib Line2D or None
        The vertical line at the suggested learning rate.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure of the axes.

    See Also
    --------
    sklr.lr_range_test : Run the test.
    """

    def __init__(self, *, learning_rates, losses, raw_losses=None,
                 suggested_learning_rate=None, estimator_name=None):
        self.learning_rates = learning_rates
        self.losses = losses
        self.raw_losses = raw_losses
        self.suggested_learning_rate = suggested_learning_rate
        self.estimator_name = estimator_name

    @classmethod
    def from_result(cls, result, *, ax=None, name=None, **kwargs):
        """Plot the result of :func:`sklr.lr_range_test`.

        Parameters
        ----------
        result : object
            Result with ``learning_rates``, ``losses`` and
            ``suggested_learning_rate`` attributes, and optionally
            ``raw_losses``.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Name of the estimator, for the title.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : LRRangeDisplay
        """
        display = cls(
            learning_rates=result.learning_rates,
            losses=result.losses,
            raw_losses=getattr(result, "raw_losses", None),
            suggested_learning_rate=getattr(result, "suggested_learning_rate", None),
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, ax=None, name=None, plot_kwargs=None,
                       **kwargs):
        """Run the LR range test on an estimator and plot it.

        Parameters
        ----------
        estimator : estimator or Pipeline
            An unfitted sklr estimator, or a Pipeline ending in one.
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Name of the estimator, for the title; None uses its class name.
        plot_kwargs : dict, default=None
            Passed to :meth:`plot`.
        **kwargs
            Passed to :func:`sklr.lr_range_test`.

        Returns
        -------
        display : LRRangeDisplay
        """
        from sklr.lr_finder import lr_range_test

        result = lr_range_test(estimator, X, y, **kwargs)
        name = name if name is not None else type(_final_estimator(estimator)).__name__
        return cls.from_result(result, ax=ax, name=name, **(plot_kwargs or {}))

    def plot(self, ax=None, *, clip_loss=True, legend=True):
        """Draw the loss against the learning rate.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        clip_loss : bool, default=True
            Fit the y axis to the losses before the blow-up at the end of the
            test, so that it does not flatten the rest: to the raw losses
            (the smoothed ones without raw losses), except rare spikes far
            beyond their 1% and 99% quantiles, and the smoothed curve, up to
            the step where the smoothed loss, past its minimum, climbs back
            above its start.
        legend : bool, default=True
            Draw a legend.

        Returns
        -------
        self : LRRangeDisplay
        """
        ax = _get_axes(ax, "LRRangeDisplay.plot")
        rates = np.asarray(self.learning_rates, dtype=float)
        losses = np.asarray(self.losses, dtype=float)
        has_raw = self.raw_losses is not None
        if has_raw:
            ax.plot(rates, self.raw_losses, color="C0", alpha=0.3, linewidth=1,
                    label="loss per step")
        (self.line_,) = ax.plot(rates, losses, color="C0",
                                label="smoothed loss" if has_raw else "loss per step")
        if clip_loss:
            limits = _loss_limits(losses, self.raw_losses)
            if limits is not None:
                ax.set_ylim(*limits)

        self.suggestion_line_ = None
        if self.suggested_learning_rate is not None:
            self.suggestion_line_ = ax.axvline(
                self.suggested_learning_rate, color=_BACKOFF_COLOR, linestyle="--",
                label=f"suggested learning rate: {self.suggested_learning_rate:.3g}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss")
        title = "Learning-rate range test"
        if self.estimator_name:
            title += f" of {self.estimator_name}"
        ax.set_title(title)
        if legend:
            ax.legend(fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _loss_limits(losses, raw_losses):
    """Y limits that show the loss per step up to the blow-up, or None.

    The blow-up starts at the first step after the minimum of the smoothed
    ``losses`` where they are above their start (the median of the first
    tenth) or not finite. Before it, the limits hold the raw losses and the
    whole smoothed curve, with a margin; a raw loss beyond the 1% or 99%
    quantile by more than a quarter of their distance is left out, so that a
    rare spike does not squash the rest.
    """
    losses = np.asarray(losses, dtype=float)
    raw = losses if raw_losses is None else np.asarray(raw_losses, dtype=float)
    finite = np.isfinite(losses)
    if finite.sum() < 2:
        return None
    n_steps = len(losses)
    head = losses[:max(3, n_steps // 10)]
    head = head[np.isfinite(head)]
    start = np.median(head) if head.size else losses[finite][0]
    lowest = int(np.nanargmin(np.where(finite, losses, np.nan)))
    after = np.flatnonzero(~(losses[lowest:] <= start))
    end = lowest + after[0] if after.size else n_steps
    smooth = losses[:end][finite[:end]]
    shown = raw[:end][np.isfinite(raw[:end])]
    low, high = smooth.min(), max(smooth.max(), start)
    if shown.size:
        q_low, q_high = np.quantile(shown, [0.01, 0.99])
        # the extremes too, unless they are outliers far beyond the quantiles
        reach = 0.25 * (q_high - q_low)
        q_low = shown.min() if q_low - shown.min() <= reach else q_low
        q_high = shown.max() if shown.max() - q_high <= reach else q_high
        low, high = min(low, q_low), max(high, q_high)
    span = max(high - low, 1e-12 * max(abs(high), 1.0))
    return low - 0.05 * span, high + 0.1 * span
