"""The command line's results: the leaderboard, the JSON report and the plots."""

import json
import os

import numpy as np

from sklr import __version__
from sklr.cli._parsing import CLIError


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


def candidates(search):
    """One dict per candidate, best first, from a fitted search's ``cv_results_``.

    Parameters
    ----------
    search : GridSearchCV or RandomizedSearchCV
        Fitted with the scorers ``"score"`` and ``"n_divergences"`` on a
        ``Pipeline`` whose last step is ``"model"``.

    Returns
    -------
    rows : list of dict
        The leaderboard's and the JSON report's entries; non-finite scores
        are None, as JSON has no NaN.
    """
    results = search.cv_results_
    n_splits = search.n_splits_
    rows = []
    for i, params in enumerate(results["params"]):
        score = results["mean_test_score"][i]
        divergences = [results[f"split{k}_test_n_divergences"][i]
                       for k in range(n_splits)]
        rows.append({
            "rank": int(results["rank_test_score"][i]),
            "optimizer": str(params["model__optimizer"]),
            "schedule": str(params["model__schedule"]),
            "learning_rate": float(params["model__learning_rate"]),
            "mean_test_score": _finite(score),
            "std_test_score": _finite(results["std_test_score"][i]),
            "split_test_scores": [_finite(results[f"split{k}_test_score"][i])
                                  for k in range(n_splits)],
            "mean_fit_time": float(results["mean_fit_time"][i]),
            "std_fit_time": float(results["std_fit_time"][i]),
            "mean_score_time": float(results["mean_score_time"][i]),
            "n_divergences": [None if np.isnan(d) else int(d) for d in divergences],
            "failed": not np.isfinite(score),
        })
    rows.sort(key=lambda row: (row["rank"], row["learning_rate"]))
    return rows


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
            n_diverged = sum(1 for d in row["n_divergences"] if d)
            diverged = f"{n_diverged}/{n_splits} folds" if n_diverged else "-"
        table.append([str(row["rank"]), row["optimizer"], row["schedule"],
                      short(row["learning_rate"]), score,
                      f"{row['mean_fit_time']:.2f} s", diverged])
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


def report(args, problem, estimator, metric, search, rows, best_params, best,
           elapsed):
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
                 "score": _finite(search.best_score_),
                 "constructor": constructor(best)},
        "candidates": rows,
    }


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
