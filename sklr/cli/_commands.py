"""The command line's commands: ``sklr tune`` and ``sklr find-lr``.

Each takes the parsed options and returns the exit status; problems are
raised as :class:`~sklr.cli._parsing.CLIError` for ``main`` to report.
"""

import re
import sys
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.metrics import get_scorer
from sklearn.model_selection import KFold, ParameterGrid, StratifiedKFold

from sklr.cli._data import build_pipeline, count, describe, load
from sklr.cli._parsing import DEFAULTS, CLIError
from sklr.cli._progress import Progress
from sklr.cli._report import (
    STATUSES,
    best_learning_rate,
    candidates,
    check_outputs,
    constructor,
    leaderboard,
    outcomes,
    plotting,
    report,
    save_figure,
    score_display,
    score_text,
    short,
    write_json,
)
from sklr.exceptions import DivergenceWarning, LearningRateWarning
from sklr.model_selection import LockstepGridSearchCV
from sklr.model_selection._chunked import (
    ChunkedSearchMixin,
    ProgressGridSearchCV,
    ProgressRandomizedSearchCV,
)


# What each fit's training did, as "metrics" of the search: a search discards
# the estimators it fits but keeps every metric per candidate and fold in
# ``cv_results_``, whichever process computed it.
def _n_divergences(estimator, X, y):
    """How many times the fit diverged (and backed off, or stopped)."""
    return float(estimator[-1].n_divergences_)


def _final_learning_rate(estimator, X, y):
    """The learning rate the fit ended with: the candidate's, after back-offs."""
    return float(estimator[-1].learning_rate_)


def _status(estimator, X, y):
    """How the fit ended, as an index into ``STATUSES``.

    Only the engine's record of the fit says it: ``n_iter_ == max_iter``
    cannot tell a fit that converged in its last epoch from one that did not.
    """
    return float(STATUSES.index(estimator[-1]._record.status))


FACTS = {"n_divergences": _n_divergences, "final_learning_rate": _final_learning_rate,
         "status": _status}


def _metric(task):
    return "accuracy" if task == "classification" else "r2"


def _print_notes(problem):
    # after every check: a command that fails says one line only
    for note in problem.notes:
        print(f"sklr: {note}", file=sys.stderr)


def _check_folds(cv, problem):
    """Refuse more folds than the data can fill, before the search would fail."""
    if problem.task == "classification":
        # stratified folds: every fold needs a member of the largest class
        largest = np.unique(problem.y, return_counts=True)[1].max()
        if cv > largest:
            raise CLIError(f"--cv {cv}: more folds than the {largest} samples of "
                           "the largest class")
    elif cv > problem.X.shape[0]:
        raise CLIError(f"--cv {cv}: more folds than the {problem.X.shape[0]} "
                       "samples")


def _search(args, pipeline, task):
    """The configured, unfitted search and a one-line description of it."""
    rates = args.learning_rates
    grid = {
        "model__optimizer": args.optimizers,
        "model__schedule": args.schedules,
        "model__learning_rate": rates.values,
    }
    splitter = StratifiedKFold if task == "classification" else KFold
    options = dict(
        scoring={"score": get_scorer(_metric(task)), **FACTS},
        # the command ranks the candidates itself and needs no refitted model
        refit=False,
        cv=splitter(args.cv, shuffle=True, random_state=args.random_state),
        n_jobs=args.n_jobs,
        error_score=np.nan,
        verbose=2 if args.verbose else 0,
    )
    axes = (f"{count(args.optimizers, 'optimizer')} x "
            f"{count(args.schedules, 'schedule')} x {{}}")
    if args.search == "random":
        from scipy.stats import loguniform

        n_iter = DEFAULTS["n_iter"] if args.n_iter is None else args.n_iter
        if rates.bounds is not None and rates.bounds[0] < rates.bounds[1]:
            grid["model__learning_rate"] = loguniform(*rates.bounds)
            space = "learning rates log-uniform in [{:g}, {:g}]".format(*rates.bounds)
        else:
            space = count(rates.values, "learning rate")
        search = ProgressRandomizedSearchCV(
            pipeline, grid, n_iter=n_iter, random_state=args.random_state, **options)
        return search, f"random search, {n_iter} candidates from {axes.format(space)}"
    if args.n_iter is not None:
        raise CLIError("--n-iter applies only to --search random")
    n_candidates = len(ParameterGrid(grid))
    description = (f"{axes.format(count(rates.values, 'learning rate'))} = "
                   f"{count(range(n_candidates), 'candidate')}")
    if args.search == "lockstep":
        return (LockstepGridSearchCV(pipeline, grid, **options),
                f"lockstep grid search, {description}")
    return ProgressGridSearchCV(pipeline, grid, **options), f"grid search, {description}"


def _fit(search, X, y, verbose=False):
    """Fit ``search`` with a progress bar, then show the warnings it issued.

    Unless ``verbose``, the training outcomes that ``outcomes`` counts
    (reaching ``max_iter``, diverging) and the failures that the leaderboard
    shows are left out of the warnings; the searches summarize the others
    once per category, with counts, including those of worker processes.
    """
    progress = Progress("sklr tune")
    chunked = isinstance(search, ChunkedSearchMixin)
    if chunked:
        search.progress = progress
    else:
        search._progress = progress
        progress.start(len(ParameterGrid(search.param_grid)) * search.cv.get_n_splits())
    held = []
    try:
        with warnings.catch_warnings():
            # shown after the progress bar, whose line they would break, and
            # only if the search succeeds: an error is one line
            warnings.showwarning = lambda *warning: held.append(warning[:4])
            if not verbose:
                warnings.simplefilter("ignore", DivergenceWarning)
                warnings.filterwarnings("ignore", message=".*reached max_iter",
                                        category=ConvergenceWarning)
                warnings.simplefilter("ignore", FitFailedWarning)
                warnings.filterwarnings("ignore", message=".*test scores are non-finite")
            search.fit(X, y)
    except ValueError as exc:
        raise CLIError(_failure(exc)) from None
    finally:
        progress.close()
    for warning in held:
        warnings.showwarning(*warning)
    return search


