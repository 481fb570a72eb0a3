"""Optimizers: small, clonable configuration objects for gradient updates.

An optimizer holds hyperparameters only. The training engine owns the state
(from :meth:`Optimizer.init_state`) and calls :meth:`Optimizer.step` once per
minibatch on a *stack* of K independent models: every array has a leading
axis of length K and each member may use its own hyperparameter values.

Writing an optimizer: subclass :class:`Optimizer`, store the constructor
arguments unchanged, declare ``_parameter_constraints`` and implement
``init_state`` and ``step``. Parameters that change the algorithm or the
state layout (flags such as ``nesterov``) are listed in
``_structural_params``; every other parameter is a number that may differ per
member, and ``step`` reads it from ``hyper[name]``, never from ``self``: the
engine steps with a stand-in whose numeric attributes raise when used, so a
wrong read fails loudly instead of giving every member the first one's value.
Register a name with ``OPTIMIZER_ALIASES.register(name, instance, summary)``.

The learning rate stays outside the optimizer state, as in PyTorch: momentum
accumulates raw gradients (``v = mu * v + g``) and the step is ``-lr * v``, so
a schedule or a learning-rate back-off acts at once.

In the engine's usual layout every array ``step`` sees is a ``(K, n_values)``
block holding all of a member's parameters, so a quantity over the whole
model (the norms of :class:`DoG` and :class:`Prodigy`) is a reduction over
the trailing axes. That layout needs every state array shaped like the
parameters: per-member numbers are kept filled into such arrays.

Optimizers that set their own step size (:class:`DoG`, :class:`Prodigy`)
declare ``learning_rate_free = True``: the estimators then pass
``learning_rate`` divided by its default, so that the rate ``step`` receives
is a factor on the optimizer's estimate, 1 by default. Schedule-free methods
(:class:`ScheduleFreeSGD`, :class:`ScheduleFreeAdamW`) return a point other
than the one gradients are taken at: :meth:`Optimizer.evaluation_point`.
"""

import copy
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator

from sklr._compat import Interval, InvalidParameterError, validate_params
from sklr._registry import Registry

__all__ = [
    "OPTIMIZER_ALIASES",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "DoG",
    "Optimizer",
    "Prodigy",
    "RMSprop",
    "ScheduleFreeAdamW",
    "ScheduleFreeSGD",
    "resolve_optimizer",
]

_UNIT = Interval(Real, 0, 1, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")


class _PerMemberValue:
    """Stands in for a numeric hyperparameter on the optimizer the engine steps with.

    Members of a stack may differ in the value, so ``step`` and
    ``init_state`` must take it from ``hyper``; any use of the attribute
    raises a ``TypeError`` that says so.
    """

    def __init__(self, owner, name):
        self.owner = owner
        self.name = name

    def __repr__(self):
        return f"<{self.owner}.{self.name}: one value per stack member>"

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            f"{self.owner}.step read self.{self.name}, but members of a stack may "
            f"differ in {self.name!r}: read hyper[{self.name!r}] (one value per "
            f"member) instead, or list {self.name!r} in _structural_params if it "
            "changes the algorithm or the state layout."
        )


for _method in (
    "__bool__", "__float__", "__int__", "__index__", "__complex__", "__round__",
    "__neg__", "__pos__", "__abs__", "__lt__", "__le__", "__gt__", "__ge__",
    "__array__", "__array_ufunc__", "__array_function__",
    *(f"__{prefix}{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv",
                                      "mod", "pow", "matmul")
      for prefix in ("", "r"))):
    setattr(_PerMemberValue, _method, _PerMemberValue._refuse)


