"""Skipping the learning-rate search: one fit against the best of a grid.

Not a test: run ``python benchmarks/bench_lr_free.py [--quick]``.

For each data set (bundled scikit-learn ones and generated ones,
classification and regression, linear models and MLPs), the reference is
the best candidate of a :class:`~sklr.model_selection.LockstepGridSearchCV`
over 9 learning rates x {constant, cosine} x {sgd, adam} (3-fold CV, refit on
the whole training set). Each candidate one-fit configuration (a
learning-rate-free optimizer at its defaults, ``learning_rate="auto"``,
``average=True``, combinations; some change MLPs only and leave linear
models at their defaults) is fitted once on the same training set.
Both are scored on the same held-out test set (accuracy or R^2), over
several train/test splits.

Reported per data set: the *gap* (the grid's test score minus the
configuration's, averaged over the splits; positive means the one fit is
worse) and the *time* of the configuration's fit as a ratio to one default
fit (``optimizer="adam"``, its default rate) on the same data, summed over
the splits. Targets: mean gap <= 0.005, worst gap <= 0.02, time <= 1.5x.
A reference row, *the grid again, other CV folds*, is the gap of the same
grid search run with shuffled 3-fold CV: how much the reference moves when
only its own validation splits change.

Every fit runs with one BLAS thread, timed in CPU seconds of the process,
and each one-fit configuration is timed ``--repeats`` times, the fastest
kept. Timings on a shared machine are noisy:
repeat a run before trusting a ratio near its target. ``--quick`` runs 8
data sets, one split, 100 epochs at most and one timing (under a minute);
the full run takes a few minutes on 2 cores.
"""

import argparse
import json
import os
import time
import warnings

import numpy as np
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
    make_friedman1,
    make_regression,
)
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.model_selection import LockstepGridSearchCV

TARGETS = {"mean_gap": 0.005, "worst_gap": 0.02, "time": 1.5}
# the reference row: the grid itself, refitted with shuffled CV folds
AGAIN = "*the grid again, other CV folds*"

GRID = {
    "learning_rate": list(np.logspace(-4, 0, 9)),
    "schedule": ["constant", "cosine"],
    "optimizer": ["sgd", "adam"],
}

def _mlp_only(params):
    """``params`` for an MLP; a linear model keeps its defaults.

    Linear models are convex: at the default rate Adam runs until the
    stopping rule sees the loss converge, and every rate that converges
    reaches the same optimum; the rate decides what an MLP finds.
    """
    return lambda estimator: params(estimator) if "MLP" in type(estimator).__name__ else {}


def _prodigy_third(estimator):
    # a factor of 1/3 on Prodigy's own step size: its estimate overshot the
    # tuned rate 1.4 to 6 times in the trial of issue 13
    return {"optimizer": "prodigy", "average": True,
            "learning_rate": type(estimator)().learning_rate / 3}


class _EarlyStoppedRefit:
    """Early stopping picks the epochs, then a refit on all the data if needed.

    The first fit holds out ``validation_fraction`` of the training set and
    keeps the epoch of the best validation score. If the score fell after
    that epoch (the model began to overfit), a second fit trains the same
    configuration on all the data, without early stopping, for that many
    epochs; otherwise the first fit's model is kept.
    """

    def __init__(self, params):
        self.params = params

    def fit(self, base, X, y):
        changes = self.params(base)
        params = {**base.get_params(), **changes}
        if not changes:  # a linear model left at its defaults: one fit
            return _fit(base.__class__(**params), X, y)
        first, seconds = _fit(
            base.__class__(**{**params, "early_stopping": True}), X, y)
        epochs = int(np.argmax(first.validation_scores_)) + 1
        if epochs == first.n_iter_:
            return first, seconds
        model, refit_seconds = _fit(
            base.__class__(**{**params, "max_iter": epochs, "tol": None}), X, y)
        return model, seconds + refit_seconds


# the candidates: changes from the estimator's defaults (a dict, or a function
# of the estimator giving one), no learning rate set (for the schedule-free
# methods, the estimator's default rate); or a recipe of several fits
CONFIGS = {
    "adam (the default)": {},
    "adam, average": {"average": True},
    "auto": {"learning_rate": "auto"},
    "auto, average": {"learning_rate": "auto", "average": True},
    "auto, average, early stopping": {"learning_rate": "auto", "average": True,
                                      "early_stopping": True},
    "dog": {"optimizer": "dog"},
    "dog, average": {"optimizer": "dog", "average": True},
    "prodigy": {"optimizer": "prodigy"},
    "prodigy, average": {"optimizer": "prodigy", "average": True},
    "prodigy, cosine": {"optimizer": "prodigy", "schedule": "cosine"},
    "prodigy, early stopping": {"optimizer": "prodigy", "early_stopping": True},
    "prodigy, average, early stopping": {"optimizer": "prodigy", "average": True,
                                         "early_stopping": True},
    "schedule_free_adamw": {"optimizer": "schedule_free_adamw"},
    "schedule_free_sgd": {"optimizer": "schedule_free_sgd"},
    "schedule_free_adamw, auto": {"optimizer": "schedule_free_adamw",
                                  "learning_rate": "auto"},
    "prodigy x1/3, average": _prodigy_third,
    "MLP only: auto, average": _mlp_only(
        lambda estimator: {"learning_rate": "auto", "average": True}),
    "MLP only: prodigy x1/3, average": _mlp_only(_prodigy_third),
    "MLP only: prodigy x1/3, average, early stopping then refit if it overfit":
        _EarlyStoppedRefit(_mlp_only(_prodigy_third)),
}


