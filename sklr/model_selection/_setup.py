"""What every sklr search does before training: checked inputs, routed
parameters, splits, scorers, candidates."""

import warnings
from dataclasses import dataclass

from sklearn import get_config
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import indexable
from sklearn.utils.metadata_routing import get_routing_for_object, process_routing

from sklr._compat import scorer_accepts_sample_weight, validate_params
from sklr.model_selection._results import check_scorers
from sklr.model_selection._stacking import (
    Metadata,
    Scoring,
    check_lockstep_estimator,
    n_samples,
    row_major,
)


@dataclass
class SearchInputs:
    """The validated inputs of a search's ``fit``.

    Attributes
    ----------
    X, y : indexable
        The data.
    splits : list of (train, test)
        The CV splits.
    scoring : Scoring
        How the folds score their candidates.
    scorer_ : callable or dict
        The search's ``scorer_``: the scorer, or the scorers by name.
    metadata : Metadata
        The routed fit and score parameters.
    fit_params : dict
        The estimator's fit parameters, for the refit.
    """

    X: object
    y: object
    splits: list
    scoring: Scoring
    scorer_: object
    metadata: Metadata
    fit_params: dict


def search_inputs(search, X, y, groups, params):
    """Validate a search, its data and parameters; set ``n_splits_`` and ``multimetric_``.

    Parameters
    ----------
    search : LockstepGridSearchCV, LockstepRandomizedSearchCV or HalvingEpochSearchCV
    X, y, groups
        As passed to the search's ``fit``.
    params : dict
        The other parameters passed to ``fit``, routed as ``GridSearchCV``
        routes them.

    Returns
    -------
    inputs : SearchInputs
    """
    validate_params(search)
    check_lockstep_estimator(search.estimator, type(search).__name__)
    X, y, groups = indexable(X, y, groups)
    X = row_major(X)
    scorer, by_name = check_scorers(search.estimator, search.scoring, search.error_score)
    search.multimetric_ = by_name is not None
    routing = get_config().get("enable_metadata_routing", False)
    if routing:
        routed = process_routing(
            search, "fit", **params, **({} if groups is None else {"groups": groups}))
        fit_params = dict(routed.estimator.fit)
        score_params = dict(routed.scorer.score)
        groups = routed.splitter.split.get("groups")
    else:
        fit_params, score_params = dict(params), {}
        if (params.get("sample_weight") is not None
                and _scorers_accept_sample_weight(search, scorer, by_name)):
            score_params["sample_weight"] = params["sample_weight"]
    metadata = _split_fit_params(search.estimator, fit_params, routing)
    metadata.score_params = score_params
    n_rows = n_samples(X)
    for name, weights in (("sample_weight", metadata.sample_weight),
                          ("sample_weight of the scorers",
                           score_params.get("sample_weight"))):
        if weights is not None and n_samples(weights) != n_rows:
            raise ValueError(f"{name} has {n_samples(weights)} elements, but X has "
                             f"{n_rows} samples: give one weight per sample.")
    cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
    splits = list(cv.split(X, y, groups))
    search.n_splits_ = len(splits)
    scoring = Scoring(scorer=scorer, multimetric=by_name is not None,
                      error_score=search.error_score,
                      return_train_score=search.return_train_score,
                      native=search.scoring is None)
    return SearchInputs(X, y, splits, scoring, scorer if by_name is None else by_name,
                        metadata, fit_params)


def _scorers_accept_sample_weight(search, scorer, by_name):
    """Whether ``sample_weight`` goes to the scorers, warning as GridSearchCV
    warns about each scorer that ignores it."""
    scorers = by_name or {None: scorer}
    accepted = False
    for name, each in scorers.items():
        if scorer_accepts_sample_weight(each):
            accepted = True
        else:
            label = each if name is None else f"{name}={each}"
            warnings.warn(
                f"The scoring {label} does not support sample_weight, which may "
                "lead to statistically incorrect results when fitting "
                f"{search} with sample_weight. ", UserWarning, stacklevel=4)
    return accepted


def _split_fit_params(estimator, fit_params, routing):
    """The final sklr estimator's sample weights and the preprocessing steps'
    parameters among the fit parameters of ``estimator``.

    The steps before an sklr estimator take any fit parameter, as a
    ``Pipeline`` passes them; the sklr estimator itself only ``sample_weight``.
    """
    prefix = {}
    if not isinstance(estimator, Pipeline):
        final = dict(fit_params)
    elif routing:
        last = estimator.steps[-1][0]
        final = dict(process_routing(estimator, "fit", **fit_params)[last].fit)
        consumed = get_routing_for_object(Pipeline(estimator.steps[:-1])).consumes(
            "fit", set(fit_params))
        prefix = {k: v for k, v in fit_params.items() if k in consumed}
    else:
        last = estimator.steps[-1][0]
        final = {}
        for key, value in fit_params.items():
            step, separator, name = key.partition("__")
            if not separator:
                raise ValueError(
                    f"Pipeline.fit does not accept the {key} parameter. You can pass "
                    "parameters to specific steps of your pipeline using the "
                    "stepname__parameter format, e.g. "
                    f"`Pipeline.fit(X, y, {last}__sample_weight=sample_weight)`.")
            if step == last:
                final[name] = value
            else:
                prefix[key] = value
    unknown = set(final) - {"sample_weight"}
    if unknown:
        raise ValueError(
            "The lockstep searches pass only the fit parameter sample_weight to "
            f"the sklr estimator; got {sorted(unknown)}. Use GridSearchCV for "
            "other fit parameters.")
    return Metadata(sample_weight=final.get("sample_weight"), prefix_params=prefix)


def make_candidates(search, base, candidate_params):
    """Unfitted clones of ``base`` with each candidate's parameters set."""
    candidates = [clone(base).set_params(**clone(params, safe=False))
                  for params in candidate_params]
    for candidate in candidates:
        check_lockstep_estimator(candidate, type(search).__name__)
    return candidates
