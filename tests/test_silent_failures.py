"""Answers that used to be wrong without a word: now right, or loudly flagged."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from sklr import (
    LinearRegressor,
    LogisticClassifier,
    MLPClassifier,
    MLPRegressor,
    diagnose,
)
from sklr.exceptions import DivergenceWarning, LearningRateWarning
from sklr.optimizers import OPTIMIZER_ALIASES

ESTIMATORS = [LinearRegressor, LogisticClassifier, MLPRegressor, MLPClassifier]


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _is_regressor(Estimator):
    return Estimator in (LinearRegressor, MLPRegressor)


def _small(Estimator, **params):
    if Estimator in (MLPRegressor, MLPClassifier):
        params.setdefault("hidden_layer_sizes", (8,))
    return Estimator(random_state=0, **params)


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


# ---------------------------------------------------------- data layout (1)
def test_dataframes_are_brought_to_c_order_once(cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    frame = pd.DataFrame(np.asfortranarray(X))
    est = LogisticClassifier(max_iter=3, tol=None, random_state=0)
    plan = est._plan(frame, y)
    assert plan.data.X.flags.c_contiguous
    from_frame = est.fit(frame, y)
    from_array = LogisticClassifier(max_iter=3, tol=None, random_state=0).fit(
        np.ascontiguousarray(X), y)
    np.testing.assert_array_equal(from_frame.coef_, from_array.coef_)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_search_on_a_dataframe_copies_it_once_not_per_candidate(pipeline):
    """A float DataFrame is Fortran-ordered: each candidate of a stack used
    to make a C-order copy of its own, all alive at once (9 here)."""
    import tracemalloc

    pd = pytest.importorskip("pandas")
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from sklr.model_selection import LockstepGridSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 100))
    y = X @ rng.normal(size=100)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(100)])
    assert frame.to_numpy().flags.f_contiguous
    # the identity, keeping pandas output: a prefix whose output is Fortran-ordered
    prefix = FunctionTransformer(feature_names_out="one-to-one").set_output(
        transform="pandas")
    estimator = LinearRegressor(max_iter=2, tol=None, random_state=0)
    if pipeline:
        estimator = make_pipeline(prefix, estimator)
    key = "linearregressor__learning_rate" if pipeline else "learning_rate"

    def search(data):
        tracemalloc.start()
        fitted = LockstepGridSearchCV(
            estimator, {key: np.logspace(-3, -1, 9)}, cv=KFold(2), refit=False
        ).fit(data, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return fitted, peak

    from_frame, frame_peak = search(frame)
    from_array, array_peak = search(np.ascontiguousarray(X))
    # at most one copy more than the C array needs (9 before)
    assert frame_peak < array_peak + 1.5 * X.nbytes
    np.testing.assert_allclose(from_frame.cv_results_["mean_test_score"],
                               from_array.cv_results_["mean_test_score"])


# ----------------------------------------------------------- last step (3)
def test_an_exploding_last_step_is_undone(cancer):
    X, y = cancer
    y = y.astype(float) * 1000
    with pytest.warns(DivergenceWarning):
        est = LinearRegressor(optimizer="sgd", learning_rate=1e8, max_iter=3,
                              tol=None, random_state=0).fit(X, y)
    assert r2_score(y, est.predict(X)) > -10


def test_partial_fit_checks_its_only_update(cancer):
    X, y = cancer
    with pytest.warns(DivergenceWarning, match="learning rate 1e\\+08"):
        est = LogisticClassifier(optimizer="sgd", learning_rate=1e8,
                                 batch_size=len(X)).partial_fit(X, y, classes=[0, 1])
    assert est.n_divergences_ >= 1
    assert est.loss_curve_[-1] < 10
    assert diagnose(est).verdict in ("too_high", "diverged")


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize("optimizer", list(OPTIMIZER_ALIASES))
@pytest.mark.parametrize("learning_rate", [1e4, 1e40, 1e300])
@pytest.mark.parametrize("on_divergence", ["backoff", "stop"])
def test_no_learning_rate_leaves_a_non_finite_parameter_or_prediction(
        cancer, Estimator, optimizer, learning_rate, on_divergence):
    X, y = cancer
    X, y = X[:120], y[:120]
    if _is_regressor(Estimator):
        y = y * 1e3 + X[:, 0]
    est = _quietly(_small(Estimator, optimizer=optimizer, learning_rate=learning_rate,
                          on_divergence=on_divergence, max_iter=4, batch_size=40).fit,
                   X, y)
    for array in est._params:
        assert np.isfinite(array).all()
    output = est.predict(X) if _is_regressor(Estimator) else est.predict_proba(X)
    assert np.isfinite(output).all()
    assert np.isfinite(est.loss_curve_).all()


@pytest.mark.parametrize("Estimator", [MLPRegressor, MLPClassifier])
def test_float32_with_a_huge_rate_stays_finite(cancer, Estimator):
    X, y = cancer
    X = X[:100].astype(np.float32)
    y = y[:100] * 100.0 if _is_regressor(Estimator) else y[:100]
    est = _quietly(_small(Estimator, optimizer="sgd", learning_rate=1e200,
                          max_iter=8).fit, X, y)
    output = est.predict(X) if _is_regressor(Estimator) else est.predict_proba(X)
    assert np.isfinite(output).all()


# ------------------------------------------------- failures called converged (5)
def test_a_rate_too_small_to_move_is_flagged(cancer):
    X, y = cancer
    with pytest.warns(LearningRateWarning, match="learning rate 1e-06 may be too low"):
        est = LogisticClassifier(optimizer="sgd", learning_rate=1e-6, max_iter=50,
                                 random_state=0).fit(X, y)
    assert diagnose(est).verdict == "too_low"


def test_a_fit_at_its_optimum_from_the_start_is_not_flagged():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2000, 5)), rng.normal(size=2000)
    for settings in ({}, {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 2000}):
        with warnings.catch_warnings():
            warnings.simplefilter("error", LearningRateWarning)
            LinearRegressor(random_state=0, **settings).fit(X, y)


def _overshooting_fit(**params):
    """Full-batch SGD a little past the stable rate of one direction: the loss
    first falls, then grows back without crossing the divergence limit."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(2, 1000))
    X = np.column_stack([(x1 - x1.mean()) / x1.std(), 0.5 * (x2 - x2.mean()) / x2.std()])
    y = 0.02 * X[:, 0] + 2.0 * X[:, 1] + 0.1 * rng.normal(size=1000)
    return LinearRegressor(optimizer="sgd", learning_rate=2.02, batch_size=1000,
                           alpha=0.0, max_iter=60, tol=None, random_state=0,
                           **params).fit(X, y)


