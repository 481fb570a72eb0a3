"""What every sklr estimator shares: parameters, validation, ``fit`` and ``partial_fit``.

An estimator only chooses a model (:mod:`sklr._models`), a loss and a link;
training is the engine's (:mod:`sklr._engine`). The seam between the two is
the :class:`~sklr._engine.TrainingPlan`: ``_plan`` turns the hyperparameters
and data into one (``fit``, the searches and the LR range test all build
theirs through it), the engine trains a stack of plans, and ``_set_fitted``
turns a trained member back into fitted attributes.
"""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sklr._callbacks import epoch_callbacks
from sklr._compat import (
    CallbackSupportMixin,
    Interval,
    StrOptions,
    check_sample_weight,
    validate_data,
    validate_params,
)
from sklr._engine import MemberConfig, Stack, TrainingData, TrainingPlan
from sklr._sweep import auto_learning_rate
from sklr.exceptions import DivergenceError, DivergenceWarning, LearningRateWarning
from sklr.optimizers import OPTIMIZER_ALIASES, Optimizer, resolve_optimizer
from sklr.schedules import SCHEDULE_ALIASES, Schedule, resolve_schedule


def _check_magnitude(values, name, dtype=None):
    """Reject values whose square overflows ``dtype``: training on them cannot be finite.

    Skipped, like scikit-learn's finiteness checks, under
    ``sklearn.config_context(assume_finite=True)``.
    """
    data = values.data if sp.issparse(values) else values
    if data.size == 0 or get_config()["assume_finite"]:
        return
    dtype = data.dtype if dtype is None else np.dtype(dtype)
    limit = np.sqrt(np.finfo(dtype).max)
    # max and min, not abs().max(): no temporary copy of a large X
    largest = max(data.max(), -data.min())
    if largest > limit:
        raise ValueError(
            f"{name} contains values too large in magnitude for "
            f"{dtype} training (max abs {largest:.3g} > {limit:.3g}); "
            "rescale the data, e.g. with StandardScaler."
        )


# A target whose spread is below this has a squared spread, the unit of its
# loss, below float64's normal range.
MIN_TARGET_SCALE = 1e-150
# A loss that fell by less than this share from its first epoch made no progress.
NO_PROGRESS = 0.01
# Each of the last epochs must lower the loss by this share to count as a decline.
DECLINE = 1e-9
# The last epoch's decrease at least this share of the one five epochs before
# is a steady pace (decreases are negative numbers here).
STEADY = 0.8
# A final loss this many times the best one ended far above it.
FAR_ABOVE_BEST = 2.0


def _learning_rate_doubts(record, has_validation):
    """What a finished fit's curve says against its learning rate, as messages.

    * Stopped by the ``tol`` rule while the loss fell by less than 1% from its
      first epoch, declining at every one of the last epochs and at a steady
      pace: the steps are too small to move. At a minimum, minibatch noise
      makes the loss go up and down; near one, its decline slows
      geometrically.
    * Ended at more than twice its best loss (without validation, whose best
      weights are restored): late steps are too large.
    * Never came below twice the loss of the initial weights on the training
      data: every epoch left the model worse than it started, the steps are
      too large.
    """
    curve = np.asarray(record.loss_curve, dtype=float)
    rate = f"{record.learning_rate:.3g}"
    if len(curve) < 2 or not np.isfinite(curve).all():
        return []
    doubts = []
    first, best, final = curve[0], curve.min(), curve[-1]
    if record.status == "converged" and first > 0:
        tail = np.diff(curve[-min(len(curve), 6):])
        # too small a rate declines at a steady pace; a run that converged
        # near its start slows down geometrically
        steady = len(tail) > 1 and tail[-1] <= STEADY * tail[0]
        if ((first - best) < NO_PROGRESS * first and steady
                and (tail < -DECLINE * first).all()):
            doubts.append(
                f"Training stopped after {len(curve)} epochs because the loss "
                f"stopped improving by tol, but it fell only "
                f"{100 * (first - best) / first:.2g}% from its first epoch while "
                f"still declining: learning rate {rate} may be too low. Try a "
                "larger one or learning_rate='auto'.")
    initial = record.initial_loss
    if best > FAR_ABOVE_BEST * initial > 0:
        doubts.append(
            f"The training loss never came near that of the initial weights: "
            f"{best:.4g} at best, against {initial:.4g} before training. Learning "
            f"rate {rate} is too high: every epoch left the model worse than it "
            "started. Try a smaller rate or learning_rate='auto'.")
    if not has_validation and best > 0 and final > FAR_ABOVE_BEST * best:
        doubts.append(
            f"The final training loss {final:.4g} is {final / best:.3g} times the "
            f"best, {best:.4g} in epoch {int(curve.argmin()) + 1}: learning rate "
            f"{rate} may be too high late in training. Try a decaying schedule "
            "such as 'cosine', a smaller rate, or early_stopping=True.")
    return doubts


