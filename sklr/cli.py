"""The ``sklr`` command line: learning-rate tuning of a quick tabular experiment.

``sklr tune`` cross-validates a grid (or a random sample) of optimizers x
schedules x learning rates for one sklr estimator inside a preprocessing
``Pipeline`` and prints a leaderboard; ``sklr find-lr`` runs the LR range
test. Both read a CSV file with pandas or, without one, use scikit-learn's
bundled digits data. Bad use ends with exit status 2 and one line on stderr.

Progress: scikit-learn's searches report nothing until every fit is done, so
the grid and random searches here evaluate their candidates a few at a time
(``_run_search`` is the searches' hook for choosing candidates) and advance a
progress bar between chunks. That works with any ``n_jobs`` and joblib
backend, since the bar lives in this process; each chunk holds enough fits to
keep every worker busy. The lockstep search trains all candidates as one
stack, so its bar completes in one step.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings
from typing import NamedTuple

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.impute import SimpleImputer
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklr import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
    __version__,
)
from sklr.optimizers import OPTIMIZER_ALIASES
from sklr.schedules import SCHEDULE_ALIASES

__all__ = ["main"]

# An integer target with at most this many distinct values is taken as class labels.
MAX_CLASSES = 20
# Each progress chunk holds at least this many fits per worker, so that the
# barrier at the end of a chunk leaves workers idle only briefly.
FITS_PER_WORKER = 6
MAX_CHUNKS = 40

DEFAULTS = {
    "optimizers": "sgd,momentum,adam",
    "schedules": "constant,cosine",
    "learning_rates": "1e-3:10:5",
    "cv": 3,
    "max_iter": 50,
    "random_state": 0,
    "n_iter": 10,
}


class CLIError(Exception):
    """A problem with the command line or the data, reported as one line."""


# --------------------------------------------------------------------- parsing
class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, in sklr's format."""

    def error(self, message):
        self.exit(2, f"sklr: error: {message} (see '{self.prog} --help')\n")


class LearningRates(NamedTuple):
    """The ``--learning-rates`` option: explicit values and, for a range, its bounds."""

    values: list
    bounds: tuple | None


def _round(value):
    # logspace values such as 0.009999999999999998 would print and paste badly
    return float(f"{value:.6g}")


def _learning_rates(text):
    """Parse ``LOW:HIGH:N`` (N log-spaced rates) or a comma-separated list."""
    usage = ("expected LOW:HIGH:N (N log-spaced rates) or a comma-separated list "
             f"of positive numbers, got {text!r}")
    try:
        if ":" in text:
            low, high, n = text.split(":")
            low, high, n = float(low), float(high), int(n)
            if not (0 < low <= high < math.inf and n >= 1):
                raise ValueError
            values = sorted({_round(v) for v in np.geomspace(low, high, n)})
            return LearningRates(values, (low, high))
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    if not all(0 < v < math.inf for v in values):
        raise argparse.ArgumentTypeError(usage)
    return LearningRates(list(dict.fromkeys(values)), None)


def _names(allowed, kind):
    """A parser of a comma-separated list of names from ``allowed``."""

    def parse(text):
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {', '.join(map(repr, unknown)) or repr(text)}; "
                f"choose from {', '.join(sorted(allowed))}"
            )
        return list(dict.fromkeys(names))

    return parse


def _integer(minimum):
    """A parser of an integer >= ``minimum``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def _n_jobs(text):
    """Parse ``--n-jobs``: joblib's convention, any integer but 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a nonzero integer (-1 for all cores), got {text!r}")
    return value