def _failure(exc):
    """One line for an error of a search's fit.

    When every fit fails, scikit-learn's message holds a traceback per kind of
    failure, thousands of characters; the line that names the last exception
    (``ValueError: ...``, unindented) says what went wrong.
    """
    message = str(exc)
    if "fits failed" not in message:
        return message
    errors = [line for line in message.splitlines()
              if re.match(r"[A-Za-z_][\w.]*: ", line)]
    return f"every fit failed; the last error: {(errors or [message])[-1]}"


def _prepare_outputs(args, plot_display, json_path=None):
    """Import the plot's display and check the output files before any work.

    Returns the display class, or None without ``--plot``.
    """
    outputs = {}
    display = None
    if args.plot is not None:
        display, suffixes = plotting("--plot", plot_display)
        outputs["--plot"] = (args.plot, suffixes)
    if json_path is not None:
        outputs["--json"] = (json_path, None)
    check_outputs(outputs, args.data, args.force)
    return display


def tune(args):
    """Run ``sklr tune``; returns the exit status."""
    plot = _prepare_outputs(args, "SearchScoreDisplay", args.json)
    problem = load(args.data, args.target, args.model)
    _check_folds(args.cv, problem)
    pipeline = build_pipeline(problem, args.model, args.max_iter, args.random_state)
    search, description = _search(args, pipeline, problem.task)
    estimator = pipeline.named_steps["model"]
    metric = _metric(problem.task)
    _print_notes(problem)
    print(describe(problem, estimator))
    print(f"Search: {description}, {args.cv}-fold CV, max_iter={args.max_iter}, "
          f"scoring {metric}")
    start = time.perf_counter()
    _fit(search, problem.X, problem.y, args.verbose)
    elapsed = time.perf_counter() - start
    rows = candidates(search)
    best_row = rows[0]
    best_params = {name: best_row[name]
                   for name in ("optimizer", "schedule", "learning_rate")}
    rate, note = best_learning_rate(best_row, search.n_splits_)
    best = clone(estimator).set_params(**{**best_params, "learning_rate": rate})
    summary = outcomes(rows, args.max_iter)
    if summary:
        print(f"sklr: warning: {summary}", file=sys.stderr)
    print()
    print(leaderboard(rows, metric, search.n_splits_, args.top))
    print()
    if best_row["mean_test_score"] is None:
        raise CLIError(f"no candidate got a score ({metric}): every fit or score of "
                       "every fold failed (-v shows why)")
    print(f"Best {metric}: {score_text(best_row['mean_test_score'])} "
          f"({count(rows, 'candidate')} x {count(range(search.n_splits_), 'fold')} "
          f"in {elapsed:.1f} s)")
    if note:
        print(f"  {note}:")
    print(f"  {constructor(best)}")
    if args.json is not None:
        write_json(args.json, report(args, problem, estimator, metric, rows,
                                     best_params, best, note, elapsed), args.force)
        print(f"Wrote {args.json}")
    if plot is not None:
        hue = ("model__schedule" if len(args.schedules) > 1 or len(args.optimizers) == 1
               else "model__optimizer")
        figure = score_display(plot, rows, best_row, metric, hue).figure_
        save_figure(figure, args.plot, args.force)
        print(f"Wrote {args.plot}")
    return 0


def find_lr(args):
    """Run ``sklr find-lr``; returns the exit status."""
    try:
        from sklr.lr_finder import lr_range_test
    except ImportError:
        raise CLIError("find-lr is not available in this installation "
                       "(sklr.lr_finder is missing)") from None
    plot = _prepare_outputs(args, "LRRangeDisplay")
    problem = load(args.data, args.target, args.model)
    pipeline = build_pipeline(problem, args.model, None, args.random_state)
    pipeline.set_params(model__optimizer=args.optimizer)
    estimator = pipeline.named_steps["model"]
    _print_notes(problem)
    print(describe(problem, estimator))
    print(f"LR range test with optimizer {args.optimizer!r}")
    with warnings.catch_warnings():
        # the sweep is meant to end in divergence; a suggestion that is only a
        # fallback (no clear descent) is said, as in Python
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("default", LearningRateWarning)
        result = lr_range_test(pipeline, problem.X, problem.y,
                               random_state=args.random_state)
    rates = np.asarray(result.learning_rates)
    suggested = float(result.suggested_learning_rate)
    print(f"Swept learning rates {rates.min():.3g} to {rates.max():.3g} "
          f"in {len(rates)} steps")
    print(f"Suggested learning rate: {short(suggested)}")
    print(f"  {constructor(clone(estimator).set_params(learning_rate=suggested))}")
    if plot is not None:
        save_figure(plot.from_result(result).figure_, args.plot, args.force)
        print(f"Wrote {args.plot}")
    return 0