def _training_layout(X):
    """``X`` as the loop reads it: C-ordered rows if dense, CSR if sparse.

    Done once per fit: the loop gathers rows every minibatch, and gathering
    rows of a Fortran-ordered array (any float DataFrame) copies it whole.
    """
    if sp.issparse(X):
        return X.tocsr()
    return np.ascontiguousarray(X)


def _checked_classes(classes):
    """``partial_fit``'s ``classes``, sorted and unique: a 1-D list of labels
    without NaN."""
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise ValueError(f"classes must be a 1-D list of labels, got an array of "
                         f"shape {classes.shape}.")
    if classes.dtype.kind == "f" and np.isnan(classes).any():
        raise ValueError("classes contains NaN; labels must be values y can take.")
    return np.unique(classes)


def _checked_weights(weights, name):
    """Weights with a positive, finite sum in their dtype.

    The objective is a weighted mean, so rescaling every weight by the same
    factor changes nothing; weights whose sum overflows (float32 with weights
    near 1e37) are rescaled by their maximum.
    """
    if not np.isfinite(weights).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    with np.errstate(over="ignore"):
        total = weights.sum()
    if not np.isfinite(total):
        weights = weights / weights.max()
        total = weights.sum()
    if not total > 0:
        raise ValueError(f"{name} must have a positive sum.")
    return weights