def _build_parser():
    parser = _Parser(
        prog="sklr",
        description="Tune learning rate, schedule and optimizer of sklr estimators "
                    "on tabular data.",
    )
    parser.add_argument("--version", action="version", version=f"sklr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{tune,find-lr}")

    def add_data_arguments(command):
        command.add_argument(
            "data", nargs="?", metavar="DATA.csv",
            help="CSV file with a header row; default: scikit-learn's digits data")
        command.add_argument(
            "--target", metavar="COL",
            help="target column (default: the last column)")
        command.add_argument(
            "--model", choices=["auto", "linear", "logistic", "mlp"], default="auto",
            help="auto: LogisticClassifier for a categorical target or one of at "
                 f"most {MAX_CLASSES} distinct integers, LinearRegressor "
                 "otherwise; linear: LinearRegressor; "
                 "logistic: LogisticClassifier; mlp: MLPClassifier or MLPRegressor "
                 "by target (default: auto)")
        command.add_argument(
            "--random-state", type=_integer(0), default=DEFAULTS["random_state"],
            metavar="N", help="seed of the models and CV splits (default: 0)")

    tune = commands.add_parser(
        "tune", help="cross-validate optimizers x schedules x learning rates",
        description="Cross-validate optimizers x schedules x learning rates of an "
                    "sklr estimator in a preprocessing pipeline and print a "
                    "leaderboard and the best configuration.",
    )
    add_data_arguments(tune)
    tune.add_argument(
        "--optimizers", type=_names(OPTIMIZER_ALIASES, "optimizer"),
        default=DEFAULTS["optimizers"], metavar="LIST",
        help=f"comma-separated optimizers (default: {DEFAULTS['optimizers']})")
    tune.add_argument(
        "--schedules", type=_names(SCHEDULE_ALIASES, "schedule"),
        default=DEFAULTS["schedules"], metavar="LIST",
        help=f"comma-separated schedules (default: {DEFAULTS['schedules']})")
    tune.add_argument(
        "--learning-rates", type=_learning_rates,
        default=DEFAULTS["learning_rates"], metavar="SPEC",
        help="LOW:HIGH:N for N log-spaced rates, or a comma-separated list; a "
             "random search samples log-uniformly between LOW and HIGH "
             f"(default: {DEFAULTS['learning_rates']})")
    tune.add_argument(
        "--cv", type=_integer(2), default=DEFAULTS["cv"], metavar="K",
        help=f"number of cross-validation folds (default: {DEFAULTS['cv']})")
    tune.add_argument(
        "--n-jobs", type=_n_jobs, default=-1,
        metavar="N", help="parallel jobs; -1 uses all cores (default: -1)")
    tune.add_argument(
        "--search", choices=["grid", "random", "lockstep"], default="grid",
        help="grid: GridSearchCV; random: RandomizedSearchCV; lockstep: "
             "LockstepGridSearchCV, all candidates trained together "
             "(default: grid)")
    tune.add_argument(
        "--n-iter", type=_integer(1), metavar="N",
        help=f"candidates of a random search (default: {DEFAULTS['n_iter']})")
    tune.add_argument(
        "--max-iter", type=_integer(1), default=DEFAULTS["max_iter"], metavar="N",
        help=f"maximum epochs per fit (default: {DEFAULTS['max_iter']})")
    tune.add_argument(
        "--top", type=_integer(1), metavar="N",
        help="show only the N best candidates (default: all)")
    tune.add_argument(
        "--plot", metavar="FILE.png",
        help="write the plot of CV score against learning rate")
    tune.add_argument(
        "--json", metavar="FILE.json", help="write the full results as JSON")
    tune.set_defaults(run=_tune)

    find_lr = commands.add_parser(
        "find-lr", help="run the learning-rate range test",
        description="Run the learning-rate range test (an exponential sweep of the "
                    "rate during training) and print the suggested learning rate.",
    )
    add_data_arguments(find_lr)
    find_lr.add_argument(
        "--optimizer", choices=sorted(OPTIMIZER_ALIASES), default="adam",
        help="optimizer to sweep with (default: adam)")
    find_lr.add_argument(
        "--plot", metavar="FILE.png", help="write the plot of loss against rate")
    find_lr.set_defaults(run=_find_lr)
    return parser


# ------------------------------------------------------------------------ data
class Problem(NamedTuple):
    """The data of an experiment and what the command line made of it."""

    X: object
    y: np.ndarray
    source: str
    target: str
    task: str
    numeric: list
    categorical: list


