"""Speed and memory of sklr against scikit-learn (and skorch, when installed).

Not a test: run ``python benchmarks/run.py [--quick | --smoke]``. Every
comparison fits the two sides alternately in one process, ``--repeats`` times,
and reports the median ratio sklr / anchor with its min-max over the
repetitions (lower is better for sklr), next to the issue's target. Fits run
with ``--threads`` BLAS threads (threadpoolctl), one by default: minibatch
matrix products gain little from a second thread and lose much when the
other core is busy. ``--threads 1,2`` measures both.

The table is printed as markdown (ready for ``benchmarks/RESULTS.md``) and
everything measured, with versions, thread settings and the BLAS kernel, is
written as JSON (``--json``, default ``benchmarks/results.json``).

Modes: the full run uses the issue's 100,000-sample sets (several minutes);
``--quick`` uses 20,000 samples and finishes in a few minutes; ``--smoke``
uses tiny data and one repetition and only checks that everything runs.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from scipy.special import expit
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import OneHotEncoder, StandardScaler, normalize
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import sklr  # noqa: E402
from sklr import (  # noqa: E402
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
)

MODES = {
    # n: samples of the synthetic sets; epochs: of the per-epoch timings and of
    # the MLP time-to-score budget; sparse_*: the CSR set; text_*: the
    # text-like CSR set (documents x vocabulary); onehot_n: rows of the one-hot
    # set; frame_n: rows of the DataFrame set
    "full": dict(n=100_000, repeats=5, epochs=5, budget=10, digits_epochs=20,
                 sparse_n=100_000, sparse_features=10_000, text_n=50_000,
                 text_features=50_000, onehot_n=20_000, frame_n=300_000),
    "quick": dict(n=20_000, repeats=5, epochs=3, budget=6, digits_epochs=10,
                  sparse_n=20_000, sparse_features=10_000, text_n=20_000,
                  text_features=20_000, onehot_n=10_000, frame_n=300_000),
    "smoke": dict(n=2_000, repeats=1, epochs=2, budget=2, digits_epochs=2,
                  sparse_n=2_000, sparse_features=1_000, text_n=2_000,
                  text_features=2_000, onehot_n=1_000, frame_n=2_000),
}
HIDDEN = (64,)
BATCH = 200


# ---------------------------------------------------------------- utilities
def fit_seconds(estimator, X, y, threads, **fit_params):
    """Wall time of ``estimator.fit`` with ``threads`` BLAS threads."""
    gc.collect()
    with threadpool_limits(limits=threads), warnings.catch_warnings():
        # fixed epoch budgets leave fits unconverged on purpose
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        estimator.fit(X, y, **fit_params)
        return time.perf_counter() - start


def alternate(sides, repeats):
    """Run each ``() -> seconds`` callable of ``sides`` in turn, ``repeats`` times.

    Alternating in one process exposes both sides to the same machine load;
    returns ``{name: [seconds, ...]}``.
    """
    times = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            times[name].append(run())
    return times


def ratio_summary(ours, theirs):
    """Median and range of the per-repetition ratios ``ours / theirs``."""
    ratios = [a / b for a, b in zip(ours, theirs)]
    return {"median": statistics.median(ratios), "min": min(ratios),
            "max": max(ratios)}


class Report:
    """Rows of the table and the JSON record."""

    def __init__(self, mode, threads):
        self.rows = []
        self.record = {"mode": mode, "threads": threads,
                       "environment": environment(), "rows": self.rows}

    def add(self, workload, figure, sklr_value, anchor, anchor_value, ratio,
            target=None, unit="s", met=None, **extra):
        """One row; ``met`` is computed from a numeric ``target`` unless given."""
        if met is None and target is not None and ratio is not None:
            met = bool(ratio["median"] <= target)
        row = {"workload": workload, "figure": figure, "sklr": sklr_value,
               "anchor": anchor, "anchor_value": anchor_value, "ratio": ratio,
               "target": target, "met": met, "unit": unit, **extra}
        self.rows.append(row)
        print(f"  {workload} | {figure}: sklr {_value_text(sklr_value, unit)}, "
              f"{anchor} {_value_text(anchor_value, unit)}, ratio {_ratio_text(ratio)}"
              f"{'' if met is None else f', target met: {met}'}", flush=True)

    def markdown(self):
        env = self.record["environment"]
        lines = [
            f"sklr {env['sklr']}, scikit-learn {env['sklearn']}, numpy "
            f"{env['numpy']}, scipy {env['scipy']}, Python {env['python']}; "
            f"{env['machine']}, {env['cpu_count']} CPUs; BLAS "
            f"{env['blas']}; BLAS threads per fit: {self.record['threads']}; "
            f"mode {self.record['mode']}; {env['date']}.",
            "",
            "| workload | figure | sklr | anchor | anchor value | sklr / anchor "
            "(median [min-max]) | target | met |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            target = row["target"]
            if target is None:
                target = ""
            elif not isinstance(target, str):
                target = f"<= {target}"
            met = {None: "", True: "yes", False: "**no**"}[row["met"]]
            lines.append(
                f"| {row['workload']} | {row['figure']} | "
                f"{_value_text(row['sklr'], row['unit'])} | {row['anchor']} | "
                f"{_value_text(row['anchor_value'], row['unit'])} | "
                f"{_ratio_text(row['ratio'])} | {target} | {met} |")
        return "\n".join(lines)


def _value_text(value, unit):
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if unit == "s":
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "MiB":
        return f"{value:.0f} MiB"
    return f"{value:.4f}"


def _ratio_text(ratio):
    if ratio is None:
        return "n/a"
    return f"{ratio['median']:.2f} [{ratio['min']:.2f}-{ratio['max']:.2f}]"


def environment():
    """Versions, machine, and the BLAS libraries threadpoolctl sees."""
    blas = [f"{i.get('internal_api')} {i.get('version')} "
            f"({i.get('architecture')}, {i.get('num_threads')} threads by default)"
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "sklr": sklr.__version__ if hasattr(sklr, "__version__") else "dev",
        "sklearn": sklearn.__version__, "numpy": np.__version__,
        "scipy": scipy.__version__, "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()} "
                   f"{platform.processor() or ''}".strip(),
        "cpu_count": os.cpu_count(), "blas": "; ".join(blas) or "unknown",
        "threadpools": threadpool_info(),
        "env_threads": {k: os.environ.get(k) for k in (
            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
    }


# ---------------------------------------------------------------- data sets
def dense_sets(n, seed=0):
    """The classification and regression sets, standardized, split 80/20."""
    X, y = make_classification(n_samples=n, n_features=100, n_informative=20,
                               random_state=seed)
    Xr, yr = make_regression(n_samples=n, n_features=100, noise=10.0,
                             random_state=seed)
    sets = {}
    for name, (X_, y_) in {"classification": (X, y),
                           "regression": (Xr, yr)}.items():
        X_train, X_test, y_train, y_test = train_test_split(
            X_, y_, test_size=0.2, random_state=seed)
        scaler = StandardScaler().fit(X_train)
        sets[name] = (scaler.transform(X_train), scaler.transform(X_test),
                      y_train, y_test)
    return sets


def digits_set(seed=0):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def sparse_set(n, n_features, density=0.001, seed=0):
    """CSR data with a sparse linear decision rule (about 10 nonzeros a row)."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, n_features, density=density, format="csr",
                  random_state=rng, data_rvs=rng.standard_normal)
    coef = rng.standard_normal(n_features)
    y = (X @ coef + 0.1 * rng.standard_normal(n) > 0).astype(int)
    return train_test_split(X, y, test_size=0.2, random_state=seed)


