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
    "Optimizer",
    "RMSprop",
    "resolve_optimizer",
]

_UNIT = Interval(Real, 0, 1, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")


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
    """

    _parameter_constraints: dict = {}
    _structural_params: tuple[str, ...] = ()

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

    def preconditioner(self, state, hyper, t):
        """Per-entry factor of the learning rate in the step just taken, or None.

        The L1 penalty's proximal step shrinks each weight by ``lr *
        factor * alpha``, so that its fixed points are those of the
        penalized problem whatever the per-coordinate step sizes. ``None``
        (plain and momentum SGD) is a factor of 1.

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
        return 1 / (np.sqrt(state["square_avg"]) + hyper["epsilon"])


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
