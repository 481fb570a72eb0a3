"""What every sklr search does before training: checked inputs, splits, scorers, candidates."""

from dataclasses import dataclass

from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import indexable

from sklr._compat import validate_params
from sklr.model_selection._results import check_scorers
from sklr.model_selection._stacking import check_lockstep_estimator, split_sample_weight


@dataclass
class SearchInputs:
    """The validated inputs of a search's ``fit``."""

    X: object
    y: object
    sample_weight: object
    splits: list
    scorers: object


def search_inputs(search, X, y, groups, fit_params):
    """Validate a search and its data; set ``n_splits_`` and ``multimetric_``.

    Parameters
    ----------
    search : LockstepGridSearchCV, LockstepRandomizedSearchCV or HalvingEpochSearchCV
    X, y, groups, fit_params
        As passed to the search's ``fit``.

    Returns
    -------
    inputs : SearchInputs
    """
    validate_params(search)
    check_lockstep_estimator(search.estimator, type(search).__name__)
    sample_weight = split_sample_weight(search.estimator, fit_params)
    X, y, groups = indexable(X, y, groups)
    cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
    splits = list(cv.split(X, y, groups))
    search.n_splits_ = len(splits)
    scorers, search.multimetric_ = check_scorers(search.estimator, search.scoring)
    return SearchInputs(X, y, sample_weight, splits, scorers)


def make_candidates(search, base, candidate_params):
    """Unfitted clones of ``base`` with each candidate's parameters set."""
    candidates = [clone(base).set_params(**clone(params, safe=False))
                  for params in candidate_params]
    for candidate in candidates:
        check_lockstep_estimator(candidate, type(search).__name__)
    return candidates
