"""Adding an optimizer and a schedule by name: one class, one registry line, one table entry.

A throwaway optimizer (Lion, Chen et al. 2023) and schedule (polynomial
decay) are registered for the length of each test, then run through the
common checks of tests/test_optimizers.py and tests/test_schedules.py and
through a lockstep search compared with GridSearchCV.
"""

import math
from numbers import Real

import numpy as np
import pytest
import test_optimizers
import test_schedules
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklr import LogisticClassifier
from sklr._compat import Interval, InvalidParameterError
from sklr.model_selection import LockstepGridSearchCV
from sklr.optimizers import OPTIMIZER_ALIASES, Optimizer
from sklr.schedules import SCHEDULE_ALIASES, Schedule


class Lion(Optimizer):
    """Sign of an interpolated momentum; decoupled weight decay."""

    _parameter_constraints = {
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.weight_decay = weight_decay

    def init_state(self, param):
        return {"m": np.zeros_like(param)}

    def step(self, param, grad, state, lr, hyper, t):
        m = state["m"]
        direction = np.sign(hyper["beta_1"] * m + (1 - hyper["beta_1"]) * grad)
        param *= 1 - lr * hyper["weight_decay"]
        param -= lr * direction
        m *= hyper["beta_2"]
        m += (1 - hyper["beta_2"]) * grad


def ref_lion(p, grads, lr, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
    m, out = 0.0, []
    for g in grads:
        c = beta_1 * m + (1 - beta_1) * g
        p = p * (1 - lr * weight_decay) - lr * math.copysign(1.0, c) * (c != 0)
        m = beta_2 * m + (1 - beta_2) * g
        out.append(p)
    return out


class PolynomialDecay(Schedule):
    """``(1 - progress / n_epochs) ** power``, 0 past the horizon."""

    _parameter_constraints = {"power": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, power=1.0):
        self.power = power

    def __call__(self, progress, n_epochs=None, state=None):
        fraction = np.minimum(np.asarray(progress, dtype=np.float64) / n_epochs, 1.0)
        return ((1 - fraction) ** self.power)[()]


LION_CASE = (Lion, {"weight_decay": 0.01}, {"beta_1": 0.5, "beta_2": 0.9}, ref_lion)
POLY_CASE = (PolynomialDecay(power=2.0),
             lambda p: (1 - min(p / test_schedules.HORIZON, 1)) ** 2)


@pytest.fixture
def registered():
    OPTIMIZER_ALIASES.register("lion", Lion(), "sign of an interpolated momentum")
    SCHEDULE_ALIASES.register("poly", PolynomialDecay(), "polynomial decay to 0")
    yield
    OPTIMIZER_ALIASES.unregister("lion")
    SCHEDULE_ALIASES.unregister("poly")


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 2)])
def test_optimizer_passes_the_common_checks(shape):
    test_optimizers.test_step_matches_reference(*LION_CASE, shape)
    test_optimizers.test_float32_stays_float32(*LION_CASE)
    test_optimizers.test_init_state_is_zeros_like_param(*LION_CASE)
    test_optimizers.test_clone_and_params_round_trip(*LION_CASE)
    test_optimizers.test_hyperparameters_exclude_structural(*LION_CASE)
    test_optimizers.test_stack_of_members_equals_single_fits(*LION_CASE)


def test_schedule_passes_the_common_checks():
    test_schedules.test_values_match_closed_form(*POLY_CASE)
    test_schedules.test_vectorized_equals_scalar(*POLY_CASE)
    test_schedules.test_clone_and_params_round_trip(*POLY_CASE)


def test_names_work_once_registered_and_only_then(registered):
    X, y = _data()
    model = LogisticClassifier(optimizer="lion", learning_rate=1e-3, schedule="poly",
                               max_iter=5, tol=None, random_state=0).fit(X, y)
    assert isinstance(model.optimizer_, Lion)
    assert isinstance(model.schedule_, PolynomialDecay)
    # the last of two minibatches of the last epoch: progress 4.5 of 5
    assert model.learning_rate_curve_[-1] == pytest.approx(1e-3 * (1 - 4.5 / 5))
    OPTIMIZER_ALIASES.unregister("lion")
    try:
        with pytest.raises(InvalidParameterError, match="optimizer"):
            LogisticClassifier(optimizer="lion").fit(X, y)
    finally:
        OPTIMIZER_ALIASES.register("lion", Lion())


def test_registered_names_in_a_lockstep_search_equal_grid_search(registered):
    X, y = _data()
    estimator = LogisticClassifier(optimizer="lion", schedule="poly", max_iter=4,
                                   tol=None, random_state=0)
    grid = {"learning_rate": [3e-3, 3e-2], "optimizer": ["lion", Lion()],
            "optimizer__beta_1": [0.5, 0.9], "schedule__power": [1.0, 2.0]}
    grid = [{"learning_rate": grid["learning_rate"], "optimizer": [Lion()],
             "optimizer__beta_1": grid["optimizer__beta_1"],
             "schedule": ["poly"]},
            {"learning_rate": grid["learning_rate"], "optimizer": ["lion"],
             "schedule": [PolynomialDecay()],
             "schedule__power": grid["schedule__power"]}]
    lockstep = LockstepGridSearchCV(estimator, grid, cv=3).fit(X, y)
    reference = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    np.testing.assert_allclose(lockstep.cv_results_["mean_test_score"],
                               reference.cv_results_["mean_test_score"], atol=1e-12)
    assert lockstep.best_params_ == reference.best_params_


def test_registry_refuses_duplicates_and_wrong_types():
    with pytest.raises(ValueError, match="registered already"):
        OPTIMIZER_ALIASES.register("adam", Lion())
    with pytest.raises(TypeError, match="must be an Optimizer"):
        OPTIMIZER_ALIASES.register("lion", PolynomialDecay())
    assert "lion" not in OPTIMIZER_ALIASES


def _data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X[:240]), y[:240]
