"""Tests of sklr.diagnostics.diagnose on real runs and on hand-made curves."""

import doctest
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklr.diagnostics
from sklr import LinearRegressor, LogisticClassifier, MLPClassifier
from sklr.diagnostics import Diagnosis, diagnose


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X[:500]), y[:500]


def _fit(model, data):
    with warnings.catch_warnings():
        # slow rates hit max_iter and fast ones diverge, by design here
        warnings.simplefilter("ignore")
        return model.fit(*data)


def _suggested_rate(diagnosis):
    return float(re.search(r"learning_rate around ([0-9.e+-]+)",
                           diagnosis.suggestion).group(1))


def _sgd(rate, max_iter=50):
    return LogisticClassifier(optimizer="sgd", learning_rate=rate, max_iter=max_iter,
                              random_state=0)


# ------------------------------------------------------------------ real runs
def test_tiny_sgd_rate_is_too_low(cancer):
    # tol stops this run early, so it looks converged to the stopping rule
    model = _fit(_sgd(1e-6), cancer)
    assert model.n_iter_ < model.max_iter
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_low"
    assert "barely moved" in diagnosis.message
    assert _suggested_rate(diagnosis) > 1e-6


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_tiny_sgd_rate_is_too_low_for_an_mlp(digits, dropout):
    # dropout makes the loss jitter instead of falling every epoch
    model = _fit(MLPClassifier(hidden_layer_sizes=(16,), optimizer="sgd",
                               learning_rate=1e-6, dropout=dropout, max_iter=30,
                               random_state=0), digits)
    assert diagnose(model).verdict == "too_low"


def test_slow_steady_decline_is_too_low(cancer):
    diagnosis = diagnose(_fit(_sgd(1e-4), cancer))
    assert diagnosis.verdict == "too_low"
    assert "still falling steadily" in diagnosis.message
    assert "max_iter" in diagnosis.suggestion
    assert _suggested_rate(diagnosis) == pytest.approx(1e-3)


@pytest.mark.parametrize("rate", [0.1, 1.0])
def test_good_sgd_rate_converged(cancer, rate):
    diagnosis = diagnose(_fit(_sgd(rate), cancer))
    assert diagnosis.verdict == "converged"
    assert "looks right" in diagnosis.message


def test_good_adam_rate_converged(digits):
    model = _fit(MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.01,
                               max_iter=30, random_state=0), digits)
    assert diagnose(model).verdict == "converged"


def test_oscillating_loss_is_too_high(cancer):
    model = _fit(_sgd(30.0), cancer)
    assert model.n_divergences_ == 0
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_high"
    assert "oscillates" in diagnosis.message
    assert _suggested_rate(diagnosis) < 30.0


def test_oscillating_adam_mlp_is_too_high(digits):
    model = _fit(MLPClassifier(hidden_layer_sizes=(16,), learning_rate=0.3,
                               max_iter=30, random_state=0), digits)
    assert diagnose(model).verdict == "too_high"


def test_back_off_is_too_high(cancer):
    model = _fit(_sgd(300.0), cancer)
    assert model.n_divergences_ >= 1
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_high"
    assert "blew up" in diagnosis.message and "300" in diagnosis.message
    assert _suggested_rate(diagnosis) <= model.learning_rate_


def test_stop_on_divergence_is_diverged(diabetes):
    model = _fit(LinearRegressor(optimizer="sgd", learning_rate=3.0,
                                 on_divergence="stop", random_state=0), diabetes)
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "diverged"
    assert _suggested_rate(diagnosis) == pytest.approx(0.3)


def test_rising_loss_is_diverged(diabetes):
    # too large to settle, not large enough for the engine's blow-up check
    model = _fit(LinearRegressor(optimizer="sgd", learning_rate=0.5, max_iter=50,
                                 random_state=0), diabetes)
    assert model.n_divergences_ == 0
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "diverged"
    assert "rose" in diagnosis.message


def test_jittery_level_is_a_plateau(diabetes):
    model = _fit(LinearRegressor(optimizer="sgd", learning_rate=0.3, max_iter=50,
                                 random_state=0), diabetes)
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "plateau"
    assert "'cosine'" in diagnosis.suggestion
    assert _suggested_rate(diagnosis) == pytest.approx(0.1)


