"""The training loop: one loop for every estimator and every search.

It trains a *stack* of independent models at once. Parameters, gradients and
optimizer state carry a leading axis over the models of the stack; learning
rate, schedule, penalty, stopping and divergence state are per model. A plain
``fit`` is a stack of one; the lockstep searches put many candidates in one
stack. All models of a stack share the data, the minibatch order, the model
structure and the optimizer type; everything numeric may differ.

Reading order: :class:`MemberConfig` (what one model asks for),
:class:`MemberRecord` (what happened to it), :class:`TrainingPlan` (what an
estimator hands the engine: data, model, loss, one member and how to draw
minibatches), :class:`StackState` (the arrays that follow the members),
:class:`Stack` (the loop: ``train`` -> ``_run_epoch`` -> ``_step``, then
``_end_epoch``). ``_step`` updates :class:`~sklr._rows._AllRows` (every
parameter in place) or, for a linear model on sparse input,
:class:`~sklr._rows._LazyRows` (the rows of the weights a CSR minibatch
touches, the others updated exactly or lazily; ``sklr/_rows.py``): one step
for both.
"""

import copy
import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from sklr._rows import _AllRows, _LazyRows, _probe_optimizer, _rows_view

# A minibatch loss this many times the first one (or 1, if larger) is a divergence;
# losses are scale-free (standardized targets, cross-entropy), so 1 is a fair floor.
DIVERGENCE_FACTOR = 10.0
# After this many back-offs a model stops as if on_divergence were "stop".
MAX_BACKOFFS = 10
# A minibatch over the limit is a divergence only if, on this many evenly spaced
# training samples, the weights are over it too or lose more than WORSE_FACTOR
# times what the last good weights lose (Stack._sound).
CHECK_SAMPLES = 1000
WORSE_FACTOR = 2.0


@dataclass
class MemberConfig:
    """The per-model settings of one member of a stack."""

    learning_rate: float
    optimizer: object
    schedule: object
    random_state: np.random.RandomState
    alpha_l2: float = 0.0
    alpha_l1: float = 0.0
    clip_norm: float | None = None
    tol: float | None = 1e-4
    n_iter_no_change: int = 10
    on_divergence: str = "backoff"
    # False, True (average the iterates from the first step) or k (from the
    # k-th sample seen on), as scikit-learn's SGD
    average: bool | int = False
    # what a learning_rate of 1 is in the estimator's units: for an optimizer
    # that sets its own step size, learning_rate is a factor on it, and the
    # estimator's default rate means factor 1; rates are reported (records,
    # curves, on_step) in the estimator's units
    rate_unit: float = 1.0


@dataclass
class MemberRecord:
    """History and outcome of one member; the fitted attributes come from here."""

    loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    learning_rate_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    best_validation_score: float = -np.inf
    # the loss of the initial weights on the training data, in the user's
    # units; NaN if unknown (partial_fit, the LR sweep)
    initial_loss: float = np.nan
    n_iter: int = 0
    t: int = 0
    n_divergences: int = 0
    learning_rate: float = 0.0
    # "training", "converged", "diverged" (stopped after divergence), "error",
    # or "stopped" (a callback asked to stop)
    status: str = "training"
    no_improvement: int = 0
    divergence_epochs: list = field(default_factory=list)
    divergence_learning_rates: list = field(default_factory=list)
    # back-offs so far: the rate in use is the base rate / 10 ** backoffs
    backoffs: int = 0
    # the base rate (before back-offs, in the estimator's units) they divide:
    # training that goes on at another rate starts without back-offs
    base_learning_rate: float | None = None
    # what predictions use (the averaged or evaluation point, or the best
    # weights validation chose), and the state training continues from
    params: list | None = None
    buffers: list | None = None
    state: "StackState | None" = None

    @property
    def lr_factor(self):
        """The factor the back-offs put on the base rate."""
        return 10.0 ** -self.backoffs