def text_set(n, n_features, n_classes=20, words=40, topic_share=0.06, seed=0):
    """TF-IDF-like CSR documents of ``n_classes`` topics, split 80/20.

    Words follow Zipf's law (the r-th most frequent has probability
    proportional to ``1 / r**1.1``), so a few columns are in most documents
    and most columns in few; ``topic_share`` of each document's words come
    from its topic's own 100 words instead. Rows are L2-normalized TF-IDF.
    """
    rng = np.random.default_rng(seed)
    frequency = 1.0 / np.arange(1, n_features + 1) ** 1.1
    topics = rng.integers(n_classes, size=n)
    topic_words = rng.choice(n_features, size=(n_classes, 100))
    rows = np.repeat(np.arange(n), words)
    columns = rng.choice(n_features, size=n * words, p=frequency / frequency.sum())
    from_topic = rng.random(n * words) < topic_share
    columns[from_topic] = topic_words[topics[rows[from_topic]],
                                      rng.integers(100, size=from_topic.sum())]
    counts = sp.csr_matrix((np.ones(n * words), (rows, columns)),
                           shape=(n, n_features))
    document_frequency = np.bincount(counts.indices, minlength=n_features)
    X = normalize(counts @ sp.diags(np.log((1 + n) / (1 + document_frequency)) + 1))
    return train_test_split(X.tocsr(), topics, test_size=0.2, random_state=seed)


