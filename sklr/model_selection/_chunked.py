"""Grid and randomized searches that report progress and summarize their fits' warnings.

scikit-learn's searches report nothing until every fit is done. The searches
here evaluate their candidates a few at a time through ``_run_search``, the
documented hook of custom searches, and advance a progress object between
chunks. That works with any ``n_jobs`` and joblib backend, since the progress
object stays in the calling process; each chunk holds enough fits to keep
every worker busy.

scikit-learn's searches also leave each fit's warnings to the process that
fits: with several workers, a warning that every fit issues is printed once
per fit. The searches here fit a ``Pipeline`` and score with scorers that
collect the warnings of each fit and its scoring and append them to files in
a temporary directory, which every worker process can reach; after the
search they are issued once per category with counts, as the lockstep
searches issue theirs (``verbose >= 2`` issues every one).

Private: the ``sklr`` command line uses these classes.
"""

import math
import os
import pickle
import tempfile
import threading
import uuid
from contextlib import contextmanager

from joblib import effective_n_jobs
from sklearn.base import is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
    check_cv,
)
from sklearn.pipeline import Pipeline

from sklr.model_selection._results import report_warnings
from sklr.model_selection._stacking import collected_warnings

# Each chunk holds at least this many fits per worker, so that the barrier at
# the end of a chunk leaves workers idle only briefly.
FITS_PER_WORKER = 6
# ... and there are at most this many chunks, so that a large search is not
# slowed down by many barriers.
MAX_CHUNKS = 40


def _picklable(record):
    """``record`` pickled; a warning category that pickle cannot name (defined
    in a function, say) becomes a ``UserWarning`` naming it, rather than
    failing the fit that issued it."""
    try:
        return pickle.dumps(record)
    except (pickle.PicklingError, AttributeError, TypeError):
        fit_id, caught = record
        caught = [(UserWarning, f"{category.__name__}: {message}", filename, lineno)
                  for category, message, filename, lineno in caught]
        return pickle.dumps((fit_id, caught))


@contextmanager
def _logged(directory, fit_id):
    """Collect the warnings issued inside and append them to ``directory``'s log.

    Each process and thread appends to a file of its own, one pickled
    ``(fit_id, warnings)`` record per block that warned.
    """
    with collected_warnings() as caught:
        try:
            yield
        finally:
            if caught:
                name = f"{os.getpid()}-{threading.get_ident()}"
                with open(os.path.join(directory, name), "ab") as file:
                    file.write(_picklable((fit_id, caught)))


class WarningLogPipeline(Pipeline):
    """A ``Pipeline`` whose ``fit`` logs its warnings to the directory ``warning_log``.

    Each ``fit`` gets an id, under which :class:`LoggedScorer` logs the
    warnings of scoring it. Other methods issue their warnings as usual, as
    does ``fit`` without a ``warning_log`` (a slice of the pipeline has none).
    """

    def __init__(self, steps, *, warning_log=None, transform_input=None, memory=None,
                 verbose=False):
        super().__init__(steps, transform_input=transform_input, memory=memory,
                         verbose=verbose)
        self.warning_log = warning_log

    def fit(self, X, y=None, **params):
        self.fit_id_ = uuid.uuid4().hex
        if self.warning_log is None:
            return super().fit(X, y, **params)
        with _logged(self.warning_log, self.fit_id_):
            return super().fit(X, y, **params)


class LoggedScorer:
    """A scorer logging its warnings to ``directory``, under the id of the fit it scores."""

    def __init__(self, scorer, directory):
        self.scorer = scorer
        self.directory = directory

    def __call__(self, estimator, X, y=None, **params):
        with _logged(self.directory, getattr(estimator, "fit_id_", None)):
            return self.scorer(estimator, X, y, **params)


def _logged_scoring(scoring, estimator, directory):
    """The search's ``scoring`` as one :class:`LoggedScorer`, or a dict of them."""
    if isinstance(scoring, dict):
        named = scoring.items()
    elif isinstance(scoring, list | tuple | set):
        named = [(name, name) for name in scoring]
    else:
        return LoggedScorer(check_scoring(estimator, scoring), directory)
    return {name: LoggedScorer(check_scoring(estimator, value), directory)
            for name, value in named}


