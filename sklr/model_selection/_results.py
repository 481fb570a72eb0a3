"""Scorers, ``cv_results_`` and the best candidate, with scikit-learn's conventions.

The searches of this package build ``cv_results_`` themselves (scikit-learn's
helpers for it are private) with the keys, dtypes and ranking rules of
``GridSearchCV``, plus the training curves of every candidate and fold.
"""

import numbers
import time
import warnings
from collections import defaultdict

import numpy as np
from numpy.ma import MaskedArray
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring

CURVE_KEYS = ("loss_curve", "validation_scores", "learning_rate_curve",
              "n_iter", "n_divergences", "status")


def check_scorers(estimator, scoring):
    """``(scorers, multimetric)``: one scorer, or a dict of them by name."""
    if isinstance(scoring, list | tuple | set):
        names = list(scoring)
        if (not names or len(set(names)) != len(names)
                or not all(isinstance(n, str) for n in names)):
            raise ValueError(
                "A list of scoring metrics must hold unique strings; got "
                f"{scoring!r}.")
        return {name: check_scoring(estimator, scoring=name) for name in names}, True
    if isinstance(scoring, dict):
        if not scoring:
            raise ValueError("The scoring dict is empty.")
        return {name: check_scoring(estimator, scoring=value)
                for name, value in scoring.items()}, True
    return check_scoring(estimator, scoring=scoring), False


def check_refit(refit, multimetric, names):
    """Reject a multi-metric ``refit`` that names no scorer, as GridSearchCV does."""
    if multimetric and refit is not False and not callable(refit) and (
            not isinstance(refit, str) or refit not in names):
        raise ValueError(
            "For multi-metric scoring, the parameter refit must be set to a "
            f"scorer key ({sorted(names)}) or a callable to refit an estimator "
            "with the best parameters on the whole data; set refit=False if "
            f"this is not needed. {refit!r} was passed.")


def fill_failures(results, error_score, n_fits):
    """Give failed fits ``error_score`` for every metric and warn like GridSearchCV."""
    names = next((list(r["test_scores"]) for r in results
                  if r["test_scores"] is not None), ["score"])
    failed = [r for r in results if r["error"] is not None]
    for result in failed:
        result["test_scores"] = dict.fromkeys(names, error_score)
        result["train_scores"] = dict.fromkeys(names, error_score)
    if failed:
        messages = sorted({f"{type(r['error']).__name__}: {r['error']}" for r in failed})
        warnings.warn(
            f"{len(failed)} fits failed out of a total of {n_fits}. The score on "
            f"these train-test partitions for these parameters will be set to "
            f"{error_score}. If these failures are not expected, you can try to "
            "debug them by setting error_score='raise'.\n\nBelow are more "
            "details about the failures:\n" + "\n".join(messages),
            FitFailedWarning, stacklevel=3)
    return names


def _param_arrays(candidate_params):
    """One masked array per parameter name, masked where a candidate lacks it."""
    n_candidates = len(candidate_params)
    values = defaultdict(dict)
    for index, params in enumerate(candidate_params):
        for name, value in params.items():
            values[f"param_{name}"][index] = value
    arrays = {}
    for key, by_index in values.items():
        listed = list(by_index.values())
        try:
            inferred = np.array(listed)
            # strings and sequences are kept as objects, as GridSearchCV does
            dtype = (inferred.dtype if inferred.dtype.kind != "U"
                     and inferred.ndim == 1 else object)
        except ValueError:
            dtype = object
        array = MaskedArray(np.empty(n_candidates, dtype=dtype), mask=True)
        for index, value in by_index.items():
            array[index] = value
        arrays[key] = array
    return arrays


def _rank(means):
    """Rank 1 for the highest mean; NaN ties with the worst."""
    if np.isnan(means).all():
        return np.ones_like(means, dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    return rankdata(-filled, method="min").astype(np.int32)


def format_results(candidate_params, n_splits, results, names,
                   return_train_score):
    """Build ``cv_results_`` and the curves from per-(candidate, fold) results.

    ``results`` holds one dict per candidate and fold (see
    :meth:`FoldStacks.score`), in any order.

    Returns
    -------
    cv_results : dict
        GridSearchCV's keys, then ``split<k>_<curve key>`` object arrays with
        each fold's curves and ``n_divergences`` summed over folds.
    curves : list of list of dict
        ``curves[candidate][fold]``: the dict of :data:`CURVE_KEYS`, or
        ``None`` where the fit failed before training.
    """
    n_candidates = len(candidate_params)
    table = {(r["id"], r["fold"]): r for r in results}
    ordered = [[table[(c, f)] for f in range(n_splits)] for c in range(n_candidates)]

    def matrix(field, name=None):
        return np.array(
            [[r[field] if name is None else r[field][name] for r in row]
             for row in ordered], dtype=np.float64).reshape(n_candidates, n_splits)

    cv_results = {}

    def store(key, array, splits=False, rank=False):
        if splits:
            for fold in range(n_splits):
                cv_results[f"split{fold}_{key}"] = array[:, fold]
        means = array.mean(axis=1)
        cv_results[f"mean_{key}"] = means
        if key.startswith(("train_", "test_")) and not np.isfinite(means).all():
            warnings.warn(f"One or more of the {key.split('_')[0]} scores are "
                          f"non-finite: {means}", UserWarning, stacklevel=3)
        cv_results[f"std_{key}"] = np.sqrt(
            ((array - means[:, np.newaxis]) ** 2).mean(axis=1))
        if rank:
            cv_results[f"rank_{key}"] = _rank(means)

    store("fit_time", matrix("fit_time"))
    store("score_time", matrix("score_time"))
    cv_results.update(_param_arrays(candidate_params))
    cv_results["params"] = candidate_params
    for name in names:
        store(f"test_{name}", matrix("test_scores", name),
              splits=True, rank=True)
        if return_train_score:
            store(f"train_{name}", matrix("train_scores", name),
                  splits=True)

    curves = [[r["curves"] for r in row] for row in ordered]
    for fold in range(n_splits):
        for key in CURVE_KEYS:
            column = np.empty(n_candidates, dtype=object)
            column[:] = [None if c[fold] is None else c[fold][key] for c in curves]
            cv_results[f"split{fold}_{key}"] = column
    cv_results["n_divergences"] = np.array(
        [sum(0 if c is None else c["n_divergences"] for c in row) for row in curves],
        dtype=np.int64)
    return cv_results, curves


def select_best(search, cv_results, refit_metric):
    """Set ``best_index_``, ``best_score_`` and ``best_params_`` as GridSearchCV does."""
    refit = search.refit
    if not refit and search.multimetric_:
        return
    if callable(refit):
        best = refit(cv_results)
        if not isinstance(best, numbers.Integral):
            raise TypeError("best_index_ returned is not an integer")
        if best < 0 or best >= len(cv_results["params"]):
            raise IndexError("best_index_ index out of range")
    else:
        best = int(cv_results[f"rank_test_{refit_metric}"].argmin())
        search.best_score_ = cv_results[f"mean_test_{refit_metric}"][best]
    search.best_index_ = best
    search.best_params_ = cv_results["params"][best]


def refit_best(search, base, X, y, fit_params):
    """Fit ``best_estimator_`` on all the data, as scikit-learn's searches do."""
    search.best_estimator_ = clone(base).set_params(
        **clone(search.best_params_, safe=False))
    start = time.time()
    search.best_estimator_.fit(X, y, **fit_params)
    search.refit_time_ = time.time() - start
    if hasattr(search.best_estimator_, "feature_names_in_"):
        search.feature_names_in_ = search.best_estimator_.feature_names_in_