def onehot_set(n, n_columns=8, n_categories=250, seed=0):
    """A wide one-hot encoding (CSR) of categorical columns, binary labels from
    a rule with interactions; split 80/20."""
    rng = np.random.default_rng(seed)
    # a few frequent categories and a long tail, as in real categorical data
    frequency = 1.0 / np.arange(1, n_categories + 1)
    codes = rng.choice(n_categories, size=(n, n_columns),
                       p=frequency / frequency.sum())
    effects = rng.standard_normal((n_columns, n_categories))
    score = effects[np.arange(n_columns), codes].sum(axis=1)
    score += 2 * effects[0, codes[:, 0]] * effects[1, codes[:, 1]]
    X = OneHotEncoder(handle_unknown="ignore").fit_transform(codes).tocsr()
    return train_test_split(X, (score > np.median(score)).astype(int), test_size=0.2,
                            random_state=seed)


# ---------------------------------------------------------------- workloads
def sklr_mlp(task, epochs, **params):
    Estimator = MLPClassifier if task == "classification" else MLPRegressor
    return Estimator(hidden_layer_sizes=HIDDEN, optimizer="adam",
                     learning_rate=1e-3, batch_size=BATCH, max_iter=epochs,
                     tol=None, random_state=0, **params)


def sklearn_mlp(task, epochs):
    Estimator = SkMLPClassifier if task == "classification" else SkMLPRegressor
    # same architecture, batch size, Adam settings and penalty; no stopping
    return Estimator(hidden_layer_sizes=HIDDEN, solver="adam",
                     learning_rate_init=1e-3, batch_size=BATCH, max_iter=epochs,
                     tol=0.0, n_iter_no_change=epochs + 1, random_state=0)


def mlp_workload(report, name, task, data, config, threads):
    """Time per epoch and time to the anchor's final test score."""
    X_train, X_test, y_train, y_test = data
    epochs, budget = config["epochs"], config["budget"]
    if name == "digits":
        epochs = budget = config["digits_epochs"]
    anchor_name = ("sklearn MLPClassifier" if task == "classification"
                   else "sklearn MLPRegressor")
    for dtype in (np.float64, np.float32):
        Xt, Xv = X_train.astype(dtype), X_test.astype(dtype)
        label = f"MLP {task} {name} {np.dtype(dtype).name}"
        times = alternate({
            "sklr": lambda Xt=Xt: fit_seconds(sklr_mlp(task, epochs), Xt, y_train,
                                              threads),
            "anchor": lambda Xt=Xt: fit_seconds(sklearn_mlp(task, epochs), Xt,
                                                y_train, threads),
        }, config["repeats"])
        per_epoch = statistics.median(times["sklr"]) / epochs
        report.add(label, "time per epoch", per_epoch, anchor_name,
                   statistics.median(times["anchor"]) / epochs,
                   ratio_summary(times["sklr"], times["anchor"]),
                   target=0.5 if dtype == np.float64 else 0.4,
                   seconds=times)

        # the anchor's test score after the budget, then the first sklr epoch
        # reaching it (out of up to 3x the budget: early epochs depend on the
        # initial weights); sklr's time is epochs needed x time per epoch
        anchor = sklearn_mlp(task, budget)
        anchor_seconds = fit_seconds(anchor, Xt, y_train, threads)
        target_score = anchor.score(Xv, y_test)
        monitored = sklr_mlp(task, 3 * budget)
        fit_seconds(monitored, Xt, y_train, threads, X_val=Xv, y_val=y_test)
        reached = [e for e, s in enumerate(monitored.validation_scores_, 1)
                   if s >= target_score]
        seconds = reached[0] * per_epoch if reached else None
        report.add(label, f"time to sklearn's test score {target_score:.4f} "
                   f"({budget} epochs)",
                   seconds if seconds is not None else "not reached",
                   anchor_name, anchor_seconds,
                   None if seconds is None else _single_ratio(seconds / anchor_seconds),
                   epochs_needed=reached[0] if reached else None,
                   best_sklr_score=max(monitored.validation_scores_))


