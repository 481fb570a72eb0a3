"""Property: any input either trains to finite outputs or raises ValueError."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor

SPECIAL = st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -1e30, 1e-30, 0.0, 1e150])


@st.composite
def datasets(draw):
    n_samples = draw(st.integers(1, 12))
    n_features = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    values = st.one_of(st.floats(-1e3, 1e3, width=32), SPECIAL)
    X = draw(arrays(dtype, (n_samples, n_features), elements=values))
    if draw(st.booleans()):
        X[:, 0] = X[0, 0]  # a constant column
    if n_samples > 1 and draw(st.booleans()):
        X[-1] = X[0]  # a duplicated row
    y = draw(arrays(np.float64, n_samples, elements=st.one_of(
        st.floats(-1e3, 1e3), SPECIAL)))
    labels = draw(arrays(np.int64, n_samples, elements=st.integers(0, 2)))
    if draw(st.booleans()):
        labels = np.arange(n_samples) % 3  # one sample per class when few rows
    return X, y, labels


ESTIMATORS = [
    LinearRegressor(max_iter=3),
    LogisticClassifier(max_iter=3),
    MLPRegressor(hidden_layer_sizes=(3,), max_iter=3),
    MLPClassifier(hidden_layer_sizes=(3,), max_iter=3),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), learning_rate=st.sampled_from([1e-3, 1.0, 1e3]))
def test_fit_predict_is_finite_or_value_error(estimator, data, learning_rate):
    X, y, labels = data
    target = labels if type(estimator).__name__.endswith("Classifier") else y
    est = estimator.set_params(learning_rate=learning_rate, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(X, target)
        except ValueError:
            return
        for param in est._params:
            assert np.all(np.isfinite(param))
        try:
            output = est.predict(X)
        except ValueError:
            return
    assert np.all(np.isfinite(output.astype(float))) if output.dtype.kind == "f" \
        else len(output) == len(X)
    if hasattr(est, "predict_proba"):
        assert np.all(np.isfinite(est.predict_proba(X)))
