"""The lockstep and halving searches as drop-ins for scikit-learn's searches.

Each fold owns its preprocessing (a spy transformer sees which rows it was
fitted on and which it transforms), fit parameters and failures are handled
as ``GridSearchCV`` handles them, ``cv_results_`` has exactly scikit-learn's
keys, equal scores rank a candidate that never diverged first, and the fits'
warnings are reported once per category.
"""

import contextlib
import uuid
import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn import config_context
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, FitFailedWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    KFold,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier
from sklr.exceptions import DivergenceWarning
from sklr.model_selection import (
    HalvingEpochSearchCV,
    LockstepGridSearchCV,
    LockstepRandomizedSearchCV,
    learning_rate_grid,
)
from sklr.model_selection._results import rank

CV = KFold(3)


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=90, n_features=4, noise=5.0, random_state=0)
    return X, y + 50.0


@pytest.fixture(scope="module")
def classification():
    X, y = make_classification(n_samples=90, n_features=4, n_informative=3,
                               n_redundant=0, random_state=0)
    return X, y


def quietly(search, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return search.fit(X, y, **params)


def assert_same_results(ours, theirs, atol=1e-9):
    """Same keys; same scores and ranks (times aside); same best candidate."""
    assert set(ours.cv_results_) == set(theirs.cv_results_)
    for key, value in theirs.cv_results_.items():
        if key == "params" or key.startswith("param_"):
            assert list(ours.cv_results_[key]) == list(value), key
        elif "_time" not in key:
            np.testing.assert_allclose(ours.cv_results_[key], value, atol=atol,
                                       err_msg=key)
    for name in ("best_index_", "best_params_"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name


# ------------------------------------------------ 1. each fold owns its steps
class RowSpy(TransformerMixin, BaseEstimator):
    """Standardizes columns 1: of ``X``; column 0 holds row ids, which it logs.

    Every fit gets a token; each line of the log names the token of the fit
    in use and the rows fitted on or transformed, so a transform by a
    transformer fitted on other rows (of any process) shows in the log.
    """

    def __init__(self, log=None):
        self.log = log

    def fit(self, X, y=None):
        self.token_ = uuid.uuid4().hex
        self._write("fit", X)
        self.mean_ = X[:, 1:].mean(axis=0)
        self.scale_ = X[:, 1:].std(axis=0)
        return self

    def transform(self, X):
        self._write("transform", X)
        return (X[:, 1:] - self.mean_) / self.scale_

    def _write(self, kind, X):
        ids = " ".join(str(int(i)) for i in X[:, 0])
        with open(self.log, "a") as log:
            log.write(f"{kind} {self.token_} {ids}\n")


def assert_no_leak(log):
    """No transform of rows a fit saw, unless it transforms exactly those rows."""
    fitted, n_transforms = {}, 0
    for line in log.read_text().splitlines():
        kind, token, *ids = line.split()
        rows = set(map(int, ids))
        if kind == "fit":
            fitted[token] = rows
        else:
            n_transforms += 1
            assert rows == fitted[token] or not rows & fitted[token], (
                f"{len(rows & fitted[token])} of {len(rows)} transformed rows were "
                "in the data the transformer was fitted on")
    assert n_transforms > 0


def with_row_ids(X):
    return np.column_stack([np.arange(len(X)), X])


@pytest.mark.parametrize("backend, n_jobs", [(None, 1), (None, 2), ("threading", 2)])
@pytest.mark.parametrize("kind", ["lockstep", "halving"])
def test_no_fold_is_transformed_by_steps_fitted_on_it(kind, backend, n_jobs,
                                                      regression, tmp_path):
    X, y = regression
    log = tmp_path / "spy.log"
    pipe = make_pipeline(RowSpy(str(log)),
                         LinearRegressor(max_iter=9, random_state=0))
    grid = {"linearregressor__learning_rate": learning_rate_grid(1e-3, 1e-1, 9)}
    search = (LockstepGridSearchCV(pipe, grid, cv=CV, n_jobs=n_jobs, refit=False)
              if kind == "lockstep" else
              HalvingEpochSearchCV(pipe, grid, cv=CV, n_jobs=n_jobs, refit=False))
    with (joblib.parallel_config(backend=backend) if backend
          else contextlib.nullcontext()):
        quietly(search, with_row_ids(X), y)
    assert_no_leak(log)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_halving_last_round_equals_cross_validate(n_jobs, regression):
    X, y = regression
    pipe = make_pipeline(StandardScaler(), LinearRegressor(max_iter=9, random_state=0))
    grid = {"linearregressor__learning_rate": learning_rate_grid(1e-3, 1e-1, 9)}
    search = quietly(HalvingEpochSearchCV(pipe, grid, cv=CV, factor=2,
                                          n_jobs=n_jobs), X, y)
    last = np.flatnonzero(search.cv_results_["iter"] == search.n_iterations_ - 1)
    assert search.n_iterations_ > 2 and len(last) >= 1
    for row in last:
        params = search.cv_results_["params"][row]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = cross_validate(pipe.set_params(**params), X, y, cv=CV)
        scores = [search.cv_results_[f"split{k}_test_score"][row] for k in range(3)]
        np.testing.assert_allclose(scores, reference["test_score"], rtol=0, atol=1e-9)


# ----------------------------------------- 2. GridSearchCV's fit-param rules
def test_pipeline_sample_weight_goes_to_fit_only(regression):
    X, y = regression
    weights = np.linspace(0.1, 3.0, len(y))
    pipe = make_pipeline(StandardScaler(), LinearRegressor(max_iter=5, random_state=0))
    grid = {"linearregressor__learning_rate": [1e-2, 1e-1]}
    # the steps before the sklr estimator take their own fit parameters
    params = {"linearregressor__sample_weight": weights,
              "standardscaler__sample_weight": weights}
    for scoring in (None, "neg_mean_absolute_error"):
        ours = quietly(LockstepGridSearchCV(pipe, grid, cv=CV, scoring=scoring), X, y,
                       **params)
        theirs = quietly(GridSearchCV(pipe, grid, cv=CV, scoring=scoring), X, y,
                         **params)
        assert_same_results(ours, theirs)
    unweighted = quietly(LockstepGridSearchCV(pipe, grid, cv=CV), X, y)
    assert not np.allclose(unweighted.cv_results_["mean_test_score"],
                           ours.cv_results_["mean_test_score"])


@pytest.mark.parametrize("in_pipeline", [False, True])
def test_metadata_routing(in_pipeline, regression):
    X, y = regression
    weights = np.linspace(0.1, 3.0, len(y))
    with config_context(enable_metadata_routing=True):
        estimator = LinearRegressor(max_iter=5, random_state=0).set_fit_request(
            sample_weight=True)
        prefix = ""
        if in_pipeline:
            estimator = make_pipeline(
                StandardScaler().set_fit_request(sample_weight=True), estimator)
            prefix = "linearregressor__"
        grid = {prefix + "learning_rate": [1e-2, 1e-1]}
        for weighted in (False, True):
            scoring = get_scorer("r2").set_score_request(sample_weight=weighted)
            ours = quietly(LockstepGridSearchCV(estimator, grid, cv=CV,
                                                scoring=scoring),
                           X, y, sample_weight=weights)
            theirs = quietly(GridSearchCV(estimator, grid, cv=CV, scoring=scoring),
                             X, y, sample_weight=weights)
            assert_same_results(ours, theirs)


@pytest.mark.parametrize("kind", ["lockstep", "halving"])
def test_every_fit_failing_raises(kind, regression):
    X, y = regression
    estimator = LinearRegressor(optimizer="sgd", max_iter=5, random_state=0,
                                on_divergence="raise")
    grid = {"learning_rate": [1e4, 1e5]}
    search = (LockstepGridSearchCV(estimator, grid, cv=CV) if kind == "lockstep"
              else HalvingEpochSearchCV(estimator, grid, cv=CV))
    for each in (search, GridSearchCV(estimator, grid, cv=CV)):
        with pytest.raises(ValueError, match="All the 6 fits failed"):
            quietly(each, X, y)


def broken_scorer(estimator, X, y):
    raise ZeroDivisionError("broken scorer")


def test_failing_scorer_gets_error_score(classification):
    X, y = classification
    estimator = LogisticClassifier(max_iter=5, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1]}
    for scoring, refit in ((broken_scorer, True),
                           ({"ok": "accuracy", "broken": broken_scorer}, "ok")):
        searches = [LockstepGridSearchCV(estimator, grid, cv=CV, scoring=scoring,
                                         refit=refit),
                    GridSearchCV(estimator, grid, cv=CV, scoring=scoring, refit=refit)]
        for search in searches:
            with pytest.warns(UserWarning, match="Scoring failed"):
                search.fit(X, y)
        assert_same_results(*searches)
        for search in searches:
            search.set_params(error_score="raise")
            with pytest.raises(ZeroDivisionError):
                quietly(search, X, y)


class FailOnRow(TransformerMixin, BaseEstimator):
    """Fails to fit on data holding row 0 (column 0 holds row ids), or, when
    ``when="transform"``, to transform row 0 without having been fitted on it."""

    def __init__(self, when="fit"):
        self.when = when

    def fit(self, X, y=None):
        self.saw_row_0_ = 0 in X[:, 0]
        if self.when == "fit" and self.saw_row_0_:
            raise ValueError("row 0 in the training data")
        return self

    def transform(self, X):
        if self.when == "transform" and 0 in X[:, 0] and not self.saw_row_0_:
            raise ValueError("row 0 unseen in training")
        return X[:, 1:]


@pytest.mark.parametrize("when", ["fit", "transform"])
def test_preprocessing_failing_on_some_folds(when, classification):
    X, y = classification
    pipe = make_pipeline(FailOnRow(when), LogisticClassifier(max_iter=5,
                                                             random_state=0))
    grid = {"logisticclassifier__learning_rate": [1e-2, 1e-1]}
    warning = FitFailedWarning if when == "fit" else UserWarning
    searches = [LockstepGridSearchCV(pipe, grid, cv=CV),
                GridSearchCV(pipe, grid, cv=CV)]
    if when == "fit":
        # row 0 is in every refit's data
        searches = [search.set_params(refit=False) for search in searches]
    for search in searches:
        with pytest.warns(warning, match="fits failed" if when == "fit"
                          else "Scoring failed"):
            search.fit(with_row_ids(X), y)
    assert_same_results(*searches)
    # row 0 is in the test part of fold 0 only
    failed = [1, 2] if when == "fit" else [0]
    for k in range(3):
        assert np.isnan(searches[0].cv_results_[f"split{k}_test_score"]).all() == (
            k in failed)
    halving = quietly(HalvingEpochSearchCV(pipe, grid, cv=CV, refit=when != "fit"),
                      with_row_ids(X), y)
    for k in range(3):
        assert np.isnan(halving.cv_results_[f"split{k}_test_score"]).all() == (
            k in failed)
    searches[0].set_params(error_score="raise")
    with pytest.raises(ValueError, match="row 0 unseen" if when == "transform"
                       else "row 0 in the training"):
        quietly(searches[0], with_row_ids(X), y)


@pytest.mark.parametrize("search_cls", [LockstepGridSearchCV, HalvingEpochSearchCV])
def test_sample_weight_of_the_wrong_length(search_cls, regression):
    X, y = regression
    search = search_cls(LinearRegressor(max_iter=5), {"learning_rate": [1e-2]}, cv=CV)
    with pytest.raises(ValueError, match="sample_weight has 89 elements, but X has 90"):
        search.fit(X, y, sample_weight=np.ones(len(y) - 1))
    pipe = make_pipeline(StandardScaler(), LinearRegressor(max_iter=5))
    search.set_params(estimator=pipe, param_grid={"linearregressor__alpha": [0.1]})
    with pytest.raises(ValueError, match="sample_weight has 91 elements"):
        search.fit(X, y, linearregressor__sample_weight=np.ones(len(y) + 1))


# --------------------------------------------- 3. exactly scikit-learn's keys
SCORINGS = [(None, True), ("neg_mean_absolute_error", False),
            (["r2", "neg_mean_absolute_error"], "r2")]


@pytest.mark.parametrize("return_train_score", [False, True])
@pytest.mark.parametrize("scoring, refit", SCORINGS)
def test_cv_results_keys_are_scikit_learns(scoring, refit, return_train_score,
                                           regression):
    X, y = regression
    estimator = LinearRegressor(max_iter=3, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1], "alpha": [1e-4, 1e-2]}
    kwargs = dict(cv=CV, scoring=scoring, refit=refit,
                  return_train_score=return_train_score)
    pairs = [(LockstepGridSearchCV(estimator, grid, **kwargs),
              GridSearchCV(estimator, grid, **kwargs)),
             (LockstepRandomizedSearchCV(estimator, grid, n_iter=3, random_state=0,
                                         **kwargs),
              RandomizedSearchCV(estimator, grid, n_iter=3, random_state=0, **kwargs))]
    if not isinstance(scoring, list):
        halving = dict(kwargs, refit=bool(refit))
        pairs.append((HalvingEpochSearchCV(estimator, grid, **halving),
                      HalvingGridSearchCV(estimator, grid, min_resources=30,
                                          **halving)))
    for ours, theirs in pairs:
        assert set(quietly(ours, X, y).cv_results_) == set(
            quietly(theirs, X, y).cv_results_), type(ours).__name__
        assert len(ours.curves_) == len(ours.cv_results_["params"])