def _single_ratio(value):
    return {"median": value, "min": value, "max": value}


def numpy_sgd_epochs(X, y, epochs, batch_size=200, learning_rate=0.01, alpha=1e-4,
                     seed=0):
    """Seconds of ``epochs`` of the leanest minibatch SGD numpy allows on CSR
    data: binary logistic regression, L2 through a scale factor, about
    fifteen numpy calls a step.

    Not sklr: the floor of a step written in numpy, for issue 14's per-epoch
    target. Like sklr's loop it computes each minibatch's loss and compares
    it with a limit (sklr's divergence check); unlike it, it trains one
    model rather than a stack, keeps no curves, calls no hooks, and
    reshuffles by copying the rows once per epoch.
    """
    rng = np.random.default_rng(seed)
    n_samples, n_features = X.shape
    weights, intercept, scale = np.zeros(n_features), 0.0, 1.0
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        shuffled, targets = X[order], y[order].astype(float)
        indptr, columns, values = shuffled.indptr, shuffled.indices, shuffled.data
        # each non-zero's row within its minibatch
        rows = np.repeat(np.arange(n_samples) % batch_size, np.diff(indptr))
        for first in range(0, n_samples, batch_size):
            last = min(first + batch_size, n_samples)
            a, b = indptr[first], indptr[last]
            batch_columns, batch_values, batch_rows = columns[a:b], values[a:b], rows[a:b]
            margin = np.bincount(batch_rows, batch_values * weights.take(batch_columns),
                                 minlength=last - first)
            margin *= scale
            margin += intercept
            target = targets[first:last]
            loss = np.logaddexp(0.0, margin)
            loss -= target * margin
            if not loss.mean() <= 1e3:
                raise FloatingPointError("diverged")
            gradient = expit(margin)
            gradient -= target
            gradient *= 1.0 / (last - first)
            intercept -= learning_rate * gradient.sum()
            scale *= 1 - learning_rate * alpha
            np.subtract.at(weights, batch_columns,
                           batch_values * gradient.take(batch_rows) * (learning_rate / scale))
    return time.perf_counter() - start