class Optimizer(BaseEstimator):
    """Base class of sklr optimizers.

    Subclasses store their constructor arguments unchanged, declare
    ``_parameter_constraints`` and implement :meth:`init_state` and
    :meth:`step`, reading numeric hyperparameters from ``hyper`` only.

    Attributes
    ----------
    _structural_params : tuple of str
        Names of the parameters that change the algorithm or the state
        layout (such as ``nesterov``). All members of a stack must agree on
        them; every other parameter must be a number and may differ per
        member.
    learning_rate_free : bool
        True for optimizers that set their own step size: the estimator's
        ``learning_rate`` then reaches :meth:`step` as a factor on that step
        size, the estimator's default rate meaning 1.
    averages_iterates : bool
        True for optimizers whose :meth:`evaluation_point` is an average of
        their own iterates (schedule-free methods): the estimators' ``average``
        cannot be combined with them.
    """

    _parameter_constraints: dict = {}
    _structural_params: tuple[str, ...] = ()
    learning_rate_free = False
    averages_iterates = False

    def validate(self):
        """Check the hyperparameters and return ``self``; raise ``InvalidParameterError``."""
        validate_params(self)
        return self

    def structure_key(self):
        """What must be equal for optimizers to share one stack.

        Returns
        -------
        key : tuple
            The class name followed by the structural parameter values.
        """
        return (
            type(self).__name__,
            *(getattr(self, name) for name in self._structural_params),
        )

    def _numeric_params(self):
        return [name for name in self.get_params(deep=False)
                if name not in self._structural_params]

    def hyperparameters(self, optimizers, dtype):
        """Gather the numeric hyperparameters of a stack of optimizers.

        Parameters
        ----------
        optimizers : list of Optimizer
            One optimizer per stack member, all of the class of ``self`` and
            with the structural parameters of ``self``.
        dtype : numpy dtype
            Data type of the returned arrays.

        Returns
        -------
        hyper : dict of str to ndarray of shape (K,)
            For each non-structural parameter, its value for each member.

        Raises
        ------
        ValueError
            If an optimizer differs from ``self`` in class or in a structural
            parameter.
        TypeError
            If a parameter not listed in ``_structural_params`` is not a number.
        """
        key = self.structure_key()
        for optimizer in optimizers:
            if type(optimizer) is not type(self) or optimizer.structure_key() != key:
                raise ValueError(
                    f"Cannot stack {optimizer!r} with {self!r}: stacked optimizers "
                    f"must share the class and the parameters "
                    f"{list(self._structural_params)}."
                )
        hyper = {}
        for name in self._numeric_params():
            values = [getattr(opt, name) for opt in optimizers]
            if not all(isinstance(v, Real) and not isinstance(v, bool | np.bool_)
                       for v in values):
                raise TypeError(
                    f"{type(self).__name__} parameter {name!r} is not a number "
                    f"({values[0]!r}); numbers may differ per stack member, other "
                    "values must be listed in _structural_params.")
            hyper[name] = np.array(values, dtype=dtype)
        return hyper

    def stacked(self, optimizers, dtype):
        """The optimizer that steps a stack, and the members' hyperparameters.

        Parameters
        ----------
        optimizers : list of Optimizer
            One optimizer per stack member (see :meth:`hyperparameters`).
        dtype : numpy dtype
            Data type of the hyperparameter arrays.

        Returns
        -------
        stepper : Optimizer
            A copy of ``self`` whose numeric hyperparameters are stand-ins
            that raise when used: ``step`` must read ``hyper`` instead.
        hyper : dict of str to ndarray of shape (K,)
            As returned by :meth:`hyperparameters`.
        """
        hyper = self.hyperparameters(optimizers, dtype)
        stepper = copy.copy(self)
        for name in hyper:
            setattr(stepper, name, _PerMemberValue(type(self).__name__, name))
        return stepper, hyper

    def init_state(self, param):
        """Return fresh optimizer state for one stacked parameter array.

        Parameters
        ----------
        param : ndarray of shape (K, ...)
            A stacked parameter array.

        Returns
        -------
        state : dict of str to ndarray
            Zero-filled arrays, usually shaped like ``param``.
        """
        return {}

    def step(self, param, grad, state, lr, hyper, t):
        """Apply one update in place to ``param`` and ``state``.

        Parameters
        ----------
        param : ndarray of shape (K, ...)
            Stacked parameter array, updated in place.
        grad : ndarray of shape (K, ...)
            Its gradient; overwritten (used as scratch space).
        state : dict of str to ndarray
            The state from :meth:`init_state`, updated in place.
        lr : ndarray of shape (K, 1, ..., 1)
            Learning rate of each member.
        hyper : dict of str to ndarray of shape (K, 1, ..., 1)
            Numeric hyperparameters of each member, from :meth:`hyperparameters`.
        t : ndarray of shape (K, 1, ..., 1)
            1-based count of this update for each member.
        """
        raise NotImplementedError

    def evaluation_point(self, params, states):
        """The parameters to predict with, where they differ from ``params``.

        Methods that take gradients at one sequence of points and return
        another (schedule-free methods) return the latter, from their state;
        None means ``params``.

        Parameters
        ----------
        params : list of ndarray
            The stacked parameter arrays gradients are taken at.
        states : list of dict
            The optimizer state of each array.

        Returns
        -------
        point : list of ndarray or None
        """
        return None

    def restart(self, params, states, point, rows):
        """Move the members ``rows`` to ``point``, keeping the rest of their state.

        The engine calls it where training goes on from weights other than
        the ones the state was stepping: after early stopping, from the best
        weights validation kept (``warm_start``, ``partial_fit``), and after
        a divergence, from the :meth:`evaluation_point` of the restored
        state. The default writes ``point`` into ``params``; an optimizer
        that keeps points of its own in its state moves them too.

        Parameters
        ----------
        params : list of ndarray
            The stacked parameter arrays, updated in place.
        states : list of dict
            The optimizer state of each array, updated in place.
        point : list of ndarray
            Arrays shaped like ``params``; may be arrays of ``states``.
        rows : array-like of int
            The members to move.
        """
        for param, target in zip(params, point):
            param[rows] = target[rows]

    def preconditioner(self, state, hyper, t):
        """Per-entry factor of the learning rate in the step just taken, or None.

        The L1 penalty's proximal step shrinks each weight by ``lr *
        factor * alpha``, so that its fixed points are those of the
        penalized problem whatever the per-coordinate step sizes (lazy
        sparse steps catch up a row's missed L2 and L1 penalty with the same
        factor). Momentum counts: where the gradient holds still, a momentum
        buffer grows to ``g / (1 - momentum)``, so the step's factor is
        ``1 / (1 - momentum)`` times that of the step without it. ``None``
        is a factor of 1.

        Parameters
        ----------
        state, hyper, t
            As in :meth:`step`, after the step.

        Returns
        -------
        factor : ndarray shaped like the state's arrays, or None
        """
        return None


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    ``v = momentum * v + g``, then ``param -= lr * v``, or with Nesterov
    momentum ``param -= lr * (g + momentum * v)``.

    Parameters
    ----------
    momentum : float, default=0.0
        Momentum factor in [0, 1).
    nesterov : bool, default=False
        Use Nesterov momentum; requires ``momentum > 0``.
    """

    _parameter_constraints = {"momentum": [_UNIT], "nesterov": ["boolean"]}
    _structural_params = ("nesterov",)

    def __init__(self, momentum=0.0, nesterov=False):
        self.momentum = momentum
        self.nesterov = nesterov

    def validate(self):
        """Check the hyperparameters (Nesterov needs momentum) and return ``self``."""
        super().validate()
        if self.nesterov and self.momentum <= 0:
            raise InvalidParameterError(
                "SGD(nesterov=True) requires momentum > 0, got "
                f"momentum={self.momentum!r}."
            )
        return self

    def init_state(self, param):
        # allocated even at momentum 0: another member may have momentum
        return {"velocity": np.zeros_like(param)}

    def preconditioner(self, state, hyper, t):
        # the velocity settles at g / (1 - momentum), with Nesterov's step too
        gain = 1 / (1 - hyper["momentum"])
        return np.broadcast_to(gain, state["velocity"].shape)

    def step(self, param, grad, state, lr, hyper, t):
        momentum = hyper["momentum"]
        velocity = state["velocity"]
        velocity *= momentum
        velocity += grad
        if self.nesterov:
            # param -= lr * g + lr * mu * v, reusing grad as the buffer
            grad *= lr
            param -= grad
            np.multiply(velocity, lr * momentum, out=grad)
        else:
            np.multiply(velocity, lr, out=grad)
        param -= grad


class Adagrad(Optimizer):
    """Adagrad: steps scaled by the root of the summed squared gradients.

    ``s += g**2``, then ``param -= lr * g / (sqrt(s) + epsilon)``.

    Parameters
    ----------
    epsilon : float, default=1e-10
        Added to the denominator for numerical stability, > 0.
    """

    _parameter_constraints = {"epsilon": [_POSITIVE]}

    def __init__(self, epsilon=1e-10):
        self.epsilon = epsilon

    def init_state(self, param):
        return {"sum_sq": np.zeros_like(param)}

    def step(self, param, grad, state, lr, hyper, t):
        sum_sq = state["sum_sq"]
        denom = np.square(grad)
        sum_sq += denom
        np.sqrt(sum_sq, out=denom)
        denom += hyper["epsilon"]
        np.divide(grad, denom, out=grad)
        grad *= lr
        param -= grad

    def preconditioner(self, state, hyper, t):
        return 1 / (np.sqrt(state["sum_sq"]) + hyper["epsilon"])


class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running root mean square of the gradients.

    ``v = rho * v + (1 - rho) * g**2``, ``b = momentum * b + g / (sqrt(v) +
    epsilon)``, then ``param -= lr * b``. With ``momentum=0`` this is the
    plain RMSprop step.

    Parameters
    ----------
    rho : float, default=0.9
        Decay of the running mean of squared gradients, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, > 0.
    momentum : float, default=0.0
        Momentum factor in [0, 1).
    """

    _parameter_constraints = {
        "rho": [_UNIT],
        "epsilon": [_POSITIVE],
        "momentum": [_UNIT],
    }

    def __init__(self, rho=0.9, epsilon=1e-8, momentum=0.0):
        self.rho = rho
        self.epsilon = epsilon
        self.momentum = momentum

    def init_state(self, param):
        return {"square_avg": np.zeros_like(param), "buffer": np.zeros_like(param)}

    def step(self, param, grad, state, lr, hyper, t):
        rho = hyper["rho"]
        square_avg, buffer = state["square_avg"], state["buffer"]
        scratch = np.square(grad)
        scratch *= 1 - rho
        square_avg *= rho
        square_avg += scratch
        np.sqrt(square_avg, out=scratch)
        scratch += hyper["epsilon"]
        np.divide(grad, scratch, out=grad)
        buffer *= hyper["momentum"]
        buffer += grad
        np.multiply(buffer, lr, out=grad)
        param -= grad

    def preconditioner(self, state, hyper, t):
        # the momentum buffer settles at 1 / (1 - momentum) of its input
        return 1 / ((np.sqrt(state["square_avg"]) + hyper["epsilon"])
                    * (1 - hyper["momentum"]))