def test_pipeline_diagnoses_its_last_step(cancer):
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = _fit(make_pipeline(StandardScaler(), _sgd(1e-4)), (X, y))
    assert diagnose(pipeline) == diagnose(pipeline[-1])
    assert diagnose(pipeline).verdict == "too_low"


def test_str_is_the_message(cancer):
    diagnosis = diagnose(_fit(_sgd(0.1), cancer))
    assert isinstance(diagnosis, Diagnosis)
    assert str(diagnosis) == diagnosis.message


def test_unfitted_raises_not_fitted():
    with pytest.raises(NotFittedError):
        diagnose(LogisticClassifier())
    with pytest.raises(NotFittedError):
        diagnose(make_pipeline(StandardScaler(), LogisticClassifier()))


def test_not_an_sklr_estimator(cancer):
    with pytest.raises(ValueError, match="sklr estimator"):
        diagnose(LogisticRegression().fit(*cancer))


def test_docstring_example_runs():
    results = doctest.testmod(sklr.diagnostics)
    assert results.attempted > 0
    assert results.failed == 0


# ---------------------------------------------------------- hand-made curves
@pytest.fixture
def run(cancer):
    """A fitted estimator whose recorded curves the tests overwrite."""
    model = _fit(_sgd(0.1, max_iter=3), cancer)

    def with_curves(losses, *, max_iter=100, rates=None, divergences=0,
                    validation=None, on_divergence="backoff"):
        model.set_params(max_iter=max_iter, on_divergence=on_divergence)
        model.loss_curve_ = [float(loss) for loss in losses]
        model.n_iter_ = len(model.loss_curve_)
        model.learning_rate_curve_ = ([0.1] * model.n_iter_ if rates is None
                                      else list(rates))
        model.learning_rate_ = (model.learning_rate_curve_[-1] if model.n_iter_
                                else 0.1)
        model.n_divergences_ = divergences
        model.validation_scores_ = validation
        return model

    return with_curves


def _smooth(n_epochs, floor=0.2):
    return floor + np.exp(-np.arange(n_epochs) / 3.0)


def test_smooth_flattening_curve_converged(run):
    assert diagnose(run(_smooth(40))).verdict == "converged"


def test_two_rises_are_oscillation_one_is_a_plateau(run):
    one = _smooth(40)
    one[20] *= 1.06
    assert diagnose(run(one)).verdict == "plateau"
    two = one.copy()
    two[30] *= 1.06
    diagnosis = diagnose(run(two))
    assert diagnosis.verdict == "too_high"
    assert diagnosis.evidence["n_rises"] == 2


def test_rises_below_five_percent_are_not_oscillation(run):
    curve = _smooth(40)
    curve[10:30:4] *= 1.04
    assert diagnose(run(curve)).verdict != "too_high"


def test_jitter_at_the_end_is_a_plateau(run):
    curve = _smooth(40)
    curve[-5:] *= [1.0, 1.02, 1.0, 1.02, 1.0]
    diagnosis = diagnose(run(curve))
    assert diagnosis.verdict == "plateau"
    assert "'cosine'" in diagnosis.suggestion


def test_jitter_while_still_improving_is_no_plateau(run):
    curve = _smooth(40) + np.linspace(0.1, 0.0, 40)
    curve[25] *= 1.02
    assert diagnose(run(curve)).verdict == "converged"
    assert diagnose(run(curve)).evidence["late_gain"] > 0.02


def test_jitter_of_a_loss_near_zero_is_no_rise(run):
    curve = 2.0 * np.exp(-np.arange(40) / 2.0) + 1e-3
    curve[[20, 30]] *= 2.0  # doubled, but by under 1% of a tenth of the first
    diagnosis = diagnose(run(curve))
    assert diagnosis.evidence["n_rises"] == 0
    assert diagnosis.verdict == "converged"
    curve[[20, 30]] += 0.02  # now each by more than 5% of that floor
    assert diagnose(run(curve)).verdict == "too_high"


