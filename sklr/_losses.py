"""Per-sample losses and their gradients with respect to the raw model output.

Every function takes the raw output of a stack of models, ``raw`` with shape
``(n_models, n_samples, n_outputs)``, the targets ``y`` with shape
``(n_samples, n_outputs)`` shared by the stack, and normalized sample weights
``w`` with shape ``(n_samples,)``, which sum to one over the data (a
minibatch's, to one on average). It returns the weighted loss ``sum(w *
loss)`` of each model, shape ``(n_models,)``: the weighted mean, or a
minibatch's unbiased estimate of it; and, when asked, its gradient with
respect to ``raw`` (same shape as ``raw``).
"""

import numpy as np


class SquaredError:
    """Half squared error, summed over outputs: ``0.5 * sum_o c_o * (y_o - f_o)**2``.

    Parameters
    ----------
    output_weights : ndarray of shape (n_outputs,), default=None
        Weight ``c_o`` of each output (1 without): a regressor that
        standardizes each target by its own scale weights the outputs so that
        the objective stays that of the original units.
    """

    name = "squared_error"

    def __init__(self, output_weights=None):
        self.output_weights = output_weights

    def __call__(self, raw, y, w, gradient=True):
        residual = raw - y
        if self.output_weights is None:
            loss = 0.5 * np.einsum("kbo,kbo,b->k", residual, residual, w)
        else:
            loss = 0.5 * np.einsum("kbo,kbo,b,o->k", residual, residual, w,
                                   self.output_weights)
        if not gradient:
            return loss, None
        residual *= w[:, None]
        if self.output_weights is not None:
            residual *= self.output_weights
        return loss, residual


class Huber:
    """Huber loss: quadratic within ``epsilon`` of the target, linear beyond.

    Parameters
    ----------
    epsilon : float or ndarray of shape (n_outputs,), default=1.35
        Threshold, per output if an array.
    output_weights : ndarray of shape (n_outputs,), default=None
        As for :class:`SquaredError`.
    """

    name = "huber"

    def __init__(self, epsilon=1.35, output_weights=None):
        self.epsilon = epsilon
        self.output_weights = output_weights

    def __call__(self, raw, y, w, gradient=True):
        epsilon = self.epsilon
        residual = raw - y
        magnitude = np.abs(residual)
        quadratic = magnitude <= epsilon
        per_sample = np.where(
            quadratic,
            0.5 * residual**2,
            epsilon * magnitude - 0.5 * np.square(epsilon),
        )
        if self.output_weights is not None:
            per_sample *= self.output_weights
        loss = np.einsum("kbo,b->k", per_sample, w)
        if not gradient:
            return loss, None
        np.clip(residual, -epsilon, epsilon, out=residual)
        residual *= w[:, None]
        if self.output_weights is not None:
            residual *= self.output_weights
        return loss, residual


class BinaryCrossEntropy:
    """Cross-entropy of the sigmoid link; ``y`` holds 0/1 in one column."""

    name = "log_loss"

    def __call__(self, raw, y, w, gradient=True):
        # per sample log(1 + exp(f)) - y * f = max(f, 0) + log1p(exp(-|f|)) - y * f:
        # finite for any f, and one exponential serves loss and gradient (about
        # twice as fast as scipy's log_expit and expit on a stack)
        f = raw[..., 0]
        e = np.abs(f)
        np.negative(e, out=e)
        np.exp(e, out=e)
        softplus = np.log1p(e)
        softplus += np.maximum(f, 0)
        loss = softplus @ w - f @ (w * y[:, 0])
        if not gradient:
            return loss, None
        # sigmoid(f) = 1 / (1 + e) for f >= 0, e / (1 + e) below
        grad = np.where(f >= 0, 1, e)
        e += 1
        grad /= e
        grad -= y[:, 0]
        grad *= w
        return loss, grad[..., None]


class MultinomialCrossEntropy:
    """Cross-entropy of the softmax link; ``y`` is one-hot."""

    name = "log_loss"

    def __call__(self, raw, y, w, gradient=True):
        # one exponential serves the loss (log-sum-exp) and the gradient (softmax)
        shift = raw.max(axis=2, keepdims=True)
        probability = raw - shift
        np.exp(probability, out=probability)
        norm = probability.sum(axis=2, keepdims=True)
        log_norm = np.log(norm)
        log_norm += shift
        per_sample = log_norm[..., 0] - np.einsum("kbo,bo->kb", raw, y)
        loss = per_sample @ w
        if not gradient:
            return loss, None
        probability /= norm
        probability -= y
        probability *= w[:, None]
        return loss, probability


def softmax(raw):
    """Row-wise softmax over the last axis."""
    shifted = raw - raw.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted
