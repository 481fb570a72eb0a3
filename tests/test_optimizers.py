"""Tests of sklr.optimizers: each update checked against formulas by hand."""

import math

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from sklr.optimizers import (
    OPTIMIZER_ALIASES,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    DoG,
    Optimizer,
    Prodigy,
    RMSprop,
    ScheduleFreeAdamW,
    ScheduleFreeSGD,
    resolve_optimizer,
)

# Reference implementations: one scalar parameter of one stack member,
# written out from the PyTorch documentation, independently of sklr.


def ref_sgd(p, grads, lr, momentum=0.0, nesterov=False):
    v, out = 0.0, []
    for g in grads:
        v = momentum * v + g
        p -= lr * (g + momentum * v if nesterov else v)
        out.append(p)
    return out


def ref_adagrad(p, grads, lr, epsilon=1e-10):
    s, out = 0.0, []
    for g in grads:
        s += g * g
        p -= lr * g / (math.sqrt(s) + epsilon)
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr, rho=0.9, epsilon=1e-8, momentum=0.0):
    v, b, out = 0.0, 0.0, []
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if momentum > 0:
            b = momentum * b + g / (math.sqrt(v) + epsilon)
            p -= lr * b
        else:
            p -= lr * g / (math.sqrt(v) + epsilon)
        out.append(p)
    return out


def ref_adam(
    p,
    grads,
    lr,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    amsgrad=False,
    weight_decay=0.0,
):
    m, v, v_max, out = 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, start=1):
        p *= 1 - lr * weight_decay
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        v_max = max(v_max, v)
        m_hat = m / (1 - beta_1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta_2**t)
        p -= lr * m_hat / (math.sqrt(v_hat) + epsilon)
        out.append(p)
    return out


# The learning-rate-free optimizers, transcribed from their papers' update
# equations (with the options of the authors' packages), one member at a time
# on its whole parameter vector: DoG and Prodigy use norms over all of a
# model's parameters. ``step(g, lr)`` returns the parameters gradients are
# taken at next; ``x`` is the point a schedule-free method returns.


class ScheduleFreeSGDReference:
    """Defazio et al. 2024, "The Road Less Scheduled", Eq. (1)-(3) with the
    weights c_{t+1} = t**r lr_max**p / sum of those, as in the package."""

    def __init__(self, y0, momentum=0.9, r=0.0, weight_lr_power=2.0):
        self.z = np.array(y0, dtype=float)
        self.x = self.z.copy()
        self.momentum, self.r, self.power = momentum, r, weight_lr_power
        self.t, self.lr_max, self.weight_sum = 0, 0.0, 0.0

    def direction(self, g, y):
        return g

    def step(self, g, lr):
        self.t += 1
        y = (1 - self.momentum) * self.z + self.momentum * self.x
        self.lr_max = max(self.lr_max, lr)
        weight = self.t**self.r * self.lr_max**self.power
        self.weight_sum += weight
        c = weight / self.weight_sum if self.weight_sum > 0 else 0.0
        self.z = self.z - lr * self.direction(g, y)
        self.x = (1 - c) * self.x + c * self.z
        return (1 - self.momentum) * self.z + self.momentum * self.x


class ScheduleFreeAdamWReference(ScheduleFreeSGDReference):
    """Defazio et al. 2024, Algorithm 1 (schedule-free AdamW), with the
    package's bias correction inside the root rather than in the rate."""

    def __init__(self, y0, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                 r=0.0, weight_lr_power=2.0):
        super().__init__(y0, beta_1, r, weight_lr_power)
        self.beta_2, self.epsilon, self.weight_decay = beta_2, epsilon, weight_decay
        self.v = np.zeros_like(self.z)

    def direction(self, g, y):
        self.v = self.beta_2 * self.v + (1 - self.beta_2) * g * g
        v_hat = self.v / (1 - self.beta_2**self.t)
        return g / (np.sqrt(v_hat) + self.epsilon) + self.weight_decay * y


