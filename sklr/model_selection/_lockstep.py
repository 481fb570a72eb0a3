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
    select_best,
)
from sklr.model_selection._setup import make_candidates, search_inputs
from sklr.model_selection._stacking import (
    FoldStacks,
    balance_groups,
    group_candidates,
    run_fold,
)

_LOCKSTEP_NOTES = """
    Candidates that differ only in per-model settings (``learning_rate``,
    ``schedule``, the optimizer's numeric hyperparameters, ``alpha``,
    ``penalty``, ``l1_ratio``, ``tol``, ``n_iter_no_change``, ``clip_norm``,
    ``on_divergence``) form a group. For every group and CV fold, one
    stack in sklr's training engine trains all the group's candidates at
    once: they share the fold's data, any preprocessing steps of a
    ``Pipeline`` (fitted once per fold) and the minibatch order, exactly as
    separate fits with the same ``random_state`` would. The (group, fold)
    stacks are spread over ``n_jobs`` joblib workers. A candidate leaves its
    stack as soon as it converges or, with ``on_divergence="raise"``,
    diverges (its fold then gets ``error_score``).

    With a fixed integer ``random_state`` the scores equal those of the
    scikit-learn search to floating-point rounding. With ``dropout``, the
    dropout masks are drawn for the whole stack, so the results are
    statistically, not bitwise, equivalent. ``fit_time`` is the stack's
    time shared equally among the members it was training.

    Only ``sample_weight`` (``<step>__sample_weight`` for a pipeline) can be
    passed to ``fit``; use the scikit-learn search for other fit
    parameters, or for estimators that are not sklr's.
"""

_EXTRA_ATTRIBUTES = """
    cv_results_ : dict of numpy (masked) ndarrays
        The keys of ``GridSearchCV.cv_results_``, plus, for every split
        ``k``, the object arrays ``split<k>_loss_curve``,
        ``split<k>_validation_scores``, ``split<k>_learning_rate_curve``
        (per-epoch lists), ``split<k>_n_iter``, ``split<k>_n_divergences`` and
        ``split<k>_status`` (``"converged"``, ``"training"`` (stopped at
        ``max_iter``), ``"diverged"`` or ``"error"``; ``None`` where the fit
        failed before training), and ``n_divergences``, the divergences of
        each candidate summed over the splits.
    curves_ : list of list of dict
        ``curves_[candidate][split]`` is a dict with the keys
        ``"loss_curve"``, ``"validation_scores"``, ``"learning_rate_curve"``,
        ``"n_iter"``, ``"n_divergences"`` and ``"status"`` (``None`` where the
        fit failed before training). The same data as the ``split<k>_*``
        entries of ``cv_results_``, candidate-major.
    n_stacks_ : int
        Number of (group, fold) stacks trained.
"""


class _LockstepMixin:
    """The ``fit`` shared by the lockstep searches; subclasses list the candidates."""

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
            ``sample_weight`` (or ``<last step>__sample_weight`` for a
            pipeline), indexed per fold and used by the refit.

        Returns
        -------
        self : object
            The fitted search.
        """
        inputs = search_inputs(self, X, y, groups, fit_params)
        X, y, scorers = inputs.X, inputs.y, inputs.scorers
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
        if self.verbose > 0:
            print(f"Fitting {self.n_splits_} folds for each of "
                  f"{len(candidates)} candidates, totalling "
                  f"{len(candidates) * self.n_splits_} fits, as {len(jobs)} stacks")

        parallel = Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch,
                            verbose=self.verbose)
        outputs = parallel(
            delayed(run_fold)(job, X, y, inputs.sample_weight, scorers,
                              self.return_train_score, self.error_score,
                              self.scoring is None)
            for job in jobs)
        results = [r for output in outputs for r in output]
        names = fill_failures(results, self.error_score, len(results))
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
            refit_best(self, base, X, y, fit_params)
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