@dataclass
class TrainingData:
    """Training data, optional validation data and the validation scorer.

    ``Y`` and ``Y_val`` are 2-D float arrays in the model's internal target
    encoding; ``scorer(raw, Y_val, w_val)`` returns one score per model
    (higher is better). With ``rows``, the training samples are
    ``X[rows]``, gathered a minibatch at a time, so that the folds of a
    search (or an early-stopping split) share ``X`` instead of copying it;
    ``Y`` and ``sample_weight`` then hold those samples only.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    rows: np.ndarray | None = None
    X_val: object = None
    Y_val: np.ndarray | None = None
    sample_weight_val: np.ndarray | None = None
    scorer: object = None

    @property
    def has_validation(self):
        return self.X_val is not None


@dataclass
class TrainingPlan:
    """Everything the engine needs to train one estimator: the estimator-engine seam.

    Estimators build plans (``estimator._plan(...)``); a plain ``fit``
    trains one as a stack of one, and the searches and the LR range test
    stack the plans of many (:meth:`Stack.from_plans`).

    Attributes
    ----------
    data : TrainingData
        Validated data in the model's target encoding.
    model : LinearModel or MLPModel
        The structure (parameters, forward and backward passes).
    loss : callable
        The loss of the raw output, link included.
    member : MemberConfig
        This model's per-member settings.
    dtype : numpy dtype
        The training dtype.
    seed : int
        Seed of the minibatch order and dropout masks.
    batch_size : int or "auto"
        Minibatch size.
    shuffle : bool
        Reshuffle the samples every epoch.
    penalty_weights : tuple of two lists, or None
        ``(l2, l1)``: per parameter array, weights of its entries in the L2
        and L1 penalties (broadcastable to one member's array); None weighs
        every penalized entry 1. Regressors that standardize targets use
        them to keep the penalty in the target's units.
    loss_scale : float
        Factor from the training objective to the user's units: reported
        losses are multiplied by it. Stopping and divergence checks use the
        unscaled (standardized) objective.
    gradient_scale : list or None
        A diagonal preconditioner: per parameter array, None or factors
        that broadcast along its last (output) axis, by which the objective's
        gradient (penalty included) and the L1 threshold of its entries are
        multiplied before the optimizer steps. It changes how fast entries
        move, not the optimum. Regressors with targets of different scales
        use it so that each target trains at the pace of a standardized one.
    """

    data: TrainingData
    model: object
    loss: object
    member: MemberConfig
    dtype: np.dtype
    seed: int
    batch_size: int | str = "auto"
    shuffle: bool = True
    penalty_weights: tuple | None = None
    loss_scale: float = 1.0
    gradient_scale: list | None = None


def batch_size_for(batch_size, n_samples):
    """The minibatch size the loop uses for ``batch_size`` on ``n_samples``."""
    return min(200, n_samples) if batch_size == "auto" else min(batch_size, n_samples)


def _pack_arrays(arrays, n_models):
    """Copy stacked arrays into one ``(n_models, n_values)`` block; return it and
    views of it shaped like the arrays."""
    sizes = [int(np.prod(a.shape[1:])) for a in arrays]
    # explicit sizes: a stack whose models have all finished has n_models == 0
    block = np.concatenate([a.reshape(n_models, size) for a, size in zip(arrays, sizes)],
                           axis=1)
    views, start = [], 0
    for array, size in zip(arrays, sizes):
        view = block[:, start:start + size].view()
        # assigning the shape raises instead of copying: these must be views
        view.shape = array.shape
        views.append(view)
        start += size
    return block, views


def _training_rows(X, data, positions):
    """``X``, ``Y`` and the sample weights of the training samples at
    ``positions`` (a search's fold reads its rows of the shared ``X``)."""
    x_rows = positions if data.rows is None else data.rows[positions]
    return X[x_rows], data.Y[positions], data.sample_weight[positions]


class _MinibatchGatherer:
    """Copies the rows of an epoch's minibatches into buffers allocated once per epoch.

    The targets and weights of the next ``CHUNK`` samples' minibatches are
    gathered at once, and each minibatch's are a slice of them. Dense rows of
    ``X`` are gathered per minibatch with ``np.take`` into a C-contiguous
    buffer, the only copy of ``X`` training makes, so BLAS gets contiguous
    operands whatever the memory layout of ``X``. Sparse (CSR) rows stay
    sparse: a chunk's rows are copied by one scipy row indexing (a third of
    the time of one per minibatch, which spends most of it validating the
    indices and reading scattered rows), and each minibatch is a slice of
    them: a CSR matrix, or with ``row_arrays`` its ``(data, indices, rows,
    indptr)`` arrays (``rows``: the row of each non-zero) for
    :class:`_LazyRows`.
    """

    # samples gathered at once: a bounded share of X
    CHUNK = 8192

    def __init__(self, X, data, batches, row_arrays=False):
        self.X, self.Y, self.weight = X, data.Y, data.sample_weight
        self.rows = data.rows
        self.batches = batches
        self.dense = not sp.issparse(X)
        self.row_arrays = row_arrays
        batch_size = len(batches[0])
        if self.dense:
            self.X_buffer = np.empty((batch_size, X.shape[1]), dtype=X.dtype)
        self.chunk_steps = max(1, self.CHUNK // batch_size)
        self.chunk_first = None
        # equal weights (no sample_weight or class_weight) normalize to 1 / n:
        # nothing to gather or sum
        first = self.weight[0]
        self.equal_weight = first if (self.weight == first).all() else None
        self.equal_weights = {}
        # 1 / the mean weight: a minibatch's normalized weights sum to one on average
        self.unit = len(self.weight) / self.weight.sum()

    def __call__(self, step):
        """``X[batch]``, ``Y[batch]`` for the minibatch ``batch`` of ``step``,
        its normalized weights, and their sum before normalizing. The arrays
        are buffers, valid until the next call.

        A sample's normalized weight is its weight over the mean weight of
        the data, divided by the minibatch's size: the minibatch's weighted
        loss is then an unbiased estimate of the weighted mean loss over the
        data, whatever the batch size. (Normalizing each minibatch's weights
        to sum to one would weigh samples against their minibatch only: with
        ``batch_size=1``, not at all.)
        """
        first = step - step % self.chunk_steps
        if first != self.chunk_first:
            self._load_chunk(first)
        start, stop = self.chunk_starts[step - first:step - first + 2]
        n = stop - start
        if self.dense:
            batch = self.batches[step]
            x_rows = batch if self.rows is None else self.rows[batch]
            # indices come from a permutation, so "clip" never clips; it spares
            # numpy the buffered copy that mode="raise" makes with ``out``
            Xb = np.take(self.X, x_rows, axis=0, out=self.X_buffer[:n], mode="clip")
        else:
            Xb = self._sparse_rows(start, stop)
        Yb = self.chunk_Y[start:stop]
        if self.equal_weight is not None:
            if n not in self.equal_weights:
                self.equal_weights[n] = np.full(n, 1 / n, dtype=self.weight.dtype)
            return Xb, Yb, self.equal_weights[n], n * self.equal_weight
        wb = self.chunk_weight[start:stop]
        batch_weight = wb.sum()
        wb *= self.unit / n
        return Xb, Yb, wb, batch_weight

    def _load_chunk(self, first):
        """Gather the samples of the chunk of minibatches from step ``first`` on."""
        batches = self.batches[first:first + self.chunk_steps]
        rows = np.concatenate(batches)
        sizes = [len(b) for b in batches]
        # Python ints: a step slices with them, faster than with numpy's
        self.chunk_starts = np.cumsum([0] + sizes).tolist()
        self.chunk_first = first
        self.chunk_Y = self.Y.take(rows, axis=0)
        if self.equal_weight is None:
            self.chunk_weight = self.weight.take(rows)
        if self.dense:
            return
        self.chunk = self.X[rows if self.rows is None else self.rows[rows]]
        if self.row_arrays:
            # each non-zero's row within its minibatch
            within = np.arange(len(rows)) - np.repeat(self.chunk_starts[:-1], sizes)
            self.chunk_rows = np.repeat(within, np.diff(self.chunk.indptr))

    def _sparse_rows(self, start, stop):
        """The CSR rows ``start:stop`` of the chunk."""
        chunk = self.chunk
        begin, end = chunk.indptr[start], chunk.indptr[stop]
        data, indices = chunk.data[begin:end], chunk.indices[begin:end]
        indptr = chunk.indptr[start:stop + 1] - begin
        if self.row_arrays:
            return data, indices, self.chunk_rows[begin:end], indptr
        return type(self.X)((data, indices, indptr), shape=(stop - start, self.X.shape[1]))


@dataclass
class StackState:
    """The arrays that follow the members of a stack, each with a leading member axis.

    Parameters, buffers (batch-norm statistics), optimizer state, the update
    counts ``t``, the samples seen, and for iterate averaging the running
    average of the parameters and how many iterates it holds. The loop reads
    and writes them in place; these methods move whole members between
    states: a stack's live state, its last good snapshot and a finished
    member's record.
    """

    params: list
    buffers: list
    opt_state: list
    t: np.ndarray
    samples: np.ndarray
    n_averaged: np.ndarray
    # one array per parameter; empty when no member averages
    average: list

    def take(self, rows):
        """A new state holding copies of ``rows`` (indices or a boolean mask)."""
        rows = np.asarray(rows)
        return StackState(
            [p[rows] for p in self.params],
            [b[rows] for b in self.buffers],
            [{k: v[rows] for k, v in s.items()} for s in self.opt_state],
            self.t[rows], self.samples[rows], self.n_averaged[rows],
            [a[rows] for a in self.average],
        )

    def copy(self):
        """A copy of every array."""
        return self.take(np.arange(len(self.t)))

    def put(self, rows, source, source_rows=None):
        """Overwrite ``rows`` in place with ``source``'s ``source_rows`` (default ``rows``)."""
        source_rows = rows if source_rows is None else source_rows
        for current, saved in zip(self.params, source.params):
            current[rows] = saved[source_rows]
        for current, saved in zip(self.buffers, source.buffers):
            current[rows] = saved[source_rows]
        for state, saved in zip(self.opt_state, source.opt_state):
            for key in state:
                state[key][rows] = saved[key][source_rows]
        for current, saved in zip(self.average, source.average):
            current[rows] = saved[source_rows]
        for name in ("t", "samples", "n_averaged"):
            getattr(self, name)[rows] = getattr(source, name)[source_rows]


class Stack:
    """A stack of models trained together by one loop.

    Build one from :class:`TrainingPlan` objects with :meth:`from_plans`.

    Parameters
    ----------
    model : LinearModel or MLPModel
        The shared structure.
    loss : callable
        ``loss(raw, Y, w, gradient=True) -> (loss per model, gradient)``.
    members : list of MemberConfig
        One entry per model.
    dtype : numpy dtype
        Floating-point type of parameters and computation.
    seed : int
        Seed of the minibatch order and dropout masks, shared by the stack.
    batch_size : int or "auto"
        Minibatch size; ``"auto"`` is ``min(200, n_samples)``.
    shuffle : bool
        Reshuffle the samples every epoch.
    penalty_weights : tuple of two lists, default=None
        Weights of the parameters' entries in the L2 and L1 penalties; see
        :class:`TrainingPlan`.
    loss_scale : float, default=1.0
        Factor from the training objective to the reported losses.
    gradient_scale : list, default=None
        A diagonal preconditioner; see :class:`TrainingPlan`.
    """

    # per-model arrays that follow the rows of the stack
    _row_vectors = ("_rows", "_base_lr", "_rate_unit", "_lr_divisor", "_alpha_l2",
                    "_alpha_l1", "_clip_norm", "_reference_loss", "_loss_limit",
                    "_average_start")

    def __init__(self, model, loss, members, dtype, seed, batch_size="auto",
                 shuffle=True, penalty_weights=None, loss_scale=1.0,
                 gradient_scale=None):
        self.model = model
        self.loss = loss
        self.members = members
        self.dtype = np.dtype(dtype)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.loss_scale = float(loss_scale)
        self._gradient_scale = None if gradient_scale is None else [
            None if factor is None else np.asarray(factor, dtype=dtype)
            for factor in gradient_scale]
        self.records = [MemberRecord() for _ in members]
        self.epoch = 0
        self._rng = np.random.default_rng(seed)

        optimizers = [m.optimizer for m in members]
        # steps with a stand-in that refuses per-member numbers read from self
        self.optimizer, self._hyper = optimizers[0].stacked(optimizers, self.dtype)
        self.schedule_states = [m.schedule.init_state() for m in members]

        params, buffers = model.init_params(
            [m.random_state for m in members], self.dtype
        )
        n_members = len(members)
        # averaging starts once a member has seen this many samples
        self._average_start = np.array(
            [np.inf if m.average is False else 0 if m.average is True else m.average
             for m in members], dtype=np.float64)
        averaging = bool(np.isfinite(self._average_start).any())
        self.state = StackState(
            params, buffers, [self.optimizer.init_state(p) for p in params],
            t=np.zeros(n_members, dtype=np.int64),
            samples=np.zeros(n_members, dtype=np.int64),
            n_averaged=np.zeros(n_members),
            average=[p.copy() for p in params] if averaging else [])
        self._best_params = None

        def vector(name, default=None):
            return np.array(
                [default if getattr(m, name) is None else getattr(m, name)
                 for m in members], dtype=self.dtype,
            )

        self._rows = np.arange(len(members))
        self._base_lr = vector("learning_rate")
        self._rate_unit = np.array([m.rate_unit for m in members])
        self._lr_divisor = np.ones(len(members))
        self._alpha_l2 = vector("alpha_l2")
        self._alpha_l1 = vector("alpha_l1")
        self._clip_norm = vector("clip_norm", np.inf)
        self._reference_loss = np.full(len(members), np.nan, dtype=self.dtype)
        self._loss_limit = np.full(len(members), np.nan, dtype=self.dtype)
        self._set_penalty_weights(penalty_weights)
        self._pack()
        self._rows_changed()
        self._snapshot = self.state.copy()

    @classmethod
    def from_plans(cls, plans):
        """A stack of the members of ``plans``, which must share everything else.

        Parameters
        ----------
        plans : list of TrainingPlan
            One plan per member; the first one's data, model, loss, dtype,
            seed, batch size and shuffling serve the whole stack.

        Returns
        -------
        stack : Stack
        """
        lead = plans[0]
        for plan in plans[1:]:
            if (plan.model.structure_key() != lead.model.structure_key()
                    or plan.dtype != lead.dtype):
                raise ValueError("Plans stacked together must share the model "
                                 "structure and the dtype.")
        return cls(lead.model, lead.loss, [plan.member for plan in plans], lead.dtype,
                   seed=lead.seed, batch_size=lead.batch_size, shuffle=lead.shuffle,
                   penalty_weights=lead.penalty_weights, loss_scale=lead.loss_scale,
                   gradient_scale=lead.gradient_scale)

    def _set_penalty_weights(self, penalty_weights):
        """One member's L2 and L1 weights for each parameter array, in the dtype."""
        shapes = [p.shape[1:] for p in self.state.params]
        if penalty_weights is None:
            penalty_weights = ([1.0] * len(shapes), [1.0] * len(shapes))
        self._penalty_weights = [
            [np.broadcast_to(np.asarray(w, dtype=self.dtype), shape)
             for w, shape in zip(weights, shapes)]
            for weights in penalty_weights]

    # ------------------------------------------------------------------ state
    @property
    def n_active(self):
        """Number of models still training."""
        return len(self._rows)

    def _row(self, member):
        return int(np.flatnonzero(self._rows == member)[0])

    def member_params(self, member):
        """Parameters and buffers of one member, each with a leading axis of 1."""
        record = self.records[member]
        if record.params is not None:
            return record.params, record.buffers
        row = [self._row(member)]
        return ([p[row] for p in self._evaluation_params()],
                [b[row] for b in self.state.buffers])

    def resume(self, member, record, schedule_state, epoch):
        """Continue ``member`` from a finished record: weights, optimizer state,
        schedule position and history (``warm_start`` and ``partial_fit``)."""
        row = self._row(member)
        if record.state.average and not self.state.average:
            self.state.average = [p.copy() for p in self.state.params]
            self._pack()
        self.state.put(row, record.state, 0)
        # a rate the user set anew (learning_rate_ set back, say) is taken as it
        # is; the same rate goes on at its back-offs
        backoffs = record.backoffs if record.base_learning_rate in (
            None, self._base_rate(row)) else 0
        self._lr_divisor[row] = 10.0 ** backoffs
        self.records[member] = dataclasses.replace(
            record, backoffs=backoffs, status="training", no_improvement=0, params=None,
            buffers=None, state=None,
            loss_curve=list(record.loss_curve),
            validation_scores=list(record.validation_scores),
            validation_loss_curve=list(record.validation_loss_curve),
            learning_rate_curve=list(record.learning_rate_curve),
            divergence_epochs=list(record.divergence_epochs),
            divergence_learning_rates=list(record.divergence_learning_rates),
        )
        self.schedule_states[member] = copy.deepcopy(schedule_state)
        self.epoch = epoch
        self._snapshot = self.state.copy()

    def select(self, members):
        """Keep training only ``members`` (ids); the others are finished as they are."""
        keep = np.isin(self._rows, members)
        for row in np.flatnonzero(~keep):
            self._store(row)
        self._take_rows(keep)

    def _store(self, row, params=None):
        """Save the state of ``row`` in its record.

        Predictions use ``params`` (the best weights validation chose) when
        given, else the evaluation point; training continues from the state.
        """
        member = self._rows[row]
        record = self.records[member]
        record.state = self.state.take([row])
        if params is None:
            params = self._evaluation_params()
        record.params = [p[row:row + 1].copy() for p in params]
        if params is self._best_params:
            # warm_start and partial_fit continue from the weights kept: every
            # point the state holds goes there (a schedule-free x and z, the
            # running average), not only the one gradients are taken at
            self.optimizer.restart(record.state.params, record.state.opt_state,
                                   record.params, [0])
            for average, best in zip(record.state.average, record.params):
                average[...] = best
        record.buffers = record.state.buffers
        record.t = int(record.state.t[0])
        self._record_rate(row, record)

    def _take_rows(self, keep):
        """Drop the rows of finished models from every stacked array."""
        self.state = self.state.take(keep)
        self._snapshot = self._snapshot.take(keep)
        self._pack()
        self._hyper = {k: v[keep] for k, v in self._hyper.items()}
        for name in self._row_vectors:
            setattr(self, name, getattr(self, name)[keep])
        self._rows_changed()
        if self._best_params is not None:
            self._best_params = [p[keep] for p in self._best_params]
        epoch = getattr(self, "_epoch", None)
        if epoch is not None:
            for key in epoch:
                epoch[key] = epoch[key][keep]

    def __getstate__(self):
        # pickling copies every array apart, so the packed blocks and the views
        # into them would no longer share memory: drop them, rebuild on load
        state = dict(self.__dict__)
        for key in ("_flat_params", "_flat_grad", "_grad_views", "_flat_state",
                    "_step_views", "_flat_average"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._pack()
        self._rows_changed()

    def _pack(self):
        """Lay the parameters, their optimizer state and gradients out in one block each.

        Each block has shape ``(n_models, n_values)``; the state's
        parameters, optimizer state and the gradients are views into it, one
        per parameter array. The optimizer then updates the whole stack in
        one call: called per array, the small bias arrays cost as much numpy
        call overhead as the weight matrices. Optimizer state not shaped
        like the parameters (a custom optimizer's) stays per array.
        """
        state = self.state
        n_models = len(state.t)
        self._flat_params, state.params = _pack_arrays(state.params, n_models)
        self._flat_average = None
        if state.average:
            self._flat_average, state.average = _pack_arrays(state.average, n_models)
        self._flat_grad, self._grad_views = _pack_arrays(
            [np.empty_like(p) for p in state.params], n_models)
        keys = set(state.opt_state[0])
        if all(set(s) == keys and all(v.shape == p.shape for v in s.values())
               for s, p in zip(state.opt_state, state.params)):
            self._flat_state = {}
            views = [{} for _ in state.params]
            for key in keys:
                flat, arrays = _pack_arrays([s[key] for s in state.opt_state],
                                            n_models)
                self._flat_state[key] = flat
                for view, array in zip(views, arrays):
                    view[key] = array
            state.opt_state = views
        else:
            self._flat_state = None

    def _penalty_block(self, alphas, weights):
        """``alpha * weight`` of every entry of the parameter block, or None if
        0; times the gradient scale, since the steps apply the penalty."""
        if not alphas.any():
            return None
        params = self.state.params
        if self._gradient_scale is not None:
            weights = [weight if factor is None else weight * factor
                       for weight, factor in zip(weights, self._gradient_scale)]
        return _pack_arrays(
            [np.broadcast_to(_rows_view(alphas * penalized, p.ndim) * weight, p.shape)
             for penalized, p, weight in zip(self.model.penalized, params, weights)],
            len(self._rows))[0]

    def _rows_changed(self):
        """Recompute what the hot loop reads per step but only changes with the rows."""
        n_models = len(self._rows)
        params = self.state.params
        # each penalty's strength over the parameter block (0 where unpenalized):
        # the L2 gradient of the whole stack is then one product, the L1
        # shrinkage one soft-threshold
        self._l2_strength = self._penalty_block(self._alpha_l2, self._penalty_weights[0])
        self._l1_strength = self._penalty_block(self._alpha_l1, self._penalty_weights[1])
        self._has_clip = bool(np.isfinite(self._clip_norm).any())
        # what sparse epochs update lazily depends on the members: found on demand
        self._probe = self._lazy_strengths = None
        self._reference_missing = bool(np.isnan(self._reference_loss).any())
        # the learning rate and step count of the current step, in the
        # parameters' dtype, with views shaped for each parameter rank
        self._lr_now = np.zeros(n_models, dtype=self.dtype)
        self._t_now = np.zeros(n_models, dtype=self.dtype)
        self._step_views = {
            n_dims: (_rows_view(self._lr_now, n_dims),
                     {k: _rows_view(v, n_dims) for k, v in self._hyper.items()},
                     _rows_view(self._t_now, n_dims))
            for n_dims in {2, *(p.ndim for p in params)}
        }

    def _finish(self, rows, status):
        """Take ``rows`` out of the stack with ``status``."""
        if len(rows) == 0:
            return
        for row in rows:
            self.records[self._rows[row]].status = status
            self._store(row, self._best_for(row))
        keep = np.ones(len(self._rows), dtype=bool)
        keep[rows] = False
        self._take_rows(keep)

    def _best_for(self, row):
        """The best weights kept for ``row``, if validation chose any."""
        if self._best_params is not None and np.isfinite(
                self.records[self._rows[row]].best_validation_score):
            return self._best_params
        return None

    def finalize(self):
        """Store the state of members still training, e.g. at ``max_iter``."""
        for row in range(len(self._rows)):
            self._store(row, self._best_for(row))

    # ------------------------------------------------------------------ loop
    def train(self, data, n_epochs, horizon, stopping=True, verbose=0, on_step=None,
              on_epoch=None):
        """Run up to ``n_epochs`` epochs of every model still training.

        Parameters
        ----------
        data : TrainingData
        n_epochs : int
            Epochs to run in this call.
        horizon : int
            The training budget schedules are defined over (``max_iter``).
        stopping : bool
            Apply the ``tol`` / ``n_iter_no_change`` rule.
        verbose : int
            Print one line per epoch and model when > 0.
        on_step : callable, optional
            ``on_step(stack, losses, learning_rates)`` after every update, with
            the minibatch loss and the rate of each active model; returning
            True ends training (the LR range test watches steps, not epochs).
        on_epoch : callable, optional
            ``on_epoch(stack)`` after every epoch (the records are up to
            date); returning True stops every model still training, and
            returning a collection of member indices stops those, with status
            ``"stopped"`` (scikit-learn's callbacks).
        """
        X = data.X
        if sp.issparse(X) and X.format != "csr":
            X = X.tocsr()
        if data.has_validation and self._best_params is None:
            self._best_params = [p.copy() for p in self._evaluation_params()]
        if stopping:
            self._record_initial_losses(X, data)
        for _ in range(n_epochs):
            if self.n_active == 0:
                break
            start = time.perf_counter()
            epoch = self._run_epoch(X, data, horizon, on_step)
            if epoch is None:
                break
            self._end_epoch(data, epoch, stopping, verbose,
                            time.perf_counter() - start)
            if on_epoch is not None:
                self._stop(on_epoch(self))

    def _record_initial_losses(self, X, data):
        """Record the loss of the weights training starts from, on the whole
        training data, for members that have none: what a fit that ends worse
        than it started is compared with. One forward pass, a chunk of rows
        at a time."""
        fresh = [row for row, member in enumerate(self._rows)
                 if np.isnan(self.records[member].initial_loss)]
        if not fresh:
            return
        n_samples = data.Y.shape[0]
        total = data.sample_weight.sum()
        losses = np.zeros(len(fresh))
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, n_samples, _MinibatchGatherer.CHUNK):
                X_part, Y_part, weight = _training_rows(
                    X, data, np.arange(start, min(start + _MinibatchGatherer.CHUNK,
                                                  n_samples)))
                losses += self._minibatch_loss(self.state, fresh, X_part, Y_part,
                                               weight / total)
        for row, loss in zip(fresh, losses):
            self.records[self._rows[row]].initial_loss = float(loss) * self.loss_scale

    def _stop(self, request):
        """Finish the members an ``on_epoch`` hook asked to stop (True: all)."""
        if request is True:
            rows = np.arange(self.n_active)
        elif request:
            rows = np.flatnonzero(np.isin(self._rows, list(request)))
        else:
            return
        self._finish(rows, "stopped")

    def _batches(self, n_samples):
        batch_size = batch_size_for(self.batch_size, n_samples)
        order = (self._rng.permutation(n_samples) if self.shuffle
                 else np.arange(n_samples))
        return [order[start:start + batch_size]
                for start in range(0, n_samples, batch_size)]

    def _schedule_table(self, n_batches, horizon):
        """Learning rate of every step of this epoch, shape (n_batches, n_models)."""
        progress = self.epoch + np.arange(n_batches) / n_batches
        factors = np.empty((n_batches, len(self._rows)), dtype=self.dtype)
        for row, member in enumerate(self._rows):
            schedule = self.members[member].schedule
            factors[:, row] = schedule(progress, horizon, self.schedule_states[member])
        return factors * (self._base_lr / self._lr_divisor).astype(self.dtype)

    def _run_epoch(self, X, data, horizon, on_step=None):
        n_samples = data.Y.shape[0]
        batches = self._batches(n_samples)
        total_weight = data.sample_weight.sum()
        self._epoch = {
            "lr_table": self._schedule_table(len(batches), horizon).T,
            "loss_sum": np.zeros(len(self._rows), dtype=np.float64),
            "weight_sum": np.zeros(len(self._rows), dtype=np.float64),
        }
        lazy = self._lazy_rows(X, len(batches))
        gather = _MinibatchGatherer(X, data, batches, row_arrays=lazy is not None)
        rows = _AllRows(self) if lazy is None else lazy
        last = None
        source = (X, data)
        # non-finite values are caught by the divergence check, not by warnings
        with np.errstate(over="ignore", invalid="ignore"):
            for step in range(len(batches)):
                if self.n_active == 0:
                    break
                Xb, Yb, wb, batch_weight = gather(step)
                if batch_weight <= 0:
                    continue
                loss = self._step(rows, Xb, Yb, wb, step, source)
                if loss is None:
                    continue
                last = (Xb, Yb, wb)
                # the loss estimates the weighted mean: times its share of the
                # samples, the epoch sums the weighted losses exactly
                self._epoch["loss_sum"] += loss * (Yb.shape[0] / n_samples)
                self._epoch["weight_sum"] += batch_weight / total_weight
                if on_step is not None:
                    if lazy is not None:
                        lazy.materialize()
                    if on_step(self, loss, self._epoch["lr_table"][:, step]
                               * self._rate_unit):
                        self._epoch = None
                        return None
            if lazy is not None:
                lazy.catch_up()
                if last is not None:
                    values, indices, _, indptr = last[0]
                    whole = sp.csr_matrix((values, indices, indptr),
                                          shape=(len(indptr) - 1, X.shape[1]))
                    last = (whole, *last[1:])
            if self.n_active:
                self._verify_last_update(last, source)
        epoch = self._epoch
        self._epoch = None
        return epoch if self.n_active else None

    def _verify_last_update(self, last, source):
        """Check the epoch's last update as the next step would check it.

        Every other update is verified by the loss of the step after it; the
        last one of an epoch may be the last of the fit, so its loss on the
        minibatch it came from (without dropout, without touching batch-norm
        statistics) must be within the divergence limit too, and every
        parameter finite.
        """
        state = self.state
        bad = np.zeros(len(self._rows), dtype=bool)
        for param in state.params:
            bad |= ~np.isfinite(param.reshape(len(self._rows), -1)).all(axis=1)
        if last is not None:
            loss = self._minibatch_loss(state, slice(None), *last)
            # NaN fails the comparison too
            over = np.flatnonzero(~(loss <= self._loss_limit))
            if len(over):
                bad[over] |= ~self._sound(over, loss, source)
        if bad.any():
            self._handle_divergence(np.flatnonzero(bad))

    def _step(self, rows, X, Yb, wb, step, source):
        """One update of every model on a minibatch; returns the batch losses.

        ``rows`` is where the update happens: every parameter in place
        (:class:`_AllRows`), or the rows of the weights a sparse minibatch
        touches (:class:`_LazyRows`), gathered from ``X`` and written back.
        ``source`` is the epoch's ``(X, data)``, which :meth:`_sound` samples.
        """
        model, state = self.model, self.state
        # members over their limit on this minibatch whose weights are sound
        excused = None
        while True:
            rows.gather(X)
            raw, cache = model.forward(rows.param_views, state.buffers, rows.X,
                                       training=True, rng=self._rng)
            loss, grad_raw = self.loss(raw, Yb, wb)
            if self._reference_missing:
                self._set_reference_loss(loss)
            # NaN and inf fail the comparison too
            within = loss <= self._loss_limit
            if excused is not None:
                within |= np.isin(self._rows, excused)
            if within.all():
                break
            # undo the diverged models, then redo this step for the stack
            rows.materialize()
            over = np.flatnonzero(~within)
            sound = self._sound(over, loss, source)
            excused = np.concatenate([() if excused is None else excused,
                                      self._rows[over[sound]]])
            diverged = over[~sound]
            restored = self._rows[diverged]
            if len(diverged):
                self._handle_divergence(diverged)
                if self.n_active == 0:
                    return None
            rows.reset(restored)
            state = self.state
        if step == 0:
            # the loss just checked belongs to these weights: they are good
            self._snapshot = state.copy()
        self._gradient(rows, model.backward(rows.param_views, cache, grad_raw))
        state.t += 1
        np.copyto(self._lr_now, self._epoch["lr_table"][:, step])
        np.copyto(self._t_now, state.t)
        if rows.plain:
            # every member steps as plain gradient descent (the probe), whatever
            # its state: the optimizer's step without it
            rows.grad *= self._step_views[2][0]
            rows.params -= rows.grad
        elif rows.state is not None:
            lr_view, hyper_views, t_view = self._step_views[2]
            self.optimizer.step(rows.params, rows.grad, rows.state, lr_view,
                                hyper_views, t_view)
        else:
            for param, grad, opt_state in zip(state.params, self._grad_views,
                                              state.opt_state):
                lr_view, hyper_views, t_view = self._step_views[param.ndim]
                self.optimizer.step(param, grad, opt_state, lr_view, hyper_views,
                                    t_view)
        if self._l1_strength is not None:
            self._proximal_l1(rows.params, rows.state, rows.l1)
        state.samples += Yb.shape[0]
        rows.scatter(step)
        return loss

    def _minibatch_loss(self, state, rows, X, Yb, wb):
        """The loss of ``rows`` of ``state`` on a minibatch, as the step
        measures it but without dropout or touching batch-norm statistics."""
        params = [p[rows] for p in state.params]
        buffers = [b[rows] for b in state.buffers]
        raw, _ = self.model.forward(params, buffers, X, training=True,
                                    update_buffers=False)
        return self.loss(raw, Yb, wb, gradient=False)[0]

    def _sound(self, rows, loss, source):
        """Which of ``rows``, members whose ``loss`` on a minibatch is over
        their divergence limit, have weights that are not to blame.

        An outlier, a mislabelled sample in a small minibatch or a heavy tail
        gives a high loss at any weights, and backing off the learning rate
        cannot lower a loss measured before the step. So a finite loss over
        the limit is a divergence only if the weights went wrong on the
        training data at large too: on :data:`CHECK_SAMPLES` evenly spaced
        samples of ``source`` (the epoch's ``(X, data)``), their loss is
        over the limit, or over ``WORSE_FACTOR`` times that of the last good
        weights (the snapshot a divergence restores).
        """
        X, data = source
        n_samples = len(data.Y)
        positions = np.unique(np.linspace(0, n_samples - 1, min(n_samples, CHECK_SAMPLES))
                              .astype(np.intp))
        X_check, Y_check, weight = _training_rows(X, data, positions)
        total = weight.sum()
        weight = (weight / total if total > 0
                  else np.full(len(positions), 1 / len(positions), dtype=weight.dtype))
        now, before = (self._minibatch_loss(state, rows, X_check, Y_check, weight)
                       for state in (self.state, self._snapshot))
        return (np.isfinite(loss[rows]) & (now <= self._loss_limit[rows])
                & (now <= WORSE_FACTOR * before))

    def _lazy_rows(self, X, n_steps):
        """The lazy updater of an epoch on ``X`` (:class:`_LazyRows`), or None.

        Sparse input to a model whose first parameter's rows are the
        features' (``row_sparse``), with an optimizer that steps each
        coordinate alone and keeps its state in the parameters' layout;
        otherwise every step is dense.
        """
        if not (sp.issparse(X) and getattr(self.model, "row_sparse", False)
                and self._flat_state is not None and self.n_active
                and self._optimizer_probe()[0]):
            return None
        return _LazyRows(self, X.shape[1], n_steps)

    def _optimizer_probe(self):
        """``(coordinatewise, plain)`` of the optimizer (see :func:`_probe_optimizer`)."""
        if self._probe is None:
            self._probe = _probe_optimizer(self.optimizer, self._hyper, self.n_active,
                                           self.dtype)
        return self._probe

    def _lazy_rule(self):
        """What sparse epochs need to know of the members' penalties (cached).

        Returns ``(rows, decay, shrink, lazy)``. ``rows``: for the L2 and
        the L1 strength block, the strength of every member on the rows of
        W, shape ``(n_models, 1, n_outputs)`` in the dtype, or None if the
        penalty is absent or differs between features. ``decay`` and
        ``shrink``: the L2 and L1 strengths members apply to untouched rows
        (float64), those of members exact on sparse input (plain gradient
        descent with a penalty the same for every feature, and neither
        ``clip_norm`` with L2 nor ``average`` with L1), zero for members that
        update lazily. ``lazy``: 1 for the members that update lazily and
        have a penalty on W (they catch it up at a row's next touch), 0 for
        the others, shape ``(n_models, 1)`` in the dtype; None if there are
        none.
        """
        if self._lazy_strengths is None:
            weights = self.state.params[0]
            n_models, _, n_outputs = weights.shape
            plain = self._optimizer_probe()[1].copy()
            rows, strengths = [], []
            penalized = np.zeros(n_models, dtype=bool)
            for block in (self._l2_strength, self._l1_strength):
                row = None
                if block is not None:
                    entries = block[:, :weights[0].size].reshape(weights.shape)
                    penalized |= entries.any(axis=(1, 2))
                    constant = (entries == entries[:, :1]).all(axis=(1, 2))
                    plain &= constant
                    if constant.all():
                        row = entries[:, :1].copy()
                rows.append(row)
                strengths.append(np.zeros((n_models, 1, n_outputs)) if block is None
                                 else entries[:, :1].astype(np.float64))
            decay, shrink = strengths
            # no closed form at the cost of the touched rows: the clipped norm
            # includes every weight's decay; an average of soft-thresholded
            # weights depends on when each one reached zero
            plain &= ~(np.isfinite(self._clip_norm) & decay.any(axis=(1, 2)))
            plain &= ~(np.isfinite(self._average_start) & shrink.any(axis=(1, 2)))
            lazy = ~plain & penalized
            plain = _rows_view(plain, 3)
            self._lazy_strengths = (rows, decay * plain, shrink * plain,
                                    lazy[:, None].astype(self.dtype) if lazy.any()
                                    else None)
        return self._lazy_strengths

    def _average_iterates(self, params, average):
        """Fold this step's parameters into the running average of the iterates
        of every member past its averaging start; returns which members are."""
        state = self.state
        started = state.samples >= self._average_start
        state.n_averaged += started
        with np.errstate(divide="ignore"):
            weight = np.where(started, 1.0 / state.n_averaged, 0.0).astype(self.dtype)
        average += _rows_view(weight, 2) * (params - average)
        return started

    def _evaluation_params(self):
        """The parameters predictions and validation use, per member.

        The running average for members that average their iterates; the
        optimizer's evaluation point for those whose gradients are taken
        elsewhere (schedule-free methods); the parameters otherwise.
        """
        state = self.state
        params = self.optimizer.evaluation_point(state.params, state.opt_state)
        if params is None:
            params = state.params
        if state.average:
            averaged = state.n_averaged > 0
            if averaged.any():
                params = [np.where(_rows_view(averaged, p.ndim), a, p)
                          for p, a in zip(params, state.average)]
        return params

    def _set_reference_loss(self, loss):
        """The first minibatch loss of each model sets its divergence limit."""
        first = np.isnan(self._reference_loss)
        self._reference_loss[first] = loss[first]
        self._loss_limit[:] = DIVERGENCE_FACTOR * np.maximum(self._reference_loss, 1.0)
        self._reference_missing = bool(np.isnan(self._reference_loss).any())

    def _gradient(self, rows, grads):
        """Write the gradient of the objective into ``rows.grad``: the loss
        gradients ``grads`` (one per parameter array) plus the L2 term, its
        norm clipped."""
        grad = rows.grad
        if self._gradient_scale is not None:
            # the L2 strengths hold the scale already; the loss part gets it here
            grads = [part if factor is None else part * factor
                     for part, factor in zip(grads, self._gradient_scale)]
        if rows.l2 is None:
            for view, part in zip(rows.grad_views, grads):
                np.copyto(view, part)
        else:
            # the L2 term over the whole block, then each array's loss
            # gradient added: one pass fewer than copying and adding the term
            np.multiply(rows.l2, rows.params, out=grad)
            for view, part in zip(rows.grad_views, grads):
                view += part
        if self._has_clip:
            norm = np.sqrt(np.einsum("kf,kf->k", grad, grad))
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.minimum(1.0, self._clip_norm / norm)
            scale[~np.isfinite(scale)] = 1.0
            grad *= _rows_view(scale.astype(self.dtype), 2)

    def _proximal_l1(self, params, state, l1_strength):
        """Soft-threshold penalized weights: exact zeros for the L1 penalty.

        Each entry shrinks by the step size the optimizer just gave it (its
        preconditioner), so the fixed points are the L1 problem's optimum
        for adaptive optimizers too. Without optimizer state laid out like
        the parameters (a custom optimizer's, or none kept: a plain stack's
        sparse steps), ``state`` is None and the shrinkage is the learning
        rate's.
        """
        lr_view, hyper_views, t_view = self._step_views[2]
        threshold = lr_view * l1_strength
        if state is not None:
            factor = self.optimizer.preconditioner(state, hyper_views, t_view)
            if factor is not None:
                threshold *= factor
        magnitude = np.abs(params)
        magnitude -= threshold
        np.maximum(magnitude, 0, out=magnitude)
        np.copysign(magnitude, params, out=params)

    def _handle_divergence(self, rows):
        """Restore diverged models to the epoch start and back off, stop or fail."""
        epoch = self._epoch
        self.state.put(rows, self._snapshot)
        point = self.optimizer.evaluation_point(self.state.params, self.state.opt_state)
        if point is not None:
            # the check saw the loss where gradients are taken, not every point
            # the state holds (a schedule-free z may already be running away):
            # go on from the point training returns
            self.optimizer.restart(self.state.params, self.state.opt_state, point,
                                   rows)
        epoch["loss_sum"][rows] = 0.0
        epoch["weight_sum"][rows] = 0.0

        stop_rows, error_rows = [], []
        for row in rows:
            member = self._rows[row]
            record = self.records[member]
            record.n_divergences += 1
            record.divergence_epochs.append(self.epoch)
            record.divergence_learning_rates.append(self._rate_in_use(row))
            policy = self.members[member].on_divergence
            if policy == "raise":
                error_rows.append(row)
            elif policy == "stop" or record.n_divergences > MAX_BACKOFFS:
                stop_rows.append(row)
            else:
                self._lr_divisor[row] *= 10
                record.backoffs += 1
                epoch["lr_table"][row] /= 10
        if error_rows:
            self._finish(error_rows, "error")
            stop_rows = [r - sum(e < r for e in error_rows) for r in stop_rows]
        self._finish(stop_rows, "diverged")

    def _end_epoch(self, data, epoch, stopping, verbose, seconds):
        """Record the epoch, apply the stopping rule, step loss-aware schedules."""
        self.epoch += 1
        penalty = self._penalty()
        scale = self.loss_scale
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            # reported in the user's units; the stopping rule uses the unscaled
            train_loss = (epoch["loss_sum"] / epoch["weight_sum"] + penalty) * scale
        if data.has_validation:
            evaluated = self._evaluation_params()
            raw, _ = self.model.forward(evaluated, self.state.buffers, data.X_val)
            w_val = data.sample_weight_val / data.sample_weight_val.sum()
            with np.errstate(over="ignore", invalid="ignore"):
                val_loss = self.loss(raw, data.Y_val, w_val, gradient=False)[0]
                val_loss = (val_loss + penalty) * scale
                val_score = data.scorer(raw, data.Y_val, data.sample_weight_val)

        improved_rows = []
        converged_rows = []
        for row, member in enumerate(self._rows):
            record = self.records[member]
            config = self.members[member]
            record.n_iter += 1
            record.t = int(self.state.t[row])
            self._record_rate(row, record)
            record.learning_rate_curve.append(
                float(epoch["lr_table"][row, -1] * self._rate_unit[row]))
            loss = float(train_loss[row])
            if not np.isfinite(loss):
                # the epoch was undone: its weights are the previous epoch's,
                # or the initial ones, whose loss the first minibatch measured
                loss = (record.loss_curve[-1] if record.loss_curve
                        else float(self._reference_loss[row]) * scale)
            record.loss_curve.append(loss)
            if np.isfinite(loss) and loss < record.best_loss:
                improvement = (record.best_loss - loss) / scale
                record.best_loss = loss
            else:
                improvement = -np.inf
            watched = loss
            if data.has_validation:
                score = float(val_score[row])
                watched = float(val_loss[row])
                record.validation_scores.append(score)
                record.validation_loss_curve.append(watched)
                improvement = score - record.best_validation_score
                if score > record.best_validation_score:
                    record.best_validation_score = score
                    improved_rows.append(row)
            self.schedule_states[member] = config.schedule.observe(
                self.schedule_states[member], watched)
            if config.tol is not None:
                # scikit-learn's rule: improving by less than tol is no improvement
                if improvement > config.tol:
                    record.no_improvement = 0
                else:
                    record.no_improvement += 1
                if stopping and record.no_improvement > config.n_iter_no_change:
                    converged_rows.append(row)
            if verbose:
                self._print_epoch(member, record, seconds)
        if improved_rows:
            for best, param in zip(self._best_params, evaluated):
                best[improved_rows] = param[improved_rows]
        self._finish(converged_rows, "converged")

    def _penalty(self):
        """The penalty term of each model's objective (weighted, unscaled)."""
        penalty = np.zeros(len(self._rows), dtype=np.float64)
        for penalized, param, l2, l1 in zip(self.model.penalized, self.state.params,
                                            *self._penalty_weights):
            if penalized:
                flat = param.reshape(len(self._rows), -1)
                with np.errstate(over="ignore", invalid="ignore"):
                    penalty += 0.5 * self._alpha_l2 * ((flat * flat) @ l2.ravel())
                    penalty += self._alpha_l1 * (np.abs(flat) @ l1.ravel())
        return penalty

    def _base_rate(self, row):
        """The rate ``row`` was configured with, in the estimator's units."""
        member = self.members[self._rows[row]]
        return float(member.learning_rate) * member.rate_unit

    def _rate_in_use(self, row):
        """The base rate after back-offs, in the estimator's units, divided in
        float64: 3 -> 0.3, not 0.30000000000000004."""
        return self._base_rate(row) / float(self._lr_divisor[row])

    def _record_rate(self, row, record):
        record.learning_rate = self._rate_in_use(row)
        record.base_learning_rate = self._base_rate(row)

    def _print_epoch(self, member, record, seconds):
        prefix = f"[model {member}] " if len(self.members) > 1 else ""
        line = f"{prefix}Epoch {record.n_iter}, loss = {record.loss_curve[-1]:.6g}"
        if record.validation_scores:
            line += f", validation score = {record.validation_scores[-1]:.6g}"
        line += (f", learning rate = {record.learning_rate_curve[-1]:.3g}"
                 f", {seconds:.2f} s")
        print(line)
