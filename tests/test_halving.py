"""HalvingEpochSearchCV: resources, resuming survivors, attributes."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sklr import LogisticClassifier, MLPClassifier
from sklr.model_selection import HalvingEpochSearchCV, learning_rate_grid


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:240] / 16, y[:240]


def _search(estimator, grid, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HalvingEpochSearchCV(estimator, grid, cv=3, **kwargs).fit(X, y)


def _single_fit(estimator, X, y, fold, **params):
    train, test = list(StratifiedKFold(3).split(X, y))[fold]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = estimator.set_params(**params).fit(X[train], y[train])
    return fitted, fitted.score(X[test], y[test])


def test_survivor_resumes_as_one_long_run(digits):
    """A survivor trained 1, then 3, then 9 epochs equals one 9-epoch fit."""
    X, y = digits
    estimator = MLPClassifier(hidden_layer_sizes=(16,), max_iter=9, tol=None,
                              schedule="cosine", random_state=0)
    grid = {"learning_rate": learning_rate_grid(1e-3, 1e-1, 9)}
    search = _search(estimator, grid, X, y)
    assert search.n_resources_ == [1, 3, 9]
    assert search.n_candidates_ == [9, 3, 1]
    lr = search.best_params_["learning_rate"]
    for fold in range(3):
        single, score = _single_fit(estimator, X, y, fold, learning_rate=lr)
        rows = np.flatnonzero(
            search.cv_results_["param_learning_rate"].data == lr)
        assert search.cv_results_["iter"][rows].tolist() == [0, 1, 2]
        for row, epochs in zip(rows, [1, 3, 9], strict=True):
            # the cosine schedule runs over the full budget, as in the long run
            np.testing.assert_allclose(search.curves_[row][fold]["loss_curve"],
                                       single.loss_curve_[:epochs], atol=1e-12)
        assert search.cv_results_[f"split{fold}_test_score"][rows[-1]] == (
            pytest.approx(score, abs=1e-12))
        np.testing.assert_allclose(
            search.curves_[rows[-1]][fold]["learning_rate_curve"],
            single.learning_rate_curve_)


def test_attributes_and_refit(digits):
    X, y = digits
    estimator = LogisticClassifier(max_iter=50, random_state=0)
    grid = {"learning_rate": [1e-3, 1e-2, 1e-1], "schedule": ["constant", "cosine"]}
    search = _search(estimator, grid, X, y, factor=2, min_resources=3,
                     max_resources=12)
    assert search.min_resources_ == 3 and search.max_resources_ == 12
    assert search.n_resources_ == [3, 6, 12]
    assert search.n_candidates_ == [6, 3, 2]
    assert search.n_iterations_ == 3
    assert search.n_remaining_candidates_ == 1
    assert search.cv_results_["n_resources"].tolist() == [3] * 6 + [6] * 3 + [12] * 2
    assert len(search.curves_) == len(search.cv_results_["params"])
    assert search.cv_results_["iter"][search.best_index_] == 2
    assert "max_iter" not in search.best_params_
    assert search.best_estimator_.max_iter == 12
    assert search.best_estimator_.n_iter_ <= 12
    assert search.best_score_ == search.cv_results_["mean_test_score"][
        search.best_index_]
    assert search.predict(X).shape == y.shape
    # survivors of a round are the best of that round
    first = search.cv_results_["mean_test_score"][:6]
    survivors = [p for p, i in zip(search.cv_results_["params"],
                                   search.cv_results_["iter"], strict=True) if i == 1]
    best3 = [search.cv_results_["params"][i] for i in np.argsort(-first, kind="stable")[:3]]
    assert sorted(map(str, survivors)) == sorted(map(str, best3))


def test_pipeline(digits):
    X, y = digits
    pipe = Pipeline([("scale", StandardScaler()),
                     ("clf", LogisticClassifier(max_iter=9, random_state=0))])
    search = _search(pipe, {"clf__learning_rate": [1e-3, 1e-2, 1e-1]}, X, y)
    assert search.n_resources_ == [3, 9]
    assert isinstance(search.best_estimator_, Pipeline)
    assert search.best_estimator_[-1].max_iter == 9


@pytest.mark.parametrize("estimator, grid, kwargs, match", [
    (SVC(), {"C": [1.0]}, {}, "GridSearchCV"),
    (LogisticClassifier(), {"max_iter": [5, 10]}, {}, "max_iter"),
    (LogisticClassifier(), {"learning_rate": [0.1]}, {"scoring": ["accuracy"]},
     "single metric"),
    (LogisticClassifier(max_iter=5), {"learning_rate": [0.1]},
     {"min_resources": 10}, "min_resources"),
])
def test_invalid(estimator, grid, kwargs, match, digits):
    X, y = digits
    with pytest.raises(ValueError, match=match):
        HalvingEpochSearchCV(estimator, grid, **kwargs).fit(X, y)