def linear_workload(report, task, data, config, threads, label):
    """Per-epoch time, and the time default sklr needs for SGD's default score."""
    X_train, X_test, y_train, y_test = data
    epochs = config["epochs"]
    ours = LogisticClassifier if task == "classification" else LinearRegressor
    theirs = ((lambda **p: SGDClassifier(loss="log_loss", random_state=0, **p))
              if task == "classification" else
              (lambda **p: SGDRegressor(random_state=0, **p)))
    anchor_name = ("SGDClassifier(log_loss)" if task == "classification"
                   else "SGDRegressor")
    if task == "regression":
        # SGDRegressor is not scale-free: give it the target scale it expects
        scale = y_train.std()
        y_train, y_test = y_train / scale, y_test / scale

    sparse = sp.issparse(X_train)
    # on sparse input, plain SGD (the comparison: exact, as SGD's) and
    # the default optimizer (Adam, updating lazily), whose per-epoch time the
    # time-to-score figure uses
    epoch_fits = ({"time per epoch, optimizer='sgd'": (dict(optimizer="sgd"), 1.0),
                   "time per epoch, default optimizer (adam)": ({}, None)}
                  if sparse else {"time per epoch": ({}, None)})
    for figure, (params, target) in epoch_fits.items():
        times = alternate({
            "sklr": lambda params=params: fit_seconds(
                ours(max_iter=epochs, tol=None, random_state=0, **params),
                X_train, y_train, threads),
            "anchor": lambda: fit_seconds(theirs(max_iter=epochs, tol=None),
                                          X_train, y_train, threads),
        }, config["repeats"])
        per_epoch = statistics.median(times["sklr"]) / epochs
        report.add(label, figure, per_epoch, anchor_name,
                   statistics.median(times["anchor"]) / epochs,
                   ratio_summary(times["sklr"], times["anchor"]), target=target,
                   seconds=times)
    if sparse and task == "classification":
        # the floor of a numpy step, against the same anchor (not sklr)
        times = alternate({
            "floor": lambda: numpy_sgd_epochs(X_train, y_train, epochs),
            "anchor": lambda: fit_seconds(theirs(max_iter=epochs, tol=None),
                                          X_train, y_train, threads),
        }, config["repeats"])
        report.add(label, "time per epoch of a bare numpy SGD loop (not sklr: one "
                   "model, a loss check per step; the floor of a numpy step)",
                   statistics.median(times["floor"]) / epochs, anchor_name,
                   statistics.median(times["anchor"]) / epochs,
                   ratio_summary(times["floor"], times["anchor"]), seconds=times)

    # default fits: SGD's score and time, sklr's score and time to reach it
    defaults = alternate({
        "sklr": lambda: fit_seconds(ours(random_state=0), X_train, y_train, threads),
        "anchor": lambda: fit_seconds(theirs(), X_train, y_train, threads),
    }, config["repeats"])
    sgd = theirs().fit(X_train, y_train)
    sgd_score = sgd.score(X_test, y_test)
    default = ours(random_state=0)
    fit_seconds(default, X_train, y_train, threads)
    our_score = default.score(X_test, y_test)
    report.add(label, "test score of a default fit", our_score, anchor_name,
               sgd_score, None, unit="score", target="sklr >= SGD",
               met=bool(our_score >= sgd_score))
    report.add(label, "default fit time", statistics.median(defaults["sklr"]),
               anchor_name, statistics.median(defaults["anchor"]),
               ratio_summary(defaults["sklr"], defaults["anchor"]), seconds=defaults)
    monitored = ours(random_state=0)
    fit_seconds(monitored, X_train, y_train, threads, X_val=X_test, y_val=y_test)
    reached = [e for e, s in enumerate(monitored.validation_scores_, 1)
               if s >= sgd_score]
    seconds = reached[0] * per_epoch if reached else None
    anchor_seconds = statistics.median(defaults["anchor"])
    report.add(label, f"time to SGD's default test score {sgd_score:.4f}",
               seconds if seconds is not None else "not reached", anchor_name,
               anchor_seconds,
               None if seconds is None else _single_ratio(seconds / anchor_seconds),
               target=1.0 if sparse else 0.5,
               # never reaching the score misses the target too
               met=False if seconds is None else None,
               epochs_needed=reached[0] if reached else None)
    # the exact optimum of the same objective (the default alpha, 1e-4, on the
    # mean loss): lbfgs, or Ridge, whose penalty is on the summed loss
    exact, exact_name = ((LogisticRegression(C=1 / (1e-4 * len(y_train)), max_iter=1000),
                          "LogisticRegression(lbfgs)")
                         if task == "classification" else
                         (Ridge(alpha=1e-4 * len(y_train)), "Ridge"))
    exact_seconds = fit_seconds(exact, X_train, y_train, threads)
    exact_score = exact.score(X_test, y_test)
    if task == "classification":
        report.add(label, "test score of a default fit vs the exact optimum of the "
                   "same objective", our_score, exact_name, exact_score, None,
                   unit="score", target="within 0.005",
                   met=bool(our_score >= exact_score - 0.005),
                   lbfgs_seconds=exact_seconds)
    if not sparse:
        # issue 13: averaging the iterates reaches the optimum the default
        # fit's last iterate jitters around
        averaged = ours(average=True, random_state=0)
        fit_seconds(averaged, X_train, y_train, threads)
        averaged_score = averaged.score(X_test, y_test)
        report.add(label, "test score of a default fit with average=True vs the "
                   "exact optimum of the same objective", averaged_score, exact_name,
                   exact_score, None, unit="score", target="within 0.002",
                   met=bool(averaged_score >= exact_score - 0.002))


def mlp_sparse_workload(report, data, config, threads, label):
    """MLPs on a wide one-hot CSR matrix: sklr against scikit-learn, same input."""
    X_train, X_test, y_train, y_test = data
    epochs = config["epochs"]
    times = alternate({
        "sklr": lambda: fit_seconds(sklr_mlp("classification", epochs), X_train,
                                    y_train, threads),
        "anchor": lambda: fit_seconds(sklearn_mlp("classification", epochs),
                                      X_train, y_train, threads),
    }, config["repeats"])
    report.add(label, "time per epoch", statistics.median(times["sklr"]) / epochs,
               "sklearn MLPClassifier", statistics.median(times["anchor"]) / epochs,
               ratio_summary(times["sklr"], times["anchor"]), target=0.6,
               seconds=times)


