"""Where a step of the training loop happens: every parameter, or the rows a
sparse minibatch touches.

:meth:`sklr._engine.Stack._step` updates an :class:`_AllRows` (every
parameter of the stack, in place) or, for a linear model on CSR input, a
:class:`_LazyRows`: the rows of the weights that a minibatch's non-zero
columns touch are gathered into a block, stepped by the same dense step,
and written back, the other rows brought up to date exactly (plain gradient
descent) or lazily (adaptive optimizers). :func:`_probe_optimizer` tells
which of the two an optimizer allows. :class:`SparseRows` is the minibatch
restricted to its touched columns, which the models multiply with the
gathered rows.
"""

import functools

import numpy as np
import scipy.sparse as sp


def _rows_view(values, n_dims):
    """Reshape a per-model vector to broadcast against arrays with ``n_dims`` dims."""
    return values.reshape((-1,) + (1,) * (n_dims - 1))


class SparseRows:
    """A CSR minibatch restricted to the columns it touches.

    ``data`` and ``columns`` hold its non-zeros row by row, ``columns``
    numbering the touched columns ``0 .. n_touched - 1``; ``rows`` holds
    the row of each and ``indptr`` is the CSR row pointer. Built by
    :class:`_LazyRows`; a model with ``row_sparse`` multiplies it with the
    touched rows of its first parameter.
    """

    def __init__(self, data, columns, rows, indptr, n_columns):
        self.data, self.columns, self.rows, self.indptr = data, columns, rows, indptr
        self.shape = (len(indptr) - 1, n_columns)

    @functools.cached_property
    def csr(self):
        """The minibatch as a CSR matrix."""
        return sp.csr_matrix((self.data, self.columns, self.indptr), shape=self.shape)


def _probe_optimizer(optimizer, hyper, n_models, dtype):
    """What one step on a small probe shows about a stack's optimizer.

    Returns ``(coordinatewise, plain)``. ``coordinatewise``: the step updates
    each coordinate from its own parameter, gradient and state alone, so that
    a step on gathered coordinates is the dense step restricted to them (not
    so for methods that use norms over the whole parameter). ``plain``, per
    member: the step is ``param -= lr * grad`` whatever the state, plain
    gradient descent. The probe's numbers are binary fractions, so a plain
    step is exact and is compared exactly.
    """
    param = np.tile(np.array([1, -2, 0.5, 3, -1, 0.75, 0, 2], dtype=dtype),
                    (n_models, 1))
    grad = np.tile(np.array([0.5, -1.5, 0, 2, 0, -0.25, 1, 0], dtype=dtype),
                   (n_models, 1))
    state = optimizer.init_state(param)
    if any(value.shape != param.shape for value in state.values()):
        return False, np.zeros(n_models, dtype=bool)
    for value in state.values():
        # a history the step must carry on (positive, as sums of squares are)
        value[...] = 0.5 + 0.125 * np.arange(param.shape[1])
    lr = np.full((n_models, 1), 0.25, dtype=dtype)
    t = np.full((n_models, 1), 3, dtype=dtype)
    hyper = {name: _rows_view(values, 2) for name, values in hyper.items()}

    def step(columns):
        p, g = param[:, columns].copy(), grad[:, columns].copy()
        s = {key: value[:, columns].copy() for key, value in state.items()}
        with np.errstate(all="ignore"):
            optimizer.step(p, g, s, lr, hyper, t)
        return [p, *s.values()]

    whole = step(slice(None))
    coordinatewise = all(
        np.allclose(full[:, part], piece, rtol=1e-6, atol=0)
        for part in (slice(0, None, 2), slice(1, None, 2))
        for full, piece in zip(whole, step(part)))
    plain = (whole[0] == param - lr * grad).all(axis=1)
    return coordinatewise, plain


