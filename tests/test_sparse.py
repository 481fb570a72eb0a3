"""Sparse input: exact plain SGD, lazy adaptive optimizers, stacks, MLPs and searches.

A linear model's step on a CSR minibatch touches only the rows of the
coefficients that belong to the minibatch's non-zero columns (``_LazyRows``
in ``sklr/_engine.py``). Plain SGD stays exact (the dense result); the other
optimizers follow the lazy rule written out in ``lazy_reference`` below, as
the user guide states it.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr._engine import Stack
from sklr.model_selection import LockstepGridSearchCV
from sklr.optimizers import OPTIMIZER_ALIASES, SGD

RTOL = 1e-8
# entries that the L1 penalty drives to zero differ by rounding only
ATOL = 1e-12


def sparse_data(n_samples=240, n_features=60, n_classes=2, density=0.08, seed=0):
    """CSR features, and labels of ``n_classes`` classes from a linear rule."""
    rng = np.random.default_rng(seed)
    X = sp.random(n_samples, n_features, density=density, format="csr",
                  random_state=rng, data_rvs=rng.standard_normal)
    scores = X @ rng.standard_normal((n_features, n_classes))
    scores += 0.1 * rng.standard_normal(scores.shape)
    y = scores.argmax(axis=1) if n_classes > 2 else (scores[:, 0] > 0).astype(int)
    return X, y, scores


@pytest.fixture(scope="module")
def binary():
    return sparse_data()[:2]


@pytest.fixture(scope="module")
def multiclass():
    return sparse_data(n_classes=4)[:2]


@pytest.fixture(scope="module")
def regression():
    # two targets of different scales: per-output penalty weights
    X, _, scores = sparse_data(n_classes=2)
    return X, scores * [1.0, 2.0] + [3.0, -1.0]


def assert_same_params(first, second, rtol=RTOL, atol=ATOL):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def fit_quietly(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y, **fit_params)


# ------------------------------------------------------- plain SGD is exact
PENALTIES = {
    "l2": dict(penalty="l2", alpha=0.01),
    "l1": dict(penalty="l1", alpha=0.02),
    "elasticnet": dict(penalty="elasticnet", alpha=0.01, l1_ratio=0.4),
    "none": dict(penalty=None),
}


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_sparse_sgd_equals_dense(task, penalty, request):
    X, y = request.getfixturevalue(task)
    Estimator = LinearRegressor if task == "regression" else LogisticClassifier
    params = dict(optimizer="sgd", learning_rate=0.05, batch_size=16, max_iter=4,
                  tol=None, random_state=0, **PENALTIES[penalty])
    on_sparse = fit_quietly(Estimator(**params), X, y)
    on_dense = fit_quietly(Estimator(**params), X.toarray(), y)
    assert_same_params(on_sparse._params, on_dense._params)
    np.testing.assert_allclose(on_sparse.coef_, on_dense.coef_, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(on_sparse.intercept_, on_dense.intercept_, rtol=RTOL)
    assert on_sparse.loss_curve_ == pytest.approx(on_dense.loss_curve_, rel=RTOL)
    if penalty == "l1":
        assert (on_sparse.coef_ == 0).sum() == (on_dense.coef_ == 0).sum() > 0


@pytest.mark.parametrize("settings", [
    dict(average=True, alpha=0.01),
    dict(average=50, alpha=0.01),
    dict(fit_intercept=False, penalty="elasticnet", alpha=0.01),
    # 1 - learning_rate * alpha is 0 or negative: the scale restarts every step
    dict(learning_rate=0.5, alpha=2.0),
    dict(learning_rate=0.5, alpha=3.0, penalty="elasticnet", l1_ratio=0.5),
    # with no L2 penalty, clipping the touched entries clips the whole gradient
    dict(penalty="l1", alpha=0.003, clip_norm=0.05),
], ids=["average", "average-from-50", "no-intercept", "restart", "restart-l1",
        "clip-l1"])
def test_sparse_sgd_equals_dense_settings(multiclass, settings):
    X, y = multiclass
    params = dict(optimizer="sgd", learning_rate=0.05, batch_size=16, max_iter=3,
                  tol=None, random_state=0)
    params.update(settings)
    on_sparse = fit_quietly(LogisticClassifier(**params), X, y)
    on_dense = fit_quietly(LogisticClassifier(**params), X.toarray(), y)
    assert_same_params(on_sparse._params, on_dense._params)


def test_sparse_sgd_continues_and_validates_like_dense(regression):
    X, y = regression
    params = dict(optimizer="sgd", learning_rate=0.05, batch_size=16, alpha=0.01,
                  random_state=0)
    fits = []
    for X_in in (X, X.toarray()):
        incremental = LinearRegressor(**params)
        for _ in range(2):
            incremental.partial_fit(X_in[:200], y[:200])
        monitored = fit_quietly(LinearRegressor(max_iter=5, tol=None, **params),
                                X_in[:200], y[:200], X_val=X_in[200:], y_val=y[200:])
        fits.append((incremental, monitored))
    for on_sparse, on_dense in zip(*fits):
        assert_same_params(on_sparse._params, on_dense._params)
    assert fits[0][1].validation_scores_ == pytest.approx(fits[1][1].validation_scores_,
                                                          rel=RTOL)


def test_sparse_sgd_auto_rate_and_divergence_like_dense(binary):
    # the range test watches every step (on_step) and a huge rate backs off:
    # both read the parameters mid-epoch
    X, y = binary
    for params in (dict(learning_rate="auto", max_iter=20),
                   dict(learning_rate=1e4, max_iter=3)):
        fits = [fit_quietly(LogisticClassifier(optimizer="sgd", alpha=0.01,
                                               batch_size=16, tol=None,
                                               random_state=0, **params), X_in, y)
                for X_in in (X, X.toarray())]
        assert fits[0].learning_rate_ == fits[1].learning_rate_
        assert fits[0].n_divergences_ == fits[1].n_divergences_
        assert_same_params(fits[0]._params, fits[1]._params)
    # the huge rate diverged and backed off three times
    assert fits[0].n_divergences_ == 3


def test_float32_stays_float32(binary):
    X, y = binary
    params = dict(optimizer="sgd", penalty="elasticnet", alpha=0.01, batch_size=16,
                  max_iter=3, tol=None, random_state=0)
    single = fit_quietly(LogisticClassifier(**params), X.astype(np.float32), y)
    double = fit_quietly(LogisticClassifier(**params), X, y)
    assert all(p.dtype == np.float32 for p in single._params)
    assert single.decision_function(X.astype(np.float32)).dtype == np.float32
    assert_same_params([p.astype(np.float64) for p in single._params],
                       double._params, rtol=1e-4, atol=1e-5)


# ------------------------------------------- adaptive optimizers are lazy
# The documented rule, one minibatch at a time: the rows of W of the
# minibatch's non-zero columns ("touched") first catch up the penalty of the
# steps since they were last brought up to date: times exp(-alpha_l2 * c *
# L), then soft-thresholded by alpha_l1 * c * L, L the sum of those steps'
# learning rates and c the row's step-size factor (its preconditioner, from
# its state at the step count so far). Then they and the intercepts take the
# dense step (gradient plus the L2 term, clipping of their gradient, the
# optimizer's update of them and their state, the L1 soft-threshold); the
# other rows and their state stay as they are. At the end of every epoch,
# every row catches up. The step count t counts every step.
def momentum_rule(mu, nesterov=False):
    def update(w, g, state, lr, t):
        v = state.setdefault("v", np.zeros_like(w))
        v[:] = mu * v + g
        w -= lr * (g + mu * v if nesterov else v)
        return update.factor(state, t)
    # the velocity settles at g / (1 - mu): the step's gain
    update.factor = lambda state, t: 1 / (1 - mu)
    return update


def adagrad_rule(eps=1e-10):
    def update(w, g, state, lr, t):
        s = state.setdefault("s", np.zeros_like(w))
        s += g**2
        w -= lr * g / (np.sqrt(s) + eps)
        return update.factor(state, t)
    update.factor = lambda state, t: 1 / (np.sqrt(state["s"]) + eps)
    return update


def rmsprop_rule(rho=0.9, eps=1e-8, mu=0.0):
    def update(w, g, state, lr, t):
        sq = state.setdefault("sq", np.zeros_like(w))
        buffer = state.setdefault("buffer", np.zeros_like(w))
        sq[:] = rho * sq + (1 - rho) * g**2
        buffer[:] = mu * buffer + g / (np.sqrt(sq) + eps)
        w -= lr * buffer
        return update.factor(state, t)
    update.factor = lambda state, t: 1 / ((np.sqrt(state["sq"]) + eps) * (1 - mu))
    return update


def adam_rule(beta_1=0.9, beta_2=0.999, eps=1e-8, weight_decay=0.0):
    def update(w, g, state, lr, t):
        m = state.setdefault("m", np.zeros_like(w))
        v = state.setdefault("v", np.zeros_like(w))
        w *= 1 - lr * weight_decay
        m[:] = beta_1 * m + (1 - beta_1) * g
        v[:] = beta_2 * v + (1 - beta_2) * g**2
        w -= lr * m / (1 - beta_1**t) * update.factor(state, t)
        return update.factor(state, t)
    update.factor = lambda state, t: 1 / (np.sqrt(state["v"] / (1 - beta_2**t)) + eps)
    return update


def plain_rule(w, g, state, lr, t):
    w -= lr * g
    return 1.0


plain_rule.factor = lambda state, t: 1.0


def lazy_reference(X, y, rule, n_classes, learning_rate, batch_size, n_epochs,
                   alpha_l2=0.0, alpha_l1=0.0, clip_norm=None, average=False):
    """Minibatch training of a logistic model by the lazy rule, in order;
    with ``average``, the running mean of the iterates instead."""
    n_samples, n_features = X.shape
    n_outputs = 1 if n_classes == 2 else n_classes
    Y = y[:, None].astype(float) if n_classes == 2 else np.eye(n_classes)[y]
    # all parameters of one coordinate (row of W, or the intercepts) together
    W, b = np.zeros((n_features, n_outputs)), np.zeros(n_outputs)
    states = {}
    t = 0
    W_mean, b_mean = W.copy(), b.copy()
    # the sum of the learning rates so far, and its value when each row of W
    # was last brought up to date
    rates, caught_up = 0.0, np.zeros(n_features)

    def catch_up(rows):
        entries = (rows[:, None] * n_outputs + np.arange(n_outputs)).ravel()
        c = rule.factor({key: value[entries] for key, value in states.items()}, t)
        c = np.broadcast_to(c, entries.shape).reshape(-1, n_outputs)
        pending = c * (rates - caught_up[rows])[:, None]
        w = W[rows] * np.exp(-alpha_l2 * pending)
        W[rows] = np.sign(w) * np.maximum(np.abs(w) - alpha_l1 * pending, 0)
        caught_up[rows] = rates

    for _ in range(n_epochs):
        for start in range(0, n_samples, batch_size):
            Xb, Yb = X[start:start + batch_size], Y[start:start + batch_size]
            touched = np.unique(Xb.indices)
            if t:
                catch_up(touched)
            raw = Xb @ W + b
            if n_classes == 2:
                delta = 1 / (1 + np.exp(-raw)) - Yb
            else:
                probability = np.exp(raw - raw.max(axis=1, keepdims=True))
                delta = probability / probability.sum(axis=1, keepdims=True) - Yb
            delta /= Xb.shape[0]
            w = np.concatenate([W[touched].ravel(), b])
            g = np.concatenate([(Xb.T @ delta)[touched].ravel(), delta.sum(axis=0)])
            g[:-n_outputs] += alpha_l2 * w[:-n_outputs]
            if clip_norm is not None:
                g *= min(1.0, clip_norm / np.linalg.norm(g))
            t += 1
            entries = [(touched[:, None] * n_outputs + np.arange(n_outputs)).ravel(),
                       n_features * n_outputs + np.arange(n_outputs)]
            entries = np.concatenate(entries)
            state = {key: value[entries] for key, value in states.items()}
            factor = rule(w, g, state, learning_rate, t)
            threshold = learning_rate * alpha_l1 * np.broadcast_to(factor, w.shape)
            penalized = slice(None, -n_outputs)
            w[penalized] = np.sign(w[penalized]) * np.maximum(
                np.abs(w[penalized]) - threshold[penalized], 0)
            for key, value in state.items():
                states.setdefault(key, np.zeros((n_features + 1) * n_outputs))
                states[key][entries] = value
            W[touched] = w[:-n_outputs].reshape(-1, n_outputs)
            b = w[-n_outputs:]
            rates += learning_rate
            caught_up[touched] = rates
            W_mean += (W - W_mean) / t
            b_mean += (b - b_mean) / t
        catch_up(np.arange(n_features))
    return (W_mean, b_mean) if average else (W, b)


LAZY = {
    "momentum": momentum_rule(0.9),
    "nesterov": momentum_rule(0.9, nesterov=True),
    "adagrad": adagrad_rule(),
    "rmsprop": rmsprop_rule(),
    "adam": adam_rule(),
    "adamw": adam_rule(weight_decay=0.01),
}


@pytest.mark.parametrize("name", list(LAZY))
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_lazy_optimizers_follow_the_documented_rule(name, task, request):
    X, y = request.getfixturevalue(task)
    settings = dict(learning_rate=0.01, batch_size=16, n_epochs=2, alpha_l2=0.01,
                    alpha_l1=0.002)
    fitted = fit_quietly(LogisticClassifier(
        optimizer=name, learning_rate=0.01, penalty="elasticnet", alpha=0.012,
        l1_ratio=1 / 6, batch_size=16, max_iter=2, tol=None, shuffle=False,
        random_state=0), X, y)
    W, b = lazy_reference(X, y, LAZY[name], len(np.unique(y)), **settings)
    np.testing.assert_allclose(fitted._params[0][0], W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fitted._params[1][0, 0], b, rtol=1e-9, atol=1e-12)


def test_lazy_average_is_the_mean_of_the_lazy_iterates(multiclass):
    # an untouched row is constant, so its share of the average has a closed form
    X, y = multiclass
    fitted = fit_quietly(LogisticClassifier(
        optimizer="adam", learning_rate=0.01, penalty="l1", alpha=0.002, average=True,
        batch_size=16, max_iter=2, tol=None, shuffle=False, random_state=0), X, y)
    W, b = lazy_reference(X, y, adam_rule(), 4, 0.01, 16, 2, alpha_l1=0.002,
                          average=True)
    np.testing.assert_allclose(fitted._params[0][0], W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fitted._params[1][0, 0], b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("settings, alpha_l2", [
    (dict(clip_norm=0.05, alpha=0.01), 0.01),
    (dict(average=True, penalty="l1", alpha=0.002), 0.0),
], ids=["clip-l2", "average-l1"])
def test_plain_sgd_is_lazy_where_documented(multiclass, settings, alpha_l2):
    # clipping a norm that includes every weight's decay, or averaging
    # soft-thresholded weights, has no closed form on the touched rows alone
    X, y = multiclass
    fitted = fit_quietly(LogisticClassifier(
        optimizer="sgd", learning_rate=0.05, batch_size=16, max_iter=2, tol=None,
        shuffle=False, random_state=0, **settings), X, y)
    alpha_l1 = settings["alpha"] if settings.get("penalty") == "l1" else 0.0
    W, b = lazy_reference(X, y, plain_rule, 4, 0.05, 16, 2, alpha_l2=alpha_l2,
                          alpha_l1=alpha_l1, clip_norm=settings.get("clip_norm"))
    params = fitted._params if "average" not in settings else fitted._record.state.params
    np.testing.assert_allclose(params[0][0], W, rtol=1e-9, atol=1e-12)


def zipf_data(n_samples=400, n_features=200, per_row=6, seed=0):
    """CSR rows of ``per_row`` columns drawn by Zipf's law (a few columns in
    most rows, most columns in few, as words in text), binary labels."""
    rng = np.random.default_rng(seed)
    frequency = 1 / np.arange(1, n_features + 1)
    columns = rng.choice(n_features, size=n_samples * per_row,
                         p=frequency / frequency.sum())
    X = sp.csr_matrix((rng.uniform(0.5, 1.5, columns.size),
                       (np.repeat(np.arange(n_samples), per_row), columns)),
                      shape=(n_samples, n_features))
    X.sum_duplicates()
    scores = X @ rng.standard_normal(n_features)
    return X, (scores + 0.5 * rng.standard_normal(n_samples) > 0).astype(int)


@pytest.mark.parametrize("name, learning_rate", [
    ("adam", 0.01), ("adagrad", 0.1), ("rmsprop", 0.01),
])
def test_lazy_penalty_reaches_the_penalized_optimum(name, learning_rate):
    # a rare column misses the L2 term on most steps; the catch-up applies
    # it, so the lazy fit minimizes the stated objective as the dense fit
    # does (applied on touched steps only, the gap is 0.1 to 0.2)
    X, y = zipf_data()
    alpha = 0.01

    def objective(estimator):
        return (log_loss(y, estimator.predict_proba(X))
                + 0.5 * alpha * (estimator.coef_**2).sum())

    optimum = objective(LogisticRegression(C=1 / (alpha * X.shape[0]), tol=1e-10,
                                           max_iter=10_000).fit(X, y))
    params = dict(optimizer=name, learning_rate=learning_rate, alpha=alpha,
                  batch_size=20, max_iter=40, tol=None, random_state=0)
    on_sparse = fit_quietly(LogisticClassifier(**params), X, y)
    on_dense = fit_quietly(LogisticClassifier(**params), X.toarray(), y)
    assert objective(on_dense) - optimum < 2e-3
    assert objective(on_sparse) - optimum < 2e-3


def test_adagrad_without_penalty_is_exact(multiclass):
    # a zero gradient leaves Adagrad's weights and state as they are
    X, y = multiclass
    params = dict(optimizer="adagrad", penalty=None, batch_size=16, max_iter=3,
                  tol=None, random_state=0)
    on_sparse = fit_quietly(LogisticClassifier(**params), X, y)
    on_dense = fit_quietly(LogisticClassifier(**params), X.toarray(), y)
    assert_same_params(on_sparse._params, on_dense._params)


# ------------------------------------------------------------------ stacks
@pytest.mark.parametrize("name", list(OPTIMIZER_ALIASES))
@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_stacks_on_sparse_input_equal_single_fits(name, task, request):
    X, y = request.getfixturevalue(task)
    # the schedule-free methods refuse the L1 penalty and iterate averaging
    schedule_free = name.startswith("schedule_free")
    settings = [dict(learning_rate=0.01, alpha=1e-3),
                dict(learning_rate=0.05, alpha=0.01,
                     penalty="l2" if schedule_free else "elasticnet"),
                dict(learning_rate=0.02, alpha=0.0, average=not schedule_free)]
    estimators = [LogisticClassifier(optimizer=name, batch_size=16, max_iter=3,
                                     tol=None, random_state=0, **s) for s in settings]
    singles = [fit_quietly(LogisticClassifier(**e.get_params()), X, y)
               for e in estimators]
    plans = [e._plan(X, y) for e in estimators]
    stack = Stack.from_plans(plans)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack.train(plans[0].data, 3, horizon=3)
    stack.finalize()
    for k, single in enumerate(singles):
        assert_same_params(stack.member_params(k)[0], single._params, rtol=1e-9)
        assert stack.records[k].loss_curve == pytest.approx(single.loss_curve_,
                                                            rel=1e-9)


def assert_stack_equals_single_fits(estimators, X, y, n_epochs):
    singles = [fit_quietly(clone(e), X, y) for e in estimators]
    plans = [e._plan(X, y) for e in estimators]
    stack = Stack.from_plans(plans)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack.train(plans[0].data, n_epochs, horizon=n_epochs)
    stack.finalize()
    for k, single in enumerate(singles):
        assert_same_params(stack.member_params(k)[0], single._params, rtol=1e-9)


@pytest.mark.parametrize("average", [False, True])
def test_exact_member_restarting_beside_lazy_members(multiclass, average):
    # the plain member's scale restarts every step (1 - lr * alpha <= 0),
    # writing every row out mid-epoch; the momentum members catch up their
    # penalty around it (L2 and elastic-net)
    X, y = multiclass
    estimators = [LogisticClassifier(optimizer=SGD(momentum=momentum), batch_size=16,
                                     max_iter=2, tol=None, random_state=0,
                                     average=average, **settings)
                  for momentum, settings in [
                      (0.0, dict(learning_rate=0.5, alpha=2.0)),
                      (0.9, dict(learning_rate=0.05, alpha=0.05)),
                      (0.5, dict(learning_rate=0.05, alpha=0.05, penalty="elasticnet"))]]
    assert_stack_equals_single_fits(estimators, X, y, 2)


@pytest.mark.parametrize("optimizer, learning_rate", [("momentum", 30.0),
                                                     ("adam", 10.0)])
def test_lazy_members_beside_a_diverging_member(multiclass, optimizer, learning_rate):
    # the first member diverges, is put back and backs off (Adam: to before
    # its first step, in the first epoch); the others' pending penalty is
    # caught up as in their single fits
    X, y = multiclass
    estimators = [LogisticClassifier(optimizer=optimizer, learning_rate=rate,
                                     penalty="elasticnet", alpha=0.01, batch_size=16,
                                     max_iter=3, tol=None, random_state=0)
                  for rate in (learning_rate, 0.01, 0.05)]
    assert fit_quietly(clone(estimators[0]), X, y).n_divergences_ == 1
    assert_stack_equals_single_fits(estimators, X, y, 3)


# -------------------------------------------------------------------- MLPs
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_mlp_on_sparse_input_equals_dense(Estimator, fmt, multiclass):
    X, y = multiclass
    X = X.asformat(fmt)
    target = y if Estimator is MLPClassifier else y.astype(float)
    params = dict(hidden_layer_sizes=(8, 6), batch_size=16, max_iter=4, tol=None,
                  random_state=0)
    on_sparse = fit_quietly(Estimator(**params), X, target)
    on_dense = fit_quietly(Estimator(**params), X.toarray(), target)
    assert_same_params(on_sparse._params, on_dense._params)
    np.testing.assert_allclose(on_sparse.predict(X), on_dense.predict(X.toarray()),
                               rtol=RTOL)


# ---------------------------------------------------------------- searches
@pytest.mark.parametrize("estimator, grid", [
    (LogisticClassifier(batch_size=16, max_iter=4, tol=None, random_state=0),
     {"optimizer": ["sgd", "momentum", "adam"], "learning_rate": [0.01, 0.1],
      "penalty": ["l2", "elasticnet"]}),
    (MLPClassifier(hidden_layer_sizes=(8,), batch_size=16, max_iter=4, tol=None,
                   random_state=0),
     {"learning_rate": [1e-3, 1e-2], "alpha": [1e-4, 1e-2]}),
], ids=["logistic", "mlp"])
def test_lockstep_search_on_sparse_input_equals_grid_search(multiclass, estimator,
                                                            grid):
    # "sgd" (exact) and "momentum" (lazy) members share a stack
    X, y = multiclass
    lockstep = fit_quietly(LockstepGridSearchCV(estimator, grid, cv=3), X, y)
    reference = fit_quietly(GridSearchCV(estimator, grid, cv=3), X, y)
    np.testing.assert_allclose(lockstep.cv_results_["mean_test_score"],
                               reference.cv_results_["mean_test_score"], atol=1e-12)
    assert lockstep.best_params_ == reference.best_params_