def _read_csv(path):
    try:
        import pandas as pd
    except ImportError:
        raise CLIError("reading a CSV file needs pandas: pip install 'sklr[data]'"
                       ) from None
    if not os.path.exists(path):
        raise CLIError(f"no such file: '{path}'")
    if os.path.isdir(path):
        raise CLIError(f"'{path}' is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CLIError(f"'{path}' is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise CLIError(f"cannot read '{path}' as CSV: {reason}") from None
    except OSError as exc:
        raise CLIError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if frame.shape[0] == 0:
        raise CLIError(f"'{path}' has a header but no data rows")
    if frame.shape[1] < 2:
        raise CLIError(f"'{path}' has one column; it needs feature columns and a "
                       "target column")
    return frame


def _load(path, target, model):
    """Read the data, choose the target and the task, and split the columns."""
    if path is None:
        from sklearn.datasets import load_digits

        if target not in (None, "target"):
            raise CLIError("--target names a column of DATA.csv; the digits data "
                           "has only 'target'")
        X, y = load_digits(return_X_y=True)
        task, y = _task(y, model, "target")
        return Problem(X, y, "digits (scikit-learn's bundled data)", "target", task,
                       list(range(X.shape[1])), [])
    frame = _read_csv(path)
    columns = list(frame.columns)
    target = columns[-1] if target is None else target
    if target not in columns:
        shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10
                                                     else "")
        raise CLIError(f"no column '{target}' in '{path}' (columns: {shown})")
    missing = frame[target].isna()
    if missing.all():
        raise CLIError(f"target column '{target}' has no values")
    X = frame.loc[~missing].drop(columns=[target])
    task, y = _task(frame.loc[~missing, target], model, target)
    if missing.any():
        print(f"sklr: dropped {_count(range(missing.sum()), 'row')} with a missing "
              "target", file=sys.stderr)
    numeric = list(X.select_dtypes("number").columns)
    categorical = [c for c in X.columns if c not in numeric]
    # one-hot encoding needs each column all strings; missing values stay for the
    # imputer
    X[categorical] = X[categorical].apply(
        lambda col: col.where(col.isna(), col.astype(str)))
    return Problem(X, y, f"'{path}'", target, task, numeric, categorical)


def _task(y, model, name):
    """``("classification" | "regression", y as an array)`` for this target."""
    numeric = np.asarray(y).dtype.kind in "iuf"
    values = np.asarray(y, dtype=np.float64) if numeric else np.asarray(y).astype(str)
    integral = numeric and np.all(values == np.round(values))
    if model == "linear":
        classification = False
    elif model == "logistic":
        classification = True
    else:
        classification = not numeric or (
            integral and len(np.unique(values)) <= MAX_CLASSES)
    if not classification:
        if not numeric:
            raise CLIError(f"target column '{name}' is not numeric; regression "
                           "needs numbers (use --model auto, logistic or mlp)")
        return "regression", values
    if numeric and not integral:
        raise CLIError(f"target column '{name}' has non-integer numbers; "
                       "classification needs class labels (use --model linear)")
    labels = values.astype(np.int64) if numeric else values
    classes = np.unique(labels)
    if len(classes) < 2:
        raise CLIError(f"target column '{name}' has only one class "
                       f"({str(classes[0])!r}); classification needs at least two")
    return "classification", labels


def _pipeline(problem, model, max_iter, random_state):
    """The preprocessing ``ColumnTransformer`` and the estimator, in a ``Pipeline``."""
    transformers = []
    if problem.numeric:
        transformers.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler()), problem.numeric))
    if problem.categorical:
        transformers.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        ), problem.categorical))
    classification = problem.task == "classification"
    if model == "mlp":
        estimator = MLPClassifier() if classification else MLPRegressor()
    else:
        estimator = LogisticClassifier() if classification else LinearRegressor()
    estimator.set_params(random_state=random_state)
    if max_iter is not None:
        estimator.set_params(max_iter=max_iter)
    return Pipeline([("preprocess", ColumnTransformer(transformers)),
                     ("model", estimator)])