class EpochClock:
    """A scikit-learn callback (>= 1.9) that times a fit's epochs.

    The epochs run from the first epoch's begin to the last one's end: after
    the fit's set-up (validation, and for a DataFrame its one C-order copy).
    """

    def __init__(self):
        self.starts, self.ends = [], []

    def setup(self, estimator, context):
        self.starts, self.ends = [], []

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        if context.task_name == "epoch":
            self.starts.append(time.perf_counter())

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "epoch":
            self.ends.append(time.perf_counter())

    def epoch_seconds(self):
        return (self.ends[-1] - self.starts[0]) / len(self.ends)


def dataframe_workload(report, config, threads):
    """``LinearRegressor`` on a float DataFrame (column-major, as pandas stores
    it) against the same data as a C-ordered array.

    The fit brings X to C order once (``np.asarray`` of the frame is
    Fortran-ordered), then trains on the copy: the epochs are timed apart
    from that copy, whose cost is reported in a row of its own (0.05 s on
    memory the allocator reuses, up to 0.8 s on fresh pages of this VM).
    Without scikit-learn's callbacks (< 1.9) only the whole fit is timed.
    """
    try:
        import pandas as pd
    except ImportError:
        print("  pandas not installed: skipped", flush=True)
        return
    n, epochs = config["frame_n"], config["epochs"]
    X, y = make_regression(n_samples=n, n_features=100, noise=10.0, random_state=0)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    assert np.asarray(frame).flags["F_CONTIGUOUS"]
    X = np.ascontiguousarray(X)
    clock = EpochClock() if hasattr(LinearRegressor, "set_callbacks") else None
    seconds = {"sklr": [], "anchor": []}

    def fit(side, data):
        est = LinearRegressor(max_iter=epochs, tol=None, random_state=0)
        if clock is not None:
            est.set_callbacks(clock)
        total = fit_seconds(est, data, y, threads)
        per_epoch = clock.epoch_seconds() if clock is not None else total / epochs
        seconds[side].append({"fit": total, "epoch": per_epoch})
        return per_epoch

    times = alternate({"sklr": lambda: fit("sklr", frame), "anchor": lambda: fit("anchor", X)},
                      config["repeats"])
    figure = "time per epoch" + ("" if clock is not None else " (whole fit / epochs)")
    report.add(f"linear, float DataFrame {n} x 100 (Fortran-ordered)", figure,
               statistics.median(times["sklr"]), "same data, C-ordered array",
               statistics.median(times["anchor"]),
               ratio_summary(times["sklr"], times["anchor"]), target=1.2,
               seconds=seconds)
    if clock is None:
        return
    fits = {side: [r["fit"] for r in rows] for side, rows in seconds.items()}
    setup = {side: [r["fit"] - epochs * r["epoch"] for r in rows]
             for side, rows in seconds.items()}
    report.add(f"linear, float DataFrame {n} x 100 (Fortran-ordered)",
               f"whole fit of {epochs} epochs", statistics.median(fits["sklr"]),
               "same data, C-ordered array", statistics.median(fits["anchor"]),
               ratio_summary(fits["sklr"], fits["anchor"]),
               setup_seconds=setup)


def numpy_mlp_loop(X, y, epochs, seed=0, learning_rate=1e-3, alpha=1e-4,
                   beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """A minimal single-model training loop, the math of a default sklr fit.

    One hidden ReLU layer, a sigmoid output with cross-entropy, L2 on the
    weights, Adam, reshuffled minibatches of 200, and the minibatch loss
    (which sklr also computes, for the loss curve and the divergence check).
    """
    rng = np.random.default_rng(seed)
    dtype = X.dtype
    n, d = X.shape
    sizes = [d, HIDDEN[0], 1]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / (n_in + n_out))
        params += [rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype),
                   rng.uniform(-bound, bound, n_out).astype(dtype)]
    W1, b1, W2, b2 = params
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    Y = y.astype(dtype)[:, None]
    t = 0
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            Xb, Yb = X[idx], Y[idx]
            H = Xb @ W1
            H += b1
            np.maximum(H, 0, out=H)
            f = H @ W2
            f += b2
            losses.append(np.mean(np.logaddexp(0, f) - Yb * f))
            delta = 1 / (1 + np.exp(-f))
            delta -= Yb
            delta /= len(idx)
            grads = [None, None, H.T @ delta + alpha * W2, delta.sum(axis=0)]
            back = delta @ W2.T
            back *= H > 0
            grads[0] = Xb.T @ back + alpha * W1
            grads[1] = back.sum(axis=0)
            t += 1
            step = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
            for p, g, m_, v_ in zip(params, grads, m, v):
                m_ *= beta_1
                m_ += (1 - beta_1) * g
                v_ *= beta_2
                v_ += (1 - beta_2) * g * g
                p -= step * m_ / (np.sqrt(v_) + epsilon * np.sqrt(1 - beta_2**t))
    return params, losses