def test_a_final_loss_far_above_the_best_is_flagged():
    with pytest.warns(LearningRateWarning, match="times the best"):
        est = _overshooting_fit()
    assert est.n_divergences_ == 0
    assert est.loss_curve_[-1] > 2 * est.best_loss_
    assert diagnose(est).verdict == "too_high"


def test_diagnose_calls_a_constant_target_converged(cancer):
    X, _ = cancer
    est = LinearRegressor(random_state=0).fit(X, np.full(len(X), 7.5))
    assert diagnose(est).verdict == "converged"


def test_diagnose_reads_the_policy_the_fit_used(cancer):
    X, y = cancer
    est = _quietly(LogisticClassifier(optimizer="sgd", learning_rate=1e8,
                                      on_divergence="stop", random_state=0).fit, X, y)
    assert diagnose(est).verdict == "diverged"
    est.set_params(on_divergence="backoff")
    assert diagnose(est).verdict == "diverged"


# ------------------------------------------------------ unchecked inputs (6)
@pytest.mark.parametrize("weight", [np.nan, np.inf, -0.5])
def test_class_weight_values_are_checked(cancer, weight):
    X, y = cancer
    with pytest.raises(ValueError, match="class_weight"):
        LogisticClassifier(class_weight={0: weight, 1: 1.0}).fit(X, y)