def _describe(problem, estimator):
    """What the experiment is: data, target, preprocessing and model."""
    if problem.task == "classification":
        kind = f"classification, {len(np.unique(problem.y))} classes"
    else:
        kind = "regression"
    steps = []
    if problem.numeric:
        steps.append(f"{_count(problem.numeric, 'numeric column')} imputed (median) "
                     "and standardized")
    if problem.categorical:
        steps.append(f"{_count(problem.categorical, 'categorical column')} imputed "
                     "(most frequent) and one-hot encoded")
    return "\n".join([
        f"Data: {problem.source}, {problem.X.shape[0]} samples; "
        f"target '{problem.target}': {kind}",
        f"Preprocessing: {'; '.join(steps)}",
        f"Model: {type(estimator).__name__}",
    ])


def _check_output(path, option, suffixes=None):
    """Fail before the work starts if ``path`` cannot be written."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"{option}: directory '{parent}' does not exist")
    if suffixes is not None:
        suffix = os.path.splitext(path)[1].lower().lstrip(".")
        if suffix not in suffixes:
            raise CLIError(f"{option}: unsupported file type '.{suffix}'; use one "
                           f"of {', '.join(sorted('.' + s for s in suffixes))}")


def _plotting(option, name):
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


# ---------------------------------------------------------------------- search
def _n_divergences(estimator, X, y):
    """The fitted model's divergence count, as a "metric" of each CV fit.

    A search discards the estimators it fits but keeps every metric per
    candidate and fold in ``cv_results_``.
    """
    return float(estimator[-1].n_divergences_)


class _Progress:
    """A progress bar over fits on stderr: tqdm's if installed, else a counter line."""

    def __init__(self, description):
        self.description = description
        self.done = 0
        self.total = 0
        self._bar = None

    def start(self, total):
        self.total = total
        try:
            from tqdm import tqdm
        except ImportError:
            self._show()
        else:
            self._bar = tqdm(total=total, desc=self.description, unit="fit",
                             file=sys.stderr, dynamic_ncols=True)

    def advance(self, n):
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        else:
            self._show()

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self.total:
            sys.stderr.write("\n")

    def _show(self):
        percent = 100 * self.done // max(self.total, 1)
        sys.stderr.write(f"\r{self.description}: {self.done}/{self.total} fits "
                         f"({percent}%)")
        sys.stderr.flush()


class _ChunkedSearch:
    """Mixin evaluating a search's candidates in chunks to report progress.

    ``progress`` must be set to a :class:`_Progress` before ``fit``.
    """

    progress = None

    def _run_search(self, evaluate_candidates):
        candidates = list(self._candidate_params())
        n_splits = self.n_splits_
        self.progress.start(len(candidates) * n_splits)
        workers = effective_n_jobs(self.n_jobs)
        size = max(math.ceil(FITS_PER_WORKER * workers / n_splits),
                   math.ceil(len(candidates) / MAX_CHUNKS))
        for start in range(0, len(candidates), size):
            chunk = candidates[start:start + size]
            evaluate_candidates(chunk)
            self.progress.advance(len(chunk) * n_splits)

    def __getstate__(self):
        # the search is sent to the workers; the progress bar stays here
        state = dict(super().__getstate__())
        state.pop("progress", None)
        return state


class _ProgressGridSearchCV(_ChunkedSearch, GridSearchCV):
    """``GridSearchCV`` reporting progress between chunks of candidates."""

    def _candidate_params(self):
        return ParameterGrid(self.param_grid)


