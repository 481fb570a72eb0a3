"""The training engine: gradients, stacking, penalties, clipping and divergence."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_regression
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr._engine import Stack
from sklr._losses import (
    BinaryCrossEntropy,
    Huber,
    MultinomialCrossEntropy,
    SquaredError,
)
from sklr._models import LinearModel, MLPModel
from sklr.exceptions import DivergenceError, DivergenceWarning


def numeric_gradient(objective, params, eps=1e-6):
    grads = []
    for param in params:
        grad = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + eps
            upper = objective()
            param[index] = saved - eps
            lower = objective()
            param[index] = saved
            grad[index] = (upper - lower) / (2 * eps)
        grads.append(grad)
    return grads


def make_targets(loss, rng, n_samples, n_outputs):
    if isinstance(loss, BinaryCrossEntropy):
        return rng.randint(0, 2, (n_samples, 1)).astype(float)
    if isinstance(loss, MultinomialCrossEntropy):
        return np.eye(n_outputs)[rng.randint(0, n_outputs, n_samples)]
    return rng.randn(n_samples, n_outputs)


LOSSES = [
    (SquaredError(), 2),
    (Huber(0.5), 2),
    (BinaryCrossEntropy(), 1),
    (MultinomialCrossEntropy(), 3),
]


def check_gradients(model, loss, n_outputs, n_models=2, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(7, model_n_features(model))
    Y = make_targets(loss, rng, 7, n_outputs)
    w = rng.rand(7)
    w /= w.sum()
    params, buffers = model.init_params(
        [np.random.RandomState(seed + k) for k in range(n_models)], np.float64)
    # perturb so that no parameter sits at a symmetric starting point
    for p in params:
        p += 0.3 * rng.randn(*p.shape)

    def objective():
        raw, _ = model.forward(params, [b.copy() for b in buffers], X, training=True,
                               rng=np.random.default_rng(0))
        return loss(raw, Y, w, gradient=False)[0].sum()

    raw, cache = model.forward(params, [b.copy() for b in buffers], X, training=True,
                               rng=np.random.default_rng(0))
    _, grad_raw = loss(raw, Y, w)
    analytic = model.backward(params, cache, grad_raw)
    numeric = numeric_gradient(objective, params)
    for a, n in zip(analytic, numeric):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7)


def model_n_features(model):
    return model.n_features if isinstance(model, LinearModel) else model.layer_sizes[0]


@pytest.mark.parametrize("loss, n_outputs", LOSSES)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_gradients(loss, n_outputs, fit_intercept):
    check_gradients(LinearModel(4, n_outputs, fit_intercept), loss, n_outputs)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_mlp_gradients(activation, batch_norm):
    for loss, n_outputs in LOSSES:
        model = MLPModel(4, n_outputs, (5, 3), activation=activation,
                         batch_norm=batch_norm)
        check_gradients(model, loss, n_outputs)


def test_mlp_gradients_with_dropout_masks():
    # with the masks fixed by a seeded generator, dropout is differentiable
    model = MLPModel(4, 2, (6,), activation="tanh", dropout=0.3)
    check_gradients(model, SquaredError(), 2)


def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:400]), y[:400]


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_stack_of_three_equals_single_fits(Estimator):
    X, y = digits()
    settings = [(1e-3, 1e-4), (3e-3, 1e-3), (1e-2, 0.0)]
    estimators = [
        Estimator(learning_rate=lr, alpha=alpha, random_state=0, max_iter=15,
                  **({"hidden_layer_sizes": (16,)} if Estimator is MLPClassifier
                     else {}))
        for lr, alpha in settings
    ]
    singles = [Estimator(**e.get_params()).fit(X, y) for e in estimators]
    plans = [e._plan(X, y) for e in estimators]
    stack = Stack.from_plans(plans)
    stack.train(plans[0].data, 15, horizon=15)
    stack.finalize()
    for k, single in enumerate(singles):
        params, _ = stack.member_params(k)
        for stacked, alone in zip(params, single._params):
            np.testing.assert_allclose(stacked, alone, rtol=1e-9, atol=1e-12)
        assert stack.records[k].loss_curve == pytest.approx(single.loss_curve_)


def test_l1_penalty_gives_exact_zeros():
    X, y = make_regression(n_samples=200, n_features=20, n_informative=3,
                           random_state=0)
    # alpha in the target's units (std about 120), as Lasso's
    est = LinearRegressor(penalty="l1", alpha=3.0, optimizer="sgd",
                          learning_rate=0.05, random_state=0).fit(X, y)
    assert np.sum(est.coef_ == 0) >= 10
    assert np.all(est.coef_[np.abs(est.coef_) > 0] != 0)


def test_clip_norm_bounds_the_first_update():
    X, y = make_regression(n_samples=50, n_features=5, random_state=0)
    est = LinearRegressor(optimizer="sgd", learning_rate=1.0, clip_norm=1e-3,
                          batch_size=50, max_iter=1, tol=None, alpha=0,
                          random_state=0).fit(X, y)
    step = np.sqrt(sum(np.sum(p**2) for p in est._params))
    assert step == pytest.approx(1e-3, rel=1e-6)


@pytest.mark.parametrize("Estimator", [LinearRegressor, LogisticClassifier,
                                       MLPRegressor, MLPClassifier])
@pytest.mark.parametrize("policy", ["backoff", "stop"])
def test_huge_learning_rate_recovers(Estimator, policy):
    X, y = digits()
    if Estimator in (LinearRegressor, MLPRegressor):
        y = y.astype(float)
    est = Estimator(learning_rate=1e3, optimizer="sgd", on_divergence=policy,
                    max_iter=5, random_state=0)
    with pytest.warns(DivergenceWarning, match="learning rate 1e\\+03"):
        est.fit(X, y)
    assert est.n_divergences_ >= 1
    for param in est._params:
        assert np.all(np.isfinite(param))
    assert np.all(np.isfinite(est.predict(X) if Estimator in (
        LinearRegressor, MLPRegressor) else est.predict_proba(X)))
    if policy == "backoff":
        assert est.learning_rate_ < 1e3
    assert all(np.isfinite(est.loss_curve_))


@pytest.mark.parametrize("Estimator", [LinearRegressor, MLPClassifier])
def test_huge_learning_rate_raises(Estimator):
    X, y = digits()
    est = Estimator(learning_rate=1e3, optimizer="sgd", on_divergence="raise",
                    max_iter=5, random_state=0)
    with pytest.raises(DivergenceError, match="learning rate 1e\\+03") as info:
        est.fit(X, y)
    assert isinstance(info.value, ArithmeticError)
    assert not hasattr(est, "coef_") and not hasattr(est, "coefs_")


def test_divergence_keeps_a_fitted_model_unchanged_on_raise():
    X, y = digits()
    est = LogisticClassifier(random_state=0, max_iter=5).fit(X, y)
    coef = est.coef_.copy()
    est.set_params(learning_rate=1e3, optimizer="sgd", on_divergence="raise")
    with pytest.raises(DivergenceError):
        est.fit(X, y)
    np.testing.assert_array_equal(est.coef_, coef)


def test_a_pickled_stack_trains_on_like_the_original():
    # searches send stacks to worker processes between rounds
    import pickle

    X, y = digits()
    estimators = [MLPClassifier(hidden_layer_sizes=(8,), learning_rate=lr,
                                random_state=0, max_iter=6, tol=None)
                  for lr in (1e-3, 1e-2)]
    plans = [e._plan(X, y) for e in estimators]
    data = plans[0].data
    stack = Stack.from_plans(plans)
    stack.train(data, 3, horizon=6)
    copy = pickle.loads(pickle.dumps(stack))
    for s in (stack, copy):
        s.train(data, 3, horizon=6)
        s.finalize()
    for k in range(2):
        for a, b in zip(stack.member_params(k)[0], copy.member_params(k)[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("sparse", [False, True])
def test_training_on_rows_equals_training_on_their_copy(sparse):
    import scipy.sparse as sp

    X, y = digits()
    rows = np.random.default_rng(0).permutation(len(X))[:250]
    X_in = sp.csr_matrix(X) if sparse else X
    est = LogisticClassifier(max_iter=4, tol=None, random_state=0)
    full = est._plan(X_in, y, rows=rows)
    copy = LogisticClassifier(**est.get_params())._plan(X_in[rows], y[rows])
    params = []
    for plan in (full, copy):
        stack = Stack.from_plans([plan])
        stack.train(plan.data, 4, horizon=4)
        stack.finalize()
        params.append(stack.member_params(0)[0])
    for a, b in zip(*params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
