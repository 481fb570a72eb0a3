"""Training the candidates of a search together: grouping, one fold's stacks, scoring.

A search turns its candidates (estimator clones with their parameters set)
into *groups* that may share a :class:`~sklr._engine.Stack`: everything that
is not a per-model number or schedule must be equal (model structure,
optimizer type, batch size, ``max_iter``, ``random_state``, preprocessing,
...). For every (group, CV fold) a :class:`FoldStacks` prepares each
candidate on the fold's data, trains them as one stack and scores each
trained member exactly as ``GridSearchCV`` scores a separately fitted clone.
Every (group, fold) works on clones of its own: folds run at the same time in
threads, or one after the other in the rounds of the halving search, and none
may fit, plan or set the fitted attributes of another's estimators. The
warnings of each fit are collected in the worker and returned with its
results, for the search to summarize.
"""

import numbers
import threading
import time
import warnings
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from traceback import format_exc

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from sklr._base import BaseSKLR
from sklr._callbacks import stack_callbacks
from sklr._engine import Stack
from sklr.exceptions import DivergenceError

# Hyperparameters a member of a stack may have of its own (see MemberConfig).
# The optimizer's class and structural flags are checked after preparation.
PER_MEMBER_PARAMS = frozenset({
    "learning_rate", "schedule", "optimizer", "alpha", "l1_ratio", "penalty",
    "tol", "n_iter_no_change", "clip_norm", "on_divergence", "average",
})