class Adam(Optimizer):
    """Adam: steps from bias-corrected first and second moment estimates.

    ``m = beta_1 * m + (1 - beta_1) * g``, ``v = beta_2 * v + (1 - beta_2) *
    g**2``, then ``param -= lr * m_hat / (sqrt(v_hat) + epsilon)`` with
    ``m_hat = m / (1 - beta_1**t)`` and ``v_hat = v / (1 - beta_2**t)``
    (AMSGrad uses the running maximum of ``v`` instead of ``v``).

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of the second moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, > 0.
    amsgrad : bool, default=False
        Use the AMSGrad variant.
    """

    _parameter_constraints = {
        "beta_1": [_UNIT],
        "beta_2": [_UNIT],
        "epsilon": [_POSITIVE],
        "amsgrad": ["boolean"],
    }
    _structural_params = ("amsgrad",)

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, amsgrad=False):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def init_state(self, param):
        state = {"m": np.zeros_like(param), "v": np.zeros_like(param)}
        if self.amsgrad:
            state["v_max"] = np.zeros_like(param)
        return state

    def step(self, param, grad, state, lr, hyper, t):
        beta_1, beta_2 = hyper["beta_1"], hyper["beta_2"]
        m, v = state["m"], state["v"]
        # lr * m_hat / (sqrt(v_hat) + eps) with the bias corrections moved onto
        # the per-member scalars, as PyTorch does: two fewer passes over param
        root_correction_2 = np.sqrt(1 - beta_2**t)
        step_size = lr * root_correction_2 / (1 - beta_1**t)
        scratch = np.square(grad)
        scratch *= 1 - beta_2
        v *= beta_2
        v += scratch
        grad *= 1 - beta_1
        m *= beta_1
        m += grad
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        np.sqrt(v, out=scratch)
        scratch += hyper["epsilon"] * root_correction_2
        np.divide(m, scratch, out=grad)
        grad *= step_size
        param -= grad

    def preconditioner(self, state, hyper, t):
        # lr * m_hat / (sqrt(v_hat) + eps): the factor on the gradient estimate
        root_correction_2 = np.sqrt(1 - hyper["beta_2"] ** t)
        v = state["v_max"] if self.amsgrad else state["v"]
        return root_correction_2 / (np.sqrt(v) + hyper["epsilon"] * root_correction_2)


