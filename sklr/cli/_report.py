"""The command line's results: the leaderboard, the JSON report and the plots."""

import json
import os

import numpy as np

from sklr import __version__
from sklr.cli._parsing import CLIError
from sklr.model_selection._results import rank

# How a fit ended (``curves_``'s "status" of the lockstep searches): converged,
# still "training" at max_iter, stopped by a divergence ("diverged", after
# the last back-off), stopped by a callback, or failed on a divergence.
STATUSES = ("converged", "training", "diverged", "stopped", "error")


def short(value):
    """A learning rate or score as few digits as tell it apart."""
    return f"{value:.4g}"


def constructor(estimator):
    """A ready-to-paste constructor call with the non-default parameters."""
    defaults = type(estimator)().get_params()
    params = estimator.get_params()
    first = ["optimizer", "learning_rate", "schedule"]
    names = first + [n for n in params if n not in first and params[n] != defaults[n]]
    shown = []
    for name in names:
        value = params[name]
        text = repr(float(short(value)) if isinstance(value, float) else value)
        shown.append(f"{name}={text}")
    return f"{type(estimator).__name__}({', '.join(shown)})"


def _per_split(results, name, n_splits):
    """``split<k>_test_<name>`` of every candidate, shape (candidates, splits)."""
    return np.column_stack([np.asarray(results[f"split{k}_test_{name}"], dtype=float)
                            for k in range(n_splits)])


def candidates(search):
    """One dict per candidate, best first, from a fitted search's ``cv_results_``.

    Candidates are ranked by mean score; among equal scores (to a relative
    1e-12) one that never diverged ranks first, as in the lockstep searches,
    since a rate that diverged and backed off ties with the rate it fell
    back to.

    Parameters
    ----------
    search : fitted search
        Fitted with the scorers ``"score"`` and the training facts of
        ``sklr.cli._commands.FACTS`` on a ``Pipeline`` whose last step is
        ``"model"``.

    Returns
    -------
    rows : list of dict
        The leaderboard's and the JSON report's entries. Per fold:
        ``n_divergences``, ``final_learning_rates`` (after back-offs) and
        ``statuses`` (of ``STATUSES``), None where the fit failed;
        non-finite scores are None, as JSON has no NaN.
    """
    results = search.cv_results_
    n_splits = search.n_splits_
    means = np.asarray(results["mean_test_score"], dtype=float)
    divergences = _per_split(results, "n_divergences", n_splits)
    rates = _per_split(results, "final_learning_rate", n_splits)
    statuses = [[None if np.isnan(code) else STATUSES[int(code)] for code in fits]
                for fits in _per_split(results, "status", n_splits)]
    diverged = np.array([
        any(d > 0 or s in ("diverged", "error") for d, s in zip(fits, fit_statuses))
        for fits, fit_statuses in zip(divergences, statuses)], dtype=bool)
    ranks = rank(means, diverged)
    rows = []
    for i, params in enumerate(results["params"]):
        rows.append({
            "candidate": i,
            "rank": int(ranks[i]),
            "optimizer": str(params["model__optimizer"]),
            "schedule": str(params["model__schedule"]),
            "learning_rate": float(params["model__learning_rate"]),
            "mean_test_score": _finite(means[i]),
            "std_test_score": _finite(results["std_test_score"][i]),
            "split_test_scores": [_finite(results[f"split{k}_test_score"][i])
                                  for k in range(n_splits)],
            "mean_fit_time": float(results["mean_fit_time"][i]),
            "std_fit_time": float(results["std_fit_time"][i]),
            "mean_score_time": float(results["mean_score_time"][i]),
            "n_divergences": [None if np.isnan(d) else int(d) for d in divergences[i]],
            "final_learning_rates": [_finite(r) for r in rates[i]],
            "statuses": statuses[i],
            "diverged": bool(diverged[i]),
            "failed": not np.isfinite(means[i]),
        })
    rows.sort(key=lambda row: (row["rank"], row["learning_rate"]))
    return rows


def _backed_off(row):
    """The folds of ``row`` that diverged, and the rates of those that backed off
    and trained on (a fold whose last divergence stopped it found no rate)."""
    diverged = [k for k, (d, s) in enumerate(zip(row["n_divergences"], row["statuses"]))
                if (d or 0) > 0 or s in ("diverged", "error")]
    rates = [row["final_learning_rates"][k] for k in diverged
             if row["statuses"][k] not in ("diverged", "error")
             and row["final_learning_rates"][k] is not None]
    return diverged, rates


def rate_text(row):
    """The learning rate, and where the folds' back-offs took it: ``"10 -> 0.1"``."""
    text = short(row["learning_rate"])
    _, rates = _backed_off(row)
    if not rates:
        return text
    low, high = short(min(rates)), short(max(rates))
    return f"{text} -> {low}" if low == high else f"{text} -> {low}..{high}"


