"""Training curves of a fitted estimator or of every candidate of a search."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

_BACKOFF_COLOR = "tab:red"
_RATE_COLOR = "0.45"
# from_search draws at most this many candidates unless told which
_MAX_CANDIDATES = 10
# markers that, with the 10 colours of the default cycle, tell 70 lines apart
# ("X" marks divergences and "*" the best candidate, so they are not used)
_MARKERS = ("o", "s", "^", "D", "v", "P", "h")
# legend locations tried inside the axes, in matplotlib's order of preference
_LEGEND_LOCATIONS = (
    "upper right", "upper left", "lower left", "lower right", "center right",
    "center left", "upper center", "lower center", "center",
)
# rates equal to this relative precision are one rate: float noise is no change
_RATE_RTOL = 1e-9


def _get_axes(ax, caller):
    """Return ``ax``, or the axes of a new figure; imports matplotlib lazily.

    A new figure uses constrained layout, so that tick labels, axis labels
    and a legend beside the axes stay inside it when saved.

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
        _, ax = plt.subplots(layout="constrained")
    return ax


def _drawn_points(axes):
    """Display coordinates of what the lines of ``axes`` draw.

    Returns a list of ``(points, connected)``: the vertices of each visible
    line (with the corners of a step drawstyle) and whether they are joined
    by line segments or are only markers.
    """
    drawn = []
    for each in axes:
        for line in each.get_lines():
            xy = np.asarray(line.get_xydata(), dtype=float).reshape(-1, 2)
            if not line.get_visible() or not len(xy):
                continue
            style = line.get_drawstyle()
            if style in ("steps-post", "steps-pre", "steps") and len(xy) > 1:
                corners = np.repeat(xy, 2, axis=0)
                if style == "steps-pre":
                    corners = np.column_stack([corners[:-1, 0], corners[1:, 1]])
                else:
                    corners = np.column_stack([corners[1:, 0], corners[:-1, 1]])
                xy = corners
            with np.errstate(all="ignore"):
                points = line.get_transform().transform(xy)
            points = points[np.isfinite(points).all(axis=1)]
            connected = line.get_linestyle() not in ("None", "none", "", " ")
            drawn.append((points, connected))
    return drawn


def _covered(bbox, drawn):
    """How much of ``drawn`` (from :func:`_drawn_points`) ``bbox`` covers.

    Counts the lines that cross the box, plus the vertices inside it.
    """
    from matplotlib.path import Path

    box = bbox.padded(4)
    score = 0
    for points, connected in drawn:
        if not len(points):
            continue
        inside = int(np.count_nonzero(
            (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
            & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
        ))
        crosses = connected and len(points) > 1 and Path(points).intersects_bbox(
            box, filled=False)
        score += inside + (1 if crosses or inside else 0)
    return score


def _place_legend(target, handles, labels, *, data_axes, new_figure, **kwargs):
    """Draw a legend on ``target`` where it covers no data, else beside the axes.

    matplotlib's ``loc="best"`` only avoids the data of the legend's own
    axes, not that of a twin axes; this tries the usual locations against
    the lines of every axes in ``data_axes``. A legend of more than eight
    entries, or one that covers data wherever it goes, is put to the right
    of the axes, past any tick labels and axis label there, when the display
    created the figure (which then grows to hold it).

    Parameters
    ----------
    target : matplotlib Axes
        Axes that owns the legend (the topmost, so nothing hides it).
    handles, labels : list
        Legend entries.
    data_axes : list of matplotlib Axes
        Axes whose lines the legend should not cover.
    new_figure : bool
        Whether the display created the figure, so that it may resize it.
    **kwargs
        Passed to ``Axes.legend``.

    Returns
    -------
    legend : matplotlib Legend
    """
    from matplotlib.transforms import ScaledTranslation

    figure = target.figure
    kwargs.setdefault("fontsize", "small")
    if not new_figure or len(labels) <= 8:
        legend = target.legend(handles, labels, loc=_LEGEND_LOCATIONS[0], **kwargs)
        figure.draw_without_rendering()  # lay out, so positions are final
        drawn = _drawn_points(data_axes)
        # Legend.set_loc is matplotlib >= 3.8; _set_loc takes a location code
        set_loc = getattr(legend, "set_loc", None) or legend._set_loc
        codes = [legend.codes[loc] for loc in _LEGEND_LOCATIONS]
        scores = []
        for code in codes:
            set_loc(code)
            scores.append(_covered(legend.get_window_extent(), drawn))
        best = int(np.argmin(scores))
        set_loc(codes[best])
        if scores[best] == 0 or not new_figure:
            return legend
        legend.remove()

    # beside the axes: measure what already sticks out on the right, in points
    figure.draw_without_rendering()
    right = max(each.get_tightbbox().x1 for each in data_axes)
    gap = (max(right - target.bbox.x1, 0.0) * 72 / figure.dpi) + 6
    legend = target.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1, 1), borderaxespad=0,
        bbox_transform=target.transAxes + ScaledTranslation(
            gap / 72, 0, figure.dpi_scale_trans),
        **kwargs,
    )
    width, height = figure.get_size_inches()
    extra = legend.get_window_extent().width / figure.dpi + gap / 72
    figure.set_size_inches(width + extra, height)
    return legend


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


