"""Cross-validated score of a search against the learning rate."""

import warnings
from numbers import Real

import numpy as np
from sklearn.exceptions import NotFittedError

from sklr.inspection._loss_curve import (
    _BACKOFF_COLOR,
    _curve_colors,
    _format_value,
    _get_axes,
    _last_round_rows,
    _short_name,
    _varying_params,
)


def _resolve_param(name, available, what):
    """Find ``name`` among the searched parameters, also as a Pipeline suffix."""
    if name in available:
        return name
    matches = [p for p in available if p.endswith(f"__{name}")]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise ValueError(
            f"{what}={name!r} is ambiguous: it matches {sorted(matches)}; "
            "pass the full parameter name."
        )
    raise ValueError(
        f"{what}={name!r} is not a parameter of the search; searched "
        f"parameters: {sorted(available)}."
    )


def _resolve_metric(search, results, scoring):
    """Key suffix of the test score in ``cv_results_`` and its display name."""
    if scoring is None:
        if "mean_test_score" in results:
            return "score", search.scoring if isinstance(search.scoring, str) else None
        if isinstance(getattr(search, "refit", None), str):
            scoring = search.refit
        else:
            metrics = sorted(k[len("mean_test_"):] for k in results
                             if k.startswith("mean_test_"))
            raise ValueError(
                f"The search has several metrics {metrics}; choose one with scoring."
            )
    if f"mean_test_{scoring}" not in results:
        raise ValueError(f"The search has no test scores for scoring={scoring!r}.")
    return scoring, scoring


def _diverged_candidates(search):
    """Boolean per candidate: diverged in some fold (needs ``search.curves_``)."""
    curves = getattr(search, "curves_", None)
    if curves is None:
        return None
    # a fold that failed before training has None instead of a dict
    return np.array([
        any(fold is not None and (fold.get("n_divergences")
                                  or fold.get("status") in ("diverged", "error"))
            for fold in folds)
        for folds in curves
    ])