def overhead_workload(report, data, config, threads):
    """A plain sklr fit (the stacked engine, a stack of one) vs the minimal loop."""
    X_train, _, y_train, _ = data
    epochs = config["epochs"]

    def loop_seconds(X):
        gc.collect()
        with threadpool_limits(limits=threads):
            start = time.perf_counter()
            numpy_mlp_loop(X, y_train, epochs)
            return time.perf_counter() - start

    for dtype in (np.float64, np.float32):
        X = X_train.astype(dtype)
        times = alternate({
            "sklr": lambda X=X: fit_seconds(sklr_mlp("classification", epochs), X,
                                            y_train, threads),
            "anchor": lambda X=X: loop_seconds(X),
        }, config["repeats"])
        report.add(f"engine overhead, MLP {np.dtype(dtype).name}",
                   "time per epoch", statistics.median(times["sklr"]) / epochs,
                   "minimal numpy loop", statistics.median(times["anchor"]) / epochs,
                   ratio_summary(times["sklr"], times["anchor"]), target=1.1,
                   seconds=times)


def memory_workload(report, data, config, threads):
    """Peak memory of a fit: ``X`` itself plus the peak of what the fit allocates.

    tracemalloc sees numpy's allocations; ``X`` exists before the fit starts,
    so the figure is ``(size of X + traced peak) / size of X``.
    """
    X_train, X_test, y_train, y_test = data
    # the whole n x 100 set (80 MB at n = 100,000), not the training split
    X = np.concatenate([X_train, X_test])
    y = np.concatenate([y_train, y_test])
    size = X.nbytes / 2**20
    fits = {
        "LogisticClassifier": LogisticClassifier(max_iter=2, tol=None, random_state=0),
        "MLPClassifier": sklr_mlp("classification", 2),
        "sklearn MLPClassifier": sklearn_mlp("classification", 2),
        "sklearn SGDClassifier": SGDClassifier(loss="log_loss", max_iter=2, tol=None),
    }
    totals = {}
    for name, estimator in fits.items():
        gc.collect()
        tracemalloc.start()
        fit_seconds(estimator, X, y, threads)
        totals[name] = size + tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    for name, anchor in (("LogisticClassifier", "sklearn SGDClassifier"),
                         ("MLPClassifier", "sklearn MLPClassifier")):
        report.add(f"peak memory of a fit, {X.shape[0]} x 100 float64",
                   f"{name}: (X + peak allocated) / X ({size:.0f} MiB)",
                   totals[name], anchor, totals[anchor],
                   _single_ratio(totals[name] / size), target=2.0, unit="MiB",
                   x_mib=size, anchor_over_x=totals[anchor] / size)