def check_lockstep_estimator(estimator, search_name):
    """Raise a ``ValueError`` unless ``estimator`` is sklr's or a Pipeline ending in one."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(final, BaseSKLR):
        raise ValueError(
            f"{search_name} trains sklr estimators (or Pipelines ending in one) "
            f"together in one stack; got {type(final).__name__}. Use "
            "sklearn.model_selection.GridSearchCV or RandomizedSearchCV for "
            "other estimators."
        )


def _freeze(value):
    """A hashable, comparable stand-in for a parameter value."""
    if isinstance(value, BaseEstimator):
        return (type(value), _freeze(value.get_params(deep=False)))
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.random.RandomState):
        return ("RandomState", _freeze(value.get_state()))
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def group_key(candidate):
    """What candidates must share to be trained in one stack."""
    if isinstance(candidate, Pipeline):
        *prefix, (name, final) = candidate.steps
        others = {k: v for k, v in candidate.get_params(deep=False).items()
                  if k != "steps"}
        return (_freeze(prefix), _freeze(others), name, group_key(final))
    params = candidate.get_params(deep=False)
    return (type(candidate), _freeze(
        {k: v for k, v in params.items() if k not in PER_MEMBER_PARAMS}))


def group_candidates(candidates):
    """Indices of the candidates, grouped by :func:`group_key`, in first-seen order."""
    groups = {}
    for index, candidate in enumerate(candidates):
        groups.setdefault(group_key(candidate), []).append(index)
    return list(groups.values())


def balance_groups(groups, n_splits, n_workers):
    """Split groups so that the (group, fold) stacks divide evenly among workers.

    Three folds on two workers would leave one worker training two stacks
    while the other idles for half the search. Splitting every group into
    ``n_workers`` parts makes the count a multiple of ``n_workers``; a stack
    of fewer candidates costs little more per candidate, since most of an
    MLP step's work grows with the number of models.
    """
    if n_workers <= 1 or (len(groups) * n_splits) % n_workers == 0:
        return groups
    return [[int(i) for i in part] for ids in groups
            for part in np.array_split(ids, min(n_workers, len(ids)))]


def take(values, indices):
    """Rows ``indices`` of an array, sparse matrix, DataFrame or list."""
    if values is None:
        return None
    if hasattr(values, "iloc"):
        return values.iloc[indices]
    if hasattr(values, "shape"):
        return values[indices]
    return [values[i] for i in indices]


def row_major(X):
    """``X`` with C-ordered values, if it holds floats in Fortran order.

    Each candidate's plan brings its X to the C order the training loop reads
    (see ``_training_layout``). Given a Fortran-ordered X, as any float
    DataFrame is, every candidate of a stack would make a copy of its own,
    all alive at once; converted here, once for all of them, they copy
    nothing. A DataFrame stays one (same index and columns), so that the
    estimators still learn its feature names. Anything else is returned as
    it is.
    """
    if hasattr(X, "iloc"):
        dtypes = set(X.dtypes)
        if len(dtypes) != 1 or not all(
                isinstance(dtype, np.dtype) and dtype.kind == "f" for dtype in dtypes):
            return X
        values = X.to_numpy()
        if values.flags.c_contiguous or not values.flags.f_contiguous:
            return X
        return type(X)(np.ascontiguousarray(values), index=X.index,
                       columns=X.columns, copy=False)
    if (isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f"
            and not X.flags.c_contiguous):
        return np.ascontiguousarray(X)
    return X


def n_samples(values):
    """Number of rows of an array, sparse matrix, DataFrame or list."""
    shape = getattr(values, "shape", None)
    return shape[0] if shape is not None and len(shape) else len(values)


def _per_sample(value, n_rows):
    """Whether ``value`` holds one entry per sample, like scikit-learn's
    searches decide which fit and score parameters to index by fold."""
    if isinstance(value, str | bytes | dict) or not (
            hasattr(value, "__len__") or hasattr(value, "shape")):
        return False
    try:
        return n_samples(value) == n_rows
    except TypeError:
        return False


def fold_params(params, indices, n_rows):
    """``params`` for the samples ``indices`` of ``n_rows``: per-sample values
    are indexed, the others passed as they are."""
    return {name: take(value, indices) if _per_sample(value, n_rows) else value
            for name, value in params.items()}


@dataclass
class Metadata:
    """What a search passes to the fits and scorers besides ``X`` and ``y``.

    Routed as scikit-learn's searches route their fit parameters (see
    :func:`sklr.model_selection._setup.search_inputs`); per-sample values
    hold one entry per sample of ``X`` and are indexed per fold.

    Attributes
    ----------
    sample_weight : array-like or None
        Sample weights of the final sklr estimator.
    prefix_params : dict
        Fit parameters of a pipeline's preprocessing steps, named as the
        pipeline's ``fit`` takes them.
    score_params : dict
        Parameters of the scorers, e.g. ``sample_weight``.
    """

    sample_weight: object = None
    prefix_params: dict = field(default_factory=dict)
    score_params: dict = field(default_factory=dict)


@dataclass
class Scoring:
    """How the trained candidates of a fold are scored.

    Attributes
    ----------
    scorer : callable
        One scorer, or scikit-learn's multi-metric scorer (from
        ``check_scoring``) returning a dict of scores by name.
    multimetric : bool
        Whether ``scorer`` is the multi-metric scorer.
    error_score : "raise" or float
        The score of a failed fit or scorer.
    return_train_score : bool
        Score the training part of the fold too.
    native : bool
        ``scoring=None``: compute the estimators' own ``score`` for a whole
        stack at once.
    """

    scorer: object
    multimetric: bool
    error_score: object
    return_train_score: bool
    native: bool


# ------------------------------------------------------------------ warnings
# ``warnings.catch_warnings`` swaps process-wide state, so it is unsafe in
# threads: a thread leaving it restores what another thread had replaced, and
# warnings get lost or captured for good. Instead, the first collector of the
# process installs one hook and the last one removes it; the hook hands every
# warning to the collector of the thread that issued it.
_COLLECTORS = threading.local()
_HOOK_LOCK = threading.Lock()
_HOOK = {"users": 0, "showwarning": None, "filters": None}


def _show(message, category, filename, lineno, file=None, line=None):
    caught = getattr(_COLLECTORS, "caught", None)
    if caught is None:
        _HOOK["showwarning"](message, category, filename, lineno, file, line)
    else:
        caught.append((category, str(message), filename, lineno))


@contextmanager
def collected_warnings():
    """Collect the warnings this thread issues instead of showing them.

    Yields a list that receives ``(category, message, filename, lineno)``
    for each warning. While any thread collects, every warning passes the
    filters (``"always"``), so that each fit's warnings are counted even
    when the same message was shown before; the search applies the user's
    filters when it reports them.
    """
    with _HOOK_LOCK:
        if _HOOK["users"] == 0:
            _HOOK["showwarning"], _HOOK["filters"] = warnings.showwarning, warnings.filters
            warnings.filters = list(warnings.filters)
            warnings.simplefilter("always")
            warnings.showwarning = _show
        _HOOK["users"] += 1
    outer = getattr(_COLLECTORS, "caught", None)
    caught = _COLLECTORS.caught = []
    try:
        yield caught
    finally:
        _COLLECTORS.caught = outer
        with _HOOK_LOCK:
            _HOOK["users"] -= 1
            if _HOOK["users"] == 0:
                warnings.showwarning, warnings.filters = _HOOK["showwarning"], _HOOK["filters"]


class FoldStacks:
    """The candidates of one group, trained together on one CV fold.

    Candidates whose optimizer class or model structure differ after
    resolution (e.g. ``"sgd"`` next to ``"nesterov"``) go into separate
    stacks of this fold; usually there is one.

    Parameters
    ----------
    candidates : list of estimator
        Unfitted estimators with their parameters set (sklr estimators or
        Pipelines ending in one), all with the same :func:`group_key`; the
        object keeps clones of its own.
    ids : list of int
        Index of each candidate in the search.
    fold : int
        Index of the CV split.
    train, test : ndarray of int
        Sample indices of the split.
    """

    def __init__(self, candidates, ids, fold, train, test):
        # a fold's estimators are fitted, planned and scored by this object
        # only: the folds of one candidate may be trained at the same time
        self.candidates = [clone(candidate) for candidate in candidates]
        self.ids = list(ids)
        self.fold = fold
        self.train_idx = train
        self.test_idx = test
        self.epochs = 0
        self.finals = [c.steps[-1][1] if isinstance(c, Pipeline) else c
                       for c in self.candidates]
        # the warnings of each candidate's fit, until its results report them
        self.warnings = [[] for _ in self.candidates]
        # the search's task for each candidate's fit (by position), and the
        # search, for scikit-learn's callbacks (see SearchTasks.assign)
        self.tasks, self.caller = {}, None

    @property
    def max_iter(self):
        """The epoch budget of the group (``max_iter`` is shared by a group)."""
        return self.finals[0].max_iter

    @contextmanager
    def _warnings_of(self, positions):
        """Collect the warnings issued inside for the candidates at ``positions``."""
        with collected_warnings() as caught:
            yield
        for position in positions:
            self.warnings[position].extend(caught)

    # ------------------------------------------------------------- prepare
    def prepare(self, X, y, metadata, error_score):
        """Fit the shared preprocessing and build the stacks on the fold's training data.

        A failure (of the preprocessing or of one candidate's checks) is
        raised with ``error_score="raise"`` and otherwise recorded for the
        candidates it concerns, which then get ``error_score``.
        """
        start = time.perf_counter()
        self.metadata = metadata
        everyone = range(len(self.candidates))
        self.errors, self.stacks, self.active = {}, [], set()
        self.prefix = None
        # the stack gathers the fold's rows from X: no copy per fold
        X_train, y_train, weights, rows = X, y, metadata.sample_weight, self.train_idx
        if isinstance(self.candidates[0], Pipeline):
            try:
                with self._warnings_of(everyone):
                    X_train, y_train = self._fit_prefix(X, y)
                X_train = row_major(X_train)
            except Exception:
                if error_score == "raise":
                    raise
                self.errors = dict.fromkeys(everyone, format_exc())
            weights, rows = take(weights, self.train_idx), None
        by_structure = {}
        self._training = (X_train, y_train, weights, rows)
        validated = False
        for position, estimator in enumerate(self.finals):
            if position in self.errors:
                continue
            try:
                # every candidate sees the same rows: once they passed the
                # finiteness checks, checking them again for each one is waste
                with self._warnings_of([position]), config_context(
                        assume_finite=validated):
                    plan = estimator._plan(X_train, y_train, weights, rows=rows)
            except Exception:
                if error_score == "raise":
                    raise
                self.errors[position] = format_exc()
                continue
            validated = True
            key = (plan.model.structure_key(), plan.member.optimizer.structure_key())
            by_structure.setdefault(key, []).append((position, plan))
        for entries in by_structure.values():
            plans = [plan for _, plan in entries]
            # the stack trains on its first member's data and plan
            self.stacks.append({
                "stack": Stack.from_plans(plans), "plan": plans[0],
                "positions": [position for position, _ in entries],
            })
        # preparation is shared, so every candidate is charged an equal part
        share = (time.perf_counter() - start) / len(self.candidates)
        self.fit_seconds = dict.fromkeys(everyone, share)
        self.active = {position for entry in self.stacks
                       for position in entry["positions"]}
        return self

    def _fit_prefix(self, X, y):
        """Fit the pipeline's preprocessing on the training part; return it transformed.

        One fit per (group, fold), shared by the members of its stacks: the
        steps are those of this object's own first candidate.
        """
        first = self.candidates[0]
        settings = {k: v for k, v in first.get_params(deep=False).items() if k != "steps"}
        self.prefix = Pipeline(first.steps[:-1], **settings)
        params = fold_params(self.metadata.prefix_params, self.train_idx, n_samples(X))
        y_train = take(y, self.train_idx)
        return (self.prefix.fit_transform(take(X, self.train_idx), y_train, **params),
                y_train)

    # --------------------------------------------------------------- train
    def train(self, n_epochs, horizon, stopping=True):
        """Train every stack for ``n_epochs`` more epochs; store all members' state."""
        for entry in self.stacks:
            stack = entry["stack"]
            active = [(row, position) for row, position in enumerate(entry["positions"])
                      if position in self.active]
            data = self._fit_data()
            members = [(row, self.finals[position], self.tasks.get(position), data)
                       for row, position in active]
            start = time.perf_counter()
            with self._warnings_of([position for _, position in active]):
                with stack_callbacks(members, n_epochs, self.caller) as on_epoch:
                    stack.train(entry["plan"].data, n_epochs, horizon=horizon,
                                stopping=stopping, on_epoch=on_epoch)
                stack.finalize()
            seconds = time.perf_counter() - start
            # one pass trains all active members: each is charged an equal part
            for row, position in active:
                self.fit_seconds[position] += seconds / len(active)
                if stack.records[row].status != "training":
                    self.active.discard(position)
        self.epochs += n_epochs
        return self

    def _fit_data(self):
        """What each candidate's fit trains on, as the callbacks' ``X``, ``y``
        and ``metadata``: built on first use, since most fits have no callbacks."""
        X, y, weights, rows = self._training
        parts = {}

        def part(name, values):
            if name not in parts:
                parts[name] = values if rows is None else take(values, rows)
            return parts[name]

        return {"X": lambda: part("X", X), "y": lambda: part("y", y),
                "metadata": lambda: (None if weights is None else
                                     {"sample_weight": part("w", weights)})}

    def select(self, keep_ids):
        """Keep training only the candidates ``keep_ids`` (search indices)."""
        keep = set(keep_ids)
        self.active = {p for p in self.active if self.ids[p] in keep}
        for entry in self.stacks:
            members = [row for row, position in enumerate(entry["positions"])
                       if self.ids[position] in keep]
            entry["stack"].select(members)
        return self

    # --------------------------------------------------------------- score
    def score(self, X, y, scoring, *, keep_ids=None, final=True):
        """Score every trained candidate (or only ``keep_ids``) on the fold.

        Returns a list of dicts, one per candidate, with ``id``, ``fold``,
        ``fit_time``, ``score_time``, ``test_scores`` and ``train_scores``
        (dicts by scorer name, or ``None`` after a failed fit), ``error``
        (the failure's traceback, or ``None``), ``curves`` and ``warnings``
        (those of the candidate's fit and scoring since the last call).
        ``final`` issues the warnings a finished ``fit`` issues
        (convergence, back-offs).
        """
        results, to_score = [], []
        located = {position: (entry, row) for entry in self.stacks
                   for row, position in enumerate(entry["positions"])}
        for position, candidate_id in enumerate(self.ids):
            if keep_ids is not None and candidate_id not in keep_ids:
                continue
            result = {"id": candidate_id, "fold": self.fold, "score_time": 0.0,
                      "fit_time": self.fit_seconds[position],
                      "test_scores": None, "train_scores": None, "error": None,
                      "curves": None, "position": position}
            results.append(result)
            self.fit_seconds[position] = 0.0
            if position in self.errors:
                result["error"] = self.errors[position]
                continue
            entry, row = located[position]
            stack = entry["stack"]
            record = stack.records[row]
            result["curves"] = {
                "loss_curve": list(record.loss_curve),
                "validation_scores": list(record.validation_scores) or None,
                "learning_rate_curve": list(record.learning_rate_curve),
                "n_iter": record.n_iter,
                "n_divergences": record.n_divergences,
                "status": record.status,
            }
            estimator = self.finals[position]
            estimator._set_fitted(stack, row, entry["plan"])
            try:
                self._warn(estimator, record, final, position)
            except DivergenceError:
                if scoring.error_score == "raise":
                    raise
                result["error"] = format_exc()
                continue
            fitted = estimator
            if self.prefix is not None:
                name = self.candidates[position].steps[-1][0]
                fitted = Pipeline(self.prefix.steps + [(name, estimator)])
            to_score.append((result, position, fitted))
        splits = [("test_scores", self.test_idx)]
        if scoring.return_train_score:
            splits.append(("train_scores", self.train_idx))
        for key, indices in splits:
            self._score_split(key, indices, X, y, scoring, to_score)
        for result in results:
            result["warnings"] = self.warnings[result.pop("position")]
        self.warnings = [[] for _ in self.candidates]
        return results

    def _score_split(self, key, indices, X, y, scoring, to_score):
        """Store ``key`` (``"test_scores"`` or ``"train_scores"``) of ``to_score``."""
        X_eval, y_eval = take(X, indices), take(y, indices)
        params = fold_params(self.metadata.score_params, indices, n_samples(X))
        positions = [position for _, position, _ in to_score]
        start = time.perf_counter()
        native = None
        if scoring.native and to_score:
            with self._warnings_of(positions):
                native = self._native_scores(X_eval, y_eval, params, positions)
        share = (time.perf_counter() - start) / max(len(to_score), 1)
        for result, position, fitted in to_score:
            start = time.perf_counter()
            if native is not None:
                result[key] = {"score": native[position]}
            else:
                with self._warnings_of([position]):
                    result[key] = score_fitted(scoring, fitted, X_eval, y_eval, params)
            if key == "test_scores":
                result["score_time"] = time.perf_counter() - start + share

    def _native_scores(self, X, y, params, positions):
        """The estimators' ``score`` (accuracy or R^2) of the members at
        ``positions``, from one forward pass per stack rather than one
        ``predict`` and one metric call per candidate.

        Returns ``None`` when the scorers must handle it: score parameters
        other than ``sample_weight``, labels the fold cannot encode (a class
        the training part never saw), or any failure, to which the scorers
        then apply ``error_score`` as ``GridSearchCV`` does.
        """
        if set(params) - {"sample_weight"}:
            return None
        lead = self.finals[positions[0]]
        try:
            if self.prefix is not None:
                X = self.prefix.transform(X)
            X = lead._check_input(X)
            Y = lead._encode_targets(np.asarray(y), True, None, False, None,
                                     validation=True)
        except Exception:  # noqa: BLE001  (the scorers meet it and handle it)
            return None
        sample_weight = params.get("sample_weight")
        weights = (np.ones(Y.shape[0]) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64))
        wanted = set(positions)
        scores = {}
        for entry in self.stacks:
            rows = [(row, p) for row, p in enumerate(entry["positions"]) if p in wanted]
            if not rows:
                continue
            members = [entry["stack"].member_params(row) for row, _ in rows]
            stacked = [np.concatenate(arrays) for arrays in zip(*(m[0] for m in members))]
            buffers = [np.concatenate(arrays)
                       for arrays in zip(*(m[1] for m in members))]
            raw, _ = entry["plan"].model.forward(stacked, buffers, X)
            values = lead._validation_score(raw, Y.astype(raw.dtype), weights)
            scores.update((p, float(v)) for (_, p), v in zip(rows, values))
        return scores

    def _warn(self, estimator, record, final, position):
        """Raise for a diverged ``"raise"`` member; warn as ``fit`` would when ``final``."""
        if final:
            with self._warnings_of([position]):
                estimator._warn_about(record, incremental=False)
        elif record.status == "error":
            # an unfinished member's warnings are not yet due: only the error is
            with collected_warnings():
                estimator._warn_about(record, incremental=False)


