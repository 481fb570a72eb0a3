"""Multilayer perceptrons trained by sklr's engine: :class:`MLPRegressor`, :class:`MLPClassifier`."""

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from sklr._base import ClassifierBase, RegressorBase
from sklr._compat import Interval, StrOptions
from sklr._models import MLPModel
from sklr.linear_model import _FITTED_DOC, shared_doc

# Beyond these, allocating the weights (several copies: gradients, optimizer
# state, snapshots) fails with a MemoryError instead of a clear message.
MAX_LAYER_SIZE = 10**6
MAX_WEIGHTS = 10**9

_MLP_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like"],
    "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "batch_norm": ["boolean"],
}

_MLP_PARAMS_DOC = """
    hidden_layer_sizes : array-like of int, default=(100,)
        Number of units of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Probability of zeroing a hidden unit while training (inverted
        dropout; off at predict time).
    batch_norm : bool, default=False
        Normalize each hidden layer's pre-activations over the minibatch;
        running statistics are used at predict time."""

_MLP_ATTRIBUTES_DOC = """
    coefs_ : list of ndarray
        Weight matrix of each layer, shape (n_in, n_out).
    intercepts_ : list of ndarray
        Bias vector of each layer, shape (n_out,)."""


class _MLPMixin:
    # sparse input meets the first layer only (sparse products); the rest is dense
    _supports_sparse = True

    def _check_extra_params(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, Real) else sizes
        try:
            sizes = list(sizes)
        except TypeError:
            sizes = None
        if not sizes or not all(
                isinstance(s, Real) and not isinstance(s, bool | np.bool_)
                and float(s).is_integer() and s > 0 for s in sizes):
            raise ValueError(
                "hidden_layer_sizes must be a positive integer or a non-empty "
                f"sequence of them, got {self.hidden_layer_sizes!r}."
            )
        if max(sizes) > MAX_LAYER_SIZE:
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} has a layer of "
                f"{max(sizes)} units; at most {MAX_LAYER_SIZE} are supported.")

    def _make_model(self, n_features, n_outputs):
        sizes = tuple(int(s) for s in np.atleast_1d(self.hidden_layer_sizes))
        model = MLPModel(n_features, n_outputs, sizes, activation=self.activation,
                         dropout=self.dropout, batch_norm=self.batch_norm)
        n_weights = sum(a * b for a, b in zip(model.layer_sizes[:-1],
                                              model.layer_sizes[1:]))
        if n_weights > MAX_WEIGHTS:
            raise ValueError(
                f"hidden_layer_sizes={self.hidden_layer_sizes!r} with {n_features} "
                f"features gives {n_weights:.3g} weights per model; at most "
                f"{MAX_WEIGHTS:.0e} are supported (training keeps several copies).")
        return model

    def _layers(self):
        n_layers = self._model.n_layers
        coefs = [self._params[2 * i][0] for i in range(n_layers)]
        intercepts = [self._params[2 * i + 1][0, 0] for i in range(n_layers)]
        return coefs, intercepts


class MLPRegressor(_MLPMixin, RegressorMixin, RegressorBase):
    """Multilayer perceptron regressor trained by minibatch gradient descent.

    Minimizes the weighted mean of ``0.5 * ||y - f||**2`` (or the Huber loss)
    plus ``alpha`` times ``0.5 * ||W||**2`` over the weight matrices, all in
    the target's units. Targets are standardized inside as a preconditioner
    only; ``coefs_`` and ``intercepts_`` include the rescaling, so they map
    inputs to predictions in the original units.

    Parameters
    ----------
    loss : {{"squared_error", "huber"}}, default="squared_error"
        Per-sample loss.
    epsilon : float, default=1.35
        Huber threshold, in the target's units.{mlp}
{shared}

    Attributes
    ----------{mlp_attributes}
{fitted}

    See Also
    --------
    sklearn.neural_network.MLPRegressor

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklr import MLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=5, noise=1, random_state=0)
    >>> reg = MLPRegressor(hidden_layer_sizes=(32,), random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        **RegressorBase._parameter_constraints, **_MLP_CONSTRAINTS}

    def __init__(self, *, loss="squared_error", epsilon=1.35,
                 hidden_layer_sizes=(100,), activation="relu", dropout=0.0,
                 batch_norm=False, optimizer="adam", learning_rate=0.001,
                 schedule="constant", batch_size="auto", max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 alpha=0.0001, average=False, clip_norm=None, on_divergence="backoff",
                 shuffle=True, random_state=None, warm_start=False, verbose=0):
        self.loss = loss
        self.epsilon = epsilon
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.alpha = alpha
        self.average = average
        self.clip_norm = clip_norm
        self.on_divergence = on_divergence
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _set_coefficients(self):
        coefs, intercepts = self._layers()
        scale = self._y_scale.astype(coefs[-1].dtype)
        coefs[-1] = coefs[-1] * scale
        intercepts[-1] = intercepts[-1] * scale + self._y_mean.astype(scale.dtype)
        self.coefs_ = [c.copy() for c in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]


class MLPClassifier(_MLPMixin, ClassifierMixin, ClassifierBase):
    """Multilayer perceptron classifier trained by minibatch gradient descent.

    Minimizes the weighted mean cross-entropy of a sigmoid (binary) or
    softmax (multiclass) output plus ``alpha`` times ``0.5 * ||W||**2``.

    Parameters
    ----------{mlp}
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)``, counting samples with ``sample_weight``.
{shared}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.{mlp_attributes}
{fitted}

    See Also
    --------
    sklearn.neural_network.MLPClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklr import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        **ClassifierBase._parameter_constraints,
        **_MLP_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, hidden_layer_sizes=(100,), activation="relu", dropout=0.0,
                 batch_norm=False, class_weight=None, optimizer="adam",
                 learning_rate=0.001, schedule="constant", batch_size="auto",
                 max_iter=200, tol=1e-4, n_iter_no_change=10, early_stopping=False,
                 validation_fraction=0.1, alpha=0.0001, average=False, clip_norm=None,
                 on_divergence="backoff", shuffle=True, random_state=None,
                 warm_start=False, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.class_weight = class_weight
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.alpha = alpha
        self.average = average
        self.clip_norm = clip_norm
        self.on_divergence = on_divergence
        self.shuffle = shuffle
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    def _set_coefficients(self):
        coefs, intercepts = self._layers()
        self.coefs_ = [c.copy() for c in coefs]
        self.intercepts_ = [b.copy() for b in intercepts]


for _cls in (MLPRegressor, MLPClassifier):
    _cls.__doc__ = _cls.__doc__.format(
        mlp=_MLP_PARAMS_DOC, mlp_attributes=_MLP_ATTRIBUTES_DOC,
        shared=shared_doc(learning_rate="0.001"), fitted=_FITTED_DOC)
