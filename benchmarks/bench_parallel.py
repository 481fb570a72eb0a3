"""Speed-up of a parallel learning-rate search, and the cost of running it on Dask.

For each workload, a ``GridSearchCV`` over 9 learning rates (3-fold CV, so 27
fits and a refit) runs with ``n_jobs=1`` and ``n_jobs=2`` (joblib's loky
backend), alternating, several times; the table gives the median time and the
median speed-up with its range. A ``LocalCluster`` with two single-threaded
worker processes then runs the same search through joblib's ``dask`` backend,
alternating with loky, to measure the Dask overhead. scikit-learn's own
``MLPClassifier`` is a reference for what this machine allows.

The serial run is also timed with BLAS limited to one thread: loky workers
run with ``cpu_count // n_jobs`` BLAS threads, so if the serial run gains
from BLAS threads, part of the parallel speed-up is already spent.

Usage::

    python benchmarks/bench_parallel.py            # full: 3 to 7 minutes
    python benchmarks/bench_parallel.py --quick    # a smoke run: under a minute
"""

import argparse
import contextlib
import os
import platform
import statistics
import time
import warnings

import joblib
import numpy as np
import scipy
import sklearn
import threadpoolctl
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklr
from sklr import LogisticClassifier, MLPClassifier
from sklr.model_selection import learning_rate_grid

LEARNING_RATES = learning_rate_grid(1e-4, 1.0, 9)


def workloads(max_iter):
    """Name, estimator and learning-rate parameter of each benchmarked search."""
    # tol=0 / tol=None: every fit runs max_iter epochs, so all runs do equal work
    return [
        ("sklr MLPClassifier (64,)",
         MLPClassifier(hidden_layer_sizes=(64,), max_iter=max_iter, tol=None,
                       random_state=0), "learning_rate"),
        ("sklr LogisticClassifier",
         LogisticClassifier(max_iter=max_iter, tol=None, random_state=0),
         "learning_rate"),
        ("sklearn MLPClassifier (64,), reference",
         SklearnMLPClassifier(hidden_layer_sizes=(64,), max_iter=max_iter, tol=0,
                              n_iter_no_change=max_iter + 1, random_state=0),
         "learning_rate_init"),
    ]


def make_search(estimator, param, n_jobs):
    pipeline = make_pipeline(StandardScaler(), estimator)
    name = type(estimator).__name__.lower()
    return GridSearchCV(pipeline, {f"{name}__{param}": LEARNING_RATES}, cv=3,
                        n_jobs=n_jobs)


def timed_fit(search, X, y, backend=None, blas_threads=None):
    """Seconds to fit ``search``, under a joblib backend and a BLAS thread limit."""
    backend_context = (joblib.parallel_backend(backend) if backend
                       else contextlib.nullcontext())
    with backend_context, threadpoolctl.threadpool_limits(blas_threads, "blas"):
        start = time.perf_counter()
        search.fit(X, y)
        return time.perf_counter() - start


def compare(estimator, param, runs, X, y, repeats):
    """Time the search of each ``(label, n_jobs, options)`` run, ``repeats`` times.

    The runs alternate so that a change in machine load hits all of them
    alike; one untimed round first starts the worker pools.
    """
    times = {label: [] for label, _, _ in runs}
    for round_ in range(repeats + 1):
        for label, n_jobs, options in runs:
            search = make_search(estimator, param, n_jobs)
            seconds = timed_fit(search, X, y, **options)
            if round_:
                times[label].append(seconds)
    return times


def ratio_summary(numerators, denominators):
    ratios = [a / b for a, b in zip(numerators, denominators)]
    return (f"{statistics.median(ratios):.2f}x "
            f"({min(ratios):.2f}-{max(ratios):.2f})")


def blas_summary(pools):
    blas = [p for p in pools if p["user_api"] == "blas"]
    return ", ".join(f"{p['internal_api']} {p['version']}: {p['num_threads']} threads"
                     for p in blas) or "no BLAS loaded"


def print_environment():
    import dask
    import distributed

    print("## Environment\n")
    print(f"- Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs (joblib sees {joblib.cpu_count()}), "
          f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"- sklr {sklr.__version__}, numpy {np.__version__}, scipy "
          f"{scipy.__version__}, scikit-learn {sklearn.__version__}, joblib "
          f"{joblib.__version__}, dask {dask.__version__}, distributed "
          f"{distributed.__version__}")
    variables = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    print("- thread variables: " + ", ".join(
        f"{v}={os.environ.get(v, 'unset')}" for v in variables))
    print(f"- BLAS in the main process: {blas_summary(threadpoolctl.threadpool_info())}")
    worker_pools = joblib.Parallel(n_jobs=2)(
        joblib.delayed(threadpoolctl.threadpool_info)() for _ in range(2))
    print(f"- BLAS in a loky worker (n_jobs=2): {blas_summary(worker_pools[0])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs and repetitions: a smoke run")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repetitions (default 5, or 2 with --quick)")
    parser.add_argument("--no-dask", action="store_true",
                        help="skip the Dask comparison")
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    max_iter = 5 if args.quick else 20
    X, y = load_digits(return_X_y=True)
    warnings.simplefilter("ignore", ConvergenceWarning)

    print_environment()
    print(f"\n{len(LEARNING_RATES)} learning rates x 3 folds, digits "
          f"({X.shape[0]} samples), {max_iter} epochs per fit, {repeats} timed "
          "repetitions; median time, speed-up median (min-max).\n")

    print("## n_jobs=2 over n_jobs=1 (loky)\n")
    print("| search | n_jobs=1 | n_jobs=1, 1 BLAS thread | n_jobs=2 "
          "| speed-up | speed-up over 1 BLAS thread |")
    print("|---|---|---|---|---|---|")
    for name, estimator, param in workloads(max_iter):
        runs = [("serial", 1, {}), ("serial_1blas", 1, {"blas_threads": 1}),
                ("parallel", 2, {})]
        times = compare(estimator, param, runs, X, y, repeats)
        print(f"| {name} | {statistics.median(times['serial']):.2f} s "
              f"| {statistics.median(times['serial_1blas']):.2f} s "
              f"| {statistics.median(times['parallel']):.2f} s "
              f"| {ratio_summary(times['serial'], times['parallel'])} "
              f"| {ratio_summary(times['serial_1blas'], times['parallel'])} |")

    if args.no_dask:
        return
    import distributed

    print("\n## Dask (LocalCluster, 2 worker processes x 1 thread) against loky "
          "(n_jobs=2)\n")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        worker_pools = next(iter(client.run(threadpoolctl.threadpool_info).values()))
        print(f"BLAS in a Dask worker: {blas_summary(worker_pools)}\n")
        print("| search | loky | dask | dask / loky |")
        print("|---|---|---|---|")
        for name, estimator, param in workloads(max_iter)[:2]:
            runs = [("loky", 2, {}), ("dask", None, {"backend": "dask"})]
            times = compare(estimator, param, runs, X, y, repeats)
            print(f"| {name} | {statistics.median(times['loky']):.2f} s "
                  f"| {statistics.median(times['dask']):.2f} s "
                  f"| {ratio_summary(times['dask'], times['loky'])} |")


if __name__ == "__main__":
    main()