def read_warning_log(directory):
    """The warnings logged to ``directory``, one list per fit.

    The fits are sorted by their warnings: the summary quotes the first
    message of each kind, which must not depend on the worker of each fit.
    """
    by_fit = {}
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as file:
            while True:
                try:
                    fit_id, caught = pickle.load(file)
                except EOFError:
                    break
                by_fit.setdefault(fit_id, []).extend(caught)
    return sorted(by_fit.values(), key=lambda caught: [
        (category.__qualname__, message, filename, lineno)
        for category, message, filename, lineno in caught])


class ChunkedSearchMixin:
    """Mixin evaluating a search's candidates in chunks to report progress.

    Set ``progress`` before ``fit`` to an object with the methods
    ``start(total)``, called once with the number of fits (candidates x
    splits), and ``advance(n)``, called after each chunk with its number of
    fits. Subclasses define ``_candidate_params()``, the candidates in order.
    The estimator must be a ``Pipeline``: the search fits a
    :class:`WarningLogPipeline` with its steps and settings, scores with
    :class:`LoggedScorer` objects, and issues the warnings of every fit and
    its scoring (the refit's included) once per category after the search.
    """

    progress = None

    def fit(self, X, y=None, **params):
        pipeline, scoring = self.estimator, self.scoring
        if not isinstance(pipeline, Pipeline):
            raise TypeError(f"{type(self).__name__} searches a Pipeline, got "
                            f"{type(pipeline).__name__}")
        settings = {k: v for k, v in pipeline.get_params(deep=False).items()
                    if k != "steps"}
        self._n_fits = 0
        # the fits per candidate, for the chunks: scikit-learn < 1.9 sets
        # n_splits_ only after _run_search
        self._n_splits = check_cv(self.cv, y, classifier=is_classifier(pipeline)
                                  ).get_n_splits(X, y, params.get("groups"))
        with tempfile.TemporaryDirectory(prefix="sklr-warnings-") as directory:
            self.estimator = WarningLogPipeline(pipeline.steps, warning_log=directory,
                                                **settings)
            self.scoring = _logged_scoring(scoring, pipeline, directory)
            try:
                super().fit(X, y, **params)
            finally:
                self.estimator, self.scoring = pipeline, scoring
            logged = read_warning_log(directory)
        # what outlives the fit cannot log to the directory, which is gone
        self.scorer_ = ({name: scorer.scorer for name, scorer in self.scorer_.items()}
                        if isinstance(self.scorer_, dict) else self.scorer_.scorer)
        if hasattr(self, "best_estimator_"):
            self.best_estimator_ = Pipeline(self.best_estimator_.steps, **settings)
            self._n_fits += 1
        n_quiet = self._n_fits - len(logged)
        report_warnings([{"warnings": caught} for caught in logged]
                        + [{"warnings": []}] * n_quiet, self.verbose)
        return self

    def _run_search(self, evaluate_candidates):
        candidates = list(self._candidate_params())
        n_splits = self._n_splits
        self.progress.start(len(candidates) * n_splits)
        workers = effective_n_jobs(self.n_jobs)
        size = max(math.ceil(FITS_PER_WORKER * workers / n_splits),
                   math.ceil(len(candidates) / MAX_CHUNKS))
        for start in range(0, len(candidates), size):
            chunk = candidates[start:start + size]
            evaluate_candidates(chunk)
            self._n_fits += len(chunk) * n_splits
            self.progress.advance(len(chunk) * n_splits)

    def __getstate__(self):
        # a progress bar holds a stream and belongs to the process that shows
        # it: a pickled search (sent to a worker or saved) leaves it behind
        state = dict(super().__getstate__())
        state.pop("progress", None)
        return state


class ProgressGridSearchCV(ChunkedSearchMixin, GridSearchCV):
    """``GridSearchCV`` reporting progress and summarizing its fits' warnings."""

    def _candidate_params(self):
        return ParameterGrid(self.param_grid)


class ProgressRandomizedSearchCV(ChunkedSearchMixin, RandomizedSearchCV):
    """``RandomizedSearchCV`` reporting progress and summarizing its fits' warnings."""

    def _candidate_params(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)
