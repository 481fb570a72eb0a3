"""Drop-in ``GridSearchCV`` / ``RandomizedSearchCV`` that train candidates together."""


from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)

from sklr.model_selection._results import (
    check_refit,
    fill_failures,
    format_results,
    refit_best,
    report_warnings,
    select_best,
)
from sklr.model_selection._setup import make_candidates, search_inputs
from sklr.model_selection._stacking import (
    FoldStacks,
    balance_groups,
    group_candidates,
    run_fold,
)
from sklr.model_selection._tasks import search_tasks

_LOCKSTEP_NOTES = """
    Candidates that differ only in per-model settings (``learning_rate``,
    ``schedule``, the optimizer's numeric hyperparameters, ``alpha``,
    ``penalty``, ``l1_ratio``, ``tol``, ``n_iter_no_change``, ``clip_norm``,
    ``on_divergence``) form a group. For every group and CV fold, one
    stack in sklr's training engine trains all the group's candidates at
    once: they share the fold's data, any preprocessing steps of a
    ``Pipeline`` (fitted once per group and fold, on the fold's training
    part only) and the minibatch order, exactly as separate fits with the
    same ``random_state`` would. The (group, fold) stacks are spread over
    ``n_jobs`` joblib workers, each with estimators of its own. A candidate
    leaves its stack as soon as it converges or, with
    ``on_divergence="raise"``, diverges (its fold then gets ``error_score``).

    With a fixed integer ``random_state`` the scores equal those of the
    scikit-learn search to floating-point rounding. With ``dropout``, the
    dropout masks are drawn for the whole stack, so the results are
    statistically, not bitwise, equivalent. ``fit_time`` is the stack's
    time shared equally among the members it was training.

    Fit parameters are routed as the scikit-learn search routes them (see
    scikit-learn's metadata routing): without routing, ``sample_weight``
    of a bare estimator also weights the scorers that accept it, and
    ``<step>__sample_weight`` of a pipeline weights the fit only. The sklr
    estimator takes ``sample_weight`` only, the steps before it any fit
    parameter; use the scikit-learn search for other fit parameters, or for
    estimators that are not sklr's.

    Two deviations, both in what is reported rather than in the scores:

    * Ties: among candidates whose mean test scores are equal to
      floating-point tolerance (relative 1e-12), one whose training never
      diverged ranks first in ``rank_test_*`` and ``best_index_``;
      ``GridSearchCV`` ranks equal scores in grid order. A learning rate
      that diverged and backed off otherwise ties with the rate it fell back
      to, and is no better a choice.
    * Warnings: the warnings of the fits (reaching ``max_iter``, backing off
      after a divergence, a failing scorer, ...) are collected in the
      workers and issued once per warning category, saying in how many fits
      each kind occurred. ``verbose >= 2`` issues every one of them instead.
"""

_EXTRA_ATTRIBUTES = """
    cv_results_ : dict of numpy (masked) ndarrays
        Exactly the keys of the scikit-learn search's ``cv_results_``; the
        training curves are in ``curves_``.
    curves_ : list of list of dict
        ``curves_[candidate][split]`` is a dict with the keys
        ``"loss_curve"``, ``"validation_scores"``, ``"learning_rate_curve"``
        (one value per epoch), ``"n_iter"``, ``"n_divergences"`` and
        ``"status"`` (``"converged"``, ``"training"`` (stopped at
        ``max_iter``), ``"diverged"`` (stopped by a divergence),
        ``"error"`` (``on_divergence="raise"``) or ``"stopped"`` (by a
        callback)); ``None`` where the fit failed before training.
    n_stacks_ : int
        Number of (group, fold) stacks trained.
"""


