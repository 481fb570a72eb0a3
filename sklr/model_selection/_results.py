"""Scorers, ``cv_results_``, the best candidate and the report of the fits' warnings.

The searches of this package build ``cv_results_`` themselves (scikit-learn's
helpers for it are private) with the keys, dtypes and ranking rules of
``GridSearchCV``; the training curves of every candidate and fold go to
``curves_``. One deviation, in tie-breaking only: among candidates whose mean
scores are equal to floating-point tolerance, those that never diverged rank
first (see :func:`ranking_order`).
"""

import numbers
import re
import sys
import time
import warnings
from collections import Counter, defaultdict

import numpy as np
from numpy.ma import MaskedArray
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import check_scoring

CURVE_KEYS = ("loss_curve", "validation_scores", "learning_rate_curve",
              "n_iter", "n_divergences", "status")

# Mean scores this close (relative) are equal for ranking: the score of a rate
# that diverged and backed off can differ from that of the rate it fell back
# to by rounding alone.
TIE_RTOL = 1e-12


def check_scorers(estimator, scoring, error_score):
    """The scorer of a search, as ``GridSearchCV`` builds it.

    Returns
    -------
    scorer : callable
        One scorer, or for several metrics scikit-learn's multi-metric
        scorer, which returns a dict of scores by name and, unless
        ``error_score="raise"``, reports a failing scorer in that dict.
    by_name : dict or None
        The scorers of several metrics by name (``None`` for one metric).
    """
    if isinstance(scoring, list | tuple | set):
        names = list(scoring)
        if (not names or len(set(names)) != len(names)
                or not all(isinstance(n, str) for n in names)):
            raise ValueError(
                "A list of scoring metrics must hold unique strings; got "
                f"{scoring!r}.")
        by_name = {name: check_scoring(estimator, scoring=name) for name in names}
    elif isinstance(scoring, dict):
        if not scoring:
            raise ValueError("The scoring dict is empty.")
        by_name = {name: check_scoring(estimator, scoring=value)
                   for name, value in scoring.items()}
    else:
        return check_scoring(estimator, scoring=scoring), None
    return check_scoring(estimator, scoring=by_name,
                         raise_exc=error_score == "raise"), by_name


def check_refit(refit, multimetric, names):
    """Reject a multi-metric ``refit`` that names no scorer, as GridSearchCV does."""
    if multimetric and refit is not False and not callable(refit) and (
            not isinstance(refit, str) or refit not in names):
        raise ValueError(
            "For multi-metric scoring, the parameter refit must be set to a "
            f"scorer key ({sorted(names)}) or a callable to refit an estimator "
            "with the best parameters on the whole data; set refit=False if "
            f"this is not needed. {refit!r} was passed.")


def fill_failures(results, error_score):
    """Give failed fits ``error_score`` for every metric and warn like GridSearchCV.

    Raises scikit-learn's ``ValueError`` when every fit failed. Returns the
    names of the scores.
    """
    failed = [r for r in results if r["error"] is not None]
    if failed:
        delimiter = "-" * 80 + "\n"
        details = "\n".join(
            f"{delimiter}{count} fits failed with the following error:\n{error}"
            for error, count in Counter(r["error"] for r in failed).items())
        if len(failed) == len(results):
            raise ValueError(
                f"\nAll the {len(results)} fits failed.\nIt is very likely that your "
                "model is misconfigured.\nYou can try to debug the error by setting "
                f"error_score='raise'.\n\nBelow are more details about the "
                f"failures:\n{details}")
        warnings.warn(
            f"\n{len(failed)} fits failed out of a total of {len(results)}.\nThe "
            "score on these train-test partitions for these parameters will be set "
            f"to {error_score}.\nIf these failures are not expected, you can try to "
            "debug them by setting error_score='raise'.\n\nBelow are more details "
            f"about the failures:\n{details}",
            FitFailedWarning, stacklevel=3)
    names = next(list(r["test_scores"]) for r in results if r["error"] is None)
    for result in failed:
        result["test_scores"] = dict.fromkeys(names, error_score)
        result["train_scores"] = dict.fromkeys(names, error_score)
    return names


