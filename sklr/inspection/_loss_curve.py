"""Training curves of a fitted estimator or of every candidate of a search."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

_BACKOFF_COLOR = "tab:red"
_RATE_COLOR = "0.45"


def _get_axes(ax, caller):
    """Return ``ax``, or the axes of a new figure; imports matplotlib lazily.

    Parameters
    ----------
    ax : matplotlib Axes or None
        Axes to draw on.
    caller : str
        Name of the calling method, for the error without matplotlib.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            f"{caller} requires matplotlib; install it with "
            "`pip install matplotlib` or `pip install sklr[plot]`."
        ) from error

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _format_value(value):
    """Short label of a hyperparameter value (float, string or object).

    Parameters
    ----------
    value : object
        A hyperparameter value, as found in ``cv_results_["params"]``.

    Returns
    -------
    label : str
    """
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    if isinstance(value, BaseEstimator):
        text = repr(value)
        # a long repr makes an unreadable legend: fall back to the class name
        return text if len(text) <= 40 and "\n" not in text else type(value).__name__
    return str(value)


def _short_name(param):
    """``"mlpclassifier__learning_rate"`` -> ``"learning_rate"``."""
    return param.rsplit("__", 1)[-1]


def _final_estimator(estimator):
    """The last step of a Pipeline (recursively), else ``estimator``."""
    while isinstance(estimator, Pipeline):
        estimator = estimator[-1]
    return estimator


def _last_round_rows(results):
    """Rows of ``cv_results_`` to use: each candidate once, at its last round.

    Successive-halving searches list a candidate once per round it reached,
    with more resources each time; other searches list it once.
    """
    n_rows = len(results["params"])
    if "iter" not in results:
        return np.arange(n_rows)
    latest = {}
    for row in range(n_rows):
        key = repr(sorted(results["params"][row].items()))
        if key not in latest or results["iter"][row] >= results["iter"][latest[key]]:
            latest[key] = row
    return np.array(sorted(latest.values()))


def _candidate_labels(search, indices):
    """Label each candidate with the hyperparameters that vary in the search."""
    params = getattr(search, "cv_results_", {}).get("params")
    if params is None:
        return [f"candidate {i}" for i in indices]
    names = dict.fromkeys(name for p in params for name in p)
    varying = [
        name for name in names if len({_format_value(p.get(name)) for p in params}) > 1
    ]
    labels = []
    for i in indices:
        parts = [
            f"{_short_name(name)}={_format_value(params[i].get(name))}"
            for name in varying
            if name in params[i]
        ]
        labels.append(", ".join(parts) or f"candidate {i}")
    return labels