def best_learning_rate(row, n_splits):
    """The learning rate of the best configuration's constructor, and why if changed.

    A candidate that diverged would diverge again when pasted: the
    constructor takes the rate its folds backed off to (the lowest, if they
    differ), and a note says so. A candidate whose every divergence stopped
    its training found no such rate; the note says that instead.

    Returns
    -------
    learning_rate : float
    note : str or None
    """
    diverged, rates = _backed_off(row)
    if not diverged:
        return row["learning_rate"], None
    where = (f"learning rate {short(row['learning_rate'])} diverged in "
             f"{len(diverged)} of {n_splits} folds")
    if not rates:
        return row["learning_rate"], f"{where} and stopped; try smaller rates"
    rate = min(rates)
    there = "" if len(diverged) == n_splits else " there"
    return rate, (f"{where} and backed off to {short(rate)}{there}; the "
                  f"constructor uses {short(rate)}")


def outcomes(rows, max_iter):
    """One line counting the fits that reached ``max_iter`` or diverged, or ``""``.

    These are the warnings the fits would each issue; the leaderboard shows
    them per candidate.
    """
    statuses = [s for row in rows for s in row["statuses"]]
    divergences = [d for row in rows for d in row["n_divergences"]]
    counts = [
        (statuses.count("training"),
         f"reached max_iter={max_iter} before converging"),
        (sum(1 for d, s in zip(divergences, statuses)
             if d and s not in ("diverged", "error")), "diverged and backed off"),
        (statuses.count("diverged"), "diverged and stopped"),
        (statuses.count(None), "failed (-v shows why)"),
    ]
    counts = [(n, text) for n, text in counts if n]
    if not counts:
        return ""
    (n, text), *others = counts
    return "; ".join([f"{n} of {len(statuses)} fits {text}"]
                     + [f"{n} {text}" for n, text in others])


def _finite(value):
    # JSON has no NaN: a failed fit's score is null
    value = float(value)
    return value if np.isfinite(value) else None


def score_text(value):
    """A score as text: 4 decimals, 4 digits if huge, "n/a" if None or not finite.

    A diverged regression can score -1e300, and the standard deviation of
    such scores over the folds overflow to infinity.
    """
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value:.4f}" if abs(value) < 1e6 else f"{value:.4g}"