class BaseSKLR(CallbackSupportMixin, BaseEstimator):
    """Base class of the sklr estimators; not for direct use."""

    _parameter_constraints = {
        "optimizer": [OPTIMIZER_ALIASES.constraint(), Optimizer],
        "learning_rate": [Interval(Real, 0, None, closed="neither"),
                          StrOptions({"auto"})],
        "schedule": [SCHEDULE_ALIASES.constraint(), Schedule],
        "batch_size": [Interval(Integral, 1, None, closed="left"),
                       StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "average": ["boolean", Interval(Integral, 1, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "on_divergence": [StrOptions({"backoff", "stop", "raise"})],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    _supports_sparse = False

    # ------------------------------------------------------------ subclass API
    def _make_model(self, n_features, n_outputs):
        """The model structure (linear or MLP)."""
        raise NotImplementedError

    def _make_loss(self):
        """The loss of the raw output (link included)."""
        raise NotImplementedError

    def _penalty_strengths(self):
        """``(alpha_l2, alpha_l1)`` of the objective."""
        return self.alpha, 0.0

    def _objective_scaling(self, model):
        """``(penalty_weights, loss_scale, gradient_scale)`` of the plan: none
        for classifiers."""
        return None, 1.0, None

    def _check_extra_params(self):
        """Checks beyond ``_parameter_constraints`` (e.g. hidden layer sizes)."""

    # ----------------------------------------------------------------- fitting
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None,
            sample_weight_val=None):
        """Fit the model to data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the weighted-mean loss.
        X_val, y_val : array-like, default=None
            Validation data. When given, the validation score is monitored
            for stopping and the best weights are restored, as with
            ``early_stopping=True`` but on this data instead of a split.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Weights of the validation samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together.")
        continuing = self.warm_start and hasattr(self, "_record")
        return self._guarded_fit(
            X, y, sample_weight, (X_val, y_val, sample_weight_val),
            continuing=continuing, n_epochs=self.max_iter, classes=None,
        )

    def _partial_fit(self, X, y, sample_weight, classes):
        continuing = hasattr(self, "_record")
        return self._guarded_fit(
            X, y, sample_weight, (None, None, None), continuing=continuing,
            n_epochs=1, classes=classes, incremental=True,
        )

    def _guarded_fit(self, *args, **kwargs):
        # bad input or a raised divergence must leave a fitted estimator as it was
        saved = dict(self.__dict__)
        try:
            return self._fit(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _fit(self, X, y, sample_weight, validation, continuing, n_epochs, classes,
             incremental=False):
        plan = self._plan(X, y, sample_weight, validation=validation,
                          continuing=continuing, classes=classes,
                          incremental=incremental)
        stack = Stack.from_plans([plan])
        earlier_divergences = 0
        if continuing:
            stack.resume(0, self._record, self._schedule_state, self._epoch)
            earlier_divergences = self._record.n_divergences
        with epoch_callbacks(self, n_epochs, X=X, y=y,
                             sample_weight=sample_weight) as on_epoch:
            # a warm-started fit runs max_iter more epochs: the budget a
            # schedule spans grows by as much (partial_fit keeps max_iter's)
            horizon = self.max_iter + (self._epoch if continuing and not incremental
                                       else 0)
            stack.train(plan.data, n_epochs, horizon=horizon,
                        stopping=not incremental, verbose=self.verbose,
                        on_epoch=on_epoch)
        stack.finalize()
        self._set_fitted(stack, 0, plan)
        if self.verbose:
            print(self._stop_report(stack.records[0], incremental))
        self._warn_about(stack.records[0], incremental, earlier_divergences)
        return self

    def _stop_report(self, record, incremental):
        """Why training ended and, with validation, which epoch's weights are kept."""
        watched = ("Validation score" if record.validation_scores
                   else "Training loss")
        reason = {
            "converged": f"{watched} did not improve by more than tol={self.tol} for "
                         f"{self.n_iter_no_change} consecutive epochs. Stopping.",
            "training": ("Ran the epoch of partial_fit." if incremental else
                         f"Reached max_iter={self.max_iter} epochs."),
            "diverged": "Stopped after the loss diverged at learning rate "
                        f"{record.learning_rate:.3g}.",
            "stopped": "A callback asked to stop.",
            "error": "The loss diverged and on_divergence='raise'.",
        }[record.status]
        if record.validation_scores:
            best = int(np.argmax(record.validation_scores)) + 1
            reason += (f" Best validation score {record.best_validation_score:.6g} "
                       f"in epoch {best}; its weights are kept.")
        return reason

    def _warn_about(self, record, incremental, earlier_divergences=0):
        """Warn about what this fit did; ``earlier_divergences`` are those of
        the fits it continues, warned about then."""
        if record.status == "error":
            lr = record.divergence_learning_rates[-1]
            raise DivergenceError(
                f"Training diverged at learning rate {lr:.3g} in epoch "
                f"{record.divergence_epochs[-1] + 1}. Try a smaller learning_rate "
                f"(e.g. {lr / 10:.3g}), clip_norm, or on_divergence='backoff'."
            )
        if record.n_divergences > earlier_divergences:
            rates = ", ".join(f"{r:.3g}" for r in
                              record.divergence_learning_rates[earlier_divergences:])
            action = ("stopped" if record.status == "diverged"
                      else f"backed off to learning rate {record.learning_rate:.3g}")
            warnings.warn(
                f"Training diverged at learning rate {rates}; restored the last "
                f"good weights and {action}.",
                DivergenceWarning,
                stacklevel=5,
            )
        if (not incremental and record.status == "training"
                and self.tol is not None):
            warnings.warn(
                f"{type(self).__name__} reached max_iter={self.max_iter} epochs "
                "before the loss converged; increase max_iter or the learning rate.",
                ConvergenceWarning,
                stacklevel=5,
            )
        for message in _learning_rate_doubts(record, has_validation=bool(
                record.validation_scores)):
            warnings.warn(message, LearningRateWarning, stacklevel=5)

    def _plan(self, X, y, sample_weight=None, *, validation=(None, None, None),
              continuing=False, classes=None, incremental=False, rows=None):
        """Validate everything and build the engine's plan for this estimator.

        Sets what a fit learns from the data before training (``classes_``,
        ``n_features_in_``, the target's moments); ``fit``, the searches and
        the LR range test all go through here.

        Parameters
        ----------
        X, y, sample_weight
            The training data, as passed to ``fit``.
        validation : tuple
            ``(X_val, y_val, sample_weight_val)``, all None without.
        continuing : bool
            Continue the fitted model (``warm_start`` or ``partial_fit``).
        classes : array-like or None
            All labels, for the first ``partial_fit``.
        incremental : bool
            One epoch of ``partial_fit``: no validation split, no stopping.
        rows : ndarray of int or None
            A search's training fold: plan as if fitted on ``X[rows],
            y[rows]``, but let the engine gather those rows from ``X`` a
            minibatch at a time instead of copying them.

        Returns
        -------
        plan : TrainingPlan
        """
        validate_params(self)
        self._check_extra_params()
        optimizer = resolve_optimizer(self.optimizer)
        schedule = resolve_schedule(self.schedule)
        if self.average is not False and optimizer.averages_iterates:
            raise ValueError(
                f"average={self.average!r} cannot be combined with "
                f"{type(optimizer).__name__}, which predicts with an average of its "
                "own iterates already; use average=False.")
        X, y = validate_data(
            self, X, y, reset=not continuing,
            accept_sparse=["csr", "csc"] if self._supports_sparse else False,
            dtype=[np.float64, np.float32], multi_output=self._multi_output,
            y_numeric=not self._is_classifier,
        )
        _check_magnitude(X, "X")
        X = _training_layout(X)
        dtype = X.dtype
        sample_weight = check_sample_weight(sample_weight, X, dtype=dtype)
        if rows is not None:
            y, sample_weight = y[rows], sample_weight[rows]
        # before the target's moments are weighted by it
        sample_weight = _checked_weights(sample_weight, "sample_weight")
        Y = self._encode_targets(y, continuing, classes, incremental, sample_weight)
        if continuing:
            change = self._structure_change(optimizer, X.shape[1], Y.shape[1])
            if change is not None:
                raise ValueError(
                    f"warm_start/partial_fit cannot change {change} of a fitted "
                    "estimator; fit a new one instead (warm_start=False).")
        sample_weight = sample_weight * self._class_weights(y, incremental, sample_weight)
        sample_weight = _checked_weights(sample_weight, "sample_weight")

        X_val, y_val, sample_weight_val = validation
        Y_val = None
        if X_val is not None:
            X_val, y_val = validate_data(
                self, X_val, y_val, reset=False,
                accept_sparse=["csr", "csc"] if self._supports_sparse else False,
                dtype=dtype, multi_output=self._multi_output,
                y_numeric=not self._is_classifier,
            )
            _check_magnitude(X_val, "X_val")
            X_val = _training_layout(X_val)
            Y_val = self._encode_targets(y_val, True, None, False, None,
                                         validation=True)
            sample_weight_val = _checked_weights(
                check_sample_weight(sample_weight_val, X_val, dtype=dtype),
                "sample_weight_val")
        random_state = check_random_state(self.random_state)
        if X_val is None and self.early_stopping and not incremental:
            rows, X_val, Y, Y_val, sample_weight, sample_weight_val = self._split(
                X, rows, Y, y, sample_weight, random_state)

        default = inspect.signature(type(self)).parameters["learning_rate"].default
        # a learning-rate-free optimizer takes the rate as a factor on its own
        # step size: the estimator's default rate means 1
        unit = default if optimizer.learning_rate_free else 1.0
        learning_rate = self.learning_rate
        if learning_rate == "auto" and continuing:
            # keep the rate the first fit chose: the test starts from fresh
            # weights, and partial_fit chunks are too small for it
            learning_rate = self._base_learning_rate
        elif learning_rate != "auto":
            learning_rate = float(learning_rate) / unit
        alpha_l2, alpha_l1 = self._penalty_strengths()
        seed = random_state.randint(np.iinfo(np.int32).max)
        member = MemberConfig(
            learning_rate=1.0 if learning_rate == "auto" else float(learning_rate),
            optimizer=optimizer,
            schedule=schedule,
            random_state=random_state,
            alpha_l2=alpha_l2,
            alpha_l1=alpha_l1,
            clip_norm=self.clip_norm,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            on_divergence=self.on_divergence,
            average=bool(self.average) if isinstance(self.average, bool | np.bool_)
            else int(self.average),
            rate_unit=unit,
        )
        data = TrainingData(
            X=X, Y=Y.astype(dtype, copy=False), sample_weight=sample_weight,
            rows=rows, X_val=X_val,
            Y_val=None if Y_val is None else Y_val.astype(dtype, copy=False),
            sample_weight_val=sample_weight_val, scorer=self._validation_score,
        )
        model = self._model if continuing else self._make_model(X.shape[1], Y.shape[1])
        penalty_weights, loss_scale, gradient_scale = self._objective_scaling(model)
        plan = TrainingPlan(data=data, model=model, loss=self._make_loss(),
                            member=member, dtype=dtype, seed=seed,
                            batch_size=self.batch_size, shuffle=self.shuffle,
                            penalty_weights=penalty_weights, loss_scale=loss_scale,
                            gradient_scale=gradient_scale)
        if learning_rate == "auto":
            member.learning_rate = auto_learning_rate(plan, fallback=default) / unit
        return plan

    def _split(self, X, rows, Y, y, sample_weight, random_state):
        """Hold out ``validation_fraction`` of the samples, stratified for classifiers.

        The training samples stay in ``X`` as rows; only the validation
        samples are copied. Returns ``rows_train, X_val, Y_train, Y_val,
        w_train, w_val``.
        """
        n_samples = Y.shape[0]
        if n_samples < 2:
            raise ValueError(
                f"early_stopping needs at least 2 samples, got {n_samples}.")
        # splitting positions gives the split train_test_split gives the data
        positions = np.arange(n_samples)
        split = dict(test_size=self.validation_fraction, random_state=random_state)
        parts = None
        if self._is_classifier:
            try:
                parts = train_test_split(positions, Y, sample_weight, stratify=y,
                                         **split)
            except ValueError:
                pass  # a class too small to stratify: a plain split still works
        if parts is None:
            parts = train_test_split(positions, Y, sample_weight, **split)
        train, val, Y_train, Y_val, w_train, w_val = parts
        for part, weights in (("training", w_train), ("validation", w_val)):
            if not weights.sum() > 0:
                raise ValueError(
                    f"early_stopping split the data so that its {part} part has "
                    "zero total sample_weight; pass X_val and y_val, change "
                    "validation_fraction or random_state, or give those samples "
                    "weight.")
        if rows is not None:
            train, val = rows[train], rows[val]
        return train, X[val], Y_train, Y_val, w_train, w_val

    def _structure_change(self, optimizer, n_features, n_outputs):
        """What ``warm_start`` / ``partial_fit`` cannot change, if it changed.

        One rule: the model the current parameters would build must have the
        fitted model's structure key, and the optimizer the fitted one's
        (class and structural flags). Returns a description, or None.
        """
        new = self._make_model(n_features, n_outputs).structure_key()
        old = self._model.structure_key()
        if new != old:
            changed = [f"{a!r} -> {b!r}" for a, b in zip(old, new) if a != b]
            return f"the model structure ({', '.join(changed)})"
        if optimizer.structure_key() != self.optimizer_.structure_key():
            return (f"the optimizer ({self.optimizer_.structure_key()} -> "
                    f"{optimizer.structure_key()})")
        return None

    def _set_fitted(self, stack, member, plan):
        """Copy a trained member of ``stack``, planned by ``plan``, into fitted attributes."""
        record = stack.records[member]
        config = stack.members[member]
        self._model = plan.model
        self._record = record
        self._params, self._buffers = record.params, record.buffers
        self._schedule_state = stack.schedule_states[member]
        self._epoch = stack.epoch
        # the scalar type, which skops loads without being told to trust it
        self._dtype = plan.dtype.type
        self._loss_scale = plan.loss_scale
        self._base_learning_rate = config.learning_rate
        self.optimizer_ = config.optimizer
        self.schedule_ = config.schedule
        self.n_iter_ = record.n_iter
        self.t_ = record.t
        self.loss_curve_ = list(record.loss_curve)
        has_validation = bool(record.validation_scores)
        self.validation_scores_ = (list(record.validation_scores)
                                   if has_validation else None)
        self.validation_loss_curve_ = (list(record.validation_loss_curve)
                                       if has_validation else None)
        self.best_loss_ = record.best_loss
        self.best_validation_score_ = (record.best_validation_score
                                       if has_validation else None)
        self.learning_rate_ = record.learning_rate
        self.learning_rate_curve_ = list(record.learning_rate_curve)
        self.n_divergences_ = record.n_divergences
        self._set_coefficients()

    # ---------------------------------------------------------------- predict
    def _raw_output(self, X):
        """The raw model output for ``X``, shape (n_samples, n_outputs)."""
        check_is_fitted(self, "_params")
        raw, _ = self._model.forward(self._params, self._buffers, self._check_input(X))
        return raw[0]

    def _check_input(self, X):
        """``X`` validated for prediction, in the training dtype (CSR if sparse)."""
        X = validate_data(
            self, X, reset=False,
            accept_sparse=["csr", "csc"] if self._supports_sparse else False,
            dtype=[np.float64, np.float32],
        )
        # in the dtype the model computes in, as fit checked
        _check_magnitude(X, "X", self._dtype)
        if sp.issparse(X):
            X = X.tocsr()
        return X.astype(self._dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._supports_sparse
        return tags


class RegressorBase(BaseSKLR):
    """Regression targets, standardized inside as a preconditioner only.

    The model learns ``(y - mean) / scale`` per target, so ``learning_rate``
    and ``clip_norm`` mean the same for a target in dollars or in millions
    of dollars. The objective stays the user's: with ``s_o`` the scale of
    target ``o`` and ``S**2`` the mean of the ``s_o**2``, the training
    objective is the user's divided by ``S**2``, which is what the output
    weights ``(s_o / S)**2`` of the loss, Huber thresholds ``epsilon /
    s_o`` and the penalty weights (:meth:`_objective_scaling`) make it. The
    optimum is the one of the problem in the target's units (``penalty="l1"``
    solves ``Lasso``), and reported losses are multiplied back by ``S**2``.
    """

    _is_classifier = False
    _multi_output = True

    _parameter_constraints = {
        **BaseSKLR._parameter_constraints,
        "loss": [StrOptions({"squared_error", "huber"})],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    def _make_loss(self):
        from sklr._losses import Huber, SquaredError

        scale = self._y_scale
        mean_square = np.mean(scale**2)
        weights = None if len(scale) == 1 else scale**2 / mean_square
        if self.loss == "huber":
            return Huber(self.epsilon / scale, output_weights=weights)
        return SquaredError(output_weights=weights)

    def _objective_scaling(self, model):
        """Penalty weights, loss scale and gradient scale that keep the
        objective in the target's units and every target's pace the same.

        A parameter of the output layer is ``s_o`` times smaller inside than
        in the user's units (``coef_ = s * W``); hidden layers are not
        rescaled. Dividing the user's objective by ``S**2`` gives, per entry,
        L2 weights ``(s_o / S)**2`` and L1 weights ``s_o / S**2`` on the
        output layer and ``1 / S**2`` elsewhere.

        The loss weighs target ``o`` by ``(s_o / S)**2``, and so would a
        plain gradient step on its output weights: a target a thousand times
        smaller than another would train a million times slower. The gradient
        scale ``(S / s_o)**2`` on the output layer undoes that, leaving each
        target's output weights the step of its standardized problem; the
        optimum is unchanged.
        """
        scale = self._y_scale
        mean_square = float(np.mean(scale**2))
        l2, l1, gradient = [], [], []
        for output in model.output_layer:
            l2.append(scale**2 / mean_square if output else 1 / mean_square)
            l1.append(scale / mean_square if output else 1 / mean_square)
            gradient.append(mean_square / scale**2 if output else None)
        return (l2, l1), mean_square, None if len(scale) == 1 else gradient

    def _encode_targets(self, y, continuing, classes, incremental, sample_weight,
                        validation=False):
        Y = (y.reshape(-1, 1) if y.ndim == 1 else y).astype(np.float64, copy=False)
        if not validation:
            # sample_weight already has the training dtype
            _check_magnitude(Y, "y", sample_weight.dtype)
            if not continuing:
                self._single_target = y.ndim == 1
                # weighted moments, so that weights act like repeated samples
                w = sample_weight / sample_weight.sum()
                self._y_mean = w @ Y if self._centers_targets() else np.zeros(Y.shape[1])
                centered = Y - self._y_mean
                # squares of the largest deviation's share: a tiny target's
                # spread does not underflow to 0 and pass for a constant
                peak = np.abs(centered).max(axis=0)
                peak[peak == 0] = 1.0
                scale = peak * np.sqrt(w @ (centered / peak) ** 2)
                # a constant target leaves rounding noise as its spread
                constant = ~(scale > 1e-10 * np.abs(self._y_mean)) | (scale == 0)
                if (scale[~constant] < MIN_TARGET_SCALE).any():
                    raise ValueError(
                        f"y varies by too little to train in float64 (standard "
                        f"deviation {scale[~constant].min():.3g} < "
                        f"{MIN_TARGET_SCALE:g}: the loss in its units underflows); "
                        "rescale it, e.g. y * 1e150.")
                scale[constant | ~np.isfinite(scale)] = 1.0
                if self._centers_targets():
                    # center exactly, so the model sees zeros, not rounding noise
                    self._y_mean[constant] = Y[0, constant]
                self._y_scale = scale
        if Y.shape[1] != len(self._y_scale):
            name = "y_val" if validation else "y"
            raise ValueError(f"{name} has {Y.shape[1]} targets but the estimator was "
                             f"fitted with {len(self._y_scale)}.")
        return (Y - self._y_mean) / self._y_scale

    def _centers_targets(self):
        return True

    def _class_weights(self, y, incremental=False, sample_weight=None):
        return 1.0

    def _validation_score(self, raw, Y, sample_weight):
        """Weighted R^2 of every model of a stack (uniform average over targets).

        A constant target scores 0 (1 if predicted exactly), as scikit-learn's
        ``r2_score`` does; rounding noise in its spread does not count.
        """
        w = sample_weight / sample_weight.sum()
        mean = w @ Y
        total = w @ (Y - mean) ** 2
        residual = np.einsum("b,kbo->ko", w, (Y - raw) ** 2)
        constant = total <= 1e-20 * (w @ Y**2)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(constant, np.where(residual == 0, 1.0, 0.0),
                          1 - residual / total)
        return r2.mean(axis=1)

    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values.
        """
        raw = self._raw_output(X)
        prediction = raw * self._y_scale.astype(raw.dtype) + self._y_mean.astype(
            raw.dtype)
        return prediction[:, 0] if self._single_target else prediction

    def partial_fit(self, X, y, sample_weight=None):
        """Run one epoch over ``X, y``, continuing the optimizer state and schedule.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._partial_fit(X, y, sample_weight, None)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class ClassifierBase(BaseSKLR):
    """Classification targets: labels encoded as 0/1 (binary) or one-hot."""

    _is_classifier = True
    _multi_output = False

    def _encode_targets(self, y, continuing, classes, incremental, sample_weight,
                        validation=False):
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(y)
        if not continuing and not validation:
            if incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit.")
                self.classes_ = _checked_classes(classes)
            else:
                self.classes_ = np.unique(y)
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in "
                    f"the data, but the data contains only one class: "
                    f"{self.classes_[0]!r}."
                )
        elif continuing and incremental and classes is not None and not np.array_equal(
                _checked_classes(classes), self.classes_):
            raise ValueError(
                f"classes={np.asarray(classes).tolist()} differs from the classes the "
                f"estimator was fitted with, {self.classes_.tolist()}.")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            name = "y_val" if validation else "y"
            raise ValueError(
                f"{name} contains labels not seen in the classes of the first fit: "
                f"{unknown.tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        if len(self.classes_) == 2:
            return codes.reshape(-1, 1).astype(np.float64)
        return np.eye(len(self.classes_))[codes]

    def _class_weights(self, y, incremental=False, sample_weight=None):
        """Each sample's class weight. ``"balanced"`` counts the classes with
        ``sample_weight``, so that integer weights act as repeated samples."""
        if self.class_weight is None:
            return 1.0
        if self.class_weight == "balanced" and incremental:
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole data, "
                "which partial_fit does not see; pass a dict, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) on all labels.")
        codes = np.searchsorted(self.classes_, y)
        if self.class_weight == "balanced":
            counts = np.bincount(codes, weights=sample_weight, minlength=len(self.classes_))
            with np.errstate(divide="ignore"):
                weights = np.where(counts > 0,
                                   counts.sum() / (len(self.classes_) * counts), 0.0)
            return weights[codes]
        from sklearn.utils.class_weight import compute_class_weight

        weights = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        if not (np.isfinite(weights).all() and (weights >= 0).all()):
            raise ValueError(
                "class_weight values must be finite and non-negative, got "
                f"{self.class_weight!r}.")
        return weights[codes]

    def _make_loss(self):
        from sklr._losses import BinaryCrossEntropy, MultinomialCrossEntropy

        return (BinaryCrossEntropy() if len(self.classes_) == 2
                else MultinomialCrossEntropy())

    def _validation_score(self, raw, Y, sample_weight):
        """Weighted accuracy of every model of a stack."""
        if Y.shape[1] == 1:
            correct = (raw[..., 0] > 0) == (Y[:, 0] > 0.5)
        else:
            correct = raw.argmax(axis=2) == Y.argmax(axis=1)
        return correct @ sample_weight / sample_weight.sum()

    def decision_function(self, X):
        """Raw scores: the logit (binary) or one score per class.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Confidence scores; positive means ``classes_[1]`` when binary.
        """
        raw = self._raw_output(X)
        return raw[:, 0] if raw.shape[1] == 1 else raw

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        from scipy.special import expit

        from sklr._losses import softmax

        raw = self._raw_output(X)
        if raw.shape[1] == 1:
            # expit(-f), not 1 - expit(f): small probabilities keep their digits
            return np.column_stack([expit(-raw[:, 0]), expit(raw[:, 0])])
        return softmax(raw)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        from scipy.special import log_expit, log_softmax

        raw = self._raw_output(X)
        if raw.shape[1] == 1:
            return np.column_stack([log_expit(-raw[:, 0]), log_expit(raw[:, 0])])
        return log_softmax(raw, axis=1)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Predicted labels from ``classes_``.
        """
        raw = self._raw_output(X)
        if raw.shape[1] == 1:
            return self.classes_[(raw[:, 0] > 0).astype(int)]
        return self.classes_[raw.argmax(axis=1)]

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over ``X, y``, continuing the optimizer state and schedule.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Labels.
        classes : array-like of shape (n_classes,), default=None
            All labels; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._partial_fit(X, y, sample_weight, classes)