def _kind(message):
    """A warning's message with its numbers left out: messages of one kind
    differ in the learning rate or epoch they name."""
    return re.sub(r"[-+]?\d[\d.]*(e[-+]?\d+)?", "#", message)


def _module(filename, modules):
    """The name of the module of ``filename``, which the filters of the
    ``warnings`` module match; derived as ``warnings.warn_explicit`` does
    for a file that is not an imported module."""
    if filename in modules:
        return modules[filename]
    return filename[:-3] if filename.lower().endswith(".py") else filename


def _ignored(category, message, module, lineno):
    """Whether the current warning filters ignore this warning where it was issued.

    The first matching filter decides, as documented for ``warnings.filters``.
    A summary names a new place and starts with a count, so the filters
    written for the original warnings must be applied to them first.
    """
    for action, text, kind, where, line in warnings.filters:
        if ((text is None or text.match(message)) and issubclass(category, kind)
                and (where is None or where.match(module))
                and (line == 0 or line == lineno)):
            return action == "ignore"
    return warnings.defaultaction == "ignore"


def report_warnings(results, verbose):
    """Issue the warnings the fits collected, once per category with counts.

    With ``verbose >= 2`` every collected warning is issued again as it
    was; otherwise one warning per category says in how many of the fits
    it occurred and shows one message of each kind. Warnings that the
    current filters ignore where they were issued are left out.

    Parameters
    ----------
    results : list of dict
        One per fit, each with its ``warnings``: ``(category, message,
        filename, lineno)`` tuples.
    verbose : int
        The search's ``verbose``.
    """
    modules = {getattr(module, "__file__", None): name
               for name, module in list(sys.modules.items())}
    if verbose >= 2:
        for result in results:
            for category, message, filename, lineno in result["warnings"]:
                warnings.warn_explicit(message, category, filename, lineno,
                                       module=_module(filename, modules))
        return
    fits = defaultdict(set)
    # per category and kind: the fits, and the messages (to show the first)
    kinds = defaultdict(dict)
    for index, result in enumerate(results):
        for category, message, filename, lineno in result["warnings"]:
            if _ignored(category, message, _module(filename, modules), lineno):
                continue
            fits[category].add(index)
            where, messages = kinds[category].setdefault(_kind(message), (set(), {}))
            where.add(index)
            messages.setdefault(message)
    for category, indices in fits.items():
        lines = [f"{len(indices)} of {len(results)} fits issued this warning "
                 "(verbose=2 shows each one):"]
        for where, messages in kinds[category].values():
            example = "" if len(messages) == 1 else ", e.g."
            lines.append(f"  {len(where)} fits{example}: {next(iter(messages))}")
        # the caller of the search's fit
        warnings.warn("\n".join(lines), category, stacklevel=3)


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


def diverged(curves):
    """Boolean per candidate: its training diverged in some fold.

    ``curves[candidate][fold]`` is a dict of :data:`CURVE_KEYS`, or ``None``
    where the fit failed before training.
    """
    return np.array([any(c is not None and (c["n_divergences"] > 0
                                            or c["status"] in ("diverged", "error"))
                         for c in folds)
                     for folds in curves], dtype=bool)


def ranking_order(means, diverged_candidates):
    """Candidates from best to worst mean score, as GridSearchCV ranks them,
    except that among scores equal to :data:`TIE_RTOL` a candidate that did
    not diverge comes first.

    NaN ranks last; otherwise equal scores keep the candidates' order.
    """
    means = np.asarray(means, dtype=np.float64)
    finite = ~np.isnan(means)
    if not finite.any():
        return np.arange(len(means))
    filled = np.where(finite, means, np.nanmin(means) - 1)
    order = np.argsort(-filled, kind="stable")
    # a failed candidate has no score to tie with
    demoted = np.asarray(diverged_candidates, dtype=bool) & finite
    ranked, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or not np.isclose(filled[order[end]],
                                               filled[order[end - 1]],
                                               rtol=TIE_RTOL, atol=0.0):
            run = order[start:end]
            ranked.extend(run[np.argsort(demoted[run], kind="stable")])
            start = end
    return np.array(ranked, dtype=np.intp)