class AdamW(Adam):
    """Adam with decoupled weight decay.

    ``param *= 1 - lr * weight_decay``, then the :class:`Adam` step; the decay
    does not pass through the moment estimates (Loshchilov and Hutter).

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of the second moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, > 0.
    weight_decay : float, default=0.01
        Decoupled weight decay factor, >= 0.
    """

    _parameter_constraints = {
        "beta_1": [_UNIT],
        "beta_2": [_UNIT],
        "epsilon": [_POSITIVE],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
    }
    _structural_params = ()
    # not a parameter: the inherited Adam step reads it
    amsgrad = False

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay

    def step(self, param, grad, state, lr, hyper, t):
        param *= 1 - lr * hyper["weight_decay"]
        super().step(param, grad, state, lr, hyper, t)


def _member_dot(a, b):
    """``sum(a * b)`` over each member's entries, shaped ``(K, 1, ..., 1)``.

    In the engine's flat layout an array holds all of a member's parameters,
    so this is the inner product over the whole model, as the global norms of
    DoG and Prodigy need.
    """
    n_members = a.shape[0]
    total = np.einsum("ij,ij->i", a.reshape(n_members, -1), b.reshape(n_members, -1))
    return total.reshape((n_members,) + (1,) * (a.ndim - 1))


def _member_value(array):
    """The per-member number kept in every entry of a state array, ``(K, 1, ..., 1)``.

    Per-member scalars (DoG's distance, Prodigy's ``d``) are stored filled
    into arrays shaped like the parameters, so that the state keeps the
    parameters' layout and the engine updates the whole stack in one call.
    """
    return array[(slice(None),) + (slice(0, 1),) * (array.ndim - 1)].copy()


def _interpolate(param, grad, state, lr, hyper, t, momentum):
    """The schedule-free step, once the base direction is in ``grad``.

    ``z -= lr * grad``, ``x = (1 - c) x + c z`` and ``param = y = (1 -
    momentum) z + momentum x``, with ``c = w_t / sum(w_i)`` and ``w_t = t**r *
    lr_max**weight_lr_power`` (``lr_max`` the largest rate so far).
    """
    z, x = state["z"], state["x"]
    # zeros to start with: max(0, lr) is lr, as the reference's -1 start
    lr_max = np.maximum(_member_value(state["lr_max"]), lr)
    weight = t ** hyper["r"] * lr_max ** hyper["weight_lr_power"]
    weight_sum = _member_value(state["weight_sum"]) + weight
    with np.errstate(divide="ignore", invalid="ignore"):
        # a rate of 0 so far weighs nothing: the reference's 0 / 0 -> 0
        c = np.where(weight_sum > 0, weight / weight_sum, 0)
    state["lr_max"][...] = lr_max
    state["weight_sum"][...] = weight_sum
    grad *= lr
    z -= grad
    x *= 1 - c
    np.multiply(z, c, out=grad)
    x += grad
    np.multiply(x, momentum, out=grad)
    np.multiply(z, 1 - momentum, out=param)
    param += grad


def _schedule_free_state(param):
    # z and x start at the initial point; the averaging weights' running
    # maximum rate and sum are per-member numbers filled into every entry
    return {"z": param.copy(), "x": param.copy(), "lr_max": np.zeros_like(param),
            "weight_sum": np.zeros_like(param)}


def _refuse_l1(name):
    # an invalid combination of hyperparameters: ValueError, as the contract says
    raise ValueError(
        f"{name} does not support the L1 penalty: its proximal step would act "
        "on the point gradients are taken at, which the schedule-free method "
        "recomputes from its other two sequences at every step, so the fit "
        "would not minimize the penalized objective. Use penalty='l2' (or "
        "None) with this optimizer, or another optimizer with L1.")


class _ScheduleFree(Optimizer):
    """What the schedule-free methods share: they predict with ``x``, the
    average of their iterates kept in the state, and cannot take an L1
    proximal step (it would act on ``y``, which every step recomputes)."""

    averages_iterates = True
    # the averaging weights' parameters; subclasses add their own
    _parameter_constraints = {
        "r": [_NON_NEGATIVE],
        "weight_lr_power": [_NON_NEGATIVE],
    }

    def evaluation_point(self, params, states):
        return [state["x"] for state in states]

    def restart(self, params, states, point, rows):
        """Collapse ``y``, ``z`` and ``x`` of the members ``rows`` onto ``point``.

        The averaging weights and the second moments are kept, so the
        average goes on from ``point`` with the weight of every step so far.
        After a divergence the engine restarts at ``x``: the check watches
        the loss at ``y``, which moves only a ``1 - beta`` share as far as
        ``z``, so the last good state may hold a ``z`` that was already
        running away.
        """
        for param, state, target in zip(params, states, point):
            # a copy first: target may be x itself
            value = target[rows]
            for array in (param, state["z"], state["x"]):
                array[rows] = value

    def preconditioner(self, state, hyper, t):
        _refuse_l1(type(self).__name__)