# ------------------------------------------------ 4. divergence loses ties
def constant_scorer(estimator, X, y):
    """Every candidate ties; a diverged one scores higher by rounding."""
    return 1.0 + 1e-15 * estimator.n_divergences_


def test_equal_scores_rank_a_candidate_that_did_not_diverge_first(regression):
    X, y = regression
    estimator = LinearRegressor(optimizer="sgd", max_iter=3, random_state=0)
    grid = {"learning_rate": [1e4, 1e-2, 1e3, 1e-3]}
    ours = quietly(LockstepGridSearchCV(estimator, grid, cv=CV,
                                        scoring=constant_scorer), X, y)
    theirs = quietly(GridSearchCV(estimator, grid, cv=CV, scoring=constant_scorer),
                     X, y)
    diverged = [any(fold["n_divergences"] for fold in folds) for folds in ours.curves_]
    assert diverged == [True, False, True, False]
    assert theirs.cv_results_["rank_test_score"].tolist() == [1, 3, 1, 3]
    assert ours.cv_results_["rank_test_score"].tolist() == [3, 1, 3, 1]
    assert (theirs.best_index_, ours.best_index_) == (0, 1)

    halving = quietly(HalvingEpochSearchCV(estimator, grid, cv=CV, factor=2,
                                           scoring=constant_scorer), X, y)
    survivors = [p["learning_rate"] for p, i in zip(halving.cv_results_["params"],
                                                    halving.cv_results_["iter"])
                 if i == 1]
    assert survivors == [1e-2, 1e-3]
    assert halving.best_params_ == {"learning_rate": 1e-2}


