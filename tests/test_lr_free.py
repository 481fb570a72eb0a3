"""The optimizers that need no tuned learning rate: DoG, Prodigy, schedule-free SGD and AdamW.

Their trajectories are checked against a transcription of the papers' update
equations (``tests/test_optimizers.py``) and, with the ``reference`` extra
installed, against the authors' PyTorch packages, on one small full-batch
problem: an MLP whose gradients both sides take from sklr's model, so that
only the optimizers differ. Then: stacks equal single fits, the meaning of
``learning_rate``, the evaluation point, and default fits that work.
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    make_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from test_optimizers import (
    DoGReference,
    ProdigyReference,
    ScheduleFreeAdamWReference,
    ScheduleFreeSGDReference,
    assert_stack_equals_single_fits,
)

from sklr import LinearRegressor, LogisticClassifier, MLPClassifier
from sklr._engine import Stack
from sklr.exceptions import DivergenceWarning
from sklr.optimizers import (
    SGD,
    Adam,
    DoG,
    Prodigy,
    ScheduleFreeAdamW,
    ScheduleFreeSGD,
    resolve_optimizer,
)
from sklr.schedules import CosineAnnealing, Schedule, Warmup

N_STEPS = 40
# a rate that changes every step: warm-up then cosine decay, so that the
# schedule-free weights' running maximum and Prodigy's rate-weighted sums matter
SCHEDULE = Warmup(CosineAnnealing(min_factor=0.1), warmup_epochs=6, start_factor=0.2)

# (optimizer, estimator learning_rate, reference class, reference parameters):
# defaults, then every option away from its default
CASES = [
    pytest.param(DoG(), 1e-3, DoGReference, {}, id="dog"),
    pytest.param(DoG(reps_rel=1e-3, epsilon=1e-4), 5e-4, DoGReference,
                 {"reps_rel": 1e-3, "epsilon": 1e-4}, id="dog-options"),
    pytest.param(Prodigy(), 1e-3, ProdigyReference, {}, id="prodigy"),
    pytest.param(
        Prodigy(beta_1=0.8, beta_2=0.99, beta_3=0.9, epsilon=1e-6, weight_decay=0.05,
                d0=1e-4, d_coef=0.5, growth_rate=1.3),
        2e-3, ProdigyReference,
        {"beta_1": 0.8, "beta_2": 0.99, "beta_3": 0.9, "epsilon": 1e-6,
         "weight_decay": 0.05, "d0": 1e-4, "d_coef": 0.5, "growth_rate": 1.3},
        id="prodigy-options"),
    pytest.param(Prodigy(use_bias_correction=True, safeguard_warmup=True, d_coef=10.0),
                 1e-3, ProdigyReference,
                 {"use_bias_correction": True, "safeguard_warmup": True,
                  "d_coef": 10.0},
                 id="prodigy-bias-safeguard"),
    pytest.param(ScheduleFreeSGD(), 0.5, ScheduleFreeSGDReference, {},
                 id="schedule_free_sgd"),
    pytest.param(ScheduleFreeSGD(momentum=0.7, r=1.0, weight_lr_power=1.0), 0.3,
                 ScheduleFreeSGDReference,
                 {"momentum": 0.7, "r": 1.0, "weight_lr_power": 1.0},
                 id="schedule_free_sgd-options"),
    pytest.param(ScheduleFreeAdamW(), 0.05, ScheduleFreeAdamWReference, {},
                 id="schedule_free_adamw"),
    pytest.param(
        ScheduleFreeAdamW(beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.1,
                          r=0.5, weight_lr_power=1.0),
        0.03, ScheduleFreeAdamWReference,
        {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "weight_decay": 0.1,
         "r": 0.5, "weight_lr_power": 1.0},
        id="schedule_free_adamw-options"),
]


class FullBatchProblem:
    """A small MLP classifier trained full batch by sklr's engine, one step an epoch.

    ``gradient(parameters)`` is the model's gradient at a list of arrays (no
    member axis), the oracle the reference implementations step with.
    """

    def __init__(self, optimizer, learning_rate):
        X, y = make_classification(n_samples=60, n_features=5, n_informative=3,
                                   random_state=0)
        self.estimator = MLPClassifier(
            hidden_layer_sizes=(4, 3), activation="tanh", optimizer=optimizer,
            learning_rate=learning_rate, schedule=SCHEDULE, alpha=0.0,
            batch_size=len(X), shuffle=False, tol=None, max_iter=N_STEPS,
            random_state=0)
        self.plan = self.estimator._plan(X, y)
        self.stack = Stack.from_plans([self.plan])
        self.start = [p[0].copy() for p in self.stack.state.params]
        self.weights = np.full(len(X), 1 / len(X))

    def gradient(self, parameters):
        model, data = self.plan.model, self.plan.data
        params = [p[None] for p in parameters]
        raw, cache = model.forward(params, self.stack.state.buffers, data.X,
                                   training=True)
        _, grad_raw = self.plan.loss(raw, data.Y, self.weights)
        return [g[0] for g in model.backward(params, cache, grad_raw)]

    def run(self):
        """The parameters gradients are taken at, the evaluation point and the
        learning rate, after each step."""
        points, evaluated, rates = [], [], []
        for _ in range(N_STEPS):
            self.stack.train(self.plan.data, 1, horizon=N_STEPS, stopping=False)
            points.append([p[0].copy() for p in self.stack.state.params])
            evaluated.append([p[0].copy() for p in self.stack._evaluation_params()])
            # the rate the optimizer stepped with: a factor for DoG and Prodigy
            rates.append(self.stack.records[0].learning_rate_curve[-1]
                         / self.plan.member.rate_unit)
        assert self.stack.records[0].n_divergences == 0
        return points, evaluated, rates


def _flat(arrays):
    return np.concatenate([a.ravel() for a in arrays])


def _split(vector, like):
    sizes = np.cumsum([a.size for a in like])[:-1]
    return [part.reshape(a.shape) for part, a in zip(np.split(vector, sizes), like)]


@pytest.mark.parametrize("optimizer, learning_rate, reference, params", CASES)
def test_trajectory_matches_the_papers_update_equations(optimizer, learning_rate,
                                                        reference, params):
    problem = FullBatchProblem(optimizer, learning_rate)
    points, evaluated, rates = problem.run()
    # the references see one vector: norms and inner products over all of the
    # model's parameters at once
    ref = reference(_flat(problem.start), **params)
    y = _flat(problem.start)
    for step, lr in enumerate(rates):
        y = ref.step(_flat(problem.gradient(_split(y, problem.start))), lr)
        # atol: entries near 0 among parameters of order 1
        np.testing.assert_allclose(_flat(points[step]), y, rtol=1e-10, atol=1e-11)
        x = getattr(ref, "x", y)
        np.testing.assert_allclose(_flat(evaluated[step]), x, rtol=1e-10, atol=1e-11)
    # the steps grew (the estimates adapted) or kept on: fails on a no-op
    start = _flat(problem.start)
    assert (np.abs(y - start).max()
            > 20 * np.abs(_flat(points[0]) - start).max())


def _torch_optimizer(optimizer, tensors):
    """The authors' implementation, with sklr's hyperparameters in its spelling."""
    p = optimizer.get_params()
    if isinstance(optimizer, DoG):
        dog = pytest.importorskip("dog")
        return dog.DoG(tensors, reps_rel=p["reps_rel"], eps=p["epsilon"])
    if isinstance(optimizer, Prodigy):
        prodigyopt = pytest.importorskip("prodigyopt")
        return prodigyopt.Prodigy(
            tensors, betas=(p["beta_1"], p["beta_2"]), beta3=p["beta_3"],
            eps=p["epsilon"], weight_decay=p["weight_decay"],
            use_bias_correction=p["use_bias_correction"],
            safeguard_warmup=p["safeguard_warmup"], d0=p["d0"], d_coef=p["d_coef"],
            growth_rate=p["growth_rate"])
    schedulefree = pytest.importorskip("schedulefree")
    if isinstance(optimizer, ScheduleFreeSGD):
        reference = schedulefree.SGDScheduleFree(
            tensors, momentum=p["momentum"], r=p["r"],
            weight_lr_power=p["weight_lr_power"])
    else:
        reference = schedulefree.AdamWScheduleFree(
            tensors, betas=(p["beta_1"], p["beta_2"]), eps=p["epsilon"],
            weight_decay=p["weight_decay"], r=p["r"],
            weight_lr_power=p["weight_lr_power"])
    reference.train()
    return reference


@pytest.mark.parametrize("optimizer, learning_rate, reference, params", CASES)
def test_trajectory_matches_the_authors_package(optimizer, learning_rate, reference,
                                               params):
    torch = pytest.importorskip("torch")
    problem = FullBatchProblem(optimizer, learning_rate)
    points, evaluated, rates = problem.run()
    # one tensor per parameter array, as a PyTorch model has them
    tensors = [torch.nn.Parameter(torch.tensor(a, dtype=torch.float64))
               for a in problem.start]
    package = _torch_optimizer(optimizer, tensors)
    schedule_free = hasattr(package, "eval")
    for step, lr in enumerate(rates):
        grads = problem.gradient([t.detach().numpy() for t in tensors])
        for tensor, grad in zip(tensors, grads):
            tensor.grad = torch.tensor(grad)
        for group in package.param_groups:
            group["lr"] = lr
        package.step()
        y = [t.detach().numpy().copy() for t in tensors]
        np.testing.assert_allclose(_flat(points[step]), _flat(y), rtol=1e-6,
                                   atol=1e-9)
        if schedule_free:
            # the package swaps x into the parameters for evaluation
            package.eval()
            x = [t.detach().numpy().copy() for t in tensors]
            package.train()
            np.testing.assert_allclose(_flat(evaluated[step]), _flat(x), rtol=1e-6,
                                       atol=1e-9)


# ----------------------------------------------------------------- stacks

MEMBERS = {
    "dog": [DoG(), DoG(reps_rel=1e-4), DoG(epsilon=1e-6)],
    "prodigy": [Prodigy(), Prodigy(d_coef=0.5, beta_3=0.9),
                Prodigy(d0=1e-4, growth_rate=1.1, weight_decay=0.01)],
    "schedule_free_sgd": [ScheduleFreeSGD(), ScheduleFreeSGD(momentum=0.5),
                          ScheduleFreeSGD(r=1.0, weight_lr_power=0.0)],
    "schedule_free_adamw": [ScheduleFreeAdamW(), ScheduleFreeAdamW(beta_1=0.8),
                            ScheduleFreeAdamW(weight_decay=0.1, r=0.5)],
}


@pytest.fixture(scope="module")
def small_classification():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=3, random_state=1)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("name", MEMBERS)
def test_a_stack_of_members_equals_their_single_fits(small_classification, name):
    # minibatches, an MLP (six parameter arrays in one block: the global norms
    # must stay per member) and a rate per member
    X, y = small_classification
    estimators = [
        MLPClassifier(hidden_layer_sizes=(8, 5), optimizer=optimizer,
                      learning_rate=rate, schedule=SCHEDULE, batch_size=32,
                      max_iter=4, tol=None, random_state=3)
        for optimizer, rate in zip(MEMBERS[name], (1e-3, 2e-3, 5e-4))]
    if name.startswith("schedule_free"):
        for estimator in estimators:
            estimator.set_params(learning_rate=estimator.learning_rate * 20)
    assert_stack_equals_single_fits(estimators, X, y, 4)


# ------------------------------------------------------- what learning_rate means


@pytest.mark.parametrize("name", ["dog", "prodigy"])
@pytest.mark.parametrize("Estimator", [LogisticClassifier, MLPClassifier])
def test_learning_rate_is_a_factor_on_the_estimate(small_classification, name,
                                                   Estimator):
    # in units of the estimator's default: the default is the factor 1
    X, y = small_classification
    default = Estimator().learning_rate
    kwargs = {"optimizer": name, "max_iter": 2, "tol": None, "random_state": 0}
    if Estimator is MLPClassifier:
        kwargs["hidden_layer_sizes"] = (5,)
    plain = Estimator(**kwargs).fit(X, y)
    assert plain.learning_rate_ == default
    assert plain._plan(X, y).member.learning_rate == 1.0
    doubled = Estimator(learning_rate=2 * default, **kwargs).fit(X, y)
    assert doubled._plan(X, y).member.learning_rate == pytest.approx(2.0)
    assert doubled.learning_rate_ == pytest.approx(2 * default)
    assert doubled.learning_rate_curve_ == pytest.approx([2 * default] * 2)


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_learning_rate_is_the_step_size(small_classification, name):
    # schedule-free methods drop the schedule, not the rate: it is the step size
    assert not resolve_optimizer(name).learning_rate_free
    X, y = small_classification
    model = LogisticClassifier(optimizer=name, learning_rate=0.3, max_iter=2,
                               tol=None).fit(X, y)
    assert model.learning_rate_ == 0.3


def test_auto_finds_a_factor_and_warm_start_keeps_it(small_classification):
    # the range test sweeps the factor itself; a continued fit reuses it as
    # it is, not divided by the default again
    X, y = small_classification
    model = LogisticClassifier(optimizer="prodigy", learning_rate="auto", max_iter=3,
                               tol=None, warm_start=True, random_state=0).fit(X, y)
    rate = model.learning_rate_
    assert 1e-5 < rate < 1.0
    assert model.fit(X, y).learning_rate_curve_[-1] == pytest.approx(rate)


def test_only_the_estimating_optimizers_are_learning_rate_free():
    free = {type(resolve_optimizer(name)) for name in ("dog", "prodigy")}
    assert all(cls.learning_rate_free for cls in free)
    assert not SGD.learning_rate_free and not Adam.learning_rate_free


def test_a_grid_over_learning_rate_searches_the_factor(small_classification):
    from sklr.model_selection import LockstepGridSearchCV

    X, y = small_classification
    search = LockstepGridSearchCV(
        LogisticClassifier(optimizer="dog", max_iter=5, tol=None, random_state=0),
        {"learning_rate": [0.005, 0.01, 0.02]}, cv=2).fit(X, y)
    rates = [split["learning_rate_curve"][0]
             for candidate in search.curves_ for split in candidate]
    # two folds of each candidate, factors 0.5, 1 and 2 of the estimate,
    # reported as the learning_rate of each
    assert sorted(set(np.round(rates, 12))) == [0.005, 0.01, 0.02]
    plans = [c._plan(X, y).member.learning_rate
             for c in (LogisticClassifier(optimizer="dog", learning_rate=r)
                       for r in (0.005, 0.02))]
    assert plans == pytest.approx([0.5, 2.0])


def test_prodigy_beta_3_none_is_the_root_of_beta_2():
    optimizers = [Prodigy(), Prodigy(beta_2=0.81), Prodigy(beta_3=0.5)]
    hyper = optimizers[0].hyperparameters(optimizers, np.float64)
    np.testing.assert_allclose(hyper["beta_3"], [math.sqrt(0.999), 0.9, 0.5])
    # resolved in the copy only: the user's object keeps None
    assert optimizers[0].beta_3 is None


# ----------------------------------------------------------- schedule-free x


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_fits_and_predicts_with_the_average(small_classification, name):
    X, y = small_classification
    model = LogisticClassifier(optimizer=name, learning_rate=0.1, max_iter=5,
                               tol=None, random_state=0).fit(X, y)
    state = model._record.state
    x = [s["x"] for s in state.opt_state]
    for fitted, averaged, point in zip(model._params, x, state.params):
        np.testing.assert_array_equal(fitted, averaged)
        assert not np.allclose(averaged, point)
    np.testing.assert_allclose(model.coef_, x[0][0].T)
    np.testing.assert_allclose(model.decision_function(X),
                               X @ model.coef_.T + model.intercept_)


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_validation_and_best_weights_use_the_average(
        small_classification, name):
    X, y = small_classification
    model = MLPClassifier(hidden_layer_sizes=(8,), optimizer=name, learning_rate=0.05,
                          early_stopping=True, max_iter=15, tol=None,
                          random_state=0).fit(X, y)
    best = int(np.argmax(model.validation_scores_))
    assert model.best_validation_score_ == model.validation_scores_[best]
    assert np.isfinite(model.validation_scores_).all()


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_schedule_free_refuses_the_l1_penalty(name):
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="L1 penalty.*penalty='l2'"):
        LinearRegressor(optimizer=name, penalty="l1", max_iter=2).fit(X, y)


@pytest.mark.parametrize("name", ["dog", "prodigy"])
def test_l1_shrinks_by_the_step_actually_taken(name):
    # the proximal step uses the optimizer's own step size, not the factor:
    # exact zeros where the lasso has them, the others near its values
    from sklearn.linear_model import Lasso

    X, y = make_classification(n_samples=200, n_features=8, n_informative=3,
                               n_redundant=0, random_state=0)
    X = StandardScaler().fit_transform(X)
    target = X @ np.array([2.0, -1.0, 0.5, 0, 0, 0, 0, 0]) + 0.1 * y
    alpha = 0.05
    lasso = Lasso(alpha=alpha).fit(X, target)
    model = LinearRegressor(optimizer=name, penalty="l1", alpha=alpha, batch_size=200,
                            max_iter=400, tol=None, random_state=0).fit(X, target)
    np.testing.assert_array_equal(model.coef_ == 0, lasso.coef_ == 0)
    np.testing.assert_allclose(model.coef_, lasso.coef_, atol=0.02)


# ------------------------------------------------------------- default fits


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        StandardScaler().fit_transform(X), y, random_state=0, stratify=y)
    baseline = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, baseline.score(X_test, y_test)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        StandardScaler().fit_transform(X), y, random_state=0)
    baseline = LinearRegression().fit(X_train, y_train)
    return X_train, X_test, y_train, y_test, baseline.score(X_test, y_test)


NAMES = ["dog", "prodigy", "schedule_free_sgd", "schedule_free_adamw"]


def _default_fit(Estimator, name, data, **kwargs):
    X_train, X_test, y_train, y_test, baseline = data
    with warnings.catch_warnings():
        # a fit may end at max_iter: its score is what is checked
        warnings.simplefilter("ignore")
        model = Estimator(optimizer=name, random_state=0, **kwargs).fit(X_train,
                                                                        y_train)
    assert model.n_divergences_ == 0
    return model.score(X_test, y_test), baseline


# the schedule-free SGD's rate is a step size, which the estimators' default
# (set for Adam) makes small for an SGD method: see the test after these
SETTING_THEIR_OWN_STEP = ["dog", "prodigy", "schedule_free_adamw"]


@pytest.mark.parametrize("name", SETTING_THEIR_OWN_STEP)
def test_a_default_fit_scores_like_the_closed_form_linear_model(cancer, diabetes,
                                                                 name):
    score, baseline = _default_fit(LogisticClassifier, name, cancer)
    assert score >= baseline - 0.03
    score, baseline = _default_fit(LinearRegressor, name, diabetes)
    assert score >= baseline - 0.03


@pytest.mark.parametrize("name", SETTING_THEIR_OWN_STEP)
def test_a_default_mlp_fit_scores_sensibly(cancer, name):
    score, baseline = _default_fit(MLPClassifier, name, cancer,
                                   hidden_layer_sizes=(32,))
    assert score >= baseline - 0.04


@pytest.mark.parametrize("Estimator, kwargs", [
    (LogisticClassifier, {}), (MLPClassifier, {"hidden_layer_sizes": (32,)})])
def test_schedule_free_sgd_wants_a_larger_rate_than_the_default(cancer, Estimator,
                                                                kwargs):
    # a default fit works but underfits; ten times the default rate, where
    # sklr's "momentum" (whose steps add up to ten gradients) is at the
    # default, fits well
    score, baseline = _default_fit(Estimator, "schedule_free_sgd", cancer, **kwargs)
    assert 0.8 <= score < baseline - 0.02
    rate = 10 * Estimator().learning_rate
    score, baseline = _default_fit(Estimator, "schedule_free_sgd", cancer,
                                   learning_rate=rate, **kwargs)
    assert score >= baseline - 0.03


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_in_a_fit(cancer, name):
    X_train, _, y_train, _, _ = cancer
    model = LogisticClassifier(optimizer=name, max_iter=5, tol=None).fit(
        X_train.astype(np.float32), y_train)
    assert model.coef_.dtype == np.float32
    state = model._record.state
    assert all(a.dtype == np.float32 for s in state.opt_state for a in s.values())


@pytest.mark.parametrize("name", NAMES)
def test_warm_start_continues_the_optimizer_state(small_classification, name):
    # full batch and no shuffling: three epochs then three more are six epochs,
    # the initial point, the estimates and the averages carried over
    X, y = small_classification
    kwargs = {"optimizer": name, "batch_size": len(X), "shuffle": False, "tol": None,
              "random_state": 0}
    if name.startswith("schedule_free"):
        kwargs["learning_rate"] = 0.1
    six = LogisticClassifier(max_iter=6, **kwargs).fit(X, y)
    resumed = LogisticClassifier(max_iter=3, warm_start=True, **kwargs).fit(X, y)
    resumed.fit(X, y)
    for a, b in zip(six._params, resumed._params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


class _JumpAt(Schedule):
    """Factor 1, then ``factor`` from epoch ``at`` on: a late, too large rate."""

    _parameter_constraints = {}

    def __init__(self, at=20, factor=40.0):
        self.at = at
        self.factor = factor

    def __call__(self, progress, n_epochs=None, state=None):
        return np.where(np.asarray(progress) >= self.at, self.factor, 1.0)[()]


def test_a_backoff_restarts_schedule_free_at_its_average(diabetes):
    # full batch: the state before every step is the last good one. The jump
    # sends z away a step before the loss at y (a tenth of z's excursion)
    # crosses the divergence limit; restored with that z, the fit took the
    # rest of the run to come back (R^2 0.40 instead of 0.52)
    X_train, _, y_train, _, _ = diabetes
    kwargs = {"optimizer": "schedule_free_adamw", "learning_rate": 0.5,
              "batch_size": len(X_train), "shuffle": False, "max_iter": 60,
              "tol": None, "random_state": 0}
    calm = LinearRegressor(**kwargs).fit(X_train, y_train)
    with pytest.warns(DivergenceWarning):
        jumped = LinearRegressor(schedule=_JumpAt(), **kwargs).fit(X_train, y_train)
    assert jumped.n_divergences_ >= 1
    assert jumped.score(X_train, y_train) >= calm.score(X_train, y_train) - 0.01


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_restart_collapses_the_sequences_and_keeps_the_weights(name):
    optimizer = resolve_optimizer(name)
    rng = np.random.default_rng(0)
    params = [rng.normal(size=(3, 4))]
    states = [optimizer.init_state(params[0])]
    for key in ("z", "x"):
        states[0][key][...] = rng.normal(size=(3, 4))
    states[0]["weight_sum"][...] = 7.0
    before = {key: value.copy() for key, value in states[0].items()}
    optimizer.restart(params, states, optimizer.evaluation_point(params, states), [0, 2])
    for key in ("z", "x"):
        np.testing.assert_array_equal(states[0][key][[0, 2]], before["x"][[0, 2]])
        np.testing.assert_array_equal(states[0][key][1], before[key][1])
    np.testing.assert_array_equal(params[0][[0, 2]], before["x"][[0, 2]])
    np.testing.assert_array_equal(states[0]["weight_sum"], before["weight_sum"])


@pytest.mark.parametrize("name", ["schedule_free_sgd", "schedule_free_adamw"])
def test_training_goes_on_from_the_point_early_stopping_kept(small_classification,
                                                            name):
    # early stopping keeps the best x; the state partial_fit continues from
    # must be at that x (z and y too), not at the last epoch's
    X, y = small_classification
    model = MLPClassifier(hidden_layer_sizes=(8,), optimizer=name, learning_rate=0.3,
                          early_stopping=True, max_iter=30, tol=None,
                          random_state=0).fit(X, y)
    assert np.argmax(model.validation_scores_) < model.n_iter_ - 1
    state = model._record.state
    for fitted, x, z, point in zip(model._params, *zip(*[(s["x"], s["z"]) for s in
                                                        state.opt_state]),
                                   state.params):
        for array in (x, z, point):
            np.testing.assert_array_equal(array, fitted)
    kept = model.predict_proba(X)
    # a negligible rate: what partial_fit starts from is what it returns
    model.set_params(learning_rate=1e-12).partial_fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), kept, rtol=1e-9)


@pytest.mark.parametrize("name", ["prodigy", "dog"])
def test_learning_rate_is_reported_in_the_units_it_is_set(name):
    """For the learning-rate-free optimizers learning_rate is a factor in units
    of the estimator's default; what the fit reports is in the same units, so
    that it can be set again (it was the bare factor: 3 for 3e-3)."""
    from sklr import MLPRegressor
    from sklr.model_selection import LockstepGridSearchCV

    X, y = make_regression(n_samples=200, n_features=5, noise=1.0, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(8,), optimizer=name, learning_rate=3e-3, max_iter=5, tol=None,
                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        assert est.learning_rate_ == pytest.approx(3e-3)
        assert est.learning_rate_curve_ == pytest.approx([3e-3] * 5)
        again = clone(est).set_params(learning_rate=est.learning_rate_).fit(X, y)
        np.testing.assert_allclose(again.predict(X), est.predict(X))
        search = LockstepGridSearchCV(clone(est), {"learning_rate": [3e-3]}, cv=2).fit(X, y)
    assert search.curves_[0][0]["learning_rate_curve"] == pytest.approx([3e-3] * 5)