def _distinct_styles(n_curves):
    """Colour and marker of each of ``n_curves`` lines, no two alike.

    Colours come from the default cycle (None lets the axes choose, so that
    several displays can share one axes) and repeat after ten lines; the
    marker changes with every line, so colour and marker together tell up
    to 70 lines apart.
    """
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    colors = ([None] * n_curves if n_curves <= len(cycle)
              else [cycle[k % len(cycle)] for k in range(n_curves)])
    markers = [_MARKERS[k % len(_MARKERS)] for k in range(n_curves)]
    return colors, markers


def _snap_rates(rates):
    """Make rates equal to relative ``_RATE_RTOL`` exactly equal to the previous one.

    A constant rate recorded as 0.3 and 0.30000000000000004 must draw flat.
    """
    rates = np.array(rates, dtype=float)
    for i in range(1, len(rates)):
        if abs(rates[i] - rates[i - 1]) <= _RATE_RTOL * abs(rates[i - 1]):
            rates[i] = rates[i - 1]
    return rates


def _format_value(value, precision=3):
    """Short label of a hyperparameter value (float, string or object).

    Parameters
    ----------
    value : object
        A hyperparameter value, as found in ``cv_results_["params"]``.
    precision : int, default=3
        Significant digits of a float.

    Returns
    -------
    label : str
    """
    if isinstance(value, str):
        return value
    if isinstance(value, float | np.floating):
        return f"{value:.{precision}g}"
    if isinstance(value, BaseEstimator):
        text = repr(value)
        # a long repr makes an unreadable legend: fall back to the class name
        return text if len(text) <= 40 and "\n" not in text else type(value).__name__
    return str(value)


def _value_key(value):
    """Key telling hyperparameter values apart (``0.1 == np.float64(0.1)``)."""
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    return repr(value)


def _varying_params(params):
    """Names of the parameters whose value differs between the dicts ``params``."""
    names = dict.fromkeys(name for p in params for name in p)
    return [name for name in names
            if len({_value_key(p.get(name)) for p in params}) > 1]


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
    """Label each candidate with the hyperparameters that vary among ``indices``.

    With a single candidate, the hyperparameters that vary in the whole
    search name it. Floats get more digits when three would make two
    different values look alike.

    Returns
    -------
    labels : list of str
        One label per candidate.
    shared : list of str
        ``"name=value"`` of the hyperparameters that vary in the search but
        not among several ``indices``, for the title.
    """
    params = getattr(search, "cv_results_", {}).get("params")
    if params is None:
        return [f"candidate {i}" for i in indices], []
    shown = [params[i] for i in indices]
    varying = _varying_params(shown if len(shown) > 1 else params)
    shared = []
    if len(shown) > 1:
        shared = [f"{_short_name(name)}={_format_value(shown[0].get(name))}"
                  for name in _varying_params(params)
                  if name not in varying and all(name in p for p in shown)]
    columns = []
    for name in varying:
        values = [p.get(name) for p in shown]
        n_distinct = len({_value_key(v) for v in values})
        for precision in (3, 4, 6, 17):
            texts = [_format_value(v, precision) for v in values]
            if len(set(texts)) == n_distinct:
                break
        columns.append((name, texts))
    labels = []
    for j, (i, p) in enumerate(zip(indices, shown)):
        parts = [f"{_short_name(name)}={texts[j]}" for name, texts in columns
                 if name in p]
        labels.append(", ".join(parts) or f"candidate {i}")
    return labels, shared