def test_y_val_with_the_wrong_number_of_targets(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="y_val has 2 targets"):
        LinearRegressor().fit(X[:400], y[:400], X_val=X[400:],
                              y_val=np.column_stack([y[400:], y[400:]]))


def test_y_val_with_unknown_classes(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="y_val contains labels not seen"):
        LogisticClassifier().fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:] + 5)


@pytest.mark.parametrize("constant", [1.0, 0.3])
def test_a_constant_validation_target_scores_zero(cancer, constant):
    """As r2_score does for a constant it can average exactly (1.0); for 0.3,
    whose mean carries rounding noise, r2_score itself says -3.7e31."""
    X, y = cancer
    y_val = np.full(len(X) - 400, constant)
    est = _quietly(LinearRegressor(max_iter=3, random_state=0).fit, X[:400],
                   y[:400].astype(float), X_val=X[400:], y_val=y_val)
    assert est.validation_scores_[-1] == 0.0
    if constant == 1.0:
        assert r2_score(y_val, est.predict(X[400:])) == 0.0


def test_an_early_stopping_split_without_weight_is_refused(cancer):
    X, y = cancer
    weights = np.zeros(len(X))
    weights[:3] = 1.0
    with pytest.raises(ValueError, match="zero total sample_weight"):
        LogisticClassifier(early_stopping=True, random_state=0).fit(
            X, y, sample_weight=weights)


def test_float32_weights_whose_sum_overflows(cancer):
    X, y = cancer
    est = LogisticClassifier(max_iter=5, tol=None, random_state=0).fit(
        X.astype(np.float32), y, sample_weight=np.full(len(X), 1e37))
    reference = LogisticClassifier(max_iter=5, tol=None, random_state=0).fit(
        X.astype(np.float32), y)
    assert np.isfinite(est.loss_curve_).all()
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------- warm start (7)
def test_warm_start_refuses_a_changed_fit_intercept(cancer):
    X, y = cancer
    est = LogisticClassifier(warm_start=True, max_iter=2, random_state=0)
    _quietly(est.fit, X, y)
    est.set_params(fit_intercept=False)
    with pytest.raises(ValueError, match="model structure"):
        est.fit(X, y)
    np.testing.assert_allclose(est.decision_function(X),
                               X @ est.coef_[0] + est.intercept_[0])


# --------------------------------------------------------- clear errors (8)
@pytest.mark.parametrize("sizes", [("10",), (10**12,), (4, 0), (True,)])
def test_hidden_layer_sizes_are_checked(cancer, sizes):
    X, y = cancer
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


def test_partial_fit_with_other_classes_is_refused(cancer):
    X, y = cancer
    est = LogisticClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="differs from the classes"):
        est.partial_fit(X, y, classes=[0, 1, 2])


def test_balanced_class_weight_with_partial_fit_says_why(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="balanced.*partial_fit"):
        LogisticClassifier(class_weight="balanced").partial_fit(
            X[y == 0], y[y == 0], classes=[0, 1])


def test_learning_rate_after_a_backoff_is_the_decimal_one():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X[:300])
    est = _quietly(LinearRegressor(optimizer="sgd", learning_rate=3.0, max_iter=3,
                                   random_state=0).fit, X, y[:300].astype(float))
    assert est.n_divergences_ >= 1
    assert repr(est.learning_rate_) in {"0.3", "0.03", "0.003", "0.0003"}


def test_convergence_warning_is_still_a_convergence_warning():
    assert issubclass(LearningRateWarning, ConvergenceWarning)