def _standardized(loader):
    def load():
        X, y = loader()
        return X.astype(np.float64), y
    return load


# (name, loader, estimator): small enough that the full run takes minutes
DATASETS = [
    ("breast_cancer, logistic", _standardized(
        lambda: load_breast_cancer(return_X_y=True)), LogisticClassifier()),
    ("breast_cancer, MLP", _standardized(
        lambda: load_breast_cancer(return_X_y=True)),
     MLPClassifier(hidden_layer_sizes=(32,))),
    ("wine, logistic", _standardized(lambda: load_wine(return_X_y=True)),
     LogisticClassifier()),
    ("digits, MLP", _standardized(lambda: load_digits(return_X_y=True)),
     MLPClassifier(hidden_layer_sizes=(64,))),
    ("make_classification, MLP", _standardized(
        lambda: make_classification(n_samples=1000, n_features=20, n_informative=10,
                                    n_clusters_per_class=3, flip_y=0.02,
                                    random_state=0)),
     MLPClassifier(hidden_layer_sizes=(32,))),
    ("diabetes, linear", _standardized(lambda: load_diabetes(return_X_y=True)),
     LinearRegressor()),
    ("diabetes, MLP", _standardized(lambda: load_diabetes(return_X_y=True)),
     MLPRegressor(hidden_layer_sizes=(32,))),
    ("make_regression, linear", _standardized(
        lambda: make_regression(n_samples=600, n_features=30, n_informative=10,
                                noise=10.0, random_state=0)),
     LinearRegressor()),
    ("friedman1, MLP", _standardized(
        lambda: make_friedman1(n_samples=800, noise=0.5, random_state=0)),
     MLPRegressor(hidden_layer_sizes=(32,))),
]
SMOKE = ("wine, logistic", "diabetes, MLP")
QUICK = ("breast_cancer, logistic", "wine, logistic", "diabetes, linear",
         "diabetes, MLP", "make_classification, MLP", "friedman1, MLP",
         "make_regression, linear", "breast_cancer, MLP")


def _split(X, y, seed, classification):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed,
        stratify=y if classification else None)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _fit(estimator, X, y):
    # CPU time of this single-threaded process: other jobs on a shared
    # machine lengthen the wall time of a 20 ms fit by more than the
    # differences measured here
    start = time.process_time()
    with warnings.catch_warnings():
        # unconverged fits and diverging grid candidates are expected
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    return estimator, time.process_time() - start


def run_dataset(name, load, estimator, seeds, max_iter, repeats):
    X, y = load()
    classification = estimator._is_classifier
    scores = {config: [] for config in CONFIGS}
    seconds = {config: 0.0 for config in CONFIGS}
    grid_scores, grid_seconds, chosen, again_scores = [], 0.0, [], []
    for seed in seeds:
        X_train, X_test, y_train, y_test = _split(X, y, seed, classification)
        base = estimator.set_params(random_state=seed, max_iter=max_iter)
        search = LockstepGridSearchCV(base, GRID, cv=3)
        search, elapsed = _fit(search, X_train, y_train)
        grid_seconds += elapsed
        grid_scores.append(search.score(X_test, y_test))
        best = search.best_params_
        chosen.append(f"{best['optimizer']}/{best['schedule']}/"
                      f"{best['learning_rate']:.0e}")
        # the same grid on other CV folds: how far the reference itself moves
        # when only its validation splits change, the noise floor of a gap
        folds = (StratifiedKFold if classification else KFold)(
            3, shuffle=True, random_state=seed)
        again, _ = _fit(LockstepGridSearchCV(base, GRID, cv=folds), X_train, y_train)
        again_scores.append(again.score(X_test, y_test))
        for config, params in CONFIGS.items():
            if isinstance(params, _EarlyStoppedRefit):
                recipe = params.fit
            else:
                if callable(params):
                    params = params(base)

                def recipe(base, X, y, params=params):
                    return _fit(base.__class__(**{**base.get_params(), **params}), X, y)
            # fits are deterministic: repeats only steady the time
            elapsed = []
            for _ in range(repeats):
                model, fit_seconds = recipe(base, X_train, y_train)
                elapsed.append(fit_seconds)
            seconds[config] += min(elapsed)
            scores[config].append(model.score(X_test, y_test))
    default = seconds["adam (the default)"]
    return {
        "dataset": name,
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "grid_score": float(np.mean(grid_scores)),
        "grid_time": grid_seconds / default,
        "grid_choices": chosen,
        "gap": {c: float(np.mean(grid_scores) - np.mean(s)) for c, s in scores.items()},
        "grid_again_gap": float(np.mean(grid_scores) - np.mean(again_scores)),
        "time": {c: seconds[c] / default for c in CONFIGS},
    }