class _ProgressRandomizedSearchCV(_ChunkedSearch, RandomizedSearchCV):
    """``RandomizedSearchCV`` reporting progress between chunks of candidates."""

    def _candidate_params(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)


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
        scoring={"score": get_scorer(_metric(task)), "n_divergences": _n_divergences},
        refit="score",
        cv=splitter(args.cv, shuffle=True, random_state=args.random_state),
        n_jobs=args.n_jobs,
        error_score=np.nan,
    )
    axes = (f"{_count(args.optimizers, 'optimizer')} x "
            f"{_count(args.schedules, 'schedule')} x {{}}")
    if args.search == "random":
        from scipy.stats import loguniform

        n_iter = DEFAULTS["n_iter"] if args.n_iter is None else args.n_iter
        if rates.bounds is not None and rates.bounds[0] < rates.bounds[1]:
            grid["model__learning_rate"] = loguniform(*rates.bounds)
            space = "learning rates log-uniform in [{:g}, {:g}]".format(*rates.bounds)
        else:
            space = _count(rates.values, "learning rate")
        search = _ProgressRandomizedSearchCV(
            pipeline, grid, n_iter=n_iter, random_state=args.random_state, **options)
        return search, f"random search, {n_iter} candidates from {axes.format(space)}"
    if args.n_iter is not None:
        raise CLIError("--n-iter applies only to --search random")
    n_candidates = len(ParameterGrid(grid))
    description = (f"{axes.format(_count(rates.values, 'learning rate'))} = "
                   f"{_count(range(n_candidates), 'candidate')}")
    if args.search == "lockstep":
        try:
            from sklr.model_selection import LockstepGridSearchCV
        except ImportError:
            raise CLIError("--search lockstep is not available in this installation "
                           "(sklr.model_selection is missing)") from None
        return (LockstepGridSearchCV(pipeline, grid, **options),
                f"lockstep grid search, {description}")
    return _ProgressGridSearchCV(pipeline, grid, **options), f"grid search, {description}"


def _count(items, noun):
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _metric(task):
    return "accuracy" if task == "classification" else "r2"


def _fit(search, X, y):
    """Fit ``search`` with a progress bar; divergences go to the leaderboard."""
    progress = _Progress("sklr tune")
    chunked = isinstance(search, _ChunkedSearch)
    if chunked:
        search.progress = progress
    else:
        progress.start(len(ParameterGrid(search.param_grid)) * search.cv.get_n_splits())
    try:
        with warnings.catch_warnings():
            # the leaderboard reports divergences and failures per candidate
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.filterwarnings("ignore", message=".*test scores are non-finite")
            search.fit(X, y)
        if not chunked:
            progress.advance(progress.total)
    finally:
        progress.close()
    return search


# --------------------------------------------------------------------- results
def _short(value):
    """A learning rate or score as few digits as tell it apart."""
    return f"{value:.4g}"


def _constructor(estimator):
    """A ready-to-paste constructor call with the non-default parameters."""
    defaults = type(estimator)().get_params()
    params = estimator.get_params()
    first = ["optimizer", "learning_rate", "schedule"]
    names = first + [n for n in params if n not in first and params[n] != defaults[n]]
    shown = []
    for name in names:
        value = params[name]
        text = repr(float(_short(value)) if isinstance(value, float) else value)
        shown.append(f"{name}={text}")
    return f"{type(estimator).__name__}({', '.join(shown)})"


def _candidates(search):
    """One dict per candidate, best first, from ``cv_results_``."""
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