def test_plateau_under_a_decaying_schedule_suggests_a_smaller_rate(run):
    curve = _smooth(40)
    curve[20] *= 1.06
    diagnosis = diagnose(run(curve, rates=list(np.geomspace(0.1, 0.01, 40))))
    assert diagnosis.verdict == "plateau"
    assert "cosine" not in diagnosis.suggestion
    assert _suggested_rate(diagnosis) == pytest.approx(0.003)


def test_linear_decline_hitting_max_iter_is_too_low(run):
    linear = np.linspace(1.0, 0.5, 50)
    assert diagnose(run(linear, max_iter=50)).verdict == "too_low"
    # the same decline that levels off is fine
    assert diagnose(run(_smooth(50), max_iter=50)).verdict == "converged"


def test_falling_loss_under_early_stopping_is_not_too_low(run):
    linear = list(np.linspace(1.0, 0.5, 30))
    scores = list(np.linspace(0.8, 0.9, 20)) + [0.9] * 10
    diagnosis = diagnose(run(linear, validation=scores))
    assert diagnosis.verdict == "converged"
    assert "validation" in diagnosis.message
    assert diagnose(run(linear)).verdict == "too_low"


def test_flat_curve_jittering_around_its_start_made_no_progress(run):
    curve = np.tile([1.0, 0.98], 15)  # no trend, only ups and downs of 2%
    diagnosis = diagnose(run(curve))
    assert diagnosis.verdict == "too_low"
    assert "barely moved" in diagnosis.message


def test_very_short_run_is_too_low(run):
    diagnosis = diagnose(run([1.0, 0.8], max_iter=2))
    assert diagnosis.verdict == "too_low"
    assert "max_iter" in diagnosis.suggestion


def test_no_epoch_completed_before_stopping_is_diverged(run):
    diagnosis = diagnose(run([], divergences=1, on_divergence="stop"))
    assert diagnosis.verdict == "diverged"
    assert "epoch 1" in diagnosis.message


def test_too_many_back_offs_is_diverged(run):
    model = run(_smooth(20), divergences=11)
    assert diagnose(model).verdict == "diverged"
    model = run(_smooth(20), divergences=2)
    assert diagnose(model).verdict == "too_high"


@pytest.mark.parametrize("name", ["prodigy", "dog"])
def test_a_learning_rate_free_fit_is_judged_in_learning_rate_units(cancer, name):
    # learning_rate=1 is 100 times the default: a factor of 100 on the
    # optimizer's own step size, which blows up and backs off
    model = _fit(LogisticClassifier(optimizer=name, learning_rate=1.0, max_iter=30,
                                    random_state=0), cancer)
    assert model.n_divergences_ >= 1
    # the rate it backed off to, in the units learning_rate takes
    assert model.learning_rate_ == pytest.approx(0.1 ** model.n_divergences_)
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_high"
    assert diagnosis.evidence["learning_rate"] == model.learning_rate_
    # a value to set: below the rate that blew up (a factor, 100x, before)
    suggested = _suggested_rate(diagnosis)
    assert suggested <= model.learning_rate_ < 1.0


def test_a_loss_still_falling_fast_at_max_iter_is_too_low():
    # a geometric decline: the late pace is small against the early drop, but
    # the last quarter still cut the loss by more than half; the fit itself
    # warned that max_iter ended it, and diagnose used to call it converged
    rng = np.random.RandomState(0)
    X = rng.randn(300, 2)
    y = 2 * X[:, 0] - X[:, 1] + 0.1 * rng.randn(300)
    model = _fit(LinearRegressor(learning_rate=0.01, max_iter=50, random_state=0),
                 (X, y))
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_low"
    assert "still falling" in diagnosis.message
    assert _suggested_rate(diagnosis) > 0.01


def test_a_flat_loss_that_jitters_up_is_no_divergence():
    # the loss ends a hair above its first value: no progress, not a blow-up
    rng = np.random.RandomState(0)
    X = rng.randn(2000, 5)
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + rng.randn(2000)
    model = _fit(LinearRegressor(optimizer="sgd", learning_rate=0.01, random_state=0),
                 (X * 1e-3, y))
    assert model.loss_curve_[-1] > model.loss_curve_[0]
    diagnosis = diagnose(model)
    assert diagnosis.verdict == "too_low"
    assert _suggested_rate(diagnosis) > 0.01
