"""Successive halving with epochs as the resource, continuing survivors instead of retraining."""

import math
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.pipeline import Pipeline

from sklr._compat import Interval, StrOptions, search_parameter_constraints
from sklr.model_selection._results import (
    diverged,
    fill_failures,
    format_results,
    ranking_order,
    refit_best,
    report_warnings,
)
from sklr.model_selection._setup import make_candidates, search_inputs
from sklr.model_selection._stacking import FoldStacks, group_candidates
from sklr.model_selection._tasks import search_tasks


def _advance(job, X, y, metadata, scoring, keep, epochs, last):
    """One round of one (group, fold): train the survivors up to ``epochs`` and score them."""
    if job.epochs == 0:
        job.prepare(X, y, metadata, scoring.error_score)
    else:
        job.select(keep)
    # schedules run over the whole budget, so a survivor's schedule is that of one long run
    job.train(epochs - job.epochs, horizon=job.max_iter, stopping=True)
    return job, job.score(X, y, scoring, keep_ids=keep, final=last)


def _best_first(results, candidates, n_splits, name):
    """``candidates`` from best to worst mean test score over the folds; among
    equal scores, one that diverged in no fold so far comes first."""
    row = {c: i for i, c in enumerate(candidates)}
    scores = np.empty((len(candidates), n_splits))
    curves = [[None] * n_splits for _ in candidates]
    for result in results:
        scores[row[result["id"]], result["fold"]] = result["test_scores"][name]
        curves[row[result["id"]]][result["fold"]] = result["curves"]
    order = ranking_order(scores.mean(axis=1), diverged(curves))
    return [candidates[i] for i in order]