class LossCurveDisplay:
    """Training curves per epoch: loss, validation loss and learning rate.

    Draws one or several curves against the epoch: the training loss (solid),
    the validation loss (dashed, same colour) when it was monitored, and on a
    second, logarithmic y axis the learning rate in effect at the end of each
    epoch. Epochs in which training diverged, so that sklr restored the last
    good weights, are marked with red crosses. Build it with
    :meth:`from_estimator` or :meth:`from_search` rather than directly.

    Parameters
    ----------
    curves : list of array-like
        Per-epoch values, one array per curve: the training loss, or the
        validation score for ``from_search(..., metric="validation_score")``.
    labels : list of str
        Legend label of each curve.
    validation_curves : list of (array-like or None), default=None
        Validation loss per epoch of each curve, None where not monitored.
    learning_rate_curves : list of (array-like or None), default=None
        Learning rate at the end of each epoch, per curve.
    divergence_epochs : list of list of int, default=None
        Zero-based epochs in which each curve diverged.
    backed_off : list of bool, default=None
        Whether each curve's training backed off after a divergence; those
        curves are drawn dashed. Used when the epochs are unknown.
    ylabel : str, default="loss"
        Label of the y axis.
    title : str, default=None
        Title of the axes; None for a default naming the contents.

    Attributes
    ----------
    lines_ : list of matplotlib Line2D
        The curves.
    validation_lines_ : list of matplotlib Line2D
        The validation-loss curves that were drawn.
    learning_rate_lines_ : list of matplotlib Line2D
        The learning-rate curves that were drawn.
    divergence_markers_ : list of matplotlib Line2D
        The markers of diverged epochs.
    ax_ : matplotlib Axes
        Axes of the loss.
    ax_learning_rate_ : matplotlib Axes or None
        Twin axes of the learning rate, None if it was not drawn.
    figure_ : matplotlib Figure
        Figure of the axes.

    See Also
    --------
    ScheduleDisplay : Learning rate of a schedule, without training.
    SearchScoreDisplay : Cross-validated score against the learning rate.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_regression
    >>> from sklr import LinearRegressor
    >>> from sklr.inspection import LossCurveDisplay
    >>> X, y = make_regression(n_samples=100, n_features=3, random_state=0)
    >>> est = LinearRegressor(max_iter=20, tol=None).fit(X, y / y.std())
    >>> display = LossCurveDisplay.from_estimator(est)
    """

    def __init__(
        self,
        *,
        curves,
        labels,
        validation_curves=None,
        learning_rate_curves=None,
        divergence_epochs=None,
        backed_off=None,
        ylabel="loss",
        title=None,
    ):
        self.curves = curves
        self.labels = labels
        self.validation_curves = validation_curves
        self.learning_rate_curves = learning_rate_curves
        self.divergence_epochs = divergence_epochs
        self.backed_off = backed_off
        self.ylabel = ylabel
        self.title = title

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the training curves of a fitted sklr estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted sklr estimator, or a fitted Pipeline ending in one.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        name : str, default=None
            Label of the training loss; None uses the estimator's class name.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        ValueError
            If ``estimator`` does not record a loss curve.
        """
        final = _final_estimator(estimator)
        check_is_fitted(final)
        if not hasattr(final, "loss_curve_"):
            raise ValueError(
                f"{type(final).__name__} has no loss_curve_: LossCurveDisplay "
                "needs a fitted sklr estimator (or a Pipeline ending in one)."
            )
        record = getattr(final, "_record", None)
        name = name if name is not None else type(final).__name__
        display = cls(
            curves=[final.loss_curve_],
            labels=[name],
            validation_curves=[getattr(final, "validation_loss_curve_", None)],
            learning_rate_curves=[getattr(final, "learning_rate_curve_", None)],
            divergence_epochs=[
                list(record.divergence_epochs) if record is not None else []
            ],
            title=f"Training curves of {name}",
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_search(
        cls,
        search,
        *,
        metric="loss",
        fold=0,
        candidates=None,
        ax=None,
        **kwargs,
    ):
        """Overlay the training curves of the candidates of an sklr search.

        Works with searches that keep per-candidate curves in ``curves_``,
        such as :class:`sklr.model_selection.LockstepGridSearchCV`.
        Candidates whose training backed off after a divergence are drawn
        dashed and marked "backed off" in the legend; those stopped by a
        divergence end with a red cross.

        Parameters
        ----------
        search : fitted search
            A search with a ``curves_`` attribute: a list over candidates of
            lists over CV folds of dicts with ``"loss_curve"``,
            ``"validation_scores"``, ``"learning_rate_curve"``,
            ``"n_divergences"`` and ``"status"``.
        metric : {"loss", "validation_score"}, default="loss"
            Plot the training loss or the validation score per epoch.
        fold : int, default=0
            CV fold whose curves are drawn.
        candidates : sequence of int, default=None
            Indices of the candidates to draw; None draws all.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : LossCurveDisplay

        Raises
        ------
        ValueError
            If ``search`` keeps no curves, ``metric`` is unknown, ``fold`` is
            out of range, or the validation score was not recorded.
        """
        curves_per_candidate = getattr(search, "curves_", None)
        if curves_per_candidate is None:
            raise ValueError(
                f"{type(search).__name__} has no curves_ attribute: "
                "LossCurveDisplay.from_search needs a fitted search that keeps "
                "per-candidate training curves, such as "
                "sklr.model_selection.LockstepGridSearchCV. For any other "
                "search, plot the best estimator with from_estimator("
                "search.best_estimator_) or the scores with SearchScoreDisplay."
            )
        keys = {"loss": "loss_curve", "validation_score": "validation_scores"}
        if metric not in keys:
            raise ValueError(
                f"metric must be 'loss' or 'validation_score', got {metric!r}."
            )
        if candidates is None:
            results = getattr(search, "cv_results_", None)
            candidates = (_last_round_rows(results) if results is not None
                          else range(len(curves_per_candidate)))
        candidates = [int(i) for i in candidates]
        records = []
        for i in candidates:
            folds = curves_per_candidate[i]
            if not -len(folds) <= fold < len(folds):
                raise ValueError(
                    f"fold={fold} is out of range: the search has {len(folds)} folds."
                )
            # a fit that failed before training has no curves
            records.append(folds[fold] if folds[fold] is not None else {})
        values = [list(record.get(keys[metric]) or []) for record in records]
        if metric != "loss" and not any(values):
            raise ValueError(
                "The search recorded no validation scores; fit it with "
                "early_stopping=True or use metric='loss'."
            )
        labels = _candidate_labels(search, candidates)
        stopped = [r.get("status") in ("diverged", "error") for r in records]
        backed_off = [bool(r.get("n_divergences", 0)) for r in records]
        for j in range(len(records)):
            if not records[j]:
                labels[j] += " (failed)"
            elif stopped[j]:
                labels[j] += " (diverged)"
            elif backed_off[j]:
                labels[j] += " (backed off)"
        # a stopped candidate's divergence is in its last recorded epoch
        divergence_epochs = [[len(v) - 1] if stop else []
                             for v, stop in zip(values, stopped)]
        display = cls(
            curves=values,
            labels=labels,
            learning_rate_curves=[r.get("learning_rate_curve") for r in records],
            divergence_epochs=divergence_epochs,
            backed_off=backed_off,
            ylabel="loss" if metric == "loss" else "validation score",
            title=(
                f"{'Training loss' if metric == 'loss' else 'Validation score'} "
                f"per candidate (CV fold {fold})"
            ),
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, show_learning_rate=None, yscale="linear", legend=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        show_learning_rate : bool, default=None
            Draw the learning rate on a second, logarithmic y axis. None draws
            it when there is a single curve.
        yscale : {"linear", "log"}, default="linear"
            Scale of the loss axis; "log" helps when the loss spans orders of
            magnitude, e.g. around a divergence.
        legend : bool, default=True
            Draw a legend.

        Returns
        -------
        self : LossCurveDisplay
        """
        new_figure = ax is None
        ax = _get_axes(ax, "LossCurveDisplay.plot")
        n_curves = len(self.curves)
        if show_learning_rate is None:
            show_learning_rate = n_curves == 1
        colors = _curve_colors(n_curves)
        dashed = self.backed_off or [False] * n_curves
        validation = self.validation_curves or [None] * n_curves
        rates = self.learning_rate_curves or [None] * n_curves
        divergences = self.divergence_epochs or [[]] * n_curves

        self.lines_, self.validation_lines_, self.divergence_markers_ = [], [], []
        for values, label, color, is_dashed, val, stops in zip(
            self.curves, self.labels, colors, dashed, validation, divergences
        ):
            values = np.asarray(values, dtype=float)
            has_validation = val is not None and len(val) > 0
            (line,) = ax.plot(
                np.arange(1, len(values) + 1), values, color=color,
                label=f"{label} (training)" if has_validation else label,
                linestyle="--" if is_dashed else "-",
            )
            self.lines_.append(line)
            if has_validation:
                (val_line,) = ax.plot(
                    np.arange(1, len(val) + 1), val, color=line.get_color(),
                    linestyle="--", label=f"{label} (validation)",
                )
                self.validation_lines_.append(val_line)
            stops = [e for e in stops if 0 <= e < len(values)]
            if stops:
                (markers,) = ax.plot(
                    np.asarray(stops) + 1, values[stops], linestyle="none",
                    marker="X", markersize=10, color=_BACKOFF_COLOR,
                    markeredgecolor="black", zorder=3,
                    label=("divergence: last good weights restored"
                           if not self.divergence_markers_ else None),
                )
                self.divergence_markers_.append(markers)
        ax.set_yscale(yscale)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{self.ylabel}{' (log scale)' if yscale == 'log' else ''}")
        ax.set_title(self.title if self.title is not None else "Training curves")

        self.ax_learning_rate_ = None
        self.learning_rate_lines_ = []
        drawable = [r for r in rates if r is not None and len(r)]
        if show_learning_rate and drawable:
            self.ax_learning_rate_ = ax.twinx()
            for rate, line in zip(rates, self.lines_):
                if rate is None or not len(rate):
                    continue
                (rate_line,) = self.ax_learning_rate_.plot(
                    np.arange(1, len(rate) + 1), rate, drawstyle="steps-pre",
                    color=_RATE_COLOR if n_curves == 1 else line.get_color(),
                    linestyle=":", linewidth=1.5,
                    label="learning rate (right axis)"
                    if not self.learning_rate_lines_ else None,
                )
                self.learning_rate_lines_.append(rate_line)
            self.ax_learning_rate_.set_yscale("log")
            self.ax_learning_rate_.set_ylabel("learning rate (log scale)")

        if legend:
            handles, texts = ax.get_legend_handles_labels()
            if self.ax_learning_rate_ is not None:
                more = self.ax_learning_rate_.get_legend_handles_labels()
                handles, texts = handles + more[0], texts + more[1]
            # above the twin axes, which would otherwise hide it
            target = self.ax_learning_rate_ or ax
            if len(texts) > 8:
                # a long legend would hide the curves: put it beside the axes
                target.legend(handles, texts, loc="upper left", fontsize="small",
                              bbox_to_anchor=(1.02, 1), borderaxespad=0)
                if new_figure:
                    ax.figure.set_size_inches(10, 5)
                    ax.figure.set_layout_engine("constrained")
            else:
                target.legend(handles, texts, loc="best", fontsize="small")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _curve_colors(n_curves):
    """Colours of ``n_curves`` lines: None (the axes' own cycle) unless it repeats.

    Leaving the colour to the axes lets several displays share one axes
    without drawing the same colour twice.
    """
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    if n_curves <= len(cycle):
        return [None] * n_curves
    return [plt.get_cmap("viridis")(x) for x in np.linspace(0, 0.9, n_curves)]