class _LockstepMixin:
    """The ``fit`` shared by the lockstep searches; subclasses list the candidates."""

    # private to the command line: an object whose ``advance(n)`` is called
    # in this process as each (group, fold) stack's n fits are done
    _progress = None

    def fit(self, X, y=None, *, groups=None, **fit_params):
        """Run the search: train every group of candidates on every fold as one stack.

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
            a pipeline), indexed per fold and used by the refit.

        Returns
        -------
        self : object
            The fitted search.
        """
        inputs = search_inputs(self, X, y, groups, fit_params)
        with search_tasks(self, inputs.X, inputs.y,
                          inputs.metadata.sample_weight) as tasks:
            return self._search(inputs, tasks)

    def _search(self, inputs, tasks):
        """The search proper, reporting to ``tasks`` (SearchTasks)."""
        X, y, scorers = inputs.X, inputs.y, inputs.scorer_
        if self.multimetric_:
            check_refit(self.refit, True, scorers)

        candidate_params = list(self._candidate_params())
        base = clone(self.estimator)
        candidates = make_candidates(self, base, candidate_params)
        groups_of_candidates = balance_groups(
            group_candidates(candidates), self.n_splits_, effective_n_jobs(self.n_jobs))
        jobs = [FoldStacks([candidates[i] for i in ids], ids, fold, train, test)
                for ids in groups_of_candidates
                for fold, (train, test) in enumerate(inputs.splits)]
        self.n_stacks_ = len(jobs)
        search_task = tasks.begin("search", max_subtasks=len(candidates) * self.n_splits_,
                                  sequential=False)
        tasks.assign(jobs, search_task, {i: i for i in range(len(candidates))})
        if self.verbose > 0:
            print(f"Fitting {self.n_splits_} folds for each of "
                  f"{len(candidates)} candidates, totalling "
                  f"{len(candidates) * self.n_splits_} fits, as {len(jobs)} stacks")

        parallel = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch,
                            verbose=self.verbose, return_as="generator")
        outputs = parallel(
            delayed(run_fold)(job, X, y, inputs.metadata, inputs.scoring)
            for job in jobs)
        results = []
        for output in outputs:
            results.extend(output)
            if self._progress is not None:
                self._progress.advance(len(output))
        tasks.end(search_task)
        report_warnings(results, self.verbose)
        names = fill_failures(results, self.error_score)
        if not isinstance(scorers, dict) and names != ["score"]:
            # a callable scorer returning a dict makes the search multi-metric
            self.multimetric_ = True
            check_refit(self.refit, True, names)
        self.cv_results_, self.curves_ = format_results(
            candidate_params, self.n_splits_, results, names,
            self.return_train_score)
        refit_metric = self.refit if self.multimetric_ else "score"
        select_best(self, self.cv_results_, refit_metric)

        if self.refit:
            refit_best(self, base, X, y, inputs.fit_params, tasks)
        self.scorer_ = scorers
        return self


class LockstepGridSearchCV(_LockstepMixin, GridSearchCV):
    __doc__ = (
        "Exhaustive search over a parameter grid, training candidates together.\n\n"
        "A drop-in for :class:`sklearn.model_selection.GridSearchCV` (same "
        "parameters, attributes and ``cv_results_`` keys) for sklr estimators "
        "and Pipelines ending in one.\n" + _LOCKSTEP_NOTES
        + "\n    Parameters\n    ----------\n    See "
        ":class:`sklearn.model_selection.GridSearchCV`.\n\n"
        "    Attributes\n    ----------\n    See "
        ":class:`sklearn.model_selection.GridSearchCV`; in addition:\n"
        + _EXTRA_ATTRIBUTES
    )

    def _candidate_params(self):
        return ParameterGrid(self.param_grid)


class LockstepRandomizedSearchCV(_LockstepMixin, RandomizedSearchCV):
    __doc__ = (
        "Randomized search over parameters, training candidates together.\n\n"
        "A drop-in for :class:`sklearn.model_selection.RandomizedSearchCV` (same "
        "parameters, attributes and ``cv_results_`` keys, and the same "
        "candidates for the same ``random_state``) for sklr estimators and "
        "Pipelines ending in one.\n" + _LOCKSTEP_NOTES
        + "\n    Parameters\n    ----------\n    See "
        ":class:`sklearn.model_selection.RandomizedSearchCV`.\n\n"
        "    Attributes\n    ----------\n    See "
        ":class:`sklearn.model_selection.RandomizedSearchCV`; in addition:\n"
        + _EXTRA_ATTRIBUTES
    )

    def _candidate_params(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)
