"""Model structures trained by the engine: a linear model and a multilayer perceptron.

A model knows its parameter shapes, how to initialize a stack of them, and
the forward and backward passes for a stack. Parameters are lists of arrays
whose leading axis indexes the models of the stack; ``buffers`` hold state
that is not trained by gradients (batch-norm running statistics). The input
``X`` of a minibatch is shared by the whole stack; it may be a scipy sparse
matrix, which only the products with the first layer's weights read.

A model whose ``row_sparse`` is True reads, for a sparse minibatch, only the
rows of its first parameter that belong to the minibatch's non-zero columns,
and its forward and backward passes take those rows alone with the
minibatch restricted to those columns: the engine then steps the touched
rows only (``sklr._rows._LazyRows``).
"""

import functools

import numpy as np
import scipy.sparse as sp

from sklr._rows import SparseRows


def _shared_input_product(X, W):
    """``X @ W[k]`` for every model ``k``, with ``X`` shared by the stack.

    ``X`` has shape ``(n_samples, n_in)`` (dense, sparse, or the engine's
    :class:`~sklr._rows.SparseRows`) and ``W`` shape ``(n_models, n_in,
    n_out)``; the result has shape ``(n_models, n_samples, n_out)``.
    """
    n_models, n_in, n_out = W.shape
    if isinstance(X, SparseRows):
        if n_models * n_out == 1:
            # one weighted count per row: at a minibatch's size, a third of
            # the time of a scipy product, which its overhead dominates
            product = np.bincount(X.rows, weights=X.data * W[0, :, 0].take(X.columns),
                                  minlength=X.shape[0])
            return product.astype(W.dtype, copy=False).reshape(1, -1, 1)
        X = X.csr
    if n_models == 1:
        return np.asarray(X @ W[0])[None]
    if not sp.issparse(X):
        # one BLAS product per model on the broadcast X: measured 1.3x to 5x
        # faster than one wide product, whose transposing copies dominate
        return np.matmul(X, W)
    # sparse matrices do not broadcast: one product with the models side by side
    product = X @ W.transpose(1, 0, 2).reshape(n_in, n_models * n_out)
    return np.ascontiguousarray(
        product.reshape(-1, n_models, n_out).transpose(1, 0, 2)
    )


def _shared_input_gradient(X, delta):
    """``X.T @ delta[k]`` for every model ``k``: the weight gradient of a first layer."""
    n_models, n_samples, n_out = delta.shape
    if isinstance(X, SparseRows):
        if n_models * n_out == 1:
            gradient = np.bincount(X.columns,
                                   weights=X.data * delta[0, :, 0].take(X.rows),
                                   minlength=X.shape[1])
            return gradient.astype(delta.dtype, copy=False).reshape(1, -1, 1)
        X = X.csr
    if n_models == 1:
        return np.asarray(X.T @ delta[0])[None]
    if not sp.issparse(X):
        return np.matmul(X.T, delta)
    flat = delta.transpose(1, 0, 2).reshape(n_samples, n_models * n_out)
    product = np.asarray(X.T @ flat)
    return np.ascontiguousarray(
        product.reshape(-1, n_models, n_out).transpose(1, 0, 2)
    )


def _matmul(A, B):
    """``A[k] @ B[k]`` for every model ``k`` of a stack.

    A stack of one takes ``np.dot`` on the 2-D slices: the stacked ``matmul``
    skips BLAS when an inner dimension is 1 (a binary classifier's single
    output) and is then four times slower.
    """
    if A.shape[0] == 1:
        return np.dot(A[0], B[0])[None]
    return np.matmul(A, B)