@pytest.mark.parametrize("on_divergence", ["backoff", "raise"])
def test_verbose_says_why_training_stopped_and_which_weights_are_kept(
        cancer, capsys, on_divergence):
    X, y = cancer
    LogisticClassifier(early_stopping=True, verbose=1, random_state=0,
                       on_divergence=on_divergence).fit(X, y)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "did not improve by more than tol=0.0001 for 10 consecutive epochs" in last
    assert "Best validation score" in last and "its weights are kept" in last


# ------------------------------ found by trying it as users do (2026-12-02)
def _linear_data(n_samples):
    rng = np.random.RandomState(0)
    X = rng.randn(n_samples, 3)
    return X, X @ [1.0, 2.0, 3.0] + rng.randn(n_samples)


def _no_divergence(function, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        return function(*args)


@pytest.mark.parametrize("Estimator", [LinearRegressor, MLPRegressor])
def test_one_outlier_in_the_target_is_not_a_divergence(Estimator):
    # one data-entry error among 5,000 prices: its minibatch's loss is over
    # the divergence limit at any weights; backing off to 1e-12 left the model
    # untrained
    X, y = _linear_data(5000)
    y[123] = 1e6
    est = _no_divergence(_quietly, _small(Estimator, max_iter=5).fit, X, y)
    assert est.n_divergences_ == 0
    assert est.learning_rate_ == Estimator().learning_rate
    # it trains towards the least-squares fit, which the outlier dominates
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    if Estimator is LinearRegressor:
        exact = Ridge(alpha=1e-4 * len(y)).fit(X, y).predict(X)
        assert np.corrcoef(est.predict(X), exact)[0, 1] > 0.8


@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_mislabelled_samples_in_single_sample_minibatches_are_not_divergences(
        Estimator):
    rng = np.random.RandomState(0)
    X = rng.randn(1000, 5)
    y = (X.sum(axis=1) > 0).astype(int)
    flipped = rng.rand(1000) < 0.02
    y[flipped] = 1 - y[flipped]
    est = _no_divergence(_quietly, _small(Estimator, batch_size=1, max_iter=20).fit,
                         X, y)
    assert est.n_divergences_ == 0
    assert est.score(X[~flipped], y[~flipped]) > 0.9


def test_weights_that_ran_away_are_still_a_divergence_with_an_outlier_present():
    # the outlier's excuse covers the minibatch, not weights that blew up
    X, y = _linear_data(2000)
    y[5] = 1e5
    with pytest.warns(DivergenceWarning):
        est = LinearRegressor(optimizer="sgd", learning_rate=50.0, max_iter=3,
                              tol=None, random_state=0).fit(X, y)
    assert est.n_divergences_ >= 1
    assert np.isfinite(est.coef_).all()


def test_warm_start_takes_a_new_learning_rate_as_it_is():
    # the back-offs of a fit at 50 used to divide the 0.01 set afterwards
    X, y = _linear_data(500)
    est = LinearRegressor(optimizer="sgd", learning_rate=50.0, warm_start=True,
                          max_iter=5, tol=None, random_state=0)
    _quietly(est.fit, X, y)
    assert est.n_divergences_ >= 1
    backed_off = est.learning_rate_
    assert backed_off < 50.0
    est.set_params(learning_rate=0.01).fit(X, y)
    assert est.learning_rate_ == 0.01
    assert set(est.learning_rate_curve_[-5:]) == {0.01}
    # learning_rate_ set back as it is, as documented
    est.set_params(learning_rate=backed_off).fit(X, y)
    assert est.learning_rate_ == backed_off


def test_partial_fit_goes_on_at_its_backed_off_rate():
    X, y = _linear_data(500)
    est = _quietly(LinearRegressor(optimizer="sgd", learning_rate=50.0, max_iter=5,
                                   tol=None, random_state=0).fit, X, y)
    backed_off = est.learning_rate_
    assert backed_off < 50.0
    _quietly(est.partial_fit, X, y)
    assert est.learning_rate_ == backed_off


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_targets_of_different_scales_train_as_if_fitted_alone(optimizer, penalty):
    # the loss weighs a target by its squared scale; plain SGD stepped the
    # small one's weights a million times slower, left it untrained and
    # called the fit converged
    rng = np.random.RandomState(0)
    X = rng.randn(400, 3)
    Y = np.c_[X @ [1.0, 2.0, 3.0], 1000 * (X @ [3.0, -1.0, 2.0])]
    Y += rng.randn(400, 2) * [0.5, 500.0]
    params = dict(optimizer=optimizer, penalty=penalty, alpha=0.01, max_iter=5,
                  tol=None, random_state=0)
    together = LinearRegressor(**params).fit(X, Y)
    for target in range(2):
        alone = LinearRegressor(**params).fit(X, Y[:, target])
        np.testing.assert_allclose(together.coef_[target], alone.coef_, rtol=1e-6)
        np.testing.assert_allclose(together.intercept_[target], alone.intercept_,
                                   rtol=1e-6, atol=1e-9 * np.abs(Y[:, target]).max())


def test_an_mlp_trains_a_small_target_beside_a_large_one():
    rng = np.random.RandomState(0)
    X = rng.randn(2000, 3)
    Y = np.c_[X @ [1.0, 2.0, 3.0], 1000 * (X @ [3.0, -1.0, 2.0])]
    Y += rng.randn(2000, 2) * [0.5, 500.0]
    est = _quietly(MLPRegressor(optimizer="sgd", learning_rate=0.01, random_state=0).fit,
                   X, Y)
    assert (r2_score(Y, est.predict(X), multioutput="raw_values") > 0.9).all()


def test_a_model_left_worse_than_its_initial_weights_is_flagged():
    # Adam at 3 on a 4-class problem: every epoch's loss more than twice the
    # uniform initial model's log(4); only the back-off was reported before
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=240, n_features=60, n_informative=10,
                               n_classes=4, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LogisticClassifier(optimizer="adam", learning_rate=3.0, batch_size=16,
                                 max_iter=3, tol=None, random_state=0).fit(X, y)
    assert min(est.loss_curve_) > 2 * np.log(4)
    assert any(issubclass(w.category, LearningRateWarning)
               and "initial weights" in str(w.message) for w in caught)
    diagnosis = diagnose(est)
    assert diagnosis.verdict == "too_high"


def test_a_continued_fit_warns_only_of_its_own_divergences():
    X, y = _linear_data(500)
    est = LinearRegressor(optimizer="sgd", learning_rate=50.0, warm_start=True,
                          max_iter=5, tol=None, random_state=0)
    with pytest.warns(DivergenceWarning):
        est.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        est.fit(X, y)
        est.partial_fit(X, y)


@pytest.mark.parametrize("batch_size", [1, 5, 20])
def test_sample_weight_means_the_same_whatever_the_batch_size(batch_size):
    # each minibatch's weights used to be normalized to sum to one, which
    # weighs samples against their minibatch only: with batch_size=1 not at all
    from sklearn.linear_model import LinearRegression

    rng = np.random.RandomState(0)
    X = rng.randn(400, 2)
    weight = np.where(X[:, 0] > 1, 20.0, 1.0)
    y = X @ [1.0, 2.0] + 2 * rng.randn(400) + 10 * (X[:, 0] > 1)
    exact = LinearRegression().fit(X, y, sample_weight=weight)
    est = LinearRegressor(batch_size=batch_size, penalty=None, schedule="cosine",
                          max_iter=300, tol=None, random_state=0)
    est.fit(X, y, sample_weight=weight)
    assert est.intercept_ == pytest.approx(exact.intercept_, abs=0.05)
    np.testing.assert_allclose(est.coef_, exact.coef_, atol=0.05)


def test_balanced_class_weight_with_small_minibatches():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(600, 3)
    y = (X[:, 0] + rng.randn(600) > 2.0).astype(int)
    exact = LogisticRegression(class_weight="balanced", C=1e6).fit(X, y)
    est = LogisticClassifier(class_weight="balanced", batch_size=8, penalty=None,
                             schedule="cosine", max_iter=200, tol=None,
                             random_state=0).fit(X, y)
    assert est.intercept_[0] == pytest.approx(exact.intercept_[0], abs=0.05)


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_a_warm_started_fit_extends_the_schedule_budget(schedule):
    # the second fit ran 20 epochs past a 20-epoch budget, at rate 0: the
    # weights did not move, and the fit reported itself converged
    X, y = _linear_data(300)
    params = dict(optimizer="sgd", learning_rate=1e-3, schedule=schedule, tol=None,
                  random_state=0)
    est = LinearRegressor(max_iter=20, warm_start=True, **params)
    _quietly(est.fit, X, y)
    first = est.coef_.copy()
    _quietly(est.fit, X, y)
    assert est.n_iter_ == 40
    assert np.abs(est.coef_ - first).max() > 1e-3
    # its rates are those of epochs 21 to 40 of one 40-epoch budget
    whole = _quietly(LinearRegressor(max_iter=40, **params).fit, X, y)
    np.testing.assert_allclose(est.learning_rate_curve_[20:],
                               whole.learning_rate_curve_[20:], rtol=1e-12)


# ------------------------------- bad input and edge values (2026-12-02, later)
def test_a_target_too_small_for_float64_is_refused_not_fitted_as_constant():
    # its spread's square underflowed to 0: the target passed for a constant
    # and the coefficients came out 1e66 times too large, with R^2 1.0
    X, y = _linear_data(200)
    with pytest.raises(ValueError, match="y varies by too little"):
        LinearRegressor(random_state=0).fit(X, y * 1e-170)
    est = _quietly(LinearRegressor(random_state=0).fit, X, y * 1e-140)
    exact = Ridge(alpha=1e-4 * len(y)).fit(X, y)
    np.testing.assert_allclose(est.coef_ / 1e-140, exact.coef_, rtol=0.05)


def test_weights_whose_sum_overflows_still_weigh_the_target_moments():
    X, y = _linear_data(200)
    X32 = X.astype(np.float32)
    weight = np.full(200, 1e37, dtype=np.float32)
    est = _quietly(LinearRegressor(random_state=0).fit, X32, y, sample_weight=weight)
    assert est.score(X32, y) > 0.9


def test_balanced_class_weight_counts_classes_with_sample_weight():
    # integer weights act as repeated samples, as in LogisticRegression
    rng = np.random.RandomState(0)
    X = rng.randn(300, 3)
    y = (X[:, 0] + rng.randn(300) > 1).astype(int)
    weight = rng.randint(1, 4, 300)
    params = dict(class_weight="balanced", optimizer="sgd", max_iter=50, tol=None,
                  shuffle=False, random_state=0)
    weighted = LogisticClassifier(batch_size=300, **params).fit(X, y, sample_weight=weight)
    repeated = LogisticClassifier(batch_size=int(weight.sum()), **params).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10, atol=1e-12)


def test_binary_probabilities_keep_their_digits():
    # 1 - expit(f) rounded a probability of e**-64 to 0; its log was right
    cancer = load_breast_cancer()
    X = StandardScaler().fit_transform(cancer.data) * 30
    est = _quietly(LogisticClassifier(random_state=0).fit, X, cancer.target)
    proba, log_proba = est.predict_proba(X), est.predict_log_proba(X)
    assert (proba > 0).all()
    # small probabilities carry their digits (near 1, log(p) cannot)
    small = proba < 0.5
    np.testing.assert_allclose(np.log(proba[small]), log_proba[small], rtol=1e-12)


def test_a_float32_model_refuses_what_overflows_float32_at_predict():
    X, y = _linear_data(100)
    est = _quietly(LinearRegressor(random_state=0).fit, X.astype(np.float32), y)
    huge = X.copy()
    huge[0, 0] = 1e39
    with pytest.raises(ValueError, match="too large in magnitude for float32"):
        est.predict(huge)
