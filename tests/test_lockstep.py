"""LockstepGridSearchCV / LockstepRandomizedSearchCV against scikit-learn's searches."""

import warnings

import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.metrics import make_scorer, mean_absolute_error
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.exceptions import DivergenceError
from sklr.model_selection import LockstepGridSearchCV, LockstepRandomizedSearchCV
from sklr.model_selection._results import CURVE_KEYS
from sklr.optimizers import Adam

TOL = 1e-6


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:200] / 16, y[:200]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=200, n_features=8, noise=5.0, random_state=0)
    return X, y


ESTIMATORS = {
    "logistic": (LogisticClassifier(max_iter=10, random_state=0), "digits"),
    "mlp_classifier": (MLPClassifier(hidden_layer_sizes=(16,), max_iter=10,
                                     random_state=0), "digits"),
    "linear": (LinearRegressor(max_iter=10, random_state=0), "regression"),
    "mlp_regressor": (MLPRegressor(hidden_layer_sizes=(16,), max_iter=10,
                                   random_state=0), "regression"),
}


def _fit_quietly(search, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return search.fit(X, y, **fit_params)


def assert_same_search(lockstep, reference):
    """Same keys, same scores, ranks and best parameters; the curves in ``curves_``."""
    ours, theirs = lockstep.cv_results_, reference.cv_results_
    assert set(ours) == set(theirs)
    assert len(lockstep.curves_) == len(theirs["params"])
    assert all(len(folds) == reference.n_splits_ for folds in lockstep.curves_)
    for key, value in theirs.items():
        if key.startswith("param_"):
            assert list(ours[key]) == list(value), key
            assert ours[key].dtype == value.dtype, key
        elif key == "params":
            assert ours[key] == value
        elif "_time" not in key:
            np.testing.assert_allclose(ours[key], value, atol=TOL, err_msg=key)
    assert lockstep.n_splits_ == reference.n_splits_
    assert lockstep.multimetric_ == reference.multimetric_
    if hasattr(reference, "best_index_"):
        assert lockstep.best_index_ == reference.best_index_
        assert lockstep.best_params_ == reference.best_params_
    if hasattr(reference, "best_score_"):
        assert lockstep.best_score_ == pytest.approx(reference.best_score_, abs=TOL)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_grid_equals_gridsearchcv(name, digits, regression):
    estimator, data = ESTIMATORS[name]
    X, y = digits if data == "digits" else regression
    grid = {"learning_rate": [1e-3, 1e-2, 1e-1], "schedule": ["constant", "cosine"]}
    lockstep = _fit_quietly(LockstepGridSearchCV(estimator, grid, cv=3,
                                                 return_train_score=True), X, y)
    reference = _fit_quietly(GridSearchCV(estimator, grid, cv=3,
                                          return_train_score=True), X, y)
    assert_same_search(lockstep, reference)
    assert lockstep.n_stacks_ == 3
    np.testing.assert_allclose(lockstep.predict(X), reference.predict(X), atol=TOL)
    assert lockstep.refit_time_ >= 0
    assert lockstep.scorer_ is not None


def test_randomized_equals_randomizedsearchcv(digits):
    X, y = digits
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0)
    space = {"learning_rate": loguniform(1e-4, 1e-1), "alpha": [1e-4, 1e-2]}
    lockstep = _fit_quietly(LockstepRandomizedSearchCV(
        estimator, space, n_iter=5, cv=3, random_state=0), X, y)
    reference = _fit_quietly(RandomizedSearchCV(
        estimator, space, n_iter=5, cv=3, random_state=0), X, y)
    assert_same_search(lockstep, reference)


def test_pipeline_and_mixed_optimizers(digits):
    X, y = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", LogisticClassifier(max_iter=10, random_state=0))])
    grid = [{"clf__optimizer": [Adam()], "clf__learning_rate": [1e-3, 1e-2],
             "clf__optimizer__beta_1": [0.8, 0.9]},
            {"clf__optimizer": ["sgd", "nesterov"], "clf__learning_rate": [1e-2, 1e-1]}]
    lockstep = _fit_quietly(LockstepGridSearchCV(pipe, grid, cv=3), X, y)
    reference = _fit_quietly(GridSearchCV(pipe, grid, cv=3), X, y)
    assert_same_search(lockstep, reference)
    assert isinstance(lockstep.best_estimator_, Pipeline)
    np.testing.assert_allclose(lockstep.predict_proba(X), reference.predict_proba(X),
                               atol=TOL)


def test_structure_groups(digits):
    X, y = digits
    estimator = LogisticClassifier(max_iter=5, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1], "batch_size": [32, 64]}
    lockstep = _fit_quietly(LockstepGridSearchCV(estimator, grid, cv=3), X, y)
    reference = _fit_quietly(GridSearchCV(estimator, grid, cv=3), X, y)
    assert lockstep.n_stacks_ == 2 * 3
    assert_same_search(lockstep, reference)


def test_multimetric_scoring(digits):
    X, y = digits
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=10, random_state=0)
    grid = {"learning_rate": [1e-3, 1e-2, 1e-1]}
    scoring = ["accuracy", "neg_log_loss"]
    lockstep = _fit_quietly(LockstepGridSearchCV(
        estimator, grid, cv=3, scoring=scoring, refit="accuracy",
        return_train_score=True), X, y)
    reference = _fit_quietly(GridSearchCV(
        estimator, grid, cv=3, scoring=scoring, refit="accuracy",
        return_train_score=True), X, y)
    assert_same_search(lockstep, reference)
    assert set(lockstep.scorer_) == set(scoring)
    assert lockstep.score(X, y) == pytest.approx(reference.score(X, y))