def leaderboard(rows, metric, n_splits, top):
    """The leaderboard table of ``rows`` (the first ``top`` of them), as text."""
    header = ["Rank", "Optimizer", "Schedule", "Learning rate",
              f"{metric} (mean +/- std)", "Fit time", "Diverged"]
    table = []
    for row in rows[:top]:
        if row["failed"]:
            score, diverged = "failed", "-"
        else:
            score = (f"{score_text(row['mean_test_score'])} +/- "
                     f"{score_text(row['std_test_score'])}")
            n_diverged = len(_backed_off(row)[0])
            stopped = ", stopped" if "diverged" in row["statuses"] else ""
            diverged = (f"{n_diverged}/{n_splits} folds{stopped}" if n_diverged
                        else "-")
        table.append([str(row["rank"]), row["optimizer"], row["schedule"],
                      rate_text(row), score, f"{row['mean_fit_time']:.2f} s",
                      diverged])
    widths = [max(len(line[j]) for line in [header, *table])
              for j in range(len(header))]
    lines = []
    for line in [header, *table]:
        cells = [line[0].rjust(widths[0])] + [
            cell.ljust(width) for cell, width in zip(line[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    if top is not None and len(rows) > top:
        lines.append(f"... {len(rows) - top} more candidates (--top, --json)")
    return "\n".join(lines)


def open_output(path, force):
    """Open ``path`` for writing in binary; unless ``force``, only as a new file.

    Opening a new file exclusively keeps the promise of :func:`check_outputs`
    even if the file appeared during the run.
    """
    return open(path, "wb" if force else "xb")


def write_json(path, report, force):
    """Write ``report`` to ``path`` as indented, strict JSON."""
    # encoded first: an unencodable report leaves no half-written file
    text = json.dumps(report, indent=2, allow_nan=False)
    with open_output(path, force) as file:
        file.write(text.encode("utf-8"))


def save_figure(figure, path, force):
    """Save a matplotlib ``figure`` to ``path``, in the format its suffix names."""
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    with open_output(path, force) as file:
        figure.savefig(file, format=suffix, dpi=120, bbox_inches="tight")


def report(args, problem, estimator, metric, rows, best_params, best, note, elapsed):
    """The JSON report of a ``sklr tune`` run."""
    return {
        "sklr_version": __version__,
        "data": {"source": args.data or "digits", "target": problem.target,
                 "task": problem.task, "n_samples": int(problem.X.shape[0]),
                 "n_features": int(problem.X.shape[1]),
                 "dropped_columns": [str(column) for column in problem.dropped]},
        "model": type(estimator).__name__,
        "search": {"kind": args.search, "cv": args.cv, "scoring": metric,
                   "optimizers": args.optimizers, "schedules": args.schedules,
                   "learning_rates": args.learning_rates.values,
                   "max_iter": args.max_iter, "random_state": args.random_state},
        "elapsed_seconds": elapsed,
        "best": {"params": {k: _json_value(v) for k, v in best_params.items()},
                 "score": rows[0]["mean_test_score"],
                 "learning_rate": best.learning_rate,
                 "note": note,
                 "constructor": constructor(best)},
        "candidates": rows,
    }


def score_display(display, rows, best, metric, hue):
    """``display`` (``SearchScoreDisplay``) of the candidates' scores, plotted.

    Built from ``rows`` rather than from the search, so that every search
    marks the candidates that diverged (circles) and the star is on ``best``,
    the row the command reports.
    """
    other = "model__optimizer" if hue == "model__schedule" else "model__schedule"
    hue_key, other_key = hue.removeprefix("model__"), other.removeprefix("model__")
    # in the search's order, so that the lines' colours follow the options
    rows = sorted(rows, key=lambda row: row["candidate"])
    return display(
        param_values=np.array([row["learning_rate"] for row in rows]),
        mean_scores=np.array([np.nan if row["mean_test_score"] is None
                              else row["mean_test_score"] for row in rows]),
        std_scores=np.array([np.nan if row["std_test_score"] is None
                             else row["std_test_score"] for row in rows]),
        hue_labels=[row[hue_key] for row in rows],
        diverged=np.array([row["diverged"] for row in rows]),
        best_index=rows.index(best),
        param_name="model__learning_rate",
        hue_name=hue,
        score_name=metric,
        best_over=[other] if len({row[other_key] for row in rows}) > 1 else [],
    ).plot()


def _json_value(value):
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _same_file(path, other):
    """Whether two paths name one file: through symlinks, or hard links if they exist."""
    if os.path.realpath(path) == os.path.realpath(other):
        return True
    try:
        return os.path.samefile(path, other)
    except OSError:  # one of them does not exist
        return False


def _check_output(path, option, suffixes, data, force):
    if not os.path.basename(path) or os.path.isdir(path):
        raise CLIError(f"{option}: '{path}' is a directory; name a file")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(parent):
        raise CLIError(f"{option}: directory '{parent}' does not exist")
    if not os.path.isdir(parent):
        raise CLIError(f"{option}: '{parent}' is not a directory")
    if suffixes is not None:
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        if suffix not in suffixes:
            raise CLIError(f"{option}: unsupported file type '.{suffix}'; use one "
                           f"of {', '.join(sorted('.' + s for s in suffixes))}")
    if data is not None and _same_file(path, data):
        raise CLIError(f"{option}: '{path}' is the input file")
    if os.path.exists(path) and not os.path.isfile(path):
        raise CLIError(f"{option}: '{path}' is not a regular file")
    if os.path.lexists(path) and not force:
        raise CLIError(f"{option}: '{path}' exists; use --force to overwrite it")
    if not (os.access(path, os.W_OK) if os.path.exists(path)
            else os.access(parent, os.W_OK | os.X_OK)):
        raise CLIError(f"{option}: cannot write '{path}': permission denied")


def check_outputs(outputs, data, force):
    """Fail before the work starts if an output file cannot or must not be written.

    An output must be a regular file in an existing, writable directory; it
    must not be the input file or another output, and must not exist unless
    ``force``.

    Parameters
    ----------
    outputs : dict
        ``{option: (path, suffixes)}`` for each output option given;
        ``suffixes`` is the set of file types allowed, or None for any.
    data : str or None
        The input file, never written to.
    force : bool
        Whether existing files may be overwritten (the ``--force`` option).
    """
    checked = {}
    for option, (path, suffixes) in outputs.items():
        _check_output(path, option, suffixes, data, force)
        for other, other_path in checked.items():
            if _same_file(path, other_path):
                raise CLIError(f"{other} and {option} name the same file '{path}'")
        checked[option] = path


def plotting(option, name):
    """Import ``sklr.inspection.<name>`` for ``option`` and the file types it writes."""
    try:
        import matplotlib
    except ImportError:
        raise CLIError(f"{option} needs matplotlib: pip install 'sklr[plot]'"
                       ) from None
    # a command line only writes files: never open a window
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    try:
        from sklr import inspection
        display = getattr(inspection, name)
    except (ImportError, AttributeError):
        raise CLIError(f"{option} is not available in this installation "
                       f"(sklr.inspection.{name} is missing)") from None
    return display, set(Figure().canvas.get_supported_filetypes())