def skorch_workload(report, data, config, threads):
    """The same network in skorch, same epochs, when skorch is installed."""
    try:
        import torch
        from skorch import NeuralNetClassifier
    except ImportError:
        print("  skorch not installed: skipped", flush=True)
        report.record["skorch"] = "not installed"
        return
    X_train, _, y_train, _ = data
    X = X_train.astype(np.float32)
    y = y_train.astype(np.int64)
    epochs = config["epochs"]
    torch.set_num_threads(threads)

    def module():
        return torch.nn.Sequential(torch.nn.Linear(X.shape[1], HIDDEN[0]),
                                   torch.nn.ReLU(), torch.nn.Linear(HIDDEN[0], 2))

    def skorch_seconds():
        net = NeuralNetClassifier(module(), criterion=torch.nn.CrossEntropyLoss,
                                  optimizer=torch.optim.Adam, lr=1e-3,
                                  optimizer__weight_decay=1e-4, batch_size=BATCH,
                                  max_epochs=epochs, train_split=None, verbose=0,
                                  iterator_train__shuffle=True)
        gc.collect()
        start = time.perf_counter()
        net.fit(X, y)
        return time.perf_counter() - start

    times = alternate({
        "sklr": lambda: fit_seconds(sklr_mlp("classification", epochs), X, y_train,
                                    threads),
        "anchor": skorch_seconds,
    }, config["repeats"])
    report.add("MLP classification float32 vs skorch", "time per epoch",
               statistics.median(times["sklr"]) / epochs, "skorch",
               statistics.median(times["anchor"]) / epochs,
               ratio_summary(times["sklr"], times["anchor"]), target=0.5,
               seconds=times)


# ---------------------------------------------------------------- main
def run(mode, threads, only):
    config = MODES[mode]
    report = Report(mode, threads)
    print(f"sklr benchmarks, mode {mode}, BLAS threads {threads}", flush=True)
    sets = dense_sets(config["n"])
    n = config["n"]
    if "mlp" in only:
        mlp_workload(report, "digits", "classification", digits_set(), config,
                     threads)
        mlp_workload(report, f"make_classification({n}, 100)", "classification",
                     sets["classification"], config, threads)
        mlp_workload(report, f"make_regression({n}, 100)", "regression",
                     sets["regression"], config, threads)
    if "linear" in only:
        linear_workload(report, "classification", sets["classification"], config,
                        threads, f"linear, make_classification({n}, 100)")
        linear_workload(report, "regression", sets["regression"], config,
                        threads, f"linear, make_regression({n}, 100)")
    if "sparse" in only:
        sparse = sparse_set(config["sparse_n"], config["sparse_features"])
        linear_workload(report, "classification", sparse, config, threads,
                        f"linear, sparse CSR {config['sparse_n']} x "
                        f"{config['sparse_features']}, density 0.001")
    if "text" in only:
        text = text_set(config["text_n"], config["text_features"])
        linear_workload(report, "classification", text, config, threads,
                        f"linear, text-like CSR {config['text_n']} x "
                        f"{config['text_features']}, Zipf words, 20 classes")
    if "mlp_sparse" in only:
        onehot = onehot_set(config["onehot_n"])
        mlp_sparse_workload(report, onehot, config, threads,
                            f"MLP classification, one-hot CSR {config['onehot_n']} "
                            f"x {onehot[0].shape[1]}")
    if "dataframe" in only:
        dataframe_workload(report, config, threads)
    if "overhead" in only:
        overhead_workload(report, sets["classification"], config, threads)
    if "memory" in only:
        memory_workload(report, sets["classification"], config, threads)
    if "skorch" in only:
        skorch_workload(report, sets["classification"], config, threads)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true",
                       help="20,000-sample sets, 5 repetitions (a few minutes)")
    group.add_argument("--smoke", action="store_true",
                       help="tiny sets, 1 repetition: checks that it runs")
    parser.add_argument("--threads", default="1",
                        help="BLAS threads per fit, e.g. 1 or 1,2 (default 1)")
    parser.add_argument("--repeats", type=int, help="override the repetitions")
    parser.add_argument("--only", default="mlp,linear,sparse,text,mlp_sparse,dataframe,"
                                          "overhead,memory,skorch",
                        help="comma-separated workloads to run")
    parser.add_argument("--json", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results.json"),
        help="where to write the JSON record")
    parser.add_argument("--markdown", help="also write the markdown table here")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    if args.repeats:
        MODES[mode]["repeats"] = args.repeats
    only = set(args.only.split(","))
    start = time.perf_counter()
    reports = [run(mode, int(threads), only) for threads in args.threads.split(",")]
    markdown = "\n\n".join(r.markdown() for r in reports)
    print()
    print(markdown)
    record = {"seconds": time.perf_counter() - start,
              "runs": [r.record for r in reports]}
    with open(args.json, "w") as f:
        json.dump(record, f, indent=1, default=_jsonable)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown + "\n")
    print(f"\nwrote {args.json} ({record['seconds']:.0f} s)")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


if __name__ == "__main__":
    main()