def test_multimetric_callables_without_refit(regression):
    X, y = regression
    scoring = {"r2": "r2", "mae": make_scorer(mean_absolute_error,
                                              greater_is_better=False)}
    estimator = LinearRegressor(max_iter=5, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1]}
    lockstep = _fit_quietly(LockstepGridSearchCV(
        estimator, grid, cv=KFold(3), scoring=scoring, refit=False), X, y)
    reference = _fit_quietly(GridSearchCV(
        estimator, grid, cv=KFold(3), scoring=scoring, refit=False), X, y)
    assert_same_search(lockstep, reference)
    assert not hasattr(lockstep, "best_estimator_")
    with pytest.raises(ValueError, match="refit"):
        LockstepGridSearchCV(estimator, grid, scoring=scoring, refit="nope").fit(X, y)


def test_divergence_gets_error_score(regression):
    X, y = regression
    estimator = LinearRegressor(optimizer="sgd", max_iter=5, random_state=0,
                                on_divergence="raise")
    grid = {"learning_rate": [1e-2, 1e4]}
    search = LockstepGridSearchCV(estimator, grid, cv=3)
    with pytest.warns(FitFailedWarning, match="3 fits failed"):
        search.fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"][1])
    assert np.isfinite(search.cv_results_["mean_test_score"][0])
    assert search.best_params_ == {"learning_rate": 1e-2}
    assert all(c["status"] == "error" and c["n_divergences"] == 1
               for c in search.curves_[1])
    assert [sum(c["n_divergences"] for c in folds) for folds in search.curves_] == [0, 3]
    # the diverged member left its stack at once, long before max_iter
    assert all(c["n_iter"] <= 1 for c in search.curves_[1])

    search.set_params(error_score="raise")
    with pytest.raises(DivergenceError):
        _fit_quietly(search, X, y)


def test_curves_match_single_fits(digits):
    X, y = digits
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, random_state=0,
                              early_stopping=True)
    grid = {"learning_rate": [1e-3, 1e-2]}
    search = _fit_quietly(LockstepGridSearchCV(estimator, grid, cv=KFold(2)), X, y)
    assert len(search.curves_) == 2 and len(search.curves_[0]) == 2
    train = np.arange(100, 200)
    single = _fit_quietly(estimator.set_params(learning_rate=1e-2), X[train], y[train])
    curves = search.curves_[1][0]
    assert set(curves) == set(CURVE_KEYS)
    np.testing.assert_allclose(curves["loss_curve"], single.loss_curve_, atol=1e-12)
    np.testing.assert_allclose(curves["validation_scores"], single.validation_scores_)
    np.testing.assert_allclose(curves["learning_rate_curve"],
                               single.learning_rate_curve_)
    assert curves["n_iter"] == single.n_iter_


def test_sample_weight_and_n_jobs(regression):
    X, y = regression
    weights = np.linspace(0.5, 1.5, len(y))
    estimator = LinearRegressor(max_iter=5, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1], "fit_intercept": [True, False]}
    lockstep = _fit_quietly(LockstepGridSearchCV(estimator, grid, cv=3, n_jobs=2),
                            X, y, sample_weight=weights)
    reference = _fit_quietly(GridSearchCV(estimator, grid, cv=3), X, y,
                             sample_weight=weights)
    assert_same_search(lockstep, reference)
    with pytest.raises(ValueError, match="fit parameter"):
        LockstepGridSearchCV(estimator, grid).fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("estimator, grid", [
    (SVC(), {"C": [1.0]}),
    (Pipeline([("scale", StandardScaler()), ("svc", SVC())]), {"svc__C": [1.0]}),
    (Pipeline([("scale", StandardScaler()), ("clf", LogisticClassifier())]),
     {"clf": [SVC()]}),
])
def test_other_estimators_are_rejected(estimator, grid, digits):
    X, y = digits
    with pytest.raises(ValueError, match="GridSearchCV"):
        LockstepGridSearchCV(estimator, grid).fit(X, y)


def test_folds_train_on_rows_of_x_without_copying_it():
    # the stacks gather each fold's rows from X; only scoring copies a test fold
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 50))
    y = (X[:, 0] > 0).astype(int)
    search = LockstepGridSearchCV(
        LogisticClassifier(max_iter=2, tol=None, random_state=0),
        {"learning_rate": [1e-3, 1e-2, 1e-1]}, cv=2, refit=False)
    tracemalloc.start()
    try:
        search.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # a copy of the training fold alone would be half of X, with the test fold all of it
    assert peak < 0.8 * X.nbytes


def test_test_fold_with_a_class_unseen_in_training(digits):
    # the stacked scoring cannot encode the unseen label and falls back to
    # the estimator's own score, as GridSearchCV scores it
    X, y = digits
    y = y.copy()
    y[-20:] = 10
    estimator = LogisticClassifier(max_iter=5, random_state=0)
    grid = {"learning_rate": [1e-2, 1e-1]}
    lockstep = _fit_quietly(LockstepGridSearchCV(estimator, grid, cv=KFold(3)), X, y)
    reference = _fit_quietly(GridSearchCV(estimator, grid, cv=KFold(3)), X, y)
    assert_same_search(lockstep, reference)
