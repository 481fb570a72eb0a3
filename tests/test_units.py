"""The objective in the target's units: penalties, Huber's epsilon and reported losses.

Regressors standardize targets inside as a preconditioner only; the optimum
and every reported loss are those of the problem in the user's units.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import make_regression
from sklearn.linear_model import ElasticNet, Lasso
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, MLPRegressor
from sklr.optimizers import RMSprop


@pytest.fixture(scope="module")
def prices():
    """A regression target with mean 3,000 and standard deviation 250."""
    X, y = make_regression(n_samples=500, n_features=20, n_informative=5, noise=10,
                           random_state=0)
    X = StandardScaler().fit_transform(X)
    return X, 3000 + 250 * (y - y.mean()) / y.std()


def objective(X, y, coef, intercept, alpha, l1_ratio):
    residual = y - X @ coef - intercept
    return (0.5 * np.mean(residual**2) + alpha * l1_ratio * np.abs(coef).sum()
            + 0.5 * alpha * (1 - l1_ratio) * coef @ coef)


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return estimator.fit(X, y)


@pytest.mark.parametrize("alpha", [1.0, 10.0, 50.0])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_l1_solves_lasso_in_target_units(prices, alpha, optimizer):
    X, y = prices
    lasso = Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    settings = ({"learning_rate": 0.5, "batch_size": 500, "max_iter": 1000}
                if optimizer == "sgd" else
                {"learning_rate": 0.01, "schedule": "cosine", "max_iter": 200})
    est = _fit(LinearRegressor(penalty="l1", alpha=alpha, optimizer=optimizer,
                               tol=None, random_state=0, **settings), X, y)
    reference = objective(X, y, lasso.coef_, lasso.intercept_, alpha, 1.0)
    reached = objective(X, y, est.coef_, est.intercept_[0], alpha, 1.0)
    assert reached <= reference * 1.002
    np.testing.assert_array_equal(est.coef_ == 0, lasso.coef_ == 0)


@pytest.mark.parametrize("optimizer", [
    "momentum", "nesterov", RMSprop(momentum=0.5), RMSprop(momentum=0.9)])
def test_l1_with_momentum_solves_lasso(prices, optimizer):
    """A momentum buffer amplifies the steps by up to 1 / (1 - momentum): the
    proximal step has to shrink as much, or it solves the Lasso of a
    (1 - momentum) times smaller alpha (at 0.9, 13 non-zeros instead of 5)."""
    X, y = prices
    lasso = Lasso(alpha=10.0, tol=1e-12, max_iter=100_000).fit(X, y)
    est = _fit(LinearRegressor(penalty="l1", alpha=10.0, optimizer=optimizer,
                               learning_rate=0.01, schedule="cosine",
                               batch_size=500, max_iter=1000, tol=None,
                               random_state=0), X, y)
    reference = objective(X, y, lasso.coef_, lasso.intercept_, 10.0, 1.0)
    assert objective(X, y, est.coef_, est.intercept_[0], 10.0, 1.0) <= reference * 1.002
    np.testing.assert_array_equal(est.coef_ == 0, lasso.coef_ == 0)


def test_elasticnet_solves_elasticnet_in_target_units(prices):
    X, y = prices
    reference_model = ElasticNet(alpha=5.0, l1_ratio=0.5, tol=1e-12,
                                 max_iter=100_000).fit(X, y)
    est = _fit(LinearRegressor(penalty="elasticnet", alpha=5.0, l1_ratio=0.5,
                               schedule="cosine", max_iter=300, tol=None,
                               random_state=0), X, y)
    reference = objective(X, y, reference_model.coef_, reference_model.intercept_,
                          5.0, 0.5)
    assert objective(X, y, est.coef_, est.intercept_[0], 5.0, 0.5) <= reference * 1.002


def test_l1_on_several_targets_of_different_scales_solves_each_lasso(prices):
    X, y = prices
    Y = np.column_stack([y, (y - 3000) / 250])
    est = _fit(LinearRegressor(penalty="l1", alpha=2.0, optimizer="sgd",
                               learning_rate=0.5, batch_size=500, max_iter=1500,
                               tol=None, random_state=0), X, Y)
    for column in range(2):
        lasso = Lasso(alpha=2.0, tol=1e-12, max_iter=100_000).fit(X, Y[:, column])
        reference = objective(X, Y[:, column], lasso.coef_, lasso.intercept_, 2.0, 1.0)
        reached = objective(X, Y[:, column], est.coef_[column],
                            est.intercept_[column], 2.0, 1.0)
        assert reached <= reference * 1.002 + 1e-12


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_huber_epsilon_is_in_target_units(prices, optimizer):
    X, y = prices
    y = y.copy()
    y[:25] += 3000 * np.random.default_rng(0).standard_normal(25)
    epsilon, alpha = 100.0, 1e-4

    def huber(params):
        residual = np.abs(y - X @ params[:-1] - params[-1])
        per_sample = np.where(residual <= epsilon, 0.5 * residual**2,
                              epsilon * residual - 0.5 * epsilon**2)
        return per_sample.mean() + 0.5 * alpha * params[:-1] @ params[:-1]

    reference = minimize(huber, np.r_[np.zeros(X.shape[1]), np.median(y)],
                         method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-10,
                                                     "maxiter": 10_000})
    settings = ({"learning_rate": 0.5, "batch_size": 500, "max_iter": 1000}
                if optimizer == "sgd" else {"learning_rate": 0.01, "max_iter": 300})
    est = _fit(LinearRegressor(loss="huber", epsilon=epsilon, alpha=alpha,
                               optimizer=optimizer, schedule="cosine", tol=None,
                               random_state=0, **settings), X, y)
    reached = huber(np.r_[est.coef_, est.intercept_])
    assert reached <= reference.fun * 1.01
    # the loss reported is the objective, in the target's units
    assert est.loss_curve_[-1] == pytest.approx(reached, rel=0.01)


def test_loss_curve_is_half_the_mean_squared_error_in_target_units(prices):
    X, y = prices
    est = LinearRegressor(optimizer="sgd", learning_rate=0.5, batch_size=500,
                          alpha=0.0, max_iter=500, random_state=0).fit(X, y)
    half_mse = 0.5 * np.mean((y - est.predict(X)) ** 2)
    assert est.loss_curve_[-1] == pytest.approx(half_mse, rel=0.05)
    assert est.best_loss_ == pytest.approx(half_mse, rel=0.05)
    # a target 1000 times larger reports losses a million times larger
    large = LinearRegressor(optimizer="sgd", learning_rate=0.5, batch_size=500,
                            alpha=0.0, max_iter=500, random_state=0).fit(X, 1000 * y)
    assert large.loss_curve_[-1] == pytest.approx(1e6 * est.loss_curve_[-1], rel=1e-6)
    np.testing.assert_allclose(large.coef_, 1000 * est.coef_, rtol=1e-6)


def test_validation_losses_are_in_target_units(prices):
    X, y = prices
    est = LinearRegressor(optimizer="sgd", learning_rate=0.5, batch_size=500,
                          alpha=0.0, max_iter=100, tol=None, random_state=0)
    est.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    half_mse = 0.5 * np.mean((y[400:] - est.predict(X[400:])) ** 2)
    assert est.validation_loss_curve_[-1] == pytest.approx(half_mse, rel=1e-6)


def test_mlp_regressor_takes_huber_loss_and_epsilon(prices):
    X, y = prices
    assert MLPRegressor().get_params()["loss"] == "squared_error"
    est = MLPRegressor(loss="huber", epsilon=250.0, hidden_layer_sizes=(8,),
                       learning_rate=0.01, max_iter=50, tol=None,
                       random_state=0).fit(X, y)
    assert est.score(X, y) > 0.5
    with pytest.raises(ValueError, match="epsilon"):
        MLPRegressor(loss="huber", epsilon=0.0).fit(X, y)


def test_mlp_objective_is_in_target_units(prices):
    """The fitted MLP is a minimum of the objective written in the user's units,
    with the penalty on the user-visible ``coefs_``: L-BFGS started there finds
    nothing better. (With the penalty in standardized units it would, by far.)"""
    X, y = prices
    alpha = 50.0
    est = _fit(MLPRegressor(hidden_layer_sizes=(4,), activation="tanh", alpha=alpha,
                            optimizer="adam", learning_rate=0.01, schedule="cosine",
                            batch_size=500, max_iter=3000, tol=None,
                            random_state=0), X, y)
    shapes = [c.shape for c in est.coefs_] + [b.shape for b in est.intercepts_]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(flat):
        arrays = np.split(flat, np.cumsum(sizes)[:-1])
        return [a.reshape(s) for a, s in zip(arrays, shapes)]

    def user_objective(flat):
        W1, W2, b1, b2 = unpack(flat)
        prediction = (np.tanh(X @ W1 + b1) @ W2 + b2)[:, 0]
        return (0.5 * np.mean((y - prediction) ** 2)
                + 0.5 * alpha * (np.sum(W1**2) + np.sum(W2**2)))

    start = np.concatenate([a.ravel() for a in est.coefs_ + est.intercepts_])
    fitted = user_objective(start)
    best = minimize(user_objective, start, method="L-BFGS-B").fun
    assert fitted <= best * 1.001
    assert est.loss_curve_[-1] == pytest.approx(fitted, rel=1e-3)