class HalvingEpochSearchCV(GridSearchCV):
    """Successive halving over a grid with epochs as the resource.

    Every candidate trains ``min_resources`` epochs on every CV fold; the
    best ``1 / factor`` of them, by mean test score (among equal scores,
    those that never diverged first), continue to
    ``factor`` times as many epochs, and so on. Unlike scikit-learn's
    halving searches, survivors are not retrained from scratch: they
    continue from their weights, optimizer state and schedule position,
    and all the candidates of a group (see :class:`LockstepGridSearchCV`)
    train together as one stack per fold. Schedules are evaluated against
    the full budget ``max_resources``, so a survivor follows the schedule
    it would have had in one long run; the last iteration always trains to
    ``max_resources`` epochs. The estimator's own stopping rule (``tol``)
    applies as in a single fit of ``max_resources`` epochs.

    Parameters
    ----------
    estimator : estimator object
        An sklr estimator or a Pipeline ending in one.
    param_grid : dict or list of dict
        As for :class:`~sklearn.model_selection.GridSearchCV`; it may not
        contain the resource ``max_iter``.
    factor : float, default=3
        Each iteration keeps ``ceil(n_candidates / factor)`` candidates and
        multiplies the epochs by ``factor``.
    min_resources : int or "exhaust", default="exhaust"
        Epochs of the first iteration. ``"exhaust"`` chooses it so that the
        last iteration, which ideally keeps one candidate, uses
        ``max_resources``.
    max_resources : int, default=None
        The full epoch budget; ``None`` uses the estimator's ``max_iter``.
        The candidates' and the refitted estimator's ``max_iter`` is set to it.
    cv : int, cross-validation generator or iterable, default=5
        As for :class:`~sklearn.model_selection.GridSearchCV`.
    scoring : str, callable or None, default=None
        A single metric (higher is better); ``None`` uses the estimator's
        ``score``.
    refit : bool, default=True
        Refit the best candidate of the last iteration on the whole data for
        ``max_resources`` epochs as ``best_estimator_``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit (e.g. a divergence under
        ``on_divergence="raise"``). An iteration in which every fit fails
        raises a ``ValueError``, as scikit-learn's searches do.
    return_train_score : bool, default=False
        Also score the training folds.
    n_jobs : int, default=None
        Number of joblib workers over the (group, fold) stacks. They are
        threads by default: the stacks live on between rounds, and sending
        them to worker processes and back every round cost more than it
        saved (measured 4x slower on the digits data). A joblib backend
        chosen by the caller (``joblib.parallel_config(backend="dask")``)
        takes precedence.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility with scikit-learn's halving searches;
        this search draws no random numbers (the estimator's own
        ``random_state`` seeds initialization and shuffling).
    verbose : int, default=0
        Print one line per iteration when > 0. The warnings of the fits
        (reaching ``max_iter``, backing off after a divergence, ...) are
        issued once per warning category with the number of fits concerned;
        ``verbose >= 2`` issues every one of them.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        One row per candidate and iteration, with the keys of the
        ``cv_results_`` of scikit-learn's ``HalvingGridSearchCV``:
        those of ``GridSearchCV``, ``iter`` and ``n_resources`` (epochs
        trained). Equal scores rank as in :class:`LockstepGridSearchCV`.
    curves_ : list of list of dict
        ``curves_[row][split]``: the training curves of each row of
        ``cv_results_`` as of its iteration, as in
        :class:`LockstepGridSearchCV`.
    best_estimator_ : estimator
        The refitted best candidate.
    best_score_ : float
        Mean test score of the best candidate in the last iteration.
    best_params_ : dict
        Parameters of the best candidate.
    best_index_ : int
        Row of ``cv_results_`` of the best candidate in the last iteration.
    n_resources_ : list of int
        Epochs trained by the end of each iteration.
    n_candidates_ : list of int
        Candidates trained in each iteration.
    n_iterations_ : int
        Iterations run.
    n_possible_iterations_ : int
        Iterations ``min_resources_`` and ``max_resources_`` allow.
    n_required_iterations_ : int
        Iterations needed to end with one candidate.
    n_remaining_candidates_ : int
        ``ceil(n_candidates_[-1] / factor)``.
    min_resources_, max_resources_ : int
        The resolved epoch range.
    n_splits_ : int
        Number of CV splits.
    refit_time_ : float
        Seconds spent refitting the best candidate.
    scorer_ : callable
        The scorer.
    multimetric_ : bool
        Always False.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklr import MLPClassifier
    >>> from sklr.model_selection import HalvingEpochSearchCV, learning_rate_grid
    >>> X, y = load_digits(return_X_y=True)
    >>> search = HalvingEpochSearchCV(
    ...     MLPClassifier(hidden_layer_sizes=(16,), max_iter=9, random_state=0),
    ...     {"learning_rate": learning_rate_grid(1e-3, 1e-1, 9)}, cv=3,
    ... ).fit(X[:300] / 16, y[:300])
    >>> search.n_resources_
    [1, 3, 9]
    """

    _parameter_constraints = {
        **{k: v for k, v in search_parameter_constraints().items()
           if k != "pre_dispatch"},
        "refit": ["boolean"],
        "factor": [Interval(Real, 1, None, closed="neither")],
        "min_resources": [Interval(Integral, 1, None, closed="left"),
                          StrOptions({"exhaust"})],
        "max_resources": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, param_grid, *, factor=3, min_resources="exhaust",
                 max_resources=None, cv=5, scoring=None, refit=True,
                 error_score=np.nan, return_train_score=False, n_jobs=None,
                 random_state=None, verbose=0):
        self.estimator = estimator
        self.param_grid = param_grid
        self.factor = factor
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.error_score = error_score
        self.return_train_score = return_train_score
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _resources(self, n_candidates, max_resources):
        """Epochs of each iteration, and the resolved iteration counts."""
        factor = self.factor
        n_required = 1
        while math.ceil(n_candidates / factor ** (n_required - 1)) > 1:
            n_required += 1
        if self.min_resources == "exhaust":
            min_resources = max(1, int(max_resources // factor ** (n_required - 1)))
        else:
            min_resources = self.min_resources
        if min_resources > max_resources:
            raise ValueError(
                f"min_resources={min_resources} is greater than max_resources="
                f"{max_resources}.")
        n_possible = 1
        while min_resources * factor ** n_possible <= max_resources:
            n_possible += 1
        n_iterations = min(n_required, n_possible)
        resources = [int(min_resources * factor ** i) for i in range(n_iterations)]
        # the last iteration uses the whole budget, so the winner is fully trained
        resources[-1] = max_resources
        self.min_resources_, self.max_resources_ = min_resources, max_resources
        self.n_required_iterations_ = n_required
        self.n_possible_iterations_ = n_possible
        return resources

    def fit(self, X, y=None, *, groups=None, **fit_params):
        """Run successive halving over the grid.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group-aware ``cv`` splitter.
        **fit_params : dict
            Routed as ``GridSearchCV`` routes them: ``sample_weight`` (or
            ``<step>__sample_weight`` and other parameters of the steps of
            a pipeline).

        Returns
        -------
        self : object
            The fitted search.
        """
        if isinstance(self.scoring, list | tuple | set | dict):
            raise ValueError(f"{type(self).__name__} supports a single metric only; "
                             f"got scoring={self.scoring!r}.")
        inputs = search_inputs(self, X, y, groups, fit_params)
        with search_tasks(self, inputs.X, inputs.y,
                          inputs.metadata.sample_weight) as tasks:
            return self._search(inputs, tasks)

    def _search(self, inputs, tasks):
        """The search proper, reporting to ``tasks`` (SearchTasks)."""
        X, y = inputs.X, inputs.y

        params = list(ParameterGrid(self.param_grid))
        resource = "max_iter"
        if isinstance(self.estimator, Pipeline):
            resource = f"{self.estimator.steps[-1][0]}__max_iter"
        if any(resource in p for p in params):
            raise ValueError(f"param_grid may not contain {resource!r}: epochs are "
                             "the resource; set max_resources instead.")
        base = clone(self.estimator)
        max_resources = self.max_resources
        if max_resources is None:
            max_resources = base.get_params()[resource]
        base.set_params(**{resource: max_resources})
        candidates = make_candidates(self, base, params)
        resources = self._resources(len(candidates), max_resources)

        jobs = [FoldStacks([candidates[i] for i in ids], ids, fold, train, test)
                for ids in group_candidates(candidates)
                for fold, (train, test) in enumerate(inputs.splits)]
        parallel = Parallel(n_jobs=self.n_jobs, prefer="threads")
        alive = list(range(len(candidates)))
        rows, results = [], []
        self.n_candidates_, self.n_resources_ = [], []
        search_task = tasks.begin("search", max_subtasks=len(resources))
        for iteration, epochs in enumerate(resources):
            last = iteration == len(resources) - 1
            if self.verbose > 0:
                print(f"iter {iteration}: {len(alive)} candidates x "
                      f"{self.n_splits_} folds, {epochs} epochs")
            keep = set(alive)
            jobs = [job for job in jobs if keep.intersection(job.ids)]
            iteration_task = tasks.begin(
                "halving-iteration", search_task,
                max_subtasks=len(alive) * self.n_splits_, sequential=False)
            tasks.assign(jobs, iteration_task, {c: i for i, c in enumerate(alive)})
            outputs = parallel(
                delayed(_advance)(job, X, y, inputs.metadata, inputs.scoring, keep,
                                  epochs, last)
                for job in jobs)
            tasks.end(iteration_task)
            jobs = [job for job, _ in outputs]
            round_results = [r for _, output in outputs for r in output]
            if all(r["error"] is not None for r in round_results):
                # fill_failures raises: the fits' warnings first
                report_warnings(results + round_results, self.verbose)
            names = fill_failures(round_results, self.error_score)
            ranked = _best_first(round_results, alive, self.n_splits_, names[0])
            row_of = {c: len(rows) + i for i, c in enumerate(alive)}
            rows.extend((c, iteration, epochs) for c in alive)
            for result in round_results:
                result["id"] = row_of[result["id"]]
            results.extend(round_results)
            self.n_candidates_.append(len(alive))
            self.n_resources_.append(epochs)
            alive = ranked[:math.ceil(len(alive) / self.factor)]
        tasks.end(search_task)
        self.n_iterations_ = len(resources)
        self.n_remaining_candidates_ = len(alive)
        report_warnings(results, self.verbose)

        self.cv_results_, self.curves_ = format_results(
            [params[c] for c, _, _ in rows], self.n_splits_, results, names,
            self.return_train_score)
        self.cv_results_["iter"] = np.array([i for _, i, _ in rows])
        self.cv_results_["n_resources"] = np.array([r for _, _, r in rows])
        # the best of the last iteration, as in scikit-learn's halving searches
        last_rows = np.flatnonzero(self.cv_results_["iter"] == self.n_iterations_ - 1)
        means = self.cv_results_[f"mean_test_{names[0]}"][last_rows]
        best = ranking_order(means, diverged([self.curves_[r] for r in last_rows]))[0]
        self.best_index_ = int(last_rows[best])
        self.best_score_ = self.cv_results_[f"mean_test_{names[0]}"][self.best_index_]
        self.best_params_ = self.cv_results_["params"][self.best_index_]

        if self.refit:
            refit_best(self, base, X, y, inputs.fit_params, tasks)
        self.scorer_ = inputs.scorer_
        return self