class _AllRows:
    """Every parameter of a stack, updated in place: where a dense step happens.

    The interface of :class:`_LazyRows`, for :meth:`sklr._engine.Stack._step`. Nothing is
    gathered, so nothing is pending or written back but the average; the
    blocks are read again after a divergence, which repacks the stack.
    """

    # the optimizer steps (and keeps its state) even where it is plain
    plain = False

    def __init__(self, stack):
        self.stack = stack
        self.reset()

    def gather(self, X):
        self.X = X

    def reset(self, restored=()):
        """Read the stack's blocks (again); nothing is pending for ``restored``
        members."""
        stack = self.stack
        self.param_views, self.grad_views = stack.state.params, stack._grad_views
        self.params, self.grad = stack._flat_params, stack._flat_grad
        self.state = stack._flat_state
        self.l2, self.l1 = stack._l2_strength, stack._l1_strength
        self.average = stack._flat_average

    def materialize(self):
        """Nothing to write out: the parameters are the stack's own."""

    def scatter(self, epoch_step):
        if self.average is not None:
            self.stack._average_iterates(self.params, self.average)


class _LazyRows:
    """Steps of a linear model on a CSR minibatch, in time proportional to its non-zeros.

    The weight matrix ``W`` (the stack's first parameter, one row per
    feature) meets a sparse minibatch only in the rows of its non-zero
    columns, the *touched* rows. :meth:`gather` copies the touched rows and
    the other parameters (the intercepts) with their optimizer state into a
    sub-block, on which the loop runs the dense step (forward, loss,
    backward, L2 term, clipping, optimizer, L1 prox); :meth:`scatter` writes
    it back.

    Untouched rows. A member whose optimizer steps like plain gradient
    descent (``"sgd"``) stays exact: on an untouched weight its step is
    ``w <- soft(a * w, c)``, with ``a = 1 - lr * alpha_l2`` and ``c = lr *
    alpha_l1`` (``soft`` the soft-threshold), and a run of such steps from
    step ``u`` to ``t`` composes to ``w_t = P_t * soft(w_u / P_u, S_t -
    S_u)``, where the scale ``P`` is the product of the ``a`` and the
    cumulative shrinkage ``S`` the sum of ``c / |P|``. ``W`` holds ``w / P``
    (scikit-learn's scale factor, and with L1 the exact counterpart of its
    cumulative penalty); each row remembers the step it was last written
    (``last``), and a touched row is brought up to date before its forward
    pass. The running average of the iterates gains ``w_u / P_u * (R_t -
    R_u)`` over such a run, ``R`` the sum of ``P`` over averaged steps. Two
    combinations have no closed form at the cost of the touched rows, and
    update lazily: ``clip_norm`` with an L2 penalty (the clipped norm
    includes every weight's decay) and ``average`` with an L1 penalty.

    When every member is plain, the optimizer state, which cannot change a
    plain step, is neither gathered nor stepped (``plain``).

    Other members update lazily, as TensorFlow's LazyAdam: untouched rows
    keep their weights and optimizer state (scale 1, no shrinkage), and
    catch up the penalty of the steps they missed when next touched, or at
    the end of the epoch (:meth:`catch_up`): a row's weights are multiplied
    by ``exp(-alpha_l2 * c * L)``, then soft-thresholded by ``alpha_l1 * c
    * L``, where ``L`` is the sum of the learning rates of those steps (the
    running sum ``rates`` now, less its value when the row last caught up,
    ``caught_up``) and ``c`` the optimizer's preconditioner of the row at
    that time (1 without one). The step sizes that apply the row's gradient
    thus apply its penalty too, so its fixed point is the penalized
    problem's optimum, as the dense fit's (applied on touched steps only,
    the penalty of a rare feature is weaker).

    :meth:`materialize` writes every row out in the weights' own units; the
    loop calls it before anything else reads the parameters (``on_step``,
    divergence handling) and :meth:`catch_up` at the end of the epoch. Only
    the latter catches up the lazy penalty, so that the result does not
    depend on when the loop reads the parameters.
    """

    # |P| below which a member's decayed weights are written out and P
    # restarts at 1 (scikit-learn's threshold for its scale factor)
    MIN_SCALE = 1e-9

    def __init__(self, stack, n_features, n_steps):
        self.stack = stack
        weights = stack.state.params[0]
        self.n_features, self.n_outputs = n_features, weights.shape[2]
        self.n_weights = n_features * self.n_outputs
        # the other parameters follow W in the flat block and are always stepped
        self.n_rest = stack._flat_params.shape[1] - self.n_weights
        self.rest_shapes = [(p.shape[1:], p[0].size) for p in stack.state.params[1:]]
        self.n_steps = n_steps
        self.position = np.empty(n_features, dtype=np.intp)
        self.last = np.zeros(n_features, dtype=np.intp)
        self.order = np.arange(0)
        self.buffers = {}
        # the lazy members' running sum of the learning rates, and its value
        # when each row last caught up its penalty
        self.lazy_members = stack._rows.copy()
        if stack._lazy_rule()[3] is not None:
            self.rates = np.zeros(stack.n_active)
            self.caught_up = np.zeros((stack.n_active, n_features))
        self.reset()

    def reset(self, restored=()):
        """Restart the clock of the exact members: every row written out,
        scale 1, nothing pending.

        The lazy members' clock runs on; ``restored`` members (put back to
        the start of the epoch after a divergence) have nothing pending.
        """
        stack = self.stack
        self.step = 0
        self.last[:] = 0
        self.row_strengths, self.decay, self.shrink, lazy = stack._lazy_rule()
        self.plain = bool(stack._optimizer_probe()[1].all())
        self.filled_size = -1
        self.scaling = bool(self.decay.any())
        self.shrinking = bool(self.shrink.any())
        self.averaging = stack._flat_average is not None
        self.catching_up = lazy is not None
        if self.catching_up:
            # which members catch up (None: all)
            self.lazy = None if lazy.all() else lazy[:, :, None]
            if not np.array_equal(self.lazy_members, stack._rows):
                keep = np.isin(self.lazy_members, stack._rows)
                self.rates, self.caught_up = self.rates[keep], self.caught_up[keep]
                self.lazy_members = stack._rows.copy()
            restored = np.isin(stack._rows, restored)
            self.caught_up[restored] = self.rates[restored, None]
        # without them, a row's value in units of w / P needs no history
        self.tracking = self.shrinking or self.averaging
        self.scale = np.ones((stack.n_active, 1, self.n_outputs))
        self.scale_cast = self.scale.astype(stack.dtype)
        if self.scaling:
            # each step's factor on the scale, from the epoch's learning rates
            # (a back-off changes them, and resets the clock)
            rates = stack._epoch["lr_table"].T.astype(np.float64)
            self.factors = 1 - rates[:, :, None, None] * self.decay
            # the step of the epoch whose scale falls below MIN_SCALE: found
            # at the first step after the reset
            self.restart_at = None
        # per step of the clock: S, R and the count of averaged iterates
        shape = (self.n_steps + 1, stack.n_active, self.n_outputs)
        if self.shrinking:
            self.shrinkage = self._history("shrinkage", shape)
        if self.averaging:
            self.scale_sums = self._history("scale_sums", shape)
            self.n_averaged = self._history("n_averaged", shape[:2])
            self.n_averaged[0] = stack.state.n_averaged

    def _history(self, name, shape):
        array = self.buffers.get(name)
        if array is None or array.shape != shape:
            array = self.buffers[name] = np.empty(shape)
        array[0] = 0.0
        return array

    def _buffer(self, name, n_rows, n_columns, dtype):
        """A C-contiguous ``(n_rows, n_columns)`` array, reused from step to step."""
        size = n_rows * n_columns
        array = self.buffers.get(name)
        if array is None or array.size < size:
            array = self.buffers[name] = np.empty(2 * size, dtype=dtype)
        return array[:size].reshape(n_rows, n_columns)

    def _views(self, block):
        """A sub-block as the model's parameters: the touched rows of W, then
        the rest (which leads the sub-block)."""
        n_models = block.shape[0]
        views = [block[:, self.n_rest:].reshape(n_models, -1, self.n_outputs)]
        start = 0
        for shape, size in self.rest_shapes:
            views.append(block[:, start:start + size].reshape((n_models, *shape)))
            start += size
        return views

    def gather(self, arrays):
        """Gather the sub-block of a minibatch given by its CSR arrays
        ``(data, columns, rows, indptr)``.

        Sets ``X`` (the minibatch over its touched columns), ``params``,
        ``grad`` (to be filled), ``state``, ``l2`` and ``l1`` (the penalty
        strengths) as ``(n_models, n_entries)`` blocks in the weights' own
        units, and ``param_views`` and ``grad_views`` shaped for the model.
        """
        data, columns, rows, indptr = arrays
        stack = self.stack
        n_models, n_outputs, dtype = stack.n_active, self.n_outputs, stack.dtype
        # the touched columns, sorted (numpy sorts integers with SIMD kernels,
        # faster than np.unique's inverse), then each non-zero's number among them
        ordered = np.sort(columns)
        is_first = self._buffer("is_first", 1, len(ordered), bool)[0]
        is_first[:1] = True
        np.not_equal(ordered[1:], ordered[:-1], out=is_first[1:])
        touched = ordered[is_first]
        if len(self.order) < len(touched):
            self.order = np.arange(2 * len(touched))
        self.position[touched] = self.order[:len(touched)]
        self.X = SparseRows(data, self.position.take(columns), rows, indptr,
                            len(touched))
        self.touched = touched
        n_entries = self.n_rest + len(touched) * n_outputs
        self.params = self._take("params", stack._flat_params, n_entries)
        self.grad = self._buffer("grad", n_models, n_entries, dtype)
        self.state = None if self.plain else {
            key: self._take(f"state {key}", block, n_entries)
            for key, block in stack._flat_state.items()}
        self.l2, self.l1 = (
            None if block is None else
            self._take(name, block, n_entries) if row is None else row[:, :n_entries]
            for name, block, row in zip(("l2", "l1"),
                                        (stack._l2_strength, stack._l1_strength),
                                        self._row_strengths(n_entries)))
        self.param_views = self._views(self.params)
        self.grad_views = self._views(self.grad)
        # bring the touched rows up to date: from w / P to w
        weights = self.param_views[0]
        if self.tracking:
            since = self.last[touched]
        if self.averaging:
            self.average = self._take("average", stack._flat_average, n_entries)
            self._catch_up_average(self._views(self.average)[0], weights, since)
        if self.catching_up:
            rest = self.n_rest
            self._catch_up_penalty(
                weights, *(None if block is None else block[:, rest:]
                           for block in (self.l2, self.l1)),
                None if self.plain else {key: block[:, rest:]
                                         for key, block in self.state.items()},
                self._pending_rates(touched))
        if self.shrinking:
            self._shrink(weights, since)
        if self.scaling:
            weights *= self.scale_cast

    def _take(self, name, block, n_entries):
        """The sub-block of a flat block: the rest, then the touched rows of W.

        The rest is one contiguous range, and whole rows of W move at once
        (``n_outputs`` values each).
        """
        n_models = block.shape[0]
        sub = self._buffer(name, n_models, n_entries, block.dtype)
        sub[:, :self.n_rest] = block[:, self.n_weights:]
        if self.n_outputs == 1:
            # W's rows are the block's first columns: a plain gather, the fastest
            np.take(block, self.touched, axis=1, mode="clip", out=sub[:, self.n_rest:])
        else:
            np.take(self._weight_rows(block), self.touched, axis=1, mode="clip",
                    out=sub[:, self.n_rest:].reshape(n_models, -1, self.n_outputs))
        return sub

    def _put(self, block, sub):
        """Write a sub-block back where :meth:`_take` took it."""
        block[:, self.n_weights:] = sub[:, :self.n_rest]
        if block.shape[0] == 1:
            # one member: a 1-D assignment (of whole rows, each one item of a
            # void dtype of n_outputs values), about twice as fast as a 2-D one
            rows, values = block[0, :self.n_weights], sub[0, self.n_rest:]
            if self.n_outputs > 1:
                row = np.dtype((np.void, self.n_outputs * block.itemsize))
                rows, values = rows.view(row), values.view(row)
            rows[self.touched] = values
        elif self.n_outputs == 1:
            block[:, self.touched] = sub[:, self.n_rest:]
        else:
            self._weight_rows(block)[:, self.touched] = sub[:, self.n_rest:].reshape(
                block.shape[0], -1, self.n_outputs)

    def _row_strengths(self, n_entries):
        """For each penalty, ``[the rest's strengths, then W's row strength
        repeated]`` of at least ``n_entries`` entries where the strength is the
        same for every feature (None otherwise): any sub-block's strengths are
        a prefix of it, so no step gathers them."""
        if self.filled_size < n_entries:
            stack, n_rows = self.stack, 2 * (n_entries // self.n_outputs)
            self.filled = [
                None if row is None else np.concatenate(
                    [block[:, self.n_weights:],
                     np.tile(row.reshape(row.shape[0], -1), (1, n_rows))], axis=1)
                for block, row in zip((stack._l2_strength, stack._l1_strength),
                                      self.row_strengths)]
            self.filled_size = self.n_rest + n_rows * self.n_outputs
        return self.filled

    def scatter(self, epoch_step):
        """Advance the clock by the step just taken (``epoch_step`` of the
        epoch) and write the sub-block back."""
        stack = self.stack
        dtype = stack.dtype
        if self.averaging:
            started = stack._average_iterates(self.params, self.average)
        lr = _rows_view(stack._lr_now.astype(np.float64), 3)
        if self.catching_up:
            self.rates += lr[:, 0, 0]
        if self.scaling:
            if self.restart_at is None:
                # the scales this and the following steps reach, computed as
                # the steps will: products from 1 in step order
                scales = np.cumprod(np.abs(self.factors[epoch_step:]), axis=0)
                low = (scales < self.MIN_SCALE).any(axis=(1, 2, 3))
                self.restart_at = (epoch_step + int(low.argmax()) if low.any()
                                   else len(self.factors))
            if epoch_step == self.restart_at:
                self._restart(lr)
                return
            self.scale = self.scale * self.factors[epoch_step]
            self.scale_cast = self.scale.astype(dtype)
        step = self.step + 1
        # the histories hold one (n_models, n_outputs) slice per step
        if self.shrinking:
            self.shrinkage[step] = (self.shrinkage[step - 1]
                                    + (lr * self.shrink / np.abs(self.scale))[:, 0])
        if self.averaging:
            self.scale_sums[step] = (self.scale_sums[step - 1]
                                     + (_rows_view(started, 3) * self.scale)[:, 0])
            self.n_averaged[step] = stack.state.n_averaged
        self.step = step
        if self.scaling:
            self.param_views[0] /= self.scale_cast
        self._write_back(step)

    def _write_back(self, step):
        stack = self.stack
        self._put(stack._flat_params, self.params)
        if not self.plain:
            for key, block in stack._flat_state.items():
                self._put(block, self.state[key])
        if self.averaging:
            self._put(stack._flat_average, self.average)
        if self.tracking:
            self.last[self.touched] = step
        if self.catching_up:
            self.caught_up[:, self.touched] = self.rates[:, None]

    def _restart(self, lr):
        """Write every row out, then take this step on every row: ``P`` restarts at 1.

        Reached when a member's scale nears 0 (``lr * alpha_l2`` near 1); the
        step is then the dense one.
        """
        stack = self.stack
        factor = (1 - lr * self.decay).astype(stack.dtype)
        threshold = lr * self.shrink
        self.materialize()
        weights = self._weight_rows(stack._flat_params)
        weights *= factor
        if self.shrinking:
            self._soft_threshold(weights, threshold)
        if self.averaging:
            state = stack.state
            started = state.samples >= stack._average_start
            with np.errstate(divide="ignore"):
                weight = np.where(started, 1.0 / state.n_averaged, 0.0)
            average = self._weight_rows(stack._flat_average)
            average += _rows_view(weight.astype(stack.dtype), 3) * (weights - average)
        self._write_back(0)

    def _weight_rows(self, block):
        """The rows of W in a flat block, shaped (n_models, n_features, n_outputs)."""
        return block[:, :self.n_weights].reshape(-1, self.n_features, self.n_outputs)

    def materialize(self):
        """Write every row of W (and of its average) out in its own units, and
        restart the clock."""
        if self.step:
            stack = self.stack
            weights = self._weight_rows(stack._flat_params)
            if self.averaging:
                self._catch_up_average(self._weight_rows(stack._flat_average),
                                       weights, self.last)
            if self.shrinking:
                self._shrink(weights, self.last)
            if self.scaling:
                weights *= self.scale_cast
        self.reset()

    def catch_up(self):
        """At the end of the epoch: write every row out, and apply the lazy
        members' pending penalty to it."""
        self.materialize()
        if self.catching_up:
            stack, n_weights = self.stack, self.n_weights
            self._catch_up_penalty(
                self._weight_rows(stack._flat_params),
                *(None if block is None else block[:, :n_weights]
                  for block in (stack._l2_strength, stack._l1_strength)),
                None if self.plain else {key: block[:, :n_weights]
                                         for key, block in stack._flat_state.items()},
                self._pending_rates())

    def _pending_rates(self, rows=None):
        """For ``rows`` of W (default: all), the sum of the learning rates of
        the steps since they last caught up their penalty, shape
        ``(n_models, n_rows, 1)``."""
        caught_up = (self.caught_up.copy() if rows is None
                     else np.take(self.caught_up, rows, axis=1))
        return np.subtract(self.rates[:, None], caught_up, out=caught_up)[:, :, None]

    def _catch_up_penalty(self, weights, l2, l1, state, rates):
        """Apply to the rows of lazy members the penalty of the steps they missed.

        ``weights``, shape ``(n_models, n_rows, n_outputs)``, are rows whose
        missed steps' learning rates sum to ``rates`` (broadcastable to
        it); ``l2``, ``l1`` (or None) and ``state`` hold their penalty
        strengths and optimizer state as ``(n_models, n_rows * n_outputs)``
        blocks (no state: plain members). The rows decay by ``exp(-l2 * c *
        rates)``, then shrink by ``l1 * c * rates``, ``c`` their
        preconditioner at the step count so far (at least 1: a member that has
        taken no step, or was put back to before its first, has nothing
        pending, and Adam's factor is undefined at 0).
        """
        stack = self.stack
        shape = weights.shape
        rates = rates.astype(stack.dtype)
        if self.lazy is not None:
            rates *= self.lazy
        factor = None if state is None else stack.optimizer.preconditioner(
            state, stack._step_views[2][1],
            _rows_view(np.maximum(stack.state.t, 1).astype(stack.dtype), 2))
        # c * rates, then the decay, in one buffer
        scaled = self._buffer("catch-up", shape[0], weights[0].size,
                              stack.dtype).reshape(shape)
        if factor is None:
            scaled[...] = rates
        else:
            np.multiply(factor.reshape(shape), rates, out=scaled)
        if l1 is not None:
            threshold = l1.reshape(shape) * scaled
        if l2 is not None:
            scaled *= l2.reshape(shape)
            np.negative(scaled, out=scaled)
            weights *= np.exp(scaled, out=scaled)
        if l1 is not None:
            self._soft_threshold(weights, threshold)

    def _shrink(self, weights, since):
        """Apply the shrinkage pending since each row's last step, in units of w / P."""
        pending = self.shrinkage[self.step] - self.shrinkage[since]
        self._soft_threshold(weights, pending.transpose(1, 0, 2))

    @staticmethod
    def _soft_threshold(weights, threshold):
        magnitude = np.abs(weights) - threshold
        np.maximum(magnitude, 0, out=magnitude)
        np.copysign(magnitude, weights, out=weights)

    def _catch_up_average(self, average, weights, since):
        """Fold the iterates of rows untouched since step ``since`` into their average.

        ``weights`` holds ``w / P`` of the rows, constant since then; the
        average becomes ``(N_u * average + w_u / P_u * (R_t - R_u)) / N_t``
        with ``N`` the count of averaged iterates, where ``N_t > 0``.
        """
        counted = _rows_view(self.n_averaged[self.step], 3)
        before = self.n_averaged[since].T[:, :, None]
        sums = (self.scale_sums[self.step] - self.scale_sums[since]).transpose(1, 0, 2)
        total = before * average + weights * sums
        np.divide(total, counted, out=average, where=counted > 0)