class ProdigyReference:
    """Mishchenko and Defazio 2024, Algorithm 4 (Prodigy, Adam version), with
    the package's options (bias correction, safeguarded warm-up, d_coef,
    growth rate, decoupled weight decay) and its d_{k+1} * epsilon."""

    def __init__(self, x0, beta_1=0.9, beta_2=0.999, beta_3=None, epsilon=1e-8,
                 weight_decay=0.0, use_bias_correction=False, safeguard_warmup=False,
                 d0=1e-6, d_coef=1.0, growth_rate=math.inf):
        self.x0 = np.array(x0, dtype=float)
        self.x = self.x0.copy()
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.beta_3 = math.sqrt(beta_2) if beta_3 is None else beta_3
        self.weight_decay, self.d0, self.d_coef = weight_decay, d0, d_coef
        self.bias, self.safeguard, self.growth = (use_bias_correction,
                                                  safeguard_warmup, growth_rate)
        self.m, self.v, self.s = (np.zeros_like(self.x) for _ in range(3))
        self.r, self.d, self.d_max, self.t = 0.0, d0, d0, 0

    def step(self, g, lr):
        self.t += 1
        b1, b2, b3, d = self.beta_1, self.beta_2, self.beta_3, self.d
        rho = math.sqrt(1 - b2**self.t) / (1 - b1**self.t) if self.bias else 1.0
        eta = lr * d * rho
        self.m = b1 * self.m + (1 - b1) * d * g
        self.v = b2 * self.v + (1 - b2) * d * d * g * g
        self.r = b3 * self.r + (1 - b3) * d * eta * (g @ (self.x0 - self.x))
        self.s = b3 * self.s + (1 - b3) * d * (d if self.safeguard else eta) * g
        d_hat = self.d_coef * self.r / np.abs(self.s).sum()
        self.d_max = max(self.d_max, d_hat)
        grown = max(d, d_hat) if d == self.d0 else d
        self.d = min(self.d_max, grown * self.growth)
        self.x = (self.x - eta * self.weight_decay * self.x
                  - eta * self.m / (np.sqrt(self.v) + self.d * self.epsilon))
        return self.x


class DoGReference:
    """Ivgi et al. 2023, Algorithm 1 (DoG), with the package's epsilon."""

    def __init__(self, x0, reps_rel=1e-6, epsilon=1e-8):
        self.x0 = np.array(x0, dtype=float)
        self.x = self.x0.copy()
        self.rbar = reps_rel * (1 + np.linalg.norm(self.x0))
        self.G = epsilon

    def step(self, g, lr):
        self.rbar = max(self.rbar, np.linalg.norm(self.x - self.x0))
        self.G += g @ g
        self.x = self.x - lr * self.rbar / math.sqrt(self.G) * g
        return self.x


def whole_member(reference_class):
    """A CASES reference running ``reference_class`` on a member's whole vector."""

    def reference(p, grads, lr, **params):
        optimizer = reference_class(p, **params)
        return [optimizer.step(g, lr).copy() for g in grads]

    reference.whole_member = True
    return reference


