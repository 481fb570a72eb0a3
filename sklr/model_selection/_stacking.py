"""Training the candidates of a search together: grouping, one fold's stacks, scoring.

A search turns its candidates (estimator clones with their parameters set)
into *groups* that may share a :class:`~sklr._engine.Stack`: everything that
is not a per-model number or schedule must be equal (model structure,
optimizer type, batch size, ``max_iter``, ``random_state``, preprocessing,
...). For every (group, CV fold) a :class:`FoldStacks` prepares each
candidate on the fold's data, trains them as one stack and scores each
trained member exactly as ``GridSearchCV`` scores a separately fitted clone.
"""

import time
import warnings

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline

from sklr._base import BaseSKLR
from sklr._compat import scorer_accepts_sample_weight
from sklr._engine import Stack
from sklr.exceptions import DivergenceError

# Hyperparameters a member of a stack may have of its own (see MemberConfig).
# The optimizer's class and structural flags are checked after preparation.
PER_MEMBER_PARAMS = frozenset({
    "learning_rate", "schedule", "optimizer", "alpha", "l1_ratio", "penalty",
    "tol", "n_iter_no_change", "clip_norm", "on_divergence",
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


def split_sample_weight(estimator, fit_params):
    """The sample weights among ``fit_params``, the only fit parameter supported."""
    name = (f"{estimator.steps[-1][0]}__sample_weight"
            if isinstance(estimator, Pipeline) else "sample_weight")
    unknown = set(fit_params) - {name}
    if unknown:
        raise ValueError(
            f"The lockstep searches accept only the fit parameter {name!r}; got "
            f"{sorted(unknown)}. Use GridSearchCV for other fit parameters."
        )
    weights = fit_params.get(name)
    return None if weights is None else np.asarray(weights)


class FoldStacks:
    """The candidates of one group, trained together on one CV fold.

    Candidates whose optimizer class or model structure differ after
    resolution (e.g. ``"sgd"`` next to ``"nesterov"``) go into separate
    stacks of this fold; usually there is one.

    Parameters
    ----------
    candidates : list of estimator
        Unfitted clones with their parameters set (sklr estimators or
        Pipelines ending in one), all with the same :func:`group_key`.
    ids : list of int
        Index of each candidate in the search.
    fold : int
        Index of the CV split.
    train, test : ndarray of int
        Sample indices of the split.
    """

    def __init__(self, candidates, ids, fold, train, test):
        self.candidates = candidates
        self.ids = list(ids)
        self.fold = fold
        self.train_idx = train
        self.test_idx = test
        self.epochs = 0
        self.finals = [c.steps[-1][1] if isinstance(c, Pipeline) else c
                       for c in candidates]

    @property
    def max_iter(self):
        """The epoch budget of the group (``max_iter`` is shared by a group)."""
        return self.finals[0].max_iter

    # ------------------------------------------------------------- prepare
    def prepare(self, X, y, sample_weight):
        """Fit the shared preprocessing and build the stacks on the fold's training data."""
        start = time.perf_counter()
        self.sample_weight = sample_weight
        first = self.candidates[0]
        self.prefix = None
        if isinstance(first, Pipeline):
            # one preprocessing fit per fold, shared by every member
            self.prefix = Pipeline(first.steps[:-1])
            y_train = take(y, self.train_idx)
            X_train = self.prefix.fit_transform(take(X, self.train_idx), y_train)
            weights, rows = take(sample_weight, self.train_idx), None
        else:
            # the stack gathers the fold's rows from X: no copy per fold
            X_train, y_train, weights, rows = X, y, sample_weight, self.train_idx
        self.errors = {}
        by_structure = {}
        validated = False
        for position, estimator in enumerate(self.finals):
            try:
                # every candidate sees the same rows: once they passed the
                # finiteness checks, checking them again for each one is waste
                with config_context(assume_finite=validated):
                    plan = estimator._plan(X_train, y_train, weights, rows=rows)
            except Exception as error:  # noqa: BLE001  (GridSearchCV's error_score)
                self.errors[position] = error
                continue
            validated = True
            key = (plan.model.structure_key(), plan.member.optimizer.structure_key())
            by_structure.setdefault(key, []).append((position, plan))
        self.stacks = []
        for entries in by_structure.values():
            plans = [plan for _, plan in entries]
            # the stack trains on its first member's data and plan
            self.stacks.append({
                "stack": Stack.from_plans(plans), "plan": plans[0],
                "positions": [position for position, _ in entries],
                "seconds": 0.0,
            })
        # preparation is shared, so every candidate is charged an equal part
        share = (time.perf_counter() - start) / len(self.candidates)
        self.fit_seconds = dict.fromkeys(range(len(self.candidates)), share)
        self.active = {position for entry in self.stacks
                       for position in entry["positions"]}
        return self

    # --------------------------------------------------------------- train
    def train(self, n_epochs, horizon, stopping=True):
        """Train every stack for ``n_epochs`` more epochs; store all members' state."""
        for entry in self.stacks:
            stack = entry["stack"]
            active = [(row, position) for row, position in enumerate(entry["positions"])
                      if position in self.active]
            start = time.perf_counter()
            stack.train(entry["plan"].data, n_epochs, horizon=horizon,
                        stopping=stopping)
            stack.finalize()
            seconds = time.perf_counter() - start
            # one pass trains all active members: each is charged an equal part
            for row, position in active:
                self.fit_seconds[position] += seconds / len(active)
                if stack.records[row].status != "training":
                    self.active.discard(position)
        self.epochs += n_epochs
        return self

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
    def score(self, X, y, scorers, *, return_train_score, error_score,
              keep_ids=None, final=True, native_score=False):
        """Score every trained candidate (or only ``keep_ids``) on the fold.

        Returns a list of dicts, one per candidate, with ``id``, ``fold``,
        ``fit_time``, ``score_time``, ``test_scores`` and ``train_scores``
        (dicts by scorer name, or ``None`` after a failed fit), ``error``
        and ``curves``. ``final`` issues the warnings a finished ``fit``
        issues (convergence, back-offs). ``native_score`` (``scoring=None``)
        computes the estimators' own ``score`` for a whole stack at once.
        """
        X_test, y_test = take(X, self.test_idx), take(y, self.test_idx)
        w_test = take(self.sample_weight, self.test_idx)
        if return_train_score:
            X_train, y_train = take(X, self.train_idx), take(y, self.train_idx)
            w_train = take(self.sample_weight, self.train_idx)
        results, to_score = [], []
        located = {position: (entry, row) for entry in self.stacks
                   for row, position in enumerate(entry["positions"])}
        for position, candidate_id in enumerate(self.ids):
            if keep_ids is not None and candidate_id not in keep_ids:
                continue
            result = {"id": candidate_id, "fold": self.fold, "score_time": 0.0,
                      "fit_time": self.fit_seconds[position],
                      "test_scores": None, "train_scores": None, "error": None,
                      "curves": None}
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
                self._warn(estimator, record, final)
            except DivergenceError as error:
                result["error"] = error
                continue
            fitted = estimator
            if self.prefix is not None:
                name = self.candidates[position].steps[-1][0]
                fitted = Pipeline(self.prefix.steps + [(name, estimator)])
            to_score.append((result, position, fitted))
        splits = [("test_scores", X_test, y_test, w_test)]
        if return_train_score:
            splits.append(("train_scores", X_train, y_train, w_train))
        for key, X_eval, y_eval, w_eval in splits:
            start = time.perf_counter()
            native = (self._native_scores(X_eval, y_eval, w_eval,
                                          [position for _, position, _ in to_score])
                      if native_score and to_score else None)
            share = (time.perf_counter() - start) / max(len(to_score), 1)
            for result, position, fitted in to_score:
                start = time.perf_counter()
                result[key] = ({"score": native[position]} if native is not None
                               else _apply(scorers, fitted, X_eval, y_eval, w_eval))
                if key == "test_scores":
                    result["score_time"] = time.perf_counter() - start + share
        for result in results:
            if result["error"] is not None and error_score == "raise":
                raise result["error"]
        return results

    def _native_scores(self, X, y, sample_weight, positions):
        """The estimators' ``score`` (accuracy or R^2) of the members at
        ``positions``, from one forward pass per stack rather than one
        ``predict`` and one metric call per candidate.

        Returns ``None`` when the fold's labels cannot be encoded (a class
        the training part never saw): the scorers then handle it.
        """
        lead = self.finals[positions[0]]
        if self.prefix is not None:
            X = self.prefix.transform(X)
        X = lead._check_input(X)
        try:
            Y = lead._encode_targets(np.asarray(y), True, None, False, None,
                                     validation=True)
        except ValueError:
            return None
        weights = (np.ones(Y.shape[0]) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64))
        wanted = set(positions)
        scores = {}
        for entry in self.stacks:
            rows = [(row, p) for row, p in enumerate(entry["positions"]) if p in wanted]
            if not rows:
                continue
            members = [entry["stack"].member_params(row) for row, _ in rows]
            params = [np.concatenate(arrays) for arrays in zip(*(m[0] for m in members))]
            buffers = [np.concatenate(arrays)
                       for arrays in zip(*(m[1] for m in members))]
            raw, _ = entry["plan"].model.forward(params, buffers, X)
            values = lead._validation_score(raw, Y.astype(raw.dtype), weights)
            scores.update((p, float(v)) for (_, p), v in zip(rows, values))
        return scores

    @staticmethod
    def _warn(estimator, record, final):
        """Raise for a diverged ``"raise"`` member; warn as ``fit`` would when ``final``."""
        if final:
            estimator._warn_about(record, incremental=False)
        elif record.status == "error":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimator._warn_about(record, incremental=False)


def _score(scorer, estimator, X, y, sample_weight):
    if sample_weight is not None and scorer_accepts_sample_weight(scorer):
        return scorer(estimator, X, y, sample_weight=sample_weight)
    return scorer(estimator, X, y)


def _apply(scorers, estimator, X, y, sample_weight):
    """Scores of ``estimator`` by name; a single scorer's name is ``"score"``."""
    if isinstance(scorers, dict):
        return {name: _score(scorer, estimator, X, y, sample_weight)
                for name, scorer in scorers.items()}
    score = _score(scorers, estimator, X, y, sample_weight)
    return dict(score) if isinstance(score, dict) else {"score": score}


def run_fold(job, X, y, sample_weight, scorers, return_train_score, error_score,
             native_score):
    """Prepare, train for ``max_iter`` and score one (group, fold): the lockstep unit."""
    job.prepare(X, y, sample_weight)
    job.train(job.max_iter, job.max_iter, stopping=True)
    return job.score(X, y, scorers, return_train_score=return_train_score,
                     error_score=error_score, native_score=native_score)
