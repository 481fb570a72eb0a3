"""Tests of sklr.schedules: values against closed forms written out here."""

import math

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone

from sklr.schedules import (
    SCHEDULE_ALIASES,
    Constant,
    CosineAnnealing,
    CyclicLR,
    ExponentialDecay,
    InverseScaling,
    OneCycle,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
    Warmup,
    resolve_schedule,
)

PROGRESS = [0.0, 0.25, 1.0, 2.5, 4.0, 7.3, 10.0, 12.0]
HORIZON = 10


def cosine(fraction, start, end):
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2


def one_cycle(p, n, pct=0.3, div=25.0, final_div=1e4):
    peak = pct * n
    if p < peak:
        return cosine(p / peak, 1 / div, 1.0)
    return cosine(min((p - peak) / (n - peak), 1.0), 1.0, 1 / (div * final_div))


def triangle(p, period):
    x = (p / period) % 1.0
    return 2 * x if x < 0.5 else 2 - 2 * x


# (schedule, closed form of progress); the horizon is HORIZON.
CLOSED_FORMS = [
    pytest.param(Constant(), lambda p: 1.0, id="constant"),
    pytest.param(
        StepDecay(step_size=2.5, gamma=0.3),
        lambda p: 0.3 ** math.floor(p / 2.5),
        id="step",
    ),
    pytest.param(ExponentialDecay(gamma=0.8), lambda p: 0.8**p, id="exponential"),
    pytest.param(
        InverseScaling(power_t=0.7), lambda p: 1 / (1 + p) ** 0.7, id="invscaling"
    ),
    pytest.param(
        CosineAnnealing(min_factor=0.2),
        lambda p: 0.2 + 0.8 * (1 + math.cos(math.pi * min(p / HORIZON, 1))) / 2,
        id="cosine-horizon",
    ),
    pytest.param(
        CosineAnnealing(n_epochs=4),
        lambda p: (1 + math.cos(math.pi * min(p / 4, 1))) / 2,
        id="cosine-own-n_epochs",
    ),
    pytest.param(
        Warmup(ExponentialDecay(gamma=0.9), warmup_epochs=2, start_factor=0.2),
        lambda p: 0.9**p * (0.2 + 0.8 * p / 2 if p < 2 else 1.0),
        id="warmup",
    ),
    pytest.param(
        Warmup(warmup_epochs=3.0, start_factor=0.0),
        lambda p: p / 3 if p < 3 else 1.0,
        id="warmup-constant",
    ),
    pytest.param(OneCycle(), lambda p: one_cycle(p, HORIZON), id="onecycle"),
    pytest.param(
        OneCycle(pct_start=0.5, div_factor=10, final_div_factor=2),
        lambda p: one_cycle(p, HORIZON, 0.5, 10, 2),
        id="onecycle-custom",
    ),
    pytest.param(
        CyclicLR(min_factor=0.2, period=4),
        lambda p: 0.2 + 0.8 * triangle(p, 4),
        id="triangular",
    ),
    pytest.param(
        CyclicLR(min_factor=0.2, period=4, mode="triangular2"),
        lambda p: 0.2 + 0.8 * triangle(p, 4) / 2 ** math.floor(p / 4),
        id="triangular2",
    ),
    pytest.param(
        CyclicLR(min_factor=0.0, period=3, mode="exp_range", gamma=0.9),
        lambda p: triangle(p, 3) * 0.9**p,
        id="exp_range",
    ),
    pytest.param(ReduceOnPlateau(), lambda p: 1.0, id="plateau-preview"),
]


@pytest.mark.parametrize("schedule, closed_form", CLOSED_FORMS)
def test_values_match_closed_form(schedule, closed_form):
    for p in PROGRESS:
        assert schedule(p, HORIZON) == pytest.approx(closed_form(p), rel=1e-12)


@pytest.mark.parametrize("schedule, closed_form", CLOSED_FORMS)
def test_vectorized_equals_scalar(schedule, closed_form):
    progress = np.linspace(0, 15, 60).reshape(3, 20)
    values = schedule(progress, HORIZON)
    assert isinstance(values, np.ndarray)
    assert values.shape == progress.shape
    scalars = [schedule(float(p), HORIZON) for p in progress.ravel()]
    np.testing.assert_allclose(values.ravel(), scalars, rtol=1e-15)
    assert np.ndim(schedule(0.5, HORIZON)) == 0


@pytest.mark.parametrize("schedule, closed_form", CLOSED_FORMS)
def test_clone_and_params_round_trip(schedule, closed_form):
    assert isinstance(schedule, BaseEstimator)
    copy = clone(schedule)
    assert copy is not schedule
    assert copy.get_params(deep=False).keys() == schedule.get_params(deep=False).keys()
    assert copy.validate() is copy


def test_step_decay_boundaries():
    schedule = StepDecay(step_size=10, gamma=0.5)
    np.testing.assert_array_equal(
        schedule(np.array([0, 9.99, 10, 19.9, 20, 35])), [1, 1, 0.5, 0.5, 0.25, 0.125]
    )


def test_warmup_default_wraps_constant():
    schedule = Warmup()
    assert schedule(0.0) == pytest.approx(0.1)
    assert schedule(2.5) == pytest.approx(0.1 + 0.9 * 0.5)
    assert schedule(5.0) == 1.0
    assert schedule(50.0) == 1.0


def test_warmup_does_not_shift_inner_schedule():
    inner = StepDecay(step_size=3, gamma=0.5)
    schedule = Warmup(inner, warmup_epochs=4)
    for p in [4.0, 5.5, 6.0, 9.0]:
        assert schedule(p) == inner(p)


def test_warmup_passes_horizon_to_inner():
    schedule = Warmup(CosineAnnealing(), warmup_epochs=1)
    assert schedule(5.0, n_epochs=10) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="horizon"):
        schedule(5.0)


def test_warmup_nested_params():
    schedule = Warmup(ExponentialDecay(gamma=0.9))
    schedule.set_params(schedule__gamma=0.5, warmup_epochs=1)
    assert schedule.schedule.gamma == 0.5
    assert schedule.get_params()["schedule__gamma"] == 0.5
    assert schedule(3.0) == pytest.approx(0.125)
    copy = clone(schedule)
    assert copy.schedule is not schedule.schedule
    assert copy.schedule.gamma == 0.5


def test_warmup_two_levels_of_nesting():
    class Holder(BaseEstimator):
        def __init__(self, schedule=None):
            self.schedule = schedule

    holder = Holder(Warmup(StepDecay()))
    holder.set_params(schedule__schedule__gamma=0.2)
    assert holder.get_params()["schedule__schedule__gamma"] == 0.2


def test_warmup_delegates_state_to_inner():
    schedule = Warmup(ReduceOnPlateau(factor=0.5, patience=0), warmup_epochs=2)
    state = schedule.init_state()
    assert state == ReduceOnPlateau().init_state()
    state = schedule.observe(state, 1.0)
    state = schedule.observe(state, 1.0)
    assert state["multiplier"] == 0.5
    assert schedule(1.0, state=state) == pytest.approx(0.5 * (0.1 + 0.9 * 0.5))
    assert schedule(3.0, state=state) == 0.5
    assert Warmup().init_state() is None
    assert Warmup().observe(None, 1.0) is None


def test_warmup_validates_inner():
    with pytest.raises(ValueError, match="gamma"):
        Warmup(ExponentialDecay(gamma=2.0)).validate()


def test_onecycle_endpoints():
    schedule = OneCycle(pct_start=0.25, div_factor=20, final_div_factor=100)
    n = 8
    assert schedule(0.0, n) == pytest.approx(1 / 20)
    assert schedule(2.0, n) == pytest.approx(1.0)
    assert schedule(8.0, n) == pytest.approx(1 / 2000)
    assert schedule(30.0, n) == pytest.approx(1 / 2000)
    rise = schedule(np.linspace(0, 2, 20), n)
    fall = schedule(np.linspace(2, 8, 20), n)
    assert np.all(np.diff(rise) > 0)
    assert np.all(np.diff(fall) < 0)


def test_cyclic_modes_over_cycles():
    peaks = np.array([1.0, 3.0, 5.0])  # middle of each cycle of period 2
    starts = np.array([0.0, 2.0, 4.0])
    tri = CyclicLR(min_factor=0.5, period=2)
    np.testing.assert_allclose(tri(peaks), [1, 1, 1])
    np.testing.assert_allclose(tri(starts), [0.5, 0.5, 0.5])
    tri2 = CyclicLR(min_factor=0.5, period=2, mode="triangular2")
    np.testing.assert_allclose(tri2(peaks), [1, 0.75, 0.625])
    np.testing.assert_allclose(tri2(starts), [0.5, 0.5, 0.5])
    exp = CyclicLR(min_factor=0.5, period=2, mode="exp_range", gamma=0.5)
    np.testing.assert_allclose(exp(peaks), 0.5 + 0.5 * 0.5**peaks)


