"""Linear models trained by sklr's engine: :class:`LinearRegressor`, :class:`LogisticClassifier`."""

import textwrap
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from sklr._base import ClassifierBase, RegressorBase
from sklr._compat import Interval, StrOptions
from sklr._models import LinearModel
from sklr.optimizers import OPTIMIZER_ALIASES
from sklr.schedules import SCHEDULE_ALIASES

_LINEAR_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
}

_SHARED_DOC = """
    optimizer : str or Optimizer, default="adam"
        {optimizer_names}, or an object from :mod:`sklr.optimizers`
        (its parameters are tunable as ``optimizer__<name>``).
    learning_rate : float or "auto", default={lr}
        Base step size; the schedule multiplies it. Scale-free: regressors
        standardize the target inside, so the same rate suits any units.
        ``"auto"`` runs the LR range test on the training data inside ``fit``.
        For an optimizer that sets its own step size (``"dog"``,
        ``"prodigy"``), a factor on that step size times the default: the
        default means the optimizer's own estimate.
    schedule : str or Schedule, default="constant"
        {schedule_names}, or an object from :mod:`sklr.schedules`.
    batch_size : int or "auto", default="auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs.
    tol : float or None, default=1e-4
        Stop when the monitored loss (or validation score) has not improved
        by ``tol`` for ``n_iter_no_change`` epochs; ``None`` runs ``max_iter``.
    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, monitor its score and
        restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping``.
    alpha : float, default=1e-4
        Penalty strength, in the units of the objective (for regressors, the
        target's units, as for scikit-learn's ``Lasso``).
    average : bool or int, default=False
        Average the iterates (Polyak-Ruppert): ``True`` from the first step,
        an int ``k`` once ``k`` samples have been seen, as in scikit-learn's
        ``SGD*``. The fitted parameters, predictions and the validation score
        are the averaged ones; it lets plain SGD reach the exact optimum of
        convex problems.
    clip_norm : float or None, default=None
        Clip the global gradient norm to this value (of the standardized
        objective for regressors: scale-free).
    on_divergence : {{"backoff", "stop", "raise"}}, default="backoff"
        What to do when the loss blows up: restore the last good weights and
        divide the learning rate by 10 (``"backoff"``), restore and stop
        (``"stop"``), or raise :class:`~sklr.exceptions.DivergenceError`.
    shuffle : bool, default=True
        Reshuffle the samples every epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialization, shuffling, validation split and dropout.
    warm_start : bool, default=False
        Continue from the previous fit (weights, optimizer state, schedule)
        for up to ``max_iter`` more epochs; a schedule defined over the
        training budget (``"cosine"``, ``"onecycle"``, warm-up) sees the
        epochs done so far plus ``max_iter`` as its budget.
    verbose : int, default=0
        Print one line per epoch when > 0."""



def shared_doc(learning_rate):
    """The docstring of the shared parameters, with the names from the registries."""
    return _SHARED_DOC.format(lr=learning_rate,
                              optimizer_names=textwrap.fill(
                                  OPTIMIZER_ALIASES.names_doc(), 70,
                                  subsequent_indent=" " * 8),
                              schedule_names=textwrap.fill(
                                  SCHEDULE_ALIASES.names_doc(), 70,
                                  subsequent_indent=" " * 8))


_FITTED_DOC = """
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features, when X has string column names.
    n_iter_ : int
        Epochs run.
    t_ : int
        Updates made.
    loss_curve_ : list of float
        Training objective per epoch.
    validation_scores_ : list of float or None
        Validation score per epoch, when validation is monitored.
    validation_loss_curve_ : list of float or None
        Validation objective per epoch, when validation is monitored.
    best_loss_ : float
        Lowest training objective.
    best_validation_score_ : float or None
        Best validation score, when validation is monitored.
    learning_rate_ : float
        Base learning rate in use at the end (after ``"auto"`` and back-offs),
        in the units of ``learning_rate``: for an optimizer that sets its own
        step size (DoG, Prodigy) a factor on it times the default rate, so
        that it can be set again as it is.
    learning_rate_curve_ : list of float
        Learning rate in effect at the end of each epoch, in the same units.
    n_divergences_ : int
        Number of divergences detected.
    optimizer_ : Optimizer
        The resolved optimizer.
    schedule_ : Schedule
        The resolved schedule."""