# The one table of optimizers driving the common tests: class, two members'
# hyperparameters (different per member, same structural flags), reference.
CASES = [
    pytest.param(SGD, {}, {"momentum": 0.0}, ref_sgd, id="sgd"),
    pytest.param(SGD, {"momentum": 0.5}, {"momentum": 0.9}, ref_sgd, id="momentum"),
    pytest.param(
        SGD,
        {"momentum": 0.5, "nesterov": True},
        {"momentum": 0.9, "nesterov": True},
        ref_sgd,
        id="nesterov",
    ),
    pytest.param(Adagrad, {}, {"epsilon": 0.1}, ref_adagrad, id="adagrad"),
    pytest.param(
        RMSprop,
        {},
        {"rho": 0.5, "epsilon": 1e-3, "momentum": 0.8},
        ref_rmsprop,
        id="rmsprop",
    ),
    pytest.param(
        Adam,
        {},
        {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3},
        ref_adam,
        id="adam",
    ),
    pytest.param(
        Adam,
        {"amsgrad": True},
        {"beta_1": 0.5, "beta_2": 0.6, "amsgrad": True},
        ref_adam,
        id="amsgrad",
    ),
    pytest.param(
        AdamW,
        {"weight_decay": 0.01},
        {"beta_1": 0.8, "weight_decay": 0.5},
        ref_adam,
        id="adamw",
    ),
    pytest.param(
        ScheduleFreeSGD,
        {},
        {"momentum": 0.5, "r": 1.0, "weight_lr_power": 1.0},
        whole_member(ScheduleFreeSGDReference),
        id="schedule_free_sgd",
    ),
    pytest.param(
        ScheduleFreeAdamW,
        {},
        {"beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3, "weight_decay": 0.1,
         "r": 0.5},
        whole_member(ScheduleFreeAdamWReference),
        id="schedule_free_adamw",
    ),
    pytest.param(
        Prodigy,
        # beta_3 given: the common tests compare hyperparameters with
        # attributes; large d_coef: d grows within the four steps
        {"beta_3": 0.95, "d0": 1e-3, "d_coef": 50.0},
        {"beta_1": 0.5, "beta_2": 0.9, "beta_3": 0.8, "epsilon": 1e-3,
         "weight_decay": 0.1, "d0": 1e-2, "d_coef": 30.0, "growth_rate": 1.5},
        whole_member(ProdigyReference),
        id="prodigy",
    ),
    pytest.param(
        Prodigy,
        {"beta_3": 0.95, "d0": 1e-3, "d_coef": 1e3, "use_bias_correction": True,
         "safeguard_warmup": True},
        {"beta_2": 0.9, "beta_3": 0.5, "d0": 1e-2, "d_coef": 1e3,
         "use_bias_correction": True, "safeguard_warmup": True},
        whole_member(ProdigyReference),
        id="prodigy-bias-safeguard",
    ),
    pytest.param(
        DoG, {}, {"reps_rel": 1e-2, "epsilon": 1e-3}, whole_member(DoGReference),
        id="dog",
    ),
]

LRS = (0.1, 0.03)
# Gradient magnitudes shrink then grow so that AMSGrad's maximum matters.
GRAD_SCALES = (3.0, 0.1, -0.5, 2.0)


def run_stack(cls, params_a, params_b, shape, dtype):
    """Train a stack of two members for len(GRAD_SCALES) steps, as the engine does."""
    rng = np.random.default_rng(0)
    param = rng.normal(size=shape).astype(dtype)
    base_grad = rng.normal(size=shape).astype(dtype)
    start = param.copy()
    optimizers = [cls(**params_a).validate(), cls(**params_b).validate()]
    optimizer = optimizers[0]
    trailing = (1,) * (len(shape) - 1)
    hyper = {
        name: values.reshape(-1, *trailing)
        for name, values in optimizer.hyperparameters(optimizers, dtype).items()
    }
    lr = np.array(LRS, dtype=dtype).reshape(-1, *trailing)
    state = optimizer.init_state(param)
    history = []
    for t, scale in enumerate(GRAD_SCALES, start=1):
        grad = base_grad * dtype(scale)
        steps = np.full((2, *trailing), t, dtype=dtype)
        optimizer.step(param, grad, state, lr, hyper, steps)
        history.append(param.copy())
    return start, base_grad, state, history


