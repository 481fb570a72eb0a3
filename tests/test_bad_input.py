"""Bad input gets a clear ValueError and leaves a fitted estimator unchanged."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.optimizers import SGD, Adam
from sklr.schedules import StepDecay, Warmup

ALL = [LinearRegressor, LogisticClassifier, MLPRegressor, MLPClassifier]


@pytest.fixture(scope="module")
def data():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fitted(Estimator, X, y):
    return Estimator(max_iter=3, random_state=0).fit(X, y)


BAD_PARAMS = [
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"optimizer": "adamax"}, "optimizer"),
    ({"schedule": "linear"}, "schedule"),
    ({"batch_size": 0}, "batch_size"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"validation_fraction": 0.0}, "validation_fraction"),
    ({"max_iter": 0}, "max_iter"),
    ({"on_divergence": "ignore"}, "on_divergence"),
    ({"alpha": -1.0}, "alpha"),
    ({"clip_norm": 0.0}, "clip_norm"),
    ({"optimizer": Adam(beta_1=1.5)}, "beta_1"),
    ({"optimizer": SGD(momentum=-0.1)}, "momentum"),
    ({"schedule": StepDecay(gamma=2.0)}, "gamma"),
    ({"schedule": Warmup(StepDecay(step_size=-1))}, "step_size"),
]


@pytest.mark.parametrize("Estimator", ALL)
@pytest.mark.parametrize("params, name", BAD_PARAMS)
def test_invalid_hyperparameters_name_the_problem(Estimator, params, name, data):
    X, y = data
    est = fitted(Estimator, X, y)
    before = pickle.dumps(est)
    original = est.get_params()
    est.set_params(**params)
    with pytest.raises(ValueError, match=name):
        est.fit(X, y)
    est.set_params(**{k: original[k] for k in params})
    assert pickle.dumps(est) == before


@pytest.mark.parametrize("Estimator", [MLPRegressor, MLPClassifier])
@pytest.mark.parametrize("sizes", [(0,), (10, -1), (), (2.5,)])
def test_invalid_hidden_layer_sizes(Estimator, sizes, data):
    X, y = data
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Estimator(hidden_layer_sizes=sizes).fit(X, y)


def bad_data_cases(X, y):
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    X_inf = X.copy()
    X_inf[1, 1] = np.inf
    y_nan = y.astype(float)
    y_nan[2] = np.nan
    X_text = X.astype(object)
    X_text[0, 0] = "abc"
    return [
        ("NaN in X", X_nan, y, "NaN"),
        ("inf in X", X_inf, y, "infinity"),
        ("NaN in y", X, y_nan, "NaN|Unknown label type"),
        ("empty X", X[:0], y[:0], "0 sample"),
        ("strings in X", X_text, y, "could not convert|numeric"),
        ("wrong length y", X, y[:-1], "inconsistent numbers of samples"),
        ("too large values", X * 1e200, y, "too large"),
    ]


@pytest.mark.parametrize("Estimator", ALL)
def test_bad_data_is_rejected_and_model_kept(Estimator, data):
    X, y = data
    est = fitted(Estimator, X, y)
    before = pickle.dumps(est)
    for label, X_bad, y_bad, message in bad_data_cases(X, y):
        with pytest.raises(ValueError, match=message):
            est.fit(X_bad, y_bad)
        assert pickle.dumps(est) == before, label


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_single_class_is_rejected(Estimator, data):
    X, y = data
    est = fitted(Estimator, X, y)
    before = pickle.dumps(est)
    with pytest.raises(ValueError, match="only one class"):
        est.fit(X[y == 0], y[y == 0])
    assert pickle.dumps(est) == before


@pytest.mark.parametrize("Estimator", ALL)
def test_wrong_number_of_features_at_predict(Estimator, data):
    X, y = data
    est = fitted(Estimator, X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        est.predict(np.full_like(X, np.nan))


def test_warm_start_with_other_features_keeps_model(data):
    X, y = data
    est = LogisticClassifier(warm_start=True, max_iter=3).fit(X, y)
    before = pickle.dumps(est)
    with pytest.raises(ValueError, match="features"):
        est.fit(X[:, :2], y)
    assert pickle.dumps(est) == before


def test_changing_the_structure_under_warm_start(data):
    X, y = data
    est = MLPClassifier(warm_start=True, max_iter=3, hidden_layer_sizes=(4,)).fit(X, y)
    est.set_params(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="structure"):
        est.fit(X, y)


def test_partial_fit_unknown_label(data):
    X, y = data
    est = LogisticClassifier().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not seen"):
        est.partial_fit(X, y + 5)


@pytest.mark.parametrize("classes, match", [
    ([0, 1, np.nan], "classes contains NaN"),
    ([[0, 1]], "1-D list of labels"),
])
def test_partial_fit_checks_its_classes(classes, match):
    X = np.random.RandomState(0).randn(20, 2)
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match=match):
        LogisticClassifier().partial_fit(X, y, classes=classes)


def test_partial_fit_after_fit_names_the_fitted_classes():
    X = np.random.RandomState(0).randn(20, 2)
    y = np.arange(20) % 2
    est = LogisticClassifier(max_iter=2, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="the classes the estimator was fitted with"):
        est.partial_fit(X, y, classes=[0, 1, 2])