def _scoring_failed(error_score, details):
    return ("Scoring failed. The score on this train-test partition for these "
            f"parameters will be set to {error_score}. Details: \n{details}")


def _number(score, name):
    """``score`` as a Python number, or the ``ValueError`` scikit-learn raises."""
    if hasattr(score, "item"):
        with suppress(ValueError):
            # e.g. a numpy scalar
            score = score.item()
    if not isinstance(score, numbers.Number):
        raise ValueError(f"scoring must return a number, got {score!r} "
                         f"({type(score)}) instead. (scorer={name})")
    return score


def score_fitted(scoring, estimator, X, y, params):
    """Scores of a fitted candidate by name, as scikit-learn's searches compute them.

    A single scorer's name is ``"score"``. A scorer that fails gets
    ``error_score`` with scikit-learn's ``UserWarning``, or raises with
    ``error_score="raise"``; the multi-metric scorer reports the failures of
    its scorers itself.
    """
    try:
        scores = scoring.scorer(estimator, X, y, **params)
    except Exception:
        if scoring.error_score == "raise" or scoring.multimetric:
            raise
        warnings.warn(_scoring_failed(scoring.error_score, format_exc()), UserWarning,
                      stacklevel=2)
        scores = scoring.error_score
    if not isinstance(scores, dict):
        return {"score": _number(scores, scoring.scorer)}
    scores = dict(scores)
    for name, score in scores.items():
        if isinstance(score, str):
            # the multi-metric scorer's traceback of a scorer that failed
            warnings.warn(_scoring_failed(scoring.error_score, score), UserWarning,
                          stacklevel=2)
            score = scoring.error_score
        scores[name] = _number(score, name)
    return scores


def run_fold(job, X, y, metadata, scoring):
    """Prepare, train for ``max_iter`` and score one (group, fold): the lockstep unit."""
    job.prepare(X, y, metadata, scoring.error_score)
    job.train(job.max_iter, job.max_iter, stopping=True)
    return job.score(X, y, scoring)