def test_rank_without_divergence_is_gridsearchcvs():
    rng = np.random.default_rng(0)
    for _ in range(20):
        means = rng.choice([0.1, 0.5, 0.7, np.nan], size=12)
        expected = (np.ones(12) if np.isnan(means).all() else rankdata(
            -np.where(np.isnan(means), np.nanmin(means) - 1, means), method="min"))
        np.testing.assert_array_equal(rank(means, np.zeros(12, dtype=bool)), expected)


# --------------------------------------------------- 5. no warning floods
def test_warnings_are_reported_once_per_category(regression):
    X, y = regression
    estimator = LinearRegressor(optimizer="sgd", max_iter=3, random_state=0)
    grid = {"learning_rate": learning_rate_grid(1e-4, 1e3, 50)}
    search = LockstepGridSearchCV(estimator, grid, cv=CV, refit=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hooks = (list(warnings.filters), warnings.showwarning)
        search.fit(X, y)
        # the collection of the fits' warnings left the warnings module as it was
        assert (warnings.filters, warnings.showwarning) == hooks
    categories = [w.category for w in caught]
    assert len(categories) == len(set(categories)), [str(w.message) for w in caught]
    assert {ConvergenceWarning, DivergenceWarning} <= set(categories)
    statuses = [fold["status"] for folds in search.curves_ for fold in folds]
    backed_off = sum(fold["n_divergences"] > 0 for folds in search.curves_
                     for fold in folds)
    messages = {w.category: str(w.message) for w in caught}
    assert messages[ConvergenceWarning].startswith(
        f"{statuses.count('training')} of 150 fits")
    assert messages[DivergenceWarning].startswith(f"{backed_off} of 150 fits")

    # a filter written for the fits' own messages applies to them
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="LinearRegressor reached max_iter")
        search.fit(X, y)
    categories = {w.category for w in caught}
    assert ConvergenceWarning not in categories and DivergenceWarning in categories

    # verbose=2 issues every warning of every fit
    search.set_params(verbose=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    divergences = [w for w in caught if w.category is DivergenceWarning]
    assert len(divergences) == backed_off


def test_halving_threads_report_warnings_once(regression):
    X, y = regression
    estimator = LinearRegressor(optimizer="sgd", max_iter=9, random_state=0)
    grid = {"learning_rate": learning_rate_grid(1e-4, 1e3, 9)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hooks = (list(warnings.filters), warnings.showwarning)
        HalvingEpochSearchCV(estimator, grid, cv=CV, n_jobs=2, refit=False).fit(X, y)
        assert (warnings.filters, warnings.showwarning) == hooks
    categories = [w.category for w in caught]
    assert len(categories) == len(set(categories)) >= 1