def _leaderboard(rows, metric, n_splits, top):
    header = ["Rank", "Optimizer", "Schedule", "Learning rate",
              f"{metric} (mean +/- std)", "Fit time", "Diverged"]
    table = []
    for row in rows[:top]:
        if row["failed"]:
            score, diverged = "failed", "-"
        else:
            score = f"{row['mean_test_score']:.4f} +/- {row['std_test_score']:.4f}"
            n_diverged = sum(1 for d in row["n_divergences"] if d)
            diverged = f"{n_diverged}/{n_splits} folds" if n_diverged else "-"
        table.append([str(row["rank"]), row["optimizer"], row["schedule"],
                      _short(row["learning_rate"]), score,
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


def _tune(args):
    """Run ``sklr tune``; returns the exit status."""
    plot = None
    if args.plot is not None:
        display, suffixes = _plotting("--plot", "SearchScoreDisplay")
        _check_output(args.plot, "--plot", suffixes)
        plot = display
    if args.json is not None:
        _check_output(args.json, "--json")
    problem = _load(args.data, args.target, args.model)
    pipeline = _pipeline(problem, args.model, args.max_iter, args.random_state)
    search, description = _search(args, pipeline, problem.task)
    estimator = pipeline.named_steps["model"]
    metric = _metric(problem.task)
    print(_describe(problem, estimator))
    print(f"Search: {description}, {args.cv}-fold CV, max_iter={args.max_iter}, "
          f"scoring {metric}")
    start = time.perf_counter()
    _fit(search, problem.X, problem.y)
    elapsed = time.perf_counter() - start
    rows = _candidates(search)
    best_params = {k.removeprefix("model__"): v
                   for k, v in search.best_params_.items()}
    best = clone(estimator).set_params(**best_params)
    print()
    print(_leaderboard(rows, metric, search.n_splits_, args.top))
    print()
    print(f"Best {metric}: {search.best_score_:.4f} "
          f"({len(rows)} candidates x {search.n_splits_} folds in {elapsed:.1f} s)")
    print(f"  {_constructor(best)}")
    if args.json is not None:
        report = {
            "sklr_version": __version__,
            "data": {"source": args.data or "digits", "target": problem.target,
                     "task": problem.task, "n_samples": int(problem.X.shape[0]),
                     "n_features": int(problem.X.shape[1])},
            "model": type(estimator).__name__,
            "search": {"kind": args.search, "cv": args.cv, "scoring": metric,
                       "optimizers": args.optimizers, "schedules": args.schedules,
                       "learning_rates": args.learning_rates.values,
                       "max_iter": args.max_iter, "random_state": args.random_state},
            "elapsed_seconds": elapsed,
            "best": {"params": {k: _json_value(v) for k, v in best_params.items()},
                     "score": float(search.best_score_),
                     "constructor": _constructor(best)},
            "candidates": rows,
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
        print(f"Wrote {args.json}")
    if plot is not None:
        hue = ("model__schedule" if len(args.schedules) > 1 or len(args.optimizers) == 1
               else "model__optimizer")
        figure = plot.from_search(search, param="model__learning_rate",
                                  hue=hue).figure_
        figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"Wrote {args.plot}")
    return 0


def _json_value(value):
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _find_lr(args):
    """Run ``sklr find-lr``; returns the exit status."""
    try:
        from sklr.lr_finder import lr_range_test
    except ImportError:
        raise CLIError("find-lr is not available in this installation "
                       "(sklr.lr_finder is missing)") from None
    plot = None
    if args.plot is not None:
        display, suffixes = _plotting("--plot", "LRRangeDisplay")
        _check_output(args.plot, "--plot", suffixes)
        plot = display
    problem = _load(args.data, args.target, args.model)
    pipeline = _pipeline(problem, args.model, None, args.random_state)
    pipeline.set_params(model__optimizer=args.optimizer)
    estimator = pipeline.named_steps["model"]
    print(_describe(problem, estimator))
    print(f"LR range test with optimizer {args.optimizer!r}")
    with warnings.catch_warnings():
        # the sweep is meant to end in divergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = lr_range_test(pipeline, problem.X, problem.y,
                               random_state=args.random_state)
    rates = np.asarray(result.learning_rates)
    suggested = float(result.suggested_learning_rate)
    print(f"Swept learning rates {rates.min():.3g} to {rates.max():.3g} "
          f"in {len(rates)} steps")
    print(f"Suggested learning rate: {_short(suggested)}")
    print(f"  {_constructor(clone(estimator).set_params(learning_rate=suggested))}")
    if plot is not None:
        plot.from_result(result).figure_.savefig(args.plot, dpi=120,
                                                 bbox_inches="tight")
        print(f"Wrote {args.plot}")
    return 0


# ------------------------------------------------------------------------ main
def main(argv=None):
    """Run the ``sklr`` command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for bad use or unusable data (after one line on
        stderr), 130 when interrupted.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command: tune or find-lr")
    try:
        return args.run(args)
    except (CLIError, ValueError, OSError) as exc:
        # data problems surface as ValueErrors from pandas and scikit-learn;
        # their messages can span lines
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"sklr: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sklr: interrupted", file=sys.stderr)
        return 130