def _rank_key(search):
    """Key of the ``cv_results_`` ranks that order the candidates, or None."""
    results = search.cv_results_
    if "rank_test_score" in results:
        return "rank_test_score"
    refit = getattr(search, "refit", None)
    if isinstance(refit, str) and f"rank_test_{refit}" in results:
        return f"rank_test_{refit}"
    ranks = sorted(k for k in results if k.startswith("rank_test_"))
    return ranks[0] if ranks else None


def _start_multiplier(schedule, horizon):
    """The multiplier of ``schedule`` at the start of training, or None."""
    from sklr.schedules import resolve_schedule

    try:
        resolved = resolve_schedule(schedule if schedule is not None else "constant")
        value = resolved(np.zeros(1), horizon, resolved.init_state())
        return float(np.ravel(value)[0])
    except Exception:  # an unknown schedule: do not guess the start
        return None


class LossCurveDisplay:
    """Training curves per epoch: loss, validation loss and learning rate.

    Draws one or several curves against the epoch: the training loss (solid),
    the validation loss (dashed, same colour) when it was monitored, and on a
    second, logarithmic y axis the learning rate. Epochs in which training
    diverged, so that sklr restored the last good weights, are marked with red
    crosses, and the resulting learning-rate back-offs with red triangles.
    Build it with :meth:`from_estimator` or :meth:`from_search` rather than
    directly.

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
    initial_learning_rates : list of (float or None), default=None
        Learning rate at the start of training of each curve: the requested
        rate times the schedule's multiplier at epoch 0. The learning-rate
        curve starts there at epoch 0, so that a back-off in the first epoch
        shows as a step. None (for all curves or for one) starts the curve
        at epoch 1.
    requested_learning_rates : list of (float or None), default=None
        Learning rate each fit was asked for (the ``learning_rate``
        hyperparameter, or the rate ``"auto"`` chose), named in the legend
        when a single learning-rate curve is drawn.

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
    backoff_markers_ : list of matplotlib Line2D
        The markers, on the learning-rate curves, of the epochs in which the
        rate was cut after a divergence.
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
        initial_learning_rates=None,
        requested_learning_rates=None,
    ):
        self.curves = curves
        self.labels = labels
        self.validation_curves = validation_curves
        self.learning_rate_curves = learning_rate_curves
        self.divergence_epochs = divergence_epochs
        self.backed_off = backed_off
        self.ylabel = ylabel
        self.title = title
        self.initial_learning_rates = initial_learning_rates
        self.requested_learning_rates = requested_learning_rates

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the training curves of a fitted sklr estimator.

        The learning-rate curve starts at epoch 0 at the rate training
        started with, so that a back-off after a divergence in the first
        epoch shows as a step down from the requested rate.

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
        rates = getattr(final, "learning_rate_curve_", None)
        requested = getattr(final, "learning_rate", None)
        if not isinstance(requested, Real) or isinstance(requested, bool):
            # "auto": the rate the fit chose, before any back-off
            factor = getattr(record, "lr_factor", None)
            if record is not None and factor:
                requested = record.learning_rate / factor
            else:
                requested = rates[0] if rates else None
        initial = None
        if requested is not None:
            multiplier = _start_multiplier(getattr(final, "schedule_", None),
                                           getattr(final, "max_iter", None))
            initial = None if multiplier is None else requested * multiplier
        name = name if name is not None else type(final).__name__
        display = cls(
            curves=[final.loss_curve_],
            labels=[name],
            validation_curves=[getattr(final, "validation_loss_curve_", None)],
            learning_rate_curves=[rates],
            divergence_epochs=[
                list(record.divergence_epochs) if record is not None else []
            ],
            title=f"Training curves of {name}",
            initial_learning_rates=[initial],
            requested_learning_rates=[requested],
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
        top=None,
        ax=None,
        **kwargs,
    ):
        """Overlay the training curves of the candidates of an sklr search.

        Works with searches that keep per-candidate curves in ``curves_``,
        such as :class:`sklr.model_selection.LockstepGridSearchCV`. Each
        candidate gets its own colour and marker and is named in the legend
        by the hyperparameters that differ between the candidates drawn;
        those that vary in the search but not among them are in the title.
        Candidates whose training backed off after a divergence are drawn
        dashed and marked "backed off" in the legend; those stopped by a
        divergence end with a red cross.

        A search of more than 10 candidates draws its 10 best, as the title
        says; choose others with ``candidates`` or ``top``.

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
            Indices of the candidates (rows of ``cv_results_``) to draw; None
            considers all.
        top : int, default=None
            Draw only the ``top`` best of the candidates, ranked by the
            search's ``rank_test_*`` in ``cv_results_`` (or by the last value
            of ``metric`` without ranks). None draws every candidate given by
            ``candidates``, or the 10 best when ``candidates`` is None and
            the search has more.
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
            out of range, ``top`` is not a positive integer, or the
            validation score was not recorded.
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
        if top is not None and (isinstance(top, bool) or not isinstance(top, int)
                                or top < 1):
            raise ValueError(f"top must be an integer >= 1 or None, got {top!r}.")
        results = getattr(search, "cv_results_", None)
        capped = top is None and candidates is None
        if candidates is None:
            candidates = (_last_round_rows(results) if results is not None
                          else range(len(curves_per_candidate)))
        candidates = [int(i) for i in candidates]
        records = {}
        for i in candidates:
            folds = curves_per_candidate[i]
            if not -len(folds) <= fold < len(folds):
                raise ValueError(
                    f"fold={fold} is out of range: the search has {len(folds)} folds."
                )
            # a fit that failed before training has no curves
            records[i] = folds[fold] if folds[fold] is not None else {}
        n_considered = len(candidates)
        limit = _MAX_CANDIDATES if capped else top
        if limit is not None and n_considered > limit:
            candidates = _best_candidates(search, candidates, records, keys[metric],
                                          metric, limit)
        records = [records[i] for i in candidates]
        values = [list(record.get(keys[metric]) or []) for record in records]
        if metric != "loss" and not any(values):
            raise ValueError(
                "The search recorded no validation scores; fit it with "
                "early_stopping=True or use metric='loss'."
            )
        labels, shared = _candidate_labels(search, candidates)
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
        rate_curves = [r.get("learning_rate_curve") for r in records]
        requested, initial = _search_start_rates(search, candidates, rate_curves)
        what = "Training loss" if metric == "loss" else "Validation score"
        if len(candidates) < n_considered:
            title = (f"{what} of the {len(candidates)} best of {n_considered} "
                     f"candidates (CV fold {fold})")
        else:
            title = f"{what} per candidate (CV fold {fold})"
        if shared:
            title += f"\n(all with {', '.join(shared)})"
        display = cls(
            curves=values,
            labels=labels,
            learning_rate_curves=rate_curves,
            divergence_epochs=divergence_epochs,
            backed_off=backed_off,
            ylabel="loss" if metric == "loss" else "validation score",
            title=title,
            initial_learning_rates=initial,
            requested_learning_rates=requested,
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, show_learning_rate=None, yscale="linear", legend=True):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure, with constrained
            layout so that every label stays inside it.
        show_learning_rate : bool, default=None
            Draw the learning rate on a second, logarithmic y axis. None draws
            it when there is a single curve.
        yscale : {"linear", "log"}, default="linear"
            Scale of the loss axis; "log" helps when the loss spans orders of
            magnitude, e.g. around a divergence.
        legend : bool, default=True
            Draw a legend, at a place where it covers no curve (beside the
            axes if there is none, or if it has more than eight entries and
            the display created the figure).

        Returns
        -------
        self : LossCurveDisplay
        """
        new_figure = ax is None
        ax = _get_axes(ax, "LossCurveDisplay.plot")
        n_curves = len(self.curves)
        if show_learning_rate is None:
            show_learning_rate = n_curves == 1
        if n_curves > 1:
            colors, markers = _distinct_styles(n_curves)
        else:
            colors, markers = [None], [None]
        dashed = self.backed_off or [False] * n_curves
        validation = self.validation_curves or [None] * n_curves
        divergences = self.divergence_epochs or [[]] * n_curves

        self.lines_, self.validation_lines_, self.divergence_markers_ = [], [], []
        for k, (values, label, color, marker, is_dashed, val, stops) in enumerate(zip(
            self.curves, self.labels, colors, markers, dashed, validation, divergences
        )):
            values = np.asarray(values, dtype=float)
            has_validation = val is not None and len(val) > 0
            style = {}
            if marker is not None:
                # markers spaced along the line, at epochs no other line
                # marks, so that lines drawn on top of each other all show
                every = max(n_curves, len(values) // 6)
                style = {"marker": marker, "markersize": 6,
                         "markevery": (round(k * every / n_curves), every)}
            (line,) = ax.plot(
                np.arange(1, len(values) + 1), values, color=color,
                label=f"{label} (training)" if has_validation else label,
                linestyle="--" if is_dashed else "-", **style,
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
                (stop_markers,) = ax.plot(
                    np.asarray(stops) + 1, values[stops], linestyle="none",
                    marker="X", markersize=10, color=_BACKOFF_COLOR,
                    markeredgecolor="black", zorder=3,
                    label=("divergence: last good weights restored"
                           if not self.divergence_markers_ else None),
                )
                self.divergence_markers_.append(stop_markers)
        ax.set_yscale(yscale)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{self.ylabel}{' (log scale)' if yscale == 'log' else ''}")
        ax.set_title(self.title if self.title is not None else "Training curves")

        self.ax_learning_rate_ = None
        self.learning_rate_lines_, self.backoff_markers_ = [], []
        if show_learning_rate:
            self._plot_learning_rates(ax, divergences)

        if legend:
            handles, texts = ax.get_legend_handles_labels()
            axes = [ax]
            if self.ax_learning_rate_ is not None:
                more = self.ax_learning_rate_.get_legend_handles_labels()
                handles, texts = handles + more[0], texts + more[1]
                axes.append(self.ax_learning_rate_)
            # on the twin axes, which would otherwise hide it
            _place_legend(self.ax_learning_rate_ or ax, handles, texts,
                          data_axes=axes, new_figure=new_figure)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _plot_learning_rates(self, ax, divergences):
        """Draw the learning-rate curves and back-offs on a twin axes of ``ax``."""
        n_curves = len(self.curves)
        rates = self.learning_rate_curves or [None] * n_curves
        initial = self.initial_learning_rates or [None] * n_curves
        requested = self.requested_learning_rates or [None] * n_curves
        if not any(r is not None and len(r) for r in rates):
            return
        twin = self.ax_learning_rate_ = ax.twinx()
        drawn = []
        for rate, start, wanted, line, stops in zip(
            rates, initial, requested, self.lines_, divergences
        ):
            if rate is None or not len(rate):
                continue
            epochs = np.arange(1, len(rate) + 1)
            values = np.asarray(rate, dtype=float)
            if start is not None and np.isfinite(start) and start > 0:
                epochs = np.concatenate([[0], epochs])
                values = np.concatenate([[start], values])
            values = _snap_rates(values)
            label = None
            if not self.learning_rate_lines_:
                label = "learning rate (right axis)"
                if wanted is not None and n_curves == 1:
                    label = f"learning rate, requested {wanted:.3g} (right axis)"
            # the rate recorded for epoch k (at its end) is drawn over that
            # epoch, from k - 1 to k, where its loss is plotted
            (rate_line,) = twin.plot(
                epochs, values, drawstyle="steps-pre",
                color=_RATE_COLOR if n_curves == 1 else line.get_color(),
                linestyle=":", linewidth=1.5, label=label,
            )
            self.learning_rate_lines_.append(rate_line)
            drawn.append(values)
            # a divergence in epoch e (zero-based) cuts the rate recorded at
            # its end, drawn at x = e + 1; a stopped run's last one does not
            cuts = [e + 1 for e in sorted(set(stops))
                    if e + 1 in epochs[1:]
                    and _dropped(values, np.flatnonzero(epochs == e + 1)[0])]
            if cuts:
                index = np.searchsorted(epochs, cuts)
                (markers,) = twin.plot(
                    cuts, values[index], linestyle="none", marker="v",
                    markersize=8, color=_BACKOFF_COLOR, markeredgecolor="black",
                    zorder=3,
                    label=("back-off: learning rate cut after a divergence"
                           if not self.backoff_markers_ else None),
                )
                self.backoff_markers_.append(markers)
        twin.set_yscale("log")
        twin.set_ylabel("learning rate (log scale)")
        every = np.concatenate(drawn)
        every = every[np.isfinite(every) & (every > 0)]
        if every.size and every.max() <= every.min() * (1 + _RATE_RTOL):
            # a constant rate: centre it, with labelled ticks around it
            twin.set_ylim(every.min() / 2, every.min() * 2)


def _dropped(values, index):
    """Whether the rate at ``index`` is below the one before it."""
    return index >= 1 and values[index] < values[index - 1] * (1 - _RATE_RTOL)


def _best_candidates(search, candidates, records, key, metric, limit):
    """The ``limit`` best of ``candidates``, best first.

    Ranked by the search's ``rank_test_*`` when it has one, else by the last
    recorded value of ``metric`` (``records[i][key]``); candidates without
    one come last.
    """
    results = getattr(search, "cv_results_", None)
    rank_key = _rank_key(search) if results is not None else None
    if rank_key is not None:
        ranks = np.asarray(results[rank_key], dtype=float)
        ranks = np.where(np.isfinite(ranks), ranks, np.inf)
        order = sorted(candidates, key=lambda i: (ranks[i], i))
    else:
        sign = 1.0 if metric == "loss" else -1.0

        def last(i):
            curve = records[i].get(key) or []
            value = float(curve[-1]) if len(curve) else np.nan
            return (sign * value if np.isfinite(value) else np.inf, i)

        order = sorted(candidates, key=last)
    return order[:limit]


def _search_start_rates(search, candidates, rate_curves):
    """Requested and initial learning rates of the candidates of a search.

    The requested rate is the candidate's numeric ``learning_rate`` (searched
    or set on the search's estimator), else the first rate the fit recorded;
    the initial rate is the requested one times the schedule's multiplier at
    epoch 0, None when it cannot be told.
    """
    params = (getattr(search, "cv_results_", None) or {}).get("params")
    base = getattr(search, "estimator", None)
    base = _final_estimator(base).get_params() if hasattr(base, "get_params") else {}

    def lookup(p, name):
        for key, value in p.items():
            if _short_name(key) == name:
                return value
        return base.get(name)

    requested, initial = [], []
    for i, curve in zip(candidates, rate_curves):
        p = params[i] if params is not None else {}
        rate = lookup(p, "learning_rate")
        if isinstance(rate, Real) and not isinstance(rate, bool):
            multiplier = _start_multiplier(lookup(p, "schedule"), lookup(p, "max_iter"))
            requested.append(float(rate))
            initial.append(None if multiplier is None else float(rate) * multiplier)
        else:
            requested.append(float(curve[0]) if curve else None)
            initial.append(None)
    return requested, initial
