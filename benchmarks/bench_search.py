"""Wall time of the lockstep and epoch-halving searches against scikit-learn's.

Not a test: run ``python benchmarks/bench_search.py [--quick] [--memory]``.
Each case times two searches over the same grid side by side in one run and
prints their ratio (lower is better for sklr) and whether ``best_params_``
agree. ``--quick`` uses small data so the whole script runs in seconds;
``--memory`` also reports the peak memory (traced numpy allocations) of the
lockstep search in one process next to the size of the data.

Timings on a shared machine are noisy: repeat a run before trusting a ratio.
"""

import argparse
import os
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.preprocessing import StandardScaler

from sklr import LogisticClassifier, MLPClassifier
from sklr.model_selection import (
    HalvingEpochSearchCV,
    LockstepGridSearchCV,
    learning_rate_grid,
)

N_JOBS = 2
CV = 3


def timed(search, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # unconverged candidates are expected at small epoch budgets
        warnings.simplefilter("ignore")
        search.fit(X, y)
    return search, time.perf_counter() - start


def peak_memory(search, X, y):
    """Peak traced allocations (MiB) of ``search.fit`` in this process."""
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def compare(title, fast, slow, X, y, target, memory=False):
    """Time ``fast`` and ``slow`` on the same data and print their ratio."""
    fast, fast_seconds = timed(fast, X, y)
    slow, slow_seconds = timed(slow, X, y)
    ratio = fast_seconds / slow_seconds
    verdict = "met" if ratio <= target else "NOT met"
    print(f"{title}\n  sklr {fast_seconds:7.2f} s   reference {slow_seconds:7.2f} s   "
          f"ratio {ratio:.2f} (target <= {target}: {verdict})")
    print(f"  best_params_: sklr {_plain(fast.best_params_)}, reference "
          f"{_plain(slow.best_params_)}, equal: "
          f"{fast.best_params_ == _as_sklr_params(slow.best_params_)}")
    if memory:
        lockstep = LockstepGridSearchCV(fast.estimator, fast.param_grid, cv=CV)
        peak = peak_memory(lockstep, X, y)
        print(f"  peak memory of the lockstep search (n_jobs=1): {peak:.1f} MiB; "
              f"data {X.nbytes / 2**20:.1f} MiB")
    return fast, slow, ratio


def _plain(params):
    return {k: float(v) if isinstance(v, np.floating) else v
            for k, v in params.items()}


def _as_sklr_params(params):
    """scikit-learn's MLP calls the learning rate ``learning_rate_init``."""
    return {("learning_rate" if k == "learning_rate_init" else k): v
            for k, v in params.items()}


def warm_up():
    """Start the joblib workers and import sklr in them before anything is timed."""
    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    estimator = LogisticClassifier(max_iter=1, random_state=0)
    for search in (LockstepGridSearchCV, GridSearchCV):
        timed(search(estimator, {"learning_rate": [0.1, 0.01]}, cv=CV,
                     n_jobs=N_JOBS), X, y)


def main(quick, memory):
    # joblib workers inherit this; unconverged candidates are expected here
    os.environ["PYTHONWARNINGS"] = "ignore"
    warm_up()
    rates = learning_rate_grid(1e-4, 1.0, 9)
    n_big, n_features, epochs = ((10_000, 20, 5) if quick else (100_000, 100, 10))
    X, y = make_classification(n_samples=n_big, n_features=n_features,
                               n_informative=n_features // 2, random_state=0)
    logistic = LogisticClassifier(max_iter=epochs, tol=None, random_state=0)
    grid = {"learning_rate": rates}
    compare(f"LogisticClassifier, make_classification({n_big}, {n_features}), "
            f"9 learning rates x {CV} folds, {epochs} epochs",
            LockstepGridSearchCV(logistic, grid, cv=CV, n_jobs=N_JOBS),
            GridSearchCV(logistic, grid, cv=CV, n_jobs=N_JOBS),
            X, y, target=0.25, memory=memory)

    digits_X, digits_y = load_digits(return_X_y=True)
    digits_X = StandardScaler().fit_transform(digits_X)
    mlp_epochs = 10 if quick else 30
    mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=mlp_epochs, random_state=0)
    mlp_grid = {"learning_rate": learning_rate_grid(1e-4, 1e-1, 9)}
    compare(f"MLPClassifier(64,), digits, 9 learning rates x {CV} folds, "
            f"{mlp_epochs} epochs",
            LockstepGridSearchCV(mlp, mlp_grid, cv=CV, n_jobs=N_JOBS),
            GridSearchCV(mlp, mlp_grid, cv=CV, n_jobs=N_JOBS),
            digits_X, digits_y, target=0.75, memory=memory)

    n_synthetic = 2_000 if quick else 20_000
    Xs, ys = make_classification(n_samples=n_synthetic, n_features=20,
                                 n_informative=10, n_classes=3, random_state=0)
    compare(f"MLPClassifier(64,), make_classification({n_synthetic}, 20), "
            f"9 learning rates x {CV} folds, {mlp_epochs} epochs",
            LockstepGridSearchCV(mlp, mlp_grid, cv=CV, n_jobs=N_JOBS),
            GridSearchCV(mlp, mlp_grid, cv=CV, n_jobs=N_JOBS),
            Xs, ys, target=0.75)

    sk_mlp = SkMLPClassifier(hidden_layer_sizes=(64,), max_iter=mlp_epochs,
                             random_state=0)
    compare(f"sklr lockstep MLP vs scikit-learn MLPClassifier(64,) over "
            f"learning_rate_init, digits, {mlp_epochs} epochs",
            LockstepGridSearchCV(mlp, mlp_grid, cv=CV, n_jobs=N_JOBS),
            GridSearchCV(sk_mlp, {"learning_rate_init": mlp_grid["learning_rate"]},
                         cv=CV, n_jobs=N_JOBS),
            digits_X, digits_y, target=0.4)

    budget = 9 if quick else 27
    halving_mlp = MLPClassifier(hidden_layer_sizes=(64,), max_iter=budget,
                                random_state=0)
    schedules_grid = {"learning_rate": mlp_grid["learning_rate"],
                      "schedule": ["constant", "cosine", "onecycle"]}
    # on small data fixed costs (preparing and scoring candidates) dominate;
    # larger data shows what resuming saves in training
    for data_name, X, y in (
            ("digits", digits_X, digits_y),
            (f"make_classification({n_synthetic}, 20)", Xs, ys)):
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y)
        halving, grid_search, _ = compare(
            f"HalvingEpochSearchCV vs GridSearchCV(n_jobs={N_JOBS}), "
            f"MLPClassifier(64,), {data_name}, 9 learning rates x 3 schedules "
            f"x {CV} folds, {budget} epochs",
            HalvingEpochSearchCV(halving_mlp, schedules_grid, cv=CV, n_jobs=N_JOBS),
            GridSearchCV(halving_mlp, schedules_grid, cv=CV, n_jobs=N_JOBS),
            X_train, y_train, target=0.2)
        report_held_out(halving, grid_search, X_test, y_test)


def report_held_out(halving, grid_search, X_test, y_test):
    """Print the held-out accuracy gap between the two searches' best models."""
    gap = grid_search.score(X_test, y_test) - halving.score(X_test, y_test)
    print(f"  held-out accuracy: halving {halving.score(X_test, y_test):.4f}, "
          f"grid {grid_search.score(X_test, y_test):.4f}, gap {gap:+.4f} "
          f"(target <= 0.005: {'met' if gap <= 0.005 else 'NOT met'})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, seconds")
    parser.add_argument("--memory", action="store_true",
                        help="also report the lockstep search's peak memory")
    arguments = parser.parse_args()
    main(arguments.quick, arguments.memory)