def summarize(results):
    """Mean gap, worst gap and time ratios of every configuration."""
    summary = {}
    for config in CONFIGS:
        gaps = [r["gap"][config] for r in results]
        times = [r["time"][config] for r in results]
        summary[config] = {
            "mean_gap": float(np.mean(gaps)), "worst_gap": float(np.max(gaps)),
            "mean_time": float(np.mean(times)), "worst_time": float(np.max(times)),
            "met": bool(np.mean(gaps) <= TARGETS["mean_gap"]
                        and np.max(gaps) <= TARGETS["worst_gap"]
                        and np.max(times) <= TARGETS["time"]),
        }
    return summary


def environment():
    """One line on the machine and the versions, for the results file."""
    import platform

    import scipy
    import sklearn

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Python {platform.python_version()}, numpy {np.__version__}, scipy "
            f"{scipy.__version__}, scikit-learn {sklearn.__version__}; "
            f"{os.cpu_count()} CPUs, load average {load} at the end of the run")


def markdown(results, summary):
    names = [r["dataset"] for r in results]
    lines = [environment(), "",
             "Summary (gap: grid's test score minus the configuration's; time: "
             "ratio to one default fit).", "",
             "| configuration | mean gap | worst gap | mean time | worst time "
             "| all targets met |",
             "|---|---|---|---|---|---|"]
    for config, s in summary.items():
        lines.append(f"| {config} | {s['mean_gap']:+.4f} | {s['worst_gap']:+.4f} "
                     f"| {s['mean_time']:.2f}x | {s['worst_time']:.2f}x "
                     f"| {'yes' if s['met'] else 'no'} |")
    again = [r["grid_again_gap"] for r in results]
    lines.append(f"| {AGAIN} | {np.mean(again):+.4f} | {np.max(again):+.4f} "
                 "| | | |")
    for title, key, fmt in (("Gap per data set", "gap", "{:+.3f}"),
                            ("Time per data set (ratio to one default fit)", "time",
                             "{:.2f}x")):
        lines += ["", f"{title}:", "",
                  "| configuration | " + " | ".join(names) + " |",
                  "|---|" + "---|" * len(names)]
        for config in CONFIGS:
            lines.append(f"| {config} | " + " | ".join(
                fmt.format(r[key][config]) for r in results) + " |")
        if key == "gap":
            lines.append(f"| {AGAIN} | " + " | ".join(
                fmt.format(gap) for gap in again) + " |")
    lines += ["", "The grid (best of 36 candidates, 3-fold CV, refit):", "",
              "| data set | n x d | grid test score | grid time | chosen "
              "(optimizer/schedule/rate per split) |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['dataset']} | {r['n_samples']} x {r['n_features']} "
                     f"| {r['grid_score']:.4f} | {r['grid_time']:.0f}x "
                     f"| {', '.join(r['grid_choices'])} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true",
                       help="8 data sets, one split, 100 epochs at most")
    group.add_argument("--smoke", action="store_true",
                       help="2 data sets, one split, 5 epochs: checks that it runs")
    parser.add_argument("--repeats", type=int, default=3,
                        help="time each one-fit configuration this many times "
                             "and keep the fastest (default 3; 1 with --quick)")
    parser.add_argument("--seeds", default="0,1,2",
                        help="the train/test splits, comma-separated (default "
                             "0,1,2; 3,4,5 checks a choice made on the defaults)")
    parser.add_argument("--markdown", help="also write the tables to this file")
    parser.add_argument("--json", help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    if args.quick:
        datasets = [d for d in DATASETS if d[0] in QUICK]
        seeds, max_iter, repeats = (0,), 100, 1
    elif args.smoke:
        datasets = [d for d in DATASETS if d[0] in SMOKE]
        seeds, max_iter, repeats = (0,), 5, 1
    else:
        datasets, max_iter, repeats = DATASETS, 200, args.repeats
        seeds = tuple(int(seed) for seed in args.seeds.split(","))
    results = []
    with threadpool_limits(1):
        for name, load, estimator in datasets:
            start = time.perf_counter()
            results.append(run_dataset(name, load, estimator, seeds, max_iter,
                                       repeats))
            print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)
    summary = summarize(results)
    table = markdown(results, summary)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")
    if args.json:
        with open(args.json, "w") as f:
            mode = "quick" if args.quick else "smoke" if args.smoke else "full"
            json.dump({"mode": mode, "seeds": list(seeds), "max_iter": max_iter,
                       "repeats": repeats, "results": results, "summary": summary},
                      f, indent=1)


if __name__ == "__main__":
    main()