@functools.lru_cache(maxsize=8)
def _ones(n_samples, dtype):
    ones = np.ones(n_samples, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _sum_samples(delta):
    """``delta.sum(axis=1, keepdims=True)`` as one BLAS matrix-vector product,
    about three times faster than numpy's reduction over a middle axis."""
    n_models, n_samples, n_out = delta.shape
    ones = _ones(n_samples, delta.dtype)
    if n_models == 1:
        return np.dot(ones, delta[0]).reshape(1, 1, n_out)
    return np.matmul(ones, delta).reshape(n_models, 1, n_out)


class LinearModel:
    """``f = X @ W + b`` for a stack of models.

    Parameters
    ----------
    n_features, n_outputs : int
        Input and output sizes.
    fit_intercept : bool
        Whether to learn the intercept ``b``.
    """

    # its weight rows are the features': a sparse minibatch touches a few
    row_sparse = True

    def __init__(self, n_features, n_outputs, fit_intercept=True):
        self.n_features = n_features
        self.n_outputs = n_outputs
        self.fit_intercept = fit_intercept

    def structure_key(self):
        return ("linear", self.n_features, self.n_outputs, self.fit_intercept)

    @property
    def penalized(self):
        """Which parameters carry the penalty: weights yes, intercepts no."""
        return [True, False] if self.fit_intercept else [True]

    @property
    def output_layer(self):
        """Which parameters map straight into the outputs (their last axis)."""
        return [True] * len(self.penalized)

    def init_params(self, random_states, dtype):
        """Zero weights (the convex problem needs no symmetry breaking)."""
        n_models = len(random_states)
        params = [np.zeros((n_models, self.n_features, self.n_outputs), dtype=dtype)]
        if self.fit_intercept:
            params.append(np.zeros((n_models, 1, self.n_outputs), dtype=dtype))
        return params, []

    def forward(self, params, buffers, X, training=False, rng=None,
                update_buffers=True):
        raw = _shared_input_product(X, params[0])
        if self.fit_intercept:
            raw += params[1]
        return raw, X

    def backward(self, params, cache, grad_raw):
        grads = [_shared_input_gradient(cache, grad_raw)]
        if self.fit_intercept:
            grads.append(_sum_samples(grad_raw))
        return grads


def _relu(z):
    return np.maximum(z, 0, out=z)


def _tanh(z):
    return np.tanh(z, out=z)


def _logistic(z):
    # 1 / (1 + exp(-z)), in place
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    return np.reciprocal(z, out=z)


def _identity(z):
    return z


def _relu_derivative(a, delta):
    delta *= a > 0


def _tanh_derivative(a, delta):
    delta *= 1 - a**2


def _logistic_derivative(a, delta):
    delta *= a * (1 - a)


def _identity_derivative(a, delta):
    pass


ACTIVATIONS = {
    "relu": (_relu, _relu_derivative),
    "tanh": (_tanh, _tanh_derivative),
    "logistic": (_logistic, _logistic_derivative),
    "identity": (_identity, _identity_derivative),
}

BATCH_NORM_MOMENTUM = 0.1
BATCH_NORM_EPSILON = 1e-5


class MLPModel:
    """A multilayer perceptron for a stack of models.

    Hidden layers are ``activation(batch_norm(A @ W + b))`` followed by inverted
    dropout while training; the output layer is linear (the link lives in the
    loss). Parameters are ``[W_1, b_1, ..., W_L, b_L]`` followed, with batch
    norm, by ``[gamma_1, beta_1, ...]`` for the hidden layers; buffers are the
    running means and variances ``[mean_1, var_1, ...]`` used at predict time.
    """

    # the first layer reads sparse input as the linear model does, but its
    # weights take dense steps, so that a fit on CSR input is the fit on the
    # same array dense
    row_sparse = False

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes=(100,),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        output_activation="identity",
    ):
        self.layer_sizes = [n_features, *hidden_layer_sizes, n_outputs]
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.output_activation = output_activation
        self.n_layers = len(self.layer_sizes) - 1

    def structure_key(self):
        return (
            "mlp",
            tuple(self.layer_sizes),
            self.activation,
            self.dropout,
            self.batch_norm,
        )

    @property
    def penalized(self):
        flags = [True, False] * self.n_layers
        if self.batch_norm:
            flags += [False, False] * (self.n_layers - 1)
        return flags

    @property
    def output_layer(self):
        """Which parameters map straight into the outputs: the last layer's."""
        flags = [False] * len(self.penalized)
        flags[2 * self.n_layers - 2] = flags[2 * self.n_layers - 1] = True
        return flags

    def init_params(self, random_states, dtype):
        """Glorot-uniform weights, each model drawn from its own random state."""
        params = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            # Glorot & Bengio's factor 2 for the sigmoid, as scikit-learn does
            factor = 2.0 if self.activation == "logistic" else 6.0
            bound = np.sqrt(factor / (n_in + n_out))
            weights = np.stack(
                [rs.uniform(-bound, bound, (n_in, n_out)) for rs in random_states]
            )
            biases = np.stack(
                [rs.uniform(-bound, bound, (1, n_out)) for rs in random_states]
            )
            params += [weights.astype(dtype), biases.astype(dtype)]
        buffers = []
        if self.batch_norm:
            n_models = len(random_states)
            for size in self.layer_sizes[1:-1]:
                params += [
                    np.ones((n_models, 1, size), dtype=dtype),
                    np.zeros((n_models, 1, size), dtype=dtype),
                ]
                buffers += [
                    np.zeros((n_models, 1, size), dtype=dtype),
                    np.ones((n_models, 1, size), dtype=dtype),
                ]
        return params, buffers

    def _batch_norm_params(self, params, layer):
        offset = 2 * self.n_layers + 2 * layer
        return params[offset], params[offset + 1]

    def forward(self, params, buffers, X, training=False, rng=None,
                update_buffers=True):
        """Raw output and, while training, what the backward pass needs.

        ``training`` normalizes with the minibatch's statistics, updating the
        running ones when ``update_buffers``, and applies dropout when an
        ``rng`` is given.
        """
        activate = ACTIVATIONS[self.activation][0]
        activations = [X]
        hidden_outputs = []
        norms = []
        masks = []
        A = X
        for layer in range(self.n_layers):
            W, b = params[2 * layer], params[2 * layer + 1]
            if layer == 0:
                Z = _shared_input_product(A, W)
            else:
                Z = _matmul(A, W)
            Z += b
            if layer == self.n_layers - 1:
                activations.append(Z)
                break
            if self.batch_norm:
                Z = self._normalize(Z, params, buffers, layer, training, norms,
                                    update_buffers)
            A = activate(Z)
            hidden_outputs.append(A)
            if training and rng is not None and self.dropout > 0:
                keep = 1.0 - self.dropout
                mask = (rng.random(A.shape) < keep).astype(A.dtype)
                mask /= keep
                masks.append(mask)
                A = A * mask
            activations.append(A)
        raw = activations[-1]
        return raw, (activations, hidden_outputs, norms, masks)

    def _normalize(self, Z, params, buffers, layer, training, norms, update_buffers):
        gamma, beta = self._batch_norm_params(params, layer)
        running_mean, running_var = buffers[2 * layer], buffers[2 * layer + 1]
        if training:
            mean = Z.mean(axis=1, keepdims=True)
            var = Z.var(axis=1, keepdims=True)
            n = Z.shape[1]
        if training and update_buffers:
            running_mean *= 1 - BATCH_NORM_MOMENTUM
            running_mean += BATCH_NORM_MOMENTUM * mean
            running_var *= 1 - BATCH_NORM_MOMENTUM
            running_var += BATCH_NORM_MOMENTUM * var * (n / max(n - 1, 1))
        elif not training:
            mean, var = running_mean, running_var
        inv_std = 1.0 / np.sqrt(var + BATCH_NORM_EPSILON)
        Z_hat = (Z - mean) * inv_std
        norms.append((Z_hat, inv_std))
        return Z_hat * gamma + beta

    def backward(self, params, cache, grad_raw):
        activations, hidden_outputs, norms, masks = cache
        derivative = ACTIVATIONS[self.activation][1]
        grads = [None] * len(params)
        delta = grad_raw
        for layer in range(self.n_layers - 1, -1, -1):
            A_in = activations[layer]
            if layer == 0:
                grads[0] = _shared_input_gradient(A_in, delta)
            else:
                grads[2 * layer] = _matmul(A_in.transpose(0, 2, 1), delta)
            grads[2 * layer + 1] = _sum_samples(delta)
            if layer == 0:
                break
            delta = _matmul(delta, params[2 * layer].transpose(0, 2, 1))
            hidden = layer - 1
            if masks:
                delta *= masks[hidden]
            derivative(hidden_outputs[hidden], delta)
            if self.batch_norm:
                delta = self._normalize_backward(params, grads, hidden, norms, delta)
        return grads

    def _normalize_backward(self, params, grads, layer, norms, delta):
        gamma, _ = self._batch_norm_params(params, layer)
        Z_hat, inv_std = norms[layer]
        offset = 2 * self.n_layers + 2 * layer
        grads[offset] = (delta * Z_hat).sum(axis=1, keepdims=True)
        grads[offset + 1] = delta.sum(axis=1, keepdims=True)
        d_hat = delta * gamma
        n = delta.shape[1]
        return (inv_std / n) * (
            n * d_hat
            - d_hat.sum(axis=1, keepdims=True)
            - Z_hat * (d_hat * Z_hat).sum(axis=1, keepdims=True)
        )