def test_plateau_reduces_after_patience_and_resets_on_improvement():
    schedule = ReduceOnPlateau(factor=0.5, patience=2, min_delta=0.1)
    state = schedule.init_state()
    assert state == {"best": np.inf, "bad_epochs": 0, "multiplier": 1.0}
    multipliers = []
    # 10 improves on inf; 9.5 is within 10% of 10, so it is a bad epoch;
    # 8 improves and resets; three bad epochs (patience + 1) then halve.
    for loss in [10.0, 9.5, 8.0, 8.0, 7.9, 8.5, 8.0, 8.0, 8.0, 1.0, 1.0]:
        state = schedule.observe(state, loss)
        multipliers.append(state["multiplier"])
    assert multipliers == [1, 1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    assert state["best"] == 1.0
    assert state["bad_epochs"] == 1
    np.testing.assert_array_equal(schedule(np.zeros(3), state=state), [0.25] * 3)


def test_plateau_observe_does_not_mutate_given_state():
    schedule = ReduceOnPlateau(patience=0)
    state = schedule.init_state()
    new = schedule.observe(state, 1.0)
    assert state == schedule.init_state()
    assert new["best"] == 1.0


@pytest.mark.parametrize("bad_loss", [np.nan, np.inf, -np.inf])
def test_plateau_non_finite_loss_is_not_improvement(bad_loss):
    schedule = ReduceOnPlateau(factor=0.5, patience=0)
    state = schedule.observe(schedule.init_state(), 1.0)
    state = schedule.observe(state, bad_loss)
    assert state["best"] == 1.0
    assert state["multiplier"] == 0.5


def test_plateau_negative_and_zero_losses():
    schedule = ReduceOnPlateau(patience=0, factor=0.5, min_delta=0.1)
    state = schedule.init_state()
    for loss in [0.0, -1.0, -1.05, -1.2]:
        state = schedule.observe(state, loss)
    # 0 then -1 improve; -1.05 is not 10% better than -1; -1.2 is.
    assert state["best"] == -1.2
    assert state["multiplier"] == 0.5


def test_plateau_zero_min_delta_first_epoch():
    schedule = ReduceOnPlateau(min_delta=0.0)
    assert schedule.observe(schedule.init_state(), 3.0)["best"] == 3.0


@pytest.mark.parametrize("schedule", [CosineAnnealing(), OneCycle()], ids=repr)
def test_horizon_required(schedule):
    with pytest.raises(ValueError, match=f"{type(schedule).__name__} needs"):
        schedule(1.0)


def test_cosine_own_n_epochs_overrides_horizon():
    assert CosineAnnealing(n_epochs=2)(1.0, n_epochs=100) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "schedule",
    [
        StepDecay(step_size=0),
        StepDecay(gamma=0.0),
        StepDecay(gamma=1.5),
        ExponentialDecay(gamma=-0.1),
        InverseScaling(power_t=-1),
        CosineAnnealing(min_factor=1.5),
        CosineAnnealing(n_epochs=0),
        CosineAnnealing(n_epochs=2.5),
        Warmup(warmup_epochs=0),
        Warmup(start_factor=-0.1),
        Warmup(schedule="cosine"),
        OneCycle(pct_start=1.0),
        OneCycle(div_factor=0.5),
        OneCycle(final_div_factor=0),
        CyclicLR(min_factor=2),
        CyclicLR(period=0),
        CyclicLR(mode="sawtooth"),
        ReduceOnPlateau(factor=1.0),
        ReduceOnPlateau(patience=-1),
        ReduceOnPlateau(patience=1.5),
        ReduceOnPlateau(min_delta=-0.1),
    ],
    ids=repr,
)
def test_invalid_params_raise(schedule):
    with pytest.raises(ValueError):
        schedule.validate()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("constant", Constant()),
        ("step", StepDecay()),
        ("exponential", ExponentialDecay()),
        ("invscaling", InverseScaling()),
        ("cosine", CosineAnnealing()),
        ("warmup_cosine", Warmup(CosineAnnealing())),
        ("onecycle", OneCycle()),
        ("cyclic", CyclicLR()),
        ("plateau", ReduceOnPlateau()),
    ],
)
def test_resolve_aliases(name, expected):
    schedule = resolve_schedule(name)
    assert type(schedule) is type(expected)
    assert repr(schedule) == repr(expected)
    assert schedule is not SCHEDULE_ALIASES[name]
    assert schedule is not resolve_schedule(name)


def test_aliases_are_schedules():
    assert len(SCHEDULE_ALIASES) == 9
    assert all(isinstance(s, Schedule) for s in SCHEDULE_ALIASES.values())


def test_resolve_clones_objects():
    user = Warmup(StepDecay(gamma=0.1))
    resolved = resolve_schedule(user)
    assert resolved is not user
    assert resolved.schedule is not user.schedule
    assert resolved.get_params()["schedule__gamma"] == 0.1


def test_resolve_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="Unknown schedule 'linear'.*'cosine'"):
        resolve_schedule("linear")


@pytest.mark.parametrize("spec", [None, 0.5, StepDecay])
def test_resolve_wrong_type(spec):
    with pytest.raises((TypeError, ValueError), match="schedule must be one of"):
        resolve_schedule(spec)


def test_resolve_validates_objects():
    with pytest.raises(ValueError, match="gamma"):
        resolve_schedule(StepDecay(gamma=3))


def test_every_schedule_class_has_a_closed_form_entry():
    from sklr.utils.discovery import all_schedules

    tabled = {type(case.values[0]) for case in CLOSED_FORMS}
    assert {cls for _, cls in all_schedules()} <= tabled


def test_loss_awareness_is_a_class_attribute():
    assert ReduceOnPlateau.watches_loss
    assert not Constant.watches_loss
    assert Warmup(ReduceOnPlateau()).watches_loss
    assert not Warmup(CosineAnnealing()).watches_loss
