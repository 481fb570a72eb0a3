"""Iterate averaging (``average=``): the fitted model is the running mean of the iterates."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr._engine import Stack
from sklr.model_selection import LockstepGridSearchCV


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _iterates(estimator, X, y, n_epochs):
    """Train ``estimator``'s plan as a stack of one, keeping every iterate."""
    plan = estimator._plan(X, y)
    stack = Stack.from_plans([plan])
    iterates = []

    def keep(stack, losses, rates):
        iterates.append([p.copy() for p in stack.state.params])

    stack.train(plan.data, n_epochs, horizon=n_epochs, stopping=False, on_step=keep)
    stack.finalize()
    return stack, iterates


@pytest.mark.parametrize("average, first", [(True, 0), (25, 2)])
def test_average_is_the_running_mean_of_the_iterates(diabetes, average, first):
    """``first``: index of the first iterate averaged (batches of 10: the
    third step is the first after which 25 samples have been seen)."""
    X, y = diabetes
    est = LinearRegressor(optimizer="sgd", learning_rate=0.05, batch_size=10,
                          average=average, random_state=0)
    stack, iterates = _iterates(est, X[:100], y[:100], 2)
    averaged, _ = stack.member_params(0)
    for index, param in enumerate(averaged):
        expected = np.mean([step[index] for step in iterates[first:]], axis=0)
        np.testing.assert_allclose(param, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("Estimator", [LinearRegressor, MLPRegressor])
def test_fitted_parameters_and_predictions_are_the_averaged_ones(diabetes, Estimator):
    X, y = diabetes
    extra = {"hidden_layer_sizes": (8,)} if Estimator is MLPRegressor else {}
    est = Estimator(optimizer="sgd", learning_rate=0.01, average=True, max_iter=3,
                    tol=None, random_state=0, **extra)
    stack, iterates = _iterates(est, X, y, 3)
    est.fit(X, y)
    for index, param in enumerate(est._params):
        expected = np.mean([step[index] for step in iterates], axis=0)
        np.testing.assert_allclose(param, expected, rtol=1e-10, atol=1e-12)
    plain = Estimator(**{**est.get_params(), "average": False}).fit(X, y)
    assert not np.allclose(est.predict(X), plain.predict(X))


def test_partial_fit_continues_the_average(diabetes):
    X, y = diabetes
    settings = dict(optimizer="sgd", learning_rate=0.01, average=True, shuffle=False,
                    random_state=0)
    incremental = LinearRegressor(**settings)
    for _ in range(3):
        incremental.partial_fit(X, y)
    whole = LinearRegressor(max_iter=3, tol=None, **settings).fit(X, y)
    np.testing.assert_allclose(incremental.coef_, whole.coef_, rtol=1e-12)
    np.testing.assert_allclose(incremental.predict(X), whole.predict(X), rtol=1e-12)


def test_validation_monitors_the_averaged_model(diabetes):
    X, y = diabetes
    est = LinearRegressor(optimizer="sgd", learning_rate=0.01, average=True,
                          max_iter=20, tol=None, random_state=0)
    est.fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    # the best epoch's weights are kept: their score is the best one recorded
    assert est.score(X[300:], y[300:]) == pytest.approx(est.best_validation_score_,
                                                        rel=1e-12)


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_lockstep_with_averaging_equals_grid_search(Estimator):
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    extra = {"hidden_layer_sizes": (8,)} if Estimator is MLPClassifier else {}
    estimator = Estimator(max_iter=5, tol=None, random_state=0, **extra)
    grid = {"average": [False, True, 50], "learning_rate": [0.003, 0.03]}
    lockstep = LockstepGridSearchCV(estimator, grid, cv=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    np.testing.assert_allclose(lockstep.cv_results_["mean_test_score"],
                               reference.cv_results_["mean_test_score"], atol=1e-12)


@pytest.mark.parametrize("average", [0, -1, 1.5, "yes"])
def test_invalid_average(diabetes, average):
    X, y = diabetes
    with pytest.raises(ValueError, match="average"):
        LinearRegressor(average=average).fit(X, y)


@pytest.mark.parametrize("optimizer", ["schedule_free_sgd", "schedule_free_adamw"])
def test_averaging_is_refused_for_optimizers_that_average_themselves(diabetes,
                                                                      optimizer):
    X, y = diabetes
    with pytest.raises(ValueError, match="average=True cannot be combined"):
        LinearRegressor(optimizer=optimizer, average=True).fit(X, y)


def test_training_goes_on_from_the_average_early_stopping_kept():
    # early stopping keeps the best averaged weights; the running average
    # partial_fit continues must be those, not the last epoch's average
    X, y = make_classification(n_samples=300, n_features=8, random_state=0)
    model = MLPClassifier(hidden_layer_sizes=(8,), learning_rate=0.05, average=True,
                          early_stopping=True, max_iter=30, tol=None,
                          random_state=0).fit(X, y)
    assert np.argmax(model.validation_scores_) < model.n_iter_ - 1
    for fitted, average in zip(model._params, model._record.state.average):
        np.testing.assert_array_equal(average, fitted)
    kept = model.predict_proba(X)
    # a negligible rate: what partial_fit starts from is what it returns
    model.set_params(learning_rate=1e-12).partial_fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), kept, rtol=1e-9)