def expected_history(params_a, params_b, reference, start, base_grad):
    """Reference values of every element after each step, member by member."""
    expected = np.empty((len(GRAD_SCALES), *start.shape))
    for member, params in enumerate((params_a, params_b)):
        if getattr(reference, "whole_member", False):
            p0 = start[member].astype(float).ravel()
            g0 = base_grad[member].astype(float).ravel()
            values = reference(p0, [g0 * s for s in GRAD_SCALES], LRS[member], **params)
            expected[:, member] = np.reshape(values, expected[:, member].shape)
            continue
        for index in np.ndindex(start.shape[1:]):
            p0 = float(start[(member, *index)])
            g0 = float(base_grad[(member, *index)])
            values = reference(p0, [g0 * s for s in GRAD_SCALES], LRS[member], **params)
            expected[(slice(None), member, *index)] = values
    return expected


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 2)])
@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_step_matches_reference(cls, params_a, params_b, reference, shape):
    start, base_grad, _, history = run_stack(cls, params_a, params_b, shape, np.float64)
    expected = expected_history(params_a, params_b, reference, start, base_grad)
    np.testing.assert_allclose(np.array(history), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_float32_stays_float32(cls, params_a, params_b, reference):
    start, base_grad, state, history = run_stack(
        cls, params_a, params_b, (2, 3, 2), np.float32
    )
    assert history[-1].dtype == np.float32
    assert all(array.dtype == np.float32 for array in state.values())
    expected = expected_history(params_a, params_b, reference, start, base_grad)
    np.testing.assert_allclose(history[-1], expected[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_init_state_is_zeros_like_param(cls, params_a, params_b, reference):
    # zeros, or copies of the initial point (DoG's and Prodigy's x0, the
    # schedule-free sequences): shaped like the parameters either way
    param = np.ones((2, 4), dtype=np.float32)
    for array in cls(**params_b).init_state(param).values():
        assert array.shape == param.shape
        assert array.dtype == param.dtype
        assert not array.any() or (array == param).all()
        assert not np.shares_memory(array, param)


@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_clone_and_params_round_trip(cls, params_a, params_b, reference):
    optimizer = cls(**params_b)
    assert isinstance(optimizer, BaseEstimator)
    params = optimizer.get_params()
    copy = clone(optimizer)
    assert copy is not optimizer
    assert copy.get_params() == params
    assert cls().set_params(**params).get_params() == params


@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_hyperparameters_exclude_structural(cls, params_a, params_b, reference):
    optimizers = [cls(**params_a), cls(**params_b)]
    hyper = optimizers[0].hyperparameters(optimizers, np.float32)
    numeric = set(cls().get_params()) - set(cls._structural_params)
    assert set(hyper) == numeric
    for name, values in hyper.items():
        assert values.shape == (2,)
        assert values.dtype == np.float32
        np.testing.assert_allclose(
            values, [getattr(opt, name) for opt in optimizers], rtol=1e-6
        )


def test_per_member_step_count():
    # Bias correction uses each member's own t (members joined at different times).
    optimizer = Adam()
    hyper = {
        name: values.reshape(-1, 1)
        for name, values in optimizer.hyperparameters([Adam(), Adam()], float).items()
    }
    param = np.zeros((2, 1))
    state = optimizer.init_state(param)
    state["m"][1] = 0.1
    state["v"][1] = 0.001
    t = np.array([[1.0], [2.0]])
    optimizer.step(param, np.ones((2, 1)), state, np.full((2, 1), 0.1), hyper, t)
    m, v = 0.9 * 0.1 + 0.1, 0.999 * 0.001 + 0.001
    expected_second = -0.1 * (m / (1 - 0.9**2)) / (math.sqrt(v / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(param[:, 0], [-0.1, expected_second], rtol=1e-7)


def test_nested_key_through_clone():
    class Holder(BaseEstimator):
        def __init__(self, optimizer=None):
            self.optimizer = optimizer

    holder = Holder(optimizer=Adam()).set_params(optimizer__beta_1=0.5)
    assert holder.get_params()["optimizer__beta_1"] == 0.5
    copy = clone(holder)
    assert copy.optimizer is not holder.optimizer
    assert copy.optimizer.beta_1 == 0.5


def test_structure_key():
    assert SGD().structure_key() == ("SGD", False)
    assert SGD(momentum=0.9, nesterov=True).structure_key() == ("SGD", True)
    assert Adam(amsgrad=True).structure_key() == ("Adam", True)
    assert AdamW().structure_key() == ("AdamW",)
    assert Adagrad(epsilon=1.0).structure_key() == Adagrad().structure_key()
    assert Adam().structure_key() != AdamW().structure_key()


@pytest.mark.parametrize(
    "optimizers",
    [
        [Adam(), Adam(amsgrad=True)],
        [SGD(momentum=0.9), SGD(momentum=0.9, nesterov=True)],
        [Adam(), AdamW()],
    ],
    ids=["amsgrad", "nesterov", "class"],
)
def test_hyperparameters_reject_mixed_structure(optimizers):
    with pytest.raises(ValueError, match="stack"):
        optimizers[0].hyperparameters(optimizers, np.float64)


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(momentum=-0.1),
        SGD(momentum=1.0),
        SGD(nesterov=True),
        SGD(nesterov="yes"),
        Adagrad(epsilon=0.0),
        RMSprop(rho=1.0),
        RMSprop(epsilon=0),
        RMSprop(momentum=-0.5),
        Adam(beta_1=-0.1),
        Adam(beta_2=1.0),
        Adam(epsilon=0.0),
        Adam(amsgrad=None),
        AdamW(weight_decay=-1e-3),
        AdamW(beta_1="0.9"),
        ScheduleFreeSGD(momentum=1.0),
        ScheduleFreeSGD(r=-1.0),
        ScheduleFreeAdamW(weight_lr_power=-0.5),
        ScheduleFreeAdamW(beta_2=1.0),
        Prodigy(beta_3=1.0),
        Prodigy(d0=0.0),
        Prodigy(d_coef=-1.0),
        Prodigy(growth_rate=0.5),
        Prodigy(growth_rate=float("nan")),
        Prodigy(safeguard_warmup=1),
        DoG(reps_rel=0.0),
        DoG(epsilon=-1e-8),
    ],
    ids=repr,
)
def test_invalid_params_raise(optimizer):
    with pytest.raises(ValueError):
        optimizer.validate()


def test_init_does_not_validate():
    # sklearn convention: checking happens at fit time, not in __init__.
    assert Adam(beta_1=-1).beta_1 == -1


@pytest.mark.parametrize(
    "name, cls, params",
    [
        ("sgd", SGD, {"momentum": 0.0, "nesterov": False}),
        ("momentum", SGD, {"momentum": 0.9, "nesterov": False}),
        ("nesterov", SGD, {"momentum": 0.9, "nesterov": True}),
        ("adagrad", Adagrad, {}),
        ("rmsprop", RMSprop, {}),
        ("adam", Adam, {}),
        ("adamw", AdamW, {}),
        ("schedule_free_sgd", ScheduleFreeSGD, {}),
        ("schedule_free_adamw", ScheduleFreeAdamW, {}),
        ("prodigy", Prodigy, {}),
        ("dog", DoG, {}),
    ],
)
def test_resolve_aliases(name, cls, params):
    optimizer = resolve_optimizer(name)
    assert type(optimizer) is cls
    assert optimizer.get_params() == cls(**params).get_params()
    # A fresh object each time, so no training run can alter the alias table.
    assert optimizer is not OPTIMIZER_ALIASES[name]
    assert optimizer is not resolve_optimizer(name)


def test_aliases_cover_documented_names():
    assert set(OPTIMIZER_ALIASES) == {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "rmsprop",
        "adam",
        "adamw",
        "schedule_free_sgd",
        "schedule_free_adamw",
        "prodigy",
        "dog",
    }
    assert all(isinstance(opt, Optimizer) for opt in OPTIMIZER_ALIASES.values())


def test_resolve_clones_objects():
    user = RMSprop(rho=0.5)
    resolved = resolve_optimizer(user)
    assert resolved is not user
    assert resolved.get_params() == user.get_params()


def test_resolve_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown optimizer 'adamax'.*'adam'.*'sgd'"):
        resolve_optimizer("adamax")


@pytest.mark.parametrize("spec", [None, 0.01, Adam])
def test_resolve_wrong_type(spec):
    with pytest.raises((TypeError, ValueError), match="optimizer must be one of"):
        resolve_optimizer(spec)


def test_resolve_validates_objects():
    with pytest.raises(ValueError, match="beta_2"):
        resolve_optimizer(Adam(beta_2=2.0))


# ----------------------------------------------------------------------------
# Every optimizer class, found by discovery, goes through the table above.


def test_every_optimizer_class_has_a_reference_entry():
    from sklr.utils.discovery import all_optimizers

    tabled = {case.values[0] for case in CASES}
    assert {cls for _, cls in all_optimizers()} <= tabled


def stack_equals_single_fits(optimizers):
    """Train one stack of ``optimizers`` and each alone; compare the weights."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    from sklr import LogisticClassifier

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:200]
    y = y[:200]
    estimators = [LogisticClassifier(optimizer=opt, learning_rate=lr, max_iter=3,
                                     tol=None, random_state=0)
                  for opt, lr in zip(optimizers, (0.05, 0.01, 0.02))]
    assert_stack_equals_single_fits(estimators, X, y, 3)


def assert_stack_equals_single_fits(estimators, X, y, n_epochs):
    """Train ``estimators`` as one stack for ``n_epochs`` and each alone;
    compare the weights."""
    from sklr._engine import Stack

    plans = [e._plan(X, y) for e in estimators]
    stack = Stack.from_plans(plans)
    stack.train(plans[0].data, n_epochs, horizon=n_epochs)
    stack.finalize()
    for k, estimator in enumerate(estimators):
        single = clone(estimator).fit(X, y)
        for stacked, alone in zip(stack.member_params(k)[0], single._params):
            np.testing.assert_allclose(stacked, alone, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls, params_a, params_b, reference", CASES)
def test_stack_of_members_equals_single_fits(cls, params_a, params_b, reference):
    stack_equals_single_fits([cls(**params_a), cls(**params_b)])


@pytest.mark.parametrize("name", list(OPTIMIZER_ALIASES))
def test_every_registered_name_stacks_like_single_fits(name):
    stack_equals_single_fits([resolve_optimizer(name) for _ in range(3)])


class _SelfReadingSGD(SGD):
    """A subclass that reads its momentum from self: wrong for a stack."""

    def step(self, param, grad, state, lr, hyper, t):
        velocity = state["velocity"]
        velocity *= self.momentum
        velocity += grad
        np.multiply(velocity, lr, out=grad)
        param -= grad


def test_reading_a_numeric_hyperparameter_from_self_fails_clearly():
    from sklearn.datasets import load_breast_cancer

    from sklr import LogisticClassifier
    from sklr.model_selection import LockstepGridSearchCV

    X, y = load_breast_cancer(return_X_y=True)
    X = X[:120] / X.max(axis=0)
    y = y[:120]
    message = r"read self.momentum.*hyper\['momentum'\]"
    with pytest.raises(TypeError, match=message):
        LogisticClassifier(optimizer=_SelfReadingSGD(momentum=0.5)).fit(X, y)
    search = LockstepGridSearchCV(
        LogisticClassifier(optimizer=_SelfReadingSGD(), max_iter=3),
        {"optimizer__momentum": [0.1, 0.9]}, cv=2, error_score="raise")
    with pytest.raises(TypeError, match=message):
        search.fit(X, y)


def test_a_non_numeric_parameter_must_be_declared_structural():
    class Flagged(SGD):
        def __init__(self, momentum=0.0, nesterov=False, mode="a"):
            super().__init__(momentum, nesterov)
            self.mode = mode

    with pytest.raises(TypeError, match="'mode' is not a number.*_structural_params"):
        Flagged().hyperparameters([Flagged()], np.float64)