class _LinearMixin:
    _supports_sparse = True

    def _make_model(self, n_features, n_outputs):
        return LinearModel(n_features, n_outputs, fit_intercept=self.fit_intercept)

    def _penalty_strengths(self):
        if self.penalty is None:
            return 0.0, 0.0
        if self.penalty == "l2":
            return self.alpha, 0.0
        if self.penalty == "l1":
            return 0.0, self.alpha
        return self.alpha * (1 - self.l1_ratio), self.alpha * self.l1_ratio

    def _weights_and_intercepts(self):
        weights = self._params[0][0]
        intercepts = (self._params[1][0, 0] if self.fit_intercept
                      else np.zeros(weights.shape[1], dtype=weights.dtype))
        return weights, intercepts


class LinearRegressor(_LinearMixin, RegressorMixin, RegressorBase):
    """Linear regression trained by minibatch gradient descent.

    Minimizes the weighted mean of ``0.5 * (y - f)**2`` (or the Huber loss)
    plus ``alpha`` times the penalty, so with ``penalty="l2"`` it has the
    optimum of ``Ridge(alpha=alpha * n_samples)``.

    Parameters
    ----------
    loss : {{"squared_error", "huber"}}, default="squared_error"
        Per-sample loss.
    epsilon : float, default=1.35
        Huber threshold, in the target's units.
    fit_intercept : bool, default=True
        Learn an intercept (not penalized).
    penalty : {{"l2", "l1", "elasticnet"}} or None, default="l2"
        Penalty on the weights; L1 is applied by a proximal step, so exact
        zeros appear.
    l1_ratio : float, default=0.15
        Share of L1 in the elastic net.
{shared}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Weights.
    intercept_ : ndarray of shape (1,) or (n_targets,)
        Intercepts.
{fitted}

    See Also
    --------
    sklearn.linear_model.SGDRegressor, sklearn.linear_model.Ridge

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklr import LinearRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = LinearRegressor(random_state=0).fit(X, y)
    >>> round(reg.score(X, y), 3)
    1.0
    """

    _parameter_constraints = {
        **RegressorBase._parameter_constraints,
        **_LINEAR_CONSTRAINTS,
    }

    def __init__(self, *, loss="squared_error", epsilon=1.35, fit_intercept=True,
                 penalty="l2", l1_ratio=0.15, optimizer="adam", learning_rate=0.01,
                 schedule="constant", batch_size="auto", max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 alpha=0.0001, average=False, clip_norm=None, on_divergence="backoff",
                 shuffle=True, random_state=None, warm_start=False, verbose=0):
        self.loss = loss
        self.epsilon = epsilon
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.l1_ratio = l1_ratio
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

    def _centers_targets(self):
        return self.fit_intercept

    def _set_coefficients(self):
        weights, intercepts = self._weights_and_intercepts()
        scale = self._y_scale.astype(weights.dtype)
        coef = (weights * scale).T
        intercept = intercepts * scale + self._y_mean.astype(weights.dtype)
        self.coef_ = coef[0] if self._single_target else coef
        self.intercept_ = intercept


class LogisticClassifier(_LinearMixin, ClassifierMixin, ClassifierBase):
    """Logistic regression (binary, or multinomial softmax) trained by minibatch descent.

    Minimizes the weighted mean cross-entropy plus ``alpha`` times the
    penalty, so with ``penalty="l2"`` it has the optimum of
    ``LogisticRegression(C=1 / (alpha * n_samples))``.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Learn intercepts (not penalized).
    penalty : {{"l2", "l1", "elasticnet"}} or None, default="l2"
        Penalty on the weights; L1 is applied by a proximal step.
    l1_ratio : float, default=0.15
        Share of L1 in the elastic net.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)``, counting samples with ``sample_weight``.
{shared}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
{fitted}

    See Also
    --------
    sklearn.linear_model.LogisticRegression, sklearn.linear_model.SGDClassifier

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklr import LogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), LogisticClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.98
    True
    """

    _parameter_constraints = {
        **ClassifierBase._parameter_constraints,
        **_LINEAR_CONSTRAINTS,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, *, fit_intercept=True, penalty="l2", l1_ratio=0.15,
                 class_weight=None, optimizer="adam", learning_rate=0.01,
                 schedule="constant", batch_size="auto", max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 alpha=0.0001, average=False, clip_norm=None, on_divergence="backoff",
                 shuffle=True, random_state=None, warm_start=False, verbose=0):
        self.fit_intercept = fit_intercept
        self.penalty = penalty
        self.l1_ratio = l1_ratio
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
        weights, intercepts = self._weights_and_intercepts()
        self.coef_ = np.ascontiguousarray(weights.T)
        self.intercept_ = intercepts.copy()


for _cls, _lr in ((LinearRegressor, "0.01"), (LogisticClassifier, "0.01")):
    _cls.__doc__ = _cls.__doc__.format(
        shared=shared_doc(learning_rate=_lr), fitted=_FITTED_DOC)
