"""Behaviour of the four estimators: optima, accuracy, inputs, continuation."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk_linear
from sklearn import neural_network as sk_neural
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier, MLPRegressor
from sklr.optimizers import SGD, Adam
from sklr.schedules import CosineAnnealing, ExponentialDecay, StepDecay

ALL = [LinearRegressor, LogisticClassifier, MLPRegressor, MLPClassifier]


def standardized(loader, n=None):
    X, y = loader(return_X_y=True)
    if n is not None:
        X, y = X[:n], y[:n]
    return StandardScaler().fit_transform(X), y


def test_linear_regressor_reaches_ridge_optimum():
    X, y = make_regression(n_samples=300, n_features=8, noise=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 0.01
    ridge = sk_linear.Ridge(alpha=alpha * len(y)).fit(X, y)
    est = LinearRegressor(optimizer="sgd", penalty="l2", alpha=alpha,
                          learning_rate=0.1, schedule=StepDecay(20, 0.3),
                          batch_size=32, max_iter=150, tol=None,
                          random_state=0).fit(X, y)
    np.testing.assert_allclose(est.coef_, ridge.coef_, rtol=1e-3,
                               atol=1e-3 * np.abs(ridge.coef_).max())
    np.testing.assert_allclose(est.intercept_, ridge.intercept_, rtol=1e-3)


def logistic_objective(coef, intercept, X, y, alpha):
    raw = X @ coef.T + intercept
    if raw.shape[1] == 1:
        raw = np.column_stack([np.zeros(len(y)), raw[:, 0]])
    log_norm = np.logaddexp.reduce(raw, axis=1)
    nll = np.mean(log_norm - raw[np.arange(len(y)), y])
    return nll + 0.5 * alpha * np.sum(coef**2)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_logistic_classifier_reaches_logistic_regression_optimum(loader):
    X, y = standardized(loader)
    alpha = 1e-2
    reference = sk_linear.LogisticRegression(
        C=1 / (alpha * len(y)), tol=1e-10, max_iter=10_000).fit(X, y)
    est = LogisticClassifier(optimizer="momentum", learning_rate=0.1,
                             schedule=CosineAnnealing(), alpha=alpha, batch_size=64,
                             max_iter=400, tol=None, random_state=0).fit(X, y)
    ours = logistic_objective(est.coef_, est.intercept_, X, y, alpha)
    theirs = logistic_objective(reference.coef_, reference.intercept_, X, y, alpha)
    assert ours <= theirs * (1 + 1e-4)
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=0,
                               atol=1e-2 * np.abs(reference.coef_).max())


CLASSIFICATION = [
    (LogisticClassifier, lambda: sk_linear.LogisticRegression(max_iter=5000)),
    (MLPClassifier, lambda: sk_neural.MLPClassifier(random_state=0, max_iter=500)),
]
REGRESSION = [
    (LinearRegressor, lambda: sk_linear.Ridge()),
    (MLPRegressor, lambda: sk_neural.MLPRegressor(random_state=0, max_iter=500)),
]


def regression_data(name):
    if name == "diabetes":
        X, y = load_diabetes(return_X_y=True)
    else:
        X, y = make_regression(n_samples=5000, n_features=20, noise=10,
                               random_state=0)
    return X, y


def compare_with_sklearn(ours, theirs, X, y, stratify=None):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        score = ours.fit(X_train, y_train).score(X_test, y_test)
        reference = theirs.fit(X_train, y_train).score(X_test, y_test)
    assert score >= reference - 0.01, (score, reference)


@pytest.mark.parametrize("Ours, theirs", CLASSIFICATION)
@pytest.mark.parametrize("loader", [load_digits, load_breast_cancer])
def test_default_classifiers_match_sklearn(Ours, theirs, loader):
    X, y = loader(return_X_y=True)
    compare_with_sklearn(Ours(random_state=0), theirs(), X, y, stratify=y)


@pytest.mark.parametrize("Ours, theirs", REGRESSION)
@pytest.mark.parametrize("dataset", ["diabetes", "make_regression"])
def test_default_regressors_match_sklearn(Ours, theirs, dataset):
    X, y = regression_data(dataset)
    compare_with_sklearn(Ours(random_state=0), theirs(), X, y)


@pytest.mark.parametrize("Estimator", ALL)
def test_float32_trains_and_predicts_in_float32(Estimator):
    X, y = standardized(load_iris)
    X = X.astype(np.float32)
    if Estimator in (LinearRegressor, MLPRegressor):
        y = y.astype(np.float32)
    est = Estimator(max_iter=5, tol=None, random_state=0).fit(X, y)
    assert all(p.dtype == np.float32 for p in est._params)
    output = (est.predict(X) if Estimator in (LinearRegressor, MLPRegressor)
              else est.predict_proba(X))
    assert output.dtype == np.float32


@pytest.mark.parametrize("Estimator", [LinearRegressor, LogisticClassifier])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(Estimator, fmt):
    X, y = standardized(load_iris)
    X[np.abs(X) < 0.5] = 0
    dense = Estimator(max_iter=20, tol=None, random_state=0).fit(X, y)
    sparse = Estimator(max_iter=20, tol=None, random_state=0).fit(
        sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_sparse_input_is_not_densified(monkeypatch):
    X = sp.random(300, 50, density=0.05, format="csr", random_state=0)
    y = np.asarray(X.sum(axis=1)).ravel()

    def refuse(*args, **kwargs):
        raise AssertionError("the sparse matrix was densified")

    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "todense", refuse)
    LinearRegressor(max_iter=3, tol=None).fit(X, y).predict(X)


def test_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = standardized(load_iris)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = LogisticClassifier(max_iter=5, tol=None).fit(frame, y)
    assert list(est.feature_names_in_) == ["a", "b", "c", "d"]
    with pytest.warns(UserWarning, match="feature names"):
        est.predict(X)


@pytest.mark.parametrize("Estimator", ALL)
def test_fitted_attributes(Estimator):
    X, y = standardized(load_iris)
    est = Estimator(max_iter=7, tol=None, random_state=0,
                    schedule=ExponentialDecay(0.5)).fit(X, y)
    assert est.n_iter_ == 7 == len(est.loss_curve_) == len(est.learning_rate_curve_)
    assert est.t_ == 7  # one batch of all 150 samples per epoch
    assert est.validation_scores_ is None and est.validation_loss_curve_ is None
    assert est.best_loss_ == min(est.loss_curve_)
    base = est.learning_rate_
    np.testing.assert_allclose(est.learning_rate_curve_,
                               base * 0.5 ** np.arange(7), rtol=1e-6)
    assert est.n_divergences_ == 0
    assert isinstance(est.optimizer_, Adam) and est.optimizer == "adam"


def test_coefficient_shapes():
    X, y = standardized(load_iris)
    assert LinearRegressor(max_iter=2).fit(X, y).coef_.shape == (4,)
    assert LinearRegressor(max_iter=2).fit(X, y).intercept_.shape == (1,)
    Y = np.column_stack([y, -y])
    multi = LinearRegressor(max_iter=2).fit(X, Y)
    assert multi.coef_.shape == (2, 4) and multi.intercept_.shape == (2,)
    assert multi.predict(X).shape == (150, 2)
    binary = LogisticClassifier(max_iter=2).fit(X, y == 1)
    assert binary.coef_.shape == (1, 4) and binary.intercept_.shape == (1,)
    multiclass = LogisticClassifier(max_iter=2).fit(X, y)
    assert multiclass.coef_.shape == (3, 4) and multiclass.intercept_.shape == (3,)
    mlp = MLPRegressor(hidden_layer_sizes=(5, 3), max_iter=2).fit(X, Y)
    assert [c.shape for c in mlp.coefs_] == [(4, 5), (5, 3), (3, 2)]
    assert [b.shape for b in mlp.intercepts_] == [(5,), (3,), (2,)]


def test_mlp_regressor_coefficients_map_to_predictions():
    X, y = standardized(load_diabetes)
    y = y + 1000
    est = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=20,
                       random_state=0).fit(X, y)
    hidden = np.tanh(X @ est.coefs_[0] + est.intercepts_[0])
    manual = hidden @ est.coefs_[1] + est.intercepts_[1]
    np.testing.assert_allclose(manual[:, 0], est.predict(X), rtol=1e-10)


@pytest.mark.parametrize("Estimator", ALL)
def test_warm_start_continues_optimizer_and_schedule(Estimator):
    X, y = standardized(load_iris)
    common = dict(max_iter=10, tol=None, shuffle=False, random_state=0,
                  batch_size=50, schedule=ExponentialDecay(0.8))
    warm = Estimator(warm_start=True, **common).fit(X, y).fit(X, y)
    once = Estimator(**{**common, "max_iter": 20}).fit(X, y)
    for a, b in zip(warm._params, once._params):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert warm.n_iter_ == 20 and warm.t_ == once.t_
    assert warm.loss_curve_ == pytest.approx(once.loss_curve_)


@pytest.mark.parametrize("Estimator", ALL)
def test_partial_fit_continues_optimizer_and_schedule(Estimator):
    X, y = standardized(load_iris)
    common = dict(tol=None, shuffle=False, random_state=0, batch_size=50,
                  schedule=ExponentialDecay(0.8), max_iter=20)
    incremental = Estimator(**common)
    for _ in range(6):
        if Estimator in (LogisticClassifier, MLPClassifier):
            incremental.partial_fit(X, y, classes=np.unique(y))
        else:
            incremental.partial_fit(X, y)
    once = Estimator(**{**common, "max_iter": 6}).fit(X, y)
    for a, b in zip(incremental._params, once._params):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert incremental.n_iter_ == 6


def test_partial_fit_needs_classes_first():
    X, y = standardized(load_iris)
    with pytest.raises(ValueError, match="classes must be passed"):
        LogisticClassifier().partial_fit(X, y)


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPRegressor])
def test_early_stopping_restores_best_weights(Estimator):
    X, y = standardized(load_digits, 600)
    est = Estimator(early_stopping=True, learning_rate=0.05, max_iter=60,
                    n_iter_no_change=3, random_state=0).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert len(est.validation_loss_curve_) == est.n_iter_


def test_explicit_validation_data_is_monitored():
    X, y = standardized(load_digits, 600)
    est = LogisticClassifier(max_iter=30, n_iter_no_change=2, random_state=0)
    est.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    assert est.best_validation_score_ == pytest.approx(
        est.score(X[400:], y[400:]))
    with pytest.raises(ValueError, match="together"):
        est.fit(X, y, X_val=X)


def test_class_weight_balanced_shifts_the_boundary():
    X, y = standardized(load_breast_cancer)
    keep = np.r_[np.flatnonzero(y == 0)[:30], np.flatnonzero(y == 1)]
    X, y = X[keep], y[keep]
    plain = LogisticClassifier(random_state=0).fit(X, y)
    balanced = LogisticClassifier(class_weight="balanced", random_state=0).fit(X, y)
    assert (balanced.predict(X) == 0).sum() >= (plain.predict(X) == 0).sum()
    weighted = LogisticClassifier(random_state=0).fit(
        X, y, sample_weight=np.where(y == 0, len(y) / 60, len(y) / (2 * (y == 1).sum())))
    np.testing.assert_allclose(weighted.coef_, balanced.coef_, rtol=1e-6)


def test_convergence_warning_at_max_iter():
    X, y = standardized(load_digits, 300)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        LogisticClassifier(max_iter=2).fit(X, y)


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = standardized(load_iris)
    LogisticClassifier(max_iter=3, tol=None, verbose=1, early_stopping=True,
                       random_state=0).fit(X, y)
    *lines, last = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all("loss" in line and "validation score" in line and "learning rate"
               in line and line.endswith(" s") for line in lines)
    # then why training stopped, as scikit-learn's MLP says it
    assert last.startswith("Reached max_iter=3 epochs.")


@pytest.mark.parametrize("Estimator", ALL)
def test_same_random_state_same_model(Estimator):
    X, y = standardized(load_iris)
    a = Estimator(max_iter=5, random_state=3, dropout=0.2) if "MLP" in \
        Estimator.__name__ else Estimator(max_iter=5, random_state=3)
    b = a.__class__(**a.get_params())
    a.fit(X, y)
    b.fit(X, y)
    for p, q in zip(a._params, b._params):
        np.testing.assert_array_equal(p, q)


def test_mlp_dropout_and_batch_norm_train_and_predict_deterministically():
    X, y = standardized(load_digits, 500)
    est = MLPClassifier(hidden_layer_sizes=(32,), dropout=0.2, batch_norm=True,
                        learning_rate=0.01, max_iter=30, random_state=0).fit(X, y)
    assert est.score(X, y) > 0.9
    np.testing.assert_array_equal(est.predict_proba(X), est.predict_proba(X))
    running_mean = est._buffers[0]
    assert np.abs(running_mean).max() > 0


def test_search_tunes_nested_keys_in_pipeline():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    pipe = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=10, random_state=0,
        optimizer=Adam(), schedule=ExponentialDecay()))
    grid = {
        "mlpclassifier__learning_rate": [1e-3, 1e-2],
        "mlpclassifier__schedule__gamma": [0.9, 0.99],
        "mlpclassifier__optimizer__beta_1": [0.8, 0.9],
    }
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    best = search.best_estimator_[-1]
    assert best.optimizer_.beta_1 == search.best_params_[
        "mlpclassifier__optimizer__beta_1"]
    assert best.schedule_.gamma == search.best_params_["mlpclassifier__schedule__gamma"]
    random = RandomizedSearchCV(
        pipe, {"mlpclassifier__optimizer": ["sgd", SGD(momentum=0.5), "adam"],
               "mlpclassifier__schedule": ["constant", "cosine"],
               "mlpclassifier__learning_rate": [1e-3, 1e-2, 1e-1]},
        n_iter=4, cv=2, n_jobs=2, random_state=0).fit(X, y)
    assert np.all(np.isfinite(random.cv_results_["mean_test_score"]))