class ScheduleFreeSGD(_ScheduleFree):
    r"""Schedule-free SGD: no schedule, and the average of the iterates is returned.

    Three sequences, all starting at the initial parameters: gradients are
    taken at ``y``, plain SGD steps move ``z``, and ``x``, the one predictions
    and the fitted model use, is a running weighted average of ``z``:

    .. math::

        z_{t+1} &= z_t - \gamma_t g(y_t), \\
        x_{t+1} &= (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}, \\
        y_{t+1} &= (1 - \beta) z_{t+1} + \beta x_{t+1},

    with :math:`c_{t+1} = w_t / \sum_{i \le t} w_i` and :math:`w_t = t^r
    \gamma_{\max}^{p}`, where :math:`\gamma_t` is the learning rate of step
    ``t``, :math:`\gamma_{\max}` the largest so far, :math:`\beta` is
    ``momentum`` and :math:`p` is ``weight_lr_power``. At ``r = 0`` and a
    constant rate, ``x`` is the uniform average of the ``z`` iterates.

    The estimator's parameters are ``y`` while training; predictions,
    validation scores and the fitted coefficients use ``x``
    (:meth:`evaluation_point`). Batch-normalization statistics are not
    recomputed at ``x``: they are those of the training passes at ``y``.

    Parameters
    ----------
    momentum : float, default=0.9
        Interpolation :math:`\beta` between ``z`` and ``x`` for the point
        gradients are taken at, in [0, 1). The reference requires it in (0,
        1) because it recovers ``x`` from ``y`` and ``z``; ``x`` is kept here,
        so 0 (gradients at ``z``) is allowed.
    r : float, default=0.0
        Power of the step count in the averaging weights, >= 0.
    weight_lr_power : float, default=2.0
        Power of the largest rate so far in the averaging weights, >= 0:
        steps taken during a warm-up weigh less.

    Notes
    -----
    Parameter names and defaults are those of ``schedulefree.SGDScheduleFree``,
    except: the reference's ``lr`` is the estimator's ``learning_rate``; its
    ``weight_decay`` (an L2 term added to the gradient at ``y``) is the
    estimator's ``alpha``; its ``warmup_steps`` is a schedule, e.g.
    ``schedule=Warmup(warmup_epochs=1, start_factor=0.0)``: the rate of each
    step, schedule included, enters the averaging weights as the reference's
    warm-up does. The L1 penalty is not supported (its proximal step would
    act on ``y``, which every step recomputes).

    The meaning of ``learning_rate``: see :ref:`learning-rate-free`.

    References
    ----------
    A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled and A. Cutkosky,
    "The Road Less Scheduled", NeurIPS 2024. https://arxiv.org/abs/2405.15682
    """

    _parameter_constraints = {
        **_ScheduleFree._parameter_constraints,
        "momentum": [_UNIT],
    }

    def __init__(self, momentum=0.9, r=0.0, weight_lr_power=2.0):
        self.momentum = momentum
        self.r = r
        self.weight_lr_power = weight_lr_power

    def init_state(self, param):
        return _schedule_free_state(param)

    def step(self, param, grad, state, lr, hyper, t):
        _interpolate(param, grad, state, lr, hyper, t, hyper["momentum"])


class ScheduleFreeAdamW(_ScheduleFree):
    r"""Schedule-free AdamW: Adam's scaling, no schedule, the averaged iterate returned.

    As :class:`ScheduleFreeSGD`, with the gradient scaled by a running root
    mean square and decoupled weight decay at ``y``:

    .. math::

        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
        u_t = \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}
              + \lambda y_t, \\
        z_{t+1} &= z_t - \gamma_t u_t, \\
        x_{t+1} &= (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}, \\
        y_{t+1} &= (1 - \beta_1) z_{t+1} + \beta_1 x_{t+1},

    with :math:`g_t = g(y_t)`, :math:`\lambda` the ``weight_decay`` and the
    averaging weights :math:`c_{t+1}` of :class:`ScheduleFreeSGD`. The
    interpolation :math:`\beta_1` replaces Adam's first moment estimate.

    Predictions, validation scores and the fitted coefficients use ``x``
    (:meth:`evaluation_point`); batch-normalization statistics are not
    recomputed at ``x``.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Interpolation between ``z`` and ``x``, in [0, 1).
    beta_2 : float, default=0.999
        Decay of the second moment estimate, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability, > 0.
    weight_decay : float, default=0.0
        Decoupled weight decay :math:`\lambda`, applied at ``y``, >= 0.
    r : float, default=0.0
        Power of the step count in the averaging weights, >= 0.
    weight_lr_power : float, default=2.0
        Power of the largest rate so far in the averaging weights, >= 0.

    Notes
    -----
    Parameter names and defaults are those of
    ``schedulefree.AdamWScheduleFree``, except: ``betas`` and ``eps`` are
    spelled ``beta_1``, ``beta_2`` and ``epsilon`` as in :class:`Adam`; the
    reference's ``lr`` is the estimator's ``learning_rate``; its
    ``warmup_steps`` is a schedule (see :class:`ScheduleFreeSGD`). The L1
    penalty is not supported. As in the package, Adam's bias correction is
    inside the root; the paper's Algorithm 1 puts :math:`\sqrt{1 -
    \beta_2^t}` into the rate instead, where it also lowers the averaging
    weights of the first steps.

    The meaning of ``learning_rate``: see :ref:`learning-rate-free`.

    References
    ----------
    A. Defazio, X. Yang, H. Mehta, K. Mishchenko, A. Khaled and A. Cutkosky,
    "The Road Less Scheduled", NeurIPS 2024. https://arxiv.org/abs/2405.15682
    """

    _parameter_constraints = {
        **_ScheduleFree._parameter_constraints,
        "beta_1": [_UNIT],
        "beta_2": [_UNIT],
        "epsilon": [_POSITIVE],
        "weight_decay": [_NON_NEGATIVE],
    }

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                 r=0.0, weight_lr_power=2.0):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.r = r
        self.weight_lr_power = weight_lr_power

    def init_state(self, param):
        return {**_schedule_free_state(param), "v": np.zeros_like(param)}

    def step(self, param, grad, state, lr, hyper, t):
        beta_2, v = hyper["beta_2"], state["v"]
        scratch = np.square(grad)
        scratch *= 1 - beta_2
        v *= beta_2
        v += scratch
        np.divide(v, 1 - beta_2**t, out=scratch)
        np.sqrt(scratch, out=scratch)
        scratch += hyper["epsilon"]
        grad /= scratch
        np.multiply(param, hyper["weight_decay"], out=scratch)
        grad += scratch
        _interpolate(param, grad, state, lr, hyper, t, hyper["beta_1"])


