"""The command line's options: the argument parser and the parsers of option values.

Option values are checked here, while parsing, so that a bad one ends the
command before any data is read, with argparse's one-line error naming the
option.
"""

import argparse
import math
from typing import NamedTuple

import numpy as np
from joblib import cpu_count

from sklr import __version__
from sklr.optimizers import OPTIMIZER_ALIASES
from sklr.schedules import SCHEDULE_ALIASES

# An integer target with at most this many distinct values is taken as class labels.
MAX_CLASSES = 20
# Bounds of the numeric options: past them a run takes hours or fails late.
MAX_LEARNING_RATES = 1000
MAX_FOLDS = 100
MAX_CANDIDATES = 1000
MAX_EPOCHS = 10_000
MAX_SEED = 2**32 - 1  # numpy's seeds

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
        else:
            values = [float(v) for v in text.split(",")]
            n = len(values)
            if not all(0 < v < math.inf for v in values):
                raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(usage) from None
    if n > MAX_LEARNING_RATES:
        raise argparse.ArgumentTypeError(
            f"at most {MAX_LEARNING_RATES} learning rates, got {n} in {text!r}")
    if ":" in text:
        values = sorted({_round(v) for v in np.geomspace(low, high, n)})
        return LearningRates(values, (low, high))
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


def _integer(minimum, maximum=None):
    """A parser of an integer >= ``minimum`` and, unless None, <= ``maximum``."""
    expected = f"an integer >= {minimum}" + (
        "" if maximum is None else f" and <= {maximum}")

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if (value is None or value < minimum
                or (maximum is not None and value > maximum)):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def _n_jobs(text):
    """Parse ``--n-jobs``: joblib's convention, any integer but 0, within the CPUs.

    More workers than CPUs would only share the CPUs, each holding a copy of
    the data, and ``-N`` beyond them would mean no worker at all.
    """
    cpus = cpu_count()
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or abs(value) > cpus:
        raise argparse.ArgumentTypeError(
            f"expected a nonzero integer from -{cpus} to {cpus} (the CPUs; -1 for "
            f"all of them), got {text!r}")
    return value


def build_parser():
    """The parser of ``sklr``'s command line.

    Returns
    -------
    parser : argparse.ArgumentParser
        Its ``command`` is ``"tune"``, ``"find-lr"`` or None; the other
        attributes are the options of that command, already checked.
    """
    parser = _Parser(
        prog="sklr",
        description="Tune learning rate, schedule and optimizer of sklr estimators "
                    "on tabular data.",
    )
    parser.add_argument("--version", action="version", version=f"sklr {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="{tune,find-lr}")

    def add_data_arguments(command, seeded):
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
            "--random-state", type=_integer(0, MAX_SEED),
            default=DEFAULTS["random_state"], metavar="N",
            help=f"seed of {seeded} (default: {DEFAULTS['random_state']})")

    def add_force_argument(command):
        command.add_argument(
            "--force", action="store_true",
            help="overwrite output files that exist (never the input file)")

    tune = commands.add_parser(
        "tune", help="cross-validate optimizers x schedules x learning rates",
        description="Cross-validate optimizers x schedules x learning rates of an "
                    "sklr estimator in a preprocessing pipeline and print a "
                    "leaderboard and the best configuration.",
    )
    add_data_arguments(tune, "the models (initial weights, minibatch order) and "
                             "of the CV splits")
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
        help="LOW:HIGH:N for N log-spaced rates, or a comma-separated list, "
             f"at most {MAX_LEARNING_RATES} rates; a random search samples "
             "log-uniformly between LOW and HIGH "
             f"(default: {DEFAULTS['learning_rates']})")
    tune.add_argument(
        "--cv", type=_integer(2, MAX_FOLDS), default=DEFAULTS["cv"], metavar="K",
        help=f"number of cross-validation folds, 2 to {MAX_FOLDS} "
             f"(default: {DEFAULTS['cv']})")
    tune.add_argument(
        "--n-jobs", type=_n_jobs, default=-1,
        metavar="N", help="parallel jobs, at most the number of CPUs; -1 uses "
                          "all of them (default: -1)")
    tune.add_argument(
        "--search", choices=["lockstep", "grid", "random"], default="lockstep",
        help="lockstep: every combination with LockstepGridSearchCV, which "
             "trains the candidates of a fold together; grid: every "
             "combination with scikit-learn's GridSearchCV, one fit at a time; "
             "random: --n-iter candidates with RandomizedSearchCV "
             "(default: lockstep)")
    tune.add_argument(
        "--n-iter", type=_integer(1, MAX_CANDIDATES), metavar="N",
        help=f"candidates of a random search, at most {MAX_CANDIDATES} "
             f"(default: {DEFAULTS['n_iter']})")
    tune.add_argument(
        "--max-iter", type=_integer(1, MAX_EPOCHS), default=DEFAULTS["max_iter"],
        metavar="N", help=f"maximum epochs per fit, at most {MAX_EPOCHS} "
                          f"(default: {DEFAULTS['max_iter']})")
    tune.add_argument(
        "--top", type=_integer(1), metavar="N",
        help="show only the N best candidates (default: all)")
    tune.add_argument(
        "--plot", metavar="FILE.png",
        help="write the plot of CV score against learning rate")
    tune.add_argument(
        "--json", metavar="FILE.json", help="write the full results as JSON")
    tune.add_argument(
        "-v", "--verbose", action="store_true",
        help="show every warning of every fit, and the search's own messages, "
             "instead of one summary line per kind of warning")
    add_force_argument(tune)

    find_lr = commands.add_parser(
        "find-lr", help="run the learning-rate range test",
        description="Run the learning-rate range test (an exponential sweep of the "
                    "rate during training) and print the suggested learning rate.",
    )
    add_data_arguments(find_lr, "the model (initial weights, minibatch order)")
    find_lr.add_argument(
        "--optimizer", choices=sorted(OPTIMIZER_ALIASES), default="adam",
        help="optimizer to sweep with (default: adam)")
    find_lr.add_argument(
        "--plot", metavar="FILE.png", help="write the plot of loss against rate")
    add_force_argument(find_lr)
    return parser