def rank(means, diverged_candidates):
    """``rank_test_*``: GridSearchCV's ranks (1 for the best, equal scores share
    the lowest rank, NaN ties with the worst, all NaN rank 1) with the
    tie-breaking of :func:`ranking_order`."""
    means = np.asarray(means, dtype=np.float64)
    if np.isnan(means).all():
        return np.ones_like(means, dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    demoted = np.asarray(diverged_candidates, dtype=bool) & ~np.isnan(means)
    ranks = np.empty(len(means), dtype=np.int32)
    previous = None
    for position, candidate in enumerate(ranking_order(means, diverged_candidates)):
        key = (filled[candidate], demoted[candidate])
        ranks[candidate] = (ranks[previous] if previous is not None
                            and key == (filled[previous], demoted[previous])
                            else position + 1)
        previous = candidate
    return ranks


def format_results(candidate_params, n_splits, results, names,
                   return_train_score):
    """Build ``cv_results_`` and the curves from per-(candidate, fold) results.

    ``results`` holds one dict per candidate and fold (see
    :meth:`FoldStacks.score`), in any order.

    Returns
    -------
    cv_results : dict
        Exactly GridSearchCV's keys, ranked with :func:`rank`.
    curves : list of list of dict
        ``curves[candidate][fold]``: the dict of :data:`CURVE_KEYS`, or
        ``None`` where the fit failed before training.
    """
    n_candidates = len(candidate_params)
    table = {(r["id"], r["fold"]): r for r in results}
    ordered = [[table[(c, f)] for f in range(n_splits)] for c in range(n_candidates)]
    curves = [[r["curves"] for r in row] for row in ordered]
    demoted = diverged(curves)

    def matrix(field, name=None):
        return np.array(
            [[r[field] if name is None else r[field][name] for r in row]
             for row in ordered], dtype=np.float64).reshape(n_candidates, n_splits)

    cv_results = {}

    def store(key, array, splits=False, ranked=False):
        if splits:
            for fold in range(n_splits):
                cv_results[f"split{fold}_{key}"] = array[:, fold]
        means = array.mean(axis=1)
        cv_results[f"mean_{key}"] = means
        if key.startswith(("train_", "test_")) and not np.isfinite(means).all():
            warnings.warn(f"One or more of the {key.split('_')[0]} scores are "
                          f"non-finite: {means}", UserWarning, stacklevel=4)
        cv_results[f"std_{key}"] = np.sqrt(
            ((array - means[:, np.newaxis]) ** 2).mean(axis=1))
        if ranked:
            cv_results[f"rank_{key}"] = rank(means, demoted)

    store("fit_time", matrix("fit_time"))
    store("score_time", matrix("score_time"))
    cv_results.update(_param_arrays(candidate_params))
    cv_results["params"] = candidate_params
    for name in names:
        store(f"test_{name}", matrix("test_scores", name),
              splits=True, ranked=True)
        if return_train_score:
            store(f"train_{name}", matrix("train_scores", name),
                  splits=True)
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


def refit_best(search, base, X, y, fit_params, tasks):
    """Fit ``best_estimator_`` on all the data, as scikit-learn's searches do,
    as the refit task of the search's callbacks (``tasks``: SearchTasks)."""
    search.best_estimator_ = clone(base).set_params(
        **clone(search.best_params_, safe=False))
    with tasks.refit(search.best_estimator_):
        start = time.time()
        search.best_estimator_.fit(X, y, **fit_params)
        search.refit_time_ = time.time() - start
    if hasattr(search.best_estimator_, "feature_names_in_"):
        search.feature_names_in_ = search.best_estimator_.feature_names_in_