class SearchScoreDisplay:
    """Mean cross-validated score against the learning rate.

    One line per value of a second hyperparameter (the *hue*, such as the
    schedule), with a band of one standard deviation over the CV folds.
    Candidates whose score is NaN (the fit failed, e.g. a divergence with
    ``on_divergence="raise"`` and ``error_score=np.nan``) are marked with
    crosses at the bottom of the axes. Build it with :meth:`from_search`.

    When other searched hyperparameters vary too, each point shows the best
    mean score over them at that learning rate and hue value, and the title
    names them ("each point: best over optimizer, alpha").

    Parameters
    ----------
    param_values : ndarray of shape (n_candidates,)
        Value of the plotted hyperparameter per candidate, NaN where it is
        not a number.
    mean_scores, std_scores : ndarray of shape (n_candidates,)
        Mean and standard deviation of the test score over the CV folds.
    hue_labels : list of str, default=None
        Label of each candidate's hue value; None draws a single line.
    diverged : ndarray of bool of shape (n_candidates,), default=None
        Candidates whose training diverged in some fold; they are circled.
    best_index : int, default=None
        Index of the best candidate, marked with a star.
    param_name : str, default="learning_rate"
        Name of the plotted hyperparameter, for the x label.
    hue_name : str, default=None
        Name of the hue hyperparameter, for the legend title.
    score_name : str, default=None
        Name of the score, for the y label.
    best_over : list of str, default=None
        Hyperparameters, other than the plotted one and the hue, that vary
        among the candidates: each point is the best mean score over them,
        which the title says. None or empty when nothing else varies.

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        One line per hue value.
    bands_ : dict of str to matplotlib PolyCollection
        The bands of one standard deviation.
    failed_markers_ : list of matplotlib Line2D
        Markers of candidates with a NaN score.
    diverged_markers_ : list of matplotlib Line2D
        Circles around candidates that diverged.
    best_marker_ : matplotlib Line2D or None
        Marker of the best candidate.
    ax_ : matplotlib Axes
        Axes of the plot.
    figure_ : matplotlib Figure
        Figure of the axes.

    See Also
    --------
    LossCurveDisplay.from_search : Training curves of every candidate.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklr import LogisticClassifier
    >>> from sklr.inspection import SearchScoreDisplay
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> search = GridSearchCV(
    ...     LogisticClassifier(max_iter=20),
    ...     {"learning_rate": [0.001, 0.01, 0.1], "schedule": ["constant", "cosine"]},
    ...     cv=3,
    ... ).fit(X, y)
    >>> display = SearchScoreDisplay.from_search(search, hue="schedule")
    """

    def __init__(
        self,
        *,
        param_values,
        mean_scores,
        std_scores,
        hue_labels=None,
        diverged=None,
        best_index=None,
        param_name="learning_rate",
        hue_name=None,
        score_name=None,
        best_over=None,
    ):
        self.param_values = param_values
        self.mean_scores = mean_scores
        self.std_scores = std_scores
        self.hue_labels = hue_labels
        self.diverged = diverged
        self.best_index = best_index
        self.param_name = param_name
        self.hue_name = hue_name
        self.score_name = score_name
        self.best_over = best_over

    @classmethod
    def from_search(
        cls,
        search,
        param="learning_rate",
        *,
        hue=None,
        scoring=None,
        ax=None,
        **kwargs,
    ):
        """Plot the mean CV score of a fitted search against a hyperparameter.

        Works with any fitted scikit-learn search (``GridSearchCV``,
        ``RandomizedSearchCV``, the halving searches, sklr's searches). For
        successive-halving searches each candidate's score from the last
        round it reached is used. When searched hyperparameters other than
        ``param`` and ``hue`` vary, each point is the best candidate over
        them, and the title names them.

        Parameters
        ----------
        search : fitted search
            An object with ``cv_results_``, e.g. a fitted ``GridSearchCV``.
        param : str, default="learning_rate"
            Hyperparameter on the x axis, with positive numeric values. A
            Pipeline step's parameter may be named in full
            (``"mlpclassifier__learning_rate"``) or by its suffix
            (``"learning_rate"``) when that is unambiguous.
        hue : str, default=None
            Hyperparameter whose values get one line each, such as
            ``"schedule"``; named like ``param``. Values that are objects are
            labelled by their repr, or class name if that is long.
        scoring : str, default=None
            Metric of a multi-metric search; None uses the single metric, or
            the one named by ``refit``.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        **kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        display : SearchScoreDisplay

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If ``search`` has no ``cv_results_``.
        ValueError
            If ``param`` or ``hue`` is not a searched parameter, ``scoring``
            is missing or unknown, or no candidate has a numeric ``param``.
        """
        if not hasattr(search, "cv_results_"):
            raise NotFittedError(
                f"This {type(search).__name__} has no cv_results_: fit it first."
            )
        results = search.cv_results_
        available = sorted({name for p in results["params"] for name in p})
        param = _resolve_param(param, available, "param")
        if hue is not None:
            hue = _resolve_param(hue, available, "hue")
        metric, score_name = _resolve_metric(search, results, scoring)

        rows = _last_round_rows(results)
        params = [results["params"][row] for row in rows]
        values = [p.get(param) for p in params]
        numeric = [isinstance(v, Real) and not isinstance(v, bool) for v in values]
        if not any(numeric):
            raise ValueError(
                f"No candidate has a numeric value of {param!r} to plot."
            )
        if not all(numeric):
            skipped = sorted({_format_value(v) for v, ok in zip(values, numeric)
                              if not ok})
            warnings.warn(
                f"Candidates with non-numeric {param!r} ({', '.join(skipped)}) "
                "are not plotted.",
                UserWarning,
                stacklevel=2,
            )
        param_values = np.array(
            [float(v) if ok else np.nan for v, ok in zip(values, numeric)]
        )
        diverged = _diverged_candidates(search)
        best_index = getattr(search, "best_index_", None)
        if isinstance(best_index, int | np.integer):
            position = np.flatnonzero(rows == best_index)
            best_index = int(position[0]) if position.size else None
        else:
            best_index = None
        display = cls(
            param_values=param_values,
            mean_scores=np.asarray(results[f"mean_test_{metric}"], dtype=float)[rows],
            std_scores=np.asarray(results[f"std_test_{metric}"], dtype=float)[rows],
            hue_labels=(None if hue is None
                        else [_format_value(p.get(hue)) for p in params]),
            diverged=None if diverged is None else diverged[rows],
            best_index=best_index,
            param_name=param,
            hue_name=hue,
            score_name=score_name,
            best_over=[name for name in _varying_params(params)
                       if name not in (param, hue)],
        )
        return display.plot(ax=ax, **kwargs)

    def plot(self, ax=None, *, xscale="log", legend=True):
        """Draw the scores.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure.
        xscale : {"log", "linear"}, default="log"
            Scale of the x axis; learning rates are compared by ratio, so the
            log scale is the natural one.
        legend : bool, default=True
            Draw a legend.

        Returns
        -------
        self : SearchScoreDisplay

        Raises
        ------
        ValueError
            If ``xscale="log"`` and a plotted value is not positive.
        """
        x = np.asarray(self.param_values, dtype=float)
        mean = np.asarray(self.mean_scores, dtype=float)
        std = np.asarray(self.std_scores, dtype=float)
        if xscale == "log" and np.any(x[np.isfinite(x)] <= 0):
            raise ValueError(
                f"{self.param_name} has values <= 0, which a log axis cannot "
                "show; use xscale='linear'."
            )
        ax = _get_axes(ax, "SearchScoreDisplay.plot")
        hue = (self.hue_labels if self.hue_labels is not None
               else ["mean CV score"] * len(x))
        groups = list(dict.fromkeys(hue))
        # explicit colours: a hue's band and failures must match its line
        colors = [c if c is not None else f"C{k}"
                  for k, c in enumerate(_curve_colors(len(groups)))]
        diverged = (np.zeros(len(x), dtype=bool) if self.diverged is None
                    else np.asarray(self.diverged, dtype=bool))

        self.lines_, self.bands_ = {}, {}
        self.failed_markers_, self.diverged_markers_ = [], []
        failures, circles = [], []
        for group, color in zip(groups, colors):
            members = [i for i in range(len(x))
                       if hue[i] == group and np.isfinite(x[i])]
            points, failed = _best_per_value(x, mean, members, diverged)
            failures.append((failed, color))
            if not points:
                continue
            px = x[points]
            (line,) = ax.plot(px, mean[points], marker="o", markersize=4,
                              color=color, label=group)
            self.lines_[group] = line
            self.bands_[group] = ax.fill_between(
                px, mean[points] - std[points], mean[points] + std[points],
                color=color, alpha=0.2, linewidth=0,
            )
            circles.extend(i for i in points if diverged[i])
        if circles:
            (markers,) = ax.plot(
                x[circles], mean[circles], linestyle="none", marker="o",
                markersize=11, markerfacecolor="none",
                markeredgecolor=_BACKOFF_COLOR, markeredgewidth=1.5,
                label="diverged or backed off",
            )
            self.diverged_markers_.append(markers)
        # Failures have no score: they sit in a row per hue value at the bottom
        # of the axes, in the hue's colour.
        for row, (failed, color) in enumerate(f for f in failures if f[0]):
            (markers,) = ax.plot(
                x[failed], np.full(len(failed), 0.04 + 0.05 * row),
                linestyle="none", marker="x", markersize=9, markeredgewidth=2,
                color=color, transform=ax.get_xaxis_transform(),
            )
            self.failed_markers_.append(markers)
        if self.failed_markers_:
            # room below the scores for the rows of failures
            low, high = ax.get_ylim()
            reserved = 0.06 + 0.05 * len(self.failed_markers_)
            ax.set_ylim(low - (high - low) * reserved / (1 - reserved), high)
            # a neutral legend entry, as the markers' colour follows the hue
            ax.plot([], [], linestyle="none", marker="x", markersize=9,
                    markeredgewidth=2, color="0.3", label="failed (NaN score)")

        self.best_marker_ = None
        best = self.best_index
        if best is not None and np.isfinite(x[best]) and np.isfinite(mean[best]):
            (self.best_marker_,) = ax.plot(
                x[best], mean[best], linestyle="none", marker="*", markersize=16,
                color="gold", markeredgecolor="black", zorder=3,
                label="best candidate",
            )

        short = _short_name(self.param_name)
        ax.set_xscale(xscale)
        unit = " (log scale)" if xscale == "log" else ""
        ax.set_xlabel(f"{short.replace('_', ' ')}{unit}")
        score = f"mean CV score ({self.score_name})" if self.score_name else (
            "mean CV score")
        ax.set_ylabel(f"{score}, band: ± 1 std")
        title = f"Cross-validated score against the {short.replace('_', ' ')}"
        if self.best_over:
            short_names = [_short_name(name) for name in self.best_over]
            if len(set(short_names)) < len(short_names):
                short_names = list(self.best_over)
            names = ", ".join(short_names)
            title += f"\n(each point: best over {names})"
        ax.set_title(title)
        if legend:
            ax.legend(
                title=None if self.hue_name is None else _short_name(self.hue_name),
                fontsize="small",
            )
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _best_per_value(x, mean, members, diverged):
    """Split ``members`` into the best candidate per x value and failed x values.

    Among equal scores, a candidate that did not diverge is the one drawn, as
    the searches rank it first. Returns the indices to draw, sorted by x, and
    one index per x value where every candidate's score is NaN.
    """
    best, failed = {}, {}
    for i in members:
        if np.isnan(mean[i]):
            failed.setdefault(x[i], i)
        elif x[i] not in best or ((mean[i], not diverged[i])
                                  > (mean[best[x[i]]], not diverged[best[x[i]]])):
            best[x[i]] = i
    failed = [i for value, i in failed.items() if value not in best]
    return [best[value] for value in sorted(best)], sorted(failed, key=lambda i: x[i])