class Prodigy(Optimizer):
    r"""Prodigy: Adam whose step size estimates the distance to the solution.

    Adam's update scaled by an estimate ``d`` of :math:`\|x_0 - x_*\|` that
    only grows, from weighted sums of gradients (all norms and inner products
    over all of a model's parameters):

    .. math::

        \eta_t &= \gamma_t d_t \rho_t, \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) d_t g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) d_t^2 g_t^2, \\
        r_t &= \beta_3 r_{t-1} + \frac{d_t}{d_0} \eta_t
               \langle g_t, x_0 - x_t \rangle, \qquad
        s_t = \beta_3 s_{t-1} + \frac{d_t}{d_0} \eta_t g_t, \\
        \hat d_t &= \kappa \, r_t / \|s_t\|_1, \qquad
        d_{t+1} = \min\left(\max(d_0, \hat d_1, \ldots, \hat d_t),
                            \ \omega d_t\right), \\
        x_{t+1} &= x_t - \eta_t \lambda x_t
                   - \eta_t m_t / (\sqrt{v_t} + d_{t+1} \epsilon),

    with :math:`\gamma_t` the learning rate, :math:`d_1 = d_0`, :math:`\kappa`
    the ``d_coef``, :math:`\omega` the ``growth_rate`` (while :math:`d_t =
    d_0`, :math:`\omega \max(d_t, \hat d_t)`: the first increase is not
    limited), :math:`\lambda` the ``weight_decay``, and :math:`\rho_t =
    \sqrt{1 - \beta_2^t} / (1 - \beta_1^t)` with ``use_bias_correction``, 1
    without. With ``safeguard_warmup`` the sum :math:`s_t` leaves out the
    learning rate (:math:`d_t` in place of :math:`\eta_t`). The paper's
    Algorithm 4 weighs :math:`r_t` and :math:`s_t` by :math:`(1 -
    \beta_3) d_t^2 \gamma_t`, a factor common to both that cancels in
    :math:`\hat d_t`, and uses :math:`d_t \epsilon`; this is the authors'
    package's form.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment estimate, in [0, 1).
    beta_2 : float, default=0.999
        Decay of the second moment estimate, in [0, 1).
    beta_3 : float or None, default=None
        Decay of the sums :math:`r_t` and :math:`s_t`, in [0, 1); None
        means :math:`\sqrt{\beta_2}`.
    epsilon : float, default=1e-8
        Added to the denominator (times ``d``) for numerical stability, > 0.
    weight_decay : float, default=0.0
        Decoupled weight decay :math:`\lambda`, >= 0.
    use_bias_correction : bool, default=False
        Use Adam's bias correction :math:`\rho_t`.
    safeguard_warmup : bool, default=False
        Leave the learning rate out of :math:`s_t`, which keeps ``d`` from
        growing too fast while a warm-up schedule holds the rate low.
    d0 : float, default=1e-6
        Initial estimate :math:`d_0`, > 0; rarely needs changing.
    d_coef : float, default=1.0
        Factor :math:`\kappa` on the estimate, > 0: the authors' preferred
        way to tune the method.
    growth_rate : float, default=inf
        Largest factor :math:`\omega` by which ``d`` may grow per step, >= 1;
        values such as 1.02 act like a warm-up.

    Notes
    -----
    Parameter names and defaults are those of ``prodigyopt.Prodigy``,
    except: ``betas``, ``beta3`` and ``eps`` are spelled ``beta_1``,
    ``beta_2``, ``beta_3`` and ``epsilon`` as in :class:`Adam`; the
    reference's ``lr`` is the estimator's ``learning_rate``; its coupled
    weight decay (``decouple=False``) is the estimator's ``alpha``, so
    ``weight_decay`` is always decoupled; ``slice_p`` (statistics on every
    p-th entry) and ``fsdp_in_use`` (sharded training) do not apply. The
    reference skips a step entirely while every gradient so far is exactly
    zero or at a rate of exactly 0; here such a step only decays the moment
    estimates, and ``d`` stays as it is.

    The meaning of ``learning_rate``: see :ref:`learning-rate-free`.

    References
    ----------
    K. Mishchenko and A. Defazio, "Prodigy: An Expeditiously Adaptive
    Parameter-Free Learner", ICML 2024. https://arxiv.org/abs/2306.06101
    """

    _parameter_constraints = {
        "beta_1": [_UNIT],
        "beta_2": [_UNIT],
        "beta_3": [_UNIT, None],
        "epsilon": [_POSITIVE],
        "weight_decay": [_NON_NEGATIVE],
        "use_bias_correction": ["boolean"],
        "safeguard_warmup": ["boolean"],
        "d0": [_POSITIVE],
        "d_coef": [_POSITIVE],
        # checked in validate: an Interval refuses the default, inf
        "growth_rate": [Real],
    }
    _structural_params = ("use_bias_correction", "safeguard_warmup")
    learning_rate_free = True

    def __init__(self, beta_1=0.9, beta_2=0.999, beta_3=None, epsilon=1e-8,
                 weight_decay=0.0, use_bias_correction=False, safeguard_warmup=False,
                 d0=1e-6, d_coef=1.0, growth_rate=np.inf):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.beta_3 = beta_3
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.use_bias_correction = use_bias_correction
        self.safeguard_warmup = safeguard_warmup
        self.d0 = d0
        self.d_coef = d_coef
        self.growth_rate = growth_rate

    def validate(self):
        """Check the hyperparameters (``growth_rate >= 1``) and return ``self``."""
        super().validate()
        if not self.growth_rate >= 1:
            raise InvalidParameterError(
                f"Prodigy growth_rate must be >= 1 (inf for no limit), got "
                f"{self.growth_rate!r}.")
        return self

    def hyperparameters(self, optimizers, dtype):
        """As :meth:`Optimizer.hyperparameters`, with ``beta_3=None`` as ``sqrt(beta_2)``."""
        resolved = []
        for optimizer in optimizers:
            if optimizer.beta_3 is None:
                optimizer = copy.copy(optimizer)
                optimizer.beta_3 = np.sqrt(optimizer.beta_2)
            resolved.append(optimizer)
        return super().hyperparameters(resolved, dtype)

    def init_state(self, param):
        # x0 for the inner products; d, its running maximum and the sum r_t
        # are per-member numbers, set from hyper["d0"] at the first step
        state = {name: np.zeros_like(param)
                 for name in ("m", "v", "s", "d", "d_max", "numerator")}
        state["x0"] = param.copy()
        return state

    def _bias_correction(self, hyper, t):
        if self.use_bias_correction:
            return np.sqrt(1 - hyper["beta_2"] ** t) / (1 - hyper["beta_1"] ** t)
        return 1

    def step(self, param, grad, state, lr, hyper, t):
        beta_1, beta_2, beta_3 = hyper["beta_1"], hyper["beta_2"], hyper["beta_3"]
        d0 = hyper["d0"]
        first = t == 1
        d = np.where(first, d0, _member_value(state["d"]))
        d_max = np.where(first, d0, _member_value(state["d_max"]))
        numerator = np.where(first, 0, _member_value(state["numerator"]))
        step_size = d * lr * self._bias_correction(hyper, t)
        # d / d0 keeps the sums away from the underflow of d0-sized numbers
        weight = d / d0 * step_size
        scratch = np.subtract(state["x0"], param)
        numerator = numerator * beta_3 + weight * _member_dot(grad, scratch)
        m, v, s = state["m"], state["v"], state["s"]
        np.multiply(grad, d * (1 - beta_1), out=scratch)
        m *= beta_1
        m += scratch
        np.square(grad, out=scratch)
        scratch *= d * d * (1 - beta_2)
        v *= beta_2
        v += scratch
        if self.safeguard_warmup:
            weight = d / d0 * d
        s *= beta_3
        np.multiply(grad, weight, out=scratch)
        s += scratch
        np.abs(s, out=scratch)
        denominator = scratch.sum(axis=tuple(range(1, s.ndim)), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            estimate = hyper["d_coef"] * numerator / denominator
        # fmax ignores the NaN of 0 / 0 (all gradients zero so far): d stays
        grown = np.where(d == d0, np.fmax(d, estimate), d)
        d_max = np.fmax(d_max, estimate)
        d = np.minimum(d_max, grown * hyper["growth_rate"])
        state["d"][...] = d
        state["d_max"][...] = d_max
        state["numerator"][...] = numerator
        param *= 1 - hyper["weight_decay"] * step_size
        np.sqrt(v, out=scratch)
        scratch += d * hyper["epsilon"]
        np.divide(m, scratch, out=grad)
        grad *= step_size
        param -= grad

    def preconditioner(self, state, hyper, t):
        # the step is lr * d * rho * m / denominator and m estimates d * g:
        # the factor on the gradient, with the d of after the step
        d = _member_value(state["d"])
        return d * d * self._bias_correction(hyper, t) / (
            np.sqrt(state["v"]) + d * hyper["epsilon"])


class DoG(Optimizer):
    r"""DoG, "distance over gradients": SGD with a step size it sets itself.

    The step size is the largest distance travelled from the initial point
    over the root of the summed squared gradient norms (norms over all of a
    model's parameters):

    .. math::

        \bar r_t &= \max\left(r_\epsilon, \max_{i \le t} \|x_i - x_0\|\right),
        \qquad r_\epsilon = \text{reps\_rel} \, (1 + \|x_0\|), \\
        G_t &= \epsilon + \sum_{i \le t} \|g_i\|^2, \qquad
        \eta_t = \gamma_t \bar r_t / \sqrt{G_t}, \\
        x_{t+1} &= x_t - \eta_t g_t,

    with :math:`\gamma_t` the learning rate (the paper's ``c``, 1 by
    default). The step size starts tiny and grows over the first steps; it
    needs no decay. The authors recommend averaging the iterates with
    weights that forget the first ones (their package's polynomial-decay
    averager); the estimators' ``average=True`` is a uniform average from
    the first step, which keeps DoG's first, tiny steps and measured worse
    than no averaging (``benchmarks/RESULTS.md``); ``average=k`` starts it
    after ``k`` samples.

    Parameters
    ----------
    reps_rel : float, default=1e-6
        Relative size :math:`r_\epsilon / (1 + \|x_0\|)` of the first step's
        distance, > 0. The authors suggest 1e-4 for models with batch
        normalization.
    epsilon : float, default=1e-8
        Added to the sum of squared gradient norms, > 0.

    Notes
    -----
    Parameter names and defaults are those of ``dog.DoG`` (package
    ``dog-optimizer``), except: ``eps`` is spelled ``epsilon``; the
    reference's ``lr`` is the estimator's ``learning_rate``; its
    ``weight_decay`` (an L2 term added to the gradient) is the estimator's
    ``alpha``; its ``init_eta``, another way to set the first step, is left
    out. The norms are over all of a model's parameters, as the package's
    ``DoG`` (not the layer-wise ``LDoG``).

    The meaning of ``learning_rate``: see :ref:`learning-rate-free`.

    References
    ----------
    M. Ivgi, O. Hinder and Y. Carmon, "DoG is SGD's Best Friend: A
    Parameter-Free Dynamic Step Size Schedule", ICML 2023.
    https://arxiv.org/abs/2302.12022
    """

    _parameter_constraints = {"reps_rel": [_POSITIVE], "epsilon": [_POSITIVE]}
    learning_rate_free = True

    def __init__(self, reps_rel=1e-6, epsilon=1e-8):
        self.reps_rel = reps_rel
        self.epsilon = epsilon

    def init_state(self, param):
        # x0 for the distance; the largest distance and the gradient sum are
        # per-member numbers, set at the first step
        return {"x0": param.copy(), "distance": np.zeros_like(param),
                "grad_sq_sum": np.zeros_like(param)}

    def step(self, param, grad, state, lr, hyper, t):
        first = t == 1
        moved = np.subtract(param, state["x0"])
        distance = np.maximum(_member_value(state["distance"]),
                              np.sqrt(_member_dot(moved, moved)))
        if first.any():
            # param is x0 at a member's first step
            start = hyper["reps_rel"] * (1 + np.sqrt(_member_dot(param, param)))
            distance = np.where(first, start, distance)
        grad_sq_sum = (np.where(first, hyper["epsilon"],
                                _member_value(state["grad_sq_sum"]))
                       + _member_dot(grad, grad))
        state["distance"][...] = distance
        state["grad_sq_sum"][...] = grad_sq_sum
        grad *= lr * distance / np.sqrt(grad_sq_sum)
        param -= grad

    def preconditioner(self, state, hyper, t):
        return _member_value(state["distance"]) / np.sqrt(
            _member_value(state["grad_sq_sum"]))


OPTIMIZER_ALIASES = Registry("optimizer", Optimizer)
"""The optimizer names: the single list every estimator, doc table and test reads."""

for _name, _optimizer, _summary in (
    ("sgd", SGD(), "step along the negative gradient"),
    ("momentum", SGD(momentum=0.9), "step along a running sum of gradients"),
    ("nesterov", SGD(momentum=0.9, nesterov=True),
     "momentum with a look-ahead correction"),
    ("adagrad", Adagrad(), "per-weight steps shrinking with the summed squared "
     "gradients"),
    ("rmsprop", RMSprop(), "per-weight steps scaled by a running root mean square "
     "of the gradients"),
    ("adam", Adam(), "bias-corrected running mean of gradients, scaled like "
     "RMSprop (the default)"),
    ("adamw", AdamW(), "Adam with decoupled weight decay"),
    ("schedule_free_sgd", ScheduleFreeSGD(), "SGD without a schedule: gradients at "
     "an interpolated point, the running average of the iterates returned"),
    ("schedule_free_adamw", ScheduleFreeAdamW(), "schedule-free AdamW: Adam's "
     "scaling, gradients at an interpolated point, the average returned"),
    ("prodigy", Prodigy(), "Adam with a step size estimated from the gradients; "
     "learning_rate is a factor on it"),
    ("dog", DoG(), "SGD with step size distance travelled over summed gradient "
     "norms; learning_rate is a factor on it"),
):
    OPTIMIZER_ALIASES.register(_name, _optimizer, _summary)


def resolve_optimizer(spec):
    """Turn an ``optimizer`` hyperparameter into a validated optimizer.

    Parameters
    ----------
    spec : str or Optimizer
        A name from :data:`OPTIMIZER_ALIASES` or an optimizer object.

    Returns
    -------
    optimizer : Optimizer
        A new, validated optimizer; an object ``spec`` is cloned so that the
        user's object is never modified or shared.

    Raises
    ------
    InvalidParameterError
        If ``spec`` is an unknown name, has an unsupported type, or has
        invalid hyperparameters.
    """
    return OPTIMIZER_ALIASES.resolve(spec)
